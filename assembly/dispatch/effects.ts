// Effects the core reports to TypeScript as values: BAR mapping changes. A bounded ring; when it
// is full new effects are dropped and counted (TypeScript drains it after each call or batch).
//   effect (40 bytes): +0 slot u32 | +4 bar u32 | +8 kind u32 | +12 flags u32 (1 old mapped,
//   2 new mapped) | +16 oldBase u64 | +24 newBase u64 | +32 size u64
import { staging } from "../config/store";
import { bump, C_DROPPED_EFFECTS } from "./regions";

export const EFFECT_CAPACITY: u32 = 1024;
const EFFECT_BYTES: usize = 40;
const ring: usize = heap.alloc(<usize>EFFECT_CAPACITY * EFFECT_BYTES);
let head: u32 = 0;
let queued: u32 = 0;

export function effectBarMoved(slot: i32, bar: u32, kind: u32, oldMapped: bool, oldBase: u64, newMapped: bool, newBase: u64, size: u64): void {
  if (queued >= EFFECT_CAPACITY) {
    bump(C_DROPPED_EFFECTS);
    return;
  }
  const e = ring + <usize>((head + queued) % EFFECT_CAPACITY) * EFFECT_BYTES;
  store<u32>(e, <u32>slot);
  store<u32>(e, bar, 4);
  store<u32>(e, kind, 8);
  store<u32>(e, (oldMapped ? 1 : 0) | (newMapped ? 2 : 0), 12);
  store<u64>(e, oldMapped ? oldBase : 0, 16);
  store<u64>(e, newMapped ? newBase : 0, 24);
  store<u64>(e, size, 32);
  queued++;
}

export function effectsQueued(): u32 {
  return queued;
}

/** The i-th queued effect (0 = oldest, i < effectsQueued()), for state save. */
export function effectAt(i: u32): usize {
  return ring + <usize>((head + i) % EFFECT_CAPACITY) * EFFECT_BYTES;
}

/** State load: the queue holds `n` (<= EFFECT_CAPACITY) effects, the caller writes them at effectAt(i). */
export function effectsRestore(n: u32): void {
  head = 0;
  queued = n;
}

/** Moves up to `max` oldest effects (at most what fits in staging) to the staging area. */
export function effectsDrain(max: u32): u32 {
  const fit = <u32>12288 / <u32>EFFECT_BYTES;
  let n = queued < max ? queued : max;
  if (n > fit) n = fit;
  for (let i: u32 = 0; i < n; i++) {
    memory.copy(staging + <usize>i * EFFECT_BYTES, ring + <usize>((head + i) % EFFECT_CAPACITY) * EFFECT_BYTES, EFFECT_BYTES);
  }
  head = (head + n) % EFFECT_CAPACITY;
  queued -= n;
  return n;
}
