// TypeScript twin of assembly/dma/layout.ts: the same numbers, status codes and record layouts.
// The byte areas (transfer buffer, SG list, segments, drained faults) have the same layout in
// both cores, so one piece of TypeScript fills and reads either.

/** The shared status codes (src/core/backend.ts Status) plus BUSY. */
export const DmaStatus = {
  OK: 0,
  RANGE: -1,
  EXISTS: -2,
  FULL: -3,
  NOT_FOUND: -4,
  /** domainDestroy of a domain a slot is still attached to. */
  BUSY: -5,
} as const;

/** A faulted DMA returns FAULT_STATUS - reason. */
export const FAULT_STATUS = -16;

export const Reason = {
  BUS_MASTER: 1,
  BLOCKED: 2,
  UNMAPPED: 3,
  PERMISSION: 4,
  OUTSIDE_RAM: 5,
} as const;

export const DIR_READ = 0;
export const DIR_WRITE = 1;
export const PERM_READ = 1;
export const PERM_WRITE = 2;

export const DomainType = { IDENTITY: 0, BLOCKED: 1, TRANSLATED: 2 } as const;
export const MAX_DOMAINS = 256;

export const GPA_LIMIT = 2 ** 52;
export const IOVA_LIMIT = 2 ** 48;
export const PAGE_SIZE = 4096;
export const LARGE_SIZE = 2 * 1024 * 1024;

/** Page-table pages all translated domains may hold together (64 MiB). */
export const MAX_TABLES = 16384;

export const MAX_RAM = 64;
export const MAX_INTERNAL_RAM = 2 ** 30 - PAGE_SIZE;

export const BUFFER_SIZE = 1 << 20;
export const MAX_SG = 1024;
export const SG_BYTES = 16;
export const MAX_SEGMENTS = 4096;
export const SEGMENT_BYTES = 24;
export const SEGMENT_INTERNAL = 1;
export const FAULT_CAPACITY = 256;
export const FAULT_BYTES = 24;
export const IOTLB_ENTRIES = 1024;

export const Counter = {
  IOTLB_HITS: 0,
  IOTLB_MISSES: 1,
  FAULTS: 2,
  FAULTS_DROPPED: 3,
  TRANSFERS: 4,
  BYTES: 5,
} as const;
export const COUNTERS = 6;

/** An integer in [0, 2^64): what the Wasm boundary accepts as a u64; anything else is refused. */
export function isU64(v: number): boolean {
  return v >= 0 && v < 18446744073709551616 && Math.floor(v) === v;
}
