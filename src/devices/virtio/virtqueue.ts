// The device side of a split virtqueue (virtio 1.2 §2.7), touching guest memory only through the
// function's DMA (so its IOMMU domain and Bus Master Enable apply). Every malformed input has a
// defined outcome: `pop` returns a fault naming it, and the transport then sets
// DEVICE_NEEDS_RESET. Nothing here throws on anything a guest controls.
//
//   descriptor table (desc)   16 B each: addr u64 | len u32 | flags u16 | next u16
//   available ring (driver)   flags u16 | idx u16 | ring[size] u16 | used_event u16
//   used ring (device)        flags u16 | idx u16 | ring[size] { id u32, len u32 } | avail_event u16
import type { DmaResult } from '../../dma/index.js';
import type { QueueConfig } from './common-config.js';
import type { DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import { AVAIL_F_NO_INTERRUPT, DescFlag } from './spec.js';

/** What the queue needs of the device context. */
export interface DmaPort {
  /** Reads guest memory at `iova` (all of it, or nothing). */
  dmaRead(iova: number, into: Uint8Array): DmaResult;
  /** Writes guest memory at `iova` (all of it, or nothing). */
  dmaWrite(iova: number, data: Uint8Array): DmaResult;
}

/** One guest buffer of a chain. */
export interface Segment {
  addr: number;
  len: number;
}

/** A descriptor chain: its head (the id the used ring returns) and its buffers by direction. */
export interface Chain {
  head: number;
  /** Device-readable buffers, in order (they all come before the writable ones). */
  readable: Segment[];
  writable: Segment[];
  readableLength: number;
  writableLength: number;
}

/**
 * What `SplitQueue.pop` found: the next chain, nothing available, or a malformed ring or chain
 * (`reason` says what; the transport then sets DEVICE_NEEDS_RESET).
 */
export type PopResult = { kind: 'chain'; chain: Chain } | { kind: 'empty' } | { kind: 'fault'; reason: string };

/** Indirect tables of more entries than this are refused (16 KiB). */
export const MAX_INDIRECT = 1024;
const DESC_BYTES = 16;
/** One DMA moves at most 1 MiB (src/dma): longer buffers go in pieces. */
const PIECE = 1 << 20;
const TWO32 = 4294967296;
/** Descriptor addresses at or above 2^53 are not exact numbers: nothing is there. */
const UNREACHABLE = 2 ** 53;

/** A DMA call that cannot throw: an exception (a bad argument) counts as a refused transfer. */
function safely(run: () => DmaResult): boolean {
  try {
    return run() === 'ok';
  } catch {
    return false;
  }
}

/**
 * The device side of a split virtqueue (virtio 1.2 §2.7): takes available chains, moves their
 * bytes, and returns them on the used ring. Guest memory is reached only through the function's
 * DMA; nothing a guest controls makes it throw.
 */
export class SplitQueue {
  /** The next available-ring entry the device will take (last_avail_idx). */
  private lastAvail = 0;
  /** The device's used-ring index (what it last wrote to used.idx). */
  private usedIdx = 0;
  /** used.idx when the driver last got an interrupt decision (for event idx). */
  private signalledUsed = 0;
  private readonly size: number;
  private readonly desc: number;
  private readonly driver: number;
  private readonly device: number;
  private readonly u16 = new Uint8Array(2);
  private readonly d16 = new Uint8Array(DESC_BYTES);
  private readonly elem = new Uint8Array(8);

  constructor(
    private readonly dma: DmaPort,
    config: Pick<QueueConfig, 'size' | 'desc' | 'driver' | 'device'>,
    /** Negotiated: VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX. */
    private readonly features: { indirect: boolean; eventIdx: boolean },
  ) {
    this.size = config.size;
    this.desc = config.desc;
    this.driver = config.driver;
    this.device = config.device;
  }

  /** The device's used-ring index: what it last wrote to used.idx. */
  get index(): number {
    return this.usedIdx;
  }

  /** Where the rings are, the features the queue runs with and its indexes, for a snapshot. */
  saveState(): DeviceState {
    return {
      size: this.size, desc: this.desc, driver: this.driver, device: this.device,
      indirect: this.features.indirect, eventIdx: this.features.eventIdx,
      lastAvail: this.lastAvail, usedIdx: this.usedIdx, signalledUsed: this.signalledUsed,
    };
  }

  /** Checks a saved queue (throws naming the field); returns what rebuilds it on `dma`. */
  static prepareLoad(dma: DmaPort, r: StateReader, maxSize: number): () => SplitQueue {
    const size = r.get('size').int(1, maxSize);
    // Ring addresses are numbers below 2^53, or 2^53 itself for "out of reach" (common-config.ts).
    const where = { size, desc: r.get('desc').int(0, 2 ** 53), driver: r.get('driver').int(0, 2 ** 53), device: r.get('device').int(0, 2 ** 53) };
    const features = { indirect: r.get('indirect').bool(), eventIdx: r.get('eventIdx').bool() };
    const lastAvail = r.get('lastAvail').int(0, 0xffff);
    const usedIdx = r.get('usedIdx').int(0, 0xffff);
    const signalledUsed = r.get('signalledUsed').int(0, 0xffff);
    return () => {
      const q = new SplitQueue(dma, where, features);
      q.lastAvail = lastAvail;
      q.usedIdx = usedIdx;
      q.signalledUsed = signalledUsed;
      return q;
    };
  }

  private read16(addr: number): number | undefined {
    if (!safely(() => this.dma.dmaRead(addr, this.u16))) return undefined;
    return this.u16[0] | (this.u16[1] << 8);
  }

  private write16(addr: number, v: number): boolean {
    this.u16[0] = v & 0xff;
    this.u16[1] = (v >>> 8) & 0xff;
    return safely(() => this.dma.dmaWrite(addr, this.u16));
  }

  /** Takes the next available chain, if any (§2.7.13.x device side of "available buffers"). */
  pop(): PopResult {
    const availIdx = this.read16(this.driver + 2);
    if (availIdx === undefined) return { kind: 'fault', reason: 'available ring: idx is not readable by DMA' };
    const pending = (availIdx - this.lastAvail) & 0xffff;
    if (pending === 0) return { kind: 'empty' };
    // §2.7.6: the driver never gets more than a queue's worth ahead of the device.
    if (pending > this.size) return { kind: 'fault', reason: `available ring: idx ${availIdx} is ${pending} entries ahead of the device (queue size ${this.size})` };
    const head = this.read16(this.driver + 4 + 2 * (this.lastAvail % this.size));
    if (head === undefined) return { kind: 'fault', reason: 'available ring: entry is not readable by DMA' };
    if (head >= this.size) return { kind: 'fault', reason: `available ring: head ${head} is not below the queue size ${this.size}` };
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return this.walk(head);
  }

  /** Parses one descriptor at `at` in `bytes`. */
  private static parse(bytes: Uint8Array, at: number): { addr: number; len: number; flags: number; next: number } {
    const lo = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
    const hi = (bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24)) >>> 0;
    const len = (bytes[at + 8] | (bytes[at + 9] << 8) | (bytes[at + 10] << 16) | (bytes[at + 11] << 24)) >>> 0;
    return {
      addr: hi >= 0x200000 ? UNREACHABLE : hi * TWO32 + lo,
      len,
      flags: bytes[at + 12] | (bytes[at + 13] << 8),
      next: bytes[at + 14] | (bytes[at + 15] << 8),
    };
  }

  /** Follows a chain from `head`: direct descriptors, or one indirect table (§2.7.5.3). */
  private walk(head: number): PopResult {
    const chain: Chain = { head, readable: [], writable: [], readableLength: 0, writableLength: 0 };
    const fault = (reason: string): PopResult => ({ kind: 'fault', reason: `chain ${head}: ${reason}` });
    let i = head;
    // §2.7.5.2: a chain is never longer than the queue size; one that is, loops.
    for (let count = 0; ; count++) {
      if (count >= this.size) return fault(`more than ${this.size} descriptors (a loop)`);
      if (!safely(() => this.dma.dmaRead(this.desc + DESC_BYTES * i, this.d16))) return fault(`descriptor ${i} is not readable by DMA`);
      const d = SplitQueue.parse(this.d16, 0);
      if ((d.flags & DescFlag.INDIRECT) !== 0) {
        // §2.7.5.3.1: INDIRECT needs the feature and is never combined with NEXT, so it ends the
        // chain; direct descriptors before it are allowed (the table's buffers follow theirs).
        if (!this.features.indirect) return fault(`descriptor ${i} is indirect but VIRTIO_RING_F_INDIRECT_DESC was not negotiated`);
        if ((d.flags & DescFlag.NEXT) !== 0) return fault(`descriptor ${i} has both INDIRECT and NEXT`);
        return this.indirect(chain, d.addr, d.len, fault);
      }
      const bad = this.add(chain, d, fault);
      if (bad) return bad;
      if ((d.flags & DescFlag.NEXT) === 0) return { kind: 'chain', chain };
      if (d.next >= this.size) return fault(`descriptor ${i}: next ${d.next} is not below the queue size ${this.size}`);
      i = d.next;
    }
  }

  private indirect(chain: Chain, addr: number, len: number, fault: (r: string) => PopResult): PopResult {
    if (len === 0 || len % DESC_BYTES !== 0) return fault(`indirect table length ${len} is not a positive multiple of 16`);
    const entries = len / DESC_BYTES;
    if (entries > MAX_INDIRECT) return fault(`indirect table of ${entries} entries (at most ${MAX_INDIRECT})`);
    const table = new Uint8Array(len);
    if (!safely(() => this.dma.dmaRead(addr, table))) return fault('indirect table is not readable by DMA');
    let i = 0;
    for (let count = 0; ; count++) {
      if (count >= entries) return fault(`indirect chain longer than its table of ${entries} (a loop)`);
      const d = SplitQueue.parse(table, DESC_BYTES * i);
      if ((d.flags & DescFlag.INDIRECT) !== 0) return fault(`indirect descriptor ${i} is itself indirect`);
      const bad = this.add(chain, d, fault);
      if (bad) return bad;
      if ((d.flags & DescFlag.NEXT) === 0) return { kind: 'chain', chain };
      if (d.next >= entries) return fault(`indirect descriptor ${i}: next ${d.next} is not below the table's ${entries} entries`);
      i = d.next;
    }
  }

  /** §2.7.4.2: readable buffers all come before writable ones. */
  private add(chain: Chain, d: { addr: number; len: number; flags: number }, fault: (r: string) => PopResult): PopResult | undefined {
    if ((d.flags & DescFlag.WRITE) !== 0) {
      chain.writable.push({ addr: d.addr, len: d.len });
      chain.writableLength += d.len;
      return undefined;
    }
    if (chain.writable.length > 0) return fault('a device-readable buffer follows a device-writable one');
    chain.readable.push({ addr: d.addr, len: d.len });
    chain.readableLength += d.len;
    return undefined;
  }

  /** Returns a chain to the driver with `len` bytes written (§2.7.8). false: the used ring is not writable. */
  push(head: number, len: number): boolean {
    const slot = this.usedIdx % this.size;
    const e = this.elem;
    e[0] = head & 0xff; e[1] = (head >>> 8) & 0xff; e[2] = 0; e[3] = 0;
    e[4] = len & 0xff; e[5] = (len >>> 8) & 0xff; e[6] = (len >>> 16) & 0xff; e[7] = (len >>> 24) & 0xff;
    if (!safely(() => this.dma.dmaWrite(this.device + 4 + 8 * slot, e))) return false;
    const next = (this.usedIdx + 1) & 0xffff;
    if (!this.write16(this.device + 2, next)) return false;
    this.usedIdx = next;
    return true;
  }

  /**
   * Whether the driver wants an interrupt for what was used since the last decision (§2.7.7.2,
   * §2.7.10): with event idx, when used.idx passed used_event; without, unless the available
   * ring's flags say VIRTQ_AVAIL_F_NO_INTERRUPT. undefined: the ring is not readable by DMA.
   */
  needsInterrupt(): boolean | undefined {
    const oldIdx = this.signalledUsed;
    const newIdx = this.usedIdx;
    if (oldIdx === newIdx) return false;
    this.signalledUsed = newIdx;
    if (this.features.eventIdx) {
      const usedEvent = this.read16(this.driver + 4 + 2 * this.size);
      if (usedEvent === undefined) return undefined;
      return ((newIdx - usedEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    const flags = this.read16(this.driver);
    if (flags === undefined) return undefined;
    return (flags & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** With event idx: tells the driver to notify again once it makes entry last_avail_idx available. */
  publishAvailEvent(): boolean {
    if (!this.features.eventIdx) return true;
    return this.write16(this.device + 4 + 8 * this.size, this.lastAvail);
  }

  /** Reads `into.length` bytes of a chain's readable buffers from byte `offset` on; returns the bytes read. */
  read(chain: Chain, offset: number, into: Uint8Array): number {
    return this.move(chain.readable, offset, into, false);
  }

  /** Writes `data` into a chain's writable buffers from byte `offset` on; returns the bytes written. */
  write(chain: Chain, offset: number, data: Uint8Array): number {
    return this.move(chain.writable, offset, data, true);
  }

  /** Walks the segments as one byte stream; stops at the first refused DMA. */
  private move(segments: Segment[], offset: number, bytes: Uint8Array, write: boolean): number {
    let done = 0;
    let skip = offset;
    for (const s of segments) {
      if (done === bytes.length) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      let n = Math.min(s.len - skip, bytes.length - done);
      let addr = s.addr + skip;
      skip = 0;
      while (n > 0) {
        const piece = Math.min(n, PIECE);
        const part = bytes.subarray(done, done + piece);
        const ok = write ? safely(() => this.dma.dmaWrite(addr, part)) : safely(() => this.dma.dmaRead(addr, part));
        if (!ok) return done;
        done += piece;
        addr += piece;
        n -= piece;
      }
    }
    return done;
  }
}
