// The pure-TypeScript core: the same numeric interface as the Wasm core. Every argument is first
// coerced exactly as the Wasm boundary coerces it (ToInt32 for i32/u32 parameters, none for f64),
// so both cores see the same numbers and give the same results for any input.
import type { CoreBackend, HostAccess, RawEffect, RawEvent, RawIrqEvent, RegionInfo } from '../backend.js';
import { Irq, Status, onesFor } from '../backend.js';
import { ConfigStore } from './config-store.js';
import { ConfigMechanisms } from './config-mechanisms.js';
import { RegionTable, MAX_PRIORITY, SPACE_IO, SPACE_MMIO, MAX_REGION_ID } from './region-table.js';
import { Regions, Kind, Counter, COUNTERS } from './regions.js';
import { Effects } from './effects.js';
import { Doorbells } from './doorbell.js';
import { Regfiles } from './regfile.js';
import { BarMapper, HOOK_BARS } from './bar-mapper.js';
import { Bridges, HOOK_BRIDGE } from './bridges.js';
import { pmWritten } from './power.js';
import { Dispatcher } from './access.js';
import { Interrupts } from './irq.js';
import { DmaTranslator } from './dma/index.js';
import type { CoreState } from '../state.js';
import { loadTsState, saveTsState } from './state.js';
import type { TsCoreParts } from './state.js';

const TWO64 = 18446744073709551616;

/** An integer-valued number in [0, 2^64), as the Wasm boundary adapters accept. */
function isU64(v: number): boolean {
  return v >= 0 && v < TWO64 && Math.floor(v) === v;
}

/**
 * The pure-TypeScript core: the same state machine as the Wasm core in plain objects, answering
 * every access bit-identically. `createBus({ backend: "ts" })` uses one.
 */
export class TsCore implements CoreBackend {
  readonly kind = 'ts' as const;
  private readonly store = new ConfigStore();
  private readonly table = new RegionTable();
  private readonly regions = new Regions(this.table);
  private readonly effects = new Effects(this.regions);
  private readonly doorbells = new Doorbells(this.regions);
  private readonly regfiles = new Regfiles();
  private readonly mech = new ConfigMechanisms(this.store, this.table, this.regions);
  private readonly bars = new BarMapper(this.store, this.table, this.regions, this.effects, new Bridges(this.store));
  private readonly irq = new Interrupts(this.store, this.bars, this.regions);
  private readonly dispatcher = new Dispatcher(this.table, this.regions, this.mech, this.regfiles, this.doorbells, this.irq);
  readonly dma = new DmaTranslator(this.store);
  private readonly out = { lo: 0, hi: 0 };
  private readHigh = 0;

  constructor() {
    // See runHook / releaseHooks in assembly/dispatch/hooks.ts. Command's dword keeps its BAR or
    // bridge hook; every write to it then re-evaluates INTx (Interrupt Disable, PCI 3.0 §6.2.2).
    this.store.runHook = (hook, slot, reg, old, device) => {
      if (hook === HOOK_BARS) this.bars.onWrite(slot, reg);
      else if (hook === HOOK_BRIDGE) this.bridgeWritten(slot, reg);
      else if (hook === Irq.HOOK_MSI) this.irq.msiWritten(slot);
      else if (hook === Irq.HOOK_MSIX) this.irq.msixWritten(slot);
      if (reg >>> 2 === 1) this.irq.commandWritten(slot);
      // PMCSR carries HOOK_PM; the PM rule acts only on PMCSR's dword, whatever code holds it.
      pmWritten(this.store, this.bars, slot, reg, old, device);
    };
    this.store.releaseHooks = (slot) => {
      // The line reference goes first; barDetach then frees the MSI-X handler regions.
      this.irq.release(slot);
      this.bars.detach(slot);
      this.dma.dmaSlotReleased(slot);
    };
    this.mech.initPorts();
  }

  /** A bridge register was written: see bridgeOnWrite in assembly/dispatch/bridges.ts. */
  private bridgeWritten(slot: number, reg: number): void {
    const dword = reg >>> 2;
    if (dword === 1) {
      this.bars.onWrite(slot, reg);
      if (reg < 6) this.bars.refreshBelow(slot);
    } else if (dword === 6) {
      this.store.route(this.store.segmentOf(slot));
    } else {
      this.bars.refreshBelow(slot);
    }
  }

  get hostAccess(): HostAccess {
    return this.dispatcher.hostAccess;
  }
  set hostAccess(fn: HostAccess) {
    this.dispatcher.hostAccess = fn;
  }

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    return this.store.addFunction(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, size >>> 0);
  }
  addFunctionBelow(bridge: number, dev: number, fn: number, size: number): number {
    return this.store.addFunctionBelow(bridge | 0, dev >>> 0, fn >>> 0, size >>> 0);
  }
  slotAt(seg: number, bus: number, dev: number, fn: number): number {
    return this.store.findSlot(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0);
  }
  slotAddress(slot: number): number {
    return this.store.addressOf(slot | 0);
  }
  slotParent(slot: number): number {
    return this.store.parentOf(slot | 0);
  }
  removeFunction(slot: number): number {
    return this.store.removeFunction(slot | 0);
  }
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number {
    return this.store.loadPlanes(slot | 0, config, wmask, w1cmask);
  }
  planeByte(slot: number, plane: number, offset: number): number {
    return this.store.planeByte(slot | 0, plane >>> 0, offset >>> 0);
  }
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number {
    return this.store.configRead(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, reg >>> 0, size | 0);
  }
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): number {
    this.store.configWrite(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, reg >>> 0, size | 0, value >>> 0);
    return this.irq.queued();
  }
  configPoke(slot: number, offset: number, size: number, value: number): number {
    const st = this.store.slotPoke(slot | 0, offset >>> 0, size | 0, value >>> 0);
    return st < 0 ? st : this.irq.queued();
  }
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    base = +base;
    return isU64(base) ? this.mech.setEcam(seg >>> 0, base, busStart >>> 0, busEnd >>> 0) : Status.RANGE;
  }

  mmioRead(addr: number, size: number): number {
    addr = +addr;
    size |= 0;
    if (!isU64(addr)) {
      this.regions.bump(Counter.INVALID);
      this.readHigh = size === 8 ? 0xffffffff : 0;
      return onesFor(size);
    }
    this.dispatcher.access(SPACE_MMIO, addr, size, false, 0, 0, this.out);
    this.readHigh = this.out.hi;
    return this.out.lo;
  }
  mmioReadHigh(): number {
    return this.readHigh;
  }
  mmioWrite(addr: number, size: number, value: number, high: number): number {
    addr = +addr;
    if (!isU64(addr)) {
      this.regions.bump(Counter.INVALID);
      return this.irq.queued();
    }
    this.dispatcher.access(SPACE_MMIO, addr, size | 0, true, value >>> 0, high >>> 0, this.out);
    return this.irq.queued();
  }
  ioRead(port: number, size: number): number {
    this.dispatcher.access(SPACE_IO, port >>> 0, size | 0, false, 0, 0, this.out);
    return this.out.lo;
  }
  ioWrite(port: number, size: number, value: number): number {
    this.dispatcher.access(SPACE_IO, port >>> 0, size | 0, true, value >>> 0, 0, this.out);
    return this.irq.queued();
  }

  barAttach(slot: number): number {
    return this.bars.attach(slot | 0);
  }
  private handlerValid(kind: number, datum: number): boolean {
    if (kind === Kind.REGFILE) return this.regfiles.valid(datum);
    if (kind === Kind.DOORBELL) return this.doorbells.valid(datum);
    return kind === Kind.HOST;
  }
  barHandler(slot: number, bar: number, offset: number, length: number, kind: number, datum: number): number {
    kind >>>= 0;
    datum >>>= 0;
    offset = +offset;
    length = +length;
    if (!this.handlerValid(kind, datum) || !isU64(offset) || !isU64(length)) return Status.RANGE;
    return this.bars.handler(slot | 0, bar >>> 0, offset, length, kind, datum);
  }
  addRegion(space: number, base: number, size: number, priority: number, kind: number, datum: number): number {
    space >>>= 0;
    priority >>>= 0;
    kind >>>= 0;
    datum >>>= 0;
    base = +base;
    size = +size;
    if (!this.handlerValid(kind, datum) || priority > MAX_PRIORITY || space > SPACE_IO) return Status.RANGE;
    if (!isU64(base) || !isU64(size)) return Status.RANGE;
    const id = this.regions.alloc(kind, datum, -1, 0, 0);
    if (id === 0) return Status.FULL;
    if (this.table.regionMap(id, space, base, size, priority) !== Status.OK) {
      this.regions.free(id);
      return Status.RANGE;
    }
    return id;
  }
  removeRegion(id: number): number {
    id >>>= 0;
    const kind = this.regions.kindOf(id);
    if (kind === Kind.FREE) return Status.NOT_FOUND;
    if (!(kind === Kind.REGFILE || kind === Kind.DOORBELL || kind === Kind.HOST) || this.regions.slot[id] >= 0) return Status.RANGE;
    this.regions.free(id);
    return Status.OK;
  }
  regfileCreate(size: number, values: Uint8Array, mask: Uint8Array): number {
    return this.regfiles.create(size >>> 0, values, mask);
  }
  doorbellCreate(): number {
    return this.doorbells.create();
  }
  regfileDrop(handle: number): number {
    return this.regfiles.drop(handle >>> 0);
  }
  doorbellDrop(index: number): number {
    return this.doorbells.drop(index >>> 0);
  }
  barInfo(slot: number, bar: number): { kind: number; size: number; mapped: boolean; base: number; region: number } {
    const e = this.bars.entry(slot | 0, bar >>> 0);
    return e ? { kind: e.kind, size: e.size, mapped: e.mapped, base: e.base, region: e.region }
      : { kind: 0, size: 0, mapped: false, base: 0, region: 0 };
  }
  regionInfo(id: number): RegionInfo {
    id >>>= 0;
    const r = this.regions;
    if (id === 0 || id > MAX_REGION_ID) return { kind: 0, slot: -1, bar: 0, base: 0, size: 0, length: 0, reads: 0, writes: 0 };
    return {
      kind: r.kind[id], slot: r.slot[id], bar: r.bar[id],
      length: r.kind[id] === Kind.FREE || r.slot[id] < 0 ? 0 : r.length[id],
      base: this.table.regionBase(id), size: this.table.regionSize(id), reads: r.reads[id], writes: r.writes[id],
    };
  }
  counterValue(counter: number): number {
    counter >>>= 0;
    return counter < COUNTERS ? this.regions.counters[counter] : 0;
  }
  countInvalid(): void {
    this.regions.bump(Counter.INVALID);
  }
  eventsDrain(): RawEvent[] {
    const all: RawEvent[] = [];
    for (;;) {
      const part = this.doorbells.drain(0xffffffff);
      if (part.length === 0) return all;
      all.push(...part);
    }
  }
  effectsDrain(): RawEffect[] {
    const all: RawEffect[] = [];
    for (;;) {
      const part = this.effects.drain(0xffffffff);
      if (part.length === 0) return all;
      all.push(...part);
    }
  }

  // --- Interrupts (irq.ts): i32 slot / level / vector, u32 seg / device / pin / gsi, as in Wasm.
  irqAttach(slot: number): number {
    return this.irq.attach(slot | 0);
  }
  intxSet(slot: number, level: number): number {
    return this.irq.intxSet(slot | 0, level | 0);
  }
  intxRoute(seg: number, device: number, pin: number, gsi: number): number {
    return this.irq.intxRoute(seg >>> 0, device >>> 0, pin >>> 0, gsi >>> 0);
  }
  intxRouteOf(seg: number, device: number, pin: number): number {
    return this.irq.intxRouteOf(seg >>> 0, device >>> 0, pin >>> 0);
  }
  msiSignal(slot: number, vector: number): number {
    return this.irq.msiSignal(slot | 0, vector | 0);
  }
  msixSignal(slot: number, vector: number): number {
    return this.irq.msixSignal(slot | 0, vector | 0);
  }
  lineLevel(gsi: number): number {
    return this.irq.lineLevel(gsi >>> 0);
  }
  irqQueued(): number {
    return this.irq.queued();
  }
  irqDrain(): RawIrqEvent[] {
    return this.irq.drain();
  }

  /** What the state functions (state.ts) work on. */
  private parts(): TsCoreParts {
    return {
      store: this.store, table: this.table, regions: this.regions, mech: this.mech, bars: this.bars, regfiles: this.regfiles,
      doorbells: this.doorbells, effects: this.effects, irq: this.irq, dma: this.dma,
      readHigh: () => this.readHigh, setReadHigh: (v) => { this.readHigh = v; },
    };
  }
  saveState(): CoreState {
    return saveTsState(this.parts());
  }
  loadState(state: CoreState): number {
    return loadTsState(this.parts(), state);
  }

  batchRecords(): Uint8Array {
    return this.dispatcher.records;
  }
  replayBatch(count: number): number {
    return this.dispatcher.replayBatch(count >>> 0);
  }
  batchResults(count: number, mismatches: number): { results: Uint8Array; status: Uint8Array; mismatches: Uint32Array } {
    const d = this.dispatcher;
    return { results: d.results.subarray(0, count * 8), status: d.statuses.subarray(0, count), mismatches: d.mismatches.subarray(0, mismatches) };
  }
}
