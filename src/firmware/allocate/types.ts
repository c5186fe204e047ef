// The allocator's input (what firmware learned by sizing BARs through config cycles) and output
// (what firmware then programs). Every address and size is a bigint: 64-bit BARs and windows above
// 4 GiB do not fit in a double's 53 bits.

/** How a BAR decodes: IO space, 32- or 64-bit memory, or the expansion ROM (32-bit memory). */
export type BarKind = 'io' | 'mem32' | 'mem64' | 'rom';

/** One BAR as firmware sized it. */
export interface BarRequest {
  /** BAR number 0-5 (a 64-bit BAR also occupies index + 1); 6 = expansion ROM. */
  index: number;
  kind: BarKind;
  /** Memory BARs only; IO BARs and ROMs are never prefetchable. */
  prefetchable: boolean;
  /** A power of two, in bytes (the BAR's alignment too). */
  size: bigint;
}

/** A function and its BARs. `bdf` names it in the result and in errors (any unique text). */
export interface FunctionRequest {
  bdf: string;
  bars: BarRequest[];
}

/** A PCI-to-PCI bridge (header type 1): its own BARs (primary side) are in `bars`. */
export interface BridgeRequest extends FunctionRequest {
  /** Its IO window decodes 32-bit addresses (else 16-bit: it must stay below 64 KiB). */
  io32: boolean;
  /** Its prefetchable window has upper 32 bits (can sit above 4 GiB). */
  prefetch64: boolean;
  /** False for a bridge without a prefetchable window (prefetchable BARs then go to the mem window). */
  hasPrefetchWindow: boolean;
  /** A hotplug-capable port or bridge: its windows get at least the policy's reserves. */
  hotplug?: boolean;
  /** The functions on its secondary bus, in scan order. */
  children: (FunctionRequest | BridgeRequest)[];
}

/** A range of addresses: [base, base + size). */
export interface Window {
  base: bigint;
  size: bigint;
}

/** The host bridge's apertures. */
export interface RootWindows {
  /** Port IO. */
  io: Window;
  /** 32-bit memory: must end at or below 4 GiB. */
  mem32: Window;
  /** 64-bit memory above 4 GiB: 64-bit prefetchable BARs and windows go here first. */
  mem64?: Window;
}

/** Minimum window sizes, in bytes. */
export interface Reserves {
  io?: bigint;
  mem?: bigint;
  prefetch?: bigint;
}

/** `scan-order`: first-fit in scan order; `largest-first`: by alignment, largest first. */
export type PolicyName = 'scan-order' | 'largest-first';

/** How `allocate` places resources: the policy and the minimum windows of bridges. */
export interface AllocateOptions {
  policy: PolicyName;
  /** Minimum window sizes for hotplug bridges (default none). */
  hotplugReserve?: Reserves;
  /** Per-bridge minimums by bdf, field by field over `hotplugReserve`; apply to any bridge listed. */
  reserveFor?: Record<string, Reserves>;
}

/** Which aperture a BAR was placed in: a root window, or a window of the bridge it sits below. */
export type PlacedIn = 'io' | 'mem32' | 'mem64' | 'bridge-io' | 'bridge-mem' | 'bridge-prefetch';

/** A BAR as placed: index (6 = ROM), kind, address and size, and the window it was placed in. */
export interface AssignedBar {
  index: number;
  kind: BarKind;
  prefetchable: boolean;
  base: bigint;
  size: bigint;
  window: PlacedIn;
}

/** A bridge window; size 0n (and base 0n) = window closed. */
export interface AssignedWindow {
  kind: 'io' | 'mem' | 'prefetch';
  base: bigint;
  size: bigint;
}

/** What `allocate` decided: an address for every BAR and the three windows of every bridge. */
export interface Allocation {
  /** Every function including bridges, in scan order (a bridge before the functions below it). */
  functions: { bdf: string; bars: AssignedBar[] }[];
  /** Every bridge in scan order, with always three windows: io, mem, prefetch. */
  bridges: { bdf: string; windows: AssignedWindow[] }[];
}

/**
 * An address range already in use (a BAR firmware keeps where it is): nothing is placed over it.
 * `mem` applies to mem32 and mem64 alike; parts outside the root windows are ignored.
 */
export interface ReservedRange {
  space: 'io' | 'mem';
  base: bigint;
  size: bigint;
}

/** The tree handed to `allocate`: the root windows, the functions on the root bus, ranges in use. */
export interface AllocationRoot {
  windows: RootWindows;
  children: (FunctionRequest | BridgeRequest)[];
  reserved?: ReservedRange[];
}

/** True for a bridge (it has a `children` list). */
export function isBridge(r: FunctionRequest | BridgeRequest): r is BridgeRequest {
  return Array.isArray((r as Partial<BridgeRequest>).children);
}
