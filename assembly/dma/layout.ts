// Constants, status codes and record layouts of the DMA translator (design: DESIGN.md here).
// src/core/ts/dma/layout.ts holds the same numbers for the TypeScript twin.
//
// Areas the bindings read and write through the exported memory (offsets in bytes; 64-bit
// numbers are stored as f64, integers below 2^53, so TypeScript reads them without BigInt):
//
//   transfer buffer  BUFFER_SIZE bytes: the device side of every dmaRead/dmaWrite/dmaSg
//   SG list          MAX_SG elements of 16 bytes:  +0 iova f64 | +8 length u32 | +12 reserved
//   segments         MAX_SEGMENTS records of 24 bytes:
//                      +0 offset in the RAM region f64 | +8 RAM region index u32
//                      +12 length u32 | +16 offset in the transfer u32 | +20 flags u32 (1 internal)
//   faults (drained) FAULT_CAPACITY records of 24 bytes:
//                      +0 iova f64 | +8 slot i32 | +12 length u32 | +16 direction u32
//                      +20 reason u32
// ERR_BUSY: domainDestroy of a domain some slot is still attached to.
export { OK, ERR_RANGE, ERR_EXISTS, ERR_FULL, ERR_NOT_FOUND, ERR_BUSY } from "../config/layout";

/** A DMA that faulted returns FAULT_STATUS - reason (-17 .. -21); nothing of it was performed. */
export const FAULT_STATUS: i32 = -16;

// Fault reasons, in the order a transfer is checked.
export const REASON_BUS_MASTER: u32 = 1; // Command bit 2 (Bus Master Enable) is clear
export const REASON_BLOCKED: u32 = 2;    // the slot's domain blocks all DMA
export const REASON_UNMAPPED: u32 = 3;   // no translation for the IOVA
export const REASON_PERMISSION: u32 = 4; // the mapping lacks read (DMA read) or write permission
export const REASON_OUTSIDE_RAM: u32 = 5; // the guest-physical address is not guest RAM

/** Directions: DMA read = the device reads guest memory; DMA write = it writes guest memory. */
export const DIR_READ: u32 = 0;
export const DIR_WRITE: u32 = 1;

/** Map permissions (VFIO_DMA_MAP_FLAG_READ/WRITE meaning: readable/writable by the device). */
export const PERM_READ: u32 = 1;
export const PERM_WRITE: u32 = 2;

/** Domain types. Domain 0 is the built-in identity domain every slot starts in. */
export const DOMAIN_IDENTITY: u32 = 0;
export const DOMAIN_BLOCKED: u32 = 1;
export const DOMAIN_TRANSLATED: u32 = 2;
export const MAX_DOMAINS: u32 = 256;

/** Guest-physical addresses are below 2^52 (RAM regions and map targets). */
export const GPA_LIMIT: u64 = <u64>1 << 52;
/** IOVAs of translated domains are below 2^48: four 9-bit levels over 4 KiB pages. */
export const IOVA_LIMIT: u64 = <u64>1 << 48;
export const PAGE_SHIFT: u64 = 12;
export const PAGE_SIZE: u64 = 4096;
export const LARGE_SHIFT: u64 = 21;
export const LARGE_SIZE: u64 = 2 << 20;

/** Page-table pages (4 KiB each) all translated domains may hold together: 64 MiB. A map or
 * unmap that could need more is refused with ERR_FULL before it changes anything. */
export const MAX_TABLES: u32 = 16384;

/** RAM regions: at most 64, 4 KiB aligned, never overlapping. */
export const MAX_RAM: u32 = 64;
/** Largest internal region: the stub runtime's largest block (2^30 - 4) rounded down to a page. */
export const MAX_INTERNAL_RAM: u64 = (<u64>1 << 30) - PAGE_SIZE;

export const BUFFER_SIZE: u32 = 1 << 20;
export const MAX_SG: u32 = 1024;
export const SG_BYTES: u32 = 16;
/** Enough for any transfer the buffer can hold: 256 pages + 2 per SG element < 4096. */
export const MAX_SEGMENTS: u32 = 4096;
export const SEGMENT_BYTES: u32 = 24;
export const SEGMENT_INTERNAL: u32 = 1;
export const FAULT_CAPACITY: u32 = 256;
export const FAULT_BYTES: u32 = 24;

/** IOTLB: direct-mapped, IOTLB_ENTRIES entries of 32 bytes. */
export const IOTLB_ENTRIES: u32 = 1024;

// Counters (dmaCounter).
export const C_IOTLB_HITS: u32 = 0;
export const C_IOTLB_MISSES: u32 = 1;
export const C_FAULTS: u32 = 2;
export const C_FAULTS_DROPPED: u32 = 3;
export const C_TRANSFERS: u32 = 4;
export const C_BYTES: u32 = 5;
export const COUNTERS: u32 = 6;

/** f64 → u64 at the boundary: an integer in [0, 2^64) or refused (as assembly/boundary.ts). */
export let conv: u64 = 0;
export function toU64(v: f64): bool {
  if (!(v >= 0.0 && v < 18446744073709551616.0) || Math.floor(v) != v) return false;
  conv = <u64>v;
  return true;
}
