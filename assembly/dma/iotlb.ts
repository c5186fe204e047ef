// The IOTLB: a direct-mapped cache of translated domains' page-table walks, keyed by domain and
// IOVA page. An entry also caches the RAM region the page lands in, so a hit needs neither the
// page table nor the memory map.
//
//   entry (32 bytes): +0 tag u64 | +8 spanLo u32 | +12 spanHi u32 | +16 regionOffset u64
//                     | +24 region u32 | +28 perms u32
//   tag = pageNumber << 10 | domain << 2 | large << 1 | 1   (0 = empty entry)
//
// A 4 KiB page is entry pageNumber = iova >> 12, a 2 MiB page iova >> 21 with large = 1; a
// lookup probes the 4 KiB index, then the 2 MiB one. [spanLo, spanHi) is the part of the page
// (offsets in it) that lies in one RAM region (all of it, unless a 2 MiB page straddles a region
// edge); regionOffset is the region offset of page offset spanLo.
//
// Invalidation: unmap drops every entry of the domain overlapping the range (probing the indexes
// of the range's pages when it is at most 16 pages, else scanning all entries); destroying a
// domain drops its entries; RAM map changes flush everything. Detach needs nothing: a slot's
// domain is read on every transfer and entries belong to domains, not slots.
import { IOTLB_ENTRIES, PAGE_SHIFT, LARGE_SHIFT, C_IOTLB_HITS, C_IOTLB_MISSES } from "./layout";
import { bump } from "./faults";

const ENTRY_BYTES: usize = 32;
const MASK: u32 = IOTLB_ENTRIES - 1;
const entries: usize = heap.alloc(<usize>IOTLB_ENTRIES * ENTRY_BYTES);
memory.fill(entries, 0, <usize>IOTLB_ENTRIES * ENTRY_BYTES);

/** The answer of a hit. */
export let hitRegion: u32 = 0;
export let hitOffset: u64 = 0;
export let hitAvail: u64 = 0;
export let hitPerms: u32 = 0;

/** Sets the answer (a miss that the caller resolved and filled). */
// @ts-ignore: decorator
@inline export function setHit(region: u32, perms: u32, offset: u64, avail: u64): void {
  hitRegion = region;
  hitPerms = perms;
  hitOffset = offset;
  hitAvail = avail;
}

// @ts-ignore: decorator
@inline function tagOf(pn: u64, domain: u32, large: u32): u64 {
  return (pn << 10) | (<u64>domain << 2) | (<u64>large << 1) | 1;
}

// @ts-ignore: decorator
@inline function entryAt(pn: u64, domain: u32, large: u32): usize {
  return entries + <usize>((<u32>pn ^ (domain * 37) ^ (large << 9)) & MASK) * ENTRY_BYTES;
}

/**
 * The entry answering for `iova` in `domain` (the 4 KiB probe first, then the 2 MiB one), or 0.
 * Counts nothing and changes nothing: the fast path of a transfer uses it.
 */
// @ts-ignore: decorator
@inline export function iotlbFind(domain: u32, iova: u64): usize {
  let pn = iova >> PAGE_SHIFT;
  let e = entryAt(pn, domain, 0);
  if (load<u64>(e) == tagOf(pn, domain, 0)) {
    const off = <u32>iova & 0xfff;
    if (off >= load<u32>(e, 8) && off < load<u32>(e, 12)) return e;
  }
  pn = iova >> LARGE_SHIFT;
  e = entryAt(pn, domain, 1);
  if (load<u64>(e) == tagOf(pn, domain, 1)) {
    const off = <u32>iova & 0x1fffff;
    if (off >= load<u32>(e, 8) && off < load<u32>(e, 12)) return e;
  }
  return 0;
}

/** What entry `e` (from iotlbFind) says: region, perms, and for `iova` the region offset and the
 * bytes left in the span. */
// @ts-ignore: decorator
@inline export function entryRegion(e: usize): u32 {
  return load<u32>(e, 24);
}

// @ts-ignore: decorator
@inline export function entryPerms(e: usize): u32 {
  return load<u32>(e, 28);
}

/** Page offset of `iova` in entry `e`'s page. */
// @ts-ignore: decorator
@inline function entryOff(e: usize, iova: u64): u32 {
  return (load<u64>(e) & 2) != 0 ? <u32>iova & 0x1fffff : <u32>iova & 0xfff;
}

// @ts-ignore: decorator
@inline export function entryOffset(e: usize, iova: u64): u64 {
  return load<u64>(e, 16) + <u64>(entryOff(e, iova) - load<u32>(e, 8));
}

// @ts-ignore: decorator
@inline export function entryAvail(e: usize, iova: u64): u64 {
  return <u64>(load<u32>(e, 12) - entryOff(e, iova));
}

/** Looks `iova` up for `domain`; on a hit sets hitRegion/Offset/Avail/Perms. Counts. */
export function iotlbLookup(domain: u32, iova: u64): bool {
  const e = iotlbFind(domain, iova);
  if (e == 0) {
    bump(C_IOTLB_MISSES, 1);
    return false;
  }
  hitRegion = entryRegion(e);
  hitPerms = entryPerms(e);
  hitOffset = entryOffset(e, iova);
  hitAvail = entryAvail(e, iova);
  bump(C_IOTLB_HITS, 1);
  return true;
}

/** Caches page `pn` (large: 2 MiB) of `domain`, span [lo, hi) in `region` from `offset`. */
export function iotlbFill(domain: u32, pn: u64, large: u32, lo: u32, hi: u32, region: u32, offset: u64, perms: u32): void {
  const e = entryAt(pn, domain, large);
  store<u64>(e, tagOf(pn, domain, large));
  store<u32>(e, lo, 8);
  store<u32>(e, hi, 12);
  store<u64>(e, offset, 16);
  store<u32>(e, region, 24);
  store<u32>(e, perms, 28);
}

/** Drops the entry at `e` if it is page `pn`/`large` of `domain`. */
// @ts-ignore: decorator
@inline function dropIf(pn: u64, domain: u32, large: u32): void {
  const e = entryAt(pn, domain, large);
  if (load<u64>(e) == tagOf(pn, domain, large)) store<u64>(e, 0);
}

/** Drops every entry of `domain` whose page meets [iova, end). */
export function iotlbInvalidate(domain: u32, iova: u64, end: u64): void {
  if (end <= iova) return;
  if (end - iova <= <u64>16 << PAGE_SHIFT) {
    for (let pn = iova >> PAGE_SHIFT; pn <= (end - 1) >> PAGE_SHIFT; pn++) dropIf(pn, domain, 0);
    for (let pn = iova >> LARGE_SHIFT; pn <= (end - 1) >> LARGE_SHIFT; pn++) dropIf(pn, domain, 1);
    return;
  }
  for (let i: usize = 0; i < <usize>IOTLB_ENTRIES; i++) {
    const e = entries + i * ENTRY_BYTES;
    const tag = load<u64>(e);
    if (tag == 0 || <u32>((tag >> 2) & 0xff) != domain) continue;
    const shift = (tag & 2) != 0 ? LARGE_SHIFT : PAGE_SHIFT;
    const b = (tag >> 10) << shift;
    if (b < end && b + (<u64>1 << shift) > iova) store<u64>(e, 0);
  }
}

/** Drops every entry of `domain`. */
export function iotlbDropDomain(domain: u32): void {
  for (let i: usize = 0; i < <usize>IOTLB_ENTRIES; i++) {
    const e = entries + i * ENTRY_BYTES;
    const tag = load<u64>(e);
    if (tag != 0 && <u32>((tag >> 2) & 0xff) == domain) store<u64>(e, 0);
  }
}

export function iotlbFlush(): void {
  memory.fill(entries, 0, <usize>IOTLB_ENTRIES * ENTRY_BYTES);
}

/** Entry `i` (0..IOTLB_ENTRIES-1), for state save and load (layout at the top of this file). */
export function iotlbEntryAddress(i: u32): usize {
  return entries + <usize>i * ENTRY_BYTES;
}

/** The entry index page `pn` (large: a 2 MiB page number) of `domain` lives at. */
export function iotlbIndexOf(pn: u64, domain: u32, large: u32): u32 {
  return <u32>((entryAt(pn, domain, large) - entries) / ENTRY_BYTES);
}

/** Number of valid entries (tests and the DESIGN figures). */
export function iotlbValid(): u32 {
  let n: u32 = 0;
  for (let i: usize = 0; i < <usize>IOTLB_ENTRIES; i++) if (load<u64>(entries + i * ENTRY_BYTES) != 0) n++;
  return n;
}
