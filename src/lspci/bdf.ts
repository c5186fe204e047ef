// Function addresses as lspci spells them, and the order lspci lists functions in.
import { formatBdf } from '../topology/bdf.js';
import type { FunctionDump } from './types.js';

type Address = Pick<FunctionDump, 'seg' | 'bus' | 'dev' | 'fn'>;

/** `BB:DD.F`, or `SSSS:BB:DD.F` when `withDomain` (the topology's own spelling). */
export function slotName(fn: Address, withDomain: boolean): string {
  return formatBdf(fn, withDomain);
}

/** The `SSSS:BB:DD.F` key used for maps keyed by function (for example BAR sizes). */
export function functionKey(fn: Address): string {
  return slotName(fn, true);
}

/**
 * lspci prints a domain on every line as soon as one listed function lives outside domain 0,
 * so that the addresses stay unambiguous.
 */
export function needsDomain(fns: readonly Address[]): boolean {
  return fns.some((f) => f.seg !== 0);
}

/** Copy of `fns` in lspci's listing order: domain, bus, device, function. */
export function sortFunctions<T extends Address>(fns: readonly T[]): T[] {
  return [...fns].sort((a, b) => a.seg - b.seg || a.bus - b.bus || a.dev - b.dev || a.fn - b.fn);
}
