// TypeScript twin of assembly/dma/page-table.ts: four-level tables over 48-bit IOVAs with 4 KiB
// and 2 MiB leaves, the same allocation points (so the same live-table count), splits and frees.
// An entry is a number: 0 | gpa + perms (a leaf; perms 1..3) | id * 8 + 4 (a table: index into
// `tables`). Every value is an integer below 2^53, so the arithmetic is exact.

import { MAX_TABLES } from './layout.js';

const ENTRIES = 512;
const TABLE = 4;
export const LEAF_2M_LEVEL = 2;
export const LEAF_4K_LEVEL = 3;
const PAGE = 4096;
const LARGE = 2097152;
/** Bytes one entry of each level covers. */
const CHUNK = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];

// Bit operations take the low 32 bits of a number, which hold the low bits of any integer below
// 2^53 exactly; `%` on numbers past 2^31 would be a slow floating-point remainder.
function isTable(e: number): boolean {
  return (e & 7) === TABLE;
}

function idOf(e: number): number {
  return (e - TABLE) / 8;
}

export function leafPerms(e: number): number {
  return e & 3;
}

export function leafGpa(e: number): number {
  return e - (e & 3);
}

function indexAt(iova: number, level: number): number {
  return Math.floor(iova / CHUNK[level]) & (ENTRIES - 1);
}

export class PageTables {
  /** Table storage by id; id 0 is never used so no table entry is 0. */
  private readonly tables: Float64Array[] = [new Float64Array(0)];
  private readonly free: number[] = [];
  live = 0;
  walkLeaf = 0;
  walkLarge = 0;

  room(extra: number): boolean {
    return this.live + extra <= MAX_TABLES;
  }

  /** The Wasm core's bound of the tables mapRange creates (see page-table.ts there). */
  static forMap(iova: number, gpa: number, size: number): number {
    const last = iova + size - 1;
    let n = Math.floor(last / CHUNK[0]) - Math.floor(iova / CHUNK[0]) + 1 + Math.floor(last / CHUNK[1]) - Math.floor(iova / CHUNK[1]) + 1;
    const chunks = Math.floor(last / LARGE) - Math.floor(iova / LARGE) + 1;
    if (iova % LARGE !== gpa % LARGE) n += chunks;
    else n += Math.min(chunks, (iova % LARGE !== 0 ? 1 : 0) + ((last + 1) % LARGE !== 0 ? 1 : 0));
    return n;
  }

  /** Splits an unmap of [lo, hi) needs. */
  forUnmap(root: number, lo: number, hi: number): number {
    let n = 0;
    if (this.walk(root, lo) && this.walkLarge && !(lo % LARGE === 0 && hi - lo >= LARGE)) n++;
    const tail = hi - 1;
    if (Math.floor(tail / LARGE) !== Math.floor(lo / LARGE) && this.walk(root, tail) && this.walkLarge && hi % LARGE !== 0) n++;
    return n;
  }

  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.tables.length;
      this.tables.push(new Float64Array(ENTRIES));
    } else {
      this.tables[id].fill(0);
    }
    this.live++;
    return id;
  }

  private release(id: number): void {
    this.free.push(id);
    this.live--;
  }

  freeTable(id: number, level: number): void {
    if (level < LEAF_4K_LEVEL) {
      const t = this.tables[id];
      for (let j = 0; j < ENTRIES; j++) if (isTable(t[j])) this.freeTable(idOf(t[j]), level + 1);
    }
    this.release(id);
  }

  private empty(id: number): boolean {
    const t = this.tables[id];
    for (let j = 0; j < ENTRIES; j++) if (t[j] !== 0) return false;
    return true;
  }

  anyMapped(id: number, level: number, tb: number, lo: number, hi: number): boolean {
    const s = CHUNK[level];
    const t = this.tables[id];
    const last = Math.floor((hi - 1 - tb) / s);
    for (let j = Math.floor((lo - tb) / s); j <= last; j++) {
      const e = t[j];
      if (e === 0) continue;
      if (!isTable(e)) return true;
      const cb = tb + j * s;
      if (this.anyMapped(idOf(e), level + 1, cb, Math.max(lo, cb), Math.min(hi, cb + s))) return true;
    }
    return false;
  }

  private setLeaf(root: number, iova: number, level: number, entry: number): void {
    let t = this.tables[root];
    for (let l = 0; l < level; l++) {
      const j = indexAt(iova, l);
      const e = t[j];
      if (isTable(e)) {
        t = this.tables[idOf(e)];
      } else {
        const c = this.alloc();
        t[j] = c * 8 + TABLE;
        t = this.tables[c];
      }
    }
    t[indexAt(iova, level)] = entry;
  }

  mapRange(root: number, iova: number, gpa: number, size: number, perms: number): void {
    while (size > 0) {
      if (((iova | gpa) & (LARGE - 1)) === 0 && size >= LARGE) { // low bits exact: both below 2^52
        this.setLeaf(root, iova, LEAF_2M_LEVEL, gpa + perms);
        iova += LARGE;
        gpa += LARGE;
        size -= LARGE;
      } else {
        this.setLeaf(root, iova, LEAF_4K_LEVEL, gpa + perms);
        iova += PAGE;
        gpa += PAGE;
        size -= PAGE;
      }
    }
  }

  unmapRange(id: number, level: number, tb: number, lo: number, hi: number): number {
    const s = CHUNK[level];
    const t = this.tables[id];
    const last = Math.floor((hi - 1 - tb) / s);
    let bytes = 0;
    for (let j = Math.floor((lo - tb) / s); j <= last; j++) {
      const e = t[j];
      if (e === 0) continue;
      const cb = tb + j * s;
      const ce = cb + s;
      if (!isTable(e)) {
        if (lo <= cb && ce <= hi) {
          t[j] = 0;
          bytes += s;
          continue;
        }
        const c = this.alloc();
        const ct = this.tables[c];
        const gpa = leafGpa(e);
        const perms = leafPerms(e);
        for (let k = 0; k < ENTRIES; k++) ct[k] = gpa + k * PAGE + perms;
        t[j] = c * 8 + TABLE;
        bytes += this.unmapRange(c, level + 1, cb, Math.max(lo, cb), Math.min(hi, ce));
        continue;
      }
      const c = idOf(e);
      bytes += this.unmapRange(c, level + 1, cb, Math.max(lo, cb), Math.min(hi, ce));
      if (this.empty(c)) {
        this.release(c);
        t[j] = 0;
      }
    }
    return bytes;
  }

  /**
   * State load: maps [iova, iova + size) to [gpa, ...) in leaves of one size (large: 2 MiB), as
   * a saved core had them (a split 2 MiB page stays 4 KiB pages). Checked by the caller.
   */
  mapLeaves(root: number, iova: number, gpa: number, size: number, perms: number, large: boolean): void {
    const step = large ? LARGE : PAGE;
    const level = large ? LEAF_2M_LEVEL : LEAF_4K_LEVEL;
    for (let off = 0; off < size; off += step) this.setLeaf(root, iova + off, level, gpa + off + perms);
  }

  /**
   * State save: the leaves under `root` in IOVA order, merged while they continue one another
   * (same page size and perms, IOVA and GPA contiguous); runsWalk in the Wasm core.
   */
  runs(root: number): { iova: number; gpa: number; size: number; perms: number; pageSize: number }[] {
    const out: { iova: number; gpa: number; size: number; perms: number; pageSize: number }[] = [];
    const visit = (id: number, level: number, tb: number): void => {
      const t = this.tables[id];
      const s = CHUNK[level];
      for (let j = 0; j < ENTRIES; j++) {
        const e = t[j];
        if (e === 0) continue;
        const cb = tb + j * s;
        if (isTable(e)) {
          visit(idOf(e), level + 1, cb);
          continue;
        }
        const gpa = leafGpa(e);
        const perms = leafPerms(e);
        const last = out[out.length - 1];
        if (last !== undefined && last.pageSize === s && last.perms === perms && last.iova + last.size === cb && last.gpa + last.size === gpa) {
          last.size += s;
        } else {
          out.push({ iova: cb, gpa, size: s, perms, pageSize: s });
        }
      }
    };
    visit(root, 0, 0);
    return out;
  }

  walk(root: number, iova: number): boolean {
    let e = this.tables[root][indexAt(iova, 0)];
    if (!isTable(e)) return false;
    e = this.tables[idOf(e)][indexAt(iova, 1)];
    if (!isTable(e)) return false;
    e = this.tables[idOf(e)][indexAt(iova, 2)];
    if (e === 0) return false;
    if (!isTable(e)) {
      this.walkLeaf = e;
      this.walkLarge = 1;
      return true;
    }
    e = this.tables[idOf(e)][indexAt(iova, 3)];
    if (e === 0) return false;
    this.walkLeaf = e;
    this.walkLarge = 0;
    return true;
  }
}
