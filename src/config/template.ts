// Config spaces cloned from real hardware: a dump's bytes are kept as they are (identity, class,
// capability bytes, BAR types and addresses), and the write masks come from the header type, the
// BAR sizes the caller gives (sysfs `resource` or explicit) and the capabilities vpci knows.
import { DescriptorError } from '../errors.js';
import { barMasksFromRegister, barCount, ROM_ADDRESS_MASK, ROM_ENABLE } from './bars.js';
import { applyCapabilityMasks, walkCapabilities, CapId } from './capabilities.js';
import { ExtCapId, walkExtendedCapabilities } from './extended-capabilities.js';
import { applyAerMasks } from './aer-capability.js';
import { applyBridgeHeaderMasks, applyCommonHeaderMasks } from './header.js';
import { ConfigPlanes } from './planes.js';
import { Reg, StatusBits } from './registers.js';

/** A BAR size from a dump's companion data; index 6 is the expansion ROM. */
export interface TemplateBarSize {
  index: number;
  size: number | bigint;
  /** Where the size came from, for errors (default `barSizes[i]`). */
  path?: string;
}

/** A config space cloned from real hardware: the dump and its BARs' sizes (`clonePlanes`). */
export interface TemplateSource {
  /** The dump: 256 or 4096 bytes (sysfs `config`, or `lspci -xxx` / `-xxxx` text parsed). */
  config: Uint8Array;
  /** Sizes of the implemented BARs (0-5) and of the ROM (6); absent BARs are unimplemented. */
  barSizes?: TemplateBarSize[];
}

function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

/** Throws DescriptorError with paths `config` and `barSizes[i]...` relative to the template. */
export function clonePlanes(t: TemplateSource): ConfigPlanes {
  const bytes = t.config;
  if (!(bytes instanceof Uint8Array) || (bytes.length !== 256 && bytes.length !== 4096)) {
    throw new DescriptorError('config', `a dump of ${bytes?.length} bytes; need 256 (lspci -xxx, conventional) or 4096 (lspci -xxxx, PCIe)`);
  }
  const vendor = bytes[0] | (bytes[1] << 8);
  if (vendor === 0xffff || vendor === 0) throw new DescriptorError('config', `vendor ID 0x${vendor.toString(16)} is not a present function`);
  const headerType = bytes[Reg.HEADER_TYPE] & 0x7f;
  if (headerType !== 0 && headerType !== 1) {
    throw new DescriptorError('config', `header type ${headerType} is not supported (0 endpoint, 1 bridge)`);
  }
  const hasCaps = ((bytes[Reg.STATUS] | (bytes[Reg.STATUS + 1] << 8)) & StatusBits.CAP_LIST) !== 0;
  const caps = hasCaps ? walkCapabilities(bytes) : [];
  // A function with a PCI Express capability has the 4 KiB space even when only 256 bytes were
  // dumped (the rest reads zero: no extended capabilities). A 4096-byte dump without one keeps
  // its 4 KiB too: Linux reads the extended space of host bridges, so such a dump is what the
  // real device answered.
  const express = caps.some((c) => c.id === CapId.PCIE);
  const planes = new ConfigPlanes(express || bytes.length === 4096 ? 4096 : 256);
  planes.config.set(bytes);

  const count = barCount(headerType);
  const seen = new Set<number>();
  const upperHalves = new Map<number, number>();
  (t.barSizes ?? []).forEach((b, i) => {
    const path = b.path ?? `barSizes[${i}]`;
    if (!Number.isInteger(b.index) || b.index < 0 || (b.index >= count && b.index !== 6)) {
      throw new DescriptorError(`${path}.index`, `${b.index} is not a BAR index (0..${count - 1}, 6 = ROM)`);
    }
    const lower = upperHalves.get(b.index);
    if (lower !== undefined) throw new DescriptorError(`${path}.index`, `BAR ${b.index} is the upper half of 64-bit BAR ${lower}`);
    if (seen.has(b.index)) throw new DescriptorError(`${path}.index`, `BAR ${b.index} is given twice`);
    seen.add(b.index);
    const size = typeof b.size === 'bigint' ? b.size : Number.isSafeInteger(b.size) ? BigInt(b.size) : -1n;
    if (!isPowerOfTwo(size)) throw new DescriptorError(`${path}.size`, `${String(b.size)} is not a power of two`);
    if (b.index === 6) {
      if (size < 2048n || size > 1n << 31n) throw new DescriptorError(`${path}.size`, `${size} is not a ROM size (2 KiB..2 GiB)`);
      const mask = Number(~(size - 1n) & BigInt(ROM_ADDRESS_MASK)) | ROM_ENABLE;
      planes.masks(headerType === 1 ? Reg.ROM_ADDRESS1 : Reg.ROM_ADDRESS, 4, mask);
      return;
    }
    const low = planes.get(Reg.BAR0 + 4 * b.index, 4);
    const isIo = (low & 1) === 1;
    const is64 = !isIo && (low & 0x6) === 0x4;
    const min = isIo ? 4n : 16n;
    const max = isIo ? 65536n : is64 ? 1n << 63n : 1n << 31n;
    if (size < min || size > max) {
      throw new DescriptorError(`${path}.size`, `${size} is outside ${min}..${max} for the ${isIo ? 'I/O' : is64 ? '64-bit memory' : '32-bit memory'} BAR the dump shows`);
    }
    if (is64 && b.index + 1 >= count) throw new DescriptorError(`${path}.index`, `the dump's 64-bit BAR ${b.index} has no upper half`);
    if (is64 && seen.has(b.index + 1)) throw new DescriptorError(`${path}.index`, `BAR ${b.index + 1} is the upper half of 64-bit BAR ${b.index}`);
    barMasksFromRegister(planes, b.index, size);
    if (is64) upperHalves.set(b.index + 1, b.index);
  });
  // A BAR whose register is non-zero is implemented; without a size it cannot be sized.
  for (let i = 0; i < count; i++) {
    if (seen.has(i) || upperHalves.has(i)) continue;
    if (planes.get(Reg.BAR0 + 4 * i, 4) !== 0) {
      throw new DescriptorError('barSizes', `BAR ${i} is implemented in the dump (0x${planes.get(Reg.BAR0 + 4 * i, 4).toString(16)}) but has no size`);
    }
  }

  applyCommonHeaderMasks(planes, express);
  if (headerType === 1) applyBridgeHeaderMasks(planes, express);
  for (const cap of caps) applyCapabilityMasks(planes, cap.offset);
  // Extended capabilities with registers vpci knows (AER) get the masks a built one has.
  if (express) for (const ext of walkExtendedCapabilities(planes.config)) if (ext.id === ExtCapId.AER) applyAerMasks(planes, ext.offset);
  return planes;
}
