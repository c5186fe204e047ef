// Shared helpers of the conformance and differential suites: building buses on both backends,
// reading and writing config fields of any width, snapshots, raw "device-side" changes of a
// function's config bytes (as hardware would set status bits), and address encoders.
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { ResolvedTopology, Topology, TopologyDevice } from '../../src/topology/index.js';
import type { FunctionDescriptor } from '../../src/config/index.js';

export const BACKENDS = ['wasm', 'ts'] as const;
export type Backend = (typeof BACKENDS)[number];

/** The default ECAM window: 0xB0000000, buses 0-255. */
export const ECAM_BASE = 0xb0000000;
export const MiB = 0x100000;

export const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

export function makeBus(backend: Backend, topology?: Topology | string | ResolvedTopology): Promise<Bus> {
  return createBus({ backend, topology });
}

/** A topology of the given devices on segment 0 with the default ECAM window. */
export function topo(...devices: TopologyDevice[]): Topology {
  return { devices };
}

export function descriptorDevice(bdf: string, descriptor: FunctionDescriptor): TopologyDevice {
  return { bdf, descriptor };
}

/** All ones of an access of `width` bytes (1..4). */
export function onesOf(width: number): number {
  return width >= 4 ? 0xffffffff : 2 ** (8 * width) - 1;
}

/** The spec's write rule on a value of any width: ((o & ~w) | (v & w)) & ~(v & c). */
export function merge(o: number, v: number, w: number, c: number): number {
  return (((o & ~w) | (v & w)) & ~(v & c)) >>> 0;
}

/** ECAM address of (bus, dev, fn, reg) in a window at `base` whose first bus is `busStart`. */
export function ecam(bus: number, dev: number, fn: number, reg: number, base = ECAM_BASE, busStart = 0): number {
  return base + (bus - busStart) * MiB + dev * 0x8000 + fn * 0x1000 + reg;
}

/** A CONFIG_ADDRESS (0xCF8) value. */
export function cf8(bus: number, dev: number, fn: number, reg: number, enable = true): number {
  return ((enable ? 0x80000000 : 0) | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
}

/** Reads `width` (1..4) bytes at `off`; width 3 (Class Code) is composed of byte reads. */
export function rd(bus: Bus, bdf: string, off: number, width: number): number {
  if (width === 1 || width === 2 || width === 4) return bus.configRead(bdf, off, width);
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + bus.configRead(bdf, off + i, 1);
  return v;
}

/** Writes `width` (1..4) bytes at `off`; width 3 is written as byte writes. */
export function wr(bus: Bus, bdf: string, off: number, width: number, value: number): void {
  if (width === 1 || width === 2 || width === 4) {
    bus.configWrite(bdf, off, width, value);
    return;
  }
  for (let i = 0; i < width; i++) bus.configWrite(bdf, off + i, 1, Math.floor(value / 256 ** i) & 0xff);
}

/** The function's config space as the guest reads it with dword reads (`size` bytes). */
export function snapshot(bus: Bus, bdf: string, size = 256): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let off = 0; off < size; off += 4) view.setUint32(off, bus.configRead(bdf, off, 4), true);
  return out;
}

/** Every reachable function's config space (dword reads), for "nothing else changed" checks. */
export function snapshotAll(bus: Bus): Uint8Array[] {
  return bus.functions().filter((f) => bus.addressOf(f.path) !== undefined).map((f) => snapshot(bus, f.path, f.planes.size));
}

/** Offsets where two byte arrays differ (ignoring the offsets in `except`). */
export function diffOffsets(a: Uint8Array, b: Uint8Array, except: (off: number) => boolean = () => false): string[] {
  const out: string[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (except(i)) continue;
    if (a[i] !== b[i]) out.push(`${hex(i)}: ${a[i] === undefined ? '-' : hex(a[i])} -> ${b[i] === undefined ? '-' : hex(b[i])}`);
  }
  return out;
}

/**
 * Bits a hot-plug slot's controller changes device-side in answer to a Slot Control command (PCIe
 * Base 6.0 §6.7.3): Slot Status (Command Completed, DLL State Changed), Link Status (DLL Link
 * Active when power is switched) and Status' Interrupt Status while the hot-plug interrupt is
 * asserted. All zero for a function without a hot-plug capable slot. From its config bytes.
 */
export function hotplugDrivenBits(config: Uint8Array): Uint8Array {
  const driven = new Uint8Array(256);
  let p = config[0x34] & 0xfc;
  for (let hops = 0; p >= 0x40 && hops < 48 && config[p] !== 0x10; hops++) p = config[p + 1] & 0xfc;
  if (p < 0x40 || config[p] !== 0x10 || (config[p + 3] & 0x01) === 0 || (config[p + 0x14] & 0x40) === 0) return driven;
  driven[0x06] = 0x08;
  driven.fill(0xff, p + 0x12, p + 0x14);
  driven.fill(0xff, p + 0x1a, p + 0x1c);
  return driven;
}

const BDF_RE = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

export function parseAddress(bdf: string): { seg: number; bus: number; dev: number; fn: number } {
  const m = BDF_RE.exec(bdf);
  if (!m) throw new Error(`bad bdf ${bdf}`);
  return { seg: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2], 16), dev: parseInt(m[3], 16), fn: parseInt(m[4], 10) };
}

/** The core slot of a function of the topology: the bus adds them in order to a fresh core. */
export function slotOf(bus: Bus, bdf: string): number {
  const a = parseAddress(bdf);
  const i = bus.functions().findIndex((f) => f.seg === a.seg && f.bus === a.bus && f.dev === a.dev && f.fn === a.fn);
  if (i < 0) throw new Error(`${bdf} is not in the topology`);
  return i;
}

/**
 * A device-side change of config bytes (hardware setting status bits, say): reloads the slot's
 * config plane with `bytes` at `off`, keeping its write masks. Not a guest access.
 */
export function poke(bus: Bus, bdf: string, off: number, bytes: number[] | Uint8Array): void {
  const slot = slotOf(bus, bdf);
  const planes = [0, 1, 2].map((p) => {
    const a = new Uint8Array(4096);
    for (let i = 0; i < 4096; i++) a[i] = bus.core.planeByte(slot, p, i);
    return a;
  });
  planes[0].set(bytes, off);
  bus.core.loadPlanes(slot, planes[0], planes[1], planes[2]);
}

/** Little-endian bytes of a value of `width` bytes. */
export function le(value: number, width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) out.push(Math.floor(value / 256 ** i) & 0xff);
  return out;
}

/** Walks the capability list through config reads, defensively (no loops, 0x40..0xfc). */
export function walkCaps(bus: Bus, bdf: string): { offset: number; id: number }[] {
  const out: { offset: number; id: number }[] = [];
  const seen = new Set<number>();
  let p = bus.configRead(bdf, 0x34, 1) & 0xfc;
  while (p >= 0x40 && p <= 0xfc && !seen.has(p)) {
    seen.add(p);
    out.push({ offset: p, id: bus.configRead(bdf, p, 1) });
    p = bus.configRead(bdf, p + 1, 1) & 0xfc;
  }
  return out;
}

/** Walks the extended capability list from 0x100 through config reads. */
export function walkExtCaps(bus: Bus, bdf: string): { offset: number; id: number; version: number; header: number }[] {
  const out: { offset: number; id: number; version: number; header: number }[] = [];
  const seen = new Set<number>();
  let p = 0x100;
  while (p >= 0x100 && p <= 0xffc && !seen.has(p)) {
    seen.add(p);
    const h = bus.configRead(bdf, p, 4);
    if (h === 0 || h === 0xffffffff) break;
    out.push({ offset: p, id: h & 0xffff, version: (h >>> 16) & 0xf, header: h });
    p = (h >>> 20) & 0xffc;
  }
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
