// Builds a function's three planes from a declarative descriptor, validating every field first.
import { DescriptorError } from '../errors.js';
import { validateBar, writeBar, validateRom, writeRom } from './bars.js';
import { writeCapabilities } from './capabilities.js';
import type { FunctionDescriptor } from './descriptor.js';
import { writeExtendedCapabilities } from './extended-capabilities.js';
import { applyBridgeHeaderMasks, applyCommonHeaderMasks, writeIdentity } from './header.js';
import { ConfigPlanes } from './planes.js';
import { Reg } from './registers.js';
import type { DeviceRegister } from './descriptor.js';

/** Status bits a descriptor may declare: 66 MHz capable, fast back-to-back, DEVSEL timing. */
const DECLARABLE_STATUS = 0x0020 | 0x0080 | 0x0600;

function checkInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DescriptorError(path, `${JSON.stringify(value)} is not an integer in 0x${min.toString(16)}..0x${max.toString(16)}`);
  }
  return value;
}

/** Throws DescriptorError (path relative to the descriptor) for the first bad field. */
export function buildPlanes(d: FunctionDescriptor): ConfigPlanes {
  const headerType = d.headerType ?? 0;
  if (headerType !== 0 && headerType !== 1) throw new DescriptorError('headerType', `${headerType} is not 0 or 1`);
  const express = (d.capabilities ?? []).some((c) => c.id === 'pcie');
  if (d.extendedCapabilities?.length && !express) {
    throw new DescriptorError('extendedCapabilities', 'need a "pcie" capability (extended config space is PCI Express only)');
  }
  const planes = new ConfigPlanes(express ? 4096 : 256);

  const used = new Map<number, number>();
  (d.bars ?? []).forEach((bar, i) => {
    const path = `bars[${i}]`;
    validateBar(bar, headerType, path);
    const indexes = bar.kind === 'mem64' ? [bar.index, bar.index + 1] : [bar.index];
    for (const index of indexes) {
      const other = used.get(index);
      if (other !== undefined) throw new DescriptorError(`${path}.index`, `BAR ${index} is already used by bars[${other}]`);
      used.set(index, i);
    }
    writeBar(planes, bar);
  });
  if (d.rom) {
    validateRom(d.rom, 'rom');
    writeRom(planes, headerType === 1 ? Reg.ROM_ADDRESS1 : Reg.ROM_ADDRESS, d.rom);
  }
  const capabilityExtents: { offset: number; length: number }[] = [];
  const capabilityPointer = writeCapabilities(planes, d.capabilities ?? [], 'capabilities', capabilityExtents);
  writeExtendedCapabilities(planes, d.extendedCapabilities ?? [], 'extendedCapabilities');

  const statusBits = checkInt(d.statusBits ?? 0, 'statusBits', 0, 0xffff);
  if (statusBits & ~DECLARABLE_STATUS) {
    throw new DescriptorError('statusBits', `0x${statusBits.toString(16)} sets bits other than 66 MHz, fast back-to-back and DEVSEL timing`);
  }
  writeIdentity(planes, {
    vendorId: checkInt(d.vendorId, 'vendorId', 0, 0xfffe),
    deviceId: checkInt(d.deviceId, 'deviceId', 0, 0xffff),
    classCode: checkInt(d.classCode, 'classCode', 0, 0xffffff),
    revision: checkInt(d.revision ?? 0, 'revision', 0, 0xff),
    headerType,
    interruptPin: checkInt(d.interruptPin ?? 0, 'interruptPin', 0, 4),
    statusBits,
    capabilityPointer,
    subsystemVendorId: checkInt(d.subsystemVendorId ?? 0, 'subsystemVendorId', 0, 0xffff),
    subsystemId: checkInt(d.subsystemId ?? 0, 'subsystemId', 0, 0xffff),
  });
  writeDeviceRegisters(planes, d.registers ?? [], capabilityExtents);
  applyCommonHeaderMasks(planes, express);
  if (headerType === 1) {
    // The window registers' low nibbles say how wide the windows decode (read-only).
    const io32 = d.bridgeIo32 ?? false;
    const pref64 = d.bridgePrefetch64 ?? true;
    planes.ro(Reg.IO_BASE, 1, io32 ? 1 : 0).ro(Reg.IO_LIMIT, 1, io32 ? 1 : 0);
    planes.ro(Reg.PREF_MEMORY_BASE, 2, pref64 ? 1 : 0).ro(Reg.PREF_MEMORY_LIMIT, 2, pref64 ? 1 : 0);
    applyBridgeHeaderMasks(planes, express);
  }
  return planes;
}

/**
 * Writes device-specific registers: each inside 0x40-0xFF, naturally aligned, clear of the
 * capability structures (so a register cannot corrupt a capability chain) and of the others.
 */
function writeDeviceRegisters(
  planes: ConfigPlanes, registers: readonly DeviceRegister[], capabilities: readonly { offset: number; length: number }[],
): void {
  if (!Array.isArray(registers)) throw new DescriptorError('registers', 'must be an array of { offset, width, value, writable }');
  const taken = new Uint8Array(256);
  for (const c of capabilities) taken.fill(1, c.offset, c.offset + c.length);
  registers.forEach((r, i) => {
    const path = `registers[${i}]`;
    if (r === null || typeof r !== 'object') throw new DescriptorError(path, 'must be { offset, width, value, writable }');
    if (r.width !== 1 && r.width !== 2 && r.width !== 4) throw new DescriptorError(`${path}.width`, `${JSON.stringify(r.width)} is not 1, 2 or 4`);
    const offset = checkInt(r.offset, `${path}.offset`, 0x40, 0x100 - r.width);
    if (offset % r.width !== 0) throw new DescriptorError(`${path}.offset`, `0x${offset.toString(16)} is not aligned to its width ${r.width}`);
    const max = r.width === 4 ? 0xffffffff : (1 << (8 * r.width)) - 1;
    const value = checkInt(r.value ?? 0, `${path}.value`, 0, max);
    const writable = checkInt(r.writable ?? 0, `${path}.writable`, 0, max);
    for (let b = offset; b < offset + r.width; b++) {
      if (taken[b]) throw new DescriptorError(`${path}.offset`, `0x${offset.toString(16)}..0x${(offset + r.width - 1).toString(16)} overlaps a capability or another register`);
    }
    taken.fill(1, offset, offset + r.width);
    planes.field(offset, r.width, value, writable);
  });
}

