// A host bridge (class 06/00) at 00:00.0, the function firmware expects at the root of bus 0.
// Its IDs are those of QEMU's generic PCIe host bridge (1b36:0008), which guests already know
// to leave alone: it has no BARs and no driver.
import type { FunctionDescriptor } from '../config/index.js';

/** Options of the 'host-bridge' model: its IDs (default 1b36:0008). */
export interface HostBridgeOptions {
  vendorId?: number;
  deviceId?: number;
}

/** The descriptor of a host bridge function. */
export function hostBridge(options: HostBridgeOptions = {}): FunctionDescriptor {
  return {
    vendorId: options.vendorId ?? 0x1b36,
    deviceId: options.deviceId ?? 0x0008,
    classCode: 0x060000,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
  };
}
