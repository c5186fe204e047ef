// DMA fault log and counters. The log is a bounded ring of FAULT_CAPACITY records; when it is
// full a new fault is not recorded but counted (C_FAULTS_DROPPED), like VT-d's primary fault
// overflow: the oldest records, usually the cause, are kept. TypeScript drains it.
//   ring record (24 bytes): +0 iova u64 | +8 slot i32 | +12 length u32 | +16 direction u32
//   | +20 reason u32; the drained copy stores the iova as f64 (layout.ts).
import { FAULT_CAPACITY, FAULT_BYTES, COUNTERS, C_FAULTS, C_FAULTS_DROPPED } from "./layout";

const ring: usize = heap.alloc(<usize>FAULT_CAPACITY * FAULT_BYTES);
/** Where dmaFaultsDrain puts the records it takes out of the ring. */
export const faultOut: usize = heap.alloc(<usize>FAULT_CAPACITY * FAULT_BYTES);
const counters: usize = heap.alloc(<usize>COUNTERS << 3);
let head: u32 = 0;
let queued: u32 = 0;
memory.fill(counters, 0, <usize>COUNTERS << 3);
memory.fill(faultOut, 0, <usize>FAULT_CAPACITY * FAULT_BYTES);

// @ts-ignore: decorator
@inline export function bump(counter: u32, by: u64): void {
  const p = counters + (<usize>counter << 3);
  store<u64>(p, load<u64>(p) + by);
}

export function counterOf(counter: u32): u64 {
  return counter < COUNTERS ? load<u64>(counters + (<usize>counter << 3)) : 0;
}

export function faultRecord(slot: i32, iova: u64, length: u64, dir: u32, reason: u32): void {
  bump(C_FAULTS, 1);
  if (queued >= FAULT_CAPACITY) {
    bump(C_FAULTS_DROPPED, 1);
    return;
  }
  const r = ring + <usize>((head + queued) % FAULT_CAPACITY) * FAULT_BYTES;
  store<u64>(r, iova);
  store<i32>(r, slot, 8);
  store<u32>(r, <u32>length, 12);
  store<u32>(r, dir, 16);
  store<u32>(r, reason, 20);
  queued++;
}

export function faultsQueued(): u32 {
  return queued;
}

/** The i-th queued fault record (0 = oldest, i < faultsQueued()), for state save. */
export function faultAt(i: u32): usize {
  return ring + <usize>((head + i) % FAULT_CAPACITY) * FAULT_BYTES;
}

/** State load: the log holds `n` (<= FAULT_CAPACITY) records, the caller writes them at faultAt(i). */
export function faultsRestore(n: u32): void {
  head = 0;
  queued = n;
}

/** State load: counter `counter` (below COUNTERS). */
export function counterSet(counter: u32, value: u64): void {
  store<u64>(counters + (<usize>counter << 3), value);
}

/** Moves up to `max` oldest records to faultOut (iova as f64); returns how many. */
export function faultsDrain(max: u32): u32 {
  const n = queued < max ? queued : max;
  for (let i: u32 = 0; i < n; i++) {
    const r = ring + <usize>((head + i) % FAULT_CAPACITY) * FAULT_BYTES;
    const o = faultOut + <usize>i * FAULT_BYTES;
    store<f64>(o, <f64>load<u64>(r));
    memory.copy(o + 8, r + 8, 16);
  }
  head = (head + n) % FAULT_CAPACITY;
  queued -= n;
  return n;
}

export function faultsReset(): void {
  head = 0;
  queued = 0;
  memory.fill(counters, 0, <usize>COUNTERS << 3);
}
