// Firmware-like enumeration over config cycles: the seed's PciRoot API, bus numbering, BAR sizing,
// allocation policies and the resource map.
export { PciRoot, takesTwoEntries } from './pci-root.js';
export type { BarInfo, MemoryBarType, DeviceFunctionInfo } from './pci-root.js';
export type { ConfigAccess, DeviceFunction } from './config-access.js';
export { bdfText } from './config-access.js';
export { runFirmware, DEFAULT_WINDOWS, DEFAULT_HOTPLUG_RESERVE, POLICIES } from './enumerate.js';
export type { FirmwareOptions, FirmwareResult, SegmentRange } from './enumerate.js';
export { firmwareDefaults } from './bus-defaults.js';
export { formatResourceMap } from './resource-map.js';
export type { ResourceMap, MapBar, MapWindow } from './resource-map.js';
export { FirmwareError } from './errors.js';
export { piixRoute, swizzleToRoot, routeFromTable, interruptLine } from './interrupt-routing.js';
export type { IrqRoute, RoutingTable } from './interrupt-routing.js';
export type { ScanNode, ScanResult } from './scan.js';
// The allocator's own BarKind adds 'rom' to the descriptor's (src/config): exported as ResourceKind.
export { allocate, AllocationError, isBridge } from './allocate/index.js';
export type {
  BarKind as ResourceKind, BarRequest, FunctionRequest, BridgeRequest, Window, RootWindows, Reserves, PolicyName,
  AllocateOptions, AssignedBar, AssignedWindow, Allocation, AllocationRoot, PlacedIn, ReservedRange, WindowAttempt, AllocationFailure,
} from './allocate/index.js';
export { addressMapRows } from './address-map-rows.js';
export type { AddressMapRow } from './address-map-rows.js';
