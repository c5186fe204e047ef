// Interrupt Line values firmware writes (PCI 3.0 §6.2.4: the line is for the OS's information;
// the platform decides the routing). A pin behind bridges is swizzled to the pin it arrives on at
// the root bus: at each bridge, pin' = ((pin - 1) + device) mod 4 + 1 (PCI-to-PCI Bridge 1.2 §9.1),
// then the platform table maps (root-bus device, pin) to an IRQ.
import { piixGsi } from '../interrupts/index.js';
import type { ScanNode } from './scan.js';

/**
 * Maps a root-bus device number and pin (1 = INTA .. 4 = INTD) of a segment to an IRQ number
 * (0-254); anything else (255 and up, null, not an integer) is written as 0xFF, "unknown".
 */
export type IrqRoute = (rootDevice: number, pin: number, segment?: number) => number | null;

/**
 * PIIX-style routing as SeaBIOS sets it up for QEMU's i440fx: PIRQ = (device - 1 + pin - 1) mod 4, and
 * PIRQ A-D go to IRQ 10, 10, 11, 11 (the bus's default routing table: src/interrupts/routing.ts).
 */
export const piixRoute: IrqRoute = (rootDevice, pin) => piixGsi(rootDevice, pin);

/** What a routing table answers: a GSI, or null where nothing is routed. `bus.interrupts` is one. */
export interface RoutingTable {
  /** The GSI of a root-bus `device` and `pin` (1 = INTA .. 4 = INTD) of `segment`, or null. */
  routeOf(segment: number, device: number, pin: number): number | null;
}

/** An IrqRoute that reads a routing table (`routeFromTable(bus.interrupts)`: the bus's own routes). */
export function routeFromTable(table: RoutingTable): IrqRoute {
  return (rootDevice, pin, segment = 0) => table.routeOf(segment, rootDevice, pin);
}

/**
 * The Interrupt Line byte for an IRQ: 0-254 as they are; 255 and above, or no route, 0xFF (PCI 3.0
 * §6.2.4: on x86, 255 means "unknown" or "no connection to the interrupt controller").
 */
export function interruptLine(irq: number | null): number {
  return irq !== null && Number.isInteger(irq) && irq >= 0 && irq <= 254 ? irq : 0xff;
}

/** The pin a function's interrupt arrives on at the root bus, and the root-bus device it comes through. */
export function swizzleToRoot(node: ScanNode): { rootDevice: number; pin: number } | undefined {
  let pin = node.info.interruptPin;
  if (pin < 1 || pin > 4) return undefined;
  let at = node;
  while (at.parent !== undefined) {
    pin = ((pin - 1 + at.f.device) % 4) + 1;
    at = at.parent;
  }
  return { rootDevice: at.f.device, pin };
}
