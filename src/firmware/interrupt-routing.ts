// Interrupt Line values firmware writes (PCI 3.0 §6.2.4: the line is for the OS's information;
// the platform decides the routing). A pin behind bridges is swizzled to the pin it arrives on at
// the root bus: at each bridge, pin' = ((pin - 1) + device) mod 4 + 1 (PCI-to-PCI Bridge 1.2 §9.1),
// then the platform table maps (root-bus device, pin) to an IRQ.
import type { ScanNode } from './scan.js';

/** Maps a root-bus device number and pin (1 = INTA .. 4 = INTD) to an IRQ number (0-254). */
export type IrqRoute = (rootDevice: number, pin: number) => number;

/**
 * PIIX-style routing as SeaBIOS sets it up for QEMU's i440fx: PIRQ = (device + pin - 1) mod 4, and
 * PIRQ A-D go to IRQ 10, 10, 11, 11.
 */
export const piixRoute: IrqRoute = (rootDevice, pin) => [10, 10, 11, 11][(rootDevice + pin - 1) & 3];

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
