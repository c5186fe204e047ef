// INTx routing: which GSI a root-bus device's pin reaches. One definition of the PIIX table, shared
// by the bus's default routing (loaded into the core) and the firmware's Interrupt Line values.

/** A routing table entry: root-bus `device` (0-31) of `segment`, `pin` (1 = INTA .. 4 = INTD), to `gsi`. */
export interface IntxRoute {
  segment: number;
  device: number;
  pin: number;
  gsi: number;
}

/** GSIs the core accepts: below this (assembly/irq/layout.ts MAX_GSI). */
export const MAX_GSI = 1024;

/**
 * PIIX-style routing as QEMU's i440fx wires it and SeaBIOS programs it: PIRQ = (device - 1 +
 * pin - 1) mod 4 (QEMU's PIIX3 slot swizzle; checked against a QEMU 7.2 recording, where the
 * bridge-swizzled INTA of root device 0x12 raised IRQ 10), and PIRQ A-D go to IRQ 10, 10, 11, 11.
 */
export const PIIX_PIRQ_GSIS: readonly number[] = [10, 10, 11, 11];

/** The GSI of a root-bus device's pin (1..4) under PIIX routing. */
export function piixGsi(device: number, pin: number): number {
  return PIIX_PIRQ_GSIS[(device - 1 + pin - 1) & 3];
}

/** The PIIX table for every root-bus device and pin of each segment. */
export function piixRoutes(segments: readonly number[]): IntxRoute[] {
  const out: IntxRoute[] = [];
  for (const segment of segments) {
    for (let device = 0; device < 32; device++) {
      for (let pin = 1; pin <= 4; pin++) out.push({ segment, device, pin, gsi: piixGsi(device, pin) });
    }
  }
  return out;
}
