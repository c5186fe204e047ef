// A guest for the virtio suites: a bus with the given devices, guest RAM it owns, firmware run,
// the guest's interrupt sink installed, and errors device models throw collected (there must be
// none: a guest may not make a device model fail).
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { routeFromTable, runFirmware } from '../../src/firmware/index.js';
import type { TopologyDevice } from '../../src/topology/index.js';
import { GuestInterrupts, GuestRam, VirtioPciDevice, isVirtioModern, scanFunctions } from '../../src/guest/index.js';
import type { FoundFunction } from '../../src/guest/index.js';
import type { Backend } from '../helpers/vpci.js';

export { BACKENDS } from '../helpers/vpci.js';
export type { Backend } from '../helpers/vpci.js';

export const MiB = 0x100000;

export interface Guest {
  bus: Bus;
  ram: GuestRam;
  irq: GuestInterrupts;
  /** What device models threw (the Bus's onError). */
  modelErrors: unknown[];
}

export async function bootGuest(backend: Backend, devices: TopologyDevice[], options: { ramMiB?: number } = {}): Promise<Guest> {
  const modelErrors: unknown[] = [];
  const bus = await createBus({ backend, topology: { devices }, onError: (e) => modelErrors.push(e) });
  const irq = new GuestInterrupts();
  bus.interrupts.setSink(irq);
  const ram = new GuestRam({ size: (options.ramMiB ?? 16) * MiB });
  ram.attach(bus);
  runFirmware(bus, { irqRoute: routeFromTable(bus.interrupts) });
  return { bus, ram, irq, modelErrors };
}

/** The virtio functions of `type` the guest finds, in scan order. */
export function virtioFunctions(g: Guest, type: number): FoundFunction[] {
  return scanFunctions(g.bus).filter((f) => isVirtioModern(f, type));
}

/** Opens the `nth` virtio function of `type` (MSI-X unless msix: false). */
export function openVirtio(g: Guest, type: number, options: { msix?: boolean; nth?: number } = {}): VirtioPciDevice {
  const found = virtioFunctions(g, type)[options.nth ?? 0];
  if (!found) throw new Error(`no virtio device of type ${type}`);
  return new VirtioPciDevice({ bus: g.bus, ram: g.ram, irq: g.irq, function: found, msix: options.msix });
}

/** A deterministic byte pattern (differs per seed and position). */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
