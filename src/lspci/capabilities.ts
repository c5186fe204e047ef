// Dispatch of standard capability IDs (PCI Code and Assignment 1.15 §2) to their decoders.
import { type CapContext, type DecodedCap, headerOnly } from './cap-context.js';
import { decodeExpress } from './cap-express.js';
import { decodeMsi, decodeMsix } from './cap-msi.js';
import {
  NAMED_ONLY,
  decodeAgp,
  decodeBridgeSubsystem,
  decodeDebugPort,
  decodeEnhancedAllocation,
  decodeHyperTransport,
  decodePciX,
  decodeSata,
  decodeSlotId,
  decodeUnknown,
} from './cap-other.js';
import { decodePowerManagement } from './cap-power.js';
import { decodeVendorSpecific } from './cap-vendor.js';

/** Standard capability IDs referred to outside the decoders. */
export const CapId = {
  powerManagement: 0x01,
  pciX: 0x07,
  express: 0x10,
} as const;

type Decoder = (ctx: CapContext, off: number) => DecodedCap;

const DECODERS: Readonly<Record<number, Decoder>> = {
  0x01: decodePowerManagement,
  0x02: decodeAgp,
  0x04: decodeSlotId,
  0x05: decodeMsi,
  0x07: decodePciX,
  0x08: decodeHyperTransport,
  0x09: decodeVendorSpecific,
  0x0a: decodeDebugPort,
  0x0d: decodeBridgeSubsystem,
  0x10: decodeExpress,
  0x11: decodeMsix,
  0x12: decodeSata,
  0x14: decodeEnhancedAllocation,
};

/** Decode the standard capability with ID `id` at `off`. */
export function decodeCapability(ctx: CapContext, off: number, id: number): DecodedCap {
  const decoder = DECODERS[id];
  if (decoder !== undefined) return decoder(ctx, off);
  const name = NAMED_ONLY[id];
  return name !== undefined ? headerOnly(name) : decodeUnknown(ctx, off, id);
}
