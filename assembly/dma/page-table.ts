// IOMMU page tables of translated domains: a four-level radix over 48-bit IOVAs, 4 KiB and
// 2 MiB pages (the x86-64/VT-d second-level shape, without its bit layout).
//
//   level  IOVA bits  entry covers  leaf allowed
//     0    [47:39]    512 GiB       no
//     1    [38:30]      1 GiB       no
//     2    [29:21]      2 MiB       yes (2 MiB page)
//     3    [20:12]      4 KiB       yes (4 KiB page)
//
//   entry u64: 0 = nothing | gpa | perms (1 read, 2 write; a leaf) | table address | TABLE
//
// Every table is 512 entries (4 KiB). Invariant: no table below a root is empty (unmap frees a
// table when its last entry goes), so a map never finds a stale table in its way and the tables
// in use are a function of the mappings. Tables come from a free list, else heap.alloc.
import { PAGE_SIZE, LARGE_SIZE, MAX_TABLES } from "./layout";
import { coreAlloc } from "../alloc";

const TABLE: u64 = 4;
const PERMS: u64 = 3;
const ENTRIES: usize = 512;
const TABLE_BYTES: usize = ENTRIES << 3;
export const LEAF_2M_LEVEL: i32 = 2;
export const LEAF_4K_LEVEL: i32 = 3;

let freeHead: usize = 0;
let live: u32 = 0;
let obtained: u32 = 0;
let freeCount: u32 = 0;

// @ts-ignore: decorator
@inline function shiftOf(level: i32): u64 {
  return <u64>(39 - 9 * level);
}

// @ts-ignore: decorator
@inline function ptrOf(e: u64): usize {
  return <usize>(e & ~TABLE);
}

// @ts-ignore: decorator
@inline function isTable(e: u64): bool {
  return (e & TABLE) != 0;
}

/**
 * A zeroed table from the free list, else newly allocated; 0 when memory cannot grow. Callers
 * that must not fail half way make room first with tablesRoom(), which fills the free list.
 */
export function tableAlloc(): usize {
  let t = freeHead;
  if (t != 0) {
    freeHead = <usize>load<u64>(t);
    freeCount--;
  } else {
    t = coreAlloc(TABLE_BYTES);
    if (t == 0) return 0;
    obtained++;
  }
  memory.fill(t, 0, TABLE_BYTES);
  live++;
  return t;
}

function tableRelease(t: usize): void {
  store<u64>(t, <u64>freeHead);
  freeHead = t;
  freeCount++;
  live--;
}

/** Returns a table of `level` and all tables below it to the free list. */
export function tableFree(t: usize, level: i32): void {
  if (level < LEAF_4K_LEVEL) {
    for (let j: usize = 0; j < ENTRIES; j++) {
      const e = load<u64>(t + (j << 3));
      if (isTable(e)) tableFree(ptrOf(e), level + 1);
    }
  }
  tableRelease(t);
}

export function tablesLive(): u32 {
  return live;
}

export function tablesObtained(): u32 {
  return obtained;
}

/**
 * Whether `extra` more tables fit under MAX_TABLES and in memory: the free list is filled up to
 * `extra` tables first, so the map or split that follows takes every table from it and cannot
 * fail half way. Tables obtained here and not used stay on the free list for later.
 */
export function tablesRoom(extra: u64): bool {
  if (<u64>live + extra > <u64>MAX_TABLES) return false;
  return growFreeList(<u32>extra);
}

/** Obtains tables onto the free list until it holds `count`; false when memory cannot grow. */
function growFreeList(count: u32): bool {
  while (freeCount < count) {
    const t = coreAlloc(TABLE_BYTES);
    if (t == 0) return false;
    obtained++;
    store<u64>(t, <u64>freeHead);
    freeHead = t;
    freeCount++;
  }
  return true;
}

/**
 * An upper bound of the tables mapRange(iova, gpa, size) creates: one per level-1 and level-2
 * chunk the range touches, and one per 2 MiB chunk that gets 4 KiB pages (all of them when iova
 * and gpa differ modulo 2 MiB, else at most the partial head and tail). Existing tables are not
 * discounted: the bound depends on the arguments alone.
 */
export function tablesForMap(iova: u64, gpa: u64, size: u64): u64 {
  const last = iova + size - 1;
  let n = (last >> 39) - (iova >> 39) + 1 + (last >> 30) - (iova >> 30) + 1;
  const chunks = (last >> 21) - (iova >> 21) + 1;
  if (((iova ^ gpa) & (LARGE_SIZE - 1)) != 0) n += chunks;
  else n += min<u64>(chunks, ((iova & (LARGE_SIZE - 1)) != 0 ? 1 : 0) + (((last + 1) & (LARGE_SIZE - 1)) != 0 ? 1 : 0));
  return n;
}

/**
 * State load, before anything changes: fills the free list so that `total` tables can be live
 * once every table in use now has been freed. false when memory cannot grow.
 */
export function tablesReserve(total: u32): bool {
  return total <= live || growFreeList(total - live);
}

/** Tables an unmap of [lo, hi) creates: a split for each 2 MiB page only partly inside. */
export function tablesForUnmap(root: usize, lo: u64, hi: u64): u64 {
  let n: u64 = 0;
  if (walk(root, lo) && walkLarge && !((lo & (LARGE_SIZE - 1)) == 0 && hi - lo >= LARGE_SIZE)) n++;
  const tail = hi - 1;
  if ((tail >> 21) != (lo >> 21) && walk(root, tail) && walkLarge && (hi & (LARGE_SIZE - 1)) != 0) n++;
  return n;
}

function tableEmpty(t: usize): bool {
  for (let j: usize = 0; j < ENTRIES; j++) if (load<u64>(t + (j << 3)) != 0) return false;
  return true;
}

/** Whether any page is mapped in [lo, hi) (inside the level-`level` table `t` at `tb`). */
export function anyMapped(t: usize, level: i32, tb: u64, lo: u64, hi: u64): bool {
  const s = shiftOf(level);
  const last = (hi - 1 - tb) >> s;
  for (let j = (lo - tb) >> s; j <= last; j++) {
    const e = load<u64>(t + (<usize>j << 3));
    if (e == 0) continue;
    if (!isTable(e)) return true;
    const cb = tb + (j << s);
    const ce = cb + (<u64>1 << s);
    if (anyMapped(ptrOf(e), level + 1, cb, max<u64>(lo, cb), min<u64>(hi, ce))) return true;
  }
  return false;
}

/** Stores leaf `entry` for the page at `iova` on `level` (2 or 3), creating tables on the way. */
function setLeaf(root: usize, iova: u64, level: i32, entry: u64): void {
  let t = root;
  for (let l = 0; l < level; l++) {
    const p = t + (<usize>((iova >> shiftOf(l)) & 511) << 3);
    const e = load<u64>(p);
    if (isTable(e)) {
      t = ptrOf(e);
    } else {
      const c = tableAlloc();
      store<u64>(p, <u64>c | TABLE);
      t = c;
    }
  }
  store<u64>(t + (<usize>((iova >> shiftOf(level)) & 511) << 3), entry);
}

/**
 * Maps [iova, iova + size) to [gpa, ...) with `perms`; the caller has validated everything and
 * checked that nothing is mapped there. A 2 MiB page wherever iova and gpa are both 2 MiB
 * aligned and at least 2 MiB remain, 4 KiB pages elsewhere (Linux's iommu_pgsize rule).
 */
export function mapRange(root: usize, iova: u64, gpa: u64, size: u64, perms: u32): void {
  while (size > 0) {
    if (((iova | gpa) & (LARGE_SIZE - 1)) == 0 && size >= LARGE_SIZE) {
      setLeaf(root, iova, LEAF_2M_LEVEL, gpa | <u64>perms);
      iova += LARGE_SIZE;
      gpa += LARGE_SIZE;
      size -= LARGE_SIZE;
    } else {
      setLeaf(root, iova, LEAF_4K_LEVEL, gpa | <u64>perms);
      iova += PAGE_SIZE;
      gpa += PAGE_SIZE;
      size -= PAGE_SIZE;
    }
  }
}

/**
 * Unmaps [lo, hi) (4 KiB aligned) inside the level-`level` table `t` at `tb`; returns the bytes
 * that were mapped. A 2 MiB page only partly inside is split into 4 KiB pages first, so exactly
 * the range goes; a table left empty is freed.
 */
export function unmapRange(t: usize, level: i32, tb: u64, lo: u64, hi: u64): u64 {
  const s = shiftOf(level);
  const size = <u64>1 << s;
  const last = (hi - 1 - tb) >> s;
  let bytes: u64 = 0;
  for (let j = (lo - tb) >> s; j <= last; j++) {
    const p = t + (<usize>j << 3);
    const e = load<u64>(p);
    if (e == 0) continue;
    const cb = tb + (j << s);
    const ce = cb + size;
    if (!isTable(e)) {
      if (lo <= cb && ce <= hi) {
        store<u64>(p, 0);
        bytes += size;
        continue;
      }
      // A 2 MiB page partly in the range: 512 pages of 4 KiB with the same target and perms.
      const c = tableAlloc();
      const gpa = e & ~PERMS;
      const perms = e & PERMS;
      for (let k: usize = 0; k < ENTRIES; k++) store<u64>(c + (k << 3), (gpa + (<u64>k << 12)) | perms);
      store<u64>(p, <u64>c | TABLE);
      bytes += unmapRange(c, level + 1, cb, max<u64>(lo, cb), min<u64>(hi, ce));
      continue;
    }
    const c = ptrOf(e);
    bytes += unmapRange(c, level + 1, cb, max<u64>(lo, cb), min<u64>(hi, ce));
    if (tableEmpty(c)) {
      tableRelease(c);
      store<u64>(p, 0);
    }
  }
  return bytes;
}

/**
 * State load: maps [iova, iova + size) to [gpa, ...) with `perms` in pages of exactly one size
 * (large: 2 MiB leaves, else 4 KiB), whatever the alignment would choose: a saved core may hold
 * 4 KiB leaves where mapRange would put a 2 MiB one (after a split). Checked by the caller.
 */
export function mapLeaves(root: usize, iova: u64, gpa: u64, size: u64, perms: u32, large: bool): void {
  const step = large ? LARGE_SIZE : PAGE_SIZE;
  const level = large ? LEAF_2M_LEVEL : LEAF_4K_LEVEL;
  for (let off: u64 = 0; off < size; off += step) setLeaf(root, iova + off, level, (gpa + off) | <u64>perms);
}

// Leaf runs (state save): the leaves of a root in IOVA order, merged while they continue one
// another (the same page size and perms, IOVA and GPA both contiguous).
export let runIova: u64 = 0;
export let runGpa: u64 = 0;
export let runSize: u64 = 0;
export let runPerms: u32 = 0;
export let runLarge: bool = false;

/**
 * Visits every leaf of the level-`level` table `t` (chunk base `tb`) in IOVA order, merging into
 * the current run; `emit` is called with each finished run (run* hold it). Call runsEnd(emit)
 * after the last table to emit the last run.
 */
export function runsWalk(t: usize, level: i32, tb: u64, emit: () => void): void {
  const s = shiftOf(level);
  for (let j: usize = 0; j < ENTRIES; j++) {
    const e = load<u64>(t + (j << 3));
    if (e == 0) continue;
    const cb = tb + (<u64>j << s);
    if (isTable(e)) {
      runsWalk(ptrOf(e), level + 1, cb, emit);
      continue;
    }
    const large = level == LEAF_2M_LEVEL;
    const size = <u64>1 << s;
    const gpa = leafGpa(e);
    const perms = leafPerms(e);
    if (runSize != 0 && runLarge == large && runPerms == perms && runIova + runSize == cb && runGpa + runSize == gpa) {
      runSize += size;
      continue;
    }
    if (runSize != 0) emit();
    runIova = cb;
    runGpa = gpa;
    runSize = size;
    runPerms = perms;
    runLarge = large;
  }
}

/** Starts a walk over a new root (no run pending). */
export function runsBegin(): void {
  runSize = 0;
}

/** Emits the run still pending after the last runsWalk. */
export function runsEnd(emit: () => void): void {
  if (runSize != 0) emit();
  runSize = 0;
}

/** Result of a walk: the leaf (gpa | perms) and whether it is a 2 MiB page. */
export let walkLeaf: u64 = 0;
export let walkLarge: u32 = 0;

/** Walks the tables for `iova` (below 2^48); false when no page is mapped there. */
export function walk(root: usize, iova: u64): bool {
  let e = load<u64>(root + (<usize>((iova >> 39) & 511) << 3));
  if (!isTable(e)) return false;
  e = load<u64>(ptrOf(e) + (<usize>((iova >> 30) & 511) << 3));
  if (!isTable(e)) return false;
  e = load<u64>(ptrOf(e) + (<usize>((iova >> 21) & 511) << 3));
  if (e == 0) return false;
  if (!isTable(e)) {
    walkLeaf = e;
    walkLarge = 1;
    return true;
  }
  e = load<u64>(ptrOf(e) + (<usize>((iova >> 12) & 511) << 3));
  if (e == 0) return false;
  walkLeaf = e;
  walkLarge = 0;
  return true;
}

// @ts-ignore: decorator
@inline export function leafGpa(e: u64): u64 {
  return e & ~PERMS;
}

// @ts-ignore: decorator
@inline export function leafPerms(e: u64): u32 {
  return <u32>(e & PERMS);
}
