// Vendor-specific capability (ID 09). virtio-pci devices use it to locate their structures
// (Virtual I/O Device 1.2 §4.1.4), so those are decoded; others only show their length.
import { type CapContext, type DecodedCap, TRUNCATED } from './cap-context.js';
import { hex } from './hex.js';

const VIRTIO_VENDOR = 0x1af4;
/** virtio device IDs: 0x1000-0x103f transitional, 0x1040-0x107f modern. */
const VIRTIO_FIRST = 0x1000;
const VIRTIO_LAST = 0x107f;
/** struct virtio_pci_cap is 16 bytes; the notify variant adds a 4-byte multiplier. */
const VIRTIO_CAP_LENGTH = 16;
const VIRTIO_NOTIFY = 2;

/** virtio_pci_cap cfg_type names (VIRTIO_PCI_CAP_*_CFG). */
const VIRTIO_CFG_TYPES: Readonly<Record<number, string>> = {
  1: 'CommonCfg',
  2: 'Notify',
  3: 'ISR',
  4: 'DeviceCfg',
  5: 'PCICfg',
  8: 'SharedMemory',
  9: 'VendorCfg',
};

/** True for functions in the virtio-pci vendor/device ID range. */
function isVirtio(ctx: CapContext): boolean {
  return ctx.vendor === VIRTIO_VENDOR && ctx.device >= VIRTIO_FIRST && ctx.device <= VIRTIO_LAST;
}

/**
 * `Vendor Specific Information: VirtIO: Notify` (with BAR/offset/size/multiplier) for virtio
 * structures, `Vendor Specific Information: Len=10 <?>` for anything else.
 */
export function decodeVendorSpecific(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const len = r.u8(off + 2);
  if (!isVirtio(ctx) || len < VIRTIO_CAP_LENGTH) {
    return { header: `Vendor Specific Information: Len=${hex(len, 2)} <?>`, details: [] };
  }
  const cfgType = r.u8(off + 3);
  const header = `Vendor Specific Information: VirtIO: ${VIRTIO_CFG_TYPES[cfgType] ?? '<unknown>'}`;
  if (!r.has(off, Math.min(len, cfgType === VIRTIO_NOTIFY ? 20 : 16))) return { header, details: [TRUNCATED] };
  let line = `BAR=${r.u8(off + 4)} offset=${hex(r.u32(off + 8), 8)} size=${hex(r.u32(off + 12), 8)}`;
  if (cfgType === VIRTIO_NOTIFY && len >= 20) line += ` multiplier=${hex(r.u32(off + 16), 8)}`;
  return { header, details: [line] };
}
