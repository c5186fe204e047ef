// What v86 serves itself, and so what vpci must never be given: guest RAM, every 128 KiB MMIO
// block a v86 device registered (its framebuffer, the BIOS aliases, a VGA ROM alias), and the
// APIC pages its CPU answers before the block table is consulted. A topology whose ECAM window
// falls on one of them is refused; BARs the guest programs there are left to v86 (vpci's device
// sees nothing, as with a decode conflict on a real board) and reported as conflicts.
import { TopologyError } from '../../index.js';
import type { ResolvedTopology } from '../../index.js';
import type { V86Cpu } from './v86-internals.js';

/** v86's MMIO granularity: one handler set per 128 KiB block. */
export const BLOCK_SHIFT = 17;
export const BLOCK_SIZE = 1 << BLOCK_SHIFT;
/** Blocks in the 32-bit physical address space (v86 has no PAE). */
export const BLOCKS = 2 ** 32 / BLOCK_SIZE;

/** A range of guest-physical addresses v86 serves itself. */
export interface V86Range {
  base: number;
  /** Bytes. */
  size: number;
  /** What v86 has there. */
  what: string;
}

/** The I/O APIC and local APIC pages: v86's CPU answers them ahead of the MMIO block table. */
const APIC_PAGES: readonly V86Range[] = [
  { base: 0xfec00000, size: 0x1000, what: 'the I/O APIC page' },
  { base: 0xfee00000, size: 0x1000, what: 'the local APIC page' },
];

/**
 * The handler v86 put on every block above RAM at start ("unmapped": reads all ones): the most
 * common read8 handler there. Blocks with another handler belong to a v86 device.
 */
export function unmappedHandler(cpu: V86Cpu): (addr: number) => number {
  const counts = new Map<(addr: number) => number, number>();
  for (let b = cpu.memory_size[0] >>> BLOCK_SHIFT; b < BLOCKS; b++) {
    const h = cpu.memory_map_read8[b];
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  let best: ((addr: number) => number) | undefined;
  let most = 0;
  for (const [h, n] of counts) if (n > most) [best, most] = [h, n];
  if (best === undefined) throw new Error('attachToV86: v86 has no MMIO blocks above guest RAM (memory_size fills 4 GiB?)');
  return best;
}

/** Everything v86 serves itself now, in address order (APIC pages widened to their blocks). */
export function v86OwnRanges(cpu: V86Cpu, unmapped: (addr: number) => number): V86Range[] {
  const out: V86Range[] = [{ base: 0, size: cpu.memory_size[0], what: 'guest RAM' }];
  let start = -1;
  const first = cpu.memory_size[0] >>> BLOCK_SHIFT;
  for (let b = first; b <= BLOCKS; b++) {
    const own = b < BLOCKS && cpu.memory_map_read8[b] !== unmapped;
    if (own && start < 0) start = b;
    if (!own && start >= 0) {
      out.push({ base: start * BLOCK_SIZE, size: (b - start) * BLOCK_SIZE, what: 'memory a v86 device serves (framebuffer, ROM or BIOS alias)' });
      start = -1;
    }
  }
  for (const p of APIC_PAGES) {
    const base = Math.floor(p.base / BLOCK_SIZE) * BLOCK_SIZE;
    if (!out.some((r) => r.base <= base && base < r.base + r.size)) out.push({ base, size: BLOCK_SIZE, what: p.what });
  }
  return out.sort((a, b) => a.base - b.base);
}

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * Refuses a topology whose ECAM window v86 could not hand to vpci: above 4 GiB (v86 is a 32-bit
 * machine without PAE) or over a range v86 serves itself. The error names both ranges.
 */
export function checkTopologyForV86(topology: ResolvedTopology, own: readonly V86Range[]): void {
  for (const s of topology.segments) {
    if (!s.ecam) continue;
    const base = s.ecam.base;
    const end = base + (s.ecam.busEnd - s.ecam.busStart + 1) * 2 ** 20;
    const where = `segments(${s.segment}).ecam`;
    const window = `the ECAM window ${hex(base)}-${hex(end - 1)}`;
    if (end > 2 ** 32) throw new TopologyError(topology.source, where, `${window} reaches above 4 GiB, which v86 (a 32-bit machine) cannot address`);
    const clash = own.find((r) => base < r.base + r.size && r.base < end);
    if (clash) {
      throw new TopologyError(topology.source, where,
        `${window} collides with ${hex(clash.base)}-${hex(clash.base + clash.size - 1)}, ${clash.what}, which v86 serves itself; move the window (or give the segment "ecam": false: v86 guests use 0xCF8/0xCFC)`);
    }
  }
}
