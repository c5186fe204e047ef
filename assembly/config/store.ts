// The config-space store: function slots, their byte planes, and the one read/write path that
// every access mechanism (ECAM, 0xCF8/0xCFC, the embedder's configRead/configWrite) goes through.
import {
  PLANE_SIZE, PLANES_SIZE, HOOK_PLANE, BLOCK_SIZE, CONVENTIONAL_SIZE, MAX_SEGMENTS, MAX_FUNCTIONS,
  OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, ERR_NOT_FOUND, ERR_BUSY, onesFor, HOOK_BRIDGE, HOOK_PM, BUS_NUMBERS_DWORD,
} from "./layout";
import { runHook, releaseHooks } from "../dispatch/hooks";
import { coreAlloc } from "../alloc";

const HEADER_TYPE: u32 = 0x0e;
const MULTI_FUNCTION: u8 = 0x80;
const SECONDARY_BUS: usize = 0x19;
const SUBORDINATE_BUS: usize = 0x1a;
/** PCI Bus Power Management 1.2 §3.2: capability ID 01h; PMC at +2, PMCSR at +4. */
const CAP_PM: u32 = 0x01;
const PMC: usize = 2;
const PMCSR: usize = 4;
export const D0: u32 = 0;
export const D3HOT: u32 = 3;

// Where functions sit (see DESIGN.md "Buses and bridges"): on a bus "node", a root bus of a
// segment (fixed number) or the secondary bus of a bridge (the number its Secondary Bus Number
// register gives, when the bridges above forward it). Node ids: slot + 1 for a bridge's secondary
// bus, ROOT_NODE + seg * 256 + bus for a root bus.
export const ROOT_NODE: u32 = MAX_FUNCTIONS + 1;
const NODES: u32 = ROOT_NODE + MAX_SEGMENTS * 256;

// Fixed tables, allocated once at start-up.
/** Per segment: bus number -> node id (u16, 0 = no bus answers that number). */
const busNodes: usize = heap.alloc(<usize>MAX_SEGMENTS * 512);
/** Per node: address of its dev<<3|fn -> slot+1 table (u16 x 256), allocated on first use; until
 * then (and for node 0, "no bus") the shared all-zero EMPTY_TABLE, so a lookup never branches on it. */
const nodeTables: usize = heap.alloc(<usize>NODES * 4);
const EMPTY_TABLE: usize = heap.alloc(512);
/** Per node: the number of functions on it (u16) and the bus number it answers now (i16, -1 none). */
const nodeCount: usize = heap.alloc(<usize>NODES * 2);
const nodeBus: usize = heap.alloc(<usize>NODES * 2);
const slotBlock: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
const slotSize: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
/** Per slot: seg<<24 | node<<8 | dev<<3 | fn. */
const slotHome: usize = heap.alloc(<usize>MAX_FUNCTIONS * 4);
/** Per slot: offset of the power-management capability (u16), 0 = none. */
const slotPm: usize = heap.alloc(<usize>MAX_FUNCTIONS * 2);
/** One past the highest slot ever used: walks over slots stop there. */
export let slotLimit: i32 = 0;
/** Where the bindings put the three planes of a function before `loadPlanes`; other calls use
 * it to pass larger values (register file contents, drained events and effects). */
export const staging: usize = heap.alloc(<usize>PLANES_SIZE);
memory.fill(busNodes, 0, <usize>MAX_SEGMENTS * 512);
memory.fill(EMPTY_TABLE, 0, 512);
for (let n: u32 = 0; n < NODES; n++) store<u32>(nodeTables + (<usize>n << 2), <u32>EMPTY_TABLE);
memory.fill(nodeCount, 0, <usize>NODES * 2);
memory.fill(nodeBus, 0xff, <usize>NODES * 2);
memory.fill(slotBlock, 0, <usize>MAX_FUNCTIONS * 4);
memory.fill(slotSize, 0, <usize>MAX_FUNCTIONS * 4);
memory.fill(slotHome, 0, <usize>MAX_FUNCTIONS * 4);
memory.fill(slotPm, 0, <usize>MAX_FUNCTIONS * 2);

// @ts-ignore: decorator
@inline function tableOf(node: u32): usize {
  return <usize>load<u32>(nodeTables + (<usize>node << 2));
}

// @ts-ignore: decorator
@inline function countOf(node: u32): u32 {
  return <u32>load<u16>(nodeCount + (<usize>node << 1));
}

// @ts-ignore: decorator
@inline function homeOf(slot: i32): u32 {
  return load<u32>(slotHome + (<usize>slot << 2));
}

/** Slot of a function, or -1. Arguments are range-checked here: they may come from a guest. */
export function findSlot(seg: u32, bus: u32, dev: u32, fn: u32): i32 {
  if (seg >= MAX_SEGMENTS || bus > 255 || dev > 31 || fn > 7) return -1;
  const node = <u32>load<u16>(busNodes + (<usize>((seg << 8) | bus) << 1));
  return <i32>load<u16>(tableOf(node) + (<usize>((dev << 3) | fn) << 1)) - 1;
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

/** Whether a slot holds a function with a type 1 (bridge) header. */
export function isBridge(slot: i32): bool {
  return slotValid(slot) && (load<u8>(blockOf(slot) + HEADER_TYPE) & 0x7f) == 1;
}

/** The bridge a function sits below, or -1 (root bus, or not a function). */
export function slotParent(slot: i32): i32 {
  if (!slotValid(slot)) return -1;
  const node = (homeOf(slot) >> 8) & 0xffff;
  return node < ROOT_NODE ? <i32>node - 1 : -1;
}

/** seg<<16 | bus<<8 | dev<<3 | fn where config cycles reach the slot now, or -1. */
export function slotAddress(slot: i32): i32 {
  if (!slotValid(slot)) return -1;
  const home = homeOf(slot);
  const bus = <i32>load<i16>(nodeBus + (<usize>((home >> 8) & 0xffff) << 1));
  return bus < 0 ? -1 : <i32>((home >> 24) << 16) | (bus << 8) | <i32>(home & 0xff);
}

/** The slot a config cycle to seg:bus:dev.fn reaches now, or -1 (the f64-free boundary form). */
export function slotAt(seg: u32, bus: u32, dev: u32, fn: u32): i32 {
  return findSlot(seg, bus, dev, fn);
}

/** Where a valid slot sits: seg<<24 | node<<8 | dev<<3 | fn (node: ROOT_NODE + seg*256 + bus on a
 * root bus, bridge slot + 1 below a bridge). For state save and load (assembly/state/). */
export function slotHomeOf(slot: i32): u32 {
  return slotValid(slot) ? homeOf(slot) : 0;
}

/** Whether `slot` sits somewhere below bridge `bridge`. */
export function isBelow(slot: i32, bridge: i32): bool {
  for (let p = slotParent(slot); p >= 0; p = slotParent(p)) {
    if (p == bridge) return true;
  }
  return false;
}

/**
 * Whether the function may master the bus: it has Bus Master Enable set and is in D0 (PCI Bus PM
 * 1.2 §5.3: in D1-D3hot a function initiates no transactions), and every bridge above it has Bus
 * Master Enable set (a bridge forwards a downstream device's memory requests upstream only then,
 * PCI-to-PCI Bridge 1.2 §3.2.2) and is not in D3hot (its secondary bus is then off; a bridge in
 * D1 or D2 still forwards, as bridges.ts has it for the downstream direction).
 */
export function mastering(slot: i32): bool {
  if (powerState(slot) != D0) return false;
  for (let s = slot; s >= 0; s = slotParent(s)) {
    if ((load<u8>(blockOf(s) + 4) & 4) == 0) return false;
    if (s != slot && powerState(s) == D3HOT) return false;
  }
  return true;
}

/**
 * The first capability with `id` in the standard list (from 0x34), or 0. Bounded: at most 48
 * hops, pointers masked to dwords, a pointer below 0x40 ends the list (PCI 3.0 §6.7). The caller
 * has validated the slot.
 */
export function findCapability(slot: i32, id: u32): u32 {
  const b = blockOf(slot);
  if ((load<u16>(b + 0x06) & 0x10) == 0) return 0;
  let ptr = <u32>load<u8>(b + 0x34) & 0xfc;
  for (let hops = 0; ptr >= 0x40 && hops < 48; hops++) {
    if (<u32>load<u8>(b + <usize>ptr) == id) return ptr;
    ptr = <u32>load<u8>(b + <usize>ptr + 1) & 0xfc;
  }
  return 0;
}

/** Offset of a valid slot's power-management capability, 0 when it has none. */
// @ts-ignore: decorator
@inline export function pmCapOf(slot: i32): u32 {
  return <u32>load<u16>(slotPm + (<usize>slot << 1));
}

/**
 * PMCSR PowerState of a valid slot (0 D0, 1 D1, 2 D2, 3 D3hot); D0 without a PM capability. Read
 * from the config bytes on every call: the state is never stored apart from config space.
 */
export function powerState(slot: i32): u32 {
  const cap = pmCapOf(slot);
  return cap == 0 ? D0 : <u32>load<u8>(blockOf(slot) + <usize>cap + PMCSR) & 3;
}

/**
 * Whether a valid slot with a PM capability at `cap` supports power state `state`: D0 and D3hot
 * always, D1 and D2 when PMC bits 9 and 10 say so (PCI Bus PM 1.2 §3.2.3).
 */
export function pmSupports(slot: i32, cap: u32, state: u32): bool {
  if (state == 1) return (load<u16>(blockOf(slot) + <usize>cap + PMC) & 0x200) != 0;
  if (state == 2) return (load<u16>(blockOf(slot) + <usize>cap + PMC) & 0x400) != 0;
  return true;
}

/**
 * Finds the slot's PM capability (when the planes are loaded: the capability list is read-only to
 * the guest) and hooks its PMCSR dword. Where another mechanism already hooks that dword (only
 * malformed, overlapping capabilities can do that) its code stays: runHook runs the PM rule for
 * every hooked dword (dispatch/hooks.ts). A capability whose PMCSR would lie past the first 256
 * bytes (a pointer of 0xFC) is not one.
 */
export function pmLocate(slot: i32): void {
  const hooks = blockOf(slot) + <usize>HOOK_PLANE;
  const old = pmCapOf(slot);
  if (old != 0 && load<u8>(hooks + <usize>((old + 4) >> 2)) == HOOK_PM) store<u8>(hooks + <usize>((old + 4) >> 2), 0);
  let cap = findCapability(slot, CAP_PM);
  if (cap + 8 > CONVENTIONAL_SIZE) cap = 0;
  store<u16>(slotPm + (<usize>slot << 1), <u16>cap);
  if (cap != 0 && load<u8>(hooks + <usize>((cap + 4) >> 2)) == 0) store<u8>(hooks + <usize>((cap + 4) >> 2), HOOK_PM);
}

/** The device number of a valid slot on the bus it sits on (physical: not the bus number). */
export function deviceOf(slot: i32): u32 {
  return slotValid(slot) ? (homeOf(slot) >> 3) & 0x1f : 0;
}

/** The segment of a valid slot. */
export function segmentOf(slot: i32): u32 {
  return slotValid(slot) ? homeOf(slot) >> 24 : 0;
}

/**
 * Adds a function with a config space of `size` bytes (256 or 4096), all planes zero, on root
 * bus `bus` of segment `seg`. Returns its slot, or ERR_RANGE / ERR_EXISTS / ERR_FULL.
 */
export function addFunction(seg: u32, bus: u32, dev: u32, fn: u32, size: u32): i32 {
  if (seg >= MAX_SEGMENTS || bus > 255) return ERR_RANGE;
  return place(seg, ROOT_NODE + (seg << 8) + bus, dev, fn, size);
}

/** Adds a function on the secondary bus of a bridge (a slot with a type 1 header). */
export function addFunctionBelow(bridge: i32, dev: u32, fn: u32, size: u32): i32 {
  if (!slotValid(bridge)) return ERR_NOT_FOUND;
  if (!isBridge(bridge)) return ERR_RANGE;
  return place(homeOf(bridge) >> 24, <u32>bridge + 1, dev, fn, size);
}

function place(seg: u32, node: u32, dev: u32, fn: u32, size: u32): i32 {
  if (dev > 31 || fn > 7) return ERR_RANGE;
  if (size != CONVENTIONAL_SIZE && size != PLANE_SIZE) return ERR_RANGE;
  const devfn = (dev << 3) | fn;
  let table = tableOf(node);
  if (load<u16>(table + (<usize>devfn << 1)) != 0) return ERR_EXISTS;
  let slot: i32 = -1;
  for (let i: u32 = 0; i < MAX_FUNCTIONS; i++) {
    if (sizeOf(<i32>i) == 0) { slot = <i32>i; break; }
  }
  if (slot < 0) return ERR_FULL;
  // Memory first (either may fail when linear memory cannot grow), then the state.
  if (table == EMPTY_TABLE) {
    table = coreAlloc(512);
    if (table == 0) return ERR_FULL;
    memory.fill(table, 0, 512);
    store<u32>(nodeTables + (<usize>node << 2), <u32>table);
  }
  let block = blockOf(slot);
  if (block == 0) {
    block = coreAlloc(<usize>BLOCK_SIZE);
    if (block == 0) return ERR_FULL;
    store<u32>(slotBlock + (<usize>slot << 2), <u32>block);
  }
  memory.fill(block, 0, <usize>BLOCK_SIZE);
  store<u16>(slotPm + (<usize>slot << 1), 0);
  store<u32>(slotSize + (<usize>slot << 2), size);
  store<u32>(slotHome + (<usize>slot << 2), (seg << 24) | (node << 8) | devfn);
  if (slot >= slotLimit) slotLimit = slot + 1;
  store<u16>(table + (<usize>devfn << 1), <u16>(slot + 1));
  store<u16>(nodeCount + (<usize>node << 1), <u16>(countOf(node) + 1));
  refreshMultiFunction(node, dev);
  route(seg);
  return slot;
}

/** Removes a function; its slot becomes free. ERR_BUSY while functions sit below it. */
export function removeFunction(slot: i32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  // Functions below a bridge would be left on a bus nothing reaches: remove them first.
  if (countOf(<u32>slot + 1) != 0) return ERR_BUSY;
  releaseHooks(slot);
  const home = homeOf(slot);
  const node = (home >> 8) & 0xffff;
  const devfn = home & 0xff;
  store<u16>(tableOf(node) + (<usize>devfn << 1), 0);
  store<u16>(nodeCount + (<usize>node << 1), <u16>(countOf(node) - 1));
  store<u32>(slotSize + (<usize>slot << 2), 0);
  refreshMultiFunction(node, devfn >> 3);
  route(home >> 24);
  return OK;
}

/** Copies the three planes from the staging area into a slot (config, then wmask, then w1c). */
export function loadPlanes(slot: i32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  memory.copy(blockOf(slot), staging, <usize>PLANES_SIZE);
  const home = homeOf(slot);
  refreshMultiFunction((home >> 8) & 0xffff, (home & 0xff) >> 3);
  markStoreHooks(slot);
  // The header type or bus numbers may have changed.
  route(home >> 24);
  return OK;
}

/**
 * The hooks the store sets itself, from the planes: a bridge's bus numbers and the PMCSR dword.
 * Run when planes are loaded and after the BAR mapper clears a slot's hook plane.
 */
export function markStoreHooks(slot: i32): void {
  markBusNumbers(slot);
  pmLocate(slot);
}

/** A bridge's bus-number dword is hooked so that config routing follows the guest's writes. */
export function markBusNumbers(slot: i32): void {
  const p = blockOf(slot) + <usize>HOOK_PLANE + <usize>BUS_NUMBERS_DWORD;
  if (isBridge(slot)) store<u8>(p, HOOK_BRIDGE);
  else if (load<u8>(p) == HOOK_BRIDGE) store<u8>(p, 0);
}

/**
 * Recomputes which bus answers each bus number of a segment (PCI-to-PCI Bridge 1.2 §3.2.5.3;
 * QEMU's pci_find_bus_nr): root buses answer their own numbers; a bridge claims bus numbers
 * [secondary, subordinate] among those forwarded to its primary bus, its secondary bus answers
 * the secondary number, and the rest go further down. Where ranges overlap, each number goes to
 * the first bus met that takes it as its secondary (root buses by number, then devices by dev.fn,
 * depth first): a number inside one bridge's range that nothing below it takes stays free for a
 * later bridge (config/DESIGN.md). The result is a function of config space alone. Depth is
 * bounded: every level claims a new bus number.
 */
export function route(seg: u32): void {
  const map = busNodes + (<usize>seg << 9);
  for (let b: u32 = 0; b < 256; b++) {
    const node = <u32>load<u16>(map + (<usize>b << 1));
    if (node != 0) store<i16>(nodeBus + (<usize>node << 1), -1);
  }
  memory.fill(map, 0, 512);
  const root = ROOT_NODE + (seg << 8);
  for (let b: u32 = 0; b < 256; b++) {
    if (countOf(root + b) != 0) {
      store<u16>(map + (<usize>b << 1), <u16>(root + b));
      store<i16>(nodeBus + (<usize>(root + b) << 1), <i16>b);
    }
  }
  for (let b: u32 = 0; b < 256; b++) {
    if (<u32>load<u16>(map + (<usize>b << 1)) == root + b) routeBelow(map, root + b, 0, 255);
  }
}

/** Gives bus numbers to the bridges on `node`, which sees type 1 cycles for buses lo..hi. */
function routeBelow(map: usize, node: u32, lo: u32, hi: u32): void {
  const table = tableOf(node);
  for (let devfn: u32 = 0; devfn < 256; devfn++) {
    const slot = <i32>load<u16>(table + (<usize>devfn << 1)) - 1;
    if (slot < 0) continue;
    const block = blockOf(slot);
    if ((load<u8>(block + HEADER_TYPE) & 0x7f) != 1) continue;
    const secondary = <u32>load<u8>(block + SECONDARY_BUS);
    const subordinate = <u32>load<u8>(block + SUBORDINATE_BUS);
    if (secondary < lo || secondary > hi || secondary > subordinate) continue;
    if (load<u16>(map + (<usize>secondary << 1)) != 0) continue;
    const child = <u32>slot + 1;
    store<u16>(map + (<usize>secondary << 1), <u16>child);
    store<i16>(nodeBus + (<usize>child << 1), <i16>secondary);
    if (countOf(child) != 0) routeBelow(map, child, secondary, subordinate < hi ? subordinate : hi);
  }
}

/**
 * Keeps bit 7 of function 0's Header Type equal to "another function of this device exists"
 * (PCI Local Bus 3.0 §6.2.1), so the guest's scan of functions 1-7 finds what is present.
 */
function refreshMultiFunction(node: u32, dev: u32): void {
  const table = tableOf(node);
  const f0 = <i32>load<u16>(table + (<usize>(dev << 3) << 1)) - 1;
  if (f0 < 0) return;
  let others = false;
  for (let fn: u32 = 1; fn < 8; fn++) {
    if (load<u16>(table + (<usize>((dev << 3) | fn) << 1)) != 0) { others = true; break; }
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
 * if the dword is hooked (a BAR, Command, ...), the mechanism that follows it runs, given the
 * dword as it was before the write.
 */
export function slotWrite(slot: i32, reg: u32, size: i32, value: u32): void {
  if (!isTransaction(reg, size) || reg >= sizeOf(slot)) return;
  const block = blockOf(slot);
  const p = block + <usize>reg;
  const hook = load<u8>(block + <usize>HOOK_PLANE + <usize>(reg >> 2));
  const old = hook != 0 ? load<u32>(block + <usize>(reg & ~3)) : 0;
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
  if (hook != 0) runHook(hook, slot, reg, old, false);
}

/**
 * A device-side change of config bytes (a device model or the platform: hotplug slot status, AER
 * error status, a reset restoring power-on values): the `size` bytes at `reg` become exactly
 * `value`, whatever the masks say, and then the dword's hook runs as after a guest write, so BAR
 * mappings, bridge routing and windows and interrupts follow. The hooks see a device write: the
 * PM hook keeps an unsupported PowerState (that rule is for software's writes). What is read from
 * the planes only when they are loaded or attached (header type, capability positions, BAR kinds
 * and sizes) is not re-read. OK, ERR_NOT_FOUND (no such slot), or ERR_RANGE (a size other than 1,
 * 2 or 4, a dword-crossing access, or an offset beyond the function's config space).
 */
export function slotPoke(slot: i32, reg: u32, size: i32, value: u32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  if (!isTransaction(reg, size) || reg >= sizeOf(slot)) return ERR_RANGE;
  const block = blockOf(slot);
  const p = block + <usize>reg;
  const hook = load<u8>(block + <usize>HOOK_PLANE + <usize>(reg >> 2));
  const old = load<u32>(block + <usize>(reg & ~3));
  if (size == 4) store<u32>(p, value);
  else if (size == 2) store<u16>(p, <u16>value);
  else store<u8>(p, <u8>value);
  if (hook != 0) runHook(hook, slot, reg, old, true);
  return OK;
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

