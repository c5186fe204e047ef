// A deliberately small guest for the virtio device suites: it finds the virtio structures through
// config cycles (never assuming the device's offsets), drives the common configuration by MMIO,
// and builds split virtqueues in guest RAM it owns. It writes rings and descriptors by hand so the
// suites can also write broken ones.
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { runFirmware } from '../../src/firmware/index.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { TopologyDevice } from '../../src/topology/index.js';
import { walkCaps } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

export { BACKENDS } from '../helpers/vpci.js';
export type { Backend } from '../helpers/vpci.js';

export const RAM_SIZE = 0x400000;

/** Common configuration offsets (virtio 1.2 §4.1.4.3: fixed by the specification). */
export const C = {
  DFSELECT: 0x00, DF: 0x04, GFSELECT: 0x08, GF: 0x0c, MSIX: 0x10, NUMQ: 0x12, STATUS: 0x14, CFGGEN: 0x15,
  Q_SELECT: 0x16, Q_SIZE: 0x18, Q_MSIX: 0x1a, Q_ENABLE: 0x1c, Q_NOFF: 0x1e, Q_DESC: 0x20, Q_DRIVER: 0x28, Q_DEVICE: 0x30,
} as const;

export const S = { ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 64, FAILED: 128 } as const;
export const F = { INDIRECT: 28, EVENT_IDX: 29, VERSION_1: 32 } as const;
export const NEXT = 1, WRITE = 2, INDIRECT = 4;

export interface VirtioCap { at: number; len: number; cfgType: number; bar: number; offset: number; length: number; multiplier?: number }

/** A bus with the given devices, firmware run, a RecordingSink and 4 MiB of guest RAM at 0. */
export async function virtioBus(backend: Backend, devices: TopologyDevice[]): Promise<{ bus: Bus; sink: RecordingSink; ram: Uint8Array }> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, topology: { devices }, interrupts: sink });
  runFirmware(bus);
  const ram = new Uint8Array(RAM_SIZE);
  bus.dma.addRam({ base: 0, size: RAM_SIZE, buffer: ram });
  return { bus, sink, ram };
}

/** The virtio vendor capabilities, parsed from config reads (virtio 1.2 §4.1.4). */
export function virtioCaps(bus: Bus, bdf: string): VirtioCap[] {
  return walkCaps(bus, bdf).filter((c) => c.id === 0x09).map(({ offset: at }) => {
    const cap: VirtioCap = {
      at,
      len: bus.configRead(bdf, at + 2, 1),
      cfgType: bus.configRead(bdf, at + 3, 1),
      bar: bus.configRead(bdf, at + 4, 1),
      offset: bus.configRead(bdf, at + 8, 4),
      length: bus.configRead(bdf, at + 12, 4),
    };
    if (cap.cfgType === 2) cap.multiplier = bus.configRead(bdf, at + 16, 4);
    return cap;
  });
}

/** A BAR's address as firmware programmed it (64-bit BARs read both halves). */
export function barAddress(bus: Bus, bdf: string, bar: number): number {
  const lo = bus.configRead(bdf, 0x10 + 4 * bar, 4);
  const base = (lo & ~0xf) >>> 0;
  if ((lo & 0x6) === 0x4) return bus.configRead(bdf, 0x14 + 4 * bar, 4) * 2 ** 32 + base;
  return base;
}

/** One queue's rings in guest RAM, written by hand. */
export class Ring {
  readonly view: DataView;
  availIdx = 0;
  usedSeen = 0;
  constructor(readonly ram: Uint8Array, readonly size: number, readonly desc: number, readonly avail: number, readonly used: number) {
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  setDesc(i: number, d: { addr: number; len: number; flags?: number; next?: number }, table = this.desc): void {
    const at = table + 16 * i;
    this.view.setBigUint64(at, BigInt(d.addr), true);
    this.view.setUint32(at + 8, d.len, true);
    this.view.setUint16(at + 12, d.flags ?? 0, true);
    this.view.setUint16(at + 14, d.next ?? 0, true);
  }

  /** Puts `head` in the available ring and bumps avail.idx (by `bump`, normally 1). */
  offer(head: number, bump = 1): void {
    this.view.setUint16(this.avail + 4 + 2 * (this.availIdx % this.size), head, true);
    this.availIdx = (this.availIdx + bump) & 0xffff;
    this.view.setUint16(this.avail + 2, this.availIdx, true);
  }

  setAvailFlags(flags: number): void { this.view.setUint16(this.avail, flags, true); }
  setUsedEvent(v: number): void { this.view.setUint16(this.avail + 4 + 2 * this.size, v, true); }
  get usedIdx(): number { return this.view.getUint16(this.used + 2, true); }
  get availEvent(): number { return this.view.getUint16(this.used + 4 + 8 * this.size, true); }
  usedElem(k: number): { id: number; len: number } {
    const at = this.used + 4 + 8 * (k % this.size);
    return { id: this.view.getUint32(at, true), len: this.view.getUint32(at + 4, true) };
  }
}

/** The driver's view of one virtio-pci function. */
export class Driver {
  readonly bdf: string;
  readonly caps: VirtioCap[];
  readonly common: number;
  readonly isr: number;
  readonly device: number;
  readonly notify: number;
  readonly multiplier: number;
  readonly msixCap: number;
  readonly msixTable: number;

  constructor(readonly bus: Bus, readonly path: string, readonly ram: Uint8Array) {
    this.bdf = bus.addressOf(path)!;
    this.caps = virtioCaps(bus, this.bdf);
    const at = (type: number) => {
      const c = this.caps.find((x) => x.cfgType === type);
      return c ? barAddress(bus, this.bdf, c.bar) + c.offset : 0;
    };
    this.common = at(1);
    this.notify = at(2);
    this.isr = at(3);
    this.device = at(4);
    this.multiplier = this.caps.find((x) => x.cfgType === 2)!.multiplier!;
    this.msixCap = walkCaps(bus, this.bdf).find((c) => c.id === 0x11)!.offset;
    const table = bus.configRead(this.bdf, this.msixCap + 4, 4);
    this.msixTable = barAddress(bus, this.bdf, table & 7) + (table & ~7);
  }

  r(off: number, size: number): number { return this.bus.mmioRead(this.common + off, size); }
  w(off: number, size: number, v: number | bigint): void { this.bus.mmioWrite(this.common + off, size, v); }
  get status(): number { return this.r(C.STATUS, 1); }
  set status(v: number) { this.w(C.STATUS, 1, v); }

  deviceFeatures(): bigint {
    this.w(C.DFSELECT, 4, 0);
    const lo = this.r(C.DF, 4);
    this.w(C.DFSELECT, 4, 1);
    return (BigInt(this.r(C.DF, 4)) << 32n) | BigInt(lo);
  }

  writeDriverFeatures(f: bigint): void {
    this.w(C.GFSELECT, 4, 0);
    this.w(C.GF, 4, Number(f & 0xffffffffn));
    this.w(C.GFSELECT, 4, 1);
    this.w(C.GF, 4, Number(f >> 32n));
  }

  /** §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns whether it stuck. */
  negotiate(features: bigint): boolean {
    this.status = 0;
    this.status = S.ACK;
    this.status = S.ACK | S.DRIVER;
    this.writeDriverFeatures(features);
    this.status = S.ACK | S.DRIVER | S.FEATURES_OK;
    return (this.status & S.FEATURES_OK) !== 0;
  }

  /** Sets queue q up at fixed places in RAM (desc 0x10000 + 0x10000 q, avail +0x4000, used +0x8000). */
  setupQueue(q: number, size: number, vector = 0xffff): Ring {
    const base = 0x10000 + 0x10000 * q;
    const ring = new Ring(this.ram, size, base, base + 0x4000, base + 0x8000);
    this.ram.fill(0, base, base + 0x10000);
    this.w(C.Q_SELECT, 2, q);
    this.w(C.Q_SIZE, 2, size);
    this.w(C.Q_MSIX, 2, vector);
    this.w(C.Q_DESC, 8, BigInt(ring.desc));
    this.w(C.Q_DRIVER, 8, BigInt(ring.avail));
    this.w(C.Q_DEVICE, 8, BigInt(ring.used));
    this.w(C.Q_ENABLE, 2, 1);
    return ring;
  }

  /** Negotiates `features`, sets queue 0 up, DRIVER_OK. */
  start(features: bigint = 1n << 32n, o: { size?: number; vector?: number } = {}): Ring {
    if (!this.negotiate(features)) throw new Error('FEATURES_OK refused');
    const ring = this.setupQueue(0, o.size ?? 16, o.vector);
    this.status = S.ACK | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK;
    return ring;
  }

  kick(q = 0): void {
    this.w(C.Q_SELECT, 2, q);
    const off = this.r(C.Q_NOFF, 2);
    this.bus.mmioWrite(this.notify + off * this.multiplier, 2, q);
  }

  readIsr(): number { return this.bus.mmioRead(this.isr, 1); }

  /** MSI-X on: entry k sends data 0x40 + k to 0xFEE00000. */
  enableMsix(vectors: number): void {
    for (let k = 0; k < vectors; k++) {
      const e = this.msixTable + 16 * k;
      this.bus.mmioWrite(e, 4, 0xfee00000);
      this.bus.mmioWrite(e + 4, 4, 0);
      this.bus.mmioWrite(e + 8, 4, 0x40 + k);
      this.bus.mmioWrite(e + 12, 4, 0);
    }
    this.bus.configWrite(this.bdf, this.msixCap + 2, 2, 0x8000);
  }
}
