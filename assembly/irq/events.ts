// The interrupt event queue: line level changes and MSI/MSI-X messages, in the order they happen,
// drained by TypeScript after an access (the write exports return how many are queued) or after a
// batch. When it is full new events are dropped and counted.
import { staging } from "../config/store";
import { bump, C_DROPPED_IRQS } from "../dispatch/regions";
import { IRQ_CAPACITY, IRQ_RECORD_BYTES, KIND_LINE, KIND_MESSAGE } from "./layout";

const ring: usize = heap.alloc(<usize>IRQ_CAPACITY * <usize>IRQ_RECORD_BYTES);
let head: u32 = 0;
let queued: u32 = 0;

function push(kind: u32, slot: i32, a: u32, b: u32, c: u32): void {
  if (queued >= IRQ_CAPACITY) {
    bump(C_DROPPED_IRQS);
    return;
  }
  const e = ring + <usize>((head + queued) % IRQ_CAPACITY) * <usize>IRQ_RECORD_BYTES;
  store<u32>(e, kind);
  store<i32>(e, slot, 4);
  store<u32>(e, a, 8);
  store<u32>(e, b, 12);
  store<u32>(e, c, 16);
  store<u32>(e, 0, 20);
  queued++;
}

export function queueLine(gsi: u32, level: u32): void {
  push(KIND_LINE, -1, gsi, level, 0);
}

export function queueMessage(slot: i32, addressLow: u32, addressHigh: u32, data: u32): void {
  push(KIND_MESSAGE, slot, data, addressLow, addressHigh);
}

export function irqQueued(): u32 {
  return queued;
}

/** The i-th queued event (0 = oldest, i < irqQueued()), for state save. */
export function irqEventAt(i: u32): usize {
  return ring + <usize>((head + i) % IRQ_CAPACITY) * <usize>IRQ_RECORD_BYTES;
}

/** State load: the queue holds `n` (<= IRQ_CAPACITY) events, the caller writes them at irqEventAt(i). */
export function irqEventsRestore(n: u32): void {
  head = 0;
  queued = n;
}

/** Moves up to `max` oldest events (at most what fits in staging) to the staging area. */
export function irqDrain(max: u32): u32 {
  const fit = <u32>12288 / IRQ_RECORD_BYTES;
  let n = queued < max ? queued : max;
  if (n > fit) n = fit;
  for (let i: u32 = 0; i < n; i++) {
    memory.copy(staging + <usize>(i * IRQ_RECORD_BYTES), ring + <usize>((head + i) % IRQ_CAPACITY) * <usize>IRQ_RECORD_BYTES, <usize>IRQ_RECORD_BYTES);
  }
  head = (head + n) % IRQ_CAPACITY;
  queued -= n;
  return n;
}
