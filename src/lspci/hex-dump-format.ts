// `lspci -x` / `-xxx` / `-xxxx` output.
import { needsDomain, slotName, sortFunctions } from './bdf.js';
import { hex } from './hex.js';
import { HeaderType, headerType } from './registers.js';
import { titleText } from './title.js';
import type { FunctionDump } from './types.js';

/** How much config space to print; the number of `x` flags given to lspci. */
export type HexDumpLevel = 1 | 2 | 3 | 4;


/**
 * Bytes lspci prints for one function. `-x` and `-xx` both show the standard header: 64 bytes,
 * or 128 for a CardBus bridge whose header is longer (when those bytes were captured). `-xxx`
 * adds the rest of the 256-byte space and `-xxxx` the extended space, each only when the
 * function actually has it; otherwise lspci silently prints what it could read.
 */
function dumpLength(config: Uint8Array, level: HexDumpLevel): number {
  const have = config.length;
  if (level >= 3 && have >= 256) return level === 4 && have >= 4096 ? 4096 : 256;
  const cardbus = headerType(config) === HeaderType.cardbus;
  return cardbus && have >= 128 ? 128 : Math.min(64, have);
}

/** Rows of 16 bytes: `30: 00 00 ...`. */
function hexRows(config: Uint8Array, length: number): string {
  let out = '';
  for (let row = 0; row < length; row += 16) {
    out += `${hex(row, 2)}:`;
    for (let i = row; i < row + 16 && i < length; i++) out += ` ${hex(config[i] ?? 0, 2)}`;
    out += '\n';
  }
  return out;
}

/**
 * Format functions exactly as `lspci -x` (level 1), `-xx` (level 2, identical to level 1 in
 * lspci 3.9), `-xxx` (level 3) or `-xxxx` (level 4) prints them, with the titles lspci shows
 * when it knows the class names but not the vendor. Functions are listed in lspci's order
 * (domain, bus, device, function) and every slot name carries the domain when any function
 * has a non-zero segment. The result is accepted by `lspci -F`.
 */
export function formatHexDump(fns: FunctionDump[], options: { level: HexDumpLevel }): string {
  const withDomain = needsDomain(fns);
  let out = '';
  for (const fn of sortFunctions(fns)) {
    out += `${slotName(fn, withDomain)} ${titleText(fn.config)}\n`;
    out += hexRows(fn.config, dumpLength(fn.config, options.level));
    out += '\n';
  }
  return out;
}

/** The plain `lspci` listing (no options): one title line per function, in lspci's order. */
export function formatListing(fns: FunctionDump[]): string {
  const withDomain = needsDomain(fns);
  return sortFunctions(fns).map((fn) => `${slotName(fn, withDomain)} ${titleText(fn.config)}\n`).join('');
}
