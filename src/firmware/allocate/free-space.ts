// The free part of one address window, as a sorted list of disjoint gaps [start, end). Placement is
// first-fit: the lowest address that is a multiple of the alignment and has `size` free bytes after
// it. Taken ranges leave the gaps on both sides free, so later (smaller) requests reuse them: this
// is not a bump pointer.

interface Gap {
  start: bigint;
  end: bigint;
}

/** Rounds `value` up to a multiple of `align` (a power of two). */
export function alignUp(value: bigint, align: bigint): bigint {
  return (value + align - 1n) & ~(align - 1n);
}

export class FreeSpace {
  private gaps: Gap[];

  /** [base, base + size) free. */
  constructor(readonly base: bigint, readonly size: bigint) {
    this.gaps = size > 0n ? [{ start: base, end: base + size }] : [];
  }

  /**
   * The lowest `align`-aligned start with `size` free bytes, ending at or below `limit` when
   * given; undefined when there is none.
   */
  find(size: bigint, align: bigint, limit?: bigint): bigint | undefined {
    for (const gap of this.gaps) {
      const start = alignUp(gap.start, align);
      const end = limit === undefined || limit > gap.end ? gap.end : limit;
      if (start + size <= end) return start;
      if (limit !== undefined && gap.start >= limit) break;
    }
    return undefined;
  }

  /**
   * The highest `align`-aligned start with `size` free bytes, ending at or below `limit` when
   * given; undefined when there is none.
   */
  findTop(size: bigint, align: bigint, limit?: bigint): bigint | undefined {
    for (let i = this.gaps.length - 1; i >= 0; i--) {
      const gap = this.gaps[i];
      const end = limit === undefined || limit > gap.end ? gap.end : limit;
      if (end - gap.start < size) continue;
      const start = (end - size) & ~(align - 1n);
      if (start >= gap.start) return start;
    }
    return undefined;
  }

  /** Marks [start, start + size) used; it must lie inside one gap (as `find` returns). */
  take(start: bigint, size: bigint): void {
    const end = start + size;
    const i = this.gaps.findIndex((g) => g.start <= start && end <= g.end);
    if (i < 0) throw new Error(`allocator: taking [${start}, ${end}) that is not free`);
    const gap = this.gaps[i];
    const pieces: Gap[] = [];
    if (gap.start < start) pieces.push({ start: gap.start, end: start });
    if (end < gap.end) pieces.push({ start: end, end: gap.end });
    this.gaps.splice(i, 1, ...pieces);
  }

  /** Marks whatever part of [start, start + size) is free as used (ranges in use, possibly partly outside). */
  remove(start: bigint, size: bigint): void {
    const end = start + size;
    const out: Gap[] = [];
    for (const gap of this.gaps) {
      if (gap.end <= start || end <= gap.start) { out.push(gap); continue; }
      if (gap.start < start) out.push({ start: gap.start, end: start });
      if (end < gap.end) out.push({ start: end, end: gap.end });
    }
    this.gaps = out;
  }

  /** `find` (or `findTop`) then `take`; the start, or undefined (nothing taken). */
  allocate(size: bigint, align: bigint, limit?: bigint, fromTop = false): bigint | undefined {
    const start = fromTop ? this.findTop(size, align, limit) : this.find(size, align, limit);
    if (start !== undefined) this.take(start, size);
    return start;
  }

  /** The largest free run that starts `align`-aligned (below `limit`): what a request could still get. */
  largestAligned(align: bigint, limit?: bigint): bigint {
    let best = 0n;
    for (const gap of this.gaps) {
      const start = alignUp(gap.start, align);
      const end = limit === undefined || limit > gap.end ? gap.end : limit;
      if (end - start > best) best = end - start;
    }
    return best;
  }

  /** Free bytes in all (below `limit`). */
  totalFree(limit?: bigint): bigint {
    let total = 0n;
    for (const gap of this.gaps) {
      const end = limit === undefined || limit > gap.end ? gap.end : limit;
      if (end > gap.start) total += end - gap.start;
    }
    return total;
  }
}
