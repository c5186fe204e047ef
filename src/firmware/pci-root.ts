// The driver-side PCI API of the seed (virtio-drivers' PciRoot) under TypeScript names: list the
// functions of a bus, read a BAR's type, address and size, program BARs and Command. It works
// only through config cycles (ConfigAccess), so it drives vpci's bus or any other.
import { Command, Reg } from '../config/index.js';
import { ArgumentError } from '../errors.js';
import type { ConfigAccess, DeviceFunction } from './config-access.js';
import { bdfText } from './config-access.js';

// Command register bits: the one definition in src/config (IO_SPACE, MEMORY_SPACE, BUS_MASTER, ...).
export { Command };

/** A memory BAR's Type field: 32-bit, below 1 MiB (legacy), or 64-bit. */
export type MemoryBarType = 'width32' | 'below1MiB' | 'width64';

/** A BAR as `PciRoot.barInfo` probes it: memory (type, prefetchable, address, size) or I/O (port, size). */
export type BarInfo =
  | { kind: 'memory'; addressType: MemoryBarType; prefetchable: boolean; address: bigint; size: bigint }
  | { kind: 'io'; port: number; size: number };

/** Whether a BAR occupies two entries (a 64-bit memory BAR): the seed's loop advances twice. */
export function takesTwoEntries(info: BarInfo): boolean {
  return info.kind === 'memory' && info.addressType === 'width64';
}

/** What enumerateBus yields for each function present. */
export interface DeviceFunctionInfo {
  vendorId: number;
  deviceId: number;
  classCode: number;
  revision: number;
  /** 0 endpoint, 1 PCI-to-PCI bridge, 2 CardBus bridge. */
  headerType: number;
  multiFunction: boolean;
  interruptPin: number;
}

/**
 * The seed's driver-side PCI API (virtio-drivers' PciRoot): lists a bus's functions, probes and
 * programs BARs, reads and sets Command. Works only through config cycles (`ConfigAccess`), so it
 * drives a `Bus` or anything else that answers them.
 */
export class PciRoot {
  constructor(readonly access: ConfigAccess) {}

  private read(f: DeviceFunction, offset: number, size: number): number {
    return this.access.configRead(bdfText(f), offset, size);
  }

  private write(f: DeviceFunction, offset: number, size: number, value: number): void {
    this.access.configWrite(bdfText(f), offset, size, value >>> 0);
  }

  /** The functions present on `bus`: function 0 of each device, and 1-7 when it is multi-function. */
  *enumerateBus(bus: number, segment = 0): Generator<[DeviceFunction, DeviceFunctionInfo]> {
    for (let device = 0; device < 32; device++) {
      for (let fn = 0; fn < 8; fn++) {
        const f: DeviceFunction = { segment, bus, device, function: fn };
        const ids = this.read(f, Reg.VENDOR_ID, 4);
        if ((ids & 0xffff) === 0xffff) {
          if (fn === 0) break;
          continue;
        }
        const header = this.read(f, Reg.HEADER_TYPE, 1);
        const rev = this.read(f, Reg.REVISION_ID, 4);
        yield [f, {
          vendorId: ids & 0xffff,
          deviceId: ids >>> 16,
          classCode: rev >>> 8,
          revision: rev & 0xff,
          headerType: header & 0x7f,
          multiFunction: (header & 0x80) !== 0,
          interruptPin: this.read(f, Reg.INTERRUPT_PIN, 1),
        }];
        if (fn === 0 && (header & 0x80) === 0) break;
      }
    }
  }

  /** Status (high) and Command (low) as the seed's get_status_command returns them. */
  getStatusCommand(f: DeviceFunction): [status: number, command: number] {
    return [this.read(f, Reg.STATUS, 2), this.read(f, Reg.COMMAND, 2)];
  }

  /** Writes the Command register (the low 16 bits of `command`). */
  setCommand(f: DeviceFunction, command: number): void {
    this.write(f, Reg.COMMAND, 2, command & 0xffff);
  }

  /** The expansion ROM BAR's offset: 0x30 in a type 0 header, 0x38 in a bridge's. */
  private romRegister(f: DeviceFunction): number {
    return (this.read(f, Reg.HEADER_TYPE, 1) & 0x7f) === 1 ? Reg.ROM_ADDRESS1 : Reg.ROM_ADDRESS;
  }

  /** Number of BARs of the function's header (6 for type 0, 2 for a bridge). */
  barCount(f: DeviceFunction): number {
    return (this.read(f, Reg.HEADER_TYPE, 1) & 0x7f) === 1 ? 2 : 6;
  }

  /**
   * A BAR's type, current address and size, found the way firmware does it (PCI 3.0 §6.2.5.1):
   * write all ones, read back, restore. Decode is off during the probe, so the device never
   * answers at the probe address; Command is restored afterwards. Returns undefined for an
   * unimplemented BAR (reads back 0) and for the upper half of a 64-bit BAR.
   */
  barInfo(f: DeviceFunction, bar: number): BarInfo | undefined {
    const count = this.barCount(f);
    if (!Number.isInteger(bar) || bar < 0 || bar >= count) throw new ArgumentError(`bar: ${bar} is not a BAR index 0..${count - 1}`);
    const reg = Reg.BAR0 + bar * 4;
    const command = this.read(f, Reg.COMMAND, 2);
    this.write(f, Reg.COMMAND, 2, command & ~(Command.IO_SPACE | Command.MEMORY_SPACE));
    try {
      const original = this.read(f, reg, 4);
      this.write(f, reg, 4, 0xffffffff);
      const probed = this.read(f, reg, 4);
      this.write(f, reg, 4, original);
      if (original & 1) {
        let mask = (probed & 0xfffffffc) >>> 0;
        if (mask === 0) return undefined;
        // Many devices decode only 16-bit IO addresses: their upper half reads back 0
        // (PCI 3.0 §6.2.5.1), which says nothing about the size.
        if ((mask & 0xffff0000) === 0) mask = (mask | 0xffff0000) >>> 0;
        return { kind: 'io', port: (original & 0xfffffffc) >>> 0, size: ((~mask) >>> 0) + 1 };
      }
      const type = (original >>> 1) & 3;
      const prefetchable = (original & 8) !== 0;
      if (type === 2) {
        if (bar + 1 >= count) return undefined;
        const upperOriginal = this.read(f, reg + 4, 4);
        this.write(f, reg + 4, 4, 0xffffffff);
        const upperProbed = this.read(f, reg + 4, 4);
        this.write(f, reg + 4, 4, upperOriginal);
        const mask = (BigInt(upperProbed >>> 0) << 32n) | BigInt((probed & 0xfffffff0) >>> 0);
        if (mask === 0n) return undefined;
        const size = ((~mask) & 0xffffffffffffffffn) + 1n;
        const address = (BigInt(upperOriginal >>> 0) << 32n) | BigInt((original & 0xfffffff0) >>> 0);
        return { kind: 'memory', addressType: 'width64', prefetchable, address, size };
      }
      const mask = (probed & 0xfffffff0) >>> 0;
      if (mask === 0) return undefined;
      return {
        kind: 'memory', addressType: type === 1 ? 'below1MiB' : 'width32', prefetchable,
        address: BigInt((original & 0xfffffff0) >>> 0), size: BigInt(((~mask) >>> 0) + 1),
      };
    } finally {
      this.write(f, Reg.COMMAND, 2, command);
    }
  }

  /** The expansion ROM BAR: address (enable bit clear) and size, or undefined when absent. */
  romInfo(f: DeviceFunction): { address: number; size: number; enabled: boolean } | undefined {
    const reg = this.romRegister(f);
    const command = this.read(f, Reg.COMMAND, 2);
    this.write(f, Reg.COMMAND, 2, command & ~Command.MEMORY_SPACE);
    try {
      const original = this.read(f, reg, 4);
      this.write(f, reg, 4, 0xfffff800);
      const probed = this.read(f, reg, 4);
      this.write(f, reg, 4, original);
      const mask = (probed & 0xfffff800) >>> 0;
      if (mask === 0) return undefined;
      return { address: (original & 0xfffff800) >>> 0, size: ((~mask) >>> 0) + 1, enabled: (original & 1) === 1 };
    } finally {
      this.write(f, Reg.COMMAND, 2, command);
    }
  }

  /** Programs a 32-bit memory (or IO) BAR; the type bits are read-only and stay. */
  setBar32(f: DeviceFunction, bar: number, address: number): void {
    this.write(f, Reg.BAR0 + bar * 4, 4, address >>> 0);
  }

  /** Programs a 64-bit BAR: lower dword, then upper (the order Linux uses; vpci moves it once). */
  setBar64(f: DeviceFunction, bar: number, address: bigint): void {
    this.write(f, Reg.BAR0 + bar * 4, 4, Number(address & 0xffffffffn));
    this.write(f, Reg.BAR0 + bar * 4 + 4, 4, Number((address >> 32n) & 0xffffffffn));
  }

  /** Programs the expansion ROM BAR's address, leaving its enable bit as `enable` says. */
  setRom(f: DeviceFunction, address: number, enable = false): void {
    const reg = this.romRegister(f);
    this.write(f, reg, 4, ((address & 0xfffff800) | (enable ? 1 : 0)) >>> 0);
  }
}
