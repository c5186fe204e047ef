// Firmware-like enumeration over config cycles: the seed's PciRoot API, bus numbering, BAR sizing,
// allocation policies and the resource map.
export { PciRoot, Command, takesTwoEntries } from './pci-root.js';
export type { BarInfo, MemoryBarType, DeviceFunctionInfo } from './pci-root.js';
export type { ConfigAccess, DeviceFunction } from './config-access.js';
export { bdfText } from './config-access.js';
export { runFirmware, DEFAULT_WINDOWS, POLICIES } from './enumerate.js';
export type { FirmwareOptions, FirmwareResult } from './enumerate.js';
export { formatResourceMap } from './resource-map.js';
export type { ResourceMap, MapBar, MapWindow } from './resource-map.js';
export { FirmwareError } from './errors.js';
export { piixRoute, swizzleToRoot } from './interrupt-routing.js';
export type { IrqRoute } from './interrupt-routing.js';
export type { ScanNode, ScanResult } from './scan.js';
export * from './allocate/index.js';
