// The trap dispatcher's region table: which region owns a guest access address, in the MMIO space
// (guest-physical addresses below 2^52) and the port-IO space (0..0xFFFF). A lookup is a fixed
// number of loads whatever the region count; map and unmap rebuild only the table chunks the
// changed range touches. Design, diagrams, bounds and measurements: REGION-TABLE.md next to this
// file. The TypeScript twin src/core/ts/region-table.ts follows this file step for step.
import { OK, ERR_RANGE, ERR_NOT_FOUND } from "../config/layout";

export const SPACE_MMIO: u32 = 0;
export const SPACE_IO: u32 = 1;
/** Region ids are 1..4095; 0 means "nothing mapped" in every answer. */
export const MAX_REGION_ID: u32 = 4095;
export const MAX_PRIORITY: u32 = 255;
/** MMIO decodes addresses below 2^52 (the largest physical-address width x86-64 and Arm64
 * define); nothing at or above it is ever mapped. */
export const MMIO_LIMIT: u64 = <u64>1 << 52;
export const IO_LIMIT: u64 = 0x10000;

const ID_SLOTS: usize = 4096;

// ---- Entry encoding ---------------------------------------------------------------------------
// One u32 per table entry. Odd: terminal, (id << 1) | 1, the whole chunk belongs to `id` (0 =
// nothing mapped). Even: the address of the next level's table; heap blocks are 16-byte aligned,
// so an address is never odd. One test and one shift per level on the lookup path.

/** Terminal entry "nothing mapped here"; fresh tables and the root are filled with it. */
export const ENTRY_EMPTY: u32 = 1;

// @ts-ignore: decorator
@inline export function leafEntry(id: u32): u32 {
  return (id << 1) | 1;
}

// @ts-ignore: decorator
@inline export function isTerminal(entry: u32): bool {
  return (entry & 1) != 0;
}

// @ts-ignore: decorator
@inline export function entryId(entry: u32): u32 {
  return entry >> 1;
}

// ---- Levels -----------------------------------------------------------------------------------
// level  address bits  entries  chunk per entry  table bytes
//   0    [51:39]        8192     512 GiB          32 KiB (the root, fixed)
//   1    [38:30]         512       1 GiB           2 KiB
//   2    [29:21]         512       2 MiB           2 KiB
//   3    [20:12]         512       4 KiB           2 KiB
//   4    [11:4]          256      16 B             1 KiB (a page shared by several regions)
//   5    [3:0]            16       1 B            64 B   (a 16-byte granule shared: odd sizes)
// Levels 4 and 5 make sub-page regions exact without a list to scan: a page two 16-byte BARs
// share costs one more load than a page one region owns.
export const LEVELS: i32 = 6;
const LAST_LEVEL: i32 = LEVELS - 1;
const ROOT_ENTRIES: usize = 8192;
const LEVEL_SHIFT: usize = memory.data<u8>([39, 30, 21, 12, 4, 0]);
const LEVEL_MASK: usize = memory.data<u16>([8191, 511, 511, 511, 255, 15]);

// @ts-ignore: decorator
@inline function shiftOf(level: i32): u64 {
  return <u64>load<u8>(LEVEL_SHIFT + <usize>level);
}

// @ts-ignore: decorator
@inline function maskOf(level: i32): u64 {
  return <u64>load<u16>(LEVEL_MASK + (<usize>level << 1));
}

// ---- Table blocks -----------------------------------------------------------------------------
// Three block classes: 512 entries (levels 1-3), 256 (level 4), 16 (level 5). A block comes from
// the class's free list, else from heap.alloc; a table that stops being needed goes back on its
// free list (linked through its first word). The stub runtime never returns memory, so this is
// what keeps churn from growing the heap: each class holds at most its high-water mark of live
// tables, and the number of live tables is bounded by the mappings (REGION-TABLE.md, "Memory").
export const BLOCK_CLASSES: u32 = 3;
const CLASS_ENTRIES: usize = memory.data<u32>([512, 256, 16]);
const freeHead: usize = memory.data<u32>([0, 0, 0]);
const obtained: usize = memory.data<u32>([0, 0, 0]);
const liveBlocks: usize = memory.data<u32>([0, 0, 0]);

// @ts-ignore: decorator
@inline function classOf(level: i32): usize {
  return level <= 3 ? 0 : <usize>(level - 3);
}

// @ts-ignore: decorator
@inline function classEntries(c: usize): usize {
  return <usize>load<u32>(CLASS_ENTRIES + (c << 2));
}

/** A table for `level` (1..5) with every entry set to `fill`: the parent's former terminal. */
function allocTable(level: i32, fill: u32): usize {
  const c = classOf(level);
  const n = classEntries(c);
  let t = <usize>load<u32>(freeHead + (c << 2));
  if (t != 0) {
    store<u32>(freeHead + (c << 2), load<u32>(t));
  } else {
    t = heap.alloc(n << 2);
    store<u32>(obtained + (c << 2), load<u32>(obtained + (c << 2)) + 1);
  }
  store<u32>(liveBlocks + (c << 2), load<u32>(liveBlocks + (c << 2)) + 1);
  for (let i: usize = 0; i < n; i++) store<u32>(t + (i << 2), fill);
  return t;
}

/** Returns a table of `level` and every table below it to the free lists. */
function freeTable(t: usize, level: i32): void {
  const c = classOf(level);
  if (level < LAST_LEVEL) {
    const n = classEntries(c);
    for (let i: usize = 0; i < n; i++) {
      const e = load<u32>(t + (i << 2));
      if (!isTerminal(e)) freeTable(<usize>e, level + 1);
    }
  }
  store<u32>(t, load<u32>(freeHead + (c << 2)));
  store<u32>(freeHead + (c << 2), <u32>t);
  store<u32>(liveBlocks + (c << 2), load<u32>(liveBlocks + (c << 2)) - 1);
}

// ---- Fixed state ------------------------------------------------------------------------------
// Per region id: base, end (exclusive) and info = MAPPED | space << 8 | priority (0 = unmapped).
const INFO_MAPPED: u32 = 0x10000;
const rBase: usize = heap.alloc(ID_SLOTS << 3);
const rEnd: usize = heap.alloc(ID_SLOTS << 3);
const rInfo: usize = heap.alloc(ID_SLOTS << 2);
/** Per space, the mapped ids in precedence order (priority descending, then id ascending). */
const orderIds: usize = heap.alloc(ID_SLOTS << 2);
const orderLen: usize = memory.data<u32>([0, 0]);
/** Candidate lists of the rebuild: list 0 for the changed range, list L + 1 for a level-L chunk. */
const LISTS: usize = LEVELS + 1;
const lists: usize = heap.alloc(LISTS * (ID_SLOTS << 1));
const root: usize = heap.alloc(ROOT_ENTRIES << 2);
/** Per level, one byte per entry of the table being walked: 1 = an edge falls in that entry. */
const MARK_BYTES: usize = ROOT_ENTRIES + 3 * 512 + 256 + 16;
const MARK_OFFSET: usize = memory.data<u16>([0, 8192, 8704, 9216, 9728, 9984]);
const marks: usize = heap.alloc(MARK_BYTES);
/** Port IO: a flat table of region ids, one u16 per port. */
const ioTable: usize = heap.alloc(<usize>IO_LIMIT << 1);
/** Skip links of the IO rebuild for overlapping ranges, allocated on first need. */
const IO_SWEEP_BYTES: u32 = (<u32>IO_LIMIT + 1) << 2;
let ioSweep: usize = 0;
let mappedCount: i32 = 0;

/** Bytes of the tables above, all obtained once at start-up. */
export const FIXED_BYTES: u32 = <u32>((ID_SLOTS << 3) * 2 + (ID_SLOTS << 2) * 2 +
  LISTS * (ID_SLOTS << 1) + (ROOT_ENTRIES << 2) + MARK_BYTES + (<usize>IO_LIMIT << 1));

memory.fill(rBase, 0, ID_SLOTS << 3);
memory.fill(rEnd, 0, ID_SLOTS << 3);
memory.fill(rInfo, 0, ID_SLOTS << 2);
memory.fill(ioTable, 0, <usize>IO_LIMIT << 1);
memory.fill(marks, 0, MARK_BYTES);
for (let i: usize = 0; i < ROOT_ENTRIES; i++) store<u32>(root + (i << 2), ENTRY_EMPTY);

// @ts-ignore: decorator
@inline function baseOf(id: usize): u64 {
  return load<u64>(rBase + (id << 3));
}

// @ts-ignore: decorator
@inline function endOf(id: usize): u64 {
  return load<u64>(rEnd + (id << 3));
}

/** Sort key: lower wins. Priority descending, then id ascending; unique per id, so the winner
 * at every address is a function of the set of mappings alone. */
// @ts-ignore: decorator
@inline function rankOf(id: usize): u32 {
  return ((MAX_PRIORITY - (load<u32>(rInfo + (id << 2)) & 0xff)) << 12) | <u32>id;
}

// @ts-ignore: decorator
@inline function orderList(space: u32): usize {
  return orderIds + <usize>space * (ID_SLOTS << 1);
}

// @ts-ignore: decorator
@inline function orderCount(space: u32): i32 {
  return <i32>load<u32>(orderLen + (<usize>space << 2));
}

function orderInsert(space: u32, id: usize): void {
  const list = orderList(space);
  const n = <usize>orderCount(space);
  const r = rankOf(id);
  let k: usize = 0;
  while (k < n && rankOf(<usize>load<u16>(list + (k << 1))) < r) k++;
  memory.copy(list + ((k + 1) << 1), list + (k << 1), (n - k) << 1);
  store<u16>(list + (k << 1), <u16>id);
  store<u32>(orderLen + (<usize>space << 2), <u32>(n + 1));
}

function orderRemove(space: u32, id: usize): void {
  const list = orderList(space);
  const n = <usize>orderCount(space);
  let k: usize = 0;
  while (k < n && <usize>load<u16>(list + (k << 1)) != id) k++;
  if (k == n) return;
  memory.copy(list + (k << 1), list + ((k + 1) << 1), (n - k - 1) << 1);
  store<u32>(orderLen + (<usize>space << 2), <u32>(n - 1));
}

// ---- Rebuild ----------------------------------------------------------------------------------

/**
 * Copies into `dst` the ids of `src` (in precedence order) whose range meets [cb, ce), stopping
 * after the first one that covers all of it: everything after that one is hidden there. So the
 * list holds the mappings with a boundary inside the chunk plus at most one that covers it, and
 * its first id is the winner wherever it reaches.
 */
function filterInto(src: usize, srcLen: i32, dst: usize, cb: u64, ce: u64): i32 {
  let n = 0;
  for (let k = 0; k < srcLen; k++) {
    const id = <usize>load<u16>(src + (<usize>k << 1));
    const b = baseOf(id);
    const e = endOf(id);
    if (e > cb && b < ce) {
      store<u16>(dst + (<usize>n << 1), <u16>id);
      n++;
      if (b <= cb && e >= ce) break;
    }
  }
  return n;
}

/**
 * Recomputes the entry at `slot` for the level-`level` chunk at `cb`, where the mappings over
 * [wb, we) changed. `parent` holds every mapping that can meet the chunk, in precedence order.
 * The entry becomes terminal when one mapping wins the whole chunk (or none meets it); otherwise
 * it points to a table whose entries outside [wb, we) keep their old value (nothing changed
 * there) and whose entries inside are recomputed the same way. A pointer therefore exists exactly
 * where the winner varies inside the chunk: the tables are a canonical form of the mapping set.
 */
function updateEntry(level: i32, slot: usize, cb: u64, parent: usize, parentLen: i32, wb: u64, we: u64): void {
  const ce = cb + (<u64>1 << shiftOf(level));
  const list = lists + <usize>(level + 1) * (ID_SLOTS << 1);
  const n = filterInto(parent, parentLen, list, cb, ce);
  const old = load<u32>(slot);
  let next: u32 = ENTRY_EMPTY;
  if (n > 0) {
    const top = <usize>load<u16>(list);
    // At the byte level every mapping that meets the chunk covers it; the test keeps a bad
    // list from ever asking for a level below the last.
    next = (baseOf(top) <= cb && endOf(top) >= ce) || level >= LAST_LEVEL ? leafEntry(<u32>top) : 0;
  }
  if (next != 0) {
    if (!isTerminal(old)) freeTable(<usize>old, level + 1);
    store<u32>(slot, next);
    return;
  }
  const child = isTerminal(old) ? allocTable(level + 1, old) : <usize>old;
  const cs = shiftOf(level + 1);
  const lo = max<u64>(cb, wb);
  const hi = min<u64>(ce, we);
  updateRange(level + 1, child, cb, (lo - cb) >> cs, (hi - 1 - cb) >> cs, list, n, list, n, wb, we);
  store<u32>(slot, <u32>child);
}

// @ts-ignore: decorator
@inline function markAt(level: i32, j: u64): usize {
  return marks + <usize>load<u16>(MARK_OFFSET + (<usize>level << 1)) + <usize>j;
}

/** Marks the entry of the walked table holding `a`, if it lies in entries first..last. */
// @ts-ignore: decorator
@inline function markEdge(level: i32, tb: u64, s: u64, first: u64, last: u64, a: u64): void {
  if (a >= tb) {
    const j = (a - tb) >> s;
    if (j >= first && j <= last) store<u8>(markAt(level, j), 1);
  }
}

/**
 * Recomputes entries first..last of the level-`level` table at `table` (whose chunk starts at
 * `tb`); all of them meet [wb, we). `list` (n ids) holds every mapping that can meet the chunks
 * inside [wb, we); `outer` every mapping that can meet the others (the same list below the root).
 * An entry holding an edge of a listed mapping or of [wb, we) goes through updateEntry. Between
 * such entries no mapping starts or ends, so every mapping meeting one covers it, and the same
 * ones meet all of the run: one winner for the whole run, a terminal each. This is what makes a
 * huge mapping cost its edges plus one store per entry it spans, not a search per entry.
 */
function updateRange(level: i32, table: usize, tb: u64, first: u64, last: u64, list: usize, n: i32,
  outer: usize, outerLen: i32, wb: u64, we: u64): void {
  const s = shiftOf(level);
  const size = <u64>1 << s;
  for (let k = 0; k < n; k++) {
    const id = <usize>load<u16>(list + (<usize>k << 1));
    markEdge(level, tb, s, first, last, baseOf(id));
    markEdge(level, tb, s, first, last, endOf(id) - 1);
  }
  markEdge(level, tb, s, first, last, wb);
  markEdge(level, tb, s, first, last, we - 1);
  let j = first;
  while (j <= last) {
    const cb = tb + (j << s);
    if (load<u8>(markAt(level, j)) != 0) {
      store<u8>(markAt(level, j), 0);
      const inside = cb >= wb && cb + size <= we;
      updateEntry(level, table + (<usize>j << 2), cb, inside ? list : outer, inside ? n : outerLen, wb, we);
      j++;
      continue;
    }
    let end = j;
    while (end < last && load<u8>(markAt(level, end + 1)) == 0) end++;
    let next: u32 = ENTRY_EMPTY;
    for (let k = 0; k < n; k++) {
      const id = <usize>load<u16>(list + (<usize>k << 1));
      if (endOf(id) > cb && baseOf(id) < cb + size) {
        next = leafEntry(<u32>id);
        break;
      }
    }
    for (; j <= end; j++) {
      const slot = table + (<usize>j << 2);
      const old = load<u32>(slot);
      if (!isTerminal(old)) freeTable(<usize>old, level + 1);
      store<u32>(slot, next);
    }
  }
}

function rebuildMmio(wb: u64, we: u64): void {
  cacheTag = CACHE_NONE;
  cacheMask = 0;
  const all = orderList(SPACE_MMIO);
  const allLen = orderCount(SPACE_MMIO);
  // A root chunk inside [wb, we) can only meet mappings that meet [wb, we): filter once.
  const inRange = filterInto(all, allLen, lists, wb, we);
  updateRange(0, root, 0, wb >> shiftOf(0), (we - 1) >> shiftOf(0), lists, inRange, all, allLen, wb, we);
}

/** Root of x's set in the skip links: the first unpainted port at or after x (path halving). */
function sweepFind(x: usize): usize {
  let p = x;
  let next = <usize>load<u32>(ioSweep + (p << 2));
  while (next != p) {
    const after = <usize>load<u32>(ioSweep + (next << 2));
    store<u32>(ioSweep + (p << 2), <u32>after);
    p = after;
    next = <usize>load<u32>(ioSweep + (p << 2));
  }
  return p;
}

/**
 * Rewrites the IO table over [wb, we). One mapping covering the range, or none, is a fill.
 * Overlapping ones are painted in precedence order, each port once: skip links jump over ports
 * already painted, so the cost is the range plus the mappings, not their product.
 */
function rebuildIo(wb: u64, we: u64): void {
  const n = filterInto(orderList(SPACE_IO), orderCount(SPACE_IO), lists, wb, we);
  const b = <usize>wb;
  const len = <usize>(we - wb);
  if (n == 0) {
    memory.fill(ioTable + (b << 1), 0, len << 1);
    return;
  }
  const top = <usize>load<u16>(lists);
  if (baseOf(top) <= wb && endOf(top) >= we) {
    for (let p: usize = 0; p < len; p++) store<u16>(ioTable + ((b + p) << 1), <u16>top);
    return;
  }
  if (ioSweep == 0) ioSweep = heap.alloc(<usize>IO_SWEEP_BYTES);
  memory.fill(ioTable + (b << 1), 0, len << 1);
  for (let p: usize = 0; p <= len; p++) store<u32>(ioSweep + (p << 2), <u32>p);
  for (let k = 0; k < n; k++) {
    const id = <usize>load<u16>(lists + (<usize>k << 1));
    const s = <usize>(max<u64>(baseOf(id), wb) - wb);
    const e = <usize>(min<u64>(endOf(id), we) - wb);
    let p = sweepFind(s);
    while (p < e) {
      store<u16>(ioTable + ((b + p) << 1), <u16>id);
      store<u32>(ioSweep + (p << 2), <u32>(p + 1));
      p = sweepFind(p + 1);
    }
  }
}

// @ts-ignore: decorator
@inline function rebuild(space: u32, wb: u64, we: u64): void {
  if (space == SPACE_MMIO) rebuildMmio(wb, we);
  else rebuildIo(wb, we);
}

function unmapSlot(id: usize): void {
  const space = (load<u32>(rInfo + (id << 2)) >> 8) & 1;
  const b = baseOf(id);
  const e = endOf(id);
  orderRemove(space, id);
  store<u32>(rInfo + (id << 2), 0);
  store<u64>(rBase + (id << 3), 0);
  store<u64>(rEnd + (id << 3), 0);
  mappedCount--;
  rebuild(space, b, e);
}

// ---- API --------------------------------------------------------------------------------------

/**
 * Maps region `id` (1..4095) over [base, base + size) of `space` (0 MMIO, 1 IO) with `priority`
 * (0..255). An id already mapped is moved (unmapped, then mapped); arguments are checked first,
 * so a rejected call changes nothing. Returns OK, or ERR_RANGE for a bad id, space or priority,
 * a size of 0, or a range past the space's end (2^52 for MMIO, 0x10000 for IO).
 */
export function regionMap(id: u32, space: u32, base: u64, size: u64, priority: u32): i32 {
  if (id == 0 || id > MAX_REGION_ID || space > SPACE_IO || priority > MAX_PRIORITY || size == 0) return ERR_RANGE;
  const limit = space == SPACE_MMIO ? MMIO_LIMIT : IO_LIMIT;
  if (base >= limit || size > limit - base) return ERR_RANGE;
  const i = <usize>id;
  const info = INFO_MAPPED | (space << 8) | priority;
  const end = base + size;
  const was = load<u32>(rInfo + (i << 2));
  if (was != 0) {
    if (was == info && baseOf(i) == base && endOf(i) == end) return OK;
    unmapSlot(i);
  }
  store<u32>(rInfo + (i << 2), info);
  store<u64>(rBase + (i << 3), base);
  store<u64>(rEnd + (i << 3), end);
  orderInsert(space, i);
  mappedCount++;
  rebuild(space, base, end);
  return OK;
}

/** Unmaps region `id`: ERR_RANGE for an id outside 1..4095, ERR_NOT_FOUND if it is not mapped. */
export function regionUnmap(id: u32): i32 {
  if (id == 0 || id > MAX_REGION_ID) return ERR_RANGE;
  if (load<u32>(rInfo + (<usize>id << 2)) == 0) return ERR_NOT_FOUND;
  unmapSlot(<usize>id);
  return OK;
}

/**
 * The id of the region owning `addr` in `space`, 0 if none (also for a bad space and for MMIO
 * addresses at or above 2^52). The hot path: at most six dependent loads for MMIO (three for a
 * chunk of 2 MiB one region owns, four for a page), one for IO.
 */
// The last MMIO lookup's terminal chunk: a chunk a terminal entry covers belongs wholly to one
// id (or to nothing), so the next access inside it needs no walk. Guest traces are local (a
// driver pokes one BAR many times), which makes this one compare the common case. Any MMIO
// rebuild clears it: CACHE_NONE matches no address below 2^52.
const CACHE_NONE: u64 = 0xffffffffffffffff;
let cacheTag: u64 = CACHE_NONE;
let cacheMask: u64 = 0;
let cacheId: i32 = 0;

// @ts-ignore: decorator
@inline function remember(addr: u64, shift: u64, id: u32): i32 {
  cacheMask = ~((<u64>1 << shift) - 1);
  cacheTag = addr & cacheMask;
  cacheId = <i32>id;
  return <i32>id;
}

export function regionLookup(space: u32, addr: u64): i32 {
  if (space == SPACE_MMIO) {
    if ((addr & cacheMask) == cacheTag) return cacheId;
    if (addr >= MMIO_LIMIT) return 0;
    let e = load<u32>(root + (<usize>(addr >> 39) << 2));
    if (isTerminal(e)) return remember(addr, 39, entryId(e));
    e = load<u32>(<usize>e + (<usize>((addr >> 30) & 511) << 2));
    if (isTerminal(e)) return remember(addr, 30, entryId(e));
    e = load<u32>(<usize>e + (<usize>((addr >> 21) & 511) << 2));
    if (isTerminal(e)) return remember(addr, 21, entryId(e));
    e = load<u32>(<usize>e + (<usize>((addr >> 12) & 511) << 2));
    if (isTerminal(e)) return remember(addr, 12, entryId(e));
    e = load<u32>(<usize>e + (<usize>((addr >> 4) & 255) << 2));
    if (isTerminal(e)) return remember(addr, 4, entryId(e));
    return remember(addr, 0, entryId(load<u32>(<usize>e + (<usize>(addr & 15) << 2))));
  }
  if (space == SPACE_IO) return addr < IO_LIMIT ? <i32>load<u16>(ioTable + (<usize>addr << 1)) : 0;
  return 0;
}

export function regionBase(id: u32): u64 {
  return id > MAX_REGION_ID ? 0 : baseOf(<usize>id);
}

/** Size of a mapped region; 0 for an id not mapped. */
export function regionSize(id: u32): u64 {
  return id > MAX_REGION_ID ? 0 : endOf(<usize>id) - baseOf(<usize>id);
}

/** A mapped region's info word (1 << 16 | space << 8 | priority); 0 when the id is not mapped. */
export function regionInfoOf(id: u32): u32 {
  return id == 0 || id > MAX_REGION_ID ? 0 : load<u32>(rInfo + (<usize>id << 2));
}

/** Number of mapped regions, both spaces. */
export function regionCount(): i32 {
  return mappedCount;
}

/** Unmaps everything at once (VM reset). Tables go back to the free lists for reuse. */
export function regionReset(): void {
  cacheTag = CACHE_NONE;
  cacheMask = 0;
  for (let i: usize = 0; i < ROOT_ENTRIES; i++) {
    const e = load<u32>(root + (i << 2));
    if (!isTerminal(e)) freeTable(<usize>e, 1);
    store<u32>(root + (i << 2), ENTRY_EMPTY);
  }
  memory.fill(ioTable, 0, <usize>IO_LIMIT << 1);
  memory.fill(rBase, 0, ID_SLOTS << 3);
  memory.fill(rEnd, 0, ID_SLOTS << 3);
  memory.fill(rInfo, 0, ID_SLOTS << 2);
  store<u32>(orderLen, 0);
  store<u32>(orderLen, 0, 4);
  mappedCount = 0;
}

// ---- Inspection (tests, snapshots, the memory bound) ------------------------------------------

/** Bytes the region table has obtained from heap.alloc: fixed tables, the IO skip links once
 * needed, and every table block ever allocated. Flat under churn once the high-water mark is hit. */
export function regionTableBytes(): u32 {
  let bytes = FIXED_BYTES + (ioSweep != 0 ? IO_SWEEP_BYTES : 0);
  for (let c: usize = 0; c < <usize>BLOCK_CLASSES; c++) {
    bytes += load<u32>(obtained + (c << 2)) * (<u32>classEntries(c) << 2);
  }
  return bytes;
}

/** Bytes of the table blocks in use now (a function of the mapping set alone). */
export function regionTableLiveBytes(): u32 {
  let bytes: u32 = 0;
  for (let c: usize = 0; c < <usize>BLOCK_CLASSES; c++) {
    bytes += load<u32>(liveBlocks + (c << 2)) * (<u32>classEntries(c) << 2);
  }
  return bytes;
}

/** Live blocks of class `cls` (0: levels 1-3, 1: level 4, 2: level 5); -1 for a bad class. */
export function regionTableBlocks(cls: u32): i32 {
  return cls < BLOCK_CLASSES ? <i32>load<u32>(liveBlocks + (<usize>cls << 2)) : -1;
}

/**
 * What the MMIO path for `addr` holds at `level` (0..5): the id of a terminal entry (0 = nothing
 * mapped), -1 for a pointer to a lower table, -2 when the path ends above that level or the
 * arguments are out of range.
 */
export function regionProbe(addr: u64, level: i32): i32 {
  if (addr >= MMIO_LIMIT || level < 0 || level > LAST_LEVEL) return -2;
  let e = load<u32>(root + (<usize>(addr >> shiftOf(0)) << 2));
  for (let l = 1; l <= level; l++) {
    if (isTerminal(e)) return -2;
    e = load<u32>(<usize>e + (<usize>((addr >> shiftOf(l)) & maskOf(l)) << 2));
  }
  return isTerminal(e) ? <i32>entryId(e) : -1;
}
