// Where a virtio-pci device keeps its registers, as config space tells the driver: the IDs, two
// BARs, and the virtio vendor capabilities that point into BAR 4. Drivers discover all of it
// from the capability list; nothing here is something a driver may assume.
//
//   config space                      BAR 4 (mem64, 16 KiB)            BAR 1 (mem32, 4 KiB)
//   0x40 virtio cap: common  ──────►  0x0000 common config (0x38 B)    0x000 MSI-X table
//   0x50 virtio cap: notify  ──────►  0x3000 notify, 4 B per queue     0x800 MSI-X PBA
//   0x64 virtio cap: ISR     ──────►  0x1000 ISR status (1 B)
//   0x74 virtio cap: device  ──────►  0x2000 device config (blk only)
//   ..   MSI-X (queues + 1 vectors)
import type { BarDescriptor, CapabilityDescriptor, FunctionDescriptor } from '../../config/index.js';

/** virtio 1.2 §4.1.2: the PCI vendor of every virtio device; device ID = 0x1040 + device type. */
export const VIRTIO_VENDOR_ID = 0x1af4;
/** A modern virtio device's PCI device ID is this plus its device type. */
export const VIRTIO_DEVICE_ID_BASE = 0x1040;

/** virtio 1.2 §5: device types. */
export const VirtioType = { BLOCK: 2, ENTROPY: 4 } as const;

/** virtio 1.2 §4.1.4: cfg_type of the vendor capabilities. */
export const CfgType = { COMMON: 1, NOTIFY: 2, ISR: 3, DEVICE: 4, PCI: 5 } as const;

/** The BARs and offsets of this implementation (drivers read them from the capabilities). */
export const Layout = {
  MSIX_BAR: 1,
  MSIX_BAR_SIZE: 0x1000,
  MSIX_TABLE: 0x000,
  MSIX_PBA: 0x800,
  REGS_BAR: 4,
  REGS_BAR_SIZE: 0x4000,
  /** Each structure gets a 4 KiB page of BAR 4 (its handler serves the whole page). */
  PAGE: 0x1000,
  COMMON: 0x0000,
  /** virtio 1.2 §4.1.4.3: the common configuration up to queue_device (no 1.2 queue_reset fields). */
  COMMON_LENGTH: 0x38,
  ISR: 0x1000,
  ISR_LENGTH: 4,
  DEVICE: 0x2000,
  NOTIFY: 0x3000,
  /** queue_notify_off = queue index, so queue q's doorbell is at NOTIFY + 4 q. */
  NOTIFY_MULTIPLIER: 4,
} as const;

/** PCI Code and ID Assignment: capability ID of vendor-specific capabilities (cap_vndr). */
const CAP_VENDOR_LENGTH = 16;
const CAP_NOTIFY_LENGTH = 20;
const CAP_MSIX_LENGTH = 12;
const FIRST_CAP = 0x40;

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/**
 * The bytes of a virtio_pci_cap after cap_vndr, cap_next and cap_len (virtio 1.2 §4.1.4): the
 * descriptor's `vendor` capability writes cap_len itself and puts `data` from byte 3, so
 * data[0] is cfg_type (+3), then bar (+4), id (+5), two bytes of padding (+6), offset (+8),
 * length (+12), and for the notify capability notify_off_multiplier (+16).
 */
export function virtioCapData(o: { cfgType: number; bar: number; offset: number; length: number; notifyOffMultiplier?: number; id?: number }): number[] {
  const data = [o.cfgType, o.bar, o.id ?? 0, 0, 0, ...le32(o.offset), ...le32(o.length)];
  if (o.notifyOffMultiplier !== undefined) data.push(...le32(o.notifyOffMultiplier));
  return data;
}

/** What `virtioPciLayout` lays out: the device type, class code, queue count and device-config size. */
export interface VirtioPciLayoutOptions {
  /** virtio device type (2 block, 4 entropy). */
  type: number;
  classCode: number;
  numQueues: number;
  /** Bytes of device-specific configuration; 0 = the device has none (no device capability). */
  deviceConfigLength: number;
}

/** A virtio-pci function's config space, and where its MSI-X capability is. */
export interface VirtioPciLayout {
  descriptor: FunctionDescriptor;
  /** Config-space offset of the MSI-X capability (the transport reads its Enable bit). */
  msixCap: number;
  /** MSI-X table entries: one per queue plus one for configuration changes. */
  msixVectors: number;
}

/** The config-space description of a virtio-pci (modern, non-transitional) function. */
export function virtioPciLayout(o: VirtioPciLayoutOptions): VirtioPciLayout {
  const caps: CapabilityDescriptor[] = [];
  let at = FIRST_CAP;
  const place = (cap: CapabilityDescriptor, length: number): void => {
    caps.push({ ...cap, offset: at });
    at = (at + length + 3) & ~3;
  };
  const vendor = (data: number[]): void => place({ id: 'vendor', data }, 3 + data.length);
  vendor(virtioCapData({ cfgType: CfgType.COMMON, bar: Layout.REGS_BAR, offset: Layout.COMMON, length: Layout.COMMON_LENGTH }));
  vendor(virtioCapData({
    cfgType: CfgType.NOTIFY, bar: Layout.REGS_BAR, offset: Layout.NOTIFY,
    length: o.numQueues * Layout.NOTIFY_MULTIPLIER, notifyOffMultiplier: Layout.NOTIFY_MULTIPLIER,
  }));
  vendor(virtioCapData({ cfgType: CfgType.ISR, bar: Layout.REGS_BAR, offset: Layout.ISR, length: Layout.ISR_LENGTH }));
  if (o.deviceConfigLength > 0) {
    vendor(virtioCapData({ cfgType: CfgType.DEVICE, bar: Layout.REGS_BAR, offset: Layout.DEVICE, length: o.deviceConfigLength }));
  }
  const msixCap = at;
  const msixVectors = o.numQueues + 1;
  place({
    id: 'msix', tableSize: msixVectors, tableBar: Layout.MSIX_BAR, tableOffset: Layout.MSIX_TABLE,
    pbaBar: Layout.MSIX_BAR, pbaOffset: Layout.MSIX_PBA,
  }, CAP_MSIX_LENGTH);
  const bars: BarDescriptor[] = [
    { index: Layout.MSIX_BAR, kind: 'mem32', size: Layout.MSIX_BAR_SIZE },
    { index: Layout.REGS_BAR, kind: 'mem64', size: Layout.REGS_BAR_SIZE },
  ];
  return {
    descriptor: {
      vendorId: VIRTIO_VENDOR_ID,
      deviceId: VIRTIO_DEVICE_ID_BASE + o.type,
      // virtio 1.2 §4.1.2.1: non-transitional devices have revision 1 and a subsystem ID >= 0x40.
      revision: 1,
      subsystemVendorId: VIRTIO_VENDOR_ID,
      subsystemId: 0x40 + o.type,
      classCode: o.classCode,
      interruptPin: 1,
      bars,
      capabilities: caps,
    },
    msixCap,
    msixVectors,
  };
}

/** Lengths of the two kinds of virtio capability (for tests and drivers' sanity checks). */
export const VIRTIO_CAP_LENGTH = CAP_VENDOR_LENGTH;
/** Length of the notify capability: the 16 bytes of every virtio capability plus notify_off_multiplier. */
export const VIRTIO_NOTIFY_CAP_LENGTH = CAP_NOTIFY_LENGTH;
