// TypeScript twin of assembly/dma/transfer.ts: check, translate and validate the whole transfer
// into segments, then copy the internal ones. Same order of checks, same segment merging, same
// faults and counters as the Wasm core.
import type { ConfigStore } from '../config-store.js';
import {
  BUFFER_SIZE, Counter, DIR_READ, DIR_WRITE, DmaStatus, FAULT_STATUS, GPA_LIMIT, IOVA_LIMIT,
  MAX_SEGMENTS, MAX_SG, Reason, SEGMENT_BYTES, SEGMENT_INTERNAL, SG_BYTES, isU64,
} from './layout.js';
import type { RamMap } from './ram.js';
import type { Iotlb } from './iotlb.js';
import { type Domains, KIND_BLOCKED, KIND_IDENTITY, KIND_TRANSLATED } from './domains.js';
import { leafGpa, leafPerms } from './page-table.js';
import type { FaultLog } from './faults.js';

/** PCI Local Bus 3.0 §6.2.2: Command register, bit 2 Bus Master Enable. */
const PAGE = 4096;
const LARGE = 2097152;

export class Transfers {
  /** The transfer buffer, SG list and segments: the Wasm core's byte layouts. */
  readonly buffer = new Uint8Array(BUFFER_SIZE);
  readonly sgList = new Uint8Array(MAX_SG * SG_BYTES);
  readonly segments = new Uint8Array(MAX_SEGMENTS * SEGMENT_BYTES);
  private readonly sgF64 = new Float64Array(this.sgList.buffer);
  private readonly sgU32 = new Uint32Array(this.sgList.buffer);
  private readonly segF64 = new Float64Array(this.segments.buffer);
  private readonly segU32 = new Uint32Array(this.segments.buffer);
  private readonly elemIova = new Float64Array(MAX_SG);
  private readonly elemLen = new Float64Array(MAX_SG);
  private nseg = 0;
  private pRegion = 0;
  private pOffset = 0;
  private pLen = 0;
  private pXfer = 0;
  private overflow = false;
  private faultAt = 0;
  private readonly counters: Float64Array;

  constructor(
    private readonly store: ConfigStore,
    private readonly ram: RamMap,
    private readonly iotlb: Iotlb,
    private readonly domains: Domains,
    private readonly faults: FaultLog,
  ) {
    this.counters = faults.counters;
  }

  private flush(): void {
    if (this.pLen === 0) return;
    if (this.nseg >= MAX_SEGMENTS) {
      this.overflow = true;
      return;
    }
    const k = this.nseg;
    this.segF64[k * 3] = this.pOffset;
    this.segU32[k * 6 + 2] = this.pRegion;
    this.segU32[k * 6 + 3] = this.pLen;
    this.segU32[k * 6 + 4] = this.pXfer;
    this.segU32[k * 6 + 5] = this.ram.data[this.pRegion] !== undefined ? SEGMENT_INTERNAL : 0;
    this.nseg++;
  }

  private emit(region: number, offset: number, len: number, xfer: number): void {
    if (this.pLen !== 0 && region === this.pRegion && offset === this.pOffset + this.pLen) {
      this.pLen += len;
      return;
    }
    this.flush();
    this.pRegion = region;
    this.pOffset = offset;
    this.pLen = len;
    this.pXfer = xfer;
  }

  private miss(domain: number, pos: number, need: number): number {
    const t = this.domains.tables;
    if (!t.walk(this.domains.root[domain], pos)) return Reason.UNMAPPED;
    const perms = leafPerms(t.walkLeaf);
    if ((perms & need) === 0) return Reason.PERMISSION;
    const large = t.walkLarge;
    const psize = large ? LARGE : PAGE;
    const pn = Math.floor(pos / psize);
    const off = pos - pn * psize;
    const gpaPage = leafGpa(t.walkLeaf);
    const ram = this.ram;
    if (!ram.find(gpaPage + off)) return Reason.OUTSIDE_RAM;
    const r = ram.found;
    const rb = ram.base[r];
    const re = ram.end[r];
    const lo = rb > gpaPage ? rb - gpaPage : 0;
    const hi = re - gpaPage < psize ? re - gpaPage : psize;
    this.iotlb.fill(domain, pn, large, lo, hi, r, gpaPage + lo - rb, perms);
    this.iotlb.setHit(r, perms, gpaPage + off - rb, hi - off);
    return 0;
  }

  private translateElement(kind: number, domain: number, iova: number, len: number, need: number, xfer: number): number {
    let pos = iova;
    let left = len;
    const ram = this.ram;
    const tlb = this.iotlb;
    while (left > 0) {
      let region: number;
      let offset: number;
      let avail: number;
      if (kind === KIND_IDENTITY) {
        if (pos >= GPA_LIMIT || !ram.find(pos)) {
          this.faultAt = pos;
          return Reason.OUTSIDE_RAM;
        }
        region = ram.found;
        offset = pos - ram.base[region];
        avail = ram.end[region] - pos;
      } else {
        if (pos >= IOVA_LIMIT) {
          this.faultAt = pos;
          return Reason.UNMAPPED;
        }
        if (tlb.lookup(domain, pos)) {
          if ((tlb.hitPerms & need) === 0) {
            this.faultAt = pos;
            return Reason.PERMISSION;
          }
        } else {
          const reason = this.miss(domain, pos, need);
          if (reason !== 0) {
            this.faultAt = pos;
            return reason;
          }
        }
        region = tlb.hitRegion;
        offset = tlb.hitOffset;
        avail = tlb.hitAvail;
      }
      const n = avail < left ? avail : left;
      this.emit(region, offset, n, xfer);
      pos += n;
      left -= n;
      xfer += n;
    }
    return 0;
  }

  private faultFirst(slot: number, dir: number, reason: number): number {
    let k = 0;
    while (this.elemLen[k] === 0) k++;
    this.faults.record(slot, this.elemIova[k], this.elemLen[k], dir, reason);
    return FAULT_STATUS - reason;
  }

  private prepare(slot: number, dir: number, count: number): number {
    if (!this.store.mastering(slot)) return this.faultFirst(slot, dir, Reason.BUS_MASTER);
    const domain = this.domains.slotDomain[slot];
    const kind = this.domains.kind[domain];
    if (kind === KIND_BLOCKED) return this.faultFirst(slot, dir, Reason.BLOCKED);
    const need = dir === DIR_READ ? 1 : 2;
    this.nseg = 0;
    this.pLen = 0;
    this.overflow = false;
    let xfer = 0;
    for (let k = 0; k < count; k++) {
      const len = this.elemLen[k];
      if (len === 0) continue;
      const reason = this.translateElement(kind, domain, this.elemIova[k], len, need, xfer);
      if (reason !== 0) {
        this.faults.record(slot, this.faultAt, len - (this.faultAt - this.elemIova[k]), dir, reason);
        return FAULT_STATUS - reason;
      }
      xfer += len;
    }
    this.flush();
    return this.overflow ? DmaStatus.FULL : this.nseg;
  }

  private commit(dir: number, bufOffset: number, total: number): number {
    const c = this.faults.counters;
    c[Counter.TRANSFERS]++;
    c[Counter.BYTES] += total;
    const f64 = this.segF64;
    const u32 = this.segU32;
    const buf = this.buffer;
    let out = 0;
    for (let k = 0; k < this.nseg; k++) {
      const data = this.ram.data[u32[k * 6 + 2]];
      if (data !== undefined) {
        const at = f64[k * 3];
        const dev = bufOffset + u32[k * 6 + 4];
        const n = u32[k * 6 + 3];
        if (dir === DIR_READ) copy(data, at, buf, dev, n);
        else copy(buf, dev, data, at, n);
      } else {
        if (out !== k) this.segments.copyWithin(out * SEGMENT_BYTES, k * SEGMENT_BYTES, (k + 1) * SEGMENT_BYTES);
        out++;
      }
    }
    return out;
  }

  /** One element; the fast path of the Wasm core's single(), with the same effects. */
  private single(slot: number, dir: number, iova: number, len: number, limit: number, bufOffset: number, doCopy: boolean): number {
    if (!this.domains.slotValid(slot)) return DmaStatus.NOT_FOUND;
    if (!isU64(iova) || len > limit) return DmaStatus.RANGE;
    if (len === 0) return 0;
    if (this.store.mastering(slot)) {
      const domain = this.domains.slotDomain[slot];
      const kind = this.domains.kind[domain];
      let region = -1;
      let offset = 0;
      if (kind === KIND_TRANSLATED) {
        if (iova < IOVA_LIMIT) {
          const tlb = this.iotlb;
          const e = tlb.find(domain, iova);
          if (e >= 0 && (tlb.entryPerms(e) & (dir === DIR_READ ? 1 : 2)) !== 0 && tlb.entryAvail(e) >= len) {
            region = tlb.entryRegion(e);
            offset = tlb.entryOffset(e);
            this.counters[Counter.IOTLB_HITS]++;
          }
        }
      } else if (kind === KIND_IDENTITY) {
        const ram = this.ram;
        const r = ram.lastHitIndex();
        if (iova >= ram.base[r] && iova < ram.end[r] && len <= ram.end[r] - iova) {
          region = r;
          offset = iova - ram.base[r];
        }
      }
      if (region >= 0) {
        const c = this.counters;
        c[Counter.TRANSFERS]++;
        c[Counter.BYTES] += len;
        const data = this.ram.data[region];
        if (doCopy && data !== undefined) {
          if (dir === DIR_READ) copy(data, offset, this.buffer, bufOffset, len);
          else copy(this.buffer, bufOffset, data, offset, len);
          return 0;
        }
        this.segF64[0] = offset;
        this.segU32[2] = region;
        this.segU32[3] = len;
        this.segU32[4] = 0;
        this.segU32[5] = data !== undefined ? SEGMENT_INTERNAL : 0;
        return 1;
      }
    }
    this.elemIova[0] = iova;
    this.elemLen[0] = len;
    const n = this.prepare(slot, dir, 1);
    if (n < 0) return n;
    if (doCopy) return this.commit(dir, bufOffset, len);
    const c = this.faults.counters;
    c[Counter.TRANSFERS]++;
    c[Counter.BYTES] += len;
    return n;
  }

  read(slot: number, iova: number, len: number, bufOffset: number): number {
    if (bufOffset > BUFFER_SIZE) return DmaStatus.RANGE;
    return this.single(slot, DIR_READ, iova, len, BUFFER_SIZE - bufOffset, bufOffset, true);
  }

  write(slot: number, iova: number, len: number, bufOffset: number): number {
    if (bufOffset > BUFFER_SIZE) return DmaStatus.RANGE;
    return this.single(slot, DIR_WRITE, iova, len, BUFFER_SIZE - bufOffset, bufOffset, true);
  }

  sg(slot: number, count: number, dir: number, bufOffset: number): number {
    if (!this.domains.slotValid(slot)) return DmaStatus.NOT_FOUND;
    if (dir > DIR_WRITE || count > MAX_SG || bufOffset > BUFFER_SIZE) return DmaStatus.RANGE;
    const room = BUFFER_SIZE - bufOffset;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const iova = this.sgF64[k * 2];
      if (!isU64(iova)) return DmaStatus.RANGE;
      const len = this.sgU32[k * 4 + 2];
      total += len;
      if (total > room) return DmaStatus.RANGE;
      this.elemIova[k] = iova;
      this.elemLen[k] = len;
    }
    if (total === 0) return 0;
    const n = this.prepare(slot, dir, count);
    if (n < 0) return n;
    return this.commit(dir, bufOffset, total);
  }

  translate(slot: number, iova: number, len: number, dir: number): number {
    if (dir > DIR_WRITE) return DmaStatus.RANGE;
    return this.single(slot, dir, iova, len, BUFFER_SIZE, 0, false);
  }
}

/** Copies n bytes; a loop for small copies, where subarray + set costs more than the bytes. */
function copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}
