// TypeScript twin of assembly/dispatch/regions.ts: region records (kind, handler datum, origin,
// counters) and the global counters. Keep the two files in step.
import type { RegionTable } from './region-table.js';
import { MAX_REGION_ID } from './region-table.js';

export const Kind = {
  FREE: 0, ECAM: 1, CF8: 2, CFC: 3, BAR: 4, REGFILE: 5, DOORBELL: 6, HOST: 7,
  /** An MSI-X table or PBA inside a BAR, served by the interrupt core (irq.ts); datum = slot. */
  MSIX_TABLE: 8, MSIX_PBA: 9,
} as const;

export const PRIORITY_BAR = 10;
export const PRIORITY_BAR_HANDLER = 20;
export const PRIORITY_CONFIG = 250;

export const Counter = {
  ABORT_MMIO_READ: 0, ABORT_MMIO_WRITE: 1, ABORT_IO_READ: 2, ABORT_IO_WRITE: 3,
  INVALID: 4, HOST_ERROR: 5, DROPPED_EVENTS: 6, DROPPED_EFFECTS: 7, DROPPED_IRQS: 8,
} as const;

/** Size of the global counter block (one past the last Counter). */
export const COUNTERS = 9;

const IDS = MAX_REGION_ID + 1;

export class Regions {
  readonly kind = new Uint32Array(IDS);
  readonly datum = new Uint32Array(IDS);
  readonly slot = new Int32Array(IDS);
  readonly bar = new Uint32Array(IDS);
  readonly subOffset = new Float64Array(IDS);
  readonly reads = new Float64Array(IDS);
  readonly writes = new Float64Array(IDS);
  readonly length = new Float64Array(IDS);
  readonly next = new Uint32Array(IDS);
  readonly counters = new Float64Array(COUNTERS);

  constructor(private readonly table: RegionTable) {}

  /** The lowest free id, or 0 when none is left. */
  alloc(kind: number, datum: number, slot: number, bar: number, subOffset: number): number {
    for (let id = 1; id <= MAX_REGION_ID; id++) {
      if (this.kind[id] === Kind.FREE) {
        this.kind[id] = kind;
        this.datum[id] = datum;
        this.slot[id] = slot;
        this.bar[id] = bar;
        this.subOffset[id] = subOffset;
        this.reads[id] = 0;
        this.writes[id] = 0;
        this.length[id] = 0;
        this.next[id] = 0;
        return id;
      }
    }
    return 0;
  }

  free(id: number): void {
    if (id === 0 || id > MAX_REGION_ID) return;
    this.table.regionUnmap(id);
    this.kind[id] = Kind.FREE;
  }

  kindOf(id: number): number {
    return id === 0 || id > MAX_REGION_ID ? Kind.FREE : this.kind[id];
  }

  bump(counter: number): void {
    this.counters[counter]++;
  }
}
