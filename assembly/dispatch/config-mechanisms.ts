// The two ways a guest reaches config space: the ECAM window (MMIO) and the legacy
// 0xCF8 address / 0xCFC-0xCFF data ports. Both decode to (segment, bus, device, function,
// register) and call the store's one read/write path; neither knows anything about registers.
import { configRead, configWrite } from "../config/store";
import { MAX_SEGMENTS, OK, ERR_RANGE, ERR_EXISTS, onesFor } from "../config/layout";

/** One ECAM window per segment at most. */
const MAX_ECAM: i32 = <i32>MAX_SEGMENTS;

// ECAM windows: base (u64), first and last bus decoded, segment.
//   +0 base u64 | +8 size u64 | +16 busStart u32 | +20 segment u32    (24 bytes each)
const ECAM_STRIDE: usize = 24;
const ecamTable: usize = heap.alloc(<usize>MAX_ECAM * ECAM_STRIDE);
let ecamCount: i32 = 0;

/** PCIe Base 6.0 §7.2.2: one bus takes 1 MiB of ECAM (32 devices x 8 functions x 4 KiB). */
const ECAM_BUS_SHIFT: u64 = 20;

/**
 * Converts an embedder-given address (an integer-valued f64 below 2^64) to u64; anything else
 * (negative, fractional, NaN, too large) yields false and the access is unmapped.
 */
let convAddr: u64 = 0;
function convertAddress(addr: f64): bool {
  if (!(addr >= 0.0 && addr < 18446744073709551616.0) || Math.floor(addr) != addr) return false;
  convAddr = <u64>addr;
  return true;
}

/**
 * Maps a segment's ECAM window at `base` decoding buses busStart..busEnd. The window is
 * (busEnd - busStart + 1) MiB; its base must be 1 MiB aligned and it must fit below 2^64.
 */
export function setEcam(seg: u32, baseAddress: f64, busStart: u32, busEnd: u32): i32 {
  if (seg >= MAX_SEGMENTS || busStart > busEnd || busEnd > 255) return ERR_RANGE;
  if (!convertAddress(baseAddress)) return ERR_RANGE;
  const base = convAddr;
  if ((base & ((<u64>1 << ECAM_BUS_SHIFT) - 1)) != 0) return ERR_RANGE;
  const size = <u64>(busEnd - busStart + 1) << ECAM_BUS_SHIFT;
  if (base + size < base && base + size != 0) return ERR_RANGE;
  for (let i = 0; i < ecamCount; i++) {
    if (load<u32>(ecamTable + <usize>i * ECAM_STRIDE, 20) == seg) return ERR_EXISTS;
  }
  if (ecamCount >= MAX_ECAM) return ERR_RANGE;
  const e = ecamTable + <usize>ecamCount * ECAM_STRIDE;
  store<u64>(e, base);
  store<u64>(e, size, 8);
  store<u32>(e, busStart, 16);
  store<u32>(e, seg, 20);
  ecamCount++;
  return OK;
}

/** Index of the ECAM window holding `addr`, or -1. At most MAX_SEGMENTS windows. */
function findEcam(addr: u64): i32 {
  for (let i = 0; i < ecamCount; i++) {
    const e = ecamTable + <usize>i * ECAM_STRIDE;
    if (addr - load<u64>(e) < load<u64>(e, 8)) return i;
  }
  return -1;
}

// Decoded target of the last ECAM lookup, shared by read and write so both take one path.
let tSeg: u32 = 0;
let tBus: u32 = 0;
let tDev: u32 = 0;
let tFn: u32 = 0;
let tReg: u32 = 0;

/** PCIe Base 6.0 §7.2.2 ECAM offset: bus[27:20] device[19:15] function[14:12] register[11:0]. */
function decodeEcam(addr: u64): bool {
  const i = findEcam(addr);
  if (i < 0) return false;
  const e = ecamTable + <usize>i * ECAM_STRIDE;
  const off = <u32>(addr - load<u64>(e));
  tSeg = load<u32>(e, 20);
  tBus = load<u32>(e, 16) + (off >> 20);
  tDev = (off >> 15) & 0x1f;
  tFn = (off >> 12) & 7;
  tReg = off & 0xfff;
  return true;
}

/** High half of the last 8-byte MMIO read (the boundary carries 32-bit numbers). */
let readHigh: u32 = 0;
export function mmioReadHigh(): u32 {
  return readHigh;
}

/**
 * An MMIO read. Returns the low 32 bits; for size 8 the high half is in mmioReadHigh().
 * ECAM: sizes 1, 2 and 4 are one config transaction; an aligned 8-byte access is split into two
 * dword transactions, low dword first (as QEMU's memory core splits it). Anything not decoded
 * reads all ones (master abort).
 */
export function mmioRead(addr: f64, size: i32): u32 {
  readHigh = 0xffffffff;
  if (!convertAddress(addr)) return onesFor(size);
  const a = convAddr;
  if (!decodeEcam(a)) return onesFor(size);
  if (size == 8) {
    if ((tReg & 7) != 0) return 0xffffffff;
    const lo = configRead(tSeg, tBus, tDev, tFn, tReg, 4);
    readHigh = configRead(tSeg, tBus, tDev, tFn, tReg + 4, 4);
    return lo;
  }
  return configRead(tSeg, tBus, tDev, tFn, tReg, size);
}

/** An MMIO write of `size` bytes; `high` is the upper half of an 8-byte value. */
export function mmioWrite(addr: f64, size: i32, value: u32, high: u32): void {
  if (!convertAddress(addr)) return;
  if (!decodeEcam(convAddr)) return;
  if (size == 8) {
    if ((tReg & 7) != 0) return;
    configWrite(tSeg, tBus, tDev, tFn, tReg, 4, value);
    configWrite(tSeg, tBus, tDev, tFn, tReg + 4, 4, high);
    return;
  }
  configWrite(tSeg, tBus, tDev, tFn, tReg, size, value);
}

// Configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2).
const CONFIG_ADDRESS: u32 = 0xcf8;
const CONFIG_DATA: u32 = 0xcfc;
/** Enable bit 31, bus 23:16, device 15:11, function 10:8, dword register 7:2. Bits 30:24 and
 * 1:0 are reserved and read as zero. */
const ADDRESS_MASK: u32 = 0x80fffffc;
let configAddress: u32 = 0;

/**
 * A port-IO read. 0xCF8 answers a dword read with the latched address; 0xCFC-0xCFF read the
 * selected register's byte lanes when the enable bit is set. Everything else reads all ones.
 */
export function ioRead(port: u32, size: i32): u32 {
  if (port == CONFIG_ADDRESS && size == 4) return configAddress;
  if (port - CONFIG_DATA < 4) {
    const lane = port - CONFIG_DATA;
    if ((configAddress & 0x80000000) == 0 || (size != 1 && size != 2 && size != 4) ||
        lane + <u32>size > 4) return onesFor(size);
    const a = configAddress;
    return configRead(0, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7, (a & 0xfc) + lane, size);
  }
  return onesFor(size);
}

/** A port-IO write: a dword to 0xCF8 latches the address; 0xCFC-0xCFF write the register. */
export function ioWrite(port: u32, size: i32, value: u32): void {
  if (port == CONFIG_ADDRESS) {
    if (size == 4) configAddress = value & ADDRESS_MASK;
    return;
  }
  if (port - CONFIG_DATA < 4) {
    const lane = port - CONFIG_DATA;
    if ((configAddress & 0x80000000) == 0 || (size != 1 && size != 2 && size != 4) ||
        lane + <u32>size > 4) return;
    const a = configAddress;
    configWrite(0, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7, (a & 0xfc) + lane, size, value);
  }
}

