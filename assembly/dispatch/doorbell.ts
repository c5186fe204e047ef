// Doorbells: a write counts and queues an event the embedder drains; nothing calls out of Wasm.
// Events (32 bytes): +0 region u32 | +4 size u32 | +8 offset u64 | +16 value u64 | +24 reserved.
import { staging } from "../config/store";
import { bump, C_DROPPED_EVENTS } from "./regions";

export const EVENT_CAPACITY: u32 = 4096;
const EVENT_BYTES: usize = 32;
const MAX_DOORBELLS: u32 = 4096;

const counts: usize = heap.alloc(<usize>MAX_DOORBELLS << 3);
memory.fill(counts, 0, <usize>MAX_DOORBELLS << 3);
let doorbells: u32 = 0;
const ring: usize = heap.alloc(<usize>EVENT_CAPACITY * EVENT_BYTES);
let head: u32 = 0; // oldest event
let queued: u32 = 0;

/** A new doorbell's index (its handler datum), or 0xffffffff when none is left. */
export function doorbellCreate(): u32 {
  if (doorbells >= MAX_DOORBELLS) return 0xffffffff;
  return doorbells++;
}

/** Takes back the newest doorbell (its region was refused): OK, or NOT_FOUND for any other. */
export function doorbellDrop(index: u32): i32 {
  if (doorbells == 0 || index != doorbells - 1) return -4;
  doorbells--;
  store<u64>(counts + (<usize>index << 3), 0);
  return 0;
}

export function doorbellValid(index: u32): bool {
  return index < doorbells;
}

export function doorbellCount(index: u32): u64 {
  return index < doorbells ? load<u64>(counts + (<usize>index << 3)) : 0;
}

export function doorbellWrite(index: u32, region: u32, offset: u64, size: i32, value: u64): void {
  const c = counts + (<usize>index << 3);
  store<u64>(c, load<u64>(c) + 1);
  if (queued >= EVENT_CAPACITY) {
    bump(C_DROPPED_EVENTS);
    return;
  }
  const e = ring + <usize>((head + queued) % EVENT_CAPACITY) * EVENT_BYTES;
  store<u32>(e, region);
  store<u32>(e, <u32>size, 4);
  store<u64>(e, offset, 8);
  store<u64>(e, value, 16);
  queued++;
}

export function eventsQueued(): u32 {
  return queued;
}

/** How many doorbells exist (handles 0..n-1), for state save and load. */
export function doorbellTotal(): u32 {
  return doorbells;
}

/** State load: a valid doorbell's write count. */
export function doorbellSetCount(index: u32, value: u64): void {
  store<u64>(counts + (<usize>index << 3), value);
}

/** The i-th queued event (0 = oldest, i < eventsQueued()), for state save. */
export function eventAt(i: u32): usize {
  return ring + <usize>((head + i) % EVENT_CAPACITY) * EVENT_BYTES;
}

/** State load: the queue holds `n` (<= EVENT_CAPACITY) events, the caller writes them at eventAt(i). */
export function eventsRestore(n: u32): void {
  head = 0;
  queued = n;
}

/** Moves up to `max` oldest events (at most what fits in staging) to the staging area; returns how many. */
export function eventsDrain(max: u32): u32 {
  const fit = <u32>12288 / <u32>EVENT_BYTES;
  let n = queued < max ? queued : max;
  if (n > fit) n = fit;
  for (let i: u32 = 0; i < n; i++) {
    memory.copy(staging + <usize>i * EVENT_BYTES, ring + <usize>((head + i) % EVENT_CAPACITY) * EVENT_BYTES, EVENT_BYTES);
  }
  head = (head + n) % EVENT_CAPACITY;
  queued -= n;
  return n;
}
