export { hostBridge } from './host-bridge.js';
export type { HostBridgeOptions } from './host-bridge.js';
export { testEndpoint } from './test-endpoint.js';
export type { TestEndpointOptions } from './test-endpoint.js';
export { pciBridge } from './pci-bridge.js';
export type { PciBridgeOptions } from './pci-bridge.js';
export { rootPort, rootPortBehaviour } from './root-port.js';
export { HotplugSlot, hotplugSlotBehaviour } from './hotplug/index.js';
export type { HotplugHost } from './hotplug/index.js';
export type { RootPortOptions } from './root-port.js';
export { firecrackerVirtioBlk } from './templates/firecracker-virtio-blk.js';
export { deviceModels, createFromModel } from './registry.js';
export type { DeviceModel, FunctionSource } from './registry.js';
export type { DeviceContext, DeviceInstance, DeviceBehaviour, DeviceState } from './model-api.js';
export {
  testDeviceDescriptor, testDeviceBehaviour, TestDeviceReg, TestDeviceDmaCmd, TestDeviceDmaStatus, TestDeviceDmaError,
  TestDeviceIrqResult, TEST_DEVICE_ID, TEST_DEVICE_BUFFER_SIZE, TEST_DEVICE_MSIX_VECTORS,
} from './test-device.js';
export type { TestDevice } from './test-device.js';
export { i440fxHostBridge, I440fxReg } from './chipset/i440fx.js';
export { piix3IsaBridge, piix3Behaviour, piix3Pirq, pirqIrq, Piix3Reg, PIRQ_DISABLE } from './chipset/piix3.js';
export type { Piix3Instance } from './chipset/piix3.js';
export type { I440fxOptions } from './chipset/i440fx.js';
export { sriovEndpoint, sriovEndpointSource, sriovEndpointBehaviour, SriovPfReg, SRIOV_PF_ID, virtualFunctionPlanes, SriovVfReg } from './sriov/index.js';
export type { SriovEndpoint, SriovEndpointOptions, SriovVf, VfIdentity } from './sriov/index.js';
export type { SriovControl, VirtualFunctionHost } from './model-api.js';
