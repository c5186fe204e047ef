// What the allocator throws when a request does not fit. It names the resource (device and BAR,
// or a bridge's window), what it needed, and every window it tried with what was left there, so
// the reader can tell "too big for the aperture" from "fragmented" without re-running anything.
import { VpciError } from '../../errors.js';
import { hex } from '../../util/hex.js';

/** One window a request tried, and its free space (below `limit`) when it did. */
export interface WindowAttempt {
  /** `io`, `mem32` or `mem64`. */
  name: string;
  base: bigint;
  size: bigint;
  /** The request had to end at or below this address (a 16-bit IO window: 64 KiB). */
  limit?: bigint;
  /** The largest free run. */
  largestFree: bigint;
  /** The largest free run starting at a multiple of the request's alignment. */
  largestFreeAligned: bigint;
  /** Free bytes in all. */
  totalFree: bigint;
}

/**
 * What did not fit, as an AllocationError is built from it: the BAR or bridge window, its size and
 * alignment, and every window tried.
 */
export interface AllocationFailure {
  /** The function whose BAR, or the bridge whose window, did not fit. */
  bdf: string;
  /** The BAR index (6 = ROM) when a BAR did not fit. */
  bar?: number;
  /** The window kind when a bridge window did not fit. */
  bridgeWindow?: 'io' | 'mem' | 'prefetch';
  size: bigint;
  alignment: bigint;
  attempts: WindowAttempt[];
}

function describeAttempt(a: WindowAttempt, alignment: bigint): string {
  const limit = a.limit !== undefined ? ` below ${hex(a.limit)}` : '';
  return `${a.name} window ${hex(a.base)} size ${hex(a.size)}${limit}: largest free gap ${hex(a.largestFree)} ` +
    `(${hex(a.largestFreeAligned)} from a ${hex(alignment)}-aligned start), ${hex(a.totalFree)} free in all`;
}

/** A BAR or bridge window does not fit in the root windows. Nothing is assigned when this is thrown. */
export class AllocationError extends VpciError {
  override name = 'AllocationError';
  readonly bdf: string;
  readonly bar?: number;
  readonly bridgeWindow?: 'io' | 'mem' | 'prefetch';
  /** `BAR 2`, `ROM` or `bridge window mem of 00:1c.0`. */
  readonly resource: string;
  readonly size: bigint;
  readonly alignment: bigint;
  /** Every window tried, in order. */
  readonly attempts: WindowAttempt[];
  /** The last window tried (the last of `attempts`). */
  readonly window: WindowAttempt;

  constructor(failure: AllocationFailure) {
    const resource = failure.bridgeWindow !== undefined
      ? `bridge window ${failure.bridgeWindow} of ${failure.bdf}`
      : failure.bar === 6 ? 'ROM' : `BAR ${failure.bar}`;
    const who = failure.bridgeWindow !== undefined ? resource : `${failure.bdf} ${resource}`;
    super(`${who} (size ${hex(failure.size)}, alignment ${hex(failure.alignment)}) does not fit: ` +
      failure.attempts.map((a) => describeAttempt(a, failure.alignment)).join('; '));
    this.bdf = failure.bdf;
    this.bar = failure.bar;
    this.bridgeWindow = failure.bridgeWindow;
    this.resource = resource;
    this.size = failure.size;
    this.alignment = failure.alignment;
    this.attempts = failure.attempts;
    this.window = failure.attempts[failure.attempts.length - 1];
  }
}
