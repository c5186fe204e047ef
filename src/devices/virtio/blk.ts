// virtio-blk (virtio 1.2 §5.2): one requestq over an in-memory disk of 512-byte sectors. A
// request is a 16-byte header (type, reserved, sector) in the readable buffers, data buffers,
// and a status byte, the last writable byte. Buffers are byte streams: how the driver cuts them
// into descriptors does not matter (§2.6.4, message framing).
import { DescriptorError } from '../../errors.js';
import type { DeviceBehaviour, DeviceInstance, DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import type { FunctionDescriptor } from '../../config/index.js';
import { VirtioType, virtioPciLayout } from './pci-layout.js';
import { VirtioPciTransport } from './transport.js';
import type { ChainIo, VirtioDevice } from './transport.js';
import { bit } from './spec.js';
import type { Chain } from './virtqueue.js';

/** Options of the 'virtio-blk' model: the disk (a size or an image), read-only, the serial. */
export interface VirtioBlkOptions {
  /** Size of a zero-filled in-memory disk, in MiB (default 8). Not with `image`. */
  sizeMiB?: number;
  /**
   * Fills the in-memory disk with a pattern anyone can recompute (`blkPattern`): each 8-byte word
   * holds its own byte offset as a little-endian u64. A guest's reads can then be checked without
   * shipping an image, and a topology file can ask for it. Not with `image`.
   */
  pattern?: boolean;
  /** The disk's bytes (a multiple of 512): the device reads and writes them in place. */
  image?: ArrayBuffer | SharedArrayBuffer | Uint8Array;
  /** Offer VIRTIO_BLK_F_RO and refuse writes. */
  readOnly?: boolean;
  /** The GET_ID string, at most 20 bytes of UTF-8 (default "vpci-blk"). */
  serial?: string;
}

/** The running device (bus.device(path)). */
export interface VirtioBlkInstance extends DeviceInstance {
  readonly transport: VirtioPciTransport;
  /** The disk: the image given in the options (the same bytes), or the in-memory one. */
  readonly image: Uint8Array;
}

/** Bytes in a virtio-blk sector (requests address the disk in these units). */
export const SECTOR = 512;
const QUEUE_SIZE = 256;
/** Data segments per request: the queue less the header and status descriptors. */
export const SEG_MAX = QUEUE_SIZE - 2;
const DEFAULT_MIB = 8;
const MAX_MIB = 1024;
const ID_BYTES = 20;
const HEADER = 16;

/** virtio 1.2 §5.2.3: feature bits. */
export const BlkFeature = { SEG_MAX: 2, RO: 5, BLK_SIZE: 6, FLUSH: 9 } as const;
/** §5.2.6: request types and status values. */
export const BlkRequest = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8 } as const;
/** The status byte the device writes at the end of a request. */
export const BlkStatus = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

/**
 * §5.2.4: struct virtio_blk_config up to write_zeroes_may_unmap and its padding (0x3c bytes);
 * the fields of features not offered (size_max, geometry, topology, discard, ...) read 0.
 */
const CONFIG_LENGTH = 0x3c;

function blkConfig(sectors: number): Uint8Array {
  const c = new Uint8Array(CONFIG_LENGTH);
  const v = new DataView(c.buffer);
  v.setUint32(0x00, sectors >>> 0, true);
  v.setUint32(0x04, Math.floor(sectors / 4294967296), true);
  v.setUint32(0x0c, SEG_MAX, true);
  v.setUint32(0x14, SECTOR, true);
  v.setUint16(0x22, 1, true);
  return c;
}

class BlkDevice implements VirtioDevice {
  readonly queueSizes = [QUEUE_SIZE];
  readonly features: bigint;
  readonly config: Uint8Array;
  private readonly header = new Uint8Array(HEADER);
  private readonly status = new Uint8Array(1);

  constructor(readonly image: Uint8Array, private readonly readOnly: boolean, private readonly id: Uint8Array) {
    this.features = bit(BlkFeature.SEG_MAX) | bit(BlkFeature.BLK_SIZE) | bit(BlkFeature.FLUSH) | (readOnly ? bit(BlkFeature.RO) : 0n);
    this.config = blkConfig(image.length / SECTOR);
  }

  /** The disk's contents (the image is the device's only state beside the transport's). */
  saveState(): DeviceState {
    return { image: this.image.slice() };
  }

  prepareLoad(r: StateReader): () => void {
    const image = r.get('image').bytes(this.image.length);
    return () => this.image.set(image);
  }

  process(_queue: number, chain: Chain, io: ChainIo): number | string {
    // Without a header or a status byte there is nothing to answer with: the driver broke the
    // protocol (§5.2.6.1), and the device needs a reset.
    if (chain.readableLength < HEADER) return `request has ${chain.readableLength} readable bytes, fewer than the 16-byte header`;
    if (chain.writableLength < 1) return 'request has no writable status byte';
    const statusAt = chain.writableLength - 1;
    let status: number = BlkStatus.IOERR;
    let written = 0;
    if (io.read(chain, 0, this.header) === HEADER) {
      const h = new DataView(this.header.buffer);
      const type = h.getUint32(0, true);
      const sectorHi = h.getUint32(12, true);
      const sector = sectorHi >= 0x200000 ? Infinity : sectorHi * 4294967296 + h.getUint32(8, true);
      ({ status, written } = this.serve(type, sector, chain, io, statusAt));
    }
    this.status[0] = status;
    if (io.write(chain, statusAt, this.status) !== 1) return 'the status byte is not writable by DMA';
    return written + 1;
  }

  private serve(type: number, sector: number, chain: Chain, io: ChainIo, dataIn: number): { status: number; written: number } {
    switch (type) {
      case BlkRequest.IN: {
        const range = this.range(sector, dataIn);
        if (!range) return { status: BlkStatus.IOERR, written: 0 };
        const n = io.write(chain, 0, this.image.subarray(range.start, range.end));
        return { status: n === dataIn ? BlkStatus.OK : BlkStatus.IOERR, written: n };
      }
      case BlkRequest.OUT: {
        // §5.2.6.2: a read-only device fails writes and writes nothing.
        if (this.readOnly) return { status: BlkStatus.IOERR, written: 0 };
        const range = this.range(sector, chain.readableLength - HEADER);
        if (!range) return { status: BlkStatus.IOERR, written: 0 };
        const n = io.read(chain, HEADER, this.image.subarray(range.start, range.end));
        return { status: n === range.end - range.start ? BlkStatus.OK : BlkStatus.IOERR, written: 0 };
      }
      case BlkRequest.FLUSH:
        // The disk is memory: every completed write is already where a flush would put it.
        return { status: BlkStatus.OK, written: 0 };
      case BlkRequest.GET_ID: {
        const n = io.write(chain, 0, this.id.subarray(0, Math.min(ID_BYTES, dataIn)));
        return { status: n === Math.min(ID_BYTES, dataIn) ? BlkStatus.OK : BlkStatus.IOERR, written: n };
      }
      default:
        return { status: BlkStatus.UNSUPP, written: 0 };
    }
  }

  /** Byte range of `length` bytes at `sector`: whole sectors, inside the disk; else undefined (IOERR, nothing moved). */
  private range(sector: number, length: number): { start: number; end: number } | undefined {
    if (length % SECTOR !== 0) return undefined;
    const start = sector * SECTOR;
    if (!(start + length <= this.image.length)) return undefined;
    return { start, end: start + length };
  }
}

function imageBytes(image: unknown): Uint8Array {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  if (typeof SharedArrayBuffer !== 'undefined' && image instanceof SharedArrayBuffer) return new Uint8Array(image);
  throw new DescriptorError('options.image', 'must be an ArrayBuffer, a SharedArrayBuffer or a Uint8Array');
}

/** Checks the options; returns the disk source, read-only flag and the 20-byte id. */
function checkOptions(o: VirtioBlkOptions): { image?: Uint8Array; sizeMiB: number; pattern: boolean; readOnly: boolean; id: Uint8Array } {
  let image: Uint8Array | undefined;
  if (o.pattern !== undefined && typeof o.pattern !== 'boolean') throw new DescriptorError('options.pattern', 'must be true or false');
  if (o.pattern && o.image !== undefined) throw new DescriptorError('options.pattern', 'give pattern or image, not both');
  if (o.image !== undefined) {
    if (o.sizeMiB !== undefined) throw new DescriptorError('options.sizeMiB', 'give sizeMiB or image, not both');
    image = imageBytes(o.image);
    if (image.byteLength === 0 || image.byteLength % SECTOR !== 0) {
      throw new DescriptorError('options.image', `byteLength ${image.byteLength} is not a multiple of ${SECTOR}${image.byteLength === 0 ? ' above 0' : ''}`);
    }
  }
  const sizeMiB = o.sizeMiB ?? DEFAULT_MIB;
  if (typeof sizeMiB !== 'number' || !Number.isInteger(sizeMiB) || sizeMiB < 1 || sizeMiB > MAX_MIB) {
    throw new DescriptorError('options.sizeMiB', `${String(sizeMiB)} is not an integer in 1..${MAX_MIB}`);
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw new DescriptorError('options.readOnly', 'must be true or false');
  const serial = o.serial ?? 'vpci-blk';
  if (typeof serial !== 'string') throw new DescriptorError('options.serial', 'must be a string');
  const encoded = new TextEncoder().encode(serial);
  if (encoded.length > ID_BYTES) throw new DescriptorError('options.serial', `"${serial}" is ${encoded.length} bytes of UTF-8; at most ${ID_BYTES}`);
  // §5.2.6: the id is 20 bytes, NUL-padded (no terminator when it fills all 20).
  const id = new Uint8Array(ID_BYTES);
  id.set(encoded);
  return { image, sizeMiB, pattern: o.pattern ?? false, readOnly: o.readOnly ?? false, id };
}

/** The virtio-blk model: its config space and its behaviour. */
export function virtioBlk(options: VirtioBlkOptions = {}): { descriptor: FunctionDescriptor; behaviour: DeviceBehaviour } {
  const o = checkOptions(options);
  const layout = virtioPciLayout({ type: VirtioType.BLOCK, classCode: 0x018000, numQueues: 1, deviceConfigLength: CONFIG_LENGTH });
  return {
    descriptor: layout.descriptor,
    behaviour: {
      attach(ctx): VirtioBlkInstance {
        // A given image is the embedder's: every bus made from these options uses those bytes.
        // An in-memory disk is made per bus.
        const image = o.image ?? (o.pattern ? blkPattern(o.sizeMiB * 1024 * 1024) : new Uint8Array(o.sizeMiB * 1024 * 1024));
        const device = new BlkDevice(image, o.readOnly, o.id);
        const transport = new VirtioPciTransport(ctx, device, layout);
        return { transport, image, reset: () => transport.reset(), saveState: () => transport.saveState(), loadState: (r) => transport.loadState(r) };
      },
    },
  };
}

/** The disk `pattern: true` gives: `bytes` bytes in which each 8-byte word holds its offset (little-endian u64). */
export function blkPattern(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  for (let at = 0; at + 8 <= bytes; at += 8) view.setBigUint64(at, BigInt(at), true);
  return out;
}
