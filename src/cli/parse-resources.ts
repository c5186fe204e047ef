// Parsing of the enumerate command's resource options: sizes with K/M/G/T suffixes ("2M",
// "0x200000", "4096") and windows as BASE:SIZE. Errors name the option and the text.
import { ArgumentError } from '../errors.js';
import type { Reserves, Window } from '../firmware/index.js';

const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** "4096", "0x1000", "4K", "2M", "1G", "1T" as a bigint; undefined when malformed. */
export function parseSize(text: string): bigint | undefined {
  const m = /^(0x[0-9a-f]+|[0-9]+)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  return BigInt(m[1]) * UNITS[m[2].toUpperCase()];
}

/** "BASE:SIZE" → a window; the option name goes into the error. */
export function parseWindow(option: string, text: string): Window {
  const [base, size, extra] = text.split(':');
  const b = base === undefined ? undefined : parseSize(base);
  const s = size === undefined ? undefined : parseSize(size);
  if (extra !== undefined || b === undefined || s === undefined || s === 0n) {
    throw new ArgumentError(`${option}: "${text}" is not BASE:SIZE (for example 0xc0000000:1G)`);
  }
  return { base: b, size: s };
}

/** "io=4K,mem=2M,prefetch=8M" → reserves. */
export function parseReserves(option: string, text: string): Reserves {
  const out: Reserves = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    const size = value === undefined ? undefined : parseSize(value);
    if ((key !== 'io' && key !== 'mem' && key !== 'prefetch') || size === undefined) {
      throw new ArgumentError(`${option}: "${part}" is not io=SIZE, mem=SIZE or prefetch=SIZE`);
    }
    out[key] = size;
  }
  return out;
}
