// The config space of a virtio-blk function (1af4:1042) as Linux read it from sysfs in a real
// Firecracker microVM (shared reference data, firecracker/0000:00:02.0.config), and its BAR size
// from the same VM's sysfs `resource` file: one 512 KiB 64-bit memory BAR, MSI-X, and the virtio
// vendor-specific capabilities. A cloned device: the bytes are the dump's, the masks vpci's.
import type { TemplateSource } from '../../config/index.js';
import { hexToBytes } from '../../util/hex.js';

const CONFIG_HEX = [
  'f41a421006041000010080010000000004000800400000000000000000000000',
  '000000000000000000000000f41a421000000000400000000000000000000000',
  '0950100100000000000000003800000009601003000000000020000001000000',
  '0970100400000000004000000010000009841402000000000060000000100000',
  '0400000009981405000000000000000000000000000000001100018000800000',
  '0080040000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000000',
].join('');

/** The template of Firecracker's virtio-blk function. */
export function firecrackerVirtioBlk(): TemplateSource {
  return { config: hexToBytes(CONFIG_HEX), barSizes: [{ index: 0, size: 0x80000 }] };
}
