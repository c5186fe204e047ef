// BAR regions that follow the guest: when a guest writes Command, a BAR or the ROM BAR, the
// function's mappings in the region table are brought in step at once, inside the core.
//
// Per function (slot) a table of 7 entries, BARs 0-5 and the ROM (index 6), 32 bytes each:
//   +0 kind u8 (0 none, 1 io, 2 mem32, 3 mem64, 4 rom, 5 upper half of the previous mem64)
//   +1 mapped u8 | +2 staged u8 (64-bit: 1 = the lower dword was written and awaits the upper)
//   +4 region u32 (the whole-BAR region) | +8 size u64 | +16 base u64 (while mapped)
//   +24 first handler region u32 (a list through the region records' next field)
//   +31 (entry 0 only) 1 = attached
import { blockOf, sizeOf, isBridge, isBelow, slotLimit, markStoreHooks, powerState, D0 } from "../config/store";
import { MAX_FUNCTIONS, HOOK_PLANE, HOOK_BARS, OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, ERR_NOT_FOUND } from "../config/layout";
import { regionMap, regionUnmap, SPACE_MMIO, SPACE_IO, MMIO_LIMIT } from "./region-table";
import {
  regionAlloc, KIND_BAR, PRIORITY_BAR, PRIORITY_BAR_HANDLER, lengthOf, nextOf, setLength, setNext, subOffsetOf,
} from "./regions";
import { effectBarMoved } from "./effects";
import { coreAlloc } from "../alloc";
import { bridgesForward, HOOK_BRIDGE } from "./bridges";

export const BAR_NONE: u8 = 0;
export const BAR_IO: u8 = 1;
export const BAR_MEM32: u8 = 2;
export const BAR_MEM64: u8 = 3;
export const BAR_ROM: u8 = 4;
export const BAR_UPPER: u8 = 5;
const ENTRY: usize = 32;
const ENTRIES: usize = 7;
const ROM_INDEX: u32 = 6;

// Hook code HOOK_BARS (config/layout.ts) marks the registers this file watches.
export { HOOK_BARS };


const tables: usize = heap.alloc(<usize>MAX_FUNCTIONS << 2);
memory.fill(tables, 0, <usize>MAX_FUNCTIONS << 2);

// @ts-ignore: decorator
@inline function entryOf(slot: i32, bar: u32): usize {
  return <usize>load<u32>(tables + (<usize>slot << 2)) + <usize>bar * ENTRY;
}

// @ts-ignore: decorator
@inline function cfg32(slot: i32, reg: u32): u32 {
  return load<u32>(blockOf(slot) + <usize>reg);
}

// @ts-ignore: decorator
@inline function wmask32(slot: i32, reg: u32): u32 {
  return load<u32>(blockOf(slot) + 4096 + <usize>reg);
}

function romOffset(slot: i32): u32 {
  return (load<u8>(blockOf(slot) + 0x0e) & 0x7f) == 1 ? 0x38 : 0x30;
}

function barCount(slot: i32): u32 {
  return (load<u8>(blockOf(slot) + 0x0e) & 0x7f) == 1 ? 2 : 6;
}

/** Whether barAttach has run for the slot (its BAR table exists and is in use). */
export function barAttached(slot: i32): bool {
  return slot >= 0 && <u32>slot < MAX_FUNCTIONS && sizeOf(slot) != 0 && load<u32>(tables + (<usize>slot << 2)) != 0 &&
    load<u8>(entryOf(slot, 0), 31) == 1;
}

/**
 * Reads the function's BAR layout from its planes (types from the registers, sizes from the write
 * masks), gives every implemented BAR and the ROM a region id (in BAR order, so ids follow the
 * topology), marks the registers to watch, and maps what the registers already enable.
 * Returns OK, ERR_NOT_FOUND (no such slot), ERR_EXISTS (already attached) or ERR_FULL (no ids).
 */
export function barAttach(slot: i32): i32 {
  if (slot < 0 || <u32>slot >= MAX_FUNCTIONS || sizeOf(slot) == 0) return ERR_NOT_FOUND;
  let t = <usize>load<u32>(tables + (<usize>slot << 2));
  if (t == 0) {
    t = coreAlloc(ENTRIES * ENTRY);
    if (t == 0) return ERR_FULL;
    store<u32>(tables + (<usize>slot << 2), <u32>t);
  } else if (load<u8>(t, 31) == 1) {
    return ERR_EXISTS;
  }
  memory.fill(t, 0, ENTRIES * ENTRY);
  const count = barCount(slot);
  for (let i: u32 = 0; i < count; i++) {
    const reg = 0x10 + (i << 2);
    const value = cfg32(slot, reg);
    const wm = wmask32(slot, reg);
    const e = t + <usize>i * ENTRY;
    if (value & 1) {
      if (wm == 0) continue;
      store<u8>(e, BAR_IO);
      store<u64>(e, <u64>((~wm | 3) + 1), 8);
    } else if (((value >> 1) & 3) == 2 && i + 1 < count) {
      // A 64-bit BAR of 4 GiB or more has no writable bit in its lower dword: its upper mask
      // says how large it is. One larger than 2^63 cannot be: both registers are unimplemented.
      const wmHigh = wmask32(slot, reg + 4);
      if ((wm == 0 && wmHigh == 0) || (wmHigh & 0x80000000) == 0) {
        i++;
        continue;
      }
      const wm64 = <u64>wm | (<u64>wmHigh << 32);
      store<u8>(e, BAR_MEM64);
      store<u64>(e, (~wm64 | 0xf) + 1, 8);
      store<u8>(e + ENTRY, BAR_UPPER);
      i++;
    } else {
      if (wm == 0) continue;
      store<u8>(e, BAR_MEM32);
      store<u64>(e, <u64>(~wm | 0xf) + 1, 8);
    }
  }
  const romWm = wmask32(slot, romOffset(slot)) & 0xfffff800;
  if (romWm != 0) {
    const e = t + <usize>ROM_INDEX * ENTRY;
    store<u8>(e, BAR_ROM);
    store<u64>(e, <u64>(~romWm) + 1, 8);
  }
  // Region ids, all or nothing.
  for (let i: u32 = 0; i < <u32>ENTRIES; i++) {
    const e = t + <usize>i * ENTRY;
    const kind = load<u8>(e);
    if (kind == BAR_NONE || kind == BAR_UPPER) continue;
    const id = regionAlloc(KIND_BAR, 0, slot, i, 0);
    if (id == 0) {
      barDetach(slot);
      return ERR_FULL;
    }
    store<u32>(e, id, 4);
    setLength(id, load<u64>(e, 8));
  }
  store<u8>(t, 1, 31);
  const hooks = blockOf(slot) + <usize>HOOK_PLANE;
  store<u8>(hooks + 1, HOOK_BARS);
  for (let i: u32 = 0; i < count; i++) store<u8>(hooks + 4 + i, HOOK_BARS);
  store<u8>(hooks + (romOffset(slot) >> 2), HOOK_BARS);
  // A bridge's Command, bus numbers and windows decide what reaches the functions below it.
  if (isBridge(slot)) {
    store<u8>(hooks + 1, HOOK_BRIDGE);
    for (let d: usize = 6; d <= 12; d++) store<u8>(hooks + d, HOOK_BRIDGE);
  }
  refreshAll(slot);
  return OK;
}

/** Unmaps and frees every region of the function's BARs (for removal). */
export function barDetach(slot: i32): void {
  if (slot < 0 || <u32>slot >= MAX_FUNCTIONS) return;
  const t = <usize>load<u32>(tables + (<usize>slot << 2));
  if (t == 0) return;
  for (let i: u32 = 0; i < <u32>ENTRIES; i++) {
    const e = t + <usize>i * ENTRY;
    let id = load<u32>(e, 24);
    while (id != 0) {
      const next = nextOf(id);
      freeRegion(id);
      id = next;
    }
    const whole = load<u32>(e, 4);
    if (whole != 0) freeRegion(whole);
  }
  memory.fill(t, 0, ENTRIES * ENTRY);
  memory.fill(blockOf(slot) + <usize>HOOK_PLANE, 0, 1024);
  markStoreHooks(slot);
}

// Imported late to keep the cycle with regions.ts explicit.
import { regionFree as freeRegion } from "./regions";

/**
 * Adds a handler region over [offset, offset+length) of a BAR; it moves with the BAR and wins
 * over the whole-BAR region. `kind`/`datum` name the handler. Returns the region id or a status.
 */
export function barHandler(slot: i32, bar: u32, offset: u64, length: u64, kind: u32, datum: u32): i32 {
  if (!barAttached(slot) || bar >= <u32>ENTRIES) return ERR_NOT_FOUND;
  const e = entryOf(slot, bar);
  const k = load<u8>(e);
  if (k == BAR_NONE || k == BAR_UPPER) return ERR_NOT_FOUND;
  const size = load<u64>(e, 8);
  if (length == 0 || offset >= size || length > size - offset) return ERR_RANGE;
  const id = regionAlloc(kind, datum, slot, bar, offset);
  if (id == 0) return ERR_FULL;
  setLength(id, length);
  // Append, so the list keeps registration order.
  let last = load<u32>(e, 24);
  if (last == 0) {
    store<u32>(e, id, 24);
  } else {
    while (nextOf(last) != 0) last = nextOf(last);
    setNext(last, id);
  }
  if (load<u8>(e, 1)) {
    regionMap(id, k == BAR_IO ? SPACE_IO : SPACE_MMIO, load<u64>(e, 16) + offset, length, PRIORITY_BAR_HANDLER);
  }
  return <i32>id;
}

/** Removes a handler region from BAR `bar`'s list, unmapping and freeing it (a failed attach). */
export function barHandlerRemove(slot: i32, bar: u32, id: u32): void {
  if (!barAttached(slot) || bar >= <u32>ENTRIES) return;
  const e = entryOf(slot, bar);
  let at = load<u32>(e, 24);
  if (at == id) {
    store<u32>(e, nextOf(id), 24);
  } else {
    while (at != 0 && nextOf(at) != id) at = nextOf(at);
    if (at == 0) return;
    setNext(at, nextOf(id));
  }
  freeRegion(id);
}

// Target of the last computation.
let tValid: bool = false;
let tBase: u64 = 0;

/**
 * Where the registers say BAR `bar` should be mapped (PCI 3.0 §6.2.5; decode per Command). As in
 * QEMU's pci_bar_address, a 32-bit BAR or ROM whose last byte would be 0xFFFFFFFF is not mapped:
 * that is where the all-ones sizing probe puts it. A function not in D0 decodes nothing (PCI Bus
 * PM 1.2 §5.3: in D1-D3hot it answers config cycles only; power.ts).
 */
function computeTarget(slot: i32, bar: u32, kind: u8, size: u64): void {
  const command = load<u16>(blockOf(slot) + 4);
  tValid = false;
  tBase = 0;
  if (powerState(slot) != D0) return;
  if (kind == BAR_IO) {
    if ((command & 1) == 0) return;
    tBase = <u64>(cfg32(slot, 0x10 + (bar << 2)) & 0xfffffffc);
    tValid = tBase != 0 && tBase + size <= 0x10000;
  } else if (kind == BAR_MEM32) {
    if ((command & 2) == 0) return;
    tBase = <u64>(cfg32(slot, 0x10 + (bar << 2)) & 0xfffffff0);
    tValid = tBase != 0 && tBase + size < <u64>0x100000000;
  } else if (kind == BAR_MEM64) {
    if ((command & 2) == 0) return;
    const reg = 0x10 + (bar << 2);
    tBase = (<u64>(cfg32(slot, reg) & 0xfffffff0)) | (<u64>cfg32(slot, reg + 4) << 32);
    tValid = tBase != 0 && tBase < MMIO_LIMIT && size <= MMIO_LIMIT - tBase;
  } else if (kind == BAR_ROM) {
    const rom = cfg32(slot, romOffset(slot));
    if ((command & 2) == 0 || (rom & 1) == 0) return;
    tBase = <u64>(rom & 0xfffff800);
    tValid = tBase != 0 && tBase + size < <u64>0x100000000;
  }
  if (tValid && !bridgesForward(slot, kind == BAR_IO, tBase, size)) tValid = false;
}

/** Moves the BAR's regions to the target (tValid/tBase); reports the change as an effect. */
function apply(slot: i32, bar: u32, e: usize, valid: bool, base: u64): void {
  const mapped = load<u8>(e, 1) != 0;
  const old = load<u64>(e, 16);
  if (mapped == valid && (!valid || old == base)) return;
  place(e, valid, base);
  effectBarMoved(slot, bar, <u32>load<u8>(e), mapped, old, valid, base, load<u64>(e, 8));
}

/** Maps the BAR's whole region and its handler regions at `base`, or unmaps them; records it. */
function place(e: usize, mapped: bool, base: u64): void {
  const space = load<u8>(e) == BAR_IO ? SPACE_IO : SPACE_MMIO;
  const whole = load<u32>(e, 4);
  let id = load<u32>(e, 24);
  if (mapped) {
    regionMap(whole, space, base, load<u64>(e, 8), PRIORITY_BAR);
    while (id != 0) {
      regionMap(id, space, base + subOffsetOf(id), lengthOf(id), PRIORITY_BAR_HANDLER);
      id = nextOf(id);
    }
  } else {
    regionUnmap(whole);
    while (id != 0) {
      regionUnmap(id);
      id = nextOf(id);
    }
  }
  store<u8>(e, mapped ? 1 : 0, 1);
  store<u64>(e, mapped ? base : 0, 16);
}

/** Applies the current registers to every BAR and the ROM, clearing half-written state. */
function refreshAll(slot: i32): void {
  for (let i: u32 = 0; i < <u32>ENTRIES; i++) {
    const e = entryOf(slot, i);
    const kind = load<u8>(e);
    if (kind == BAR_NONE || kind == BAR_UPPER) continue;
    store<u8>(e, 0, 2);
    computeTarget(slot, i, kind, load<u64>(e, 8));
    apply(slot, i, e, tValid, tBase);
  }
}

/** The function's power state changed (power.ts): every BAR and the ROM follow, as after Command. */
export function barRefresh(slot: i32): void {
  if (barAttached(slot)) refreshAll(slot);
}

/** A bridge's Command or windows changed: every function below it re-applies its BARs. */
export function barRefreshBelow(bridge: i32): void {
  for (let s: i32 = 0; s < slotLimit; s++) {
    if (!barAttached(s) || !isBelow(s, bridge)) continue;
    refreshAll(s);
  }
}

/**
 * A watched register was written. Command: every BAR follows. A 32-bit, IO or ROM BAR: it
 * follows at once. A 64-bit BAR moves when its upper dword is written, to the address both
 * halves give; a write to the lower dword alone is staged (the BAR stays where it is), so the
 * usual low-then-high update never maps the BAR at a half-new address.
 */
export function barOnWrite(slot: i32, reg: u32): void {
  const dword = reg >> 2;
  if (dword == 1) {
    // Command is bytes 4-5; a write to Status alone (6-7) changes no decode bit.
    if (reg < 6) refreshAll(slot);
    return;
  }
  if (reg >> 2 == romOffset(slot) >> 2) {
    const e = entryOf(slot, ROM_INDEX);
    if (load<u8>(e) != BAR_ROM) return;
    computeTarget(slot, ROM_INDEX, BAR_ROM, load<u64>(e, 8));
    apply(slot, ROM_INDEX, e, tValid, tBase);
    return;
  }
  if (dword < 4 || dword >= 4 + barCount(slot)) return;
  let bar = dword - 4;
  let e = entryOf(slot, bar);
  let kind = load<u8>(e);
  if (kind == BAR_MEM64) {
    store<u8>(e, 1, 2); // the lower half is staged
    return;
  }
  if (kind == BAR_UPPER) {
    bar--;
    e = entryOf(slot, bar);
    kind = BAR_MEM64;
    store<u8>(e, 0, 2);
  }
  if (kind == BAR_NONE) return;
  computeTarget(slot, bar, kind, load<u64>(e, 8));
  apply(slot, bar, e, tValid, tBase);
}

/** The BAR table entry fields, for the bindings (kind, mapped, region, size, base). */
export function barKind(slot: i32, bar: u32): u32 {
  return barAttached(slot) && bar < <u32>ENTRIES ? <u32>load<u8>(entryOf(slot, bar)) : 0;
}

export function barMapped(slot: i32, bar: u32): u32 {
  return barAttached(slot) && bar < <u32>ENTRIES ? <u32>load<u8>(entryOf(slot, bar), 1) : 0;
}

export function barRegion(slot: i32, bar: u32): u32 {
  return barAttached(slot) && bar < <u32>ENTRIES ? load<u32>(entryOf(slot, bar), 4) : 0;
}

export function barSize(slot: i32, bar: u32): u64 {
  return barAttached(slot) && bar < <u32>ENTRIES ? load<u64>(entryOf(slot, bar), 8) : 0;
}

export function barBase(slot: i32, bar: u32): u64 {
  return barAttached(slot) && bar < <u32>ENTRIES ? load<u64>(entryOf(slot, bar), 16) : 0;
}

/** 1 when the lower dword of a 64-bit BAR was written and awaits the upper one. */
export function barStaged(slot: i32, bar: u32): u32 {
  return barAttached(slot) && bar < <u32>ENTRIES ? <u32>load<u8>(entryOf(slot, bar), 2) : 0;
}

/** The first handler region of a BAR (the rest follow through the region records' next). */
export function barFirstHandler(slot: i32, bar: u32): u32 {
  return barAttached(slot) && bar < <u32>ENTRIES ? load<u32>(entryOf(slot, bar), 24) : 0;
}

/**
 * State load: puts BAR `bar` of an attached slot where a saved core had it (mapped at `base`, or
 * not), with its staged flag, moving its whole-BAR and handler regions and reporting no effect.
 * The caller (assembly/state/) has checked the entry exists and the range fits its space.
 */
export function barRestore(slot: i32, bar: u32, mapped: bool, base: u64, staged: bool): void {
  const e = entryOf(slot, bar);
  place(e, mapped, base);
  store<u8>(e, staged ? 1 : 0, 2);
}

