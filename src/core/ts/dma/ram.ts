// TypeScript twin of assembly/dma/ram.ts: the guest memory map. Internal regions are Uint8Arrays
// the twin owns (the Wasm core's are blocks of its linear memory); external ones belong to the
// embedder. Lookup: the last hit, then a binary search over the regions sorted by base.
import { DmaStatus, GPA_LIMIT, MAX_INTERNAL_RAM, MAX_RAM, PAGE_SIZE } from './layout.js';

export class RamMap {
  readonly base = new Float64Array(MAX_RAM);
  readonly end = new Float64Array(MAX_RAM);
  /** Internal regions' bytes; undefined for external or unused. */
  readonly data: (Uint8Array | undefined)[] = new Array(MAX_RAM).fill(undefined);
  private readonly used = new Uint8Array(MAX_RAM);
  private readonly order = new Uint8Array(MAX_RAM);
  private count = 0;
  private lastHit = 0;
  /** Result of find(). */
  found = 0;

  isUsed(i: number): boolean {
    return i < MAX_RAM && this.used[i] !== 0;
  }

  /** The region of the last successful find (an unused index has base = end = 0). */
  lastHitIndex(): number {
    return this.lastHit;
  }

  find(gpa: number): boolean {
    let i = this.lastHit;
    if (gpa >= this.base[i] && gpa < this.end[i]) {
      this.found = i;
      return true;
    }
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.base[this.order[mid]] <= gpa) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return false;
    i = this.order[lo - 1];
    if (gpa >= this.end[i]) return false;
    this.lastHit = i;
    this.found = i;
    return true;
  }

  add(base: number, size: number, internal: boolean): number {
    if (size === 0 || base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) return DmaStatus.RANGE;
    if (base >= GPA_LIMIT || size > GPA_LIMIT - base) return DmaStatus.RANGE;
    if (internal && size > MAX_INTERNAL_RAM) return DmaStatus.RANGE;
    const end = base + size;
    let at = 0;
    while (at < this.count && this.base[this.order[at]] < base) at++;
    if (at > 0 && this.end[this.order[at - 1]] > base) return DmaStatus.EXISTS;
    if (at < this.count && this.base[this.order[at]] < end) return DmaStatus.EXISTS;
    let i = 0;
    while (i < MAX_RAM && this.used[i] !== 0) i++;
    if (i === MAX_RAM) return DmaStatus.FULL;
    let bytes: Uint8Array | undefined;
    if (internal) {
      try {
        bytes = new Uint8Array(size);
      } catch {
        return DmaStatus.FULL; // the host's memory limit, as a failed memory.grow in Wasm
      }
    }
    this.base[i] = base;
    this.end[i] = end;
    this.data[i] = bytes;
    this.used[i] = 1;
    this.order.copyWithin(at + 1, at, this.count);
    this.order[at] = i;
    this.count++;
    return i;
  }

  remove(i: number): number {
    if (!this.isUsed(i)) return DmaStatus.NOT_FOUND;
    let k = 0;
    while (this.order[k] !== i) k++;
    this.order.copyWithin(k, k + 1, this.count);
    this.count--;
    this.used[i] = 0;
    this.base[i] = 0;
    this.end[i] = 0;
    this.data[i] = undefined;
    this.lastHit = 0;
    return DmaStatus.OK;
  }

  size(): number {
    return this.count;
  }

  /**
   * State load, after reset(): region i at [base, base + size), internal (`bytes`, size long,
   * now owned by the map) or external; `order` stays sorted by base. Checked by the caller.
   */
  restore(i: number, base: number, size: number, bytes: Uint8Array | undefined): void {
    let at = 0;
    while (at < this.count && this.base[this.order[at]] < base) at++;
    this.base[i] = base;
    this.end[i] = base + size;
    this.data[i] = bytes;
    this.used[i] = 1;
    this.order.copyWithin(at + 1, at, this.count);
    this.order[at] = i;
    this.count++;
  }

  reset(): void {
    this.used.fill(0);
    this.base.fill(0);
    this.end.fill(0);
    this.data.fill(undefined);
    this.count = 0;
    this.lastHit = 0;
  }
}
