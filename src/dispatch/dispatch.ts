// The Bus's dispatcher services: handler registration, the bridge to TypeScript device models,
// and turning the core's numeric effects, events and counters into typed values. No access
// decision is made here; the core makes them all.
import type { CoreBackend, RawEffect } from '../core/backend.js';
import { BATCH_CAPACITY, CounterIndex, RECORD_BYTES, RegionKind, statusText } from '../core/backend.js';
import { ArgumentError } from '../errors.js';
import type { ResolvedTopology } from '../topology/index.js';
import type {
  AccessErrorInfo, BarEffect, BarKindName, BusStats, DeviceModelHandler, DoorbellEvent, MappedRegion, RegionHandler,
  RegionKindName, RegionOptions, RegionStats, ReplayResult, Space,
} from './types.js';

const MAX_REGION_ID = 4095;
const TWO32 = 4294967296;
const BAR_KIND_NAMES: Record<number, BarKindName> = { 1: 'io', 2: 'mem32', 3: 'mem64', 4: 'rom' };
const KIND_NAMES: Record<number, RegionKindName> = {
  [RegionKind.ECAM]: 'ecam', [RegionKind.CF8]: 'cf8', [RegionKind.CFC]: 'cfc', [RegionKind.BAR]: 'bar',
  [RegionKind.REGFILE]: 'regfile', [RegionKind.DOORBELL]: 'doorbell', [RegionKind.HOST]: 'model',
  [RegionKind.MSIX_TABLE]: 'msix-table', [RegionKind.MSIX_PBA]: 'msix-pba',
};

function isModel(h: RegionHandler): h is DeviceModelHandler {
  return typeof (h as DeviceModelHandler).read === 'function' && typeof (h as DeviceModelHandler).write === 'function';
}

function toNumber(v: number | bigint, what: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentError(`${what}: ${String(v)} is not a non-negative integer below 2^53`);
  return n;
}

/** Stands in for a released model: the core no longer has a region that calls it. */
const RELEASED: DeviceModelHandler = {
  read: () => { throw new Error('a released device model handle was called'); },
  write: () => { throw new Error('a released device model handle was called'); },
};

export class Dispatch {
  private readonly models: DeviceModelHandler[] = [];
  /** Handles of removed regions' models, reused so adding and removing regions forever stays bounded. */
  private readonly freeModels: number[] = [];
  /** Per region id: a name, and the space for regions the embedder or a BAR handler added. */
  private readonly names = new Map<number, { name: string; space: Space }>();
  /** Function paths by slot: the names of functions in regions, stats and effects. */
  private readonly bdfBySlot = new Map<number, string>();
  /** Per slot, which of BARs 0-5 are IO BARs. */
  private readonly ioBar = new Map<number, boolean[]>();

  constructor(
    private readonly core: CoreBackend,
    topology: ResolvedTopology,
    /** Core slots by function path. */
    slots: Map<string, number>,
    private readonly onError?: (error: unknown, info: AccessErrorInfo) => void,
  ) {
    for (const f of topology.functions) this.addFunction(slots.get(f.path)!, f.path, f.planes.config);
    core.hostAccess = (handle, write, offset, size, lo, hi, out) => this.serve(handle, write, offset, size, lo, hi, out);
  }

  /** Learns a function's name and which of its BARs are I/O (at construction, and when one is added at run time). */
  addFunction(slot: number, path: string, config: Uint8Array): void {
    this.bdfBySlot.set(slot, path);
    const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
    this.ioBar.set(slot, Array.from({ length: 6 }, (_, bar) => (view.getUint32(0x10 + 4 * bar, true) & 1) === 1));
  }

  /** Forgets a removed function (its slot may be reused by another). */
  removeFunction(slot: number): void {
    this.bdfBySlot.delete(slot);
    this.ioBar.delete(slot);
  }

  /** Calls a TypeScript model for the core; reports a throw to onError and passes it on. */
  private serve(handle: number, write: boolean, offset: number, size: number, lo: number, hi: number, out: { lo: number; hi: number }): void {
    const model = this.models[handle];
    try {
      if (write) {
        model.write(offset, size, size === 8 ? (BigInt(hi) << 32n) | BigInt(lo) : lo);
        return;
      }
      const v = model.read(offset, size);
      if (typeof v === 'bigint') {
        out.lo = Number(v & 0xffffffffn);
        out.hi = Number((v >> 32n) & 0xffffffffn);
      } else if (typeof v === 'number' && Number.isFinite(v)) {
        out.lo = v >>> 0;
        out.hi = Math.floor(v / TWO32) >>> 0;
      } else {
        throw new TypeError(`device model read returned ${String(v)}, not a number or bigint`);
      }
    } catch (error) {
      try {
        this.onError?.(error, { region: this.lastRegion(handle), offset, size, write });
      } catch {
        // An embedder's error callback failing must not break the access path either.
      }
      throw error;
    }
  }

  private readonly regionOfHandle = new Map<number, number>();
  private lastRegion(handle: number): number {
    return this.regionOfHandle.get(handle) ?? 0;
  }

  /** Creates the core-side handler; returns [kind, datum] and the model handle if any. */
  private createHandler(handler: RegionHandler): { kind: number; datum: number; handle?: number } {
    if (isModel(handler)) {
      const reused = this.freeModels.pop();
      const handle = reused ?? this.models.length;
      this.models[handle] = handler;
      return { kind: RegionKind.HOST, datum: handle, handle };
    }
    if (handler.kind === 'regfile') {
      const size = handler.size;
      if (!Number.isInteger(size) || size < 1 || size > 4096) throw new ArgumentError(`handler.size: ${size} is not 1..4096`);
      const values = handler.initial ?? new Uint8Array(size);
      const mask = handler.writeMask ?? new Uint8Array(size).fill(0xff);
      const datum = this.core.regfileCreate(size, values, mask);
      if (datum === 0xffffffff) throw new ArgumentError('handler: no register file can be created (limit 4096)');
      return { kind: RegionKind.REGFILE, datum };
    }
    if (handler.kind === 'doorbell') {
      const datum = this.core.doorbellCreate();
      if (datum === 0xffffffff) throw new ArgumentError('handler: no doorbell can be created (limit 4096)');
      return { kind: RegionKind.DOORBELL, datum };
    }
    throw new ArgumentError('handler: not a regfile, a doorbell, or an object with read and write');
  }

  /** Undoes createHandler when the core refused the region: a refused call uses up nothing. */
  private dropHandler(h: { kind: number; datum: number; handle?: number }): void {
    if (h.handle !== undefined) this.releaseModel(h.handle);
    else if (h.kind === RegionKind.REGFILE) this.core.regfileDrop(h.datum);
    else if (h.kind === RegionKind.DOORBELL) this.core.doorbellDrop(h.datum);
  }

  addRegion(o: RegionOptions): number {
    if (o.space !== 'mmio' && o.space !== 'io') throw new ArgumentError(`space: "${String(o.space)}" is not "mmio" or "io"`);
    const base = toNumber(o.base, 'base');
    const size = toNumber(o.size, 'size');
    const priority = o.priority ?? 100;
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw new ArgumentError(`priority: ${priority} is not 0..255`);
    const limit = o.space === 'io' ? 0x10000 : 2 ** 52;
    if (size < 1 || base + size > limit) throw new ArgumentError(`base/size: [0x${base.toString(16)}, +0x${size.toString(16)}) is not inside the ${o.space} space (below 0x${limit.toString(16)})`);
    const h = this.createHandler(o.handler);
    const id = this.core.addRegion(o.space === 'io' ? 1 : 0, base, size, priority, h.kind, h.datum);
    if (id < 0) {
      this.dropHandler(h);
      throw new ArgumentError(`region: ${statusText(id)}`);
    }
    if (h.handle !== undefined) this.regionOfHandle.set(h.handle, id);
    this.names.set(id, { name: o.name ?? `region ${id}`, space: o.space });
    return id;
  }

  removeRegion(id: number): void {
    const status = this.core.removeRegion(id);
    if (status < 0) throw new ArgumentError(`region ${id}: ${status === -4 ? 'no such region' : 'not an embedder region'}`);
    this.names.delete(id);
    for (const [handle, region] of this.regionOfHandle) {
      if (region === id) this.releaseModel(handle);
    }
  }

  /** A model handle no region uses any more: free for the next model region. */
  private releaseModel(handle: number): void {
    this.regionOfHandle.delete(handle);
    this.models[handle] = RELEASED;
    this.freeModels.push(handle);
  }

  /** `slot` is a function of the topology (the Bus looked it up by path or BDF). */
  setBarHandler(slot: number, bar: number, handler: RegionHandler, range: { offset?: number; length?: number }): number {
    const bdf = this.bdfBySlot.get(slot) ?? `slot ${slot}`;
    if (!Number.isInteger(bar) || bar < 0 || bar > 6) throw new ArgumentError(`bar: ${bar} is not 0..5 or 6 (ROM)`);
    const offset = range.offset ?? 0;
    const whole = this.barSize(slot, bar);
    if (whole === 0) throw new ArgumentError(`bar: ${bdf} has no BAR ${bar}`);
    // A register file claims only its own bytes unless a length is given.
    const rest = whole - offset;
    if (range.length === undefined && BigInt(rest) !== BigInt(whole) - BigInt(offset)) {
      throw new ArgumentError(`length: BAR ${bar} is 0x${whole.toString(16)} bytes; past 2^53 the rest after offset 0x${offset.toString(16)} is not an exact number: give the length`);
    }
    const fallback = !isModel(handler) && handler.kind === 'regfile' ? Math.min(handler.size, rest) : rest;
    const length = range.length ?? fallback;
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 1 ||
        BigInt(offset) + BigInt(length) > BigInt(whole)) {
      throw new ArgumentError(`offset/length: [0x${offset.toString(16)}, +0x${length.toString(16)}) is not inside BAR ${bar} (0x${whole.toString(16)} bytes)`);
    }
    const h = this.createHandler(handler);
    const id = this.core.barHandler(slot, bar, offset, length, h.kind, h.datum);
    if (id < 0) {
      this.dropHandler(h);
      throw new ArgumentError(`bar handler: ${statusText(id)}`);
    }
    if (h.handle !== undefined) this.regionOfHandle.set(h.handle, id);
    const io = bar < 6 && this.ioBar.get(slot)?.[bar] === true;
    this.names.set(id, { name: `${bdf} BAR${bar === 6 ? ' ROM' : bar} +0x${offset.toString(16)}`, space: io ? 'io' : 'mmio' });
    return id;
  }

  /** The size of a BAR or ROM the core tracks (0 when the function has none there). */
  private barSize(slot: number, bar: number): number {
    const b = this.core.barInfo(slot, bar);
    return b.kind === 0 || b.kind === 5 ? 0 : b.size;
  }

  private regionName(id: number, kind: number, slot: number, bar: number): { name: string; space: Space; bdf?: string } {
    const known = this.names.get(id);
    if (kind === RegionKind.BAR) {
      const bdf = this.bdfBySlot.get(slot) ?? `slot ${slot}`;
      const io = bar < 6 && this.ioBar.get(slot)?.[bar] === true;
      return { name: `${bdf} ${bar === 6 ? 'ROM' : `BAR${bar}`}`, space: io ? 'io' : 'mmio', bdf };
    }
    if (known) return { ...known, bdf: slot >= 0 ? this.bdfBySlot.get(slot) : undefined };
    if (kind === RegionKind.MSIX_TABLE || kind === RegionKind.MSIX_PBA) {
      // The core maps a function's MSI-X table and PBA as handler regions of their BARs.
      const bdf = this.bdfBySlot.get(slot) ?? `slot ${slot}`;
      const io = bar < 6 && this.ioBar.get(slot)?.[bar] === true;
      return { name: `${bdf} MSI-X ${kind === RegionKind.MSIX_TABLE ? 'table' : 'PBA'} (BAR${bar})`, space: io ? 'io' : 'mmio', bdf };
    }
    if (kind === RegionKind.ECAM) return { name: `ECAM window ${id}`, space: 'mmio' };
    if (kind === RegionKind.CF8) return { name: 'CONFIG_ADDRESS 0xCF8', space: 'io' };
    if (kind === RegionKind.CFC) return { name: 'CONFIG_DATA 0xCFC', space: 'io' };
    return { name: `region ${id}`, space: 'mmio' };
  }

  regions(): MappedRegion[] {
    const out: MappedRegion[] = [];
    for (let id = 1; id <= MAX_REGION_ID; id++) {
      const r = this.core.regionInfo(id);
      if (r.kind === RegionKind.FREE || r.size === 0) continue;
      const n = this.regionName(id, r.kind, r.slot, r.bar);
      const m: MappedRegion = { id, space: n.space, kind: KIND_NAMES[r.kind], name: n.name, base: BigInt(r.base), size: BigInt(r.size) };
      if (r.slot >= 0) {
        m.bdf = n.bdf;
        m.bar = r.bar;
      }
      out.push(m);
    }
    return out;
  }

  stats(): BusStats {
    const regions: RegionStats[] = [];
    const devices = new Map<string, { bdf: string; reads: number; writes: number }>();
    for (let id = 1; id <= MAX_REGION_ID; id++) {
      const r = this.core.regionInfo(id);
      if (r.kind === RegionKind.FREE) continue;
      const n = this.regionName(id, r.kind, r.slot, r.bar);
      const s: RegionStats = {
        id, name: n.name, space: n.space, kind: KIND_NAMES[r.kind],
        base: r.size === 0 ? null : BigInt(r.base),
        size: BigInt(r.size === 0 ? r.length : r.size),
        reads: r.reads, writes: r.writes,
      };
      if (r.slot >= 0) {
        s.bdf = n.bdf;
        s.bar = r.bar;
        const d = devices.get(n.bdf!) ?? { bdf: n.bdf!, reads: 0, writes: 0 };
        d.reads += r.reads;
        d.writes += r.writes;
        devices.set(n.bdf!, d);
      }
      regions.push(s);
    }
    const c = (i: number) => this.core.counterValue(i);
    return {
      regions,
      devices: [...devices.values()],
      aborts: {
        mmio: { reads: c(CounterIndex.ABORT_MMIO_READ), writes: c(CounterIndex.ABORT_MMIO_WRITE) },
        io: { reads: c(CounterIndex.ABORT_IO_READ), writes: c(CounterIndex.ABORT_IO_WRITE) },
      },
      invalid: c(CounterIndex.INVALID),
      hostErrors: c(CounterIndex.HOST_ERROR),
      droppedEvents: c(CounterIndex.DROPPED_EVENTS),
      droppedEffects: c(CounterIndex.DROPPED_EFFECTS),
      droppedIrqs: c(CounterIndex.DROPPED_IRQS),
    };
  }

  effects(): BarEffect[] {
    return this.core.effectsDrain().map((e: RawEffect) => ({
      bdf: this.bdfBySlot.get(e.slot) ?? `slot ${e.slot}`,
      bar: e.bar,
      kind: BAR_KIND_NAMES[e.kind],
      oldBase: e.oldMapped ? BigInt(e.oldBase) : null,
      newBase: e.newMapped ? BigInt(e.newBase) : null,
      size: BigInt(e.size),
    }));
  }

  events(): DoorbellEvent[] {
    return this.core.eventsDrain().map((e) => ({
      region: e.region, offset: e.offset, size: e.size, value: (BigInt(e.hi) << 32n) | BigInt(e.lo),
    }));
  }

  replay(records: Uint8Array): ReplayResult {
    if (!(records instanceof Uint8Array) || records.length % RECORD_BYTES !== 0) {
      throw new ArgumentError(`records: ${records?.length} bytes is not a whole number of ${RECORD_BYTES}-byte records`);
    }
    // The core has one batch area: a replay started from inside a batch (a device model or an
    // interrupt sink calling back) would overwrite the records still running. It is refused; from
    // a model that makes the model's access a model error, and the outer batch runs on intact.
    if (this.replaying) throw new ArgumentError('replay: called while a batch runs (from a device model or an interrupt sink); batches do not nest');
    this.replaying = true;
    try {
      return this.replayBatches(records);
    } finally {
      this.replaying = false;
    }
  }

  private replaying = false;

  private replayBatches(records: Uint8Array): ReplayResult {
    const count = records.length / RECORD_BYTES;
    const resultBytes = new Uint8Array(count * 8);
    const status = new Uint8Array(count);
    const mismatches: number[] = [];
    for (let first = 0; first < count; first += BATCH_CAPACITY) {
      const n = Math.min(BATCH_CAPACITY, count - first);
      this.core.batchRecords().set(records.subarray(first * RECORD_BYTES, (first + n) * RECORD_BYTES));
      const bad = this.core.replayBatch(n);
      const r = this.core.batchResults(n, bad);
      resultBytes.set(r.results, first * 8);
      status.set(r.status, first);
      for (const i of r.mismatches) mismatches.push(first + i);
    }
    return { count, results: new BigUint64Array(resultBytes.buffer), status, mismatches };
  }
}
