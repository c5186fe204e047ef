// A conventional PCI-to-PCI bridge (type 1 header), IDs of QEMU's pci-bridge (1b36:0001).
// Bus routing through its windows arrives with the topology work; today it is a config space.
import type { FunctionDescriptor } from '../config/index.js';

/** Options of the 'pci-bridge' model. */
export interface PciBridgeOptions {
  /** Decode 32-bit I/O addresses (default false: 16-bit, as QEMU's bridge). */
  io32?: boolean;
}

/** The descriptor of a PCI-to-PCI bridge with PM and MSI, INTA, 16/32-bit I/O and a 64-bit prefetchable window. */
export function pciBridge(options: PciBridgeOptions = {}): FunctionDescriptor {
  return {
    vendorId: 0x1b36,
    deviceId: 0x0001,
    classCode: 0x060400,
    headerType: 1,
    interruptPin: 1,
    statusBits: 0x0020 | 0x0080,
    bridgeIo32: options.io32 ?? false,
    bridgePrefetch64: true,
    capabilities: [{ id: 'pm' }, { id: 'msi', vectors: 1, address64: true, perVectorMask: true }],
  };
}
