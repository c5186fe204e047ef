// TypeScript twin of assembly/dispatch/region-table.ts: the same levels, entry encoding, block
// classes, free lists and rebuild, with the same results (and the same memory counters) for every
// input. Keep the two files in step; the design is in assembly/dispatch/REGION-TABLE.md.
//
// Where the Wasm core has linear memory, this one has `mem`, a growable Uint32Array of table
// blocks: a pointer entry is a word index into it (always a multiple of 16, so even and nonzero,
// like a 16-byte aligned address). Arguments are coerced as the Wasm boundary coerces them:
// `>>> 0` for u32. Addresses and sizes (u64 in Wasm) are numbers; one that is not an integer in
// [0, 2^64) is treated like a u64 out of range (never mapped, rejected by regionMap), which is
// also what the Wasm core answers for every u64 at or above 2^52.
import { Status } from '../backend.js';

export const SPACE_MMIO = 0;
export const SPACE_IO = 1;
export const MAX_REGION_ID = 4095;
export const MAX_PRIORITY = 255;
export const MMIO_LIMIT = 2 ** 52;
export const IO_LIMIT = 0x10000;

const ID_SLOTS = 4096;
const TWO_M32 = 2 ** -32;
const TWO_32 = 4294967296;

/** Terminal entry "nothing mapped here". */
export const ENTRY_EMPTY = 1;
export function leafEntry(id: number): number {
  return ((id << 1) | 1) >>> 0;
}
export function isTerminal(entry: number): boolean {
  return (entry & 1) !== 0;
}
export function entryId(entry: number): number {
  return entry >>> 1;
}

export const LEVELS = 6;
const LAST_LEVEL = LEVELS - 1;
const ROOT_ENTRIES = 8192;
/** Bytes of address one entry of each level covers: 2^39, 2^30, 2^21, 2^12, 16, 1. */
const CHUNK = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12, 16, 1];
const MASK = [8191, 511, 511, 511, 255, 15];

export const BLOCK_CLASSES = 3;
const CLASS_ENTRIES = [512, 256, 16];
function classOf(level: number): number {
  return level <= 3 ? 0 : level - 3;
}

const INFO_MAPPED = 0x10000;
const LISTS = LEVELS + 1;
const IO_SWEEP_BYTES = (IO_LIMIT + 1) * 4;
const MARK_BYTES = ROOT_ENTRIES + 3 * 512 + 256 + 16;
/** Same figure as the Wasm core: region arrays, order lists, candidate lists, root, marks, IO table. */
export const FIXED_BYTES = ID_SLOTS * 8 * 2 + ID_SLOTS * 4 * 2 + LISTS * ID_SLOTS * 2 + ROOT_ENTRIES * 4 + MARK_BYTES + IO_LIMIT * 2;

/** An integer in [0, 2^64): the numbers a u64 parameter can carry; anything else is out of range. */
function isU64(v: number): boolean {
  return v >= 0 && v < 18446744073709551616 && Math.floor(v) === v;
}

export class RegionTable {
  /** Table blocks; word 0..15 unused so that no pointer is 0. */
  private mem = new Uint32Array(4096);
  private top = 16;
  private readonly freeHead = [0, 0, 0];
  private readonly obtained = [0, 0, 0];
  private readonly liveBlocks = [0, 0, 0];

  private readonly rBase = new Float64Array(ID_SLOTS);
  private readonly rEnd = new Float64Array(ID_SLOTS);
  private readonly rInfo = new Uint32Array(ID_SLOTS);
  private readonly orderIds = [new Uint16Array(ID_SLOTS), new Uint16Array(ID_SLOTS)];
  private readonly orderLen = [0, 0];
  private readonly lists: Uint16Array[] = Array.from({ length: LISTS }, () => new Uint16Array(ID_SLOTS));
  private readonly root = new Uint32Array(ROOT_ENTRIES).fill(ENTRY_EMPTY);
  /** Per level, one byte per entry of the table being walked: 1 = an edge falls there. */
  private readonly marks: Uint8Array[] = MASK.map((m) => new Uint8Array(m + 1));
  private readonly ioTable = new Uint16Array(IO_LIMIT);
  private ioSweep: Uint32Array | undefined;
  private mappedCount = 0;

  // ---- Table blocks ---------------------------------------------------------------------------

  private allocTable(level: number, fill: number): number {
    const c = classOf(level);
    const n = CLASS_ENTRIES[c];
    let t = this.freeHead[c];
    if (t !== 0) {
      this.freeHead[c] = this.mem[t];
    } else {
      if (this.top + n > this.mem.length) {
        const grown = new Uint32Array(this.mem.length * 2);
        grown.set(this.mem);
        this.mem = grown;
      }
      t = this.top;
      this.top += n;
      this.obtained[c]++;
    }
    this.liveBlocks[c]++;
    this.mem.fill(fill, t, t + n);
    return t;
  }

  private freeTable(t: number, level: number): void {
    const c = classOf(level);
    const mem = this.mem;
    if (level < LAST_LEVEL) {
      const n = CLASS_ENTRIES[c];
      for (let i = 0; i < n; i++) {
        const e = mem[t + i];
        if (!isTerminal(e)) this.freeTable(e, level + 1);
      }
    }
    mem[t] = this.freeHead[c];
    this.freeHead[c] = t;
    this.liveBlocks[c]--;
  }

  // ---- Precedence order -----------------------------------------------------------------------

  /** Lower wins: priority descending, then id ascending. */
  private rankOf(id: number): number {
    return ((MAX_PRIORITY - (this.rInfo[id] & 0xff)) << 12) | id;
  }

  private orderInsert(space: number, id: number): void {
    const list = this.orderIds[space];
    const n = this.orderLen[space];
    const r = this.rankOf(id);
    let k = 0;
    while (k < n && this.rankOf(list[k]) < r) k++;
    list.copyWithin(k + 1, k, n);
    list[k] = id;
    this.orderLen[space] = n + 1;
  }

  private orderRemove(space: number, id: number): void {
    const list = this.orderIds[space];
    const n = this.orderLen[space];
    let k = 0;
    while (k < n && list[k] !== id) k++;
    if (k === n) return;
    list.copyWithin(k, k + 1, n);
    this.orderLen[space] = n - 1;
  }

  // ---- Rebuild --------------------------------------------------------------------------------

  /** Ids of `src` meeting [cb, ce) in precedence order, stopping after the first covering it. */
  private filterInto(src: Uint16Array, srcLen: number, dst: Uint16Array, cb: number, ce: number): number {
    const rBase = this.rBase;
    const rEnd = this.rEnd;
    let n = 0;
    for (let k = 0; k < srcLen; k++) {
      const id = src[k];
      const b = rBase[id];
      const e = rEnd[id];
      if (e > cb && b < ce) {
        dst[n++] = id;
        if (b <= cb && e >= ce) break;
      }
    }
    return n;
  }

  /**
   * See updateEntry in the Wasm core. `slot` indexes the root at level 0, else `mem`; `mem` is
   * read afresh after anything that can allocate, since growing it replaces the array.
   */
  private updateEntry(level: number, slot: number, cb: number, parent: Uint16Array, parentLen: number,
    wb: number, we: number): void {
    const ce = cb + CHUNK[level];
    const list = this.lists[level + 1];
    const n = this.filterInto(parent, parentLen, list, cb, ce);
    const old = (level === 0 ? this.root : this.mem)[slot];
    let next = ENTRY_EMPTY;
    if (n > 0) {
      const top = list[0];
      next = (this.rBase[top] <= cb && this.rEnd[top] >= ce) || level >= LAST_LEVEL ? leafEntry(top) : 0;
    }
    if (next !== 0) {
      if (!isTerminal(old)) this.freeTable(old, level + 1);
      (level === 0 ? this.root : this.mem)[slot] = next;
      return;
    }
    const child = isTerminal(old) ? this.allocTable(level + 1, old) : old;
    const cs = CHUNK[level + 1];
    const lo = Math.max(cb, wb);
    const hi = Math.min(ce, we);
    this.updateRange(level + 1, child, cb, Math.floor((lo - cb) / cs), Math.floor((hi - 1 - cb) / cs), list, n, list, n, wb, we);
    (level === 0 ? this.root : this.mem)[slot] = child;
  }

  /** See updateRange in the Wasm core. `table` indexes `mem` (the root when level is 0). */
  private updateRange(level: number, table: number, tb: number, first: number, last: number,
    list: Uint16Array, n: number, outer: Uint16Array, outerLen: number, wb: number, we: number): void {
    const size = CHUNK[level];
    const marks = this.marks[level];
    const mark = (a: number): void => {
      if (a >= tb) {
        const j = Math.floor((a - tb) / size);
        if (j >= first && j <= last) marks[j] = 1;
      }
    };
    for (let k = 0; k < n; k++) {
      const id = list[k];
      mark(this.rBase[id]);
      mark(this.rEnd[id] - 1);
    }
    mark(wb);
    mark(we - 1);
    let j = first;
    while (j <= last) {
      const cb = tb + j * size;
      if (marks[j] !== 0) {
        marks[j] = 0;
        const inside = cb >= wb && cb + size <= we;
        this.updateEntry(level, table + j, cb, inside ? list : outer, inside ? n : outerLen, wb, we);
        j++;
        continue;
      }
      let end = j;
      while (end < last && marks[end + 1] === 0) end++;
      let next = ENTRY_EMPTY;
      for (let k = 0; k < n; k++) {
        const id = list[k];
        if (this.rEnd[id] > cb && this.rBase[id] < cb + size) {
          next = leafEntry(id);
          break;
        }
      }
      const t = level === 0 ? this.root : this.mem;
      for (; j <= end; j++) {
        const old = t[table + j];
        if (!isTerminal(old)) this.freeTable(old, level + 1);
        t[table + j] = next;
      }
    }
  }

  private rebuildMmio(wb: number, we: number): void {
    this.cacheSize = 0;
    const all = this.orderIds[SPACE_MMIO];
    const allLen = this.orderLen[SPACE_MMIO];
    const inRange = this.filterInto(all, allLen, this.lists[0], wb, we);
    const rootChunk = CHUNK[0];
    this.updateRange(0, 0, 0, Math.floor(wb / rootChunk), Math.floor((we - 1) / rootChunk), this.lists[0], inRange, all, allLen, wb, we);
  }

  private sweepFind(sweep: Uint32Array, x: number): number {
    let p = x;
    let next = sweep[p];
    while (next !== p) {
      const after = sweep[next];
      sweep[p] = after;
      p = after;
      next = sweep[p];
    }
    return p;
  }

  private rebuildIo(wb: number, we: number): void {
    const list = this.lists[0];
    const n = this.filterInto(this.orderIds[SPACE_IO], this.orderLen[SPACE_IO], list, wb, we);
    const io = this.ioTable;
    if (n === 0) {
      io.fill(0, wb, we);
      return;
    }
    const top = list[0];
    if (this.rBase[top] <= wb && this.rEnd[top] >= we) {
      io.fill(top, wb, we);
      return;
    }
    const sweep = this.ioSweep ??= new Uint32Array(IO_LIMIT + 1);
    const len = we - wb;
    io.fill(0, wb, we);
    for (let p = 0; p <= len; p++) sweep[p] = p;
    for (let k = 0; k < n; k++) {
      const id = list[k];
      const s = Math.max(this.rBase[id], wb) - wb;
      const e = Math.min(this.rEnd[id], we) - wb;
      let p = this.sweepFind(sweep, s);
      while (p < e) {
        io[wb + p] = id;
        sweep[p] = p + 1;
        p = this.sweepFind(sweep, p + 1);
      }
    }
  }

  private rebuild(space: number, wb: number, we: number): void {
    if (space === SPACE_MMIO) this.rebuildMmio(wb, we);
    else this.rebuildIo(wb, we);
  }

  private unmapSlot(id: number): void {
    const space = (this.rInfo[id] >>> 8) & 1;
    const b = this.rBase[id];
    const e = this.rEnd[id];
    this.orderRemove(space, id);
    this.rInfo[id] = 0;
    this.rBase[id] = 0;
    this.rEnd[id] = 0;
    this.mappedCount--;
    this.rebuild(space, b, e);
  }

  // ---- API ------------------------------------------------------------------------------------

  regionMap(id: number, space: number, base: number, size: number, priority: number): number {
    id >>>= 0; space >>>= 0; priority >>>= 0;
    // + 0 turns -0 into 0, as the Wasm core's u64 conversion does.
    base = +base + 0; size = +size + 0;
    if (id === 0 || id > MAX_REGION_ID || space > SPACE_IO || priority > MAX_PRIORITY) return Status.RANGE;
    if (!isU64(base) || !isU64(size) || size === 0) return Status.RANGE;
    const limit = space === SPACE_MMIO ? MMIO_LIMIT : IO_LIMIT;
    if (base >= limit || size > limit - base) return Status.RANGE;
    const info = (INFO_MAPPED | (space << 8) | priority) >>> 0;
    const end = base + size;
    const was = this.rInfo[id];
    if (was !== 0) {
      if (was === info && this.rBase[id] === base && this.rEnd[id] === end) return Status.OK;
      this.unmapSlot(id);
    }
    this.rInfo[id] = info;
    this.rBase[id] = base;
    this.rEnd[id] = end;
    this.orderInsert(space, id);
    this.mappedCount++;
    this.rebuild(space, base, end);
    return Status.OK;
  }

  regionUnmap(id: number): number {
    id >>>= 0;
    if (id === 0 || id > MAX_REGION_ID) return Status.RANGE;
    if (this.rInfo[id] === 0) return Status.NOT_FOUND;
    this.unmapSlot(id);
    return Status.OK;
  }

  // The last MMIO lookup's terminal chunk (see regionLookup in the Wasm core): one compare for
  // the next access inside it; cleared by every MMIO rebuild.
  private cacheBase = 0;
  private cacheSize = 0;
  private cacheId = 0;

  /** Caches the terminal chunk of `shift` bits holding the address whose halves are hi:lo. */
  private remember(hi: number, lo: number, shift: number, id: number): number {
    if (shift >= 32) {
      this.cacheSize = 2 ** shift;
      this.cacheBase = (hi & ~((1 << (shift - 32)) - 1)) * TWO_32;
    } else {
      this.cacheSize = 1 << shift;
      this.cacheBase = hi * TWO_32 + ((lo & -(1 << shift)) >>> 0);
    }
    this.cacheId = id;
    return id;
  }

  regionLookup(space: number, addr: number): number {
    space >>>= 0;
    if (space === SPACE_MMIO) {
      if (addr - this.cacheBase < this.cacheSize && addr >= this.cacheBase && Math.floor(addr) === addr) return this.cacheId;
      if (!(addr >= 0 && addr < MMIO_LIMIT)) return 0;
      const lo = addr >>> 0;
      const hi = (addr - lo) * TWO_M32;
      if ((hi | 0) !== hi) return 0; // a fraction: no u64 is this number
      let e = this.root[hi >>> 7];
      if (e & 1) return this.remember(hi, lo, 39, e >>> 1);
      const mem = this.mem;
      e = mem[e + (((hi & 0x7f) << 2) | (lo >>> 30))];
      if (e & 1) return this.remember(hi, lo, 30, e >>> 1);
      e = mem[e + ((lo >>> 21) & 511)];
      if (e & 1) return this.remember(hi, lo, 21, e >>> 1);
      e = mem[e + ((lo >>> 12) & 511)];
      if (e & 1) return this.remember(hi, lo, 12, e >>> 1);
      e = mem[e + ((lo >>> 4) & 255)];
      if (e & 1) return this.remember(hi, lo, 4, e >>> 1);
      return this.remember(hi, lo, 0, mem[e + (lo & 15)] >>> 1);
    }
    if (space === SPACE_IO) return addr >= 0 && addr < IO_LIMIT && Math.floor(addr) === addr ? this.ioTable[addr] : 0;
    return 0;
  }

  regionBase(id: number): number {
    id >>>= 0;
    return id > MAX_REGION_ID ? 0 : this.rBase[id];
  }

  regionSize(id: number): number {
    id >>>= 0;
    return id > MAX_REGION_ID ? 0 : this.rEnd[id] - this.rBase[id];
  }

  /** A mapped region's info word (1 << 16 | space << 8 | priority); 0 when the id is not mapped. */
  regionInfoOf(id: number): number {
    id >>>= 0;
    return id > MAX_REGION_ID ? 0 : this.rInfo[id];
  }

  regionCount(): number {
    return this.mappedCount;
  }

  regionReset(): void {
    this.cacheSize = 0;
    const root = this.root;
    for (let i = 0; i < ROOT_ENTRIES; i++) {
      const e = root[i];
      if (!isTerminal(e)) this.freeTable(e, 1);
      root[i] = ENTRY_EMPTY;
    }
    this.ioTable.fill(0);
    this.rBase.fill(0);
    this.rEnd.fill(0);
    this.rInfo.fill(0);
    this.orderLen[0] = 0;
    this.orderLen[1] = 0;
    this.mappedCount = 0;
  }

  regionTableBytes(): number {
    let bytes = FIXED_BYTES + (this.ioSweep !== undefined ? IO_SWEEP_BYTES : 0);
    for (let c = 0; c < BLOCK_CLASSES; c++) bytes += this.obtained[c] * CLASS_ENTRIES[c] * 4;
    return bytes;
  }

  regionTableLiveBytes(): number {
    let bytes = 0;
    for (let c = 0; c < BLOCK_CLASSES; c++) bytes += this.liveBlocks[c] * CLASS_ENTRIES[c] * 4;
    return bytes;
  }

  regionTableBlocks(cls: number): number {
    cls >>>= 0;
    return cls < BLOCK_CLASSES ? this.liveBlocks[cls] : -1;
  }

  regionProbe(addr: number, level: number): number {
    level |= 0;
    if (!isU64(addr) || addr >= MMIO_LIMIT || level < 0 || level > LAST_LEVEL) return -2;
    let e = this.root[Math.floor(addr / CHUNK[0])];
    for (let l = 1; l <= level; l++) {
      if (isTerminal(e)) return -2;
      e = this.mem[e + (Math.floor(addr / CHUNK[l]) % (MASK[l] + 1))];
    }
    return isTerminal(e) ? entryId(e) : -1;
  }
}
