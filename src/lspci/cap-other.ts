// Standard capabilities that get a one-line description: slot numbering, hot-plug, bridge
// subsystem IDs, debug port, AGP, PCI-X, HyperTransport, SATA, Enhanced Allocation, and the
// names of those we do not decode.
import { type CapContext, type DecodedCap, headerOnly } from './cap-context.js';
import { hex } from './hex.js';
import { HeaderType } from './registers.js';

/** Capabilities known by name only; `<?>` is lspci's mark for an undecoded body. */
export const NAMED_ONLY: Readonly<Record<number, string>> = {
  0x00: 'Null',
  0x03: 'Vital Product Data',
  0x06: 'CompactPCI hot-swap <?>',
  0x0b: 'CompactPCI central resource control <?>',
  0x0c: 'Hot-plug capable',
  0x0e: 'AGP3 <?>',
  0x0f: 'Secure device <?>',
  0x13: 'PCI Advanced Features',
};

/** HyperTransport capability types of command bits 15:11 (HyperTransport I/O Link 3.1 §7). */
const HT_TYPES: Readonly<Record<number, string>> = {
  0x08: 'Switch',
  0x10: 'Interrupt Discovery and Configuration',
  0x12: 'UnitID Clumping',
  0x13: 'Extended Configuration Space Access',
  0x14: 'Address Mapping',
  0x16: 'DirectRoute',
  0x17: 'VCSet',
  0x18: 'Retry Mode',
  0x19: 'X86 (reserved)',
};

/** `Slot ID: 2 slots, First+, chassis 05` (PCI-to-PCI Bridge Architecture 1.2 §13.4). */
export function decodeSlotId(ctx: CapContext, off: number): DecodedCap {
  const esr = ctx.r.u8(off + 2);
  return headerOnly(`Slot ID: ${esr & 0x1f} slots, First${esr & 0x20 ? '+' : '-'}, chassis ${hex(ctx.r.u8(off + 3), 2)}`);
}

/** Bridge subsystem vendor/device IDs, which type-1 headers lack a register for. */
export function decodeBridgeSubsystem(ctx: CapContext, off: number): DecodedCap {
  return headerOnly(`Subsystem: Device [${hex(ctx.r.u16(off + 4), 4)}:${hex(ctx.r.u16(off + 6), 4)}]`);
}

/** `Debug port: BAR=1 offset=0010` (EHCI 1.0 Appendix C). */
export function decodeDebugPort(ctx: CapContext, off: number): DecodedCap {
  const w = ctx.r.u16(off + 2);
  return headerOnly(`Debug port: BAR=${w >> 13} offset=${hex(w & 0x1fff, 4)}`);
}

/** `AGP version 3.0`. */
export function decodeAgp(ctx: CapContext, off: number): DecodedCap {
  const v = ctx.r.u8(off + 2);
  return headerOnly(`AGP version ${(v >> 4).toString(16)}.${(v & 0xf).toString(16)}`);
}

/** PCI-X comes in a bridge and a device flavour with different register layouts. */
export function decodePciX(ctx: CapContext): DecodedCap {
  return headerOnly(ctx.headerType === HeaderType.bridge ? 'PCI-X bridge device' : 'PCI-X non-bridge device');
}

/** `HyperTransport: <capability type>`. */
export function decodeHyperTransport(ctx: CapContext, off: number): DecodedCap {
  const cmd = ctx.r.u16(off + 2);
  const type = cmd >> 11;
  let name: string;
  if ((cmd & 0xe000) === 0) name = 'Slave or Primary Interface';
  else if ((cmd & 0xe000) === 0x2000) name = 'Host or Secondary Interface';
  else if (type === 0x11) name = `Revision ID: ${(cmd & 0xff) >> 5}.${String(cmd & 0x1f).padStart(2, '0')}`;
  else if (type === 0x15) name = `MSI Mapping Enable${cmd & 1 ? '+' : '-'} Fixed${cmd & 2 ? '+' : '-'}`;
  else name = HT_TYPES[type] ?? `#${hex(type, 2)}`;
  return headerOnly(`HyperTransport: ${name}`);
}

/** `SATA HBA v1.0`, at -vv with where the index/data register pair lives. */
export function decodeSata(ctx: CapContext, off: number): DecodedCap {
  const v = ctx.r.u8(off + 2);
  let header = `SATA HBA v${v >> 4}.${v & 0xf}`;
  if (ctx.verbose >= 2) {
    const loc = ctx.r.u32(off + 4);
    const bar = loc & 0xf;
    if (bar >= 4 && bar <= 9) header += ` BAR${bar - 4} Offset=${hex((loc >>> 4) & 0xfffff, 8)}`;
    else if (bar === 0xf) header += ' InCfgSpace';
    else header += ` BAR??${bar}`;
  }
  return headerOnly(header);
}

/** `Enhanced Allocation (EA): NumEntries=2`. */
export function decodeEnhancedAllocation(ctx: CapContext, off: number): DecodedCap {
  return headerOnly(`Enhanced Allocation (EA): NumEntries=${ctx.r.u8(off + 2) & 0x3f}`);
}

/** Fallback naming the ID and showing the capability's first data word. */
export function decodeUnknown(ctx: CapContext, off: number, id: number): DecodedCap {
  return headerOnly(`Capability ID 0x${id.toString(16)} [${hex(ctx.r.u16(off + 2), 4)}]`);
}
