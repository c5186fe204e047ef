// The Single Root I/O Virtualization extended capability (PCIe Base 6.0 §9.3.3; register names
// as Linux's include/uapi/linux/pci_regs.h spells them, PCI_SRIOV_*): a Physical Function's
// controls for its Virtual Functions. This file lays out the 0x40 bytes and their write masks;
// what the registers make happen (VFs appearing, VF BAR apertures decoding) is a device model's
// (src/devices/sriov/), which watches the bytes.
//
//   +0x00 header (ID 0x0010, version 1)          +0x1c Supported Page Sizes   RO
//   +0x04 SR-IOV Capabilities            RO      +0x20 System Page Size       RW (supported bits)
//   +0x08 SR-IOV Control (VFE, MSE, ARI) RW      +0x24 VF BAR0 .. +0x38 VF BAR5 (BAR-like masks)
//   +0x0a SR-IOV Status                  RO      +0x3c VF Migration State Array Offset RO 0
//   +0x0c InitialVFs  +0x0e TotalVFs     RO
//   +0x10 NumVFs (RW)  +0x12 Function Dependency Link (RO)
//   +0x14 First VF Offset  +0x16 VF Stride  +0x1a VF Device ID   RO
import { DescriptorError } from '../errors.js';
import { toBigInt } from './bars.js';
import type { ConfigPlanes } from './planes.js';

/** Bytes of the capability, header included (Linux: PCI_EXT_CAP_SRIOV_SIZEOF). */
export const SRIOV_LENGTH = 0x40;

/** Register offsets inside the capability (PCIe Base 6.0 §9.3.3.1-§9.3.3.15). */
export const SriovReg = {
  CAP: 0x04,
  CTRL: 0x08,
  STATUS: 0x0a,
  INITIAL_VF: 0x0c,
  TOTAL_VF: 0x0e,
  NUM_VF: 0x10,
  FUNC_LINK: 0x12,
  VF_OFFSET: 0x14,
  VF_STRIDE: 0x16,
  VF_DID: 0x1a,
  SUP_PGSIZE: 0x1c,
  SYS_PGSIZE: 0x20,
  /** VF BAR0; VF BARn is at BAR + 4n. */
  BAR: 0x24,
  VFM: 0x3c,
} as const;

/** SR-IOV Control bits (PCIe Base 6.0 §9.3.3.3). */
export const SriovCtrl = {
  /** VF Enable. */
  VFE: 0x0001,
  /** VF Migration Enable (only with VF Migration Capable; not offered here). */
  VFM: 0x0002,
  /** VF Migration Interrupt Enable (likewise). */
  INTR: 0x0004,
  /** VF Memory Space Enable: the VF BAR apertures decode. */
  MSE: 0x0008,
  /** ARI Capable Hierarchy. */
  ARI: 0x0010,
} as const;

/**
 * Page sizes every PF must support (PCIe Base 6.0 §9.3.3.12): bit n is 2^(n+12) bytes, so 4 KiB,
 * 8 KiB, 64 KiB, 256 KiB, 1 MiB and 4 MiB.
 */
export const SRIOV_REQUIRED_PAGE_SIZES = 0x553;

/** Smallest VF BAR: one 4 KiB system page (see `validateSriovCapability`). */
const MIN_VF_BAR = 0x1000n;

/** One VF BAR: the size each VF gets (VF k's copy is at VF BAR base + k × size). */
export interface SriovVfBarDescriptor {
  index: number;
  /** VF BARs decode memory only (PCIe Base 6.0 §9.3.3.14: no I/O space for VFs). */
  kind: 'mem32' | 'mem64';
  /** Bytes per VF: a power of two, at least 4 KiB. */
  size: number | bigint;
  prefetchable?: boolean;
}

/**
 * The SR-IOV extended capability of a Physical Function. InitialVFs equals TotalVFs: VF Migration
 * is not offered, and without it the two must be equal (§9.3.3.5; Linux's sriov_enable refuses a
 * PF where they differ). First VF Offset and VF Stride are fixed, whatever ARI Capable Hierarchy
 * and NumVFs say (the spec lets them change with both, §9.3.3.9-10; software re-reads them after
 * writing either, so constant values are a valid implementation).
 */
export interface SriovCapabilityDescriptor {
  id: 'sriov';
  offset?: number;
  /** TotalVFs (and InitialVFs): 1..0xffff. */
  totalVFs: number;
  /** VF Device ID, the Device ID software gives the VFs (theirs reads 0xFFFF). */
  vfDeviceId: number;
  /** Routing ID offset of VF 0 from the PF: 1..0xffff. Default 1. */
  firstVfOffset?: number;
  /** Routing ID step between VFs: 0..0xffff, non-zero with more than one VF. Default 1. */
  vfStride?: number;
  /** Function Dependency Link: the function number of the PF this one depends on (itself when independent). Default 0. */
  functionDependencyLink?: number;
  /** Supported Page Sizes: must include the required ones (0x553). Default 0x553. */
  supportedPageSizes?: number;
  vfBars?: SriovVfBarDescriptor[];
}

function checkInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DescriptorError(path, `${JSON.stringify(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}

function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/** Checks every field (DescriptorError naming it) before anything is written. */
export function validateSriovCapability(cap: SriovCapabilityDescriptor, path: string): void {
  const total = checkInt(cap.totalVFs, `${path}.totalVFs`, 1, 0xffff);
  checkInt(cap.vfDeviceId, `${path}.vfDeviceId`, 0, 0xffff);
  // Offset 0 would put VF 0 on the PF itself; Linux's sriov_init refuses it (and a zero stride
  // with more than one VF) with -EIO.
  checkInt(cap.firstVfOffset ?? 1, `${path}.firstVfOffset`, 1, 0xffff);
  const stride = checkInt(cap.vfStride ?? 1, `${path}.vfStride`, 0, 0xffff);
  if (stride === 0 && total > 1) throw new DescriptorError(`${path}.vfStride`, `0 would give all ${total} VFs one routing ID`);
  checkInt(cap.functionDependencyLink ?? 0, `${path}.functionDependencyLink`, 0, 0xff);
  const pages = checkInt(cap.supportedPageSizes ?? SRIOV_REQUIRED_PAGE_SIZES, `${path}.supportedPageSizes`, 1, 0xffffffff);
  if ((pages & SRIOV_REQUIRED_PAGE_SIZES) !== SRIOV_REQUIRED_PAGE_SIZES) {
    throw new DescriptorError(`${path}.supportedPageSizes`, `0x${pages.toString(16)} lacks page sizes every PF must support (0x${SRIOV_REQUIRED_PAGE_SIZES.toString(16)}: 4K, 8K, 64K, 256K, 1M, 4M)`);
  }
  const bars = cap.vfBars ?? [];
  if (!Array.isArray(bars)) throw new DescriptorError(`${path}.vfBars`, 'must be an array of { index, kind, size, prefetchable }');
  const used = new Map<number, number>();
  bars.forEach((bar, i) => {
    const p = `${path}.vfBars[${i}]`;
    if (bar === null || typeof bar !== 'object') throw new DescriptorError(p, 'must be { index, kind, size, prefetchable }');
    const index = checkInt(bar.index, `${p}.index`, 0, 5);
    if (bar.kind !== 'mem32' && bar.kind !== 'mem64') {
      throw new DescriptorError(`${p}.kind`, `"${String(bar.kind)}" is not mem32 or mem64 (VF BARs decode memory only)`);
    }
    if (bar.kind === 'mem64' && index === 5) throw new DescriptorError(`${p}.index`, 'a 64-bit VF BAR at index 5 needs VF BAR 6, which does not exist');
    if (bar.prefetchable !== undefined && typeof bar.prefetchable !== 'boolean') {
      throw new DescriptorError(`${p}.prefetchable`, 'must be true or false');
    }
    for (const n of bar.kind === 'mem64' ? [index, index + 1] : [index]) {
      const other = used.get(n);
      if (other !== undefined) throw new DescriptorError(`${p}.index`, `VF BAR ${n} is already used by vfBars[${other}]`);
      used.set(n, i);
    }
    const size = toBigInt(bar.size, `${p}.size`);
    // Each VF's share must be whole system pages so that VFs can be given to different guests
    // (§9.3.3.13); Linux's sriov_init refuses a VF BAR that is not a multiple of its page size.
    if (!isPowerOfTwo(size) || size < MIN_VF_BAR) throw new DescriptorError(`${p}.size`, `${size} is not a power of two of at least 4 KiB`);
    // The aperture software allocates is size × TotalVFs; it must fit the BAR's address space
    // (64-bit: the 2^52 bytes vpci decodes).
    const space = bar.kind === 'mem32' ? 1n << 32n : 1n << 52n;
    if (size * BigInt(total) > space) {
      throw new DescriptorError(`${p}.size`, `${size} × TotalVFs ${total} does not fit the ${bar.kind === 'mem32' ? '32-bit' : '2^52-byte'} memory space`);
    }
  });
}

/**
 * Writes the capability's registers and masks after its header (which the extended capability
 * list writes); the descriptor must have been validated.
 */
export function writeSriovCapability(planes: ConfigPlanes, at: number, cap: SriovCapabilityDescriptor): void {
  // SR-IOV Capabilities: no VF Migration, ARI Capable Hierarchy not preserved across power
  // states, no 10-bit tags, no migration interrupt message.
  planes.ro(at + SriovReg.CAP, 4, 0);
  // VF Enable, VF MSE and ARI Capable Hierarchy are RW (§9.3.3.3). The two migration bits stay
  // zero: they are RsvdP without VF Migration Capable. Bit 5 (VF 10-Bit Tag Requester Enable)
  // likewise without the matching capability bit.
  planes.field(at + SriovReg.CTRL, 2, 0, SriovCtrl.VFE | SriovCtrl.MSE | SriovCtrl.ARI);
  // SR-IOV Status holds only VF Migration Status (RW1C with migration): zero here.
  planes.ro(at + SriovReg.STATUS, 2, 0);
  planes.ro(at + SriovReg.INITIAL_VF, 2, cap.totalVFs);
  planes.ro(at + SriovReg.TOTAL_VF, 2, cap.totalVFs);
  // NumVFs is a 16-bit RW field (§9.3.3.7). That it must not exceed TotalVFs, and is not to be
  // written while VF Enable is set, is not something a mask can say: the PF's model puts the old
  // value back (src/devices/sriov/).
  planes.field(at + SriovReg.NUM_VF, 2, 0, 0xffff);
  planes.ro(at + SriovReg.FUNC_LINK, 1, cap.functionDependencyLink ?? 0);
  planes.ro(at + SriovReg.VF_OFFSET, 2, cap.firstVfOffset ?? 1);
  planes.ro(at + SriovReg.VF_STRIDE, 2, cap.vfStride ?? 1);
  planes.ro(at + SriovReg.VF_DID, 2, cap.vfDeviceId);
  const pages = cap.supportedPageSizes ?? SRIOV_REQUIRED_PAGE_SIZES;
  planes.ro(at + SriovReg.SUP_PGSIZE, 4, pages >>> 0);
  // System Page Size: 4 KiB after reset (§9.3.3.13); only supported sizes can be written (as
  // QEMU's pcie_sriov masks it). Writing zero or several bits is undefined by the spec and kept
  // as written. The VF BAR sizes do not grow with it: they are fixed per-VF sizes, as on QEMU's
  // SR-IOV devices and Intel's 82576, so a guest choosing a page size above a VF BAR's size gets
  // VFs that share pages.
  planes.field(at + SriovReg.SYS_PGSIZE, 4, 0x1, pages >>> 0);
  for (const bar of cap.vfBars ?? []) writeVfBar(planes, at + SriovReg.BAR + 4 * bar.index, bar);
  // VF Migration State Array Offset: no migration state array.
  planes.ro(at + SriovReg.VFM, 4, 0);
}

/**
 * A VF BAR is written like a memory BAR (PCI Local Bus 3.0 §6.2.5.1): the type bits are read-only
 * and the address bits above the per-VF size writable, so the all-ones probe reads back the size
 * of one VF's share (PCIe Base 6.0 §9.3.3.14).
 */
function writeVfBar(planes: ConfigPlanes, offset: number, bar: SriovVfBarDescriptor): void {
  const size = BigInt(bar.size);
  const flags = (bar.kind === 'mem64' ? 0x4 : 0) | (bar.prefetchable ? 0x8 : 0);
  planes.field(offset, 4, flags, Number(~(size - 1n) & 0xfffffff0n));
  if (bar.kind === 'mem64') planes.field(offset + 4, 4, 0, Number(~((size - 1n) >> 32n) & 0xffffffffn));
}
