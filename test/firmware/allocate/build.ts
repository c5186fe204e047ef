// Small builders for hand-written allocation trees in tests.
import type { BarKind, BarRequest, BridgeRequest, FunctionRequest, RootWindows } from '../../../src/firmware/allocate/index.js';

export const KiB = 1024n;
export const MiB = 1024n * KiB;
export const GiB = 1024n * MiB;

export const io = (index: number, size: bigint): BarRequest => ({ index, kind: 'io', prefetchable: false, size });
export const mem32 = (index: number, size: bigint, prefetchable = false): BarRequest => ({ index, kind: 'mem32', prefetchable, size });
export const mem64 = (index: number, size: bigint, prefetchable = false): BarRequest => ({ index, kind: 'mem64', prefetchable, size });
export const rom = (size: bigint): BarRequest => ({ index: 6, kind: 'rom', prefetchable: false, size });
export const bar = (index: number, kind: BarKind, size: bigint, prefetchable = false): BarRequest => ({ index, kind, prefetchable, size });

export const fn = (bdf: string, ...bars: BarRequest[]): FunctionRequest => ({ bdf, bars });

export interface BridgeFlags {
  io32?: boolean;
  prefetch64?: boolean;
  hasPrefetchWindow?: boolean;
  hotplug?: boolean;
  bars?: BarRequest[];
}

/** A bridge; by default a PCIe root port: 32-bit IO, 64-bit prefetchable window, no hotplug. */
export function bridge(bdf: string, flags: BridgeFlags, children: (FunctionRequest | BridgeRequest)[]): BridgeRequest {
  return {
    bdf,
    bars: flags.bars ?? [],
    io32: flags.io32 ?? true,
    prefetch64: flags.prefetch64 ?? true,
    hasPrefetchWindow: flags.hasPrefetchWindow ?? true,
    ...(flags.hotplug !== undefined ? { hotplug: flags.hotplug } : {}),
    children,
  };
}

/** Root windows: IO 0x1000-0xffff, mem32 256 MiB at 0xc0000000, and mem64 1 GiB at 32 GiB unless `mem64: null`. */
export function windows(over: Partial<{ io: RootWindows['io']; mem32: RootWindows['mem32']; mem64: RootWindows['mem64'] | null }> = {}): RootWindows {
  const mem64 = over.mem64 === null ? undefined : over.mem64 ?? { base: 0x800000000n, size: GiB };
  return {
    io: over.io ?? { base: 0x1000n, size: 0xf000n },
    mem32: over.mem32 ?? { base: 0xc0000000n, size: 256n * MiB },
    ...(mem64 ? { mem64 } : {}),
  };
}

export const hex = (v: bigint) => `0x${v.toString(16)}`;
