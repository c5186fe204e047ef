// A PCI Express root port (type 1 header with a PCIe capability of type Root Port), IDs of
// QEMU's pcie-root-port (1b36:000c); a 4 KiB config space with an extended capability list.
import type { FunctionDescriptor } from '../config/index.js';

/** Options of the 'root-port' model. */
export interface RootPortOptions {
  /** Device Serial Number, shown in the extended capability list. Default: derived from nothing, 0. */
  serial?: number | bigint;
}

/** The descriptor of a PCIe root port with PCIe, MSI and PM capabilities and a DSN extended capability. */
export function rootPort(options: RootPortOptions = {}): FunctionDescriptor {
  return {
    vendorId: 0x1b36,
    deviceId: 0x000c,
    classCode: 0x060400,
    headerType: 1,
    interruptPin: 1,
    bridgeIo32: true,
    bridgePrefetch64: true,
    capabilities: [
      { id: 'pcie', portType: 'root-port' },
      { id: 'msi', vectors: 1, address64: true },
      { id: 'pm' },
    ],
    extendedCapabilities: [{ id: 'dsn', serial: options.serial ?? 0 }],
  };
}
