// PCI function addresses: "BB:DD.F" or "SSSS:BB:DD.F", hexadecimal as lspci prints them.
import { ArgumentError } from '../errors.js';

/** A function address as numbers: segment (0-65535), bus (0-255), device (0-31), function (0-7). */
export interface FunctionAddress {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
}

const BDF = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Parses a BDF; returns a reason string instead of throwing, for callers that name the place. */
export function parseBdfOrReason(text: unknown): FunctionAddress | string {
  if (typeof text !== 'string') return `${JSON.stringify(text)} is not a string like "00:1f.3" or "0000:00:1f.3"`;
  const m = BDF.exec(text);
  if (!m) return `"${text}" is not a BDF like "00:1f.3" or "0000:00:1f.3"`;
  const seg = m[1] === undefined ? 0 : parseInt(m[1], 16);
  const bus = parseInt(m[2], 16);
  const dev = parseInt(m[3], 16);
  const fn = parseInt(m[4], 10);
  if (dev > 0x1f) return `"${text}": device 0x${dev.toString(16)} is above 0x1f`;
  return { seg, bus, dev, fn };
}

/** Parses a BDF or throws ArgumentError. */
export function parseBdf(text: string): FunctionAddress {
  const r = parseBdfOrReason(text);
  if (typeof r === 'string') throw new ArgumentError(`bdf: ${r}`);
  return r;
}

/** Canonical "SSSS:BB:DD.F". */
export function formatBdf(a: FunctionAddress, withSegment = true): string {
  const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${withSegment ? `${h(a.seg, 4)}:` : ''}${h(a.bus, 2)}:${h(a.dev, 2)}.${a.fn}`;
}

/** A device and function on a bus whose number is not fixed (below a bridge): "DD.F". */
export interface DevFn {
  dev: number;
  fn: number;
}

const DEVFN = /^([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Parses "DD.F"; returns a reason string instead of throwing. */
export function parseDevFnOrReason(text: unknown): DevFn | string {
  if (typeof text !== 'string') return `${JSON.stringify(text)} is not a string like "00.0"`;
  const m = DEVFN.exec(text);
  if (!m) return `"${text}" is not a device and function like "00.0" or "1f.3"`;
  const dev = parseInt(m[1], 16);
  if (dev > 0x1f) return `"${text}": device 0x${dev.toString(16)} is above 0x1f`;
  return { dev, fn: parseInt(m[2], 10) };
}

/** Canonical "DD.F". */
export function formatDevFn(a: DevFn): string {
  return `${a.dev.toString(16).padStart(2, '0')}.${a.fn}`;
}

/**
 * The canonical spelling of a device path ("00:05.0/0.0" -> "0000:00:05.0/00.0"): a root-bus BDF
 * followed by one "/DD.F" per bridge crossed. Returns `{ reason }` when `text` is not one.
 */
export function canonicalPath(text: string): { path: string } | { reason: string } {
  const parts = text.split('/');
  const root = parseBdfOrReason(parts[0]);
  if (typeof root === 'string') return { reason: root };
  let path = formatBdf(root);
  for (const part of parts.slice(1)) {
    const below = parseDevFnOrReason(part);
    if (typeof below === 'string') return { reason: below };
    path += `/${formatDevFn(below)}`;
  }
  return { path };
}
