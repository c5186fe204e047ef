// The declarative description of one PCI function's config space. Device models export these;
// `buildPlanes` turns one into the three planes a core stores.
import type { BarDescriptor, RomDescriptor } from './bars.js';
import type { CapabilityDescriptor } from './capabilities.js';
import type { ExtendedCapabilityDescriptor } from './extended-capabilities.js';

/**
 * One PCI function's config space declared: identity, header type, interrupt pin, BARs, ROM,
 * capabilities and extended capabilities; `buildPlanes` turns it into planes.
 */
export interface FunctionDescriptor {
  vendorId: number;
  deviceId: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = endpoint (type 0 header), 1 = PCI-to-PCI bridge (type 1 header). Default 0. */
  headerType?: 0 | 1;
  /** Interrupt Pin: 0 none, 1..4 = INTA..INTD. Default 0. */
  interruptPin?: number;
  /** Read-only Status bits beyond Capabilities List (e.g. 0x0200 DEVSEL medium, 0x0020 66 MHz). */
  statusBits?: number;
  bars?: BarDescriptor[];
  rom?: RomDescriptor;
  capabilities?: CapabilityDescriptor[];
  /** Needs a 'pcie' capability (a 4 KiB config space). */
  extendedCapabilities?: ExtendedCapabilityDescriptor[];
  /** Type 1 only: the I/O window decodes 32-bit addresses (default: 16-bit, as QEMU's bridges). */
  bridgeIo32?: boolean;
  /** Type 1 only: the prefetchable window decodes 64-bit addresses (default true). */
  bridgePrefetch64?: boolean;
  /**
   * Device-specific registers in the header's free area (0x40-0xFF, clear of the capabilities):
   * chipset registers firmware programs, such as a PIIX3's PIRQ routing bytes.
   */
  registers?: DeviceRegister[];
}

/** A device-specific config register: where it is, its power-on value and which bits are writable. */
export interface DeviceRegister {
  offset: number;
  width: 1 | 2 | 4;
  /** Power-on value (default 0). */
  value?: number;
  /** Writable bits (default none: read-only). */
  writable?: number;
}
