// The trap dispatcher's hot path: one guest access -> the region that owns its address -> that
// region's handler. Per-access exports and batch replay (replay.ts) both come through `access`.
import { regionLookup, regionBase, regionSize, SPACE_MMIO, SPACE_IO } from "./region-table";
import {
  kindOf, datumOf, subOffsetOf, countRead, countWrite, bump,
  KIND_ECAM, KIND_CF8, KIND_CFC, KIND_BAR, KIND_REGFILE, KIND_DOORBELL, KIND_HOST, KIND_MSIX_TABLE, KIND_MSIX_PBA,
  C_ABORT_MMIO_READ, C_ABORT_MMIO_WRITE, C_ABORT_IO_READ, C_ABORT_IO_WRITE, C_INVALID, C_HOST_ERROR,
} from "./regions";
import { ecamAccess, cf8Access, cfcAccess } from "./config-mechanisms";
import { regfileRead, regfileWrite } from "./regfile";
import { doorbellWrite, doorbellCount } from "./doorbell";
import { hostCall, hostResult } from "./host";
import { onesFor } from "../config/layout";
import { msixTableAccess, msixPbaAccess } from "../irq/msix";
import { irqQueued } from "../irq/events";

export const STATUS_OK: u8 = 0;
export const STATUS_ABORT: u8 = 1;
export const STATUS_INVALID: u8 = 2;
export const STATUS_HOST_ERROR: u8 = 3;

/** Status of the last access (for batch records). */
export let lastStatus: u8 = 0;

// @ts-ignore: decorator
@inline export function onesOf(size: i32): u64 {
  return size == 8 ? 0xffffffffffffffff : <u64>onesFor(size);
}

/**
 * One access. MMIO sizes 1, 2, 4, 8; IO sizes 1, 2, 4. Unclaimed addresses are a master abort
 * (all ones, write dropped, counted); bad sizes are invalid (all ones of a dword, counted).
 */
export function access(space: u32, addr: u64, size: i32, write: bool, value: u64): u64 {
  lastStatus = STATUS_OK;
  // Valid sizes as a bit set: 1, 2, 4, 8 for MMIO (0x116), 1, 2, 4 for IO (0x16).
  if (<u32>size > 8 || ((space == SPACE_MMIO ? 0x116 : 0x16) >> size & 1) == 0) {
    bump(C_INVALID);
    lastStatus = STATUS_INVALID;
    return 0xffffffff;
  }
  if (write) value &= onesOf(size);
  const id = <u32>regionLookup(space, addr);
  if (id == 0) {
    bump(space == SPACE_MMIO ? (write ? C_ABORT_MMIO_WRITE : C_ABORT_MMIO_READ) : (write ? C_ABORT_IO_WRITE : C_ABORT_IO_READ));
    lastStatus = STATUS_ABORT;
    return write ? 0 : onesOf(size);
  }
  if (write) countWrite(id); else countRead(id);
  const offset = addr - regionBase(id);
  const kind = kindOf(id);
  // Most frequent first: register files carry most device traffic in replays.
  if (kind == KIND_REGFILE) {
    if (write) {
      regfileWrite(datumOf(id), offset, size, value, regionSize(id));
      return 0;
    }
    return regfileRead(datumOf(id), offset, size, regionSize(id));
  }
  if (kind == KIND_ECAM) return ecamAccess(datumOf(id), offset, size, write, value);
  if (kind == KIND_CFC) return <u64>cfcAccess(offset, size, write, <u32>value);
  if (kind == KIND_CF8) return <u64>cf8Access(offset, size, write, <u32>value);
  if (kind == KIND_DOORBELL) {
    if (write) {
      doorbellWrite(datumOf(id), id, offset, size, value);
      return 0;
    }
    const count = doorbellCount(datumOf(id)) & 0xffffffff;
    return size == 8 || size == 4 ? count : count & ((<u64>1 << (<u64>size << 3)) - 1);
  }
  if (kind == KIND_HOST) {
    if (!hostCall(datumOf(id), write, offset + subOffsetOf(id), size, value)) {
      bump(C_HOST_ERROR);
      lastStatus = STATUS_HOST_ERROR;
      return write ? 0 : onesOf(size);
    }
    return write ? 0 : hostResult() & onesOf(size);
  }
  if (kind == KIND_MSIX_TABLE) return msixTableAccess(<i32>datumOf(id), offset, size, write, value);
  if (kind == KIND_MSIX_PBA) return msixPbaAccess(<i32>datumOf(id), offset, size, write, value);
  // KIND_BAR: a BAR with no handler reads zero and ignores writes.
  return 0;
}

/**
 * Converts an embedder-given address (an integer-valued f64 in [0, 2^64)) to u64; anything else
 * (negative, fractional, NaN) is invalid.
 */
let convAddr: u64 = 0;
function convertAddress(addr: f64): bool {
  if (!(addr >= 0.0 && addr < 18446744073709551616.0) || Math.floor(addr) != addr) return false;
  convAddr = <u64>addr;
  return true;
}

/** High half of the last 8-byte MMIO read (the boundary carries 32-bit numbers). */
let readHigh: u32 = 0;
export function mmioReadHigh(): u32 {
  return readHigh;
}

/** For state load: what mmioReadHigh() answers until the next read. */
export function setReadHigh(value: u32): void {
  readHigh = value;
}

/** An MMIO read; the low 32 bits are returned, the high half of an 8-byte read is in mmioReadHigh(). */
export function mmioRead(addr: f64, size: i32): u32 {
  if (!convertAddress(addr)) {
    bump(C_INVALID);
    readHigh = size == 8 ? 0xffffffff : 0;
    return onesFor(size);
  }
  const v = access(SPACE_MMIO, convAddr, size, false, 0);
  readHigh = <u32>(v >> 32);
  return <u32>v;
}

/** Writes return the number of queued interrupt events, so the embedder knows when to drain. */
export function mmioWrite(addr: f64, size: i32, value: u32, high: u32): u32 {
  if (!convertAddress(addr)) {
    bump(C_INVALID);
    return irqQueued();
  }
  access(SPACE_MMIO, convAddr, size, true, (<u64>high << 32) | <u64>value);
  return irqQueued();
}

/** mmioRead for an address below 2^32: no float checks or conversion on the way in. */
export function mmioRead32(addr: u32, size: i32): u32 {
  const v = access(SPACE_MMIO, <u64>addr, size, false, 0);
  readHigh = <u32>(v >> 32);
  return <u32>v;
}

/** mmioWrite for an address below 2^32. */
export function mmioWrite32(addr: u32, size: i32, value: u32, high: u32): u32 {
  access(SPACE_MMIO, <u64>addr, size, true, (<u64>high << 32) | <u64>value);
  return irqQueued();
}

export function ioRead(port: u32, size: i32): u32 {
  return <u32>access(SPACE_IO, <u64>port, size, false, 0);
}

export function ioWrite(port: u32, size: i32, value: u32): u32 {
  access(SPACE_IO, <u64>port, size, true, <u64>value);
  return irqQueued();
}

