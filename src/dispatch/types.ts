// The dispatcher's types as the Bus API shows them.

/** A TypeScript device model: one call per access. Offsets are from the start of the BAR (BAR
 * handlers) or of the region (embedder regions); 8-byte values are bigints. */
export interface DeviceModelHandler {
  read(offset: number, size: number): number | bigint;
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

export type RegionHandler = RegfileHandler | DoorbellHandler | DeviceModelHandler;

export type Space = 'mmio' | 'io';

export interface RegionOptions {
  space: Space;
  base: number | bigint;
  size: number | bigint;
  /** 0..255; default 100 (above BARs, below the config mechanisms at 250). */
  priority?: number;
  handler: RegionHandler;
  name?: string;
}

export type RegionKindName = 'ecam' | 'cf8' | 'cfc' | 'bar' | 'regfile' | 'doorbell' | 'model' | 'msix-table' | 'msix-pba';

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

export interface DoorbellEvent {
  region: number;
  offset: number;
  size: number;
  value: bigint;
}

export interface ReplayResult {
  count: number;
  /** One per record: the value read (writes: 0). */
  results: BigUint64Array;
  /** One per record: 0 ok, 1 master abort, 2 invalid, 3 model error. */
  status: Uint8Array;
  /** Indices of reads whose expected value differed. */
  mismatches: number[];
}

export interface AccessErrorInfo {
  region: number;
  offset: number;
  size: number;
  write: boolean;
}
