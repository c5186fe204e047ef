// The device-specific area (0x40-0xFF) of a chipset function as QEMU models it: every byte
// writable, power-on values per register. Firmware programs chipset registers with byte, word and
// dword cycles alike, so the area is declared as writable dwords.
import type { DeviceRegister } from '../../config/index.js';

/** Writable dwords over 0x40-0xFF, holding `resetBytes` (offset → byte) at power-on. */
export function chipsetRegisters(resetBytes: Readonly<Record<number, number>>): DeviceRegister[] {
  const out: DeviceRegister[] = [];
  for (let offset = 0x40; offset < 0x100; offset += 4) {
    let value = 0;
    for (let b = 3; b >= 0; b--) value = value * 256 + (resetBytes[offset + b] ?? 0);
    out.push({ offset, width: 4, value, writable: 0xffffffff });
  }
  return out;
}
