// TypeScript twin of assembly/dma/iotlb.ts: the same direct-mapped entries, index function, tags
// (pageNumber * 1024 + domain * 4 + large * 2 + 1, exact below 2^53), probes and invalidation,
// so hit and miss counts agree with the Wasm core's.
import { Counter, IOTLB_ENTRIES } from './layout.js';

const MASK = IOTLB_ENTRIES - 1;
const PAGE = 4096;
const LARGE = 2097152;
const INV_PAGE = 1 / PAGE;
const INV_LARGE = 1 / LARGE;

function tagOf(pn: number, domain: number, large: number): number {
  return pn * 1024 + domain * 4 + large * 2 + 1;
}

/** The entry index page `pn` (large: a 2 MiB page number) of `domain` lives at. */
export function indexOf(pn: number, domain: number, large: number): number {
  return ((pn & MASK) ^ (domain * 37) ^ (large << 9)) & MASK;
}

export class Iotlb {
  private readonly tag = new Float64Array(IOTLB_ENTRIES);
  private readonly spanLo = new Uint32Array(IOTLB_ENTRIES);
  private readonly spanHi = new Uint32Array(IOTLB_ENTRIES);
  private readonly regionOffset = new Float64Array(IOTLB_ENTRIES);
  private readonly region = new Uint32Array(IOTLB_ENTRIES);
  private readonly perms = new Uint32Array(IOTLB_ENTRIES);
  /** The tag's large bit, kept apart so the hot path needs no arithmetic on the tag. */
  private readonly large = new Uint8Array(IOTLB_ENTRIES);
  hitRegion = 0;
  hitOffset = 0;
  hitAvail = 0;
  hitPerms = 0;

  constructor(private readonly counters: Float64Array) {}

  /** Page offset of the address of the last successful find(). */
  private off = 0;

  /**
   * The entry answering for `iova` in `domain` (4 KiB probe, then 2 MiB), or -1; counts nothing.
   * (Multiplying by the inverse of a power of two is exact and cheaper than dividing.)
   */
  find(domain: number, iova: number): number {
    let pn = Math.floor(iova * INV_PAGE);
    let i = indexOf(pn, domain, 0);
    if (this.tag[i] === tagOf(pn, domain, 0)) {
      const off = iova - pn * PAGE;
      if (off >= this.spanLo[i] && off < this.spanHi[i]) {
        this.off = off;
        return i;
      }
    }
    pn = Math.floor(iova * INV_LARGE);
    i = indexOf(pn, domain, 1);
    if (this.tag[i] === tagOf(pn, domain, 1)) {
      const off = iova - pn * LARGE;
      if (off >= this.spanLo[i] && off < this.spanHi[i]) {
        this.off = off;
        return i;
      }
    }
    return -1;
  }

  entryRegion(i: number): number {
    return this.region[i];
  }

  entryPerms(i: number): number {
    return this.perms[i];
  }

  /** Region offset of the address the last find() answered (entry i). */
  entryOffset(i: number): number {
    return this.regionOffset[i] + (this.off - this.spanLo[i]);
  }

  /** Bytes left in entry i's span from that address. */
  entryAvail(i: number): number {
    return this.spanHi[i] - this.off;
  }

  lookup(domain: number, iova: number): boolean {
    const i = this.find(domain, iova);
    if (i < 0) {
      this.counters[Counter.IOTLB_MISSES]++;
      return false;
    }
    this.hitRegion = this.region[i];
    this.hitPerms = this.perms[i];
    this.hitOffset = this.entryOffset(i);
    this.hitAvail = this.entryAvail(i);
    this.counters[Counter.IOTLB_HITS]++;
    return true;
  }

  setHit(region: number, perms: number, offset: number, avail: number): void {
    this.hitRegion = region;
    this.hitPerms = perms;
    this.hitOffset = offset;
    this.hitAvail = avail;
  }

  fill(domain: number, pn: number, large: number, lo: number, hi: number, region: number, offset: number, perms: number): void {
    const i = indexOf(pn, domain, large);
    this.tag[i] = tagOf(pn, domain, large);
    this.large[i] = large;
    this.spanLo[i] = lo;
    this.spanHi[i] = hi;
    this.regionOffset[i] = offset;
    this.region[i] = region;
    this.perms[i] = perms;
  }

  private dropIf(pn: number, domain: number, large: number): void {
    const i = indexOf(pn, domain, large);
    if (this.tag[i] === tagOf(pn, domain, large)) this.tag[i] = 0;
  }

  invalidate(domain: number, iova: number, end: number): void {
    if (end <= iova) return;
    if (end - iova <= 16 * PAGE) {
      for (let pn = Math.floor(iova / PAGE); pn <= Math.floor((end - 1) / PAGE); pn++) this.dropIf(pn, domain, 0);
      for (let pn = Math.floor(iova / LARGE); pn <= Math.floor((end - 1) / LARGE); pn++) this.dropIf(pn, domain, 1);
      return;
    }
    for (let i = 0; i < IOTLB_ENTRIES; i++) {
      const tag = this.tag[i];
      if (tag === 0 || (Math.floor(tag / 4) & 255) !== domain) continue;
      const size = this.large[i] !== 0 ? LARGE : PAGE;
      const b = Math.floor(tag / 1024) * size;
      if (b < end && b + size > iova) this.tag[i] = 0;
    }
  }

  dropDomain(domain: number): void {
    for (let i = 0; i < IOTLB_ENTRIES; i++) {
      const tag = this.tag[i];
      if (tag !== 0 && (Math.floor(tag / 4) & 255) === domain) this.tag[i] = 0;
    }
  }

  flush(): void {
    this.tag.fill(0);
  }

  /** The valid entries by ascending index, for state save (the CoreState IotlbEntryState shape). */
  saveState(): { domain: number; page: number; large: boolean; spanLo: number; spanHi: number; region: number; regionOffset: number; perms: number }[] {
    const out = [];
    for (let i = 0; i < IOTLB_ENTRIES; i++) {
      const tag = this.tag[i];
      if (tag === 0) continue;
      out.push({
        domain: Math.floor(tag / 4) & 255, page: Math.floor(tag / 1024), large: this.large[i] !== 0,
        spanLo: this.spanLo[i], spanHi: this.spanHi[i], region: this.region[i], regionOffset: this.regionOffset[i], perms: this.perms[i],
      });
    }
    return out;
  }

  valid(): number {
    let n = 0;
    for (let i = 0; i < IOTLB_ENTRIES; i++) if (this.tag[i] !== 0) n++;
    return n;
  }
}
