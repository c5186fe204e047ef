// The config-space store: function slots, their byte planes, and the one read/write path that
// every access mechanism (ECAM, 0xCF8/0xCFC, the embedder's configRead/configWrite) goes through.
import {
  PLANE_SIZE, PLANES_SIZE, HOOK_PLANE, BLOCK_SIZE, CONVENTIONAL_SIZE, MAX_SEGMENTS, MAX_FUNCTIONS,
  OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, ERR_NOT_FOUND, onesFor,
} from "./layout";
import { runHook, releaseHooks } from "../dispatch/hooks";

const SEG_TABLE_BYTES: usize = 65536 * 2;
const HEADER_TYPE: u32 = 0x0e;
const MULTI_FUNCTION: u8 = 0x80;

// Fixed tables, allocated once at start-up.
const segTables: usize = heap.alloc(<usize>MAX_SEGMENTS * 4);
const slotBlock: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
const slotSize: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
const slotAddr: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
/** Where the bindings put the three planes of a function before `loadPlanes`; other calls use
 * it to pass larger values (register file contents, drained events and effects). */
export const staging: usize = heap.alloc(<usize>PLANES_SIZE);
memory.fill(segTables, 0, <usize>MAX_SEGMENTS * 4);
memory.fill(slotBlock, 0, <usize>MAX_FUNCTIONS * 4);
memory.fill(slotSize, 0, <usize>MAX_FUNCTIONS * 4);
memory.fill(slotAddr, 0, <usize>MAX_FUNCTIONS * 4);

// @ts-ignore: decorator
@inline function devfnIndex(bus: u32, dev: u32, fn: u32): u32 {
  return (bus << 8) | (dev << 3) | fn;
}

/** Slot of a function, or -1. Arguments are range-checked here: they may come from a guest. */
export function findSlot(seg: u32, bus: u32, dev: u32, fn: u32): i32 {
  if (seg >= MAX_SEGMENTS || bus > 255 || dev > 31 || fn > 7) return -1;
  const table = load<u32>(segTables + (<usize>seg << 2));
  if (table == 0) return -1;
  return <i32>load<u16>(<usize>table + (<usize>devfnIndex(bus, dev, fn) << 1)) - 1;
}

/** Base address of a slot's block (config plane); the caller has validated the slot. */
// @ts-ignore: decorator
@inline export function blockOf(slot: i32): usize {
  return <usize>load<u32>(slotBlock + (<usize>slot << 2));
}

// @ts-ignore: decorator
@inline export function sizeOf(slot: i32): u32 {
  return load<u32>(slotSize + (<usize>slot << 2));
}

function slotValid(slot: i32): bool {
  return slot >= 0 && <u32>slot < MAX_FUNCTIONS && sizeOf(slot) != 0;
}

/**
 * Adds a function with a config space of `size` bytes (256 or 4096), all planes zero.
 * Returns its slot, or ERR_RANGE / ERR_EXISTS / ERR_FULL.
 */
export function addFunction(seg: u32, bus: u32, dev: u32, fn: u32, size: u32): i32 {
  if (seg >= MAX_SEGMENTS || bus > 255 || dev > 31 || fn > 7) return ERR_RANGE;
  if (size != CONVENTIONAL_SIZE && size != PLANE_SIZE) return ERR_RANGE;
  if (findSlot(seg, bus, dev, fn) >= 0) return ERR_EXISTS;
  let slot: i32 = -1;
  for (let i: u32 = 0; i < MAX_FUNCTIONS; i++) {
    if (sizeOf(<i32>i) == 0) { slot = <i32>i; break; }
  }
  if (slot < 0) return ERR_FULL;
  let table = load<u32>(segTables + (<usize>seg << 2));
  if (table == 0) {
    const t = heap.alloc(SEG_TABLE_BYTES);
    memory.fill(t, 0, SEG_TABLE_BYTES);
    table = <u32>t;
    store<u32>(segTables + (<usize>seg << 2), table);
  }
  let block = blockOf(slot);
  if (block == 0) {
    block = heap.alloc(<usize>BLOCK_SIZE);
    store<u32>(slotBlock + (<usize>slot << 2), <u32>block);
  }
  memory.fill(block, 0, <usize>BLOCK_SIZE);
  store<u32>(slotSize + (<usize>slot << 2), size);
  store<u32>(slotAddr + (<usize>slot << 2), (seg << 16) | devfnIndex(bus, dev, fn));
  store<u16>(<usize>table + (<usize>devfnIndex(bus, dev, fn) << 1), <u16>(slot + 1));
  refreshMultiFunction(seg, bus, dev);
  return slot;
}

/** Removes a function; its slot becomes free. */
export function removeFunction(slot: i32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  releaseHooks(slot);
  const addr = load<u32>(slotAddr + (<usize>slot << 2));
  const seg = addr >> 16;
  const table = load<u32>(segTables + (<usize>seg << 2));
  store<u16>(<usize>table + (<usize>(addr & 0xffff) << 1), 0);
  store<u32>(slotSize + (<usize>slot << 2), 0);
  store<u32>(slotAddr + (<usize>slot << 2), 0);
  refreshMultiFunction(seg, (addr >> 8) & 0xff, (addr >> 3) & 0x1f);
  return OK;
}

/** Copies the three planes from the staging area into a slot (config, then wmask, then w1c). */
export function loadPlanes(slot: i32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  memory.copy(blockOf(slot), staging, <usize>PLANES_SIZE);
  const addr = load<u32>(slotAddr + (<usize>slot << 2));
  refreshMultiFunction(addr >> 16, (addr >> 8) & 0xff, (addr >> 3) & 0x1f);
  return OK;
}

/**
 * Keeps bit 7 of function 0's Header Type equal to "another function of this device exists"
 * (PCI Local Bus 3.0 §6.2.1), so the guest's scan of functions 1-7 finds what is present.
 */
function refreshMultiFunction(seg: u32, bus: u32, dev: u32): void {
  const f0 = findSlot(seg, bus, dev, 0);
  if (f0 < 0) return;
  let others = false;
  for (let fn: u32 = 1; fn < 8; fn++) {
    if (findSlot(seg, bus, dev, fn) >= 0) { others = true; break; }
  }
  const p = blockOf(f0) + HEADER_TYPE;
  const ht = load<u8>(p);
  store<u8>(p, others ? ht | MULTI_FUNCTION : ht & ~MULTI_FUNCTION);
}

/**
 * Whether an access of `size` bytes at `reg` is one config transaction: a size of 1, 2 or 4 whose
 * byte lanes lie inside one dword (PCI Local Bus 3.0 §3.2.2.3.2: contiguous byte enables within a
 * DW). A dword-crossing access cannot be expressed and is not performed.
 */
// @ts-ignore: decorator
@inline function isTransaction(reg: u32, size: i32): bool {
  return (size == 1 || size == 2 || size == 4) && (reg & 3) + <u32>size <= 4;
}

/** Reads through the one config path. Absent function, bad size or beyond the space: all ones. */
export function slotRead(slot: i32, reg: u32, size: i32): u32 {
  if (!isTransaction(reg, size) || reg >= sizeOf(slot)) return onesFor(size);
  const p = blockOf(slot) + <usize>reg;
  if (size == 4) return load<u32>(p);
  if (size == 2) return <u32>load<u16>(p);
  return <u32>load<u8>(p);
}

/**
 * Writes through the one config path: masks decide every bit; anything else is dropped. Then,
 * if the dword is hooked (a BAR, Command, ...), the mechanism that follows it runs.
 */
export function slotWrite(slot: i32, reg: u32, size: i32, value: u32): void {
  if (!isTransaction(reg, size) || reg >= sizeOf(slot)) return;
  const block = blockOf(slot);
  const p = block + <usize>reg;
  if (size == 4) {
    const wm = load<u32>(p, PLANE_SIZE);
    const w1 = load<u32>(p, PLANE_SIZE * 2);
    store<u32>(p, ((load<u32>(p) & ~wm) | (value & wm)) & ~(value & w1));
  } else if (size == 2) {
    const v = <u16>value;
    const wm = load<u16>(p, PLANE_SIZE);
    const w1 = load<u16>(p, PLANE_SIZE * 2);
    store<u16>(p, ((load<u16>(p) & ~wm) | (v & wm)) & ~(v & w1));
  } else {
    const v = <u8>value;
    const wm = load<u8>(p, PLANE_SIZE);
    const w1 = load<u8>(p, PLANE_SIZE * 2);
    store<u8>(p, ((load<u8>(p) & ~wm) | (v & wm)) & ~(v & w1));
  }
  const hook = load<u8>(block + <usize>HOOK_PLANE + <usize>(reg >> 2));
  if (hook != 0) runHook(hook, slot, reg);
}

export function configRead(seg: u32, bus: u32, dev: u32, fn: u32, reg: u32, size: i32): u32 {
  const slot = findSlot(seg, bus, dev, fn);
  if (slot < 0) return onesFor(size);
  return slotRead(slot, reg, size);
}

export function configWrite(seg: u32, bus: u32, dev: u32, fn: u32, reg: u32, size: i32, value: u32): void {
  const slot = findSlot(seg, bus, dev, fn);
  if (slot < 0) return;
  slotWrite(slot, reg, size, value);
}

/** Raw plane byte, for tests and snapshots; out-of-range reads 0. */
export function planeByte(slot: i32, plane: u32, offset: u32): u32 {
  if (!slotValid(slot) || plane > 2 || offset >= PLANE_SIZE) return 0;
  return <u32>load<u8>(blockOf(slot) + <usize>(plane * PLANE_SIZE + offset));
}

