// The dispatcher's types as the Bus API shows them.

/** A TypeScript device model: one call per access. Offsets are from the start of the BAR (BAR
 * handlers) or of the region (embedder regions); 8-byte values are bigints. */
export interface DeviceModelHandler {
  /** Serves a read of `size` bytes (1, 2, 4 or 8) at `offset`. */
  read(offset: number, size: number): number | bigint;
  /** Serves a write of `size` bytes (1, 2, 4 or 8) at `offset`. */
  write(offset: number, size: number, value: number | bigint): void;
}

/** A Wasm-native register file: reads return its bytes, writes go through the write mask. */
export interface RegfileHandler {
  kind: 'regfile';
  /** 1..4096 bytes. */
  size: number;
  initial?: Uint8Array;
  /** Per-byte write mask (default: every bit writable). */
  writeMask?: Uint8Array;
}

/** A Wasm-native doorbell: writes count and queue an event; reads return the count. */
export interface DoorbellHandler {
  kind: 'doorbell';
}

/** What serves a region: a register file or doorbell inside the core, or a TypeScript device model. */
export type RegionHandler = RegfileHandler | DoorbellHandler | DeviceModelHandler;

/** The address space of a region: memory (MMIO) or port I/O. */
export type Space = 'mmio' | 'io';

/**
 * A region at a fixed address (`Bus.addRegion`): where it is, its priority among overlapping
 * regions, what serves it.
 */
export interface RegionOptions {
  space: Space;
  base: number | bigint;
  size: number | bigint;
  /** 0..255; default 100 (above BARs, below the config mechanisms at 250). */
  priority?: number;
  handler: RegionHandler;
  name?: string;
}

/**
 * What a region is: a config mechanism (ECAM window, the 0xCF8/0xCFC ports), a whole BAR, a handler
 * ('regfile', 'doorbell', 'model'), or an MSI-X table or PBA.
 */
export type RegionKindName = 'ecam' | 'cf8' | 'cfc' | 'bar' | 'regfile' | 'doorbell' | 'model' | 'msix-table' | 'msix-pba';

/** A region mapped now (`Bus.regions`): id, kind, address range, and the function and BAR it belongs to, if any. */
export interface MappedRegion {
  id: number;
  space: Space;
  kind: RegionKindName;
  name: string;
  base: bigint;
  size: bigint;
  bdf?: string;
  bar?: number;
}

/** Access counts of one region (`Bus.stats`), with where it is mapped. */
export interface RegionStats {
  id: number;
  name: string;
  space: Space;
  kind: RegionKindName;
  bdf?: string;
  bar?: number;
  /** null while not mapped. */
  base: bigint | null;
  size: bigint;
  reads: number;
  writes: number;
}

/**
 * The counters `Bus.stats` reports: per region, per device, master aborts, invalid accesses, model
 * errors and dropped events.
 */
export interface BusStats {
  regions: RegionStats[];
  devices: { bdf: string; reads: number; writes: number }[];
  aborts: { mmio: { reads: number; writes: number }; io: { reads: number; writes: number } };
  invalid: number;
  hostErrors: number;
  droppedEvents: number;
  droppedEffects: number;
  /** Interrupt events dropped because 4,096 were queued (no sink set and nobody polled). */
  droppedIrqs: number;
}

/** What a BAR decodes: I/O, 32-bit memory, 64-bit memory, or the expansion ROM. */
export type BarKindName = 'io' | 'mem32' | 'mem64' | 'rom';

/** A BAR mapping change; null = not mapped. */
export interface BarEffect {
  bdf: string;
  bar: number;
  kind: BarKindName;
  oldBase: bigint | null;
  newBase: bigint | null;
  size: bigint;
}

/** A write to a doorbell region (`Bus.events`): region id, offset in the region, size and value. */
export interface DoorbellEvent {
  region: number;
  offset: number;
  size: number;
  value: bigint;
}

/** What `Bus.replay` returns for a batch of access records. */
export interface ReplayResult {
  count: number;
  /** One per record: the value read (writes: 0). */
  results: BigUint64Array;
  /** One per record: 0 ok, 1 master abort, 2 invalid, 3 model error. */
  status: Uint8Array;
  /** Indices of reads whose expected value differed. */
  mismatches: number[];
}

/** The access during which a TypeScript device model threw (`BusOptions.onError`). */
export interface AccessErrorInfo {
  region: number;
  offset: number;
  size: number;
  write: boolean;
}
