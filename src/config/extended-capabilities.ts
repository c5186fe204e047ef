// PCI Express extended capabilities (PCIe Base 6.0 §7.6): the list at 0x100 in the 4 KiB space.
// Built from descriptors; read-only unless vpci knows the capability's control registers.
import { DescriptorError } from '../errors.js';
import { toBigInt } from './bars.js';
import type { ConfigPlanes } from './planes.js';
import { EXTENDED_CAPABILITY_START } from './registers.js';
import { SRIOV_LENGTH, validateSriovCapability, writeSriovCapability } from './sriov-capability.js';
import type { SriovCapabilityDescriptor } from './sriov-capability.js';
import { AER_VERSION, aerLength, writeAerCapability } from './aer-capability.js';
import type { AerCapabilityDescriptor } from './aer-capability.js';

/** Extended capability IDs (PCI Code and ID Assignment 1.11 §3). */
export const ExtCapId = {
  AER: 0x0001,
  DSN: 0x0003,
  VENDOR: 0x000b,
  SRIOV: 0x0010,
} as const;

/**
 * An extended capability in the list at 0x100 (needs the 4 KiB space of a PCIe function): a Device
 * Serial Number or raw bytes. `offset` places it (dword aligned); by default they follow each other
 * from 0x100.
 */
export type ExtendedCapabilityDescriptor =
  /** Device Serial Number: a 64-bit IEEE EUI-64. */
  | { id: 'dsn'; offset?: number; serial: number | bigint }
  /** Any capability given as raw read-only bytes after its 4-byte header. */
  | { id: 'raw'; offset?: number; capId: number; version?: number; data: number[] }
  /** Single Root I/O Virtualization (src/config/sriov-capability.ts). */
  | SriovCapabilityDescriptor
  /** Advanced Error Reporting (src/config/aer-capability.ts). */
  | AerCapabilityDescriptor;

function lengthOf(cap: ExtendedCapabilityDescriptor, planes: ConfigPlanes): number {
  if (cap.id === 'sriov') return SRIOV_LENGTH;
  if (cap.id === 'aer') return aerLength(planes);
  return cap.id === 'dsn' ? 12 : 4 + cap.data.length;
}

/** Lays out and links the extended capabilities; returns nothing (the list head is at 0x100). */
export function writeExtendedCapabilities(planes: ConfigPlanes, caps: ExtendedCapabilityDescriptor[], path: string): void {
  let next = EXTENDED_CAPABILITY_START;
  const placed: { offset: number; length: number; header: number }[] = [];
  caps.forEach((cap, i) => {
    const p = `${path}[${i}]`;
    if (cap.id !== 'dsn' && cap.id !== 'raw' && cap.id !== 'sriov' && cap.id !== 'aer') {
      throw new DescriptorError(`${p}.id`, `"${(cap as { id: unknown }).id}" is not one of dsn, raw, sriov, aer`);
    }
    if (cap.id === 'sriov') validateSriovCapability(cap, p);
    if (cap.id === 'raw') {
      if (!Number.isInteger(cap.capId) || cap.capId < 1 || cap.capId > 0xffff) {
        throw new DescriptorError(`${p}.capId`, `${cap.capId} is not an extended capability ID (1..0xffff)`);
      }
      if (cap.version !== undefined && (!Number.isInteger(cap.version) || cap.version < 0 || cap.version > 15)) {
        throw new DescriptorError(`${p}.version`, `${cap.version} is not in 0..15`);
      }
      if (!Array.isArray(cap.data) || cap.data.length % 4 !== 0) {
        throw new DescriptorError(`${p}.data`, 'must be an array of bytes, a multiple of 4 long');
      }
      cap.data.forEach((b, j) => {
        if (!Number.isInteger(b) || b < 0 || b > 255) throw new DescriptorError(`${p}.data[${j}]`, `${b} is not a byte`);
      });
    }
    const length = lengthOf(cap, planes);
    const offset = cap.offset ?? next;
    if (!Number.isInteger(offset) || offset % 4 !== 0 || offset < EXTENDED_CAPABILITY_START || offset + length > 4096) {
      throw new DescriptorError(`${p}.offset`, `0x${offset.toString(16)} is not a dword-aligned offset with ${length} bytes free in 0x100..0xfff`);
    }
    const clash = placed.find((o) => offset < o.offset + o.length && o.offset < offset + length);
    if (clash) throw new DescriptorError(`${p}.offset`, `0x${offset.toString(16)} overlaps the extended capability at 0x${clash.offset.toString(16)}`);
    let header: number;
    if (cap.id === 'dsn') {
      const serial = toBigInt(cap.serial, `${p}.serial`);
      if (serial < 0n || serial >= 1n << 64n) throw new DescriptorError(`${p}.serial`, 'is not a 64-bit value');
      header = ExtCapId.DSN | (1 << 16);
      planes.ro(offset + 4, 4, Number(serial & 0xffffffffn));
      planes.ro(offset + 8, 4, Number(serial >> 32n));
    } else if (cap.id === 'sriov') {
      header = ExtCapId.SRIOV | (1 << 16);
      writeSriovCapability(planes, offset, cap);
    } else if (cap.id === 'aer') {
      header = ExtCapId.AER | (AER_VERSION << 16);
      writeAerCapability(planes, offset);
    } else {
      header = cap.capId | ((cap.version ?? 1) << 16);
      cap.data.forEach((b, j) => planes.ro(offset + 4 + j, 1, b));
    }
    placed.push({ offset, length, header });
    next = Math.max(next, offset + length);
  });
  if (placed.length > 0 && placed[0].offset !== EXTENDED_CAPABILITY_START) {
    throw new DescriptorError(`${path}[0].offset`, 'the first extended capability must be at 0x100, where the list starts');
  }
  placed.forEach((c, i) => {
    const nextOffset = i + 1 < placed.length ? placed[i + 1].offset : 0;
    planes.ro(c.offset, 4, (c.header | (nextOffset << 20)) >>> 0);
  });
}

/** The extended capability list as (offset, id, version) triples, walked defensively. */
export function walkExtendedCapabilities(config: Uint8Array): { offset: number; id: number; version: number }[] {
  const found: { offset: number; id: number; version: number }[] = [];
  if (config.length < 4096) return found;
  const seen = new Set<number>();
  let p = EXTENDED_CAPABILITY_START;
  while (p >= EXTENDED_CAPABILITY_START && p <= 0xffc && !seen.has(p)) {
    seen.add(p);
    const header = (config[p] | (config[p + 1] << 8) | (config[p + 2] << 16) | (config[p + 3] << 24)) >>> 0;
    if (header === 0 || header === 0xffffffff) break;
    found.push({ offset: p, id: header & 0xffff, version: (header >>> 16) & 0xf });
    p = (header >>> 20) & 0xffc;
  }
  return found;
}
