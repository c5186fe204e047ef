// A test endpoint with one BAR of every kind, an expansion ROM, INTA, and MSI and PM
// capabilities (with `pcie`, PCI Express and AER too): the function the conformance suites and
// the default topology exercise.
// IDs are QEMU's pci-testdev (1b36:0005), an unclassified device no guest driver claims.
import type { BarDescriptor, CapabilityDescriptor, FunctionDescriptor, RomDescriptor } from '../config/index.js';

/** Options of the 'test-endpoint' model: IDs (default 1b36:0005), interrupt pin, MSI vectors, BARs, ROM, PCIe. */
export interface TestEndpointOptions {
  vendorId?: number;
  deviceId?: number;
  /** Interrupt pin 1..4 (INTA..INTD), 0 for none. Default 1. */
  interruptPin?: number;
  /** MSI vectors (1..32, a power of two). Default 4. */
  msiVectors?: 1 | 2 | 4 | 8 | 16 | 32;
  /** Replaces the BAR layout below (an empty list: no BARs). */
  bars?: BarDescriptor[];
  /** The expansion ROM; `false` for none. Default 64 KiB. */
  rom?: RomDescriptor | false;
  /**
   * Adds a PCI Express capability (Endpoint), which makes the config space 4 KiB, and an AER
   * extended capability at 0x100. Default false.
   */
  pcie?: boolean;
}

const DEFAULT_BARS: BarDescriptor[] = [
  { index: 0, kind: 'mem32', size: 0x1000 },
  { index: 1, kind: 'io', size: 0x20 },
  { index: 2, kind: 'mem64', size: 0x100000, prefetchable: true },
  { index: 4, kind: 'mem64', size: 0x4000 },
];

/** The descriptor of the test endpoint. Default BAR layout:
 *  BAR0 mem32 4 KiB registers · BAR1 io 32 B · BAR2-3 mem64 prefetchable 1 MiB ·
 *  BAR4-5 mem64 16 KiB · ROM 64 KiB. */
export function testEndpoint(options: TestEndpointOptions = {}): FunctionDescriptor {
  const capabilities: CapabilityDescriptor[] = [
    { id: 'pm' },
    { id: 'msi', vectors: options.msiVectors ?? 4, address64: true, perVectorMask: true },
  ];
  if (options.pcie === true) capabilities.push({ id: 'pcie', portType: 'endpoint' });
  const descriptor: FunctionDescriptor = {
    vendorId: options.vendorId ?? 0x1b36,
    deviceId: options.deviceId ?? 0x0005,
    classCode: 0x00ff00,
    revision: 1,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    interruptPin: options.interruptPin ?? 1,
    bars: options.bars ?? DEFAULT_BARS,
    capabilities,
  };
  if (options.rom !== false) descriptor.rom = options.rom ?? { size: 0x10000 };
  if (options.pcie === true) descriptor.extendedCapabilities = [{ id: 'aer' }];
  return descriptor;
}
