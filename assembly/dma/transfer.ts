// DMA transfers on behalf of a function: check, translate and validate the whole transfer into
// segments, and only then copy. A transfer that faults anywhere is not performed at all.
//
//   request ─► slot, arguments ─► bus master ─► domain ─► every element, page by page:
//              identity:   RAM map (last hit, then binary search)
//              translated: IOTLB (4 KiB then 2 MiB probe) ─ miss ─► page walk ─► perms ─► RAM map ─► fill
//           ─► segments (merged while contiguous in one region)
//           ─► internal RAM: memory.copy here;  external RAM: listed for TypeScript to copy
import {
  OK, ERR_RANGE, ERR_NOT_FOUND, ERR_FULL, FAULT_STATUS, REASON_BUS_MASTER, REASON_BLOCKED,
  REASON_UNMAPPED, REASON_PERMISSION, REASON_OUTSIDE_RAM, DIR_READ, DIR_WRITE, GPA_LIMIT,
  IOVA_LIMIT, PAGE_SHIFT, LARGE_SHIFT, PAGE_SIZE, LARGE_SIZE, BUFFER_SIZE, MAX_SG, SG_BYTES,
  MAX_SEGMENTS, SEGMENT_BYTES, SEGMENT_INTERNAL, C_TRANSFERS, C_BYTES, C_IOTLB_HITS, toU64, conv,
} from "./layout";
import { mastering } from "../config/store";
import { ramFind, found, ramBaseOf, ramEndOf, ramPtrOf, ramLastHit } from "./ram";
import {
  iotlbLookup, iotlbFill, setHit, hitRegion, hitOffset, hitAvail, hitPerms, iotlbFind, entryRegion, entryPerms, entryOffset,
  entryAvail,
} from "./iotlb";
import { walk, walkLeaf, walkLarge, leafGpa, leafPerms } from "./page-table";
import { kindOf, rootOf, domainOfSlot, slotValid, KIND_IDENTITY, KIND_BLOCKED, KIND_TRANSLATED } from "./domains";
import { faultRecord, bump } from "./faults";

/** PCI Local Bus 3.0 §6.2.2: Command register, bit 2 Bus Master Enable. */

export const buffer: usize = heap.alloc(<usize>BUFFER_SIZE);
export const sgList: usize = heap.alloc(<usize>MAX_SG * SG_BYTES);
export const segments: usize = heap.alloc(<usize>MAX_SEGMENTS * SEGMENT_BYTES);
/** The validated elements of the current request: +0 iova u64 | +8 length u64. */
const elems: usize = heap.alloc(<usize>MAX_SG << 4);
memory.fill(buffer, 0, <usize>BUFFER_SIZE);
memory.fill(sgList, 0, <usize>MAX_SG * SG_BYTES);
memory.fill(segments, 0, <usize>MAX_SEGMENTS * SEGMENT_BYTES);

// The segment being built (merged while the next piece continues it in the same region).
let nseg: u32 = 0;
let pRegion: u32 = 0;
let pOffset: u64 = 0;
let pLen: u32 = 0;
let pXfer: u32 = 0;
let overflow: bool = false;
/** Where translation faulted. */
let faultAt: u64 = 0;

function flush(): void {
  if (pLen == 0) return;
  if (nseg >= MAX_SEGMENTS) { // cannot happen within BUFFER_SIZE and MAX_SG; refused if it did
    overflow = true;
    return;
  }
  const r = segments + <usize>nseg * SEGMENT_BYTES;
  store<f64>(r, <f64>pOffset);
  store<u32>(r, pRegion, 8);
  store<u32>(r, pLen, 12);
  store<u32>(r, pXfer, 16);
  store<u32>(r, ramPtrOf(pRegion) != 0 ? SEGMENT_INTERNAL : 0, 20);
  nseg++;
}

// @ts-ignore: decorator
@inline function emit(region: u32, offset: u64, len: u32, xfer: u32): void {
  if (pLen != 0 && region == pRegion && offset == pOffset + <u64>pLen) {
    pLen += len;
    return;
  }
  flush();
  pRegion = region;
  pOffset = offset;
  pLen = len;
  pXfer = xfer;
}

/**
 * IOTLB miss in translated `domain` at `pos`: walk, check perms, find the RAM, fill the IOTLB
 * and set the hit* answer. Returns 0 or the fault reason.
 */
function miss(domain: u32, pos: u64, need: u32): u32 {
  if (!walk(rootOf(domain), pos)) return REASON_UNMAPPED;
  const perms = leafPerms(walkLeaf);
  if ((perms & need) == 0) return REASON_PERMISSION;
  const shift = walkLarge ? LARGE_SHIFT : PAGE_SHIFT;
  const psize = walkLarge ? LARGE_SIZE : PAGE_SIZE;
  const off = pos & (psize - 1);
  const gpaPage = leafGpa(walkLeaf);
  if (!ramFind(gpaPage + off)) return REASON_OUTSIDE_RAM;
  const r = found;
  const rb = ramBaseOf(r);
  const re = ramEndOf(r);
  // The part of the page inside region r, as page offsets [lo, hi).
  const lo = rb > gpaPage ? rb - gpaPage : 0;
  const hi = re - gpaPage < psize ? re - gpaPage : psize;
  iotlbFill(domain, pos >> shift, walkLarge, <u32>lo, <u32>hi, r, gpaPage + lo - rb, perms);
  setHit(r, perms, gpaPage + off - rb, hi - off);
  return 0;
}

/**
 * Translates one element into segments from transfer offset `xfer`: 0 or a fault reason, with
 * faultAt set. Counts down the length rather than comparing with iova + len, which could wrap.
 */
function translateElement(kind: u32, domain: u32, iova: u64, len: u64, need: u32, xfer: u32): u32 {
  let pos = iova;
  let left = len;
  while (left > 0) {
    let region: u32;
    let offset: u64;
    let avail: u64;
    if (kind == KIND_IDENTITY) {
      if (pos >= GPA_LIMIT || !ramFind(pos)) {
        faultAt = pos;
        return REASON_OUTSIDE_RAM;
      }
      region = found;
      offset = pos - ramBaseOf(found);
      avail = ramEndOf(found) - pos;
    } else {
      if (pos >= IOVA_LIMIT) {
        faultAt = pos;
        return REASON_UNMAPPED;
      }
      if (iotlbLookup(domain, pos)) {
        if ((hitPerms & need) == 0) {
          faultAt = pos;
          return REASON_PERMISSION;
        }
      } else {
        const reason = miss(domain, pos, need);
        if (reason != 0) {
          faultAt = pos;
          return reason;
        }
      }
      region = hitRegion;
      offset = hitOffset;
      avail = hitAvail;
    }
    const n = <u32>(avail < left ? avail : left);
    emit(region, offset, n, xfer);
    pos += <u64>n;
    left -= <u64>n;
    xfer += n;
  }
  return 0;
}

// @ts-ignore: decorator
@inline function elemIova(k: u32): u64 {
  return load<u64>(elems + (<usize>k << 4));
}

// @ts-ignore: decorator
@inline function elemLen(k: u32): u64 {
  return load<u64>(elems + (<usize>k << 4), 8);
}

/** Faults at the first non-empty element (bus master, blocked). */
function faultFirst(slot: i32, dir: u32, reason: u32): i32 {
  let k: u32 = 0;
  while (elemLen(k) == 0) k++;
  faultRecord(slot, elemIova(k), elemLen(k), dir, reason);
  return FAULT_STATUS - <i32>reason;
}

/**
 * Checks and translates a request of `count` validated elements (at least one byte) for a valid
 * slot into the segments area. Returns the segment count, or a fault status (the fault logged).
 */
function prepare(slot: i32, dir: u32, count: u32): i32 {
  if (!mastering(slot)) return faultFirst(slot, dir, REASON_BUS_MASTER);
  const domain = domainOfSlot(slot);
  const kind = kindOf(domain);
  if (kind == KIND_BLOCKED) return faultFirst(slot, dir, REASON_BLOCKED);
  const need: u32 = dir == DIR_READ ? 1 : 2;
  nseg = 0;
  pLen = 0;
  overflow = false;
  let xfer: u32 = 0;
  for (let k: u32 = 0; k < count; k++) {
    const len = elemLen(k);
    if (len == 0) continue;
    const reason = translateElement(kind, domain, elemIova(k), len, need, xfer);
    if (reason != 0) {
      faultRecord(slot, faultAt, len - (faultAt - elemIova(k)), dir, reason);
      return FAULT_STATUS - <i32>reason;
    }
    xfer += <u32>len;
  }
  flush();
  return overflow ? ERR_FULL : <i32>nseg;
}

/** Copies the internal segments of a prepared request to or from `buf` and compacts the list to
 * the external ones; returns their number. */
function commit(dir: u32, buf: usize, total: u64): i32 {
  bump(C_TRANSFERS, 1);
  bump(C_BYTES, total);
  let out: u32 = 0;
  for (let k: u32 = 0; k < nseg; k++) {
    const r = segments + <usize>k * SEGMENT_BYTES;
    const ptr = ramPtrOf(load<u32>(r, 8));
    if (ptr != 0) {
      const at = ptr + <usize><u64>load<f64>(r);
      const dev = buf + <usize>load<u32>(r, 16);
      const n = <usize>load<u32>(r, 12);
      if (dir == DIR_READ) memory.copy(dev, at, n);
      else memory.copy(at, dev, n);
    } else {
      if (out != k) memory.copy(segments + <usize>out * SEGMENT_BYTES, r, <usize>SEGMENT_BYTES);
      out++;
    }
  }
  return <i32>out;
}

const NO_REGION: u32 = 0xffffffff;

/**
 * One element [iova, iova + len) from the boundary: ERR_RANGE for a bad number or length.
 *
 * Fast path, for the common case of an element inside one IOTLB entry (translated domains) or
 * inside the region of the last RAM lookup (identity): one segment, no fault possible, the same
 * result, counters and cache state as the general path, which handles everything else. (The
 * segments area past the returned count is scratch: the fast path leaves it alone.)
 */
function single(slot: i32, dir: u32, iova: f64, len: u32, limit: u32, buf: usize, copy: bool): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  if (!toU64(iova) || len > limit) return ERR_RANGE;
  if (len == 0) return 0;
  const a = conv;
  if (mastering(slot)) {
    const domain = domainOfSlot(slot);
    const kind = kindOf(domain);
    let region = NO_REGION;
    let offset: u64 = 0;
    if (kind == KIND_TRANSLATED) {
      if (a < IOVA_LIMIT) {
        const e = iotlbFind(domain, a);
        if (e != 0 && (entryPerms(e) & (dir == DIR_READ ? 1 : 2)) != 0 && entryAvail(e, a) >= <u64>len) {
          region = entryRegion(e);
          offset = entryOffset(e, a);
          bump(C_IOTLB_HITS, 1);
        }
      }
    } else if (kind == KIND_IDENTITY) {
      const r = ramLastHit();
      if (a >= ramBaseOf(r) && a < ramEndOf(r) && <u64>len <= ramEndOf(r) - a) {
        region = r;
        offset = a - ramBaseOf(r);
      }
    }
    if (region != NO_REGION) {
      bump(C_TRANSFERS, 1);
      bump(C_BYTES, <u64>len);
      const ptr = ramPtrOf(region);
      if (copy && ptr != 0) { // nothing to list (the segments area is left as it was)
        if (dir == DIR_READ) memory.copy(buf, ptr + <usize>offset, <usize>len);
        else memory.copy(ptr + <usize>offset, buf, <usize>len);
        return 0;
      }
      const s = segments;
      store<f64>(s, <f64>offset);
      store<u32>(s, region, 8);
      store<u32>(s, len, 12);
      store<u32>(s, 0, 16);
      store<u32>(s, ptr != 0 ? SEGMENT_INTERNAL : 0, 20);
      return 1;
    }
  }
  store<u64>(elems, a);
  store<u64>(elems, <u64>len, 8);
  const n = prepare(slot, dir, 1);
  if (n < 0) return n;
  if (copy) return commit(dir, buf, <u64>len);
  bump(C_TRANSFERS, 1);
  bump(C_BYTES, <u64>len);
  return n;
}

/**
 * The device in `slot` reads `len` bytes of guest memory at `iova` into the transfer buffer at
 * `bufOffset`. Returns the number of external segments TypeScript must still copy (listed from
 * the segments area; 0 when all RAM involved is internal), or:
 *   ERR_NOT_FOUND  no function in the slot
 *   ERR_RANGE      iova not an integer in [0, 2^64), or bufOffset + len past the buffer
 *   FAULT_STATUS - reason (-17 bus master off, -18 blocked, -19 unmapped, -20 permission,
 *                  -21 outside RAM): nothing was copied and the fault is logged
 */
export function dmaRead(slot: i32, iova: f64, len: u32, bufOffset: u32): i32 {
  if (bufOffset > BUFFER_SIZE) return ERR_RANGE;
  return single(slot, DIR_READ, iova, len, BUFFER_SIZE - bufOffset, buffer + <usize>bufOffset, true);
}

/** The device writes `len` bytes from the transfer buffer at `bufOffset` to guest memory at
 * `iova`; results as dmaRead. */
export function dmaWrite(slot: i32, iova: f64, len: u32, bufOffset: u32): i32 {
  if (bufOffset > BUFFER_SIZE) return ERR_RANGE;
  return single(slot, DIR_WRITE, iova, len, BUFFER_SIZE - bufOffset, buffer + <usize>bufOffset, true);
}

/**
 * Scatter-gather: the first `count` elements of the SG list (iova f64, length u32), read (dir 0)
 * into or written (dir 1) from the buffer at `bufOffset`, elements packed one after another.
 * Every element is validated before anything is copied. Results as dmaRead; also ERR_RANGE for
 * a bad dir, count past MAX_SG or a total past the buffer.
 */
export function dmaSg(slot: i32, count: u32, dir: u32, bufOffset: u32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  if (dir > DIR_WRITE || count > MAX_SG || bufOffset > BUFFER_SIZE) return ERR_RANGE;
  const room = <u64>(BUFFER_SIZE - bufOffset);
  let total: u64 = 0;
  for (let k: u32 = 0; k < count; k++) {
    const e = sgList + <usize>k * SG_BYTES;
    if (!toU64(load<f64>(e))) return ERR_RANGE;
    const len = <u64>load<u32>(e, 8);
    total += len;
    if (total > room) return ERR_RANGE;
    store<u64>(elems + (<usize>k << 4), conv);
    store<u64>(elems + (<usize>k << 4), len, 8);
  }
  if (total == 0) return 0;
  const n = prepare(slot, dir, count);
  if (n < 0) return n;
  return commit(dir, buffer + <usize>bufOffset, total);
}

/**
 * Translates and checks a transfer without copying: lists every segment (flags bit 0 =
 * internal RAM, whose bytes are at ramAddress(region) + offset). For device models that copy
 * themselves. Returns the segment count or a status as dmaRead (len at most BUFFER_SIZE).
 */
export function dmaTranslate(slot: i32, iova: f64, len: u32, dir: u32): i32 {
  if (dir > DIR_WRITE) return ERR_RANGE;
  return single(slot, dir, iova, len, BUFFER_SIZE, 0, false);
}

/**
 * For Wasm-native device models: copies between guest memory at `iova` and linear memory at
 * `data` (dir 0: guest → data). Internal RAM only: a transfer touching external RAM is refused
 * with ERR_RANGE (nothing copied). Same checks and faults as dmaRead.
 */
export function dmaCopyLinear(slot: i32, dir: u32, iova: u64, len: u32, data: usize): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  if (dir > DIR_WRITE || len > BUFFER_SIZE) return ERR_RANGE;
  if (len == 0) return 0;
  store<u64>(elems, iova);
  store<u64>(elems, <u64>len, 8);
  const n = prepare(slot, dir, 1);
  if (n < 0) return n;
  for (let k: u32 = 0; k < nseg; k++) {
    if (load<u32>(segments + <usize>k * SEGMENT_BYTES, 20) == 0) return ERR_RANGE;
  }
  commit(dir, data, <u64>len);
  return OK;
}
