/**
 * The guest-side driver kit: a guest written in TypeScript that reaches the bus only through
 * config cycles, MMIO, the RAM it owns and the interrupts its sink receives. PCI helpers, a
 * virtio-pci modern driver, split virtqueues, and the entropy and block front-ends.
 *
 * @packageDocumentation
 */
export { GuestError } from './errors.js';
export { GuestRam } from './guest-ram.js';
export type { GuestRamOptions } from './guest-ram.js';
export { GuestInterrupts, MSI_ADDRESS, FIRST_VECTOR_DATA } from './interrupts.js';
export type { GuestIrqEvent, GuestInterruptsOptions } from './interrupts.js';
export { PciFunction, MsixTable, scanFunctions, findFunctions } from './pci.js';
export type { GuestBus, FoundFunction, Capability, BarPlace } from './pci.js';
export {
  VirtioPciDevice, VIRTIO_VENDOR, VIRTIO_MODERN_DEVICE_BASE, VirtioType, VirtioStatus, VirtioFeature, VirtioPciCapType,
  CommonCfg, COMMON_CFG_LENGTH, VIRTIO_MSI_NO_VECTOR, ISR_QUEUE, ISR_CONFIG, isVirtioModern,
} from './virtio-pci.js';
export type { VirtioRegion, VirtioRegions, VirtioPciOptions, QueueSetupOptions } from './virtio-pci.js';
export {
  SplitVirtqueue, ringBytes, needEvent, DESC_SIZE, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_INDIRECT,
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY,
} from './virtqueue.js';
export type { BufferSpec, UsedElement, RawDescriptor, SplitVirtqueueOptions } from './virtqueue.js';
export { VirtioRng } from './virtio-rng.js';
export type { VirtioRngOptions, RngResult } from './virtio-rng.js';
export { VirtioBlk, BlkFeature, BlkType, BlkStatus, BlkConfig, SECTOR, BLK_ID_BYTES } from './virtio-blk.js';
export type { VirtioBlkOptions, BlkRequestOptions, BlkRequest, BlkPending, BlkResult } from './virtio-blk.js';
