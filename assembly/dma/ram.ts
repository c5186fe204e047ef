// Guest memory map: RAM regions (guest-physical base, size), each backed either by memory the
// core allocates in linear memory (internal: the core copies with memory.copy) or by an
// ArrayBuffer the embedder holds (external: the core only translates; TypeScript copies).
//
//   per index (0..MAX_RAM-1): base u64 | end u64 | ptr u32 (internal block, 0 = external)
//                             | used u8 | block u32 + capacity u64 (kept for reuse)
//   order[0..count)          indexes sorted by base (regions never overlap)
//
// Lookup: the region of the last hit first (one compare pair: DMA streams stay in one region),
// then a binary search over `order` (at most 6 steps for 64 regions). Translated domains reach
// this only on an IOTLB miss: the IOTLB entry caches the region (iotlb.ts).
import { coreAlloc } from "../alloc";
import {
  OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, ERR_NOT_FOUND, MAX_RAM, GPA_LIMIT, PAGE_SIZE, MAX_INTERNAL_RAM,
} from "./layout";

const rBase: usize = heap.alloc(<usize>MAX_RAM << 3);
const rEnd: usize = heap.alloc(<usize>MAX_RAM << 3);
const rPtr: usize = heap.alloc(<usize>MAX_RAM << 2);
const rUsed: usize = heap.alloc(<usize>MAX_RAM);
/** Internal blocks stay with their index when a region is removed (the stub runtime cannot
 * free them) and are reused by the next internal region at that index if large enough. */
const rBlock: usize = heap.alloc(<usize>MAX_RAM << 2);
const rCap: usize = heap.alloc(<usize>MAX_RAM << 3);
const order: usize = heap.alloc(<usize>MAX_RAM);
let count: u32 = 0;
let lastHit: u32 = 0;
memory.fill(rBase, 0, <usize>MAX_RAM << 3);
memory.fill(rEnd, 0, <usize>MAX_RAM << 3);
memory.fill(rPtr, 0, <usize>MAX_RAM << 2);
memory.fill(rUsed, 0, <usize>MAX_RAM);
memory.fill(rBlock, 0, <usize>MAX_RAM << 2);
memory.fill(rCap, 0, <usize>MAX_RAM << 3);

/** Result of ramFind: the region index. */
export let found: u32 = 0;

// @ts-ignore: decorator
@inline export function ramBaseOf(i: u32): u64 {
  return load<u64>(rBase + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function ramEndOf(i: u32): u64 {
  return load<u64>(rEnd + (<usize>i << 3));
}

/** Linear-memory address of an internal region's bytes; 0 for external. */
// @ts-ignore: decorator
@inline export function ramPtrOf(i: u32): usize {
  return <usize>load<u32>(rPtr + (<usize>i << 2));
}

export function ramUsed(i: u32): bool {
  return i < MAX_RAM && load<u8>(rUsed + <usize>i) != 0;
}

// @ts-ignore: decorator
@inline function orderAt(k: u32): u32 {
  return <u32>load<u8>(order + <usize>k);
}

/** The region of the last successful ramFind (an unused index has base = end = 0). */
// @ts-ignore: decorator
@inline export function ramLastHit(): u32 {
  return lastHit;
}

/** The region holding guest-physical `gpa` into `found`; false when it is not RAM. */
export function ramFind(gpa: u64): bool {
  let i = lastHit;
  if (gpa >= ramBaseOf(i) && gpa < ramEndOf(i)) { // an unused index has base = end = 0
    found = i;
    return true;
  }
  let lo: u32 = 0;
  let hi = count;
  while (lo < hi) { // first region whose base is above gpa
    const mid = (lo + hi) >> 1;
    if (ramBaseOf(orderAt(mid)) <= gpa) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return false;
  i = orderAt(lo - 1);
  if (gpa >= ramEndOf(i)) return false;
  lastHit = i;
  found = i;
  return true;
}

/**
 * Adds RAM at guest-physical [base, base + size): internal (the core allocates and zeroes it)
 * or external. Returns the region index (0..63), ERR_RANGE (size 0, not 4 KiB aligned, past
 * 2^52, internal larger than MAX_INTERNAL_RAM), ERR_EXISTS (overlaps a region) or ERR_FULL
 * (64 regions, or linear memory cannot grow).
 */
export function ramAdd(base: u64, size: u64, internal: bool): i32 {
  if (size == 0 || ((base | size) & (PAGE_SIZE - 1)) != 0) return ERR_RANGE;
  if (base >= GPA_LIMIT || size > GPA_LIMIT - base) return ERR_RANGE;
  if (internal && size > MAX_INTERNAL_RAM) return ERR_RANGE;
  const end = base + size;
  let at: u32 = 0; // insertion point in order
  while (at < count && ramBaseOf(orderAt(at)) < base) at++;
  if (at > 0 && ramEndOf(orderAt(at - 1)) > base) return ERR_EXISTS;
  if (at < count && ramBaseOf(orderAt(at)) < end) return ERR_EXISTS;
  let i: u32 = 0;
  while (i < MAX_RAM && load<u8>(rUsed + <usize>i) != 0) i++;
  if (i == MAX_RAM) return ERR_FULL;
  let ptr: usize = 0;
  if (internal) {
    ptr = <usize>load<u32>(rBlock + (<usize>i << 2));
    if (ptr == 0 || load<u64>(rCap + (<usize>i << 3)) < size) {
      ptr = coreAlloc(<usize>size);
      if (ptr == 0) return ERR_FULL;
      store<u32>(rBlock + (<usize>i << 2), <u32>ptr);
      store<u64>(rCap + (<usize>i << 3), size);
    }
    memory.fill(ptr, 0, <usize>size);
  }
  store<u64>(rBase + (<usize>i << 3), base);
  store<u64>(rEnd + (<usize>i << 3), end);
  store<u32>(rPtr + (<usize>i << 2), <u32>ptr);
  store<u8>(rUsed + <usize>i, 1);
  memory.copy(order + <usize>at + 1, order + <usize>at, <usize>(count - at));
  store<u8>(order + <usize>at, <u8>i);
  count++;
  return <i32>i;
}

/** Removes a region (the caller flushes what caches it). ERR_NOT_FOUND for an unused index. */
export function ramRemove(i: u32): i32 {
  if (!ramUsed(i)) return ERR_NOT_FOUND;
  let k: u32 = 0;
  while (orderAt(k) != i) k++;
  memory.copy(order + <usize>k, order + <usize>k + 1, <usize>(count - k - 1));
  count--;
  store<u8>(rUsed + <usize>i, 0);
  store<u64>(rBase + (<usize>i << 3), 0);
  store<u64>(rEnd + (<usize>i << 3), 0);
  store<u32>(rPtr + (<usize>i << 2), 0);
  lastHit = 0;
  return OK;
}

export function ramCount(): u32 {
  return count;
}

/**
 * State load, before anything changes: makes sure index `i` has an internal block of at least
 * `size` bytes (kept with the index, as ramAdd keeps them). false when memory cannot grow.
 */
export function ramReserve(i: u32, size: u64): bool {
  if (load<u32>(rBlock + (<usize>i << 2)) != 0 && load<u64>(rCap + (<usize>i << 3)) >= size) return true;
  const ptr = coreAlloc(<usize>size);
  if (ptr == 0) return false;
  store<u32>(rBlock + (<usize>i << 2), <u32>ptr);
  store<u64>(rCap + (<usize>i << 3), size);
  return true;
}

/**
 * State load: region `i` at [base, base + size), internal (on the block ramReserve made; its
 * bytes are left for the caller to fill) or external. The caller has checked the regions, reset
 * the map and adds them in any order; `order` stays sorted by base.
 */
export function ramRestore(i: u32, base: u64, size: u64, internal: bool): void {
  let at: u32 = 0;
  while (at < count && ramBaseOf(orderAt(at)) < base) at++;
  store<u64>(rBase + (<usize>i << 3), base);
  store<u64>(rEnd + (<usize>i << 3), base + size);
  store<u32>(rPtr + (<usize>i << 2), internal ? load<u32>(rBlock + (<usize>i << 2)) : 0);
  store<u8>(rUsed + <usize>i, 1);
  memory.copy(order + <usize>at + 1, order + <usize>at, <usize>(count - at));
  store<u8>(order + <usize>at, <u8>i);
  count++;
}

export function ramReset(): void {
  for (let i: u32 = 0; i < MAX_RAM; i++) {
    store<u8>(rUsed + <usize>i, 0);
    store<u64>(rBase + (<usize>i << 3), 0);
    store<u64>(rEnd + (<usize>i << 3), 0);
    store<u32>(rPtr + (<usize>i << 2), 0);
  }
  count = 0;
  lastHit = 0;
}
