// The two ways a guest reaches config space: ECAM windows (MMIO regions) and the legacy
// 0xCF8 address / 0xCFC-0xCFF data ports (IO regions). Both decode to (segment, bus, device,
// function, register) and call the store's one read/write path; neither knows any register.
import { configRead, configWrite } from "../config/store";
import { MAX_SEGMENTS, OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, onesFor } from "../config/layout";
import { regionMap, SPACE_MMIO, SPACE_IO, MMIO_LIMIT } from "./region-table";
import { regionAlloc, regionFree, KIND_ECAM, KIND_CF8, KIND_CFC, PRIORITY_CONFIG } from "./regions";

const MAX_ECAM: u32 = MAX_SEGMENTS;

// ECAM windows: +0 base u64 | +8 busStart u32 | +12 segment u32 | +16 region u32 (24 bytes).
const ECAM_STRIDE: usize = 24;
const ecamTable: usize = heap.alloc(<usize>MAX_ECAM * ECAM_STRIDE);
let ecamCount: u32 = 0;

/** PCIe Base 6.0 §7.2.2: one bus takes 1 MiB of ECAM (32 devices x 8 functions x 4 KiB). */
const ECAM_BUS_SHIFT: u64 = 20;

/**
 * Maps segment `seg`'s ECAM window at `base` (1 MiB aligned) for buses busStart..busEnd as a
 * region that wins over every BAR. The window must lie below 2^52 (the decodable MMIO space).
 */
export function setEcam(seg: u32, base: u64, busStart: u32, busEnd: u32): i32 {
  if (seg >= MAX_SEGMENTS || busStart > busEnd || busEnd > 255) return ERR_RANGE;
  if ((base & ((<u64>1 << ECAM_BUS_SHIFT) - 1)) != 0) return ERR_RANGE;
  const size = <u64>(busEnd - busStart + 1) << ECAM_BUS_SHIFT;
  if (base >= MMIO_LIMIT || size > MMIO_LIMIT - base) return ERR_RANGE;
  for (let i: u32 = 0; i < ecamCount; i++) {
    if (load<u32>(ecamTable + <usize>i * ECAM_STRIDE, 12) == seg) return ERR_EXISTS;
  }
  if (ecamCount >= MAX_ECAM) return ERR_RANGE;
  const id = regionAlloc(KIND_ECAM, ecamCount, -1, 0, 0);
  if (id == 0) return ERR_FULL;
  if (regionMap(id, SPACE_MMIO, base, size, PRIORITY_CONFIG) != OK) {
    regionFree(id);
    return ERR_RANGE;
  }
  const e = ecamTable + <usize>ecamCount * ECAM_STRIDE;
  store<u64>(e, base);
  store<u32>(e, busStart, 8);
  store<u32>(e, seg, 12);
  store<u32>(e, id, 16);
  ecamCount++;
  return OK;
}

/**
 * An access to ECAM window `w` at byte `offset` of the window (PCIe Base 6.0 §7.2.2: bus[27:20]
 * device[19:15] function[14:12] register[11:0]). Sizes 1, 2, 4 are one config transaction; an
 * aligned 8-byte access is two dword transactions, low dword first (as QEMU's memory core splits
 * it); an unaligned one is not performed. Returns the value read (reads) as u64.
 */
export function ecamAccess(w: u32, offset: u64, size: i32, write: bool, value: u64): u64 {
  const e = ecamTable + <usize>w * ECAM_STRIDE;
  const off = <u32>offset;
  const seg = load<u32>(e, 12);
  const bus = load<u32>(e, 8) + (off >> 20);
  const dev = (off >> 15) & 0x1f;
  const fn = (off >> 12) & 7;
  const reg = off & 0xfff;
  if (size == 8) {
    if ((reg & 7) != 0) return 0xffffffffffffffff;
    if (write) {
      configWrite(seg, bus, dev, fn, reg, 4, <u32>value);
      configWrite(seg, bus, dev, fn, reg + 4, 4, <u32>(value >> 32));
      return 0;
    }
    return <u64>configRead(seg, bus, dev, fn, reg, 4) | (<u64>configRead(seg, bus, dev, fn, reg + 4, 4) << 32);
  }
  if (write) {
    configWrite(seg, bus, dev, fn, reg, size, <u32>value);
    return 0;
  }
  return <u64>configRead(seg, bus, dev, fn, reg, size);
}

// Configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2).
const CONFIG_ADDRESS: u64 = 0xcf8;
const CONFIG_DATA: u64 = 0xcfc;
/** Enable bit 31, bus 23:16, device 15:11, function 10:8, dword register 7:2. Bits 30:24 and
 * 1:0 are reserved and read as zero. */
const ADDRESS_MASK: u32 = 0x80fffffc;
let configAddress: u32 = 0;

/** The CONFIG_ADDRESS latch, for state save and load; ADDRESS_MASK says which bits it keeps. */
export function configAddressOf(): u32 {
  return configAddress;
}

export function setConfigAddress(value: u32): void {
  configAddress = value & ADDRESS_MASK;
}

/** Maps the two port regions; called once at start-up (they take region ids 1 and 2). */
export function initConfigPorts(): void {
  const a = regionAlloc(KIND_CF8, 0, -1, 0, 0);
  regionMap(a, SPACE_IO, CONFIG_ADDRESS, 4, PRIORITY_CONFIG);
  const d = regionAlloc(KIND_CFC, 0, -1, 0, 0);
  regionMap(d, SPACE_IO, CONFIG_DATA, 4, PRIORITY_CONFIG);
}

/** 0xCF8-0xCFB: only a dword at 0xCF8 reaches the latch; other accesses read all ones. */
export function cf8Access(offset: u64, size: i32, write: bool, value: u32): u32 {
  if (offset != 0 || size != 4) return write ? 0 : onesFor(size);
  if (write) configAddress = value & ADDRESS_MASK;
  return configAddress;
}

/** 0xCFC-0xCFF: the byte lanes of the latched register, while the enable bit is set. */
export function cfcAccess(offset: u64, size: i32, write: bool, value: u32): u32 {
  const lane = <u32>offset;
  const a = configAddress;
  if ((a & 0x80000000) == 0 || lane + <u32>size > 4) return write ? 0 : onesFor(size);
  const bus = (a >> 16) & 0xff;
  const dev = (a >> 11) & 0x1f;
  const fn = (a >> 8) & 7;
  const reg = (a & 0xfc) + lane;
  if (write) {
    configWrite(0, bus, dev, fn, reg, size, value);
    return 0;
  }
  return configRead(0, bus, dev, fn, reg, size);
}
