// The state image: the flat form of a CoreState (src/core/state.ts) in linear memory, written by
// stateSave and read by stateLoad, field by field in the schema's order (DESIGN.md here):
//   number, boolean  f64 (booleans 0 or 1; 64-bit values below 2^53 or powers of two, exact)
//   bytes            f64 length, then the bytes, zero-padded to a multiple of 8
//   RAM bytes        f64 length, or -1 for none (the contents travel outside the image)
//   list             f64 count, then the items
// One buffer, allocated on first use and replaced by a larger one when an image outgrows it (the
// stub runtime cannot free: the old block is abandoned, so it grows by doubling).
import { coreAlloc } from "../alloc";
import { OK, ERR_RANGE } from "../config/layout";

let buffer: usize = 0;
let capacity: usize = 0;

/** The buffer, with at least `size` bytes; 0 when memory cannot grow (the old one stays). */
export function imageReserve(size: usize): usize {
  if (size <= capacity && buffer != 0) return buffer;
  let want: usize = capacity < 65536 ? 65536 : capacity;
  while (want < size) {
    if (want > 0x40000000) { want = size; break; }
    want <<= 1;
  }
  const p = coreAlloc(want);
  if (p == 0) return 0;
  buffer = p;
  capacity = want;
  return p;
}

export function imageAddress(): usize {
  return buffer;
}

export function imageCapacity(): usize {
  return capacity;
}

// @ts-ignore: decorator
@inline export function padded(len: usize): usize {
  return (len + 7) & ~(<usize>7);
}

// ---- Writing (stateSave): a dry pass measures, the second writes -------------------------------

let dry: bool = true;
export let wat: usize = 0;

export function writeBegin(measure: bool, at: usize): void {
  dry = measure;
  wat = at;
}

export function putNum(v: f64): void {
  if (!dry) store<f64>(wat, v);
  wat += 8;
}

// @ts-ignore: decorator
@inline export function putU64(v: u64): void {
  putNum(<f64>v);
}

// @ts-ignore: decorator
@inline export function putBool(v: bool): void {
  putNum(v ? 1 : 0);
}

export function putBytes(src: usize, len: usize): void {
  putNum(<f64>len);
  if (!dry) {
    memory.copy(wat, src, len);
    memory.fill(wat + len, 0, padded(len) - len);
  }
  wat += padded(len);
}

/** A list's count goes first: mark its place, write the items, then patch it. */
export function markCount(): usize {
  const at = wat;
  putNum(0);
  return at;
}

export function patchCount(at: usize, n: u32): void {
  if (!dry) store<f64>(at, <f64>n);
}

// ---- Reading (stateLoad): every read checks the bytes left and the value's range ---------------
// The first failure is kept in `status` (ERR_RANGE for a bad value or a short image, ERR_MISMATCH
// for a state of another core); reads after it return 0 and the walkers stop at their next check.

let rat: usize = 0;
let rend: usize = 0;
export let status: i32 = OK;
/** The length of the last blob read. */
export let blobLength: u32 = 0;

export function readBegin(at: usize, size: usize): void {
  rat = at;
  rend = at + size;
  status = OK;
}

export function readDone(): bool {
  return rat == rend;
}

export function fail(st: i32): void {
  if (status == OK) status = st;
}

// @ts-ignore: decorator
@inline export function failed(): bool {
  return status != OK;
}

export function num(): f64 {
  if (status != OK || rend - rat < 8) {
    fail(ERR_RANGE);
    return 0;
  }
  const v = load<f64>(rat);
  rat += 8;
  return v;
}

/** An integer in [lo, hi] (within the f64-exact range); else ERR_RANGE and lo. */
export function int(lo: f64, hi: f64): i64 {
  const v = num();
  if (!(v >= lo && v <= hi) || Math.floor(v) != v) {
    fail(ERR_RANGE);
    return <i64>lo;
  }
  return <i64>v;
}

/** An integer in [0, 2^64) (the Wasm boundary's u64 rule). */
export function u64v(): u64 {
  const v = num();
  if (!(v >= 0.0 && v < 18446744073709551616.0) || Math.floor(v) != v) {
    fail(ERR_RANGE);
    return 0;
  }
  return <u64>v;
}

// @ts-ignore: decorator
@inline export function u32v(): u32 {
  return <u32>int(0, 4294967295.0);
}

export function boolv(): bool {
  const v = num();
  if (v != 0 && v != 1) fail(ERR_RANGE);
  return v == 1;
}

/** A list count: at most `max`, and no more items than bytes left for their first field. */
export function count(max: u32): u32 {
  const n = <u32>int(0, <f64>max);
  if (status == OK && <u64>n * 8 > <u64>(rend - rat)) fail(ERR_RANGE);
  return status == OK ? n : 0;
}

/** Bytes of at most `max`: their address in the image; blobLength says how many. */
export function blob(max: u32): usize {
  blobLength = <u32>int(0, <f64>max);
  if (status != OK || <usize>padded(<usize>blobLength) > rend - rat) {
    fail(ERR_RANGE);
    blobLength = 0;
    return 0;
  }
  const at = rat;
  rat += padded(<usize>blobLength);
  return at;
}

/** A RAM bytes field: -1 (none) or a length up to `max`. */
export function ramLength(max: f64): f64 {
  const v = num();
  if (v != -1 && (!(v >= 0 && v <= max) || Math.floor(v) != v)) fail(ERR_RANGE);
  return v;
}
