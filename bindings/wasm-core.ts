// Typed wrapper over the Wasm core's exports. It converts numbers at the boundary (results to
// unsigned with >>> 0), copies bytes through the staging area, and serves the core's one import
// (a call to a TypeScript device model); it holds no PCI logic.
import type { CoreBackend, HostAccess, RawEffect, RawEvent, RawIrqEvent, RegionInfo } from '../src/core/backend.js';
import { BATCH_CAPACITY, Irq, RECORD_BYTES, Status } from '../src/core/backend.js';
import { WasmDma } from './wasm-dma.js';
import type { CoreState } from '../src/core/state.js';
import { stateShapeFits } from '../src/core/state.js';
import { imageSize, readImage, writeImage } from './wasm-state.js';
import type { VpciDmaExports } from './wasm-dma.js';

/** The raw exports of build/vpci.wasm (all numbers). */
export interface VpciWasmExports extends VpciDmaExports {
  memory: WebAssembly.Memory;
  stagingAddress(): number;
  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number;
  addFunctionBelow(bridge: number, dev: number, fn: number, size: number): number;
  slotAt(seg: number, bus: number, dev: number, fn: number): number;
  slotAddress(slot: number): number;
  slotParent(slot: number): number;
  removeFunction(slot: number): number;
  loadPlanes(slot: number): number;
  planeByte(slot: number, plane: number, offset: number): number;
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number;
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): number;
  configPoke(slot: number, offset: number, size: number, value: number): number;
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number;
  mmioRead(addr: number, size: number): number;
  mmioRead32(addr: number, size: number): number;
  mmioWrite32(addr: number, size: number, value: number, high: number): number;
  mmioReadHigh(): number;
  mmioWrite(addr: number, size: number, value: number, high: number): number;
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): number;
  irqAttach(slot: number): number;
  intxSet(slot: number, level: number): number;
  intxRoute(seg: number, device: number, pin: number, gsi: number): number;
  intxRouteOf(seg: number, device: number, pin: number): number;
  msiSignal(slot: number, vector: number): number;
  msixSignal(slot: number, vector: number): number;
  lineLevel(gsi: number): number;
  irqQueued(): number;
  irqDrain(max: number): number;
  barAttach(slot: number): number;
  barKind(slot: number, bar: number): number;
  barMapped(slot: number, bar: number): number;
  barRegion(slot: number, bar: number): number;
  barSizeOf(slot: number, bar: number): number;
  barBaseOf(slot: number, bar: number): number;
  barHandler(slot: number, bar: number, offset: number, length: number, kind: number, datum: number): number;
  addRegion(space: number, base: number, size: number, priority: number, kind: number, datum: number): number;
  removeRegion(id: number): number;
  regionKind(id: number): number;
  regionSlot(id: number): number;
  regionBar(id: number): number;
  regionBaseOf(id: number): number;
  regionSizeOf(id: number): number;
  regionLengthOf(id: number): number;
  regionReads(id: number): number;
  regionWrites(id: number): number;
  counterValue(counter: number): number;
  countInvalid(): void;
  regfileCreate(size: number): number;
  doorbellCreate(): number;
  regfileDrop(handle: number): number;
  doorbellDrop(index: number): number;
  eventsDrain(max: number): number;
  effectsDrain(max: number): number;
  hostMailbox(): number;
  batchAddress(): number;
  resultsAddress(): number;
  statusAddress(): number;
  mismatchAddress(): number;
  replayBatch(count: number): number;
  stateSave(): number;
  stateLoad(size: number): number;
  stateAddress(): number;
  stateBuffer(size: number): number;
}

const PLANE = 4096;
const STAGING = PLANE * 3;

/** The imports the core needs; `target` is filled in once the wrapper exists. */
export function coreImports(target: { core?: WasmCore }): WebAssembly.Imports {
  return {
    host: {
      access: (handle: number, write: number, offset: number, size: number, lo: number, hi: number) =>
        target.core!.serveHost(handle >>> 0, write !== 0, offset, size, lo >>> 0, hi >>> 0),
    },
  };
}

export class WasmCore implements CoreBackend {
  readonly kind = 'wasm' as const;
  private readonly x: VpciWasmExports;
  private readonly staging: number;
  private readonly mailbox: number;
  private readonly out = { lo: 0, hi: 0 };
  private mailboxView: Uint32Array;
  hostAccess: HostAccess = () => { throw new Error('no host handler'); };
  readonly dma: WasmDma;

  constructor(instance: WebAssembly.Instance) {
    this.x = instance.exports as unknown as VpciWasmExports;
    this.dma = new WasmDma(this.x);
    this.staging = this.x.stagingAddress() >>> 0;
    this.mailbox = this.x.hostMailbox() >>> 0;
    this.mailboxView = new Uint32Array(this.x.memory.buffer, this.mailbox, 3);
  }

  /** Runs the model for the core's import and leaves the outcome in the mailbox; never throws. */
  serveHost(handle: number, write: boolean, offset: number, size: number, lo: number, hi: number): void {
    const out = this.out;
    out.lo = 0xffffffff;
    out.hi = 0xffffffff;
    let status = 0;
    try {
      this.hostAccess(handle, write, offset, size, lo, hi, out);
    } catch {
      status = 1;
    }
    // The view is rebuilt only when the memory has grown (its buffer is then a new one).
    let m = this.mailboxView;
    if (m.buffer !== this.x.memory.buffer) m = this.mailboxView = new Uint32Array(this.x.memory.buffer, this.mailbox, 3);
    m[0] = out.lo;
    m[1] = out.hi;
    m[2] = status;
  }

  private stagingView(): Uint8Array {
    // The memory may have grown since the last call: take a fresh view each time.
    return new Uint8Array(this.x.memory.buffer, this.staging, STAGING);
  }

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    return this.x.addFunction(seg, bus, dev, fn, size);
  }
  addFunctionBelow(bridge: number, dev: number, fn: number, size: number): number {
    return this.x.addFunctionBelow(bridge, dev, fn, size);
  }
  slotAt(seg: number, bus: number, dev: number, fn: number): number {
    return this.x.slotAt(seg, bus, dev, fn);
  }
  slotAddress(slot: number): number {
    return this.x.slotAddress(slot);
  }
  slotParent(slot: number): number {
    return this.x.slotParent(slot);
  }
  removeFunction(slot: number): number {
    return this.x.removeFunction(slot);
  }
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number {
    const area = this.stagingView();
    area.fill(0);
    area.set(config.subarray(0, PLANE), 0);
    area.set(wmask.subarray(0, PLANE), PLANE);
    area.set(w1cmask.subarray(0, PLANE), PLANE * 2);
    return this.x.loadPlanes(slot);
  }
  planeByte(slot: number, plane: number, offset: number): number {
    return this.x.planeByte(slot, plane, offset) >>> 0;
  }
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number {
    return this.x.configRead(seg, bus, dev, fn, reg, size) >>> 0;
  }
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): number {
    return this.x.configWrite(seg, bus, dev, fn, reg, size, value) >>> 0;
  }
  configPoke(slot: number, offset: number, size: number, value: number): number {
    return this.x.configPoke(slot, offset, size, value);
  }
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    return this.x.setEcam(seg, base, busStart, busEnd);
  }
  mmioRead(addr: number, size: number): number {
    // Addresses below 2^32 take the export without float checks (the common case on 32-bit BARs).
    return ((addr >>> 0) === addr ? this.x.mmioRead32(addr, size) : this.x.mmioRead(addr, size)) >>> 0;
  }
  mmioReadHigh(): number {
    return this.x.mmioReadHigh() >>> 0;
  }
  mmioWrite(addr: number, size: number, value: number, high: number): number {
    return ((addr >>> 0) === addr ? this.x.mmioWrite32(addr, size, value, high) : this.x.mmioWrite(addr, size, value, high)) >>> 0;
  }
  ioRead(port: number, size: number): number {
    return this.x.ioRead(port, size) >>> 0;
  }
  ioWrite(port: number, size: number, value: number): number {
    return this.x.ioWrite(port, size, value) >>> 0;
  }
  barAttach(slot: number): number {
    return this.x.barAttach(slot);
  }
  barHandler(slot: number, bar: number, offset: number, length: number, kind: number, datum: number): number {
    return this.x.barHandler(slot, bar, offset, length, kind, datum);
  }
  addRegion(space: number, base: number, size: number, priority: number, kind: number, datum: number): number {
    return this.x.addRegion(space, base, size, priority, kind, datum);
  }
  removeRegion(id: number): number {
    return this.x.removeRegion(id);
  }
  regfileCreate(size: number, values: Uint8Array, mask: Uint8Array): number {
    const area = this.stagingView();
    area.fill(0);
    area.set(values.subarray(0, PLANE), 0);
    area.set(mask.subarray(0, PLANE), PLANE);
    return this.x.regfileCreate(size) >>> 0;
  }
  doorbellCreate(): number {
    return this.x.doorbellCreate() >>> 0;
  }
  regfileDrop(handle: number): number {
    return this.x.regfileDrop(handle);
  }
  doorbellDrop(index: number): number {
    return this.x.doorbellDrop(index);
  }
  barInfo(slot: number, bar: number): { kind: number; size: number; mapped: boolean; base: number; region: number } {
    const x = this.x;
    return {
      kind: x.barKind(slot, bar) >>> 0, size: x.barSizeOf(slot, bar), mapped: x.barMapped(slot, bar) !== 0,
      base: x.barBaseOf(slot, bar), region: x.barRegion(slot, bar) >>> 0,
    };
  }
  regionInfo(id: number): RegionInfo {
    const x = this.x;
    return {
      kind: x.regionKind(id) >>> 0, slot: x.regionSlot(id), bar: x.regionBar(id) >>> 0,
      base: x.regionBaseOf(id), size: x.regionSizeOf(id), length: x.regionLengthOf(id),
      reads: x.regionReads(id), writes: x.regionWrites(id),
    };
  }
  counterValue(counter: number): number {
    return this.x.counterValue(counter);
  }
  irqAttach(slot: number): number {
    return this.x.irqAttach(slot);
  }
  intxSet(slot: number, level: number): number {
    return this.x.intxSet(slot, level);
  }
  intxRoute(seg: number, device: number, pin: number, gsi: number): number {
    return this.x.intxRoute(seg, device, pin, gsi);
  }
  intxRouteOf(seg: number, device: number, pin: number): number {
    return this.x.intxRouteOf(seg, device, pin) >>> 0;
  }
  msiSignal(slot: number, vector: number): number {
    return this.x.msiSignal(slot, vector);
  }
  msixSignal(slot: number, vector: number): number {
    return this.x.msixSignal(slot, vector);
  }
  lineLevel(gsi: number): number {
    return this.x.lineLevel(gsi) >>> 0;
  }
  irqQueued(): number {
    return this.x.irqQueued() >>> 0;
  }
  irqDrain(): RawIrqEvent[] {
    const all: RawIrqEvent[] = [];
    for (;;) {
      const n = this.x.irqDrain(0xffffffff) >>> 0;
      if (n === 0) return all;
      const v = new DataView(this.x.memory.buffer, this.staging, STAGING);
      for (let i = 0; i < n; i++) {
        const at = i * Irq.RECORD_BYTES;
        const kind = v.getUint32(at, true);
        const line = kind === Irq.KIND_LINE;
        all.push({
          kind, slot: v.getInt32(at + 4, true),
          gsi: line ? v.getUint32(at + 8, true) : 0, level: line ? v.getUint32(at + 12, true) : 0,
          address: line ? 0 : v.getUint32(at + 12, true), addressHigh: line ? 0 : v.getUint32(at + 16, true),
          data: line ? 0 : v.getUint32(at + 8, true),
        });
      }
    }
  }
  countInvalid(): void {
    this.x.countInvalid();
  }
  eventsDrain(): RawEvent[] {
    const all: RawEvent[] = [];
    for (;;) {
      const n = this.x.eventsDrain(0xffffffff) >>> 0;
      if (n === 0) return all;
      const v = new DataView(this.x.memory.buffer, this.staging, STAGING);
      for (let i = 0; i < n; i++) {
        const at = i * 32;
        all.push({
          region: v.getUint32(at, true), size: v.getUint32(at + 4, true),
          offset: v.getUint32(at + 12, true) * 4294967296 + v.getUint32(at + 8, true),
          lo: v.getUint32(at + 16, true), hi: v.getUint32(at + 20, true),
        });
      }
    }
  }
  effectsDrain(): RawEffect[] {
    const all: RawEffect[] = [];
    for (;;) {
      const n = this.x.effectsDrain(0xffffffff) >>> 0;
      if (n === 0) return all;
      const v = new DataView(this.x.memory.buffer, this.staging, STAGING);
      const u64 = (at: number) => v.getUint32(at + 4, true) * 4294967296 + v.getUint32(at, true);
      for (let i = 0; i < n; i++) {
        const at = i * 40;
        const flags = v.getUint32(at + 12, true);
        all.push({
          slot: v.getUint32(at, true), bar: v.getUint32(at + 4, true), kind: v.getUint32(at + 8, true),
          oldMapped: (flags & 1) !== 0, newMapped: (flags & 2) !== 0,
          oldBase: u64(at + 16), newBase: u64(at + 24), size: u64(at + 32),
        });
      }
    }
  }
  saveState(): CoreState {
    const size = this.x.stateSave();
    if (size < 0) throw new RangeError('saveState: the Wasm memory cannot grow to hold the state image');
    const state = readImage(new Uint8Array(this.x.memory.buffer, this.x.stateAddress() >>> 0, size));
    // Internal RAM travels outside the image: straight from the core's memory.
    for (const r of state.dma.ram) if (r.data !== null) r.data.set(this.dma.ramBytes(r.index)!);
    return state;
  }
  loadState(state: CoreState): number {
    if (!stateShapeFits(state)) return Status.RANGE;
    const size = imageSize(state);
    if (size > 0x7fffffff) return Status.FULL;
    const at = this.x.stateBuffer(size) >>> 0;
    if (at === 0) return Status.FULL;
    writeImage(state, new Uint8Array(this.x.memory.buffer, at, size));
    const status = this.x.stateLoad(size);
    if (status === Status.OK) {
      this.dma.stateLoaded();
      for (const r of state.dma.ram) if (r.data !== null) this.dma.ramBytes(r.index)!.set(r.data);
    }
    return status;
  }
  batchRecords(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, this.x.batchAddress() >>> 0, BATCH_CAPACITY * RECORD_BYTES);
  }
  replayBatch(count: number): number {
    return this.x.replayBatch(count) >>> 0;
  }
  batchResults(count: number, mismatches: number): { results: Uint8Array; status: Uint8Array; mismatches: Uint32Array } {
    const buf = this.x.memory.buffer;
    return {
      results: new Uint8Array(buf, this.x.resultsAddress() >>> 0, count * 8),
      status: new Uint8Array(buf, this.x.statusAddress() >>> 0, count),
      mismatches: new Uint32Array(buf, this.x.mismatchAddress() >>> 0, mismatches),
    };
  }
}
