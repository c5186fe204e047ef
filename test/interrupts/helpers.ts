// Shared by the interrupt suites: buses with a recording sink, capability offsets read the way a
// guest finds them, a device with MSI-X, and batch records.
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import type { Topology } from '../../src/topology/index.js';
import { walkCaps } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

export { BACKENDS } from '../helpers/vpci.js';
export type { Backend } from '../helpers/vpci.js';

/** A bus with a RecordingSink attached at creation. */
export async function sinkBus(backend: Backend, topology?: Topology): Promise<{ bus: Bus; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, topology, interrupts: sink });
  return { bus, sink };
}

/** The offset of the first capability with `id` (0x05 MSI, 0x11 MSI-X), as a guest walks the list. */
export function capOffset(bus: Bus, bdf: string, id: number): number {
  const c = walkCaps(bus, bdf).find((x) => x.id === id);
  if (!c) throw new Error(`${bdf} has no capability 0x${id.toString(16)}`);
  return c.offset;
}

export const CAP_MSI = 0x05;
export const CAP_MSIX = 0x11;

/** A function with a 16 KiB mem32 BAR0 holding an MSI-X table (at 0x2000) and PBA (at 0x3000). */
export function msixDescriptor(o: { tableSize?: number; msi?: boolean; pin?: number } = {}): FunctionDescriptor {
  return {
    vendorId: 0x1b36, deviceId: 0x0010, classCode: 0x010802, interruptPin: o.pin ?? 1,
    bars: [{ index: 0, kind: 'mem32', size: 0x4000 }],
    capabilities: [
      ...(o.msi ? [{ id: 'msi' as const, vectors: 4 as const, address64: true, perVectorMask: true }] : []),
      { id: 'msix', tableSize: o.tableSize ?? 8, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 },
    ],
  };
}

/** Where tests map BAR0 of an MSI-X function. */
export const BAR_BASE = 0xfe000000;
export const TABLE = BAR_BASE + 0x2000;
export const PBA = BAR_BASE + 0x3000;

/** Puts BAR0 at `base` and turns memory decode on (and bus mastering, as a driver would for MSI). */
export function mapBar0(bus: Bus, bdf: string, base = BAR_BASE): void {
  bus.configWrite(bdf, 0x10, 4, base);
  bus.configWrite(bdf, 0x04, 2, 0x0006);
}

/** Writes MSI-X table entry k (address, data, vector control) with dword writes. */
export function writeEntry(bus: Bus, k: number, e: { address: number; addressHigh?: number; data: number; masked: boolean }, table = TABLE): void {
  bus.mmioWrite(table + k * 16, 4, e.address);
  bus.mmioWrite(table + k * 16 + 4, 4, e.addressHigh ?? 0);
  bus.mmioWrite(table + k * 16 + 8, 4, e.data);
  bus.mmioWrite(table + k * 16 + 12, 4, e.masked ? 1 : 0);
}

/** MSI registers of a 64-bit, per-vector-masking capability at `cap`. */
export const msi64 = (cap: number) => ({ control: cap + 2, addressLow: cap + 4, addressHigh: cap + 8, data: cap + 12, mask: cap + 16, pending: cap + 20 });

/** One batch record (docs/batch-records.md, layout v1). */
export interface Rec { op: 1 | 2 | 3 | 4; size: number; address: number; value?: number }

export function records(list: Rec[]): Uint8Array {
  const out = new Uint8Array(list.length * 24);
  const view = new DataView(out.buffer);
  list.forEach((r, i) => {
    view.setUint8(i * 24, r.op);
    view.setUint8(i * 24 + 1, r.size);
    view.setBigUint64(i * 24 + 8, BigInt(r.address), true);
    view.setBigUint64(i * 24 + 16, BigInt(r.value ?? 0), true);
  });
  return out;
}

/** ECAM address of a config register in the default window. */
export function ecamAddress(bus: number, dev: number, fn: number, reg: number): number {
  return 0xb0000000 + bus * 0x100000 + dev * 0x8000 + fn * 0x1000 + reg;
}
