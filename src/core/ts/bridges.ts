// TypeScript twin of assembly/dispatch/bridges.ts: what the bridges above a function forward
// downstream (their IO, memory and prefetchable windows, gated by their Command register).
import type { ConfigStore } from './config-store.js';
import { D3HOT } from './power.js';

export const HOOK_BRIDGE = 2;
const TWO32 = 4294967296;
const IO_BASE = 0x1c;
const IO_LIMIT = 0x1d;
const MEMORY_BASE = 0x20;
const MEMORY_LIMIT = 0x22;
const PREF_BASE = 0x24;
const PREF_LIMIT = 0x26;
const PREF_BASE_UPPER = 0x28;
const PREF_LIMIT_UPPER = 0x2c;
const IO_BASE_UPPER = 0x30;
const IO_LIMIT_UPPER = 0x32;

/** Whether [base, base+size) lies wholly inside [lo, hi] (hi inclusive); no window when lo > hi. */
function inside(base: number, size: number, lo: number, hi: number): boolean {
  return lo <= hi && base >= lo && base + size - 1 <= hi;
}

export class Bridges {
  constructor(private readonly store: ConfigStore) {}

  /**
   * Whether every bridge above `slot` forwards the whole range downstream: the bridge is not in
   * D3hot, has the decode bit on (Command IO or Memory, PCI-to-PCI Bridge 1.2 §3.2.2) and the
   * range lies inside its IO window (IO) or inside its memory or its prefetchable window (memory,
   * §3.2.5.6-9).
   */
  forwards(slot: number, io: boolean, base: number, size: number): boolean {
    let p = this.store.parentOf(slot);
    while (p >= 0) {
      if (!this.store.isBridge(p) || !this.windowCovers(p, io, base, size)) return false;
      p = this.store.parentOf(p);
    }
    return true;
  }

  private windowCovers(p: number, io: boolean, base: number, size: number): boolean {
    // A bridge in D3hot forwards config cycles only (PCI-to-PCI Bridge 1.2; PCI Bus PM 1.2 §5.3).
    if (this.store.powerState(p) === D3HOT) return false;
    const view = this.store.view(p);
    const block = this.store.block(p);
    const command = block[4];
    if (io) {
      if ((command & 1) === 0) return false;
      const io32 = (block[IO_BASE] & 0xf) === 1;
      const lo = ((block[IO_BASE] & 0xf0) << 8) + (io32 ? view.getUint16(IO_BASE_UPPER, true) * 65536 : 0);
      const hi = ((block[IO_LIMIT] & 0xf0) << 8) + 0xfff + (io32 ? view.getUint16(IO_LIMIT_UPPER, true) * 65536 : 0);
      return inside(base, size, lo, hi);
    }
    if ((command & 2) === 0) return false;
    const memLo = (view.getUint16(MEMORY_BASE, true) & 0xfff0) * 65536;
    const memHi = (view.getUint16(MEMORY_LIMIT, true) & 0xfff0) * 65536 + 0xfffff;
    if (inside(base, size, memLo, memHi)) return true;
    const pref64 = (block[PREF_BASE] & 0xf) === 1;
    const prefLo = (view.getUint16(PREF_BASE, true) & 0xfff0) * 65536 + (pref64 ? view.getUint32(PREF_BASE_UPPER, true) * TWO32 : 0);
    const prefHi = (view.getUint16(PREF_LIMIT, true) & 0xfff0) * 65536 + 0xfffff + (pref64 ? view.getUint32(PREF_LIMIT_UPPER, true) * TWO32 : 0);
    return inside(base, size, prefLo, prefHi);
  }
}
