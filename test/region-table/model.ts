// Brute-force reference for the region table: a plain list of mappings and the documented rule,
// written independently of both cores. Arguments are coerced as the cores coerce them.

export const MMIO_LIMIT = 2 ** 52;
export const IO_LIMIT = 0x10000;

export interface Mapping { id: number; space: number; base: number; end: number; priority: number }

function isU64(v: number): boolean {
  return v >= 0 && v < 2 ** 64 && Number.isInteger(v);
}

export class RegionModel {
  readonly maps = new Map<number, Mapping>();

  regionMap(id: number, space: number, base: number, size: number, priority: number): number {
    id >>>= 0; space >>>= 0; priority >>>= 0;
    if (id < 1 || id > 4095 || space > 1 || priority > 255) return -1;
    if (!isU64(base) || !isU64(size) || size === 0) return -1;
    const limit = space === 0 ? MMIO_LIMIT : IO_LIMIT;
    if (base >= limit || base + size > limit) return -1;
    // A u64 has no negative zero: -0 is stored as 0 (both cores do so).
    this.maps.set(id, { id, space, base: base + 0, end: base + size, priority });
    return 0;
  }

  regionUnmap(id: number): number {
    id >>>= 0;
    if (id < 1 || id > 4095) return -1;
    return this.maps.delete(id) ? 0 : -4;
  }

  /** Highest priority wins; among equal priorities the lower id. */
  regionLookup(space: number, addr: number): number {
    space >>>= 0;
    if (!isU64(addr)) return 0;
    let best: Mapping | undefined;
    for (const m of this.maps.values()) {
      if (m.space !== space || addr < m.base || addr >= m.end) continue;
      if (!best || m.priority > best.priority || (m.priority === best.priority && m.id < best.id)) best = m;
    }
    return best ? best.id : 0;
  }

  regionBase(id: number): number {
    return this.maps.get(id >>> 0)?.base ?? 0;
  }

  regionSize(id: number): number {
    const m = this.maps.get(id >>> 0);
    return m ? m.end - m.base : 0;
  }

  regionCount(): number {
    return this.maps.size;
  }

  regionReset(): void {
    this.maps.clear();
  }
}

/** The addresses where a lookup can change around a range: base - 1, base, end - 1, end. */
export function edges(base: number, end: number): number[] {
  return [base - 1, base, end - 1, end];
}
