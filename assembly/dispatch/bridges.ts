// What the bridges above a function forward downstream: their IO, memory and prefetchable
// windows, gated by their Command register (PCI-to-PCI Bridge Architecture 1.2 §3.2.2, §3.2.5).
// The store routes config cycles by the bridges' bus numbers (config/store.ts route()); this file
// follows the guest's writes to a bridge's registers and answers "does this BAR decode".
import { blockOf, isBridge, slotParent, segmentOf, route, powerState, D3HOT } from "../config/store";
import { HOOK_BRIDGE } from "../config/layout";
import { barOnWrite, barRefreshBelow } from "./bar-mapper";

// Hook code HOOK_BRIDGE (config/layout.ts) marks a bridge's Command, bus numbers and windows.
export { HOOK_BRIDGE };

const IO_BASE: usize = 0x1c;
const IO_LIMIT: usize = 0x1d;
const MEMORY_BASE: usize = 0x20;
const MEMORY_LIMIT: usize = 0x22;
const PREF_BASE: usize = 0x24;
const PREF_LIMIT: usize = 0x26;
const PREF_BASE_UPPER: usize = 0x28;
const PREF_LIMIT_UPPER: usize = 0x2c;
const IO_BASE_UPPER: usize = 0x30;
const IO_LIMIT_UPPER: usize = 0x32;

/** Whether [base, base+size) lies wholly inside [lo, hi] (hi inclusive); no window when lo > hi. */
// @ts-ignore: decorator
@inline function inside(base: u64, size: u64, lo: u64, hi: u64): bool {
  return lo <= hi && base >= lo && base + size - 1 <= hi;
}

function windowCovers(p: i32, io: bool, base: u64, size: u64): bool {
  // A bridge in D3hot forwards config cycles only (PCI-to-PCI Bridge 1.2; PCI Bus PM 1.2 §5.3).
  if (powerState(p) == D3HOT) return false;
  const b = blockOf(p);
  const command = load<u8>(b + 4);
  if (io) {
    if ((command & 1) == 0) return false;
    const io32 = (load<u8>(b + IO_BASE) & 0xf) == 1;
    const lo = (<u64>(load<u8>(b + IO_BASE) & 0xf0) << 8) | (io32 ? <u64>load<u16>(b + IO_BASE_UPPER) << 16 : 0);
    const hi = (<u64>(load<u8>(b + IO_LIMIT) & 0xf0) << 8) | 0xfff | (io32 ? <u64>load<u16>(b + IO_LIMIT_UPPER) << 16 : 0);
    return inside(base, size, lo, hi);
  }
  if ((command & 2) == 0) return false;
  const memLo = <u64>(load<u16>(b + MEMORY_BASE) & 0xfff0) << 16;
  const memHi = (<u64>(load<u16>(b + MEMORY_LIMIT) & 0xfff0) << 16) | 0xfffff;
  if (inside(base, size, memLo, memHi)) return true;
  const pref64 = (load<u8>(b + PREF_BASE) & 0xf) == 1;
  const prefLo = (<u64>(load<u16>(b + PREF_BASE) & 0xfff0) << 16) | (pref64 ? <u64>load<u32>(b + PREF_BASE_UPPER) << 32 : 0);
  const prefHi = (<u64>(load<u16>(b + PREF_LIMIT) & 0xfff0) << 16) | 0xfffff | (pref64 ? <u64>load<u32>(b + PREF_LIMIT_UPPER) << 32 : 0);
  return inside(base, size, prefLo, prefHi);
}

/**
 * Whether every bridge above `slot` forwards the whole range downstream: not in D3hot, decode bit
 * on and the range inside its IO window (IO) or inside its memory or prefetchable window (memory).
 * A BAR only partly inside a window does not decode at all (docs/limits.md).
 */
export function bridgesForward(slot: i32, io: bool, base: u64, size: u64): bool {
  let p = slotParent(slot);
  while (p >= 0) {
    if (!isBridge(p) || !windowCovers(p, io, base, size)) return false;
    p = slotParent(p);
  }
  return true;
}

/**
 * A bridge register was written. Command: the bridge's own BARs follow, then everything below
 * it. Bus numbers: config routing of the segment is rebuilt. Windows: everything below follows.
 */
export function bridgeOnWrite(slot: i32, reg: u32): void {
  const dword = reg >> 2;
  if (dword == 1) {
    barOnWrite(slot, reg);
    if (reg < 6) barRefreshBelow(slot);
  } else if (dword == 6) {
    route(segmentOf(slot));
  } else {
    barRefreshBelow(slot);
  }
}
