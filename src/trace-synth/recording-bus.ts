// A recording proxy in front of a Bus: everything a firmware or a guest driver calls goes through
// to the bus, and every MMIO or port-IO access is kept as a TraceAccess, reads with the value
// they returned as `expected`. Config cycles are not kept as config cycles (no trace format has
// them): they are performed, and recorded, as the accesses a real firmware makes —
//
//   segment 0, register < 0x100:  IO write 0xCF8 (4 bytes) = 0x80000000 | bus<<16 | dev<<11 | fn<<8 | reg&0xFC
//                                 IO read/write 0xCFC + (reg & 3), the access's size
//   otherwise (ECAM window):      MMIO at base + ((bus - busStart) << 20 | dev << 15 | fn << 12 | reg)
//
// so replaying the trace on a fresh bus makes the same config cycles (PCI 3.0 §3.2.2.3.2:
// Configuration Mechanism #1; PCIe Base 6.0 §7.2.2: ECAM address layout).
//
// Guest RAM: bytes the guest CPU writes are invisible to the bus, yet a device reads them (rings,
// descriptors) when it is notified. With `ram` given, the proxy compares the RAM with a shadow copy
// before each access and records what changed as `memwrite` events; what the devices wrote
// (DMA happens during accesses) is taken into the shadow after each access, so only the guest's
// own writes are recorded and a replay lets the devices write the rest again.
import type { Bus } from '../bus.js';
import { ArgumentError } from '../errors.js';
import type { MappedRegion } from '../dispatch/types.js';
import { parseBdf } from '../topology/index.js';
import type { FunctionAddress } from '../topology/index.js';
import type { AccessSize, TraceAccess, TraceEvent } from '../trace/index.js';

const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const ECAM_BUS_BYTES = 0x100000;

/** Guest RAM the proxy watches for guest writes: its bytes and guest-physical base. */
export interface WatchedRam {
  bytes: Uint8Array;
  base: number;
  /**
   * Optional shortcut: whether the guest may have written since the last call (and reset). When it
   * says false the comparison is skipped; without it every access compares the whole RAM.
   */
  takeDirty?: () => boolean;
}

export interface RecordingOptions {
  /** Guest RAM whose guest-side changes become `memwrite` events (see the file comment). */
  ram?: WatchedRam;
  /** Changed bytes this close together go into one memwrite (default 16). */
  mergeGap?: number;
}

function onesFor(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

function isSize(size: number, max: 4 | 8): size is AccessSize {
  return size === 1 || size === 2 || size === 4 || (size === 8 && max === 8);
}

/** An address as a u64, or undefined when it is not one (such accesses pass through unrecorded). */
function u64(addr: number | bigint): bigint | undefined {
  if (typeof addr === 'bigint') return addr >= 0n && addr < 1n << 64n ? addr : undefined;
  return Number.isSafeInteger(addr) && addr >= 0 ? BigInt(addr) : undefined;
}

/** A write's data as the bus takes it: numbers as the Bus converts them, then the low `size` bytes. */
function dataOf(value: number | bigint, size: number): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(size * 8, value);
  const lo = BigInt(value >>> 0);
  if (size !== 8) return BigInt.asUintN(size * 8, lo);
  return (BigInt(Math.floor(value / 4294967296) >>> 0) << 32n) | lo;
}

export class RecordingBus {
  /** What was recorded, oldest first. */
  readonly trace: TraceEvent[] = [];
  private readonly addresses = new Map<string, FunctionAddress>();
  private ram: WatchedRam | undefined;
  private shadow: Uint8Array | undefined;
  private readonly mergeGap: number;
  /** DMA transfers the bus had made when the shadow was last brought up to date. */
  private transfers = 0;

  constructor(readonly bus: Bus, options: RecordingOptions = {}) {
    this.mergeGap = options.mergeGap ?? 16;
    if (options.ram) this.watchRam(options.ram);
  }

  /**
   * Starts watching guest RAM from here on: what it holds now is taken as known (a replay starts
   * from the same contents: zeros, for RAM the guest has not touched yet).
   */
  watchRam(ram: WatchedRam): void {
    this.ram = ram;
    this.shadow = ram.bytes.slice();
    ram.takeDirty?.();
    this.transfers = this.bus.dma.stats().transfers;
  }

  /** Takes the recorded events, leaving the record empty. */
  take(): TraceEvent[] {
    return this.trace.splice(0, this.trace.length);
  }

  // ---- Pass-through: what firmware, drivers and tests use besides accesses ----

  get dma(): Bus['dma'] { return this.bus.dma; }
  get interrupts(): Bus['interrupts'] { return this.bus.interrupts; }
  get topology(): Bus['topology'] { return this.bus.topology; }
  get backend(): Bus['backend'] { return this.bus.backend; }
  device: Bus['device'] = (pathOrBdf) => this.bus.device(pathOrBdf);
  functions(): ReturnType<Bus['functions']> { return this.bus.functions(); }
  addressOf(pathOrBdf: string): string | undefined { return this.bus.addressOf(pathOrBdf); }
  regions(): MappedRegion[] { return this.bus.regions(); }
  effects(): ReturnType<Bus['effects']> { return this.bus.effects(); }
  events(): ReturnType<Bus['events']> { return this.bus.events(); }
  stats(): ReturnType<Bus['stats']> { return this.bus.stats(); }

  // ---- Config cycles, as CF8/CFC port IO or ECAM MMIO ----

  configRead(bdf: string, offset: number, size: number): number {
    if (!isSize(size, 4)) return 0xffffffff;
    const at = this.configTarget(bdf, offset);
    if (at === undefined) return onesFor(size);
    if (at.kind === 'io') {
      this.ioWrite(CONFIG_ADDRESS, 4, at.address);
      return this.ioRead(at.port, size);
    }
    return this.mmioRead(at.addr, size);
  }

  configWrite(bdf: string, offset: number, size: number, value: number): void {
    if (!isSize(size, 4)) return;
    const at = this.configTarget(bdf, offset);
    if (at === undefined) return;
    if (at.kind === 'io') {
      this.ioWrite(CONFIG_ADDRESS, 4, at.address);
      this.ioWrite(at.port, size, value);
    } else {
      this.mmioWrite(at.addr, size, value);
    }
  }

  /** Where a config access goes: the CF8 address word and data port, an ECAM address, or nowhere. */
  private configTarget(bdf: string, offset: number):
    { kind: 'io'; address: number; port: number } | { kind: 'mmio'; addr: bigint } | undefined {
    if (!Number.isInteger(offset) || offset < 0 || offset > 0xfff) return undefined;
    const a = this.resolve(bdf);
    if (a === undefined) return undefined;
    if (a.seg === 0 && offset < 0x100) {
      const address = (0x80000000 | (a.bus << 16) | (a.dev << 11) | (a.fn << 8) | (offset & 0xfc)) >>> 0;
      return { kind: 'io', address, port: CONFIG_DATA + (offset & 3) };
    }
    const ecam = this.bus.topology.segments.find((s) => s.segment === a.seg)?.ecam;
    if (!ecam || a.bus < ecam.busStart || a.bus > ecam.busEnd) return undefined;
    const within = (a.bus - ecam.busStart) * ECAM_BUS_BYTES + ((a.dev << 15) | (a.fn << 12) | offset);
    return { kind: 'mmio', addr: BigInt(ecam.base) + BigInt(within) };
  }

  private resolve(bdf: string): FunctionAddress | undefined {
    let a = this.addresses.get(bdf);
    if (a !== undefined) return a;
    if (bdf.includes('/')) {
      // A device path: wherever the function answers now (not cached: bridges may renumber).
      const now = this.bus.addressOf(bdf);
      return now === undefined ? undefined : parseBdf(now);
    }
    a = parseBdf(bdf);
    this.addresses.set(bdf, a);
    return a;
  }

  // ---- MMIO and port IO ----

  mmioRead(addr: number | bigint, size: 8): bigint;
  mmioRead(addr: number | bigint, size: number): number;
  mmioRead(addr: number | bigint, size: number): number | bigint {
    const a = u64(addr);
    if (a === undefined || !isSize(size, 8)) return this.bus.mmioRead(addr, size);
    this.beforeAccess();
    const v = this.bus.mmioRead(a, size);
    this.record({ op: 'read', space: 'mmio', addr: a, size, expected: BigInt.asUintN(size * 8, BigInt(v)) });
    return v;
  }

  mmioWrite(addr: number | bigint, size: number, value: number | bigint): void {
    const a = u64(addr);
    if (a === undefined || !isSize(size, 8)) {
      this.bus.mmioWrite(addr, size, value);
      return;
    }
    const data = dataOf(value, size);
    this.beforeAccess();
    this.bus.mmioWrite(a, size, data);
    this.record({ op: 'write', space: 'mmio', addr: a, size, value: data });
  }

  ioRead(port: number, size: number): number {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff || !isSize(size, 4)) return this.bus.ioRead(port, size);
    this.beforeAccess();
    const v = this.bus.ioRead(port, size);
    this.record({ op: 'read', space: 'io', addr: BigInt(port), size, expected: BigInt.asUintN(size * 8, BigInt(v)) });
    return v;
  }

  ioWrite(port: number, size: number, value: number): void {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff || !isSize(size, 4)) {
      this.bus.ioWrite(port, size, value);
      return;
    }
    const data = dataOf(value, size);
    this.beforeAccess();
    this.bus.ioWrite(port, size, Number(data));
    this.record({ op: 'write', space: 'io', addr: BigInt(port), size, value: data });
  }

  private record(a: TraceAccess): void {
    this.trace.push(a);
    if (!this.ram) return;
    // Whatever devices wrote into guest RAM during the access (DMA) is theirs: not a guest write.
    const transfers = this.bus.dma.stats().transfers;
    if (transfers !== this.transfers) {
      this.transfers = transfers;
      this.shadow!.set(this.ram.bytes);
    }
  }

  /** Guest writes to RAM since the last access, as memwrite events of the changed runs. */
  private beforeAccess(): void {
    const ram = this.ram;
    if (!ram || ram.takeDirty?.() === false) return;
    const now = ram.bytes;
    const was = this.shadow!;
    if (now.length !== was.length) throw new ArgumentError('ram: the watched RAM changed size');
    const words = now.byteOffset % 4 === 0 && now.length % 4 === 0 ? new Uint32Array(now.buffer, now.byteOffset, now.length / 4) : undefined;
    const old = new Uint32Array(was.buffer, 0, was.length >>> 2);
    let start = -1;
    let end = -1;
    const flush = () => {
      if (start < 0) return;
      this.trace.push({ op: 'memwrite', addr: BigInt(ram.base + start), data: now.slice(start, end) });
      start = -1;
    };
    const step = words ? 4 : 1;
    for (let i = 0; i < now.length; i += step) {
      if (words ? words[i >>> 2] === old[i >>> 2] : now[i] === was[i]) continue;
      for (let j = i; j < i + step; j++) {
        if (now[j] === was[j]) continue;
        if (start >= 0 && j - end > this.mergeGap) flush();
        if (start < 0) start = j;
        end = j + 1;
      }
    }
    flush();
    was.set(now);
  }
}

/** A recording proxy in front of `bus` (see RecordingBus). */
export function recordingBus(bus: Bus, options: RecordingOptions = {}): RecordingBus {
  return new RecordingBus(bus, options);
}
