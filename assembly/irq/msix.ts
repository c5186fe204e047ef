// MSI-X (PCI 3.0 §6.8.2): a table of 16-byte entries (address low, address high, data, vector
// control) and a Pending Bit Array, both in a BAR and served here, inside the core. A signalled
// vector is sent unless the function or the entry is masked; then its PBA bit is set and it is
// sent when both masks are clear. Software may access the table and PBA only with aligned dwords
// or qwords (§6.8.2.6, .9); anything else reads all ones and writes nothing.
import { OK, ERR_RANGE, ERR_NOT_FOUND } from "../config/layout";
import { onesOf } from "../dispatch/access";
import { coreAlloc } from "../alloc";
import { PENDING, ERR_DISABLED } from "./layout";
import { stateOf, irqAttached, cfg16 } from "./state";
import { queueMessage } from "./events";

const CONTROL_ENABLE: u32 = 0x8000;
const CONTROL_FUNCTION_MASK: u32 = 0x4000;

// @ts-ignore: decorator
@inline function tableOf(slot: i32): usize {
  return <usize>load<u32>(stateOf(slot), 20);
}

// @ts-ignore: decorator
@inline function sizeOf(slot: i32): u32 {
  return load<u32>(stateOf(slot), 16);
}

// @ts-ignore: decorator
@inline function pbaOf(slot: i32): usize {
  return tableOf(slot) + <usize>sizeOf(slot) * 16;
}

/** Where an attached MSI-X function's table is (its PBA follows it), for state save and load. */
export function msixTableAddress(slot: i32): usize {
  return tableOf(slot);
}

/** The table size N of an attached function (0 without MSI-X). */
export function msixTableSize(slot: i32): u32 {
  return sizeOf(slot);
}

/** Bytes of the PBA of an N-entry table: one bit per entry in whole qwords. */
export function pbaBytes(n: u32): u32 {
  return ((n + 63) >> 6) << 3;
}

/**
 * Gives the slot a table of `n` entries, all masked (Vector Control bit 0 set at reset), and a
 * clear PBA. Storage is kept per slot and reused when the slot is attached again. false: memory
 * cannot grow (nothing changed).
 */
export function msixStorage(slot: i32, n: u32): bool {
  const st = stateOf(slot);
  const need = n * 16 + pbaBytes(n);
  let at = <usize>load<u32>(st, 20);
  if (at == 0 || load<u32>(st, 24) < need) {
    at = coreAlloc(<usize>need);
    if (at == 0) return false;
    store<u32>(st, <u32>at, 20);
    store<u32>(st, need, 24);
  }
  store<u32>(st, n, 16);
  memory.fill(at, 0, <usize>need);
  for (let k: u32 = 0; k < n; k++) store<u32>(at + <usize>k * 16 + 12, 1);
  return true;
}

function control(slot: i32): u32 {
  return cfg16(slot, load<u32>(stateOf(slot), 12) + 2);
}

function pendingBit(slot: i32, k: u32): bool {
  return ((load<u8>(pbaOf(slot) + <usize>(k >> 3)) >> (k & 7)) & 1) != 0;
}

function setPending(slot: i32, k: u32, on: bool): void {
  const p = pbaOf(slot) + <usize>(k >> 3);
  const bit = <u8>(<u32>1 << (k & 7));
  store<u8>(p, on ? load<u8>(p) | bit : load<u8>(p) & ~bit);
}

function entryMasked(slot: i32, k: u32): bool {
  return (load<u32>(tableOf(slot) + <usize>k * 16 + 12) & 1) != 0;
}

function send(slot: i32, k: u32): void {
  const e = tableOf(slot) + <usize>k * 16;
  queueMessage(slot, load<u32>(e), load<u32>(e, 4), load<u32>(e, 8));
}

export function msixSignal(slot: i32, vector: i32): i32 {
  if (!irqAttached(slot) || load<u32>(stateOf(slot), 12) == 0) return ERR_NOT_FOUND;
  if (vector < 0 || <u32>vector >= sizeOf(slot)) return ERR_RANGE;
  const c = control(slot);
  if ((c & CONTROL_ENABLE) == 0) return ERR_DISABLED;
  const k = <u32>vector;
  if ((c & CONTROL_FUNCTION_MASK) != 0 || entryMasked(slot, k)) {
    setPending(slot, k, true);
    return PENDING;
  }
  send(slot, k);
  return OK;
}

/** Sends entry k if it is pending and nothing masks it any more. */
function release(slot: i32, k: u32): void {
  const c = control(slot);
  if ((c & CONTROL_ENABLE) == 0 || (c & CONTROL_FUNCTION_MASK) != 0) return;
  if (!pendingBit(slot, k) || entryMasked(slot, k)) return;
  setPending(slot, k, false);
  send(slot, k);
}

/** After a write to Message Control (enable, function mask): send every releasable pending vector. */
export function msixWritten(slot: i32): void {
  if (load<u32>(stateOf(slot), 12) == 0) return;
  const n = sizeOf(slot);
  for (let k: u32 = 0; k < n; k++) release(slot, k);
}

// @ts-ignore: decorator
@inline function validAccess(offset: u64, size: i32): bool {
  return (size == 4 && (offset & 3) == 0) || (size == 8 && (offset & 7) == 0);
}

/** One dword written to the table at a dword offset inside it. */
function tableDword(slot: i32, offset: u32, value: u32): void {
  const p = tableOf(slot) + <usize>offset;
  if ((offset & 15) != 12) {
    store<u32>(p, value);
    return;
  }
  // Vector Control: only the mask bit is implemented (the other bits are reserved, read 0).
  const was = load<u32>(p) & 1;
  store<u32>(p, value & 1);
  if (was == 1 && (value & 1) == 0) release(slot, offset >> 4);
}

/** A guest access to the table region (offset inside the table). */
export function msixTableAccess(slot: i32, offset: u64, size: i32, write: bool, value: u64): u64 {
  const bytes = <u64>sizeOf(slot) * 16;
  if (!validAccess(offset, size) || offset + <u64>size > bytes) return write ? 0 : onesOf(size);
  const at = <u32>offset;
  if (write) {
    tableDword(slot, at, <u32>value);
    if (size == 8) tableDword(slot, at + 4, <u32>(value >> 32));
    return 0;
  }
  const p = tableOf(slot) + <usize>at;
  return size == 8 ? load<u64>(p) : <u64>load<u32>(p);
}

/** A guest access to the PBA region: read-only (writes are ignored, PCI 3.0 §6.8.2.10). */
export function msixPbaAccess(slot: i32, offset: u64, size: i32, write: bool, value: u64): u64 {
  const bytes = <u64>pbaBytes(sizeOf(slot));
  if (!validAccess(offset, size) || offset + <u64>size > bytes) return write ? 0 : onesOf(size);
  if (write) return 0;
  const p = pbaOf(slot) + <usize>offset;
  return size == 8 ? load<u64>(p) : <u64>load<u32>(p);
}
