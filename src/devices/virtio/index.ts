/**
 * virtio over PCI: the transport (common configuration, ISR, notifications, split virtqueues)
 * and the device types built on it.
 *
 * @packageDocumentation
 */
export { virtioRng, SeededBytes } from './rng.js';
export type { VirtioRngOptions, VirtioRngInstance } from './rng.js';
export { virtioBlk, blkPattern, BlkFeature, BlkRequest, BlkStatus, SECTOR, SEG_MAX } from './blk.js';
export type { VirtioBlkOptions, VirtioBlkInstance } from './blk.js';
export { VirtioPciTransport } from './transport.js';
export type { VirtioDevice, ChainIo } from './transport.js';
export { CommonConfig, QueueConfig } from './common-config.js';
export type { CommonConfigOptions } from './common-config.js';
export { SplitQueue, MAX_INDIRECT } from './virtqueue.js';
export type { Chain, Segment, PopResult, DmaPort } from './virtqueue.js';
export {
  virtioPciLayout, virtioCapData, Layout, CfgType, VirtioType, VIRTIO_VENDOR_ID, VIRTIO_DEVICE_ID_BASE,
  VIRTIO_CAP_LENGTH, VIRTIO_NOTIFY_CAP_LENGTH,
} from './pci-layout.js';
export type { VirtioPciLayout, VirtioPciLayoutOptions } from './pci-layout.js';
export { Status as VirtioStatus, Feature as VirtioFeature, DescFlag, Isr, NO_VECTOR, AVAIL_F_NO_INTERRUPT } from './spec.js';
