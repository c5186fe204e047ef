// TypeScript twin of assembly/dispatch/access.ts and replay.ts: one access -> its region -> the
// region's handler; and batch replay over records in the v1 layout (docs/batch-records.md).
import type { HostAccess } from '../backend.js';
import { onesFor } from '../backend.js';
import type { ConfigMechanisms } from './config-mechanisms.js';
import type { Doorbells } from './doorbell.js';
import type { Interrupts } from './irq.js';
import type { Regfiles } from './regfile.js';
import { SPACE_IO, SPACE_MMIO } from './region-table.js';
import type { RegionTable } from './region-table.js';
import { Counter, Kind } from './regions.js';
import type { Regions } from './regions.js';

export const AccessStatus = { OK: 0, ABORT: 1, INVALID: 2, HOST_ERROR: 3 } as const;
export const RECORD_BYTES = 24;
export const BATCH_CAPACITY = 16384;
const TWO32 = 4294967296;

/** A 64-bit value as halves, reused to avoid allocation on the hot path. */
export interface Pair { lo: number; hi: number }

export class Dispatcher {
  status = 0;
  private readonly tmp: Pair = { lo: 0, hi: 0 };
  hostAccess: HostAccess = () => { throw new Error('no host handler'); };
  readonly records = new Uint8Array(BATCH_CAPACITY * RECORD_BYTES);
  readonly results = new Uint8Array(BATCH_CAPACITY * 8);
  readonly statuses = new Uint8Array(BATCH_CAPACITY);
  readonly mismatches = new Uint32Array(BATCH_CAPACITY);

  constructor(
    private readonly table: RegionTable,
    private readonly regions: Regions,
    private readonly mech: ConfigMechanisms,
    private readonly regfiles: Regfiles,
    private readonly doorbells: Doorbells,
    private readonly irq: Interrupts,
  ) {}

  /** One access; the value read is left in `out` (lo, hi). */
  access(space: number, addr: number, size: number, write: boolean, lo: number, hi: number, out: Pair): void {
    this.status = AccessStatus.OK;
    out.lo = 0;
    out.hi = 0;
    if (!(size === 1 || size === 2 || size === 4 || (size === 8 && space === SPACE_MMIO))) {
      this.regions.bump(Counter.INVALID);
      this.status = AccessStatus.INVALID;
      out.lo = 0xffffffff;
      return;
    }
    if (write && size !== 8) {
      lo = (lo & onesFor(size)) >>> 0;
      hi = 0;
    }
    const id = this.table.regionLookup(space, addr);
    const r = this.regions;
    if (id === 0) {
      r.bump(space === SPACE_MMIO ? (write ? Counter.ABORT_MMIO_WRITE : Counter.ABORT_MMIO_READ)
        : (write ? Counter.ABORT_IO_WRITE : Counter.ABORT_IO_READ));
      this.status = AccessStatus.ABORT;
      if (!write) {
        out.lo = onesFor(size);
        out.hi = size === 8 ? 0xffffffff : 0;
      }
      return;
    }
    if (write) r.writes[id]++; else r.reads[id]++;
    const offset = addr - this.table.regionBase(id);
    const kind = r.kind[id];
    switch (kind) {
      case Kind.ECAM:
        this.mech.ecamAccess(r.datum[id], offset, size, write, lo, hi, out);
        return;
      case Kind.CFC:
        out.lo = this.mech.cfcAccess(offset, size, write, lo);
        return;
      case Kind.CF8:
        out.lo = this.mech.cf8Access(offset, size, write, lo);
        return;
      case Kind.REGFILE:
        if (write) this.regfiles.write(r.datum[id], offset, size, lo, hi, this.table.regionSize(id));
        else this.regfiles.read(r.datum[id], offset, size, this.table.regionSize(id), out);
        return;
      case Kind.DOORBELL:
        if (write) {
          this.doorbells.write(r.datum[id], id, offset, size, lo, hi);
        } else {
          const count = this.doorbells.count(r.datum[id]) % TWO32;
          out.lo = size >= 4 ? count : count & onesFor(size);
        }
        return;
      case Kind.HOST: {
        const t = this.tmp;
        t.lo = 0xffffffff;
        t.hi = 0xffffffff;
        try {
          this.hostAccess(r.datum[id], write, offset + r.subOffset[id], size, lo, hi, t);
        } catch {
          r.bump(Counter.HOST_ERROR);
          this.status = AccessStatus.HOST_ERROR;
          if (!write) {
            out.lo = onesFor(size);
            out.hi = size === 8 ? 0xffffffff : 0;
          }
          return;
        }
        if (!write) {
          out.lo = (t.lo & onesFor(size)) >>> 0;
          out.hi = size === 8 ? t.hi >>> 0 : 0;
        }
        return;
      }
      case Kind.MSIX_TABLE:
        this.irq.tableAccess(r.datum[id], offset, size, write, lo, hi, out);
        return;
      case Kind.MSIX_PBA:
        this.irq.pbaAccess(r.datum[id], offset, size, write, out);
        return;
      default:
        return; // a BAR with no handler reads zero and ignores writes
    }
  }

  /** Runs `count` records from `this.records`; returns the number of mismatching reads. */
  replayBatch(count: number): number {
    const n = Math.min(count, BATCH_CAPACITY);
    const rec = new DataView(this.records.buffer);
    const res = new DataView(this.results.buffer);
    const out = { lo: 0, hi: 0 };
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_BYTES;
      const op = this.records[at];
      const size = this.records[at + 1];
      const addr = rec.getUint32(at + 12, true) * TWO32 + rec.getUint32(at + 8, true);
      const lo = rec.getUint32(at + 16, true);
      const hi = rec.getUint32(at + 20, true);
      let status: number;
      if (op === 1 || op === 3) {
        this.access(op === 1 ? SPACE_MMIO : SPACE_IO, addr, size, false, 0, 0, out);
        status = this.status;
        if ((rec.getUint16(at + 2, true) & 1) !== 0 && (out.lo !== lo || out.hi !== hi)) this.mismatches[bad++] = i;
      } else if (op === 2 || op === 4) {
        this.access(op === 2 ? SPACE_MMIO : SPACE_IO, addr, size, true, lo, hi, out);
        out.lo = 0;
        out.hi = 0;
        status = this.status;
      } else {
        this.regions.bump(Counter.INVALID);
        out.lo = 0xffffffff;
        out.hi = 0xffffffff;
        status = AccessStatus.INVALID;
      }
      res.setUint32(i * 8, out.lo, true);
      res.setUint32(i * 8 + 4, out.hi, true);
      this.statuses[i] = status;
    }
    return bad;
  }
}
