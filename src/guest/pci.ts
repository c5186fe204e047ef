// PCI as a guest OS sees it after firmware ran: find functions by walking the buses firmware
// numbered (through bridges' secondary bus numbers), walk capability lists, read BAR addresses
// (src/firmware's PciRoot), turn on decode and bus mastering, and program MSI-X. Config cycles
// and MMIO only: nothing here knows what is on the other side.
import { CapId, Command, HeaderType, Reg, StatusBits } from '../config/index.js';
import { PciRoot, bdfText, takesTwoEntries } from '../firmware/index.js';
import type { ConfigAccess, DeviceFunction, DeviceFunctionInfo } from '../firmware/index.js';
import { GuestError } from './errors.js';

/** What a guest reaches the bus through: config cycles and MMIO (vpci's Bus is one). */
export interface GuestBus extends ConfigAccess {
  /** An MMIO read of 1, 2 or 4 bytes; all ones where nothing decodes. */
  mmioRead(addr: number, size: number): number;
  /** An MMIO write of 1, 2 or 4 bytes. */
  mmioWrite(addr: number, size: number, value: number): void;
}

/** A function a scan found, with its identity registers. */
export interface FoundFunction extends DeviceFunctionInfo {
  f: DeviceFunction;
  /** "SSSS:BB:DD.F" where it answers. */
  bdf: string;
  /** Subsystem vendor and ID (type 0 headers; 0 for bridges). */
  subsystemVendorId: number;
  subsystemId: number;
}


/**
 * Every function reachable now, depth first: the root bus, then below each bridge the bus its
 * secondary bus number names (as firmware left it; a bridge with secondary 0 is not followed).
 */
export function scanFunctions(access: ConfigAccess, segment = 0, rootBus = 0): FoundFunction[] {
  const root = new PciRoot(access);
  const out: FoundFunction[] = [];
  const seen = new Set<number>();
  const walk = (bus: number): void => {
    if (seen.has(bus)) return;
    seen.add(bus);
    for (const [f, info] of root.enumerateBus(bus, segment)) {
      const bdf = bdfText(f);
      // Subsystem IDs are type 0 header fields (a bridge keeps other registers there).
      const endpoint = info.headerType === HeaderType.ENDPOINT;
      out.push({
        ...info, f, bdf,
        subsystemVendorId: endpoint ? access.configRead(bdf, Reg.SUBSYSTEM_VENDOR_ID, 2) : 0,
        subsystemId: endpoint ? access.configRead(bdf, Reg.SUBSYSTEM_ID, 2) : 0,
      });
      if (info.headerType === HeaderType.BRIDGE) {
        const secondary = access.configRead(bdf, Reg.SECONDARY_BUS, 1);
        if (secondary > bus) walk(secondary);
      }
    }
  };
  walk(rootBus);
  return out;
}

/** The functions matching every given field. */
export function findFunctions(access: ConfigAccess, match: { vendorId?: number; deviceId?: number; classCode?: number }): FoundFunction[] {
  return scanFunctions(access).filter((f) =>
    (match.vendorId === undefined || f.vendorId === match.vendorId) &&
    (match.deviceId === undefined || f.deviceId === match.deviceId) &&
    (match.classCode === undefined || f.classCode === match.classCode));
}

/** A capability in a function's list: its ID (`CapId`) and config-space offset. */
export interface Capability {
  id: number;
  offset: number;
}

/** A memory BAR's place, or an IO BAR's port range. */
export type BarPlace = { kind: 'memory'; address: number; size: number; width64: boolean } | { kind: 'io'; port: number; size: number };

/** One function, driven through config cycles and MMIO. */
export class PciFunction {
  private readonly root: PciRoot;
  private readonly bars = new Map<number, BarPlace | undefined>();

  constructor(readonly bus: GuestBus, readonly f: DeviceFunction) {
    this.root = new PciRoot(bus);
  }

  /** The function a scan found (`scanFunctions`, `findFunctions`). */
  static at(bus: GuestBus, found: { f: DeviceFunction }): PciFunction {
    return new PciFunction(bus, found.f);
  }

  /** "SSSS:BB:DD.F" of the function. */
  get bdf(): string {
    return bdfText(this.f);
  }

  /** Reads a config-space byte. */
  read8(offset: number): number { return this.bus.configRead(this.bdf, offset, 1); }
  /** Reads a config-space word. */
  read16(offset: number): number { return this.bus.configRead(this.bdf, offset, 2); }
  /** Reads a config-space dword. */
  read32(offset: number): number { return this.bus.configRead(this.bdf, offset, 4) >>> 0; }
  /** Writes a config-space byte. */
  write8(offset: number, v: number): void { this.bus.configWrite(this.bdf, offset, 1, v & 0xff); }
  /** Writes a config-space word. */
  write16(offset: number, v: number): void { this.bus.configWrite(this.bdf, offset, 2, v & 0xffff); }
  /** Writes a config-space dword. */
  write32(offset: number, v: number): void { this.bus.configWrite(this.bdf, offset, 4, v >>> 0); }

  /** The Vendor ID register (0xFFFF: no function). */
  get vendorId(): number { return this.read16(Reg.VENDOR_ID); }
  /** The Device ID register. */
  get deviceId(): number { return this.read16(Reg.DEVICE_ID); }
  /** The Interrupt Pin register: 0 none, 1..4 = INTA..INTD. */
  get interruptPin(): number { return this.read8(Reg.INTERRUPT_PIN); }
  /** What firmware wrote in Interrupt Line: the GSI the pin reaches (0xFF: unknown). */
  get interruptLine(): number { return this.read8(Reg.INTERRUPT_LINE); }

  /**
   * The capability list (PCI 3.0 §6.7) as the function presents it, defensively: only when Status
   * says there is one, pointers masked to dwords, nothing below 0x40, at most 48 entries, no loops.
   */
  capabilities(): Capability[] {
    const out: Capability[] = [];
    if ((this.read16(Reg.STATUS) & StatusBits.CAP_LIST) === 0) return out;
    const seen = new Set<number>();
    let p = this.read8(Reg.CAPABILITY_LIST) & 0xfc;
    while (p >= 0x40 && !seen.has(p) && out.length < 48) {
      seen.add(p);
      out.push({ id: this.read8(p), offset: p });
      p = this.read8(p + 1) & 0xfc;
    }
    return out;
  }

  /** The offset of the first capability with ID `id` (`CapId`), if any. */
  findCapability(id: number): number | undefined {
    return this.capabilities().find((c) => c.id === id)?.offset;
  }

  /** Where BAR `index` is now (read once with PciRoot.barInfo, then remembered); undefined if unimplemented. */
  bar(index: number): BarPlace | undefined {
    if (this.bars.has(index)) return this.bars.get(index);
    const info = this.root.barInfo(this.f, index);
    let place: BarPlace | undefined;
    if (info?.kind === 'memory') place = { kind: 'memory', address: Number(info.address), size: Number(info.size), width64: takesTwoEntries(info) };
    else if (info?.kind === 'io') place = { kind: 'io', port: info.port, size: info.size };
    this.bars.set(index, place);
    return place;
  }

  /** The address of memory BAR `index`; GuestError if it is not an assigned memory BAR. */
  memoryBar(index: number): { address: number; size: number } {
    const b = this.bar(index);
    if (b?.kind !== 'memory' || b.address === 0) throw new GuestError(`${this.bdf}: BAR ${index} is not an assigned memory BAR`);
    return b;
  }

  /** Forgets remembered BAR addresses (after something moved them). */
  forgetBars(): void {
    this.bars.clear();
  }

  /** Sets Command bits (Memory Space, Bus Master, ...) on top of what is there. */
  enable(bits: number): void {
    const [, command] = this.root.getStatusCommand(this.f);
    this.root.setCommand(this.f, command | bits);
  }

  /** Memory decode and Bus Master Enable: what a driver turns on before it uses a device. */
  enableMemoryAndBusMaster(): void {
    this.enable(Command.MEMORY_SPACE | Command.BUS_MASTER);
  }

  /** Interrupt Disable (Command bit 10): INTx off (or back on with false). */
  setIntxDisabled(disabled: boolean): void {
    const [, command] = this.root.getStatusCommand(this.f);
    this.root.setCommand(this.f, disabled ? command | Command.INTX_DISABLE : command & ~Command.INTX_DISABLE);
  }

  /** The MSI-X capability, if the function has one. */
  msix(): MsixTable | undefined {
    const at = this.findCapability(CapId.MSIX);
    return at === undefined ? undefined : new MsixTable(this, at);
  }
}

/** MSI-X Message Control bits (PCI 3.0 §6.8.2.3). */
const MSIX_ENABLE = 0x8000;
const MSIX_FUNCTION_MASK = 0x4000;
/** Vector Control bit 0: masked. */
const ENTRY_MASKED = 1;

/** A function's MSI-X capability, its table and PBA (PCI 3.0 §6.8.2). */
export class MsixTable {
  /** Number of table entries. */
  readonly size: number;
  readonly tableAddress: number;
  readonly pbaAddress: number;

  constructor(readonly fn: PciFunction, readonly capOffset: number) {
    this.size = (fn.read16(capOffset + 2) & 0x7ff) + 1;
    const table = fn.read32(capOffset + 4);
    const pba = fn.read32(capOffset + 8);
    this.tableAddress = fn.memoryBar(table & 7).address + ((table & ~7) >>> 0);
    this.pbaAddress = fn.memoryBar(pba & 7).address + ((pba & ~7) >>> 0);
  }

  private entry(vector: number): number {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.size) throw new GuestError(`${this.fn.bdf}: MSI-X vector ${vector} is not below the table size ${this.size}`);
    return this.tableAddress + vector * 16;
  }

  /** Programs a table entry (dword writes: address low, high, data, then vector control). */
  setEntry(vector: number, message: { address: number; data: number }, masked = false): void {
    const at = this.entry(vector);
    const bus = this.fn.bus;
    bus.mmioWrite(at, 4, message.address >>> 0);
    bus.mmioWrite(at + 4, 4, Math.floor(message.address / 0x100000000) >>> 0);
    bus.mmioWrite(at + 8, 4, message.data >>> 0);
    bus.mmioWrite(at + 12, 4, masked ? ENTRY_MASKED : 0);
  }

  /** The entry as the table holds it. */
  getEntry(vector: number): { address: number; data: number; masked: boolean } {
    const at = this.entry(vector);
    const bus = this.fn.bus;
    return {
      address: bus.mmioRead(at, 4) + bus.mmioRead(at + 4, 4) * 0x100000000,
      data: bus.mmioRead(at + 8, 4),
      masked: (bus.mmioRead(at + 12, 4) & ENTRY_MASKED) !== 0,
    };
  }

  /** Sets or clears a vector's Mask bit (Vector Control). */
  setMasked(vector: number, masked: boolean): void {
    this.fn.bus.mmioWrite(this.entry(vector) + 12, 4, masked ? ENTRY_MASKED : 0);
  }

  /** Whether the vector's Pending bit is set. */
  pending(vector: number): boolean {
    this.entry(vector);
    const word = this.fn.bus.mmioRead(this.pbaAddress + (vector >>> 5) * 4, 4);
    return ((word >>> (vector & 31)) & 1) === 1;
  }

  /** Whether MSI-X Enable is set in Message Control. */
  get enabled(): boolean {
    return (this.fn.read16(this.capOffset + 2) & MSIX_ENABLE) !== 0;
  }

  /** MSI-X Enable on (Function Mask clear) or off. */
  setEnabled(on: boolean): void {
    const control = this.fn.read16(this.capOffset + 2);
    this.fn.write16(this.capOffset + 2, on ? (control | MSIX_ENABLE) & ~MSIX_FUNCTION_MASK : control & ~MSIX_ENABLE);
  }

  /** Sets or clears Function Mask in Message Control (masks every vector). */
  setFunctionMask(masked: boolean): void {
    const control = this.fn.read16(this.capOffset + 2);
    this.fn.write16(this.capOffset + 2, masked ? control | MSIX_FUNCTION_MASK : control & ~MSIX_FUNCTION_MASK);
  }
}
