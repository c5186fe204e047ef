// The entropy device's front-end (virtio 1.2 §5.4): one request queue; the driver hands the device
// write-only buffers and gets back how many random bytes it wrote into each.
import { GuestError } from './errors.js';
import type { QueueSetupOptions, VirtioPciDevice } from './virtio-pci.js';
import { VirtioType } from './virtio-pci.js';
import type { SplitVirtqueue } from './virtqueue.js';

/** Options of the entropy front-end: the features to ask for and its queue's setup. */
export interface VirtioRngOptions {
  /** Features to ask for beyond VERSION_1 (INDIRECT_DESC, EVENT_IDX); default none. */
  features?: bigint;
  queue?: QueueSetupOptions;
}

/** What one entropy request got back. */
export interface RngResult {
  /** The bytes the device wrote (used len of them). */
  bytes: Uint8Array;
  /** The used element's len: bytes written. */
  len: number;
  /** Whether the completion came with an interrupt. */
  interrupted: boolean;
}

/**
 * The entropy device's front-end (virtio 1.2 §5.4): one request queue of write-only buffers the
 * device fills with random bytes.
 */
export class VirtioRng {
  readonly queue: SplitVirtqueue;
  /** A reusable buffer in guest RAM, grown as needed. */
  private buffer = 0;
  private bufferSize = 0;

  /** Initializes the device (§3.1.1) with one request queue. */
  constructor(readonly dev: VirtioPciDevice, options: VirtioRngOptions = {}) {
    if (dev.type !== VirtioType.ENTROPY) throw new GuestError(`${dev.fn.bdf}: virtio device type ${dev.type} is not an entropy device (4)`);
    dev.initialize({ features: options.features ?? 0n, queues: [options.queue ?? {}] });
    this.queue = dev.queues[0];
  }

  private bufferFor(n: number): number {
    if (n > this.bufferSize) {
      this.buffer = this.dev.ram.alloc(n, 64);
      this.bufferSize = n;
    }
    return this.buffer;
  }

  /** Hands the device one write-only buffer of `n` bytes at `addr` and notifies it (no wait). */
  submit(addr: number, n: number, options: { indirect?: boolean } = {}): number {
    const head = this.queue.add([{ addr, len: n, write: true }], options);
    this.dev.kick(this.queue);
    return head;
  }

  /**
   * Asks for `n` random bytes: one buffer, notify, the device's interrupt, the used element.
   * GuestError if the device did not use the buffer.
   */
  request(n: number, options: { indirect?: boolean } = {}): RngResult {
    if (!Number.isInteger(n) || n <= 0) throw new GuestError(`virtio-rng: request(${n}): a positive byte count`);
    const addr = this.bufferFor(n);
    const head = this.submit(addr, n, options);
    const interrupted = this.dev.takeQueueInterrupt(this.queue);
    const used = this.queue.takeUsed();
    if (used === undefined) throw new GuestError(`${this.dev.fn.bdf}: virtio-rng: the device did not use the buffer (status 0x${this.dev.status.toString(16)})`);
    if (used.id !== head) throw new GuestError(`${this.dev.fn.bdf}: virtio-rng: the device used chain ${used.id}, not ${head}`);
    if (used.len > n) throw new GuestError(`${this.dev.fn.bdf}: virtio-rng: used len ${used.len} is more than the ${n}-byte buffer`);
    return { bytes: this.dev.ram.read(addr, used.len), len: used.len, interrupted };
  }

  /** The same request for the bench: no copies, returns the used len. */
  requestLen(n: number): number {
    const head = this.submit(this.bufferFor(n), n);
    this.dev.takeQueueInterrupt(this.queue);
    const used = this.queue.takeUsed();
    if (used === undefined || used.id !== head) throw new GuestError(`${this.dev.fn.bdf}: virtio-rng: request not completed`);
    return used.len;
  }
}

