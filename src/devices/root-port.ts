// A PCI Express root port (type 1 header with a PCIe capability of type Root Port), IDs of
// QEMU's pcie-root-port (1b36:000c); a 4 KiB config space with an extended capability list. Like
// QEMU's, its slot is hot-plug capable by default, with a native hot-plug controller
// (src/devices/hotplug/) that `bus.plug` / `bus.unplug` drive.
import type { FunctionDescriptor } from '../config/index.js';
import { DescriptorError } from '../errors.js';
import type { DeviceBehaviour } from './model-api.js';
import { hotplugSlotBehaviour } from './hotplug/index.js';

/** Options of the 'root-port' model. */
export interface RootPortOptions {
  /** Device Serial Number, shown in the extended capability list. Default: derived from nothing, 0. */
  serial?: number | bigint;
  /** Physical Slot Number in Slot Capabilities (0..8191, default 0; QEMU's `slot` property). */
  slot?: number;
  /**
   * A native hot-plug slot (default true, as QEMU's pcie-root-port): attention button, power
   * controller, both indicators, Hot-Plug Surprise and Capable, DLL Link Active reporting, and a
   * hot-plug controller. false: a slot without hot-plug features (Slot Capabilities only carries the
   * slot number).
   */
  hotplug?: boolean;
}

/** The descriptor of a PCIe root port with PCIe, MSI and PM capabilities and a DSN extended capability. */
export function rootPort(options: RootPortOptions = {}): FunctionDescriptor {
  if (options.hotplug !== undefined && typeof options.hotplug !== 'boolean') throw new DescriptorError('options.hotplug', 'must be true or false');
  if (options.slot !== undefined && (!Number.isInteger(options.slot) || options.slot < 0 || options.slot > 0x1fff)) {
    throw new DescriptorError('options.slot', `${String(options.slot)} is not a physical slot number 0..8191`);
  }
  return {
    vendorId: 0x1b36,
    deviceId: 0x000c,
    classCode: 0x060400,
    headerType: 1,
    interruptPin: 1,
    bridgeIo32: true,
    bridgePrefetch64: true,
    capabilities: [
      { id: 'pcie', portType: 'root-port', slot: { number: options.slot ?? 0, hotplug: options.hotplug ?? true } },
      { id: 'msi', vectors: 1, address64: true },
      { id: 'pm' },
    ],
    extendedCapabilities: [{ id: 'dsn', serial: options.serial ?? 0 }, { id: 'aer' }],
  };
}

/** The root port's behaviour: the slot's hot-plug controller when the slot is hot-plug capable. */
export function rootPortBehaviour(options: RootPortOptions = {}): DeviceBehaviour | undefined {
  return options.hotplug === false ? undefined : hotplugSlotBehaviour();
}
