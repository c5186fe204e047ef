// The block device's front-end (virtio 1.2 §5.2): one request queue; each request is a chain of a
// 16-byte device-readable header (type, reserved, sector), the data (device-readable for writes,
// device-writable for reads and GET_ID), and a device-writable status byte (§5.2.6).
import { GuestError } from './errors.js';
import type { QueueSetupOptions, VirtioPciDevice } from './virtio-pci.js';
import { VirtioType } from './virtio-pci.js';
import type { BufferSpec, SplitVirtqueue } from './virtqueue.js';

/** Feature bits of the block device (§5.2.3), as bigint masks. */
export const BlkFeature = {
  SIZE_MAX: 1n << 1n,
  SEG_MAX: 1n << 2n,
  GEOMETRY: 1n << 4n,
  RO: 1n << 5n,
  BLK_SIZE: 1n << 6n,
  FLUSH: 1n << 9n,
} as const;

/** Request types (§5.2.6). */
export const BlkType = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8 } as const;
/** Status byte values (§5.2.6). */
export const BlkStatus = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

/** struct virtio_blk_config offsets (§5.2.4). */
export const BlkConfig = { CAPACITY: 0, SIZE_MAX: 8, SEG_MAX: 12, GEOMETRY: 16, BLK_SIZE: 20 } as const;

/** Sectors are 512 bytes whatever blk_size says (§5.2.6: sector is in 512-byte units). */
export const SECTOR = 512;
/** GET_ID answers a 20-byte identifier (§5.2.6). */
export const BLK_ID_BYTES = 20;
const HEADER_BYTES = 16;
/** What the status byte holds before the device writes it: no valid status. */
const STATUS_UNSET = 0xff;
/** Bytes left between data segments, so each segment is a buffer of its own in memory too. */
const SEGMENT_GAP = 16;

/** Options of the block front-end: the features to ask for and its queue's setup. */
export interface VirtioBlkOptions {
  /** Features to ask for beyond VERSION_1 (default: FLUSH, BLK_SIZE, SEG_MAX, RO when offered). */
  features?: bigint;
  queue?: QueueSetupOptions;
}

/** How a request is built and handed over: indirect or not, data segments, a fill byte, whether to notify. */
export interface BlkRequestOptions {
  /** Put the chain in an indirect table (needs INDIRECT_DESC). */
  indirect?: boolean;
  /** Split the data into segments of these sizes (each its own descriptor); default one. */
  segments?: readonly number[];
  /** Fill the data buffers with this byte before handing them over (to see what the device wrote). */
  fill?: number;
  /** Notify the device if it asks for it (default true); false leaves the chain for a later kick. */
  kick?: boolean;
}

/** A block request: type (`BlkType`), sector (512-byte units), and the data to write or the bytes to read. */
export interface BlkRequest extends BlkRequestOptions {
  type: number;
  sector: number;
  /** Data to write (OUT). */
  data?: Uint8Array;
  /** Bytes to read (IN, GET_ID). */
  length?: number;
}

/** A request handed to the device; complete() gives its result. */
export interface BlkPending {
  readonly head: number;
  readonly type: number;
  /** Where the request lives in guest RAM. */
  readonly headerAddr: number;
  readonly statusAddr: number;
  /** The data segments (guest address and length each). */
  readonly segments: readonly { addr: number; len: number }[];
  /** The device used the chain (poll saw it). */
  done: boolean;
  usedLen: number;
}

/** How a request ended: the status byte, the used length, the data read, and whether an interrupt came with it. */
export interface BlkResult {
  /** The status byte the device wrote (0xFF: it wrote none). */
  status: number;
  /** The used element's len: bytes the device wrote into the writable buffers (data + status). */
  usedLen: number;
  /** Data read (IN, GET_ID). */
  data?: Uint8Array;
  /** Whether an interrupt came with the completion. */
  interrupted: boolean;
}

type Pending = BlkPending & { slot: number; claimed: boolean };

interface Slot {
  header: number;
  status: number;
  data: number;
  dataSize: number;
}

/**
 * The virtio block device's front-end (virtio 1.2 §5.2): initializes the device with one request
 * queue, reads its capacity and limits, and submits and completes read, write, flush and get-id
 * requests.
 */
export class VirtioBlk {
  readonly queue: SplitVirtqueue;
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  readonly blkSize: number;
  /** Maximum data segments per request (SEG_MAX), or undefined. */
  readonly segMax: number | undefined;
  readonly readOnly: boolean;
  private readonly slots: Slot[] = [];
  private readonly freeSlots: number[] = [];
  private readonly pendingByHead = new Map<number, Pending>();
  /** Interrupts taken while completing requests. */
  interrupts = 0;

  constructor(readonly dev: VirtioPciDevice, options: VirtioBlkOptions = {}) {
    if (dev.type !== VirtioType.BLOCK) throw new GuestError(`${dev.fn.bdf}: virtio device type ${dev.type} is not a block device (2)`);
    const wanted = options.features ?? (BlkFeature.FLUSH | BlkFeature.BLK_SIZE | BlkFeature.SEG_MAX | BlkFeature.RO);
    dev.initialize({ features: wanted, queues: [options.queue ?? {}] });
    this.queue = dev.queues[0];
    this.capacity = dev.readConfig64(BlkConfig.CAPACITY);
    this.blkSize = dev.has(BlkFeature.BLK_SIZE) ? dev.readConfig(BlkConfig.BLK_SIZE, 4) : SECTOR;
    this.segMax = dev.has(BlkFeature.SEG_MAX) ? dev.readConfig(BlkConfig.SEG_MAX, 4) : undefined;
    this.readOnly = dev.has(BlkFeature.RO);
  }

  private slotFor(dataBytes: number): number {
    let i = this.freeSlots.pop();
    if (i === undefined) {
      const ram = this.dev.ram;
      i = this.slots.length;
      this.slots.push({ header: ram.alloc(HEADER_BYTES, 16), status: ram.alloc(1, 1), data: 0, dataSize: 0 });
    }
    const s = this.slots[i];
    if (s.dataSize < dataBytes) {
      s.data = this.dev.ram.alloc(dataBytes, 64);
      s.dataSize = dataBytes;
    }
    return i;
  }

  /** Builds the chain, makes it available and notifies the device (it may complete at once). */
  submit(req: BlkRequest): BlkPending {
    const ram = this.dev.ram;
    const out = req.type === BlkType.OUT;
    const length = out ? req.data?.length ?? 0 : req.length ?? 0;
    const sizes = length === 0 ? [] : [...(req.segments ?? [length])];
    if (sizes.reduce((a, b) => a + b, 0) !== length || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new GuestError(`virtio-blk: segments ${sizes.join('+')} do not add up to ${length} bytes`);
    }
    const room = sizes.reduce((a, n) => a + n + SEGMENT_GAP, 0);
    const slotIndex = this.slotFor(room);
    const slot = this.slots[slotIndex];
    ram.setU32(slot.header, req.type);
    ram.setU32(slot.header + 4, 0);
    ram.setU64(slot.header + 8, req.sector);
    ram.setU8(slot.status, STATUS_UNSET);
    const segments: { addr: number; len: number }[] = [];
    let at = slot.data;
    let done = 0;
    for (const n of sizes) {
      segments.push({ addr: at, len: n });
      if (req.fill !== undefined) ram.fill(at, n, req.fill);
      if (out) ram.write(at, req.data!.subarray(done, done + n));
      done += n;
      at += n + SEGMENT_GAP;
    }
    const chain: BufferSpec[] = [{ addr: slot.header, len: HEADER_BYTES }];
    for (const s of segments) chain.push({ addr: s.addr, len: s.len, write: !out });
    chain.push({ addr: slot.status, len: 1, write: true });
    const head = this.queue.add(chain, { indirect: req.indirect });
    const pending: Pending = { head, type: req.type, headerAddr: slot.header, statusAddr: slot.status, segments, done: false, usedLen: 0, slot: slotIndex, claimed: false };
    this.pendingByHead.set(head, pending);
    if (req.kick ?? true) this.dev.kick(this.queue);
    return pending;
  }

  /** Takes the interrupt and every used element waiting; returns how many requests completed. */
  poll(): number {
    if (this.dev.takeQueueInterrupt(this.queue)) this.interrupts++;
    let n = 0;
    for (let e = this.queue.takeUsed(); e !== undefined; e = this.queue.takeUsed()) {
      const p = this.pendingByHead.get(e.id);
      if (!p) continue;
      this.pendingByHead.delete(e.id);
      p.done = true;
      p.usedLen = e.len;
      n++;
    }
    return n;
  }

  /** Its buffers may be reused once the result is read. */
  private claim(p: Pending): void {
    if (p.claimed) return;
    p.claimed = true;
    this.freeSlots.push(p.slot);
  }

  /**
   * The result of a submitted request (polling once if it is not done yet); GuestError if the
   * device has not completed it. Its buffers are reused afterwards.
   */
  complete(request: BlkPending): BlkResult {
    const p = request as Pending;
    const before = this.interrupts;
    if (!p.done) this.poll();
    if (!p.done) throw new GuestError(`${this.dev.fn.bdf}: virtio-blk: request (head ${p.head}) not completed (device status 0x${this.dev.status.toString(16)})`);
    const ram = this.dev.ram;
    this.claim(p);
    const result: BlkResult = { status: ram.u8(p.statusAddr), usedLen: p.usedLen, interrupted: this.interrupts !== before };
    if (p.type !== BlkType.OUT && p.segments.length > 0) {
      const total = p.segments.reduce((a, s) => a + s.len, 0);
      const data = new Uint8Array(total);
      let k = 0;
      for (const s of p.segments) {
        data.set(ram.view8(s.addr, s.len), k);
        k += s.len;
      }
      result.data = data;
    }
    return result;
  }

  /** Reads `bytes` (a multiple of 512) from `sector`. */
  read(sector: number, bytes: number, options: BlkRequestOptions = {}): BlkResult {
    return this.complete(this.submit({ ...options, type: BlkType.IN, sector, length: bytes }));
  }

  /** Writes `data` (a multiple of 512 bytes) at `sector`; the status byte says how it went. */
  write(sector: number, data: Uint8Array, options: BlkRequestOptions = {}): BlkResult {
    return this.complete(this.submit({ ...options, type: BlkType.OUT, sector, data }));
  }

  /** VIRTIO_BLK_T_FLUSH (sector 0, no data). */
  flush(options: BlkRequestOptions = {}): BlkResult {
    return this.complete(this.submit({ ...options, type: BlkType.FLUSH, sector: 0 }));
  }

  /** VIRTIO_BLK_T_GET_ID: the 20-byte id, NUL-padded (as a string up to the first NUL). */
  getId(options: BlkRequestOptions = {}): BlkResult & { id: string } {
    const r = this.complete(this.submit({ ...options, type: BlkType.GET_ID, sector: 0, length: BLK_ID_BYTES }));
    const bytes = r.data ?? new Uint8Array(0);
    const end = bytes.indexOf(0);
    return { ...r, id: new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end)) };
  }

  /** The bench's read: one 512-multiple read into the slot buffer, no copies out; returns the status. */
  readStatus(sector: number, bytes: number): number {
    const p = this.submit({ type: BlkType.IN, sector, length: bytes }) as Pending;
    this.poll();
    if (!p.done) throw new GuestError(`${this.dev.fn.bdf}: virtio-blk: request not completed`);
    this.claim(p);
    return this.dev.ram.u8(p.statusAddr);
  }
}
