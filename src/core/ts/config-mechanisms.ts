// TypeScript twin of assembly/dispatch/config-mechanisms.ts: ECAM windows (MMIO regions) and the
// 0xCF8/0xCFC ports (IO regions), decoding into the store's one config path.
import { Limits, Status, onesFor } from '../backend.js';
import type { ConfigStore } from './config-store.js';
import { MMIO_LIMIT, SPACE_IO, SPACE_MMIO } from './region-table.js';
import type { RegionTable } from './region-table.js';
import { Kind, PRIORITY_CONFIG } from './regions.js';
import type { Regions } from './regions.js';

const ECAM_BUS_BYTES = 0x100000; // PCIe Base 6.0 §7.2.2: 1 MiB of ECAM per bus
const ADDRESS_MASK = 0x80fffffc; // enable, bus, device, function, dword register
const TWO32 = 4294967296;

export class ConfigMechanisms {
  private readonly ecam: { busStart: number; seg: number }[] = [];
  private configAddress = 0;

  constructor(private readonly store: ConfigStore, private readonly table: RegionTable, private readonly regions: Regions) {}

  /** The two port regions, ids 1 and 2, mapped at start-up. */
  initPorts(): void {
    this.table.regionMap(this.regions.alloc(Kind.CF8, 0, -1, 0, 0), SPACE_IO, 0xcf8, 4, PRIORITY_CONFIG);
    this.table.regionMap(this.regions.alloc(Kind.CFC, 0, -1, 0, 0), SPACE_IO, 0xcfc, 4, PRIORITY_CONFIG);
  }

  /** `base` is an integer below 2^64 (checked by the caller). */
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    if (seg >= Limits.segments || busStart > busEnd || busEnd > 255) return Status.RANGE;
    if (base % ECAM_BUS_BYTES !== 0) return Status.RANGE;
    const size = (busEnd - busStart + 1) * ECAM_BUS_BYTES;
    if (base >= MMIO_LIMIT || size > MMIO_LIMIT - base) return Status.RANGE;
    if (this.ecam.some((w) => w.seg === seg)) return Status.EXISTS;
    if (this.ecam.length >= Limits.segments) return Status.RANGE;
    const id = this.regions.alloc(Kind.ECAM, this.ecam.length, -1, 0, 0);
    if (id === 0) return Status.FULL;
    if (this.table.regionMap(id, SPACE_MMIO, base, size, PRIORITY_CONFIG) !== Status.OK) {
      this.regions.free(id);
      return Status.RANGE;
    }
    this.ecam.push({ busStart, seg });
    return Status.OK;
  }

  /** ECAM window `w`, byte `offset` into it; 64-bit values as lo/hi halves in `out`. */
  ecamAccess(w: number, offset: number, size: number, write: boolean, lo: number, hi: number, out: { lo: number; hi: number }): void {
    const { seg, busStart } = this.ecam[w];
    const bus = busStart + Math.floor(offset / ECAM_BUS_BYTES);
    const dev = (offset >>> 15) & 0x1f;
    const fn = (offset >>> 12) & 7;
    const reg = offset & 0xfff;
    const s = this.store;
    out.lo = 0;
    out.hi = 0;
    if (size === 8) {
      if ((reg & 7) !== 0) {
        out.lo = 0xffffffff;
        out.hi = 0xffffffff;
        return;
      }
      if (write) {
        s.configWrite(seg, bus, dev, fn, reg, 4, lo);
        s.configWrite(seg, bus, dev, fn, reg + 4, 4, hi);
        return;
      }
      out.lo = s.configRead(seg, bus, dev, fn, reg, 4);
      out.hi = s.configRead(seg, bus, dev, fn, reg + 4, 4);
      return;
    }
    if (write) s.configWrite(seg, bus, dev, fn, reg, size, lo);
    else out.lo = s.configRead(seg, bus, dev, fn, reg, size);
  }

  /** The CONFIG_ADDRESS latch, for state save and load (only ADDRESS_MASK bits are kept). */
  address(): number {
    return this.configAddress;
  }

  setAddress(value: number): void {
    this.configAddress = (value & ADDRESS_MASK) >>> 0;
  }

  cf8Access(offset: number, size: number, write: boolean, value: number): number {
    if (offset !== 0 || size !== 4) return write ? 0 : onesFor(size);
    if (write) this.configAddress = (value & ADDRESS_MASK) >>> 0;
    return this.configAddress;
  }

  cfcAccess(offset: number, size: number, write: boolean, value: number): number {
    const a = this.configAddress;
    if ((a & 0x80000000) === 0 || offset + size > 4) return write ? 0 : onesFor(size);
    const bus = (a >>> 16) & 0xff;
    const dev = (a >>> 11) & 0x1f;
    const fn = (a >>> 8) & 7;
    const reg = (a & 0xfc) + offset;
    if (write) {
      this.store.configWrite(0, bus, dev, fn, reg, size, value);
      return 0;
    }
    return this.store.configRead(0, bus, dev, fn, reg, size);
  }
}

export { TWO32 };
