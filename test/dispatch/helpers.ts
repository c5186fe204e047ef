// Shared helpers of the dispatcher suites (test/dispatch, test/dispatch-differential): the
// dispatcher API of the Bus as the specification describes it, BAR layouts derived from a
// function's planes, a from-scratch model of which BARs are mapped where (64-bit BARs: the lower
// dword staged, the upper dword moves), region/effect normalisation, replay record building and a
// recording TypeScript device model.
import { createBus } from '../../src/bus.js';
import type { Bus, BusOptions } from '../../src/bus.js';
import type { ResolvedFunction, Topology } from '../../src/topology/index.js';

import { parseAddress } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

// ---------------------------------------------------------------------------------------------
// The dispatcher API (specification: regions, handlers, events, effects, stats, replay)

// The Bus's own dispatcher types, under the names these suites use.
export type {
  Space, BarKindName as BarKind, MappedRegion as Region, BarEffect as Effect, DoorbellEvent, RegionStats,
  BusStats as Stats, RegfileHandler, DoorbellHandler, DeviceModelHandler as ModelHandler, RegionHandler as Handler,
  ReplayResult, AccessErrorInfo as ErrorInfo,
} from '../../src/dispatch/types.js';
import type {
  Space, BarKindName as BarKind, MappedRegion as Region, BarEffect as Effect, DoorbellEvent, RegionStats,
  BusStats as Stats, DeviceModelHandler as ModelHandler, RegionHandler as Handler, ReplayResult,
  AccessErrorInfo as ErrorInfo,
} from '../../src/dispatch/types.js';

export interface DispatchApi {
  regions(): Region[];
  events(): DoorbellEvent[];
  effects(): Effect[];
  stats(): Stats;
  addRegion(spec: { space: Space; base: number | bigint; size: number | bigint; priority?: number; handler: Handler; name?: string }): unknown;
  setBarHandler(bdf: string, bar: number, handler: Handler, options?: { offset?: number; length?: number }): unknown;
  replay(records: Uint8Array): ReplayResult;
}

export type DBus = Omit<Bus, keyof DispatchApi> & DispatchApi;

export const STATUS = { OK: 0, ABORT: 1, INVALID: 2, HOST_ERROR: 3 } as const;

export interface DBusOptions {
  onError?: (error: unknown, info: ErrorInfo) => void;
}

export async function makeDBus(backend: Backend, topology?: BusOptions['topology'], options: DBusOptions = {}): Promise<DBus> {
  const bus = await createBus({ backend, topology, ...options } as BusOptions);
  return bus as unknown as DBus;
}

/** Adds an embedder region (addresses given as numbers; bigints for anything >= 2^53). */
export function addRegion(bus: DBus, space: Space, base: number | bigint, size: number | bigint, handler: Handler, priority?: number, name?: string): number {
  const before = new Set(bus.stats().regions.map((r) => r.id));
  bus.addRegion({ space, base, size, handler, ...(priority === undefined ? {} : { priority }), ...(name === undefined ? {} : { name }) });
  return newRegionId(bus, before);
}

/** Registers a BAR handler; returns the id of the region it created. */
export function setBarHandler(bus: DBus, bdf: string, bar: number, handler: Handler, options?: { offset?: number; length?: number }): number {
  const before = new Set(bus.stats().regions.map((r) => r.id));
  if (options === undefined) bus.setBarHandler(bdf, bar, handler);
  else bus.setBarHandler(bdf, bar, handler, options);
  return newRegionId(bus, before);
}

function newRegionId(bus: DBus, before: Set<number>): number {
  const added = bus.stats().regions.map((r) => r.id).filter((id) => !before.has(id));
  if (added.length !== 1) throw new Error(`expected exactly one new region, got [${added.join(', ')}]`);
  return added[0];
}

// ---------------------------------------------------------------------------------------------
// BDFs

/** Canonical "SSSS:BB:DD.F" of any accepted BDF spelling; a device path ("00:04.0/0.0") keeps its "/DD.F" parts, canonical too. */
export function canon(bdf: string): string {
  if (bdf.includes('/')) {
    const [root, ...below] = bdf.split('/');
    return [canon(root), ...below.map((d) => d.toLowerCase().padStart(4, '0'))].join('/');
  }
  const a = parseAddress(bdf);
  const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${h(a.seg, 4)}:${h(a.bus, 2)}:${h(a.dev, 2)}.${a.fn}`;
}

export function sameBdf(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && canon(a) === canon(b);
}

// ---------------------------------------------------------------------------------------------
// BAR layout of a function, from its initial planes

export interface BarInfo {
  /** Index in the topology's function list. */
  fnIndex: number;
  bdf: string;
  /** 0-5, or 6 for the ROM. */
  bar: number;
  kind: BarKind;
  size: bigint;
  /** Config offset of the (low) register. */
  reg: number;
}

const dword = (bytes: Uint8Array, off: number): number =>
  (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;

/** The implemented BARs and ROM of a function (derived from its type bits and write masks). */
export function barsOf(f: ResolvedFunction, fnIndex: number): BarInfo[] {
  const { config, wmask } = f.planes;
  const type = config[0x0e] & 0x7f;
  if (type !== 0 && type !== 1) return [];
  const count = type === 0 ? 6 : 2;
  const out: BarInfo[] = [];
  const bdf = canon(f.bdf);
  for (let i = 0; i < count; i++) {
    const reg = 0x10 + 4 * i;
    const lo = dword(config, reg);
    const wm = dword(wmask, reg);
    if (lo & 1) {
      if (wm === 0) continue;
      out.push({ fnIndex, bdf, bar: i, kind: 'io', size: 2n ** 32n - BigInt((wm & 0xfffffffc) >>> 0), reg });
    } else if (((lo >>> 1) & 3) === 2 && i + 1 < count) {
      const hi = BigInt(dword(wmask, reg + 4));
      const mask = (hi << 32n) | BigInt((wm & 0xfffffff0) >>> 0);
      out.push({ fnIndex, bdf, bar: i, kind: 'mem64', size: 2n ** 64n - mask, reg });
      i++;
    } else if (wm !== 0) {
      out.push({ fnIndex, bdf, bar: i, kind: 'mem32', size: 2n ** 32n - BigInt((wm & 0xfffffff0) >>> 0), reg });
    }
  }
  const romReg = type === 0 ? 0x30 : 0x38;
  const rw = dword(wmask, romReg) & 0xfffff800;
  if (rw !== 0) out.push({ fnIndex, bdf, bar: 6, kind: 'rom', size: 2n ** 32n - BigInt(rw >>> 0), reg: romReg });
  return out;
}

export function allBars(bus: DBus): BarInfo[] {
  return bus.functions().flatMap((f, i) => barsOf(f, i));
}

// ---------------------------------------------------------------------------------------------
// The mapping model: what the spec says is mapped, computed from the config registers

export const MMIO_LIMIT = 2n ** 52n;
export const IO_LIMIT = 0x10000n;

function limitOf(kind: BarKind): bigint {
  return kind === 'io' ? IO_LIMIT : kind === 'mem64' ? MMIO_LIMIT : 2n ** 32n;
}

/**
 * Non-zero and the whole range below the space's limit. 32-bit memory BARs and the ROM: the last
 * byte must be below 0xFFFFFFFF (base + size < 2^32, as in QEMU), so the all-ones sizing probe
 * never maps them; IO: base + size <= 0x10000; 64-bit: base + size <= 2^52.
 */
export function validAddress(kind: BarKind, base: bigint, size: bigint): boolean {
  if (base === 0n) return false;
  return kind === 'mem32' || kind === 'rom' ? base + size < limitOf(kind) : base + size <= limitOf(kind);
}

/** Reads a config dword (offset a multiple of 4) of a function: the bus, or a view of it. */
export type RegRead = (bdf: string, dwordOffset: number) => number;

export function busReader(bus: DBus): RegRead {
  return (bdf, off) => bus.configRead(bdf, off, 4) >>> 0;
}

/** The address the registers give (for the ROM, without the enable bit). */
export function targetOf(read: RegRead, b: BarInfo): bigint {
  const lo = read(b.bdf, b.reg) >>> 0;
  switch (b.kind) {
    case 'io': return BigInt((lo & 0xfffffffc) >>> 0);
    case 'mem32': return BigInt((lo & 0xfffffff0) >>> 0);
    case 'rom': return BigInt((lo & 0xfffff800) >>> 0);
    case 'mem64': return (BigInt(read(b.bdf, b.reg + 4) >>> 0) << 32n) | BigInt((lo & 0xfffffff0) >>> 0);
  }
}

/** Where the BAR is mapped when its address is `target` (decode bit, ROM enable, validity). */
export function mappedAt(read: RegRead, b: BarInfo, target: bigint): bigint | null {
  const cmd = read(b.bdf, 0x04) & 0xffff;
  const decode = b.kind === 'io' ? (cmd & 1) !== 0 : (cmd & 2) !== 0;
  if (!decode) return null;
  if (b.kind === 'rom' && (read(b.bdf, b.reg) & 1) === 0) return null;
  return validAddress(b.kind, target, b.size) ? target : null;
}

const key = (b: { bdf: string; bar: number }): string => `${canon(b.bdf)}#${b.bar}`;

/**
 * The spec's mapping state: every BAR's mapping follows the registers at once, except 64-bit
 * BARs, which are written in halves: a write to the LOWER dword is staged (the BAR stays mapped
 * where it was, no effect); a write to the UPPER dword moves the BAR to the address both halves
 * give now (or unmaps it when that address is invalid). A Command write (bytes 4-5) applies the
 * current registers to every BAR of the function; a write to Status alone (bytes 6-7) changes
 * nothing. There is no state between the halves beyond the registers themselves.
 */
export class MappingModel {
  readonly bars: BarInfo[];
  private readonly mapped = new Map<string, bigint | null>();

  constructor(private readonly bus: DBus, bars?: BarInfo[]) {
    this.bars = bars ?? allBars(bus);
    const read = busReader(bus);
    for (const b of this.bars) this.mapped.set(key(b), mappedAt(read, b, targetOf(read, b)));
  }

  base(bdf: string, bar: number): bigint | null {
    return this.mapped.get(key({ bdf, bar })) ?? null;
  }

  bar(bdf: string, bar: number): BarInfo | undefined {
    return this.bars.find((b) => sameBdf(b.bdf, bdf) && b.bar === bar);
  }

  /** Mapped BARs as (info, base). */
  mappedBars(): { info: BarInfo; base: bigint }[] {
    const out: { info: BarInfo; base: bigint }[] = [];
    for (const b of this.bars) {
      const base = this.mapped.get(key(b));
      if (base !== null && base !== undefined) out.push({ info: b, base });
    }
    return out;
  }

  /**
   * Call after a performed config write of `size` bytes at `reg` of `bdf` (already applied to
   * the bus); returns the effects the spec requires, in BAR order. `read` gives the registers as
   * they were right after this write (default: the bus now).
   */
  afterConfigWrite(bdf: string, reg: number, size: number, read: RegRead = busReader(this.bus)): Effect[] {
    const effects: Effect[] = [];
    const mine = this.bars.filter((b) => sameBdf(b.bdf, bdf));
    if (mine.length === 0) return effects;
    const touches = (lo: number, hi: number) => reg < hi && reg + size > lo;
    const apply = (b: BarInfo) => {
      const old = this.mapped.get(key(b)) ?? null;
      const next = mappedAt(read, b, targetOf(read, b));
      if (old !== next) effects.push({ bdf: b.bdf, bar: b.bar, kind: b.kind, oldBase: old, newBase: next, size: b.size });
      this.mapped.set(key(b), next);
    };
    if (touches(0x04, 0x06)) {
      for (const b of mine) apply(b);
      return effects;
    }
    for (const b of mine) {
      // A 64-bit BAR moves on its upper dword only; its lower dword is staged.
      const moves = b.kind === 'mem64' ? touches(b.reg + 4, b.reg + 8) : touches(b.reg, b.reg + 4);
      if (moves) apply(b);
    }
    return effects;
  }
}

// ---------------------------------------------------------------------------------------------
// Effects and regions, normalised for comparison

export function normEffect(e: Effect): Effect {
  return { bdf: canon(e.bdf), bar: e.bar, kind: e.kind, oldBase: e.oldBase, newBase: e.newBase, size: e.size };
}

export function normEffects(list: Effect[]): Effect[] {
  return list.map(normEffect);
}

export function effect(bdf: string, bar: number, kind: BarKind, oldBase: bigint | null, newBase: bigint | null, size: bigint): Effect {
  return { bdf: canon(bdf), bar, kind, oldBase, newBase, size };
}

/** The whole-BAR region of a BAR (the lowest id with that bdf and bar: allocated at load). */
export function barRegionStats(bus: DBus, bdf: string, bar: number): RegionStats {
  const list = bus.stats().regions.filter((r) => sameBdf(r.bdf, bdf) && r.bar === bar).sort((a, b) => a.id - b.id);
  if (list.length === 0) throw new Error(`no region for ${bdf} BAR ${bar}`);
  return list[0];
}

export function regionStats(bus: DBus, id: number): RegionStats {
  const r = bus.stats().regions.find((x) => x.id === id);
  if (!r) throw new Error(`no region ${id} in stats()`);
  return r;
}

/** Mapped regions as "space base+size" strings (with bdf/bar), sorted. */
export function regionKeys(list: { space: Space; base: bigint; size: bigint; bdf?: string; bar?: number }[]): string[] {
  return list.map((r) => `${r.space} ${r.bdf !== undefined ? canon(r.bdf) : '-'} ${r.bar ?? '-'} 0x${r.base.toString(16)}+0x${r.size.toString(16)}`).sort();
}

/** The mapped BAR regions (whole BARs) of a bus as "bdf#bar@base" strings. */
export function mappedBarKeys(bus: DBus): string[] {
  const whole = new Map<string, number>();
  for (const r of bus.stats().regions) {
    if (r.bdf === undefined || r.bar === undefined) continue;
    const k = key({ bdf: r.bdf, bar: r.bar });
    whole.set(k, Math.min(whole.get(k) ?? Infinity, r.id));
  }
  const ids = new Set(whole.values());
  return bus.regions().filter((r) => ids.has(r.id)).map((r) => `${key({ bdf: r.bdf!, bar: r.bar! })}@0x${r.base.toString(16)}`).sort();
}

export function whereMapped(bus: DBus, bdf: string, bar: number): bigint | null {
  const id = barRegionStats(bus, bdf, bar).id;
  const r = bus.regions().find((x) => x.id === id);
  return r ? r.base : null;
}

// ---------------------------------------------------------------------------------------------
// Replay records (layout v1, 24 bytes, little-endian)

export const OP = { MMIO_READ: 1, MMIO_WRITE: 2, IO_READ: 3, IO_WRITE: 4 } as const;

export interface Rec {
  op: number;
  size: number;
  address: bigint | number;
  value?: bigint | number;
  /** Sets flags bit 0: `value` holds the expected read value. */
  expect?: boolean;
  flags?: number;
}

export function records(list: Rec[]): Uint8Array {
  const bytes = new Uint8Array(list.length * 24);
  const view = new DataView(bytes.buffer);
  list.forEach((r, i) => {
    const o = i * 24;
    view.setUint8(o, r.op);
    view.setUint8(o + 1, r.size);
    view.setUint16(o + 2, r.flags ?? (r.expect ? 1 : 0), true);
    view.setUint32(o + 4, 0, true);
    view.setBigUint64(o + 8, BigInt.asUintN(64, BigInt(r.address)), true);
    view.setBigUint64(o + 16, BigInt.asUintN(64, BigInt(r.value ?? 0)), true);
  });
  return bytes;
}

/** Runs one record through the per-access API; returns the result as the batch reports it. */
export function perAccess(bus: DBus, r: Rec): bigint {
  const addr = BigInt(r.address);
  const a: number | bigint = addr <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(addr) : addr;
  const v = BigInt(r.value ?? 0);
  switch (r.op) {
    case OP.MMIO_READ: return BigInt(bus.mmioRead(a, r.size));
    case OP.MMIO_WRITE: bus.mmioWrite(a, r.size, r.size === 8 ? v : Number(v & 0xffffffffn)); return 0n;
    case OP.IO_READ: return BigInt(bus.ioRead(Number(addr), r.size));
    case OP.IO_WRITE: bus.ioWrite(Number(addr), r.size, Number(v & 0xffffffffn)); return 0n;
    default: throw new Error(`no per-access equivalent of op ${r.op}`);
  }
}

// ---------------------------------------------------------------------------------------------
// A recording TypeScript model

export interface Call { op: 'read' | 'write'; offset: number; size: number; value?: number | bigint }

/**
 * A byte-store device model: reads compose stored bytes (little-endian, `fill` where unwritten),
 * writes store them; every call is logged; `throwAt(offset)` makes accesses at that offset throw.
 */
export class RecordingModel implements ModelHandler {
  readonly calls: Call[] = [];
  private readonly bytes = new Map<number, number>();
  constructor(private readonly fill = 0, private readonly throwAt: (offset: number) => boolean = () => false) {}

  read(offset: number, size: number): number | bigint {
    this.calls.push({ op: 'read', offset, size });
    if (this.throwAt(offset)) throw new Error(`model read at ${offset}`);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes.get(offset + i) ?? ((this.fill + offset + i) & 0xff));
    return size === 8 ? v : Number(v);
  }

  write(offset: number, size: number, value: number | bigint): void {
    this.calls.push({ op: 'write', offset, size, value });
    if (this.throwAt(offset)) throw new Error(`model write at ${offset}`);
    let v = BigInt(value);
    for (let i = 0; i < size; i++) {
      this.bytes.set(offset + i, Number(v & 0xffn));
      v >>= 8n;
    }
  }
}

export const onesFor = (size: number): number | bigint =>
  size === 8 ? 0xffffffffffffffffn : size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;

/** Little-endian value of `size` bytes of `bytes` at `off`, 0xff past the end (as a bigint). */
export function leValue(bytes: ArrayLike<number>, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(off + i < bytes.length ? bytes[off + i] : 0xff);
  return v;
}

/** A value as the bus returns it for `size` (bigint for 8, else number). */
export function asReturned(v: bigint, size: number): number | bigint {
  return size === 8 ? v : Number(v);
}

export const showBig = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}n` : x));

// ---------------------------------------------------------------------------------------------
// The conformance topology. 00:05.0 is listed before 00:02.0 on purpose: region ids follow
// topology order, not BDF order.

export const EP = '00:01.0';
export const EARLY = '00:05.0';
export const LATE = '00:02.0';
export const BRIDGE = '00:03.0';
export const BIG = '00:06.0';

export const TOPOLOGY: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    {
      bdf: EP,
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0001, classCode: 0xff0000,
        bars: [
          { index: 0, kind: 'io', size: 0x100 },
          { index: 1, kind: 'mem32', size: 0x1000 },
          { index: 2, kind: 'mem64', size: 0x4000 },
          { index: 4, kind: 'mem32', size: 0x10000, prefetchable: true },
          { index: 5, kind: 'io', size: 0x20 },
        ],
        rom: { size: 0x10000 },
      },
    },
    {
      bdf: EARLY,
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0005, classCode: 0xff0000,
        bars: [{ index: 0, kind: 'mem32', size: 0x1000 }, { index: 1, kind: 'io', size: 0x100 }],
      },
    },
    {
      bdf: LATE,
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0002, classCode: 0xff0000,
        bars: [
          { index: 0, kind: 'mem32', size: 0x1000 },
          { index: 1, kind: 'io', size: 0x100 },
          { index: 2, kind: 'mem64', size: 0x100000, prefetchable: true },
        ],
        rom: { size: 0x800 },
      },
    },
    {
      bdf: BRIDGE,
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0003, classCode: 0x060400, headerType: 1,
        bars: [{ index: 0, kind: 'mem32', size: 0x1000 }, { index: 1, kind: 'io', size: 0x10 }],
        rom: { size: 0x8000 },
      },
    },
    {
      bdf: BIG,
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0006, classCode: 0xff0000,
        bars: [{ index: 0, kind: 'mem64', size: 2n ** 33n, prefetchable: true }],
      },
    },
  ],
};

/** Command register values. */
export const CMD_IO = 0x1;
export const CMD_MEM = 0x2;
