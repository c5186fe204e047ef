// `Region N:` and `Expansion ROM` lines: BAR decoding per PCI Local Bus 3.0 §6.2.5.
import type { ConfigReader } from './config-reader.js';
import { hex } from './hex.js';
import { Bridge, Cmd, HeaderType, Reg } from './registers.js';
import { sizeSuffix } from './text.js';

/** BAR sizes of one function by index (0-5 BARs, 6 = expansion ROM). */
export type SizeByIndex = ReadonlyMap<number, number | bigint>;

/** Index under which the expansion ROM size is stored. */
export const ROM_INDEX = 6;

const MEMORY_TYPES = ['32-bit', 'low-1M', '64-bit', 'type 3'];
const MEM_TYPE_64 = 2;

/** Number of BARs in each header layout. */
function barCount(type: number): number {
  if (type === HeaderType.normal) return 6;
  if (type === HeaderType.bridge) return 2;
  if (type === HeaderType.cardbus) return 1;
  return 0;
}

/**
 * All `Region N: ...` lines. A BAR reading 0 (or all ones, i.e. not implemented) is skipped
 * unless its size is known, because an unimplemented BAR reads 0. The upper half of a 64-bit
 * BAR is consumed with the lower half and gets no line of its own. A memory address of 0 shows
 * as `<unassigned>`; an I/O BAR at 0 does too unless I/O decode is on, in which case the
 * device really answers at port 0 and (like lspci) we say so.
 */
export function describeRegions(r: ConfigReader, type: number, sizes: SizeByIndex): string[] {
  const cmd = r.u16(Reg.command);
  const count = barCount(type);
  const lines: string[] = [];
  let next = 0;
  while (next < count) {
    const index = next;
    let raw = r.u32(Reg.bar0 + 4 * index);
    if (raw === 0xffffffff) raw = 0;
    const size = sizes.get(index);
    const isIo = (raw & 1) !== 0;
    const memType = (raw >> 1) & 3;
    const is64 = !isIo && memType === MEM_TYPE_64;
    const hasUpper = is64 && index + 1 < count;
    const upper = hasUpper ? r.u32(Reg.bar0 + 4 * (index + 1)) : 0;
    next = index + (hasUpper ? 2 : 1);
    if (raw === 0 && upper === 0 && (size === undefined || BigInt(size) === 0n)) continue;

    let text: string;
    if (isIo) {
      const addr = (raw & ~3) >>> 0;
      const enabled = (cmd & Cmd.io) !== 0;
      text = `I/O ports at ${addr !== 0 || enabled ? hex(addr, 4) : '<unassigned>'}`;
      if (!enabled) text += ' [disabled]';
    } else {
      const addr = (BigInt(upper) << 32n) | BigInt((raw & ~0xf) >>> 0);
      const prefetch = (raw & 8) !== 0 ? 'prefetchable' : 'non-prefetchable';
      text = `Memory at ${addr !== 0n ? hex(addr, 8) : '<unassigned>'} (${MEMORY_TYPES[memType]}, ${prefetch})`;
      if (is64 && !hasUpper) text += ' <upper half missing: 64-bit BAR in the last slot>';
      if ((cmd & Cmd.memory) === 0) text += ' [disabled]';
    }
    lines.push(`Region ${index}: ${text}${sizeSuffix(size)}`);
  }
  return lines;
}

/**
 * `Expansion ROM at feb00000 [disabled] [size=256K]`. The ROM decodes only when both its own
 * enable bit and the Memory Space command bit are set; lspci distinguishes the two causes.
 */
export function describeRom(r: ConfigReader, type: number, sizes: SizeByIndex): string | undefined {
  let at: number;
  if (type === HeaderType.normal) at = Reg.romType0;
  else if (type === HeaderType.bridge) at = Bridge.rom;
  else return undefined;
  let raw = r.u32(at);
  if (raw === 0xffffffff) raw = 0;
  const size = sizes.get(ROM_INDEX);
  if (raw === 0 && (size === undefined || BigInt(size) === 0n)) return undefined;
  const addr = (raw & ~0x7ff) >>> 0;
  let text = `Expansion ROM at ${addr !== 0 ? hex(addr, 8) : '<unassigned>'}`;
  if ((raw & 1) === 0) text += ' [disabled]';
  else if ((r.u16(Reg.command) & Cmd.memory) === 0) text += ' [disabled by cmd]';
  return text + sizeSuffix(size);
}
