// The Wasm core's DMA translator behind the same DmaCore interface as the TypeScript twin:
// numbers through, fresh views of linear memory for the byte areas (memory can grow on ramAdd,
// domainMap and domainUnmap, which detaches older views).
import type { DmaCore } from '../src/core/ts/dma/index.js';
import {
  BUFFER_SIZE, FAULT_BYTES, FAULT_CAPACITY, MAX_SEGMENTS, MAX_SG, SEGMENT_BYTES, SG_BYTES,
} from '../src/core/ts/dma/index.js';

/** The DMA exports of build/vpci.wasm: the twin's numeric calls, plus where the byte areas are. */
export type VpciDmaExports = Omit<DmaCore, 'ramBytes' | 'dmaBuffer' | 'dmaSgList' | 'dmaSegments' | 'dmaFaultArea' | 'dmaSlotReleased'> & {
  memory: WebAssembly.Memory;
  ramAddress(index: number): number;
  dmaBufferAddress(): number;
  dmaSgAddress(): number;
  dmaSegmentsAddress(): number;
  dmaFaultsAddress(): number;
};

export class WasmDma implements DmaCore {
  private readonly buffer: number;
  private readonly sg: number;
  private readonly segments: number;
  private readonly faults: number;

  constructor(private readonly x: VpciDmaExports) {
    this.buffer = x.dmaBufferAddress() >>> 0;
    this.sg = x.dmaSgAddress() >>> 0;
    this.segments = x.dmaSegmentsAddress() >>> 0;
    this.faults = x.dmaFaultsAddress() >>> 0;
  }

  private view(at: number, length: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, at, length);
  }

  // Views on the hot path are kept until the memory grows (a grown memory has a new buffer).
  private viewsOf: ArrayBufferLike | undefined;
  private segmentsView: Uint8Array | undefined;
  private readonly ramViews: (Uint8Array | undefined)[] = [];

  private fresh(): boolean {
    const buffer = this.x.memory.buffer;
    if (buffer === this.viewsOf) return true;
    this.viewsOf = buffer;
    this.segmentsView = undefined;
    this.ramViews.length = 0;
    return false;
  }

  ramAdd(base: number, size: number, internal: number): number {
    this.ramViews.length = 0;
    return this.x.ramAdd(base, size, internal);
  }
  ramRemove(index: number): number {
    this.ramViews.length = 0;
    return this.x.ramRemove(index);
  }
  ramBase(index: number): number { return this.x.ramBase(index); }
  ramSize(index: number): number { return this.x.ramSize(index); }
  ramCount(): number { return this.x.ramCount(); }
  ramBytes(index: number): Uint8Array | undefined {
    if (this.fresh()) {
      const known = this.ramViews[index];
      if (known !== undefined) return known;
    }
    const at = this.x.ramAddress(index) >>> 0;
    const bytes = at === 0 ? undefined : this.view(at, this.x.ramSize(index));
    this.ramViews[index] = bytes;
    return bytes;
  }
  domainCreate(type: number): number { return this.x.domainCreate(type); }
  domainDestroy(id: number): number { return this.x.domainDestroy(id); }
  domainType(id: number): number { return this.x.domainType(id); }
  domainMap(id: number, iova: number, gpa: number, size: number, perms: number): number {
    return this.x.domainMap(id, iova, gpa, size, perms);
  }
  domainUnmap(id: number, iova: number, size: number): number { return this.x.domainUnmap(id, iova, size); }
  domainTranslate(id: number, iova: number): number { return this.x.domainTranslate(id, iova); }
  domainPerms(id: number, iova: number): number { return this.x.domainPerms(id, iova); }
  dmaAttach(slot: number, domain: number): number { return this.x.dmaAttach(slot, domain); }
  dmaDetach(slot: number): number { return this.x.dmaDetach(slot); }
  dmaDomainOf(slot: number): number { return this.x.dmaDomainOf(slot); }
  /** Called by the core's own removal path; nothing to do from outside. */
  dmaSlotReleased(): void {}
  dmaRead(slot: number, iova: number, len: number, bufOffset: number): number { return this.x.dmaRead(slot, iova, len, bufOffset); }
  dmaWrite(slot: number, iova: number, len: number, bufOffset: number): number { return this.x.dmaWrite(slot, iova, len, bufOffset); }
  dmaSg(slot: number, count: number, dir: number, bufOffset: number): number { return this.x.dmaSg(slot, count, dir, bufOffset); }
  dmaTranslate(slot: number, iova: number, len: number, dir: number): number { return this.x.dmaTranslate(slot, iova, len, dir); }
  dmaBuffer(): Uint8Array { return this.view(this.buffer, BUFFER_SIZE); }
  dmaSgList(): Uint8Array { return this.view(this.sg, MAX_SG * SG_BYTES); }
  dmaSegments(): Uint8Array {
    if (this.fresh() && this.segmentsView !== undefined) return this.segmentsView;
    return (this.segmentsView = this.view(this.segments, MAX_SEGMENTS * SEGMENT_BYTES));
  }
  dmaFaultArea(): Uint8Array { return this.view(this.faults, FAULT_CAPACITY * FAULT_BYTES); }
  dmaFaultsQueued(): number { return this.x.dmaFaultsQueued() >>> 0; }
  dmaFaultsDrain(max: number): number { return this.x.dmaFaultsDrain(max) >>> 0; }
  dmaCounter(index: number): number { return this.x.dmaCounter(index); }
  dmaTableCount(): number { return this.x.dmaTableCount(); }
  dmaIotlbValid(): number { return this.x.dmaIotlbValid(); }
  dmaReset(): void { this.x.dmaReset(); }
  /** The core loaded a state: RAM regions may sit elsewhere in its memory now. */
  stateLoaded(): void { this.ramViews.length = 0; }
}
