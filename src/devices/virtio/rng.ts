// virtio-rng (virtio 1.2 §5.4): one requestq; each chain's device-writable buffers are filled
// with random bytes, from the runtime's `crypto.getRandomValues`, or, given a seed, from a
// deterministic generator so that a run can be replayed byte for byte.
import { DescriptorError, VpciError } from '../../errors.js';
import type { DeviceBehaviour, DeviceInstance, DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import { SnapshotError } from '../../snapshot/errors.js';
import type { FunctionDescriptor } from '../../config/index.js';
import { VirtioType, virtioPciLayout } from './pci-layout.js';
import { VirtioPciTransport } from './transport.js';
import type { ChainIo, VirtioDevice } from './transport.js';
import type { Chain } from './virtqueue.js';

/** Options of the 'virtio-rng' model. */
export interface VirtioRngOptions {
  /** A non-negative integer: the bytes come from a generator seeded with it (same seed, same bytes). */
  seed?: number;
}

/** The running device (bus.device(path)). */
export interface VirtioRngInstance extends DeviceInstance {
  readonly transport: VirtioPciTransport;
  /** Bytes handed to the driver so far. */
  readonly bytesServed: number;
}

const QUEUE_SIZE = 64;
/** A chain gets at most this many bytes (the device may write fewer than the buffers hold). */
const MAX_PER_CHAIN = 65536;
/** crypto.getRandomValues fills at most 65,536 bytes per call (Web Crypto). */
const CRYPTO_CHUNK = 65536;

/**
 * xoshiro128** (Blackman and Vigna), seeded through a splitmix32-style mixer: small, fast, and
 * well studied. Not for secrets: for replayable guest runs.
 */
export class SeededBytes {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    // The all-zero state is the generator's one fixed point.
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  private next(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** The generator's four state words (a copy), for a snapshot. */
  get state(): Uint32Array {
    return this.s.slice();
  }

  /** Continues from saved state words (four, not all zero: checked by the caller). */
  set state(words: Uint32Array) {
    this.s.set(words);
  }

  /** Fills `out` with the next bytes of the stream. */
  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i += 4) {
      const v = this.next();
      out[i] = v & 0xff;
      if (i + 1 < out.length) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < out.length) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < out.length) out[i + 3] = v >>> 24;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

type Fill = (out: Uint8Array) => void;

function cryptoFill(): Fill | undefined {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof c?.getRandomValues !== 'function') return undefined;
  return (out) => {
    for (let i = 0; i < out.length; i += CRYPTO_CHUNK) c.getRandomValues!(out.subarray(i, Math.min(out.length, i + CRYPTO_CHUNK)));
  };
}

class RngDevice implements VirtioDevice {
  readonly queueSizes = [QUEUE_SIZE];
  readonly features = 0n;
  readonly config = new Uint8Array(0);
  bytesServed = 0;
  private scratch = new Uint8Array(0);
  private readonly fill: Fill;

  /** Bytes from the seeded generator `source`, or from the runtime's crypto. */
  constructor(private readonly source: SeededBytes | Fill) {
    this.fill = source instanceof SeededBytes ? (out) => source.fill(out) : source;
  }

  /** Bytes served, and where the seeded generator is (null when the bytes come from crypto). */
  saveState(): DeviceState {
    return { bytesServed: this.bytesServed, generator: this.source instanceof SeededBytes ? this.source.state : null };
  }

  prepareLoad(r: StateReader): () => void {
    const bytesServed = r.get('bytesServed').int(0, Number.MAX_SAFE_INTEGER);
    const g = r.get('generator');
    const seeded = this.source instanceof SeededBytes;
    const words = g.optional((x) => x.words(4));
    if (seeded !== (words !== undefined)) {
      throw new SnapshotError(g.place, seeded ? 'the snapshot\'s virtio-rng drew from crypto, this one is seeded' : 'the snapshot\'s virtio-rng was seeded, this one draws from crypto (give it a seed)');
    }
    if (words !== undefined && (words[0] | words[1] | words[2] | words[3]) === 0) throw new SnapshotError(g.place, 'the all-zero generator state never occurs');
    return () => {
      this.bytesServed = bytesServed;
      if (words !== undefined) (this.source as SeededBytes).state = words;
    };
  }

  process(_queue: number, chain: Chain, io: ChainIo): number {
    // §5.4.6.1: the device writes random bytes into the writable buffers; readable ones carry nothing.
    const n = Math.min(chain.writableLength, MAX_PER_CHAIN);
    if (n === 0) return 0;
    if (this.scratch.length < n) this.scratch = new Uint8Array(MAX_PER_CHAIN);
    const bytes = this.scratch.subarray(0, n);
    this.fill(bytes);
    const written = io.write(chain, 0, bytes);
    this.bytesServed += written;
    return written;
  }
}

function checkSeed(seed: unknown): number | undefined {
  if (seed === undefined) return undefined;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new DescriptorError('options.seed', `${String(seed)} is not a non-negative integer below 2^53`);
  }
  return seed;
}

/** The virtio-rng model: its config space and its behaviour. */
export function virtioRng(options: VirtioRngOptions = {}): { descriptor: FunctionDescriptor; behaviour: DeviceBehaviour } {
  const seed = checkSeed(options.seed);
  if (seed === undefined && cryptoFill() === undefined) {
    throw new DescriptorError('options.seed', 'this runtime has no globalThis.crypto.getRandomValues: give a seed');
  }
  const layout = virtioPciLayout({ type: VirtioType.ENTROPY, classCode: 0x00ff00, numQueues: 1, deviceConfigLength: 0 });
  return {
    descriptor: layout.descriptor,
    behaviour: {
      attach(ctx): VirtioRngInstance {
        // Each bus gets its own generator: a seeded one starts over, so two runs see the same bytes.
        let source: SeededBytes | Fill | undefined;
        if (seed !== undefined) {
          source = new SeededBytes(seed);
        } else {
          source = cryptoFill();
          if (!source) throw new VpciError(`${ctx.path}: virtio-rng: globalThis.crypto.getRandomValues is gone`);
        }
        const device = new RngDevice(source);
        const transport = new VirtioPciTransport(ctx, device, layout);
        return {
          transport,
          get bytesServed() { return device.bytesServed; },
          reset: () => transport.reset(),
          saveState: () => transport.saveState(),
          loadState: (r) => transport.loadState(r),
        };
      },
    },
  };
}
