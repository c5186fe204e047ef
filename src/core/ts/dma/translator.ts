// The TypeScript twin of the DMA translator (assembly/dma/): the same numeric API as the Wasm
// exports, with the same results for every input. Arguments are coerced as the Wasm boundary
// coerces them (ToInt32 for i32, >>> 0 for u32, ToNumber for f64), so any number gives both
// cores the same values. Byte areas (transfer buffer, SG list, segments, drained faults) are
// arrays with the Wasm core's layouts; `DmaCore` is what both cores offer.
import type { ConfigStore } from '../config-store.js';
import { FaultLog } from './faults.js';
import { RamMap } from './ram.js';
import { Iotlb } from './iotlb.js';
import { Domains } from './domains.js';
import { Transfers } from './transfer.js';
import { COUNTERS, DmaStatus, isU64 } from './layout.js';
import { DmaStateIo } from './state.js';
import type { DmaState } from '../../state.js';

/** What both cores offer (the Wasm core through bindings over its exports). */
export interface DmaCore {
  ramAdd(base: number, size: number, internal: number): number;
  ramRemove(index: number): number;
  ramBase(index: number): number;
  ramSize(index: number): number;
  ramCount(): number;
  /** The bytes of an internal RAM region (a fresh view for Wasm); undefined otherwise. */
  ramBytes(index: number): Uint8Array | undefined;
  domainCreate(type: number): number;
  domainDestroy(id: number): number;
  domainType(id: number): number;
  domainMap(id: number, iova: number, gpa: number, size: number, perms: number): number;
  domainUnmap(id: number, iova: number, size: number): number;
  domainTranslate(id: number, iova: number): number;
  domainPerms(id: number, iova: number): number;
  dmaAttach(slot: number, domain: number): number;
  dmaDetach(slot: number): number;
  dmaDomainOf(slot: number): number;
  dmaSlotReleased(slot: number): void;
  dmaRead(slot: number, iova: number, len: number, bufOffset: number): number;
  dmaWrite(slot: number, iova: number, len: number, bufOffset: number): number;
  dmaSg(slot: number, count: number, dir: number, bufOffset: number): number;
  dmaTranslate(slot: number, iova: number, len: number, dir: number): number;
  /** Views of the byte areas (fresh views for Wasm: its memory may have grown). */
  dmaBuffer(): Uint8Array;
  dmaSgList(): Uint8Array;
  dmaSegments(): Uint8Array;
  dmaFaultArea(): Uint8Array;
  dmaFaultsQueued(): number;
  dmaFaultsDrain(max: number): number;
  dmaCounter(index: number): number;
  dmaTableCount(): number;
  dmaIotlbValid(): number;
  dmaReset(): void;
}

export class DmaTranslator implements DmaCore {
  private readonly faults = new FaultLog();
  private readonly ram = new RamMap();
  private readonly iotlb = new Iotlb(this.faults.counters);
  private readonly domains: Domains;
  private readonly transfers: Transfers;

  private readonly state: DmaStateIo;

  constructor(store: ConfigStore) {
    this.domains = new Domains(store, this.iotlb);
    this.transfers = new Transfers(store, this.ram, this.iotlb, this.domains, this.faults);
    this.state = new DmaStateIo(this.ram, this.domains, this.iotlb, this.faults);
  }

  /** The DMA part of the core's saveState (src/core/state.ts). */
  saveState(): DmaState {
    return this.state.save();
  }

  /** loadState, in three steps: check (nothing changes), prepare (memory; FULL), load. */
  checkState(s: DmaState): number {
    return this.state.check(s);
  }
  prepareState(s: DmaState): number {
    return this.state.prepare(s);
  }
  loadState(s: DmaState): void {
    this.state.load(s);
  }

  ramAdd(base: number, size: number, internal: number): number {
    base = +base;
    size = +size;
    if (!isU64(base) || !isU64(size)) return DmaStatus.RANGE;
    const st = this.ram.add(base, size, (internal >>> 0) !== 0);
    if (st >= 0) this.iotlb.flush();
    return st;
  }
  ramRemove(index: number): number {
    const st = this.ram.remove(index >>> 0);
    if (st === DmaStatus.OK) this.iotlb.flush();
    return st;
  }
  ramBase(index: number): number {
    index >>>= 0;
    return this.ram.isUsed(index) ? this.ram.base[index] : -1;
  }
  ramSize(index: number): number {
    index >>>= 0;
    return this.ram.isUsed(index) ? this.ram.end[index] - this.ram.base[index] : -1;
  }
  ramCount(): number {
    return this.ram.size();
  }
  ramBytes(index: number): Uint8Array | undefined {
    index >>>= 0;
    return this.ram.isUsed(index) ? this.ram.data[index] : undefined;
  }

  domainCreate(type: number): number {
    return this.domains.create(type >>> 0);
  }
  domainDestroy(id: number): number {
    return this.domains.destroy(id >>> 0);
  }
  domainType(id: number): number {
    return this.domains.type(id >>> 0);
  }
  domainMap(id: number, iova: number, gpa: number, size: number, perms: number): number {
    iova = +iova;
    gpa = +gpa;
    size = +size;
    if (!isU64(iova) || !isU64(gpa) || !isU64(size)) return DmaStatus.RANGE;
    return this.domains.map(id >>> 0, iova, gpa, size, perms >>> 0);
  }
  domainUnmap(id: number, iova: number, size: number): number {
    iova = +iova;
    size = +size;
    if (!isU64(iova) || !isU64(size)) return DmaStatus.RANGE;
    return this.domains.unmap(id >>> 0, iova, size);
  }
  domainTranslate(id: number, iova: number): number {
    iova = +iova;
    const d = this.domains;
    if (!isU64(iova) || d.lookup(id >>> 0, iova) !== DmaStatus.OK || d.lookupPerms === 0) return -1;
    return d.lookupGpa;
  }
  domainPerms(id: number, iova: number): number {
    iova = +iova;
    if (!isU64(iova)) return DmaStatus.RANGE;
    const st = this.domains.lookup(id >>> 0, iova);
    return st !== DmaStatus.OK ? st : this.domains.lookupPerms;
  }

  dmaAttach(slot: number, domain: number): number {
    return this.domains.attach(slot | 0, domain >>> 0);
  }
  dmaDetach(slot: number): number {
    return this.domains.detach(slot | 0);
  }
  dmaDomainOf(slot: number): number {
    return this.domains.domainOf(slot | 0);
  }
  dmaSlotReleased(slot: number): void {
    this.domains.slotReleased(slot | 0);
  }

  dmaRead(slot: number, iova: number, len: number, bufOffset: number): number {
    return this.transfers.read(slot | 0, +iova, len >>> 0, bufOffset >>> 0);
  }
  dmaWrite(slot: number, iova: number, len: number, bufOffset: number): number {
    return this.transfers.write(slot | 0, +iova, len >>> 0, bufOffset >>> 0);
  }
  dmaSg(slot: number, count: number, dir: number, bufOffset: number): number {
    return this.transfers.sg(slot | 0, count >>> 0, dir >>> 0, bufOffset >>> 0);
  }
  dmaTranslate(slot: number, iova: number, len: number, dir: number): number {
    return this.transfers.translate(slot | 0, +iova, len >>> 0, dir >>> 0);
  }

  dmaBuffer(): Uint8Array {
    return this.transfers.buffer;
  }
  dmaSgList(): Uint8Array {
    return this.transfers.sgList;
  }
  dmaSegments(): Uint8Array {
    return this.transfers.segments;
  }
  dmaFaultArea(): Uint8Array {
    return this.faults.out;
  }
  dmaFaultsQueued(): number {
    return this.faults.queued();
  }
  dmaFaultsDrain(max: number): number {
    return this.faults.drain(max >>> 0);
  }
  dmaCounter(index: number): number {
    index >>>= 0;
    return index < COUNTERS ? this.faults.counters[index] : 0;
  }
  dmaTableCount(): number {
    return this.domains.tables.live;
  }
  dmaIotlbValid(): number {
    return this.iotlb.valid();
  }
  dmaReset(): void {
    this.domains.reset();
    this.ram.reset();
    this.iotlb.flush();
    this.faults.reset();
  }
}

