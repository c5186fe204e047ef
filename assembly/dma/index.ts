// The DMA translator's public names: everything assembly/index.ts exports from this folder.
// Boundary style: 64-bit addresses and sizes are f64 (integers; anything that is not an integer
// in [0, 2^64) is refused with ERR_RANGE), everything else u32/i32. Status codes: layout.ts.
import {
  OK, ERR_RANGE, MAX_RAM, COUNTERS, toU64, conv,
} from "./layout";
import { ramAdd as addRam, ramRemove as removeRam, ramUsed, ramBaseOf, ramEndOf, ramPtrOf, ramCount as countRam, ramReset } from "./ram";
import {
  domainMap as mapDomain, domainUnmap as unmapDomain, domainLookup, lookupGpa, lookupPerms, domainsReset,
} from "./domains";
import { iotlbFlush, iotlbValid } from "./iotlb";
import { tablesLive } from "./page-table";
import { faultsQueued, faultsDrain, faultOut, faultsReset, counterOf } from "./faults";
import { buffer, sgList, segments } from "./transfer";

export {
  domainCreate, domainDestroy, domainType, dmaAttach, dmaDetach, dmaDomainOf, dmaSlotReleased,
} from "./domains";
export { dmaRead, dmaWrite, dmaSg, dmaTranslate } from "./transfer";

/**
 * Adds guest RAM at [base, base + size), 4 KiB aligned, not overlapping other RAM. internal != 0:
 * the core allocates it (zeroed; at most 1 GiB - 4 KiB; bytes at ramAddress(index)); else the
 * embedder holds it. Returns the region index (0..63) or ERR_RANGE / ERR_EXISTS / ERR_FULL.
 */
export function ramAdd(base: f64, size: f64, internal: u32): i32 {
  if (!toU64(base)) return ERR_RANGE;
  const b = conv;
  if (!toU64(size)) return ERR_RANGE;
  const st = addRam(b, conv, internal != 0);
  if (st >= 0) iotlbFlush();
  return st;
}

/** Removes a RAM region (flushes the IOTLB). ERR_NOT_FOUND for an unused index. */
export function ramRemove(index: u32): i32 {
  const st = removeRam(index);
  if (st == OK) iotlbFlush();
  return st;
}

/** Base of a RAM region, -1 for an unused index. */
export function ramBase(index: u32): f64 {
  return ramUsed(index) ? <f64>ramBaseOf(index) : -1;
}

/** Size of a RAM region, -1 for an unused index. */
export function ramSize(index: u32): f64 {
  return ramUsed(index) ? <f64>(ramEndOf(index) - ramBaseOf(index)) : -1;
}

/** Linear-memory address of an internal region's bytes; 0 for external or unused. */
export function ramAddress(index: u32): u32 {
  return index < MAX_RAM ? <u32>ramPtrOf(index) : 0;
}

export function ramCount(): i32 {
  return <i32>countRam();
}

/** domainMap with f64 addresses (domains.ts). */
export function domainMap(id: u32, iova: f64, gpa: f64, size: f64, perms: u32): i32 {
  if (!toU64(iova)) return ERR_RANGE;
  const i = conv;
  if (!toU64(gpa)) return ERR_RANGE;
  const g = conv;
  if (!toU64(size)) return ERR_RANGE;
  return mapDomain(id, i, g, conv, perms);
}

/** domainUnmap: bytes that were mapped (>= 0), or a negative status. */
export function domainUnmap(id: u32, iova: f64, size: f64): f64 {
  if (!toU64(iova)) return <f64>ERR_RANGE;
  const i = conv;
  if (!toU64(size)) return <f64>ERR_RANGE;
  return <f64>unmapDomain(id, i, conv);
}

/** The guest-physical address domain `id` maps `iova` to; -1 when nothing is mapped there or
 * the id or address is bad (domainPerms tells which). No IOTLB, no fault. */
export function domainTranslate(id: u32, iova: f64): f64 {
  if (!toU64(iova) || domainLookup(id, conv) != OK || lookupPerms == 0) return -1;
  return <f64>lookupGpa;
}

/** Permissions of `iova` in domain `id` (0 unmapped, 1 read, 2 write, 3 both) or a status. */
export function domainPerms(id: u32, iova: f64): i32 {
  if (!toU64(iova)) return ERR_RANGE;
  const st = domainLookup(id, conv);
  return st != OK ? st : <i32>lookupPerms;
}

/** Where the bindings find the transfer buffer, the SG list and the segments (layout.ts). */
export function dmaBufferAddress(): u32 {
  return <u32>buffer;
}

export function dmaSgAddress(): u32 {
  return <u32>sgList;
}

export function dmaSegmentsAddress(): u32 {
  return <u32>segments;
}

/** Faults waiting in the log. */
export function dmaFaultsQueued(): u32 {
  return faultsQueued();
}

/** Moves up to `max` oldest faults to dmaFaultsAddress(); returns how many. */
export function dmaFaultsDrain(max: u32): u32 {
  return faultsDrain(max);
}

export function dmaFaultsAddress(): u32 {
  return <u32>faultOut;
}

/** Counter `index` (0 IOTLB hits, 1 misses, 2 faults, 3 faults dropped, 4 transfers, 5 bytes);
 * 0 for a bad index. */
export function dmaCounter(index: u32): f64 {
  return index < COUNTERS ? <f64>counterOf(index) : 0;
}

/** Page-table pages (4 KiB each) in use by translated domains. */
export function dmaTableCount(): i32 {
  return <i32>tablesLive();
}

/** Valid IOTLB entries (for tests). */
export function dmaIotlbValid(): i32 {
  return <i32>iotlbValid();
}

/**
 * Back to the initial state (VM reset): every domain but 0 destroyed, every slot in domain 0,
 * no RAM, IOTLB empty, fault log and counters cleared. Internal RAM blocks are kept for reuse.
 */
export function dmaReset(): void {
  domainsReset();
  ramReset();
  iotlbFlush();
  faultsReset();
}

