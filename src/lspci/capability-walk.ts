// Defensive traversal of the two capability lists. Dumps come from emulators under test and
// from damaged files, so every pointer is checked: into the header, past the captured bytes,
// back to an earlier entry.
import type { ConfigReader } from './config-reader.js';
import { hex } from './hex.js';
import { CardBus, HeaderType, Reg, Sts } from './registers.js';

/** One entry of a capability list. */
export interface CapEntry {
  offset: number;
  id: number;
  /** Capability version (extended capabilities only). */
  version?: number;
}

/** A walk's result: the entries found, and why it stopped early if it did. */
export interface CapWalk {
  caps: CapEntry[];
  /** Where and why the list was abandoned, e.g. `<chain looped>`. */
  problem?: { offset: number; text: string; version?: number };
}

/** First byte after the standard header: capabilities may not start below it. */
const FIRST_CAP = 0x40;
const FIRST_EXT_CAP = 0x100;

/**
 * Walk the standard capability list (only present when the Status register says so; the
 * pointer lives at 0x14 in a CardBus header, 0x34 otherwise). The two low pointer bits are
 * reserved and ignored, as the spec requires.
 */
export function walkCapabilities(r: ConfigReader, type: number): CapWalk {
  const caps: CapEntry[] = [];
  if ((r.u16(Reg.status) & Sts.capList) === 0) return { caps };
  const seen = new Set<number>();
  let ptr = r.u8(type === HeaderType.cardbus ? CardBus.capPointer : Reg.capPointer) & 0xfc;
  while (ptr !== 0) {
    if (ptr < FIRST_CAP) return { caps, problem: { offset: ptr, text: '<chain broken: pointer into the standard header>' } };
    if (!r.has(ptr, 2)) return { caps, problem: { offset: ptr, text: `<not in dump: only ${r.length} bytes captured>` } };
    if (seen.has(ptr)) return { caps, problem: { offset: ptr, text: '<chain looped>' } };
    seen.add(ptr);
    const id = r.u8(ptr);
    // All-ones is what a read of a missing register returns, not a capability.
    if (id === 0xff) return { caps, problem: { offset: ptr, text: '<chain broken>' } };
    caps.push({ offset: ptr, id });
    ptr = r.u8(ptr + 1) & 0xfc;
  }
  return { caps };
}

/**
 * Walk the PCIe extended capability list at 0x100. Only meaningful when the function has a
 * PCI Express (or PCI-X 2.0) capability and the dump holds the 4096-byte space; a zero or
 * all-ones header at 0x100 means there is no list.
 */
export function walkExtendedCapabilities(r: ConfigReader): CapWalk {
  const caps: CapEntry[] = [];
  const seen = new Set<number>();
  let ptr = FIRST_EXT_CAP;
  for (;;) {
    if (!r.has(ptr, 4)) return { caps, problem: { offset: ptr, text: `<not in dump: only ${r.length} bytes captured>` } };
    const header = r.u32(ptr);
    if (header === 0) return { caps };
    if (header === 0xffffffff) {
      return ptr === FIRST_EXT_CAP ? { caps } : { caps, problem: { offset: ptr, text: '<chain broken>' } };
    }
    const version = (header >>> 16) & 0xf;
    if (seen.has(ptr)) return { caps, problem: { offset: ptr, text: '<chain looped>', version } };
    seen.add(ptr);
    caps.push({ offset: ptr, id: header & 0xffff, version });
    const next = (header >>> 20) & 0xffc;
    if (next === 0) return { caps };
    if (next < FIRST_EXT_CAP) {
      return { caps, problem: { offset: ptr, text: `<chain broken: next pointer ${hex(next, 3)} below 0x100>` } };
    }
    ptr = next;
  }
}
