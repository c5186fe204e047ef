// Executes the segments a DMA left for TypeScript: copies between external RAM (the embedder's
// ArrayBuffer or SharedArrayBuffer) and the transfer buffer. Shared by both cores: the Wasm core's
// segments and buffer are views of its memory, the twin's are its own arrays; the layout is the
// same (assembly/dma/layout.ts). The core has validated every segment against the region sizes
// it was given, so these copies cannot fail when each region's array is at least that long.
import { DIR_READ, SEGMENT_BYTES } from './layout.js';

/**
 * Runs `count` segment records from `segments` (the core's segment area) in direction `dir`
 * (0: RAM → buffer, 1: buffer → RAM). `buffer` is the transfer buffer view, `bufOffset` the
 * offset the request used, `ram[i]` the bytes of RAM region i.
 */
export function runSegments(
  segments: Uint8Array, count: number, dir: number, buffer: Uint8Array, bufOffset: number,
  ram: ArrayLike<Uint8Array | undefined>,
): void {
  const v = new DataView(segments.buffer, segments.byteOffset, count * SEGMENT_BYTES);
  for (let k = 0; k < count; k++) {
    const at = k * SEGMENT_BYTES;
    const offset = v.getFloat64(at, true);
    const bytes = ram[v.getUint32(at + 8, true)]!;
    const n = v.getUint32(at + 12, true);
    const dev = bufOffset + v.getUint32(at + 16, true);
    if (dir === DIR_READ) buffer.set(bytes.subarray(offset, offset + n), dev);
    else bytes.set(buffer.subarray(dev, dev + n), offset);
  }
}

/** One segment record, decoded (tests, device models that copy themselves). */
export interface Segment {
  region: number;
  offset: number;
  length: number;
  transferOffset: number;
  internal: boolean;
}

export function readSegments(segments: Uint8Array, count: number): Segment[] {
  const v = new DataView(segments.buffer, segments.byteOffset, count * SEGMENT_BYTES);
  const out: Segment[] = [];
  for (let k = 0; k < count; k++) {
    const at = k * SEGMENT_BYTES;
    out.push({
      offset: v.getFloat64(at, true), region: v.getUint32(at + 8, true), length: v.getUint32(at + 12, true),
      transferOffset: v.getUint32(at + 16, true), internal: (v.getUint32(at + 20, true) & 1) !== 0,
    });
  }
  return out;
}

/** One drained fault record. */
export interface DmaFault {
  slot: number;
  iova: number;
  length: number;
  /** 0 read (device reads guest memory), 1 write. */
  dir: number;
  reason: number;
}

export function readFaults(area: Uint8Array, count: number): DmaFault[] {
  const v = new DataView(area.buffer, area.byteOffset, area.byteLength);
  const out: DmaFault[] = [];
  for (let k = 0; k < count; k++) {
    const at = k * 24;
    out.push({
      iova: v.getFloat64(at, true), slot: v.getInt32(at + 8, true), length: v.getUint32(at + 12, true),
      dir: v.getUint32(at + 16, true), reason: v.getUint32(at + 20, true),
    });
  }
  return out;
}
