// Region records: what owns each region id (its kind and handler), where it came from (function
// slot, BAR), and its access counters. The region table (region-table.ts) answers "which id owns
// this address"; this file answers "what does that id do".
//
//   record (64 bytes) per id:
//     +0  kind u32        +4  a u32 (handler datum)   +8  slot i32   +12 bar u32
//     +16 subOffset u64 (offset of the region inside its BAR)
//     +24 reads u64       +32 writes u64
//     +40 length u64 (BAR sub-range handlers)          +48 next u32 (next handler of the BAR)
import { MAX_REGION_ID, regionUnmap } from "./region-table";

export const KIND_FREE: u32 = 0;
export const KIND_ECAM: u32 = 1;
export const KIND_CF8: u32 = 2;
export const KIND_CFC: u32 = 3;
/** A whole BAR with no handler: reads 0, writes ignored. */
export const KIND_BAR: u32 = 4;
export const KIND_REGFILE: u32 = 5;
export const KIND_DOORBELL: u32 = 6;
/** A TypeScript device model, reached through the host import. */
export const KIND_HOST: u32 = 7;
/** An MSI-X table or PBA inside a BAR (irq/msix.ts); datum = the function's slot. */
export const KIND_MSIX_TABLE: u32 = 8;
export const KIND_MSIX_PBA: u32 = 9;

export const PRIORITY_BAR: u32 = 10;
export const PRIORITY_BAR_HANDLER: u32 = 20;
export const PRIORITY_CONFIG: u32 = 250;

const RECORD: usize = 64;
const IDS: usize = <usize>MAX_REGION_ID + 1;
const records: usize = heap.alloc(IDS * RECORD);
memory.fill(records, 0, IDS * RECORD);

// @ts-ignore: decorator
@inline export function recordOf(id: u32): usize {
  return records + <usize>id * RECORD;
}

// @ts-ignore: decorator
@inline export function kindOf(id: u32): u32 {
  return load<u32>(recordOf(id));
}

// @ts-ignore: decorator
@inline export function datumOf(id: u32): u32 {
  return load<u32>(recordOf(id), 4);
}

// @ts-ignore: decorator
@inline export function slotOf(id: u32): i32 {
  return load<i32>(recordOf(id), 8);
}

// @ts-ignore: decorator
@inline export function barOf(id: u32): u32 {
  return load<u32>(recordOf(id), 12);
}

// @ts-ignore: decorator
@inline export function subOffsetOf(id: u32): u64 {
  return load<u64>(recordOf(id), 16);
}

// @ts-ignore: decorator
@inline export function countRead(id: u32): void {
  const r = recordOf(id);
  store<u64>(r, load<u64>(r, 24) + 1, 24);
}

// @ts-ignore: decorator
@inline export function countWrite(id: u32): void {
  const r = recordOf(id);
  store<u64>(r, load<u64>(r, 32) + 1, 32);
}

// @ts-ignore: decorator
@inline export function lengthOf(id: u32): u64 {
  return load<u64>(recordOf(id), 40);
}

// @ts-ignore: decorator
@inline export function nextOf(id: u32): u32 {
  return load<u32>(recordOf(id), 48);
}

export function setLength(id: u32, length: u64): void {
  store<u64>(recordOf(id), length, 40);
}

export function setNext(id: u32, next: u32): void {
  store<u32>(recordOf(id), next, 48);
}

/** Allocates the lowest free id (so ids follow call order), or returns 0 when none is left. */
export function regionAlloc(kind: u32, datum: u32, slot: i32, bar: u32, subOffset: u64): u32 {
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) {
    if (kindOf(id) == KIND_FREE) {
      const r = recordOf(id);
      memory.fill(r, 0, RECORD);
      store<u32>(r, kind);
      store<u32>(r, datum, 4);
      store<i32>(r, slot, 8);
      store<u32>(r, bar, 12);
      store<u64>(r, subOffset, 16);
      return id;
    }
  }
  return 0;
}

/** Unmaps and frees a region id. */
export function regionFree(id: u32): void {
  if (id == 0 || id > MAX_REGION_ID) return;
  regionUnmap(id);
  store<u32>(recordOf(id), KIND_FREE);
}

export function regionKind(id: u32): u32 {
  return id == 0 || id > MAX_REGION_ID ? KIND_FREE : kindOf(id);
}

/** Counters as f64 for the boundary (exact below 2^53). */
export function regionReads(id: u32): f64 {
  return id == 0 || id > MAX_REGION_ID ? 0 : <f64>load<u64>(recordOf(id), 24);
}

export function regionWrites(id: u32): f64 {
  return id == 0 || id > MAX_REGION_ID ? 0 : <f64>load<u64>(recordOf(id), 32);
}

/** For state load: a region's access counters (the id is valid). */
export function setRegionCounts(id: u32, reads: u64, writes: u64): void {
  store<u64>(recordOf(id), reads, 24);
  store<u64>(recordOf(id), writes, 32);
}

export function regionSlot(id: u32): i32 {
  return id == 0 || id > MAX_REGION_ID ? -1 : slotOf(id);
}

export function regionBar(id: u32): u32 {
  return id == 0 || id > MAX_REGION_ID ? 0 : barOf(id);
}

// Global counters: master aborts per space and direction, invalid accesses, host errors, drops.
//   0 mmio reads  1 mmio writes  2 io reads  3 io writes  4 invalid  5 host errors
//   6 dropped doorbell events  7 dropped effects  8 dropped interrupt events
export const COUNTERS: u32 = 9;
const counters: usize = heap.alloc(<usize>COUNTERS * 8);
memory.fill(counters, 0, <usize>COUNTERS * 8);
export const C_ABORT_MMIO_READ: u32 = 0;
export const C_ABORT_MMIO_WRITE: u32 = 1;
export const C_ABORT_IO_READ: u32 = 2;
export const C_ABORT_IO_WRITE: u32 = 3;
export const C_INVALID: u32 = 4;
export const C_HOST_ERROR: u32 = 5;
export const C_DROPPED_EVENTS: u32 = 6;
export const C_DROPPED_EFFECTS: u32 = 7;
export const C_DROPPED_IRQS: u32 = 8;

// @ts-ignore: decorator
@inline export function bump(counter: u32): void {
  const p = counters + (<usize>counter << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function counterValue(counter: u32): f64 {
  return counter < COUNTERS ? <f64>load<u64>(counters + (<usize>counter << 3)) : 0;
}

/** For state load: a global counter (the index is below COUNTERS). */
export function setCounter(counter: u32, value: u64): void {
  store<u64>(counters + (<usize>counter << 3), value);
}

/** For the embedder's own rejections (bad size or address before the core): one counter path. */
export function countInvalid(): void {
  bump(C_INVALID);
}
