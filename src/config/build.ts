// Builds a function's three planes from a declarative descriptor, validating every field first.
import { DescriptorError } from '../errors.js';
import { validateBar, writeBar, validateRom, writeRom } from './bars.js';
import { writeCapabilities } from './capabilities.js';
import type { FunctionDescriptor } from './descriptor.js';
import { writeExtendedCapabilities } from './extended-capabilities.js';
import { applyBridgeHeaderMasks, applyCommonHeaderMasks, writeIdentity } from './header.js';
import { ConfigPlanes } from './planes.js';
import { Reg } from './registers.js';

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
  const capabilityPointer = writeCapabilities(planes, d.capabilities ?? [], 'capabilities');
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
