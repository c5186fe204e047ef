// The DMA service's types as the Bus API shows them.

/** How a DMA ended: done, or why nothing of it was performed. */
export type DmaResult = 'ok' | 'bus-master-off' | 'blocked' | 'unmapped' | 'permission' | 'outside-ram';

/**
 * An IOMMU domain's kind: 'identity' (bus addresses are guest-physical), 'blocked' (no DMA),
 * 'translated' (through the domain's mappings).
 */
export type DomainKind = 'identity' | 'blocked' | 'translated';

/** Guest RAM for DMA (`bus.dma.addRam`). */
export interface RamOptions {
  /** Guest-physical base, 4 KiB aligned. */
  base: number;
  /** Bytes, a multiple of 4 KiB. */
  size: number;
  /**
   * The backing bytes (e.g. an emulator's RAM), at least `size` long. Without it the core
   * allocates the RAM in its own memory (up to 1 GiB - 4 KiB per region), where copies are fastest.
   * A function is asked for the bytes before every transfer: for RAM that lives in a
   * WebAssembly.Memory that may grow (growing detaches the old views), such as v86's.
   */
  buffer?: ArrayBuffer | SharedArrayBuffer | Uint8Array | (() => Uint8Array);
  /**
   * Told after a transfer wrote [offset, offset + length) of this region (offsets from `base`):
   * an emulator that compiles guest code invalidates what it compiled from those bytes.
   */
  onWrite?: (offset: number, length: number) => void;
  /**
   * Told after a transfer read [offset, offset + length) of this region, before the device sees
   * the bytes: a recorder keeps what the device read, so a replay can put it back.
   */
  onRead?: (offset: number, length: number) => void;
}

/** A mapping in a translated domain (`bus.dma.map`): `size` bytes from bus address `iova` to guest-physical `gpa`. */
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

/** A DMA refused (`bus.dma.faults`): which function, the bus address and length, the direction and why. */
export interface DmaFaultRecord {
  bdf: string;
  iova: number;
  length: number;
  /** 'read': the device read guest memory; 'write': it wrote. */
  direction: 'read' | 'write';
  reason: Exclude<DmaResult, 'ok'>;
}

/** DMA counters (`bus.dma.stats`): IOTLB hits and misses, faults (logged and dropped), transfers and bytes moved. */
export interface DmaStats {
  iotlbHits: number;
  iotlbMisses: number;
  faults: number;
  droppedFaults: number;
  transfers: number;
  bytes: number;
}
