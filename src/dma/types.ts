// The DMA service's types as the Bus API shows them.

/** How a DMA ended: done, or why nothing of it was performed. */
export type DmaResult = 'ok' | 'bus-master-off' | 'blocked' | 'unmapped' | 'permission' | 'outside-ram';

export type DomainKind = 'identity' | 'blocked' | 'translated';

export interface RamOptions {
  /** Guest-physical base, 4 KiB aligned. */
  base: number;
  /** Bytes, a multiple of 4 KiB. */
  size: number;
  /**
   * The backing bytes (e.g. an emulator's RAM), at least `size` long. Without it the core
   * allocates the RAM in its own memory (up to 1 GiB - 4 KiB per region), where copies are fastest.
   */
  buffer?: ArrayBuffer | SharedArrayBuffer | Uint8Array;
}

export interface MapOptions {
  iova: number;
  gpa: number;
  /** A multiple of 4 KiB; 2 MiB pages are used where IOVA and GPA are 2 MiB aligned. */
  size: number;
  /** Permissions (default both). */
  read?: boolean;
  write?: boolean;
}

/** One element of a scatter-gather list. */
export interface SgElement {
  iova: number;
  length: number;
}

export interface DmaFaultRecord {
  bdf: string;
  iova: number;
  length: number;
  /** 'read': the device read guest memory; 'write': it wrote. */
  direction: 'read' | 'write';
  reason: Exclude<DmaResult, 'ok'>;
}

export interface DmaStats {
  iotlbHits: number;
  iotlbMisses: number;
  faults: number;
  droppedFaults: number;
  transfers: number;
  bytes: number;
}
