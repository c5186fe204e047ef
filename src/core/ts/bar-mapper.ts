// TypeScript twin of assembly/dispatch/bar-mapper.ts: BAR regions that follow Command, BAR and ROM
// writes. Addresses are numbers: every mapped range lies below 2^52, so they are exact; a 64-bit
// BAR whose upper dword puts it at or above 2^52 is invalid before any sum is formed.
import { Limits, Status } from '../backend.js';
import type { ConfigStore } from './config-store.js';
import { D0 } from './power.js';
import type { Effects } from './effects.js';
import { MMIO_LIMIT, SPACE_IO, SPACE_MMIO } from './region-table.js';
import type { RegionTable } from './region-table.js';
import { Kind, PRIORITY_BAR, PRIORITY_BAR_HANDLER } from './regions.js';
import type { Regions } from './regions.js';
import { HOOK_BRIDGE } from './bridges.js';
import type { Bridges } from './bridges.js';

export const BarKind = { NONE: 0, IO: 1, MEM32: 2, MEM64: 3, ROM: 4, UPPER: 5 } as const;
export const HOOK_BARS = 1;
const ENTRIES = 7;
const ROM_INDEX = 6;
const TWO32 = 4294967296;

interface BarEntry {
  kind: number;
  mapped: boolean;
  pending: number;
  region: number;
  size: number;
  base: number;
  firstHandler: number;
}

const emptyEntry = (): BarEntry => ({ kind: 0, mapped: false, pending: 0, region: 0, size: 0, base: 0, firstHandler: 0 });

export class BarMapper {
  private readonly tables: (BarEntry[] | undefined)[] = new Array(Limits.functions);
  private tValid = false;
  private tBase = 0;

  constructor(
    private readonly store: ConfigStore,
    private readonly table: RegionTable,
    private readonly regions: Regions,
    private readonly effects: Effects,
    private readonly bridges: Bridges,
  ) {}

  private cfg32(slot: number, reg: number): number {
    return this.store.view(slot).getUint32(reg, true);
  }

  private wmask32(slot: number, reg: number): number {
    return this.store.view(slot).getUint32(4096 + reg, true);
  }

  private romOffset(slot: number): number {
    return (this.store.block(slot)[0x0e] & 0x7f) === 1 ? 0x38 : 0x30;
  }

  private barCount(slot: number): number {
    return (this.store.block(slot)[0x0e] & 0x7f) === 1 ? 2 : 6;
  }

  attached(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < Limits.functions && this.store.sizeOf(slot) !== 0 &&
      this.tables[slot] !== undefined;
  }

  attach(slot: number): number {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < Limits.functions) || this.store.sizeOf(slot) === 0) return Status.NOT_FOUND;
    if (this.tables[slot] !== undefined) return Status.EXISTS;
    const t: BarEntry[] = Array.from({ length: ENTRIES }, emptyEntry);
    const count = this.barCount(slot);
    for (let i = 0; i < count; i++) {
      const reg = 0x10 + i * 4;
      const value = this.cfg32(slot, reg);
      const wm = this.wmask32(slot, reg);
      if (value & 1) {
        if (wm === 0) continue;
        t[i].kind = BarKind.IO;
        t[i].size = ((~wm | 3) + 1) >>> 0;
      } else if (((value >>> 1) & 3) === 2 && i + 1 < count) {
        // A 64-bit BAR of 4 GiB or more has no writable bit in its lower dword; one larger than
        // 2^63 cannot be: both registers are unimplemented.
        const wmHigh = this.wmask32(slot, reg + 4);
        if ((wm === 0 && wmHigh === 0) || (wmHigh & 0x80000000) === 0) { i++; continue; }
        t[i].kind = BarKind.MEM64;
        t[i].size = ((~wmHigh) >>> 0) * TWO32 + ((~wm | 0xf) >>> 0) + 1;
        t[i + 1].kind = BarKind.UPPER;
        i++;
      } else {
        if (wm === 0) continue;
        t[i].kind = BarKind.MEM32;
        t[i].size = ((~wm | 0xf) >>> 0) + 1;
      }
    }
    const romWm = (this.wmask32(slot, this.romOffset(slot)) & 0xfffff800) >>> 0;
    if (romWm !== 0) {
      t[ROM_INDEX].kind = BarKind.ROM;
      t[ROM_INDEX].size = ((~romWm) >>> 0) + 1;
    }
    this.tables[slot] = t;
    for (let i = 0; i < ENTRIES; i++) {
      const e = t[i];
      if (e.kind === BarKind.NONE || e.kind === BarKind.UPPER) continue;
      const id = this.regions.alloc(Kind.BAR, 0, slot, i, 0);
      if (id === 0) {
        this.detach(slot);
        return Status.FULL;
      }
      e.region = id;
      this.regions.length[id] = e.size;
    }
    const hooks = this.store.hooks[slot]!;
    hooks[1] = HOOK_BARS;
    for (let i = 0; i < count; i++) hooks[4 + i] = HOOK_BARS;
    hooks[this.romOffset(slot) >> 2] = HOOK_BARS;
    // A bridge's Command, bus numbers and windows decide what reaches the functions below it.
    if (this.store.isBridge(slot)) {
      hooks[1] = HOOK_BRIDGE;
      for (let d = 6; d <= 12; d++) hooks[d] = HOOK_BRIDGE;
    }
    this.refreshAll(slot);
    return Status.OK;
  }

  detach(slot: number): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < Limits.functions)) return;
    const t = this.tables[slot];
    if (t === undefined) return;
    for (const e of t) {
      let id = e.firstHandler;
      while (id !== 0) {
        const next = this.regions.next[id];
        this.regions.free(id);
        id = next;
      }
      if (e.region !== 0) this.regions.free(e.region);
    }
    this.tables[slot] = undefined;
    this.store.hooks[slot]?.fill(0);
    if (this.store.sizeOf(slot) !== 0) this.store.markStoreHooks(slot);
  }

  handler(slot: number, bar: number, offset: number, length: number, kind: number, datum: number): number {
    if (!this.attached(slot) || bar >= ENTRIES) return Status.NOT_FOUND;
    const e = this.tables[slot]![bar];
    if (e.kind === BarKind.NONE || e.kind === BarKind.UPPER) return Status.NOT_FOUND;
    // Exact arithmetic: BAR sizes reach 2^63, where number subtraction would round.
    if (length === 0 || offset >= e.size || BigInt(length) > BigInt(e.size) - BigInt(offset)) return Status.RANGE;
    const id = this.regions.alloc(kind, datum, slot, bar, offset);
    if (id === 0) return Status.FULL;
    this.regions.length[id] = length;
    if (e.firstHandler === 0) {
      e.firstHandler = id;
    } else {
      let last = e.firstHandler;
      while (this.regions.next[last] !== 0) last = this.regions.next[last];
      this.regions.next[last] = id;
    }
    if (e.mapped) {
      this.table.regionMap(id, e.kind === BarKind.IO ? SPACE_IO : SPACE_MMIO, e.base + offset, length, PRIORITY_BAR_HANDLER);
    }
    return id;
  }

  /**
   * Undoes handler(): unlinks region `id` from its BAR's handler chain and frees it. Used when a
   * mechanism registering several handlers (MSI-X table + PBA) fails half-way.
   */
  removeHandler(slot: number, bar: number, id: number): void {
    if (!this.attached(slot) || bar >= ENTRIES || id === 0) return;
    const e = this.tables[slot]![bar];
    if (e.firstHandler === id) {
      e.firstHandler = this.regions.next[id];
    } else {
      let prev = e.firstHandler;
      while (prev !== 0 && this.regions.next[prev] !== id) prev = this.regions.next[prev];
      if (prev === 0) return;
      this.regions.next[prev] = this.regions.next[id];
    }
    this.regions.next[id] = 0;
    this.regions.free(id);
  }

  /** computeTarget in the Wasm core; a function not in D0 decodes nothing (PCI Bus PM 1.2 §5.3). */
  private computeTarget(slot: number, bar: number, kind: number, size: number): void {
    const command = this.store.view(slot).getUint16(4, true);
    this.tValid = false;
    this.tBase = 0;
    if (this.store.powerState(slot) !== D0) return;
    if (kind === BarKind.IO) {
      if ((command & 1) === 0) return;
      this.tBase = (this.cfg32(slot, 0x10 + bar * 4) & 0xfffffffc) >>> 0;
      this.tValid = this.tBase !== 0 && this.tBase + size <= 0x10000;
    } else if (kind === BarKind.MEM32) {
      if ((command & 2) === 0) return;
      this.tBase = (this.cfg32(slot, 0x10 + bar * 4) & 0xfffffff0) >>> 0;
      this.tValid = this.tBase !== 0 && this.tBase + size < TWO32;
    } else if (kind === BarKind.MEM64) {
      if ((command & 2) === 0) return;
      const reg = 0x10 + bar * 4;
      const high = this.cfg32(slot, reg + 4);
      if (high >= MMIO_LIMIT / TWO32) return;
      this.tBase = high * TWO32 + ((this.cfg32(slot, reg) & 0xfffffff0) >>> 0);
      this.tValid = this.tBase !== 0 && size <= MMIO_LIMIT - this.tBase;
    } else if (kind === BarKind.ROM) {
      const rom = this.cfg32(slot, this.romOffset(slot));
      if ((command & 2) === 0 || (rom & 1) === 0) return;
      this.tBase = (rom & 0xfffff800) >>> 0;
      this.tValid = this.tBase !== 0 && this.tBase + size < TWO32;
    }
    if (this.tValid && !this.bridges.forwards(slot, kind === BarKind.IO, this.tBase, size)) this.tValid = false;
  }

  /** Maps the BAR's whole region and its handler regions at `base`, or unmaps them; records it. */
  private place(e: BarEntry, mapped: boolean, base: number): void {
    const space = e.kind === BarKind.IO ? SPACE_IO : SPACE_MMIO;
    let id = e.firstHandler;
    if (mapped) {
      this.table.regionMap(e.region, space, base, e.size, PRIORITY_BAR);
      while (id !== 0) {
        this.table.regionMap(id, space, base + this.regions.subOffset[id], this.regions.length[id], PRIORITY_BAR_HANDLER);
        id = this.regions.next[id];
      }
    } else {
      this.table.regionUnmap(e.region);
      while (id !== 0) {
        this.table.regionUnmap(id);
        id = this.regions.next[id];
      }
    }
    e.mapped = mapped;
    e.base = mapped ? base : 0;
  }

  private apply(slot: number, bar: number, e: BarEntry, valid: boolean, base: number): void {
    const mapped = e.mapped;
    const old = e.base;
    if (mapped === valid && (!valid || old === base)) return;
    this.place(e, valid, base);
    this.effects.barMoved(slot, bar, e.kind, mapped, old, valid, base, e.size);
  }

  private refreshAll(slot: number): void {
    const t = this.tables[slot]!;
    for (let i = 0; i < ENTRIES; i++) {
      const e = t[i];
      if (e.kind === BarKind.NONE || e.kind === BarKind.UPPER) continue;
      e.pending = 0;
      this.computeTarget(slot, i, e.kind, e.size);
      this.apply(slot, i, e, this.tValid, this.tBase);
    }
  }

  /** The function's power state changed (power.ts): every BAR and the ROM follow, as after Command. */
  refresh(slot: number): void {
    if (this.attached(slot)) this.refreshAll(slot);
  }

  /** A bridge's Command or windows changed: every function below it re-applies its BARs. */
  refreshBelow(bridge: number): void {
    for (let s = 0; s < this.store.slotLimit; s++) {
      if (this.tables[s] === undefined || this.store.sizeOf(s) === 0 || !this.store.isBelow(s, bridge)) continue;
      this.refreshAll(s);
    }
  }

  /** See barOnWrite in the Wasm core: the upper dword of a 64-bit BAR moves it; the lower is staged. */
  onWrite(slot: number, reg: number): void {
    const dword = reg >>> 2;
    if (dword === 1) {
      // Command is bytes 4-5; a write to Status alone (6-7) changes no decode bit.
      if (reg < 6) this.refreshAll(slot);
      return;
    }
    const t = this.tables[slot]!;
    if (dword === this.romOffset(slot) >> 2) {
      const e = t[ROM_INDEX];
      if (e.kind !== BarKind.ROM) return;
      this.computeTarget(slot, ROM_INDEX, BarKind.ROM, e.size);
      this.apply(slot, ROM_INDEX, e, this.tValid, this.tBase);
      return;
    }
    if (dword < 4 || dword >= 4 + this.barCount(slot)) return;
    let bar = dword - 4;
    let e = t[bar];
    let kind = e.kind;
    if (kind === BarKind.MEM64) {
      e.pending = 1;
      return;
    }
    if (kind === BarKind.UPPER) {
      bar--;
      e = t[bar];
      kind = BarKind.MEM64;
      e.pending = 0;
    }
    if (kind === BarKind.NONE) return;
    this.computeTarget(slot, bar, kind, e.size);
    this.apply(slot, bar, e, this.tValid, this.tBase);
  }

  /**
   * State load: puts an attached function's BAR where a saved core had it (mapped at `base`, or
   * not), with its staged flag, moving its regions and reporting no effect (barRestore in Wasm).
   */
  restore(slot: number, bar: number, mapped: boolean, base: number, staged: boolean): void {
    const e = this.tables[slot]![bar];
    this.place(e, mapped, base);
    e.pending = staged ? 1 : 0;
  }

  entry(slot: number, bar: number): BarEntry | undefined {
    return this.attached(slot) && bar < ENTRIES ? this.tables[slot]![bar] : undefined;
  }
}
