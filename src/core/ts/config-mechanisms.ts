// TypeScript twin of assembly/dispatch/config-mechanisms.ts: the ECAM window and the
// 0xCF8/0xCFC ports, decoding to the store's one config path. Keep the two files in step.
import { Limits, Status } from '../backend.js';
import { ConfigStore, onesFor } from './config-store.js';

const ECAM_BUS_BYTES = 1 << 20; // PCIe Base 6.0 §7.2.2: 1 MiB of ECAM per bus
const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const ADDRESS_MASK = 0x80fffffc; // enable, bus, device, function, dword register
const TWO_POW_64 = 18446744073709551616;

interface EcamWindow { base: number; size: number; busStart: number; seg: number }

/** An address the embedder gave: an integer-valued number in [0, 2^64), else not decodable. */
function isAddress(addr: number): boolean {
  return addr >= 0 && addr < TWO_POW_64 && Math.floor(addr) === addr;
}

export class ConfigMechanisms {
  private readonly ecam: EcamWindow[] = [];
  private readHigh = 0;
  private configAddress = 0;
  // Decoded target of the last ECAM lookup.
  private tSeg = 0; private tBus = 0; private tDev = 0; private tFn = 0; private tReg = 0;

  constructor(private readonly store: ConfigStore) {}

  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    if (seg >= Limits.segments || busStart > busEnd || busEnd > 255) return Status.RANGE;
    if (!isAddress(base) || base % ECAM_BUS_BYTES !== 0) return Status.RANGE;
    const size = (busEnd - busStart + 1) * ECAM_BUS_BYTES;
    if (base + size > TWO_POW_64) return Status.RANGE;
    if (this.ecam.some((w) => w.seg === seg)) return Status.EXISTS;
    if (this.ecam.length >= Limits.segments) return Status.RANGE;
    this.ecam.push({ base, size, busStart, seg });
    return Status.OK;
  }

  private decodeEcam(addr: number): boolean {
    for (const w of this.ecam) {
      const off = addr - w.base;
      if (off >= 0 && off < w.size) {
        this.tSeg = w.seg;
        this.tBus = w.busStart + Math.floor(off / ECAM_BUS_BYTES);
        this.tDev = (off >>> 15) & 0x1f;
        this.tFn = (off >>> 12) & 7;
        this.tReg = off & 0xfff;
        return true;
      }
    }
    return false;
  }

  mmioReadHigh(): number {
    return this.readHigh;
  }

  mmioRead(addr: number, size: number): number {
    this.readHigh = 0xffffffff;
    if (!isAddress(addr) || !this.decodeEcam(addr)) return onesFor(size);
    const s = this.store;
    if (size === 8) {
      if ((this.tReg & 7) !== 0) return 0xffffffff;
      const lo = s.configRead(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg, 4);
      this.readHigh = s.configRead(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg + 4, 4);
      return lo;
    }
    return s.configRead(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg, size);
  }

  mmioWrite(addr: number, size: number, value: number, high: number): void {
    if (!isAddress(addr) || !this.decodeEcam(addr)) return;
    const s = this.store;
    if (size === 8) {
      if ((this.tReg & 7) !== 0) return;
      s.configWrite(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg, 4, value);
      s.configWrite(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg + 4, 4, high);
      return;
    }
    s.configWrite(this.tSeg, this.tBus, this.tDev, this.tFn, this.tReg, size, value);
  }

  ioRead(port: number, size: number): number {
    if (port === CONFIG_ADDRESS && size === 4) return this.configAddress;
    const lane = (port - CONFIG_DATA) >>> 0;
    if (lane < 4) {
      const a = this.configAddress;
      if ((a & 0x80000000) === 0 || (size !== 1 && size !== 2 && size !== 4) || lane + size > 4) return onesFor(size);
      return this.store.configRead(0, (a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7, (a & 0xfc) + lane, size);
    }
    return onesFor(size);
  }

  ioWrite(port: number, size: number, value: number): void {
    if (port === CONFIG_ADDRESS) {
      if (size === 4) this.configAddress = (value & ADDRESS_MASK) >>> 0;
      return;
    }
    const lane = (port - CONFIG_DATA) >>> 0;
    if (lane < 4) {
      const a = this.configAddress;
      if ((a & 0x80000000) === 0 || (size !== 1 && size !== 2 && size !== 4) || lane + size > 4) return;
      this.store.configWrite(0, (a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7, (a & 0xfc) + lane, size, value);
    }
  }
}
