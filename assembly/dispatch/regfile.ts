// Wasm-native register files: a small byte array with a per-byte write mask, for simple devices
// whose registers need no behaviour (IDs, scratch, configuration words). No call out of Wasm.
//
//   regfile:  +0 size u32 | +4 reserved | +8 values[size] | +8+size mask[size]
// Handles are indexes into a table of regfiles, so a handle can never point elsewhere.
import { coreAlloc } from "../alloc";
import { staging } from "../config/store";

export const REGFILE_MAX: u32 = 4096;
const MAX_REGFILES: u32 = 4096;
const table: usize = heap.alloc(<usize>MAX_REGFILES << 2);
let count: u32 = 0;
/** The block of the last dropped file, kept for the next create that fits (see regfileDrop). */
let spare: usize = 0;
let spareCapacity: u32 = 0;

/** Creates a register file from the staging area (values at 0, write mask at 4096); returns its
 * handle, or 0xffffffff if the size is bad, no handle is left or memory cannot grow. */
export function regfileCreate(size: u32): u32 {
  if (size == 0 || size > REGFILE_MAX || count >= MAX_REGFILES) return 0xffffffff;
  let p: usize = 0;
  if (spare != 0 && spareCapacity >= size) {
    p = spare;
    spare = 0;
  } else {
    p = coreAlloc(8 + (<usize>size << 1));
  }
  if (p == 0) return 0xffffffff;
  store<u32>(p, size);
  memory.copy(p + 8, staging, size);
  memory.copy(p + 8 + size, staging + REGFILE_MAX, size);
  store<u32>(table + (<usize>count << 2), <u32>p);
  return count++;
}

/**
 * Takes back the newest register file when the region it was made for was refused, so a refusal
 * uses up nothing: its handle is free again and its block serves the next create that fits (the
 * allocator frees nothing). Only the newest can go: OK, or NOT_FOUND for any other handle.
 */
export function regfileDrop(handle: u32): i32 {
  if (count == 0 || handle != count - 1) return -4;
  const p = addressOf(handle);
  const capacity = load<u32>(p);
  if (spare == 0 || capacity > spareCapacity) {
    spare = p;
    spareCapacity = capacity;
  }
  count--;
  return 0;
}

export function regfileValid(handle: u32): bool {
  return handle < count;
}

/** How many register files exist (handles 0..count-1), for state save and load. */
export function regfileCount(): u32 {
  return count;
}

/** Where a valid handle's file is: +0 size u32 | +8 values[size] | +8+size mask[size]. */
export function regfileAddress(handle: u32): usize {
  return addressOf(handle);
}

// @ts-ignore: decorator
@inline function addressOf(handle: u32): usize {
  return <usize>load<u32>(table + (<usize>handle << 2));
}

/**
 * Bytes [offset, offset+size) little-endian; bytes past the file or past `limit` (the region's
 * length) read 0xff.
 */
export function regfileRead(handle: u32, offset: u64, size: i32, limit: u64): u64 {
  const p = addressOf(handle);
  const file = <u64>load<u32>(p);
  const n = file < limit ? file : limit;
  if (offset + <u64>size <= n) {
    const at = p + 8 + <usize>offset;
    if (size == 4) return <u64>load<u32>(at);
    if (size == 8) return load<u64>(at);
    if (size == 2) return <u64>load<u16>(at);
    return <u64>load<u8>(at);
  }
  let v: u64 = 0;
  for (let i = size - 1; i >= 0; i--) {
    const o = offset + <u64>i;
    v = (v << 8) | (o < n ? <u64>load<u8>(p + 8 + <usize>o) : 0xff);
  }
  return v;
}

/** Writes through the mask; bytes past the file or past `limit` are dropped. */
export function regfileWrite(handle: u32, offset: u64, size: i32, value: u64, limit: u64): void {
  const p = addressOf(handle);
  const file = <u64>load<u32>(p);
  const n = file < limit ? file : limit;
  if (offset + <u64>size <= n) {
    // The whole access is inside: one masked read-modify-write of its width.
    const at = p + 8 + <usize>offset;
    const m = at + <usize>file;
    if (size == 4) {
      store<u32>(at, (load<u32>(at) & ~load<u32>(m)) | (<u32>value & load<u32>(m)));
    } else if (size == 8) {
      store<u64>(at, (load<u64>(at) & ~load<u64>(m)) | (value & load<u64>(m)));
    } else if (size == 2) {
      store<u16>(at, (load<u16>(at) & ~load<u16>(m)) | (<u16>value & load<u16>(m)));
    } else {
      store<u8>(at, (load<u8>(at) & ~load<u8>(m)) | (<u8>value & load<u8>(m)));
    }
    return;
  }
  for (let i = 0; i < size; i++) {
    const o = offset + <u64>i;
    if (o >= n) break;
    const at = p + 8 + <usize>o;
    const m = load<u8>(at + <usize>file);
    const b = <u8>(value >> (<u64>i << 3));
    store<u8>(at, (load<u8>(at) & ~m) | (b & m));
  }
}
