// Base Address Registers: how a descriptor's BAR becomes register bytes and write masks.
// Sizing needs no special case: the writable bits are ~(size-1) above the flag bits, so the
// guest's all-ones probe reads back the size (PCI Local Bus 3.0 §6.2.5.1).
import { DescriptorError } from '../errors.js';
import type { ConfigPlanes } from './planes.js';
import { Reg } from './registers.js';

/** What a BAR decodes: I/O space, 32-bit memory, or 64-bit memory (taking two BAR registers). */
export type BarKind = 'io' | 'mem32' | 'mem64';

/** One BAR of a function. A 64-bit BAR takes its index and the next one. */
export interface BarDescriptor {
  index: number;
  kind: BarKind;
  /** Bytes; a power of two (io: 4..64 KiB, mem32: 16 B..2 GiB, mem64: 16 B..2^63). */
  size: number | bigint;
  /** Memory BARs only. */
  prefetchable?: boolean;
  /** Initial address (default 0, unassigned); must be aligned to the size. */
  address?: number | bigint;
}

/** The expansion ROM BAR: a power-of-two size of at least 2 KiB. */
export interface RomDescriptor {
  size: number | bigint;
  address?: number | bigint;
}

const BAR_IO = 0x1;
const BAR_MEM64 = 0x4;
const BAR_PREFETCH = 0x8;
const ROM_ENABLE = 0x1;
const ROM_ADDRESS_MASK = 0xfffff800;

const LIMITS: Record<BarKind, [bigint, bigint]> = {
  io: [4n, 65536n],
  mem32: [16n, 1n << 31n],
  mem64: [16n, 1n << 63n],
};

function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/** Converts a size or address given as number or bigint; throws DescriptorError for non-integers. */
export function toBigInt(value: number | bigint, path: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new DescriptorError(path, `${String(value)} is not an integer (use a bigint above 2^53)`);
  }
  return BigInt(value);
}

/** Number of BAR registers a header type has: 6 for endpoints, 2 for bridges. */
export function barCount(headerType: number): number {
  return headerType === 1 ? 2 : 6;
}

/** Checks a BAR descriptor and returns its size as a bigint. `path` names it in errors. */
export function validateBar(bar: BarDescriptor, headerType: number, path: string): bigint {
  const count = barCount(headerType);
  if (!Number.isInteger(bar.index) || bar.index < 0 || bar.index >= count) {
    throw new DescriptorError(`${path}.index`, `${bar.index} is not a BAR index (0..${count - 1})`);
  }
  if (!(bar.kind in LIMITS)) {
    throw new DescriptorError(`${path}.kind`, `"${String(bar.kind)}" is not one of io, mem32, mem64`);
  }
  if (bar.kind === 'mem64' && bar.index + 1 >= count) {
    throw new DescriptorError(`${path}.index`, `a 64-bit BAR at index ${bar.index} needs BAR ${bar.index + 1} too`);
  }
  if (bar.kind === 'io' && bar.prefetchable) {
    throw new DescriptorError(`${path}.prefetchable`, 'an I/O BAR cannot be prefetchable');
  }
  const size = toBigInt(bar.size, `${path}.size`);
  const [min, max] = LIMITS[bar.kind];
  if (!isPowerOfTwo(size)) throw new DescriptorError(`${path}.size`, `${size} is not a power of two`);
  if (size < min || size > max) {
    throw new DescriptorError(`${path}.size`, `${size} is outside ${min}..${max} for a ${bar.kind} BAR`);
  }
  const address = toBigInt(bar.address ?? 0, `${path}.address`);
  const limit = bar.kind === 'io' ? 1n << 32n : bar.kind === 'mem32' ? 1n << 32n : 1n << 64n;
  if (address < 0n || address % size !== 0n || address + size > limit) {
    throw new DescriptorError(`${path}.address`, `0x${address.toString(16)} is not a ${bar.kind} address aligned to the size`);
  }
  return size;
}

/** Writes a BAR's register(s) and masks; the descriptor must have been validated. */
export function writeBar(planes: ConfigPlanes, bar: BarDescriptor): void {
  const size = BigInt(bar.size);
  const address = BigInt(bar.address ?? 0);
  const offset = Reg.BAR0 + 4 * bar.index;
  if (bar.kind === 'io') {
    planes.field(offset, 4, Number(address) | BAR_IO, Number(~(size - 1n) & 0xfffffffcn));
    return;
  }
  const flags = (bar.kind === 'mem64' ? BAR_MEM64 : 0) | (bar.prefetchable ? BAR_PREFETCH : 0);
  const lowMask = Number(~(size - 1n) & 0xfffffff0n);
  planes.field(offset, 4, Number(address & 0xfffffff0n) | flags, lowMask);
  if (bar.kind === 'mem64') {
    planes.field(offset + 4, 4, Number(address >> 32n), Number(~((size - 1n) >> 32n) & 0xffffffffn));
  }
}

/** Checks a ROM descriptor and returns its size. */
export function validateRom(rom: RomDescriptor, path: string): bigint {
  const size = toBigInt(rom.size, `${path}.size`);
  if (!isPowerOfTwo(size) || size < 2048n || size > 1n << 31n) {
    throw new DescriptorError(`${path}.size`, `${size} is not a power of two between 2 KiB and 2 GiB`);
  }
  const address = toBigInt(rom.address ?? 0, `${path}.address`);
  if (address < 0n || address % size !== 0n || address + size > 1n << 32n) {
    throw new DescriptorError(`${path}.address`, `0x${address.toString(16)} is not a 32-bit address aligned to the size`);
  }
  return size;
}

/** Writes the expansion ROM BAR: address bits above the size and the enable bit are writable. */
export function writeRom(planes: ConfigPlanes, offset: number, rom: RomDescriptor): void {
  const size = BigInt(rom.size);
  const mask = Number(~(size - 1n) & BigInt(ROM_ADDRESS_MASK)) | ROM_ENABLE;
  planes.field(offset, 4, Number(BigInt(rom.address ?? 0)), mask);
}

/** The masks of a BAR whose bytes already exist (a cloned dump), from its type bits and size. */
export function barMasksFromRegister(planes: ConfigPlanes, index: number, size: bigint): number {
  const offset = Reg.BAR0 + 4 * index;
  const low = planes.get(offset, 4);
  if (low & BAR_IO) {
    planes.masks(offset, 4, Number(~(size - 1n) & 0xfffffffcn));
    return 1;
  }
  planes.masks(offset, 4, Number(~(size - 1n) & 0xfffffff0n));
  if ((low & 0x6) === BAR_MEM64) {
    planes.masks(offset + 4, 4, Number(~((size - 1n) >> 32n) & 0xffffffffn));
    return 2;
  }
  return 1;
}

export { ROM_ADDRESS_MASK, ROM_ENABLE };
