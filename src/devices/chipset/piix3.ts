// A PIIX3 PCI-to-ISA bridge (82371SB function 0) with its PIRQ router: four routing bytes at
// 0x60-0x63 (PIRQRC A-D) send the root bus's INTx lines to ISA IRQs of the 8259 PICs. Firmware
// (SeaBIOS: 10, 10, 11, 11) or the guest's PIRQ router driver (Linux's pirq_piix_set) writes
// them; the model follows every change into the bus's routing table, so an asserted line moves at
// once, as on the chip.
import type { FunctionDescriptor } from '../../config/index.js';
import type { DeviceBehaviour, DeviceContext, DeviceInstance } from '../model-api.js';
import { chipsetRegisters } from './device-area.js';

/** Config offsets of the PIIX3 registers the router uses. */
export const Piix3Reg = {
  /** PIRQRC[A]; B, C and D follow. */
  PIRQRC: 0x60,
} as const;

/** PIRQRC bit 7: routing of this PIRQ disabled. */
export const PIRQ_DISABLE = 0x80;

/**
 * ISA IRQs a PIRQRC byte may name (bits 3:0): 3-7, 9-12, 14 and 15. The chip's datasheet marks
 * 0-2, 8 and 13 reserved; such a value leaves the PIRQ unrouted.
 */
export function pirqIrq(byte: number): number | null {
  if (byte & PIRQ_DISABLE) return null;
  const irq = byte & 0x0f;
  return irq <= 2 || irq === 8 || irq === 13 ? null : irq;
}

/**
 * Which PIRQ a root-bus device's pin (1 = INTA .. 4 = INTD) drives: the board wiring of QEMU's
 * i440FX machine and SeaBIOS's $PIR table, (device - 1 + pin - 1) mod 4.
 */
export function piix3Pirq(device: number, pin: number): number {
  return (device - 1 + pin - 1) & 3;
}

/**
 * The descriptor of a PIIX3 ISA bridge function. The multi-function bit is the core's to set: it
 * follows the functions present in the slot (the IDE, USB and ACPI functions are not modelled).
 */
export function piix3IsaBridge(): FunctionDescriptor {
  return {
    vendorId: 0x8086,
    deviceId: 0x7000,
    classCode: 0x060100,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    // Power-on values as QEMU's piix3 resets them: PIRQs disabled, IORT 0x4d, XBCS 0x03,
    // top of memory 0x02, MBIRQ0 disabled, MBDMA 0x0c, PCSC 0x02, APIC base 0x08.
    registers: chipsetRegisters({
      0x4c: 0x4d, 0x4e: 0x03, 0x60: 0x80, 0x61: 0x80, 0x62: 0x80, 0x63: 0x80,
      0x69: 0x02, 0x70: 0x80, 0x76: 0x0c, 0x77: 0x0c, 0x78: 0x02, 0xa0: 0x08,
    }),
  };
}

/** The running PIIX3: its routing as the PIRQRC bytes say now. */
export interface Piix3Instance extends DeviceInstance {
  /** ISA IRQ per PIRQ A-D (null: unrouted). */
  readonly pirqs: readonly (number | null)[];
}

/**
 * The PIRQ router: at attach and on every change of 0x60-0x63, routes each root-bus device's
 * pins of the PIIX3's segment to the IRQ its PIRQ names (or unroutes them).
 */
export function piix3Behaviour(): DeviceBehaviour {
  return {
    attach(context: DeviceContext): Piix3Instance {
      let pirqs: (number | null)[] = [null, null, null, null];
      const apply = (): void => {
        const next = [0, 1, 2, 3].map((i) => pirqIrq(context.configRead(Piix3Reg.PIRQRC + i, 1)));
        if (next.every((irq, i) => irq === pirqs[i])) return;
        pirqs = next;
        for (let device = 0; device < 32; device++) {
          for (let pin = 1; pin <= 4; pin++) context.routeIntx(device, pin, pirqs[piix3Pirq(device, pin)]);
        }
      };
      // Everything starts unrouted (PIRQRC 0x80), whatever table the topology loaded.
      for (let device = 0; device < 32; device++) for (let pin = 1; pin <= 4; pin++) context.routeIntx(device, pin, null);
      apply();
      context.watchConfig(Piix3Reg.PIRQRC, 4, apply);
      // No state of its own: the routing follows from config bytes a snapshot carries (the bus
      // calls the watcher again after a restore).
      return { get pirqs() { return pirqs; } };
    },
  };
}
