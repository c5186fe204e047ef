// Capabilities: descriptors become bytes in the list that starts at 0x34, and every capability
// vpci knows gets the write masks its specification gives. The same mask rules serve built
// descriptors and config spaces cloned from real dumps, so a cloned MSI behaves like a built one.
import { DescriptorError } from '../errors.js';
import type { ConfigPlanes } from './planes.js';
import { CAPABILITY_AREA_START } from './registers.js';
import { LinkCap, PcieFlags, PcieReg, SlotCap, SlotCtl, slotControlWritable, slotStatusW1c } from './pcie-slot.js';

/** Capability IDs (PCI Code and ID Assignment 1.11 §2). */
export const CapId = {
  PM: 0x01,
  MSI: 0x05,
  VENDOR: 0x09,
  PCIE: 0x10,
  MSIX: 0x11,
} as const;

/** The PCI Express capability's Device/Port Type, by name (numbers in `PCIE_PORT_TYPE`). */
export type PciePortType =
  | 'endpoint' | 'legacy-endpoint' | 'root-port' | 'upstream-port' | 'downstream-port'
  | 'pcie-to-pci-bridge' | 'pci-to-pcie-bridge' | 'rc-integrated-endpoint' | 'rc-event-collector';

/** PCIe Base 6.0 §7.5.3.2: Device/Port Type field values. */
export const PCIE_PORT_TYPE: Record<PciePortType, number> = {
  'endpoint': 0x0,
  'legacy-endpoint': 0x1,
  'rc-integrated-endpoint': 0x9,
  'rc-event-collector': 0xa,
  'root-port': 0x4,
  'upstream-port': 0x5,
  'downstream-port': 0x6,
  'pcie-to-pci-bridge': 0x7,
  'pci-to-pcie-bridge': 0x8,
};

/**
 * A capability in the list at 0x34, by `id`: power management, MSI (1-32 vectors, 64-bit address
 * and per-vector masking optional), MSI-X (table and PBA placed by BAR index and offset), PCI
 * Express (4 KiB config space), or vendor-specific bytes. `offset` places it (dword aligned, in
 * 0x40..0xff); by default they follow each other from 0x40.
 */
export type CapabilityDescriptor =
  /**
   * Power management (PCI Bus PM 1.2). `noSoftReset` (default true) is PMCSR No_Soft_Reset: false
   * makes a D3hot -> D0 transition reset the function (config space to power-on values but the
   * sticky bits, the device model's reset(): src/power/soft-reset.ts).
   */
  | { id: 'pm'; offset?: number; noSoftReset?: boolean }
  | { id: 'msi'; offset?: number; vectors?: 1 | 2 | 4 | 8 | 16 | 32; address64?: boolean; perVectorMask?: boolean }
  | { id: 'msix'; offset?: number; tableSize: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number }
  | { id: 'pcie'; offset?: number; portType?: PciePortType; slot?: PcieSlotDescriptor }
  | { id: 'vendor'; offset?: number; data: number[] };

/**
 * The slot of a root or downstream port. `number` is the Physical Slot Number (0..8191, default
 * 0). `hotplug` makes it a native hot-plug slot as QEMU's pcie-root-port has it: attention button,
 * power controller, attention and power indicators, Hot-Plug Surprise and Hot-Plug Capable, and
 * Data Link Layer Link Active reporting in Link Capabilities; no MRL sensor and no
 * electromechanical interlock (QEMU advertises an interlock; vpci does not emulate one).
 */
export interface PcieSlotDescriptor {
  number?: number;
  hotplug?: boolean;
}

function msiLength(address64: boolean, perVectorMask: boolean): number {
  // PCI 3.0 §6.8.1: 0x0A, 0x0E, 0x14 or 0x18 bytes depending on the two options.
  return (address64 ? 0x0e : 0x0a) + (perVectorMask ? 0x0a : 0);
}

/** PCIe Base 6.0 §7.5.3: the version-2 PCI Express capability structure is 0x3C bytes. */
const PCIE_LENGTH = 0x3c;

function lengthOf(cap: CapabilityDescriptor): number {
  switch (cap.id) {
    case 'pm': return 8;
    case 'msi': return msiLength(cap.address64 ?? true, cap.perVectorMask ?? false);
    case 'msix': return 12;
    case 'pcie': return PCIE_LENGTH;
    case 'vendor': return 3 + cap.data.length;
  }
}

function checkByte(v: number, path: string, max = 255): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new DescriptorError(path, `${v} is not an integer in 0..${max}`);
}

function validate(cap: CapabilityDescriptor, path: string): void {
  switch (cap.id) {
    case 'pm':
      if (cap.noSoftReset !== undefined && typeof cap.noSoftReset !== 'boolean') {
        throw new DescriptorError(`${path}.noSoftReset`, 'must be true or false');
      }
      return;
    case 'msi':
      if (cap.vectors !== undefined && ![1, 2, 4, 8, 16, 32].includes(cap.vectors)) {
        throw new DescriptorError(`${path}.vectors`, `${cap.vectors} is not 1, 2, 4, 8, 16 or 32`);
      }
      return;
    case 'msix':
      if (!Number.isInteger(cap.tableSize) || cap.tableSize < 1 || cap.tableSize > 2048) {
        throw new DescriptorError(`${path}.tableSize`, `${cap.tableSize} is not in 1..2048`);
      }
      checkByte(cap.tableBar, `${path}.tableBar`, 5);
      checkByte(cap.pbaBar, `${path}.pbaBar`, 5);
      for (const k of ['tableOffset', 'pbaOffset'] as const) {
        const v = cap[k];
        if (!Number.isInteger(v) || v < 0 || v > 0xfffffff8 || v % 8 !== 0) {
          throw new DescriptorError(`${path}.${k}`, `${v} is not an 8-byte aligned 32-bit offset`);
        }
      }
      return;
    case 'pcie':
      if (cap.portType !== undefined && !(cap.portType in PCIE_PORT_TYPE)) {
        throw new DescriptorError(`${path}.portType`, `"${cap.portType}" is not one of ${Object.keys(PCIE_PORT_TYPE).join(', ')}`);
      }
      if (cap.slot !== undefined) {
        if (cap.slot === null || typeof cap.slot !== 'object' || Array.isArray(cap.slot)) throw new DescriptorError(`${path}.slot`, 'must be { number, hotplug }');
        if (cap.portType !== 'root-port' && cap.portType !== 'downstream-port') {
          throw new DescriptorError(`${path}.slot`, 'only a root port or a downstream port implements a slot');
        }
        if (cap.slot.number !== undefined) checkByte(cap.slot.number, `${path}.slot.number`, SlotCap.SLOT_NUMBER_MAX);
        if (cap.slot.hotplug !== undefined && typeof cap.slot.hotplug !== 'boolean') throw new DescriptorError(`${path}.slot.hotplug`, 'must be true or false');
      }
      return;
    case 'vendor':
      if (!Array.isArray(cap.data) || cap.data.length > 252) {
        throw new DescriptorError(`${path}.data`, 'must be an array of at most 252 bytes');
      }
      cap.data.forEach((b, i) => checkByte(b, `${path}.data[${i}]`));
      return;
    default:
      throw new DescriptorError(`${path}.id`, `"${(cap as { id: unknown }).id}" is not one of pm, msi, msix, pcie, vendor`);
  }
}

/**
 * Lays the capabilities out from 0x40 (or their given offsets), links them in descriptor order
 * from the Capabilities Pointer, writes their bytes and masks. Returns the first offset (0 if none).
 */
export function writeCapabilities(
  planes: ConfigPlanes, caps: CapabilityDescriptor[], path: string,
  /** Filled with where each capability went (for checks of what else shares the area). */
  placed: { offset: number; length: number }[] = [],
): number {
  let next = CAPABILITY_AREA_START;
  caps.forEach((cap, i) => {
    const p = `${path}[${i}]`;
    validate(cap, p);
    const length = lengthOf(cap);
    const offset = cap.offset ?? next;
    if (!Number.isInteger(offset) || offset % 4 !== 0 || offset < CAPABILITY_AREA_START || offset + length > 256) {
      throw new DescriptorError(`${p}.offset`, `0x${offset.toString(16)} is not a dword-aligned offset with ${length} bytes free in 0x40..0xff`);
    }
    const clash = placed.find((o) => offset < o.offset + o.length && o.offset < offset + length);
    if (clash) throw new DescriptorError(`${p}.offset`, `0x${offset.toString(16)} overlaps the capability at 0x${clash.offset.toString(16)}`);
    placed.push({ offset, length });
    next = Math.max(next, (offset + length + 3) & ~3);
    writeOne(planes, offset, cap);
  });
  for (let i = 0; i < placed.length; i++) {
    planes.ro(placed[i].offset + 1, 1, i + 1 < placed.length ? placed[i + 1].offset : 0);
  }
  return placed.length > 0 ? placed[0].offset : 0;
}

function writeOne(planes: ConfigPlanes, at: number, cap: CapabilityDescriptor): void {
  switch (cap.id) {
    case 'pm':
      planes.ro(at, 1, CapId.PM);
      // PMC: version 3 (PCI PM 1.2), no D1/D2, no PME generation; PMCSR: D0, No_Soft_Reset (bit 3,
      // read-only) as asked. QEMU's pci_pm_init leaves No_Soft_Reset 0 unless a device sets it
      // (virtio-pci does); vpci defaults to 1 because every model and recorded trace so far was
      // made with a D3hot -> D0 transition that keeps the function's configuration.
      planes.ro(at + 2, 2, 0x0003);
      planes.ro(at + 4, 2, cap.noSoftReset === false ? 0x0000 : 0x0008);
      break;
    case 'msi': {
      const vectors = cap.vectors ?? 1;
      const a64 = cap.address64 ?? true;
      const pvm = cap.perVectorMask ?? false;
      planes.ro(at, 1, CapId.MSI);
      planes.ro(at + 2, 2, (Math.log2(vectors) << 1) | (a64 ? 0x80 : 0) | (pvm ? 0x100 : 0));
      break;
    }
    case 'msix':
      planes.ro(at, 1, CapId.MSIX);
      planes.ro(at + 2, 2, cap.tableSize - 1);
      planes.ro(at + 4, 4, (cap.tableOffset | cap.tableBar) >>> 0);
      planes.ro(at + 8, 4, (cap.pbaOffset | cap.pbaBar) >>> 0);
      break;
    case 'pcie': {
      const type = PCIE_PORT_TYPE[cap.portType ?? 'endpoint'];
      planes.ro(at, 1, CapId.PCIE);
      // Capability version 2, the port type; a root or downstream port implements a slot.
      const slot = type === 0x4 || type === 0x6 ? 0x100 : 0;
      planes.ro(at + 2, 2, 0x2 | (type << 4) | slot);
      // Device Capabilities: 256-byte max payload supported, role-based error reporting.
      planes.ro(at + 4, 4, 0x00008001);
      // Device Control: max payload 128 B, max read request 512 B (the reset values).
      planes.ro(at + 8, 2, 0x2000);
      // Link Capabilities: 2.5 GT/s x1, port number 0; Link Status: 2.5 GT/s x1.
      planes.ro(at + 0x0c, 4, 0x00000011);
      planes.ro(at + 0x12, 2, 0x0011);
      // Link Capabilities 2: 2.5 GT/s supported.
      planes.ro(at + 0x2c, 4, 0x00000002);
      planes.ro(at + 0x30, 2, 0x0001);
      if (cap.slot) writeSlot(planes, at, cap.slot);
      break;
    }
    case 'vendor':
      planes.ro(at, 1, CapId.VENDOR);
      planes.ro(at + 2, 1, 3 + cap.data.length);
      cap.data.forEach((b, i) => planes.ro(at + 3 + i, 1, b));
      break;
  }
  applyCapabilityMasks(planes, at);
}

/**
 * Slot Capabilities with the physical slot number, and for a hot-plug slot its features (see
 * PcieSlotDescriptor), DLL Link Active reporting, and Slot Control's reset value: both indicators
 * off, power on, every event disabled. Presence Detect State and DLL Link Active are the hotplug
 * controller's to set (src/devices/hotplug/): they say whether a card is in the slot now.
 */
function writeSlot(planes: ConfigPlanes, at: number, slot: PcieSlotDescriptor): void {
  const hotplug = slot.hotplug ?? false;
  const features = SlotCap.ATTENTION_BUTTON | SlotCap.POWER_CONTROLLER | SlotCap.ATTENTION_INDICATOR |
    SlotCap.POWER_INDICATOR | SlotCap.HOT_PLUG_SURPRISE | SlotCap.HOT_PLUG_CAPABLE;
  planes.ro(at + PcieReg.SLOT_CAPABILITIES, 4, (((slot.number ?? 0) << SlotCap.SLOT_NUMBER_SHIFT) | (hotplug ? features : 0)) >>> 0);
  if (!hotplug) return;
  planes.ro(at + PcieReg.LINK_CAPABILITIES, 4, (planes.get(at + PcieReg.LINK_CAPABILITIES, 4) | LinkCap.DLLLARC) >>> 0);
  planes.ro(at + PcieReg.SLOT_CONTROL, 2, SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_OFF);
}

/**
 * Gives the capability at `at` the writable and write-1-to-clear bits its specification defines,
 * reading its options (64-bit MSI, per-vector masking, port type) from the bytes already there.
 * Unknown capabilities stay read-only.
 */
export function applyCapabilityMasks(planes: ConfigPlanes, at: number): void {
  switch (planes.config[at]) {
    case CapId.PM:
      // PCI PM 1.2 §3.2.4 (PMCSR): PowerState (1:0) and PME_En (8) RW, PME_Status (15) RW1C;
      // No_Soft_Reset (3) read-only; Data_Select and Data_Scale (14:9) read-only 0, there being no
      // Data register. PME_En and PME_Status may be hardwired to 0 when PMC advertises no PME;
      // they are kept working so a model that signals PME (device-side pokes) needs no other masks.
      planes.masks(at + 4, 2, 0x0103, 0x8000);
      break;
    case CapId.MSI: {
      // PCI 3.0 §6.8.1.3: MSI Enable (0) and Multiple Message Enable (6:4) are RW.
      const control = planes.get(at + 2, 2);
      const a64 = (control & 0x80) !== 0;
      const pvm = (control & 0x100) !== 0;
      planes.masks(at + 2, 2, 0x0071);
      planes.masks(at + 4, 4, 0xfffffffc);
      if (a64) planes.masks(at + 8, 4, 0xffffffff);
      planes.masks(at + (a64 ? 0x0c : 0x08), 2, 0xffff);
      if (pvm) {
        const vectors = 1 << Math.min(5, (control >> 1) & 7);
        planes.masks(at + (a64 ? 0x10 : 0x0c), 4, vectors === 32 ? 0xffffffff : (1 << vectors) - 1);
      }
      break;
    }
    case CapId.MSIX:
      // PCI 3.0 §6.8.2.3: MSI-X Enable (15) and Function Mask (14) are RW.
      planes.masks(at + 2, 2, 0xc000);
      break;
    case CapId.PCIE:
      applyPcieMasks(planes, at);
      break;
    default:
      break;
  }
}

/** PCIe Base 6.0 §7.5.3: the control registers of the PCI Express capability, by port type. */
function applyPcieMasks(planes: ConfigPlanes, at: number): void {
  const flags = planes.get(at + 2, 2);
  const type = (flags >> 4) & 0xf;
  const version = flags & 0xf;
  const isPort = type === 0x4 || type === 0x6;
  // Device Control: every field but Initiate FLR / Bridge Configuration Retry Enable (15).
  planes.masks(at + 0x08, 2, 0x7fff);
  // Device Status: the four error-detected bits are RW1C.
  planes.masks(at + 0x0a, 2, 0, 0x000f);
  // Link Control: ASPM, RCB, common clock, extended synch, clock PM, HW autonomous width
  // disable, the two bandwidth interrupt enables; Link Disable on downstream-facing ports.
  // Retrain Link (5) always reads 0, so it is left read-only.
  if (type !== 0x9 && type !== 0xa) planes.masks(at + 0x10, 2, isPort ? 0x0fdb : 0x0fcb);
  // Link Status: the two bandwidth-change status bits are RW1C on downstream-facing ports.
  if (isPort) planes.masks(at + 0x12, 2, 0, 0xc000);
  // Slot Control and Slot Status (§7.5.3.10-11): the controls and event bits of the features Slot
  // Capabilities advertises (a slot with none, as a non-hotplug port has, stays read-only).
  if (isPort && (flags & PcieFlags.SLOT_IMPLEMENTED) !== 0) {
    const slotCap = planes.get(at + PcieReg.SLOT_CAPABILITIES, 4);
    const linkCap = planes.get(at + PcieReg.LINK_CAPABILITIES, 4);
    planes.masks(at + PcieReg.SLOT_CONTROL, 2, slotControlWritable(slotCap, linkCap));
    planes.masks(at + PcieReg.SLOT_STATUS, 2, 0, slotStatusW1c(slotCap, linkCap));
  }
  if (version >= 2) {
    // Device Control 2: completion timeout value and disable; ARI forwarding on ports.
    planes.masks(at + 0x28, 2, isPort ? 0x003f : 0x001f);
    // Link Control 2: target link speed, enter compliance, HW autonomous speed disable.
    if (type !== 0x9 && type !== 0xa) planes.masks(at + 0x30, 2, 0x003f);
  }
}

/**
 * The capability list as (offset, id) pairs, walked defensively: a pointer below 0x40, past the
 * end or seen before ends the walk (a hostile or corrupt dump cannot loop).
 */
export function walkCapabilities(config: Uint8Array): { offset: number; id: number }[] {
  const found: { offset: number; id: number }[] = [];
  const seen = new Set<number>();
  let p = config[0x34] & 0xfc;
  while (p >= CAPABILITY_AREA_START && p <= 0xfc && !seen.has(p)) {
    seen.add(p);
    found.push({ offset: p, id: config[p] });
    p = config[p + 1] & 0xfc;
  }
  return found;
}
