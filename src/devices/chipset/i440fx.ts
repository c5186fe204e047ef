// An Intel 440FX host bridge (82441FX PMC) as QEMU's "pc" machine presents it: the function at
// 00:00.0 that SeaBIOS recognises (8086:1237, subsystem 1af4:1100 says "QEMU") and whose PAM bytes
// it writes to shadow the BIOS. vpci emulates no memory controller, so these chipset registers
// are plain writable bytes: firmware reads back what it wrote, nothing else follows from them.
import type { FunctionDescriptor } from '../../config/index.js';
import { chipsetRegisters } from './device-area.js';

/** Config offsets of the 440FX registers firmware touches. */
export const I440fxReg = {
  /** PAM0..PAM6: BIOS shadowing attributes of 0xC0000-0xFFFFF. */
  PAM0: 0x59,
  /** SMRAM control; QEMU resets it to 0x02. */
  SMRAM: 0x72,
} as const;

/** Options of the 'i440fx' model. */
export interface I440fxOptions {
  /**
   * Power-on value of PAM0 (default 0, the chip's). An emulator that always backs the BIOS
   * segment with RAM (v86) says so with 0x10: SeaBIOS then enables writes in place instead of
   * jumping to its copy in the flash alias, which such an emulator cannot execute from.
   */
  pam0?: number;
}

/** The descriptor of an i440FX host bridge function. */
export function i440fxHostBridge(options: I440fxOptions = {}): FunctionDescriptor {
  return {
    vendorId: 0x8086,
    deviceId: 0x1237,
    revision: 0x02,
    classCode: 0x060000,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    registers: chipsetRegisters({ [I440fxReg.PAM0]: options.pam0 ?? 0, [I440fxReg.SMRAM]: 0x02 }),
  };
}
