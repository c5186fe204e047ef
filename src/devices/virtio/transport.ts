// virtio over PCI (virtio 1.2 §4.1), the device side: serves the common configuration, ISR,
// device configuration and notification structures of BAR 4 with TypeScript handlers, runs the
// split virtqueues when the driver notifies, and raises interrupts (MSI-X vectors when MSI-X is
// enabled, else the ISR bits and INTx). A device type plugs in as a `VirtioDevice`.
import type { DeviceContext, DeviceInstance, DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import { SnapshotError } from '../../snapshot/errors.js';
import { CommonConfig, composeLe } from './common-config.js';
import type { QueueConfig } from './common-config.js';
import { Layout } from './pci-layout.js';
import type { VirtioPciLayout } from './pci-layout.js';
import { Feature, Isr, NO_VECTOR, Status, bit } from './spec.js';
import { SplitQueue } from './virtqueue.js';
import type { Chain } from './virtqueue.js';

/** Reads and writes of a chain's buffers as byte streams (see SplitQueue.read/write). */
export interface ChainIo {
  /** Reads into `into` from the chain's readable buffers, from byte `offset` on; returns the bytes read. */
  read(chain: Chain, offset: number, into: Uint8Array): number;
  /** Writes `data` into the chain's writable buffers, from byte `offset` on; returns the bytes written. */
  write(chain: Chain, offset: number, data: Uint8Array): number;
}

/** What a virtio device type gives the transport. */
export interface VirtioDevice {
  /** Maximum size of each queue (powers of two); the queue count is its length. */
  readonly queueSizes: readonly number[];
  /** Device-type feature bits offered (the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX, ACCESS_PLATFORM). */
  readonly features: bigint;
  /** Device-specific configuration (read-only to the driver); empty for none. */
  readonly config: Uint8Array;
  /**
   * Serves one chain of queue `queue`. Returns the number of bytes written into its writable
   * buffers (the used length), or a string: the chain cannot be served, the device needs a reset,
   * and the string says why. Must not throw (the transport treats a throw like a string).
   */
  process(queue: number, chain: Chain, io: ChainIo): number | string;
  /** The device was reset (device_status 0 or a function-level reset). */
  reset?(): void;
  /** The device type's own state for a snapshot (see DeviceInstance.saveState); none if absent. */
  saveState?(): DeviceState;
  /** Checks a saved device-type state (throws naming the field); returns what loads it. */
  prepareLoad?(state: StateReader): () => void;
}

const MSIX_ENABLE = 0x8000;
const MSIX_CONTROL = 2;
/**
 * The ring and transport features every device here offers (virtio 1.2 §6). ACCESS_PLATFORM:
 * these devices reach memory only through the function's DMA path (its IOMMU domain), so a
 * driver must hand them bus addresses (§6.1: the device SHOULD offer it then). A driver that does
 * not accept it is still served (identity domains make bus and physical addresses the same).
 */
const RING_FEATURES = bit(Feature.RING_INDIRECT_DESC) | bit(Feature.RING_EVENT_IDX) | bit(Feature.ACCESS_PLATFORM);

export class VirtioPciTransport implements DeviceInstance {
  readonly common: CommonConfig;
  /** The ISR status byte (§4.1.4.5): bit 0 queue interrupt, bit 1 configuration change. */
  private isr = 0;
  private readonly rings: (SplitQueue | undefined)[];
  /** Why the device last set DEVICE_NEEDS_RESET (cleared by a reset). */
  needsResetReason: string | undefined;
  /** Notifications of queues being served (a notify that arrives while serving runs after). */
  private serving = false;
  private readonly again = new Set<number>();

  constructor(
    private readonly ctx: DeviceContext,
    readonly device: VirtioDevice,
    private readonly layout: Pick<VirtioPciLayout, 'msixCap' | 'msixVectors'>,
  ) {
    this.common = new CommonConfig({
      offered: device.features | RING_FEATURES,
      queueSizes: device.queueSizes,
      msixVectors: layout.msixVectors,
      onReset: () => this.reset(),
      onQueueEnable: (q) => this.enable(q),
    });
    this.rings = device.queueSizes.map(() => undefined);
    const page = (offset: number, read: (at: number, size: number) => number | bigint, write: (at: number, size: number, value: number | bigint) => void) => {
      ctx.bar(Layout.REGS_BAR, {
        read: (off, size) => read(off - offset, size),
        write: (off, size, value) => write(off - offset, size, value),
      }, { offset, length: Layout.PAGE });
    };
    page(Layout.COMMON, (at, size) => this.common.read(at, size), (at, size, v) => this.common.write(at, size, v));
    page(Layout.ISR, (at, size) => this.readIsr(at, size), () => {});
    page(Layout.DEVICE, (at, size) => this.readConfig(at, size), () => {});
    page(Layout.NOTIFY, () => 0, (at) => this.notifyAt(at));
  }

  /** device_status as the driver reads it. */
  get status(): number {
    return this.common.status;
  }

  /** §2.4: back to the initial state: status, features, queues, ISR and the INTx pin. */
  reset(): void {
    this.common.reset();
    this.rings.fill(undefined);
    this.again.clear();
    this.needsResetReason = undefined;
    this.isr = 0;
    this.ctx.intx(false);
    this.device.reset?.();
  }

  /** The transport's state (common configuration, ISR, rings) and the device type's, for bus.snapshot(). */
  saveState(): DeviceState {
    return {
      common: this.common.saveState(),
      isr: this.isr,
      needsResetReason: this.needsResetReason ?? null,
      rings: this.rings.map((ring) => ring?.saveState() ?? null),
      device: this.device.saveState?.() ?? null,
    };
  }

  /** Loads what saveState returned: every part is checked before any is applied. */
  loadState(r: StateReader): void {
    const common = this.common.prepareLoad(r.get('common'));
    const isr = r.get('isr').int(0, Isr.QUEUE | Isr.CONFIG);
    const reason = r.get('needsResetReason').optional((x) => x.str());
    const rings = r.get('rings').items(this.rings.length)
      .map((x, i) => x.optional((y) => SplitQueue.prepareLoad(this.ctx, y, this.device.queueSizes[i])));
    const device = r.get('device');
    let loadDevice: (() => void) | undefined;
    if (this.device.prepareLoad) loadDevice = this.device.prepareLoad(device);
    else if (device.value !== null) throw new SnapshotError(device.place, 'this device type keeps no state of its own, the snapshot has some');
    common();
    this.isr = isr;
    this.needsResetReason = reason;
    rings.forEach((make, i) => { this.rings[i] = make?.(); });
    this.again.clear();
    loadDevice?.();
  }

  /**
   * The device configuration changed: bumps config_generation and sends a configuration change
   * notification (§4.1.4.3.1, §2.5.1). For device types whose configuration can change.
   */
  configChanged(): void {
    this.common.configGeneration = (this.common.configGeneration + 1) & 0xff;
    this.signalConfig();
  }

  /** Reading ISR status returns it and clears it, and lets go of INTx (§4.1.4.5). */
  private readIsr(at: number, size: number): number | bigint {
    const bytes = new Uint8Array(size);
    if (at <= 0 && at + size > 0 && this.isr !== 0) {
      bytes[-at] = this.isr;
      this.isr = 0;
      this.ctx.intx(false);
    }
    return composeLe(bytes);
  }

  private readConfig(at: number, size: number): number | bigint {
    const bytes = new Uint8Array(size);
    const cfg = this.device.config;
    for (let i = 0; i < size; i++) if (at + i >= 0 && at + i < cfg.length) bytes[i] = cfg[at + i];
    return composeLe(bytes);
  }

  /** A write at notify offset 4 q notifies queue q (queue_notify_off = q, multiplier 4). */
  private notifyAt(at: number): void {
    if (at < 0 || at % Layout.NOTIFY_MULTIPLIER !== 0) return;
    const q = at / Layout.NOTIFY_MULTIPLIER;
    if (q < this.rings.length) this.kick(q);
  }

  private enable(q: QueueConfig): void {
    this.rings[q.index] = new SplitQueue(this.ctx, q, { indirect: this.common.indirect, eventIdx: this.common.eventIdx });
  }

  /** Serves every available chain of queue `q`, synchronously, then decides on an interrupt. */
  kick(q: number): void {
    if (this.serving) {
      this.again.add(q);
      return;
    }
    this.serving = true;
    try {
      this.serve(q);
      while (this.again.size > 0) {
        const next = this.again.values().next().value as number;
        this.again.delete(next);
        this.serve(next);
      }
    } finally {
      this.serving = false;
    }
  }

  private live(): boolean {
    const s = this.common.status;
    // §2.1.2: nothing is consumed before DRIVER_OK, nor once the device needs a reset or failed.
    return (s & Status.FEATURES_OK) !== 0 && (s & Status.DRIVER_OK) !== 0 &&
      (s & (Status.DEVICE_NEEDS_RESET | Status.FAILED)) === 0;
  }

  private serve(q: number): void {
    const ring = this.rings[q];
    if (!ring || !this.live()) return;
    for (;;) {
      const popped = ring.pop();
      if (popped.kind === 'empty') break;
      if (popped.kind === 'fault') return this.needsReset(`queue ${q}: ${popped.reason}`);
      let used: number | string;
      try {
        used = this.device.process(q, popped.chain, ring);
      } catch (error) {
        used = `the device model threw: ${(error as Error)?.message ?? String(error)}`;
      }
      if (typeof used === 'string') return this.needsReset(`queue ${q}: chain ${popped.chain.head}: ${used}`);
      if (!ring.push(popped.chain.head, used)) return this.needsReset(`queue ${q}: used ring is not writable by DMA`);
      if (this.rings[q] !== ring || !this.live()) return;
    }
    if (!ring.publishAvailEvent()) return this.needsReset(`queue ${q}: used ring avail_event is not writable by DMA`);
    const wanted = ring.needsInterrupt();
    if (wanted === undefined) return this.needsReset(`queue ${q}: available ring is not readable by DMA`);
    if (wanted) this.signalQueue(q);
  }

  /** §2.1.2: DEVICE_NEEDS_RESET, and a configuration change notification to say so. */
  private needsReset(reason: string): void {
    if ((this.common.status & Status.DEVICE_NEEDS_RESET) !== 0) return;
    this.needsResetReason = reason;
    this.common.status |= Status.DEVICE_NEEDS_RESET;
    this.signalConfig();
  }

  private msixEnabled(): boolean {
    return (this.ctx.configRead(this.layout.msixCap + MSIX_CONTROL, 2) & MSIX_ENABLE) !== 0;
  }

  /** §4.1.5.3/§4.1.5.4: the queue's MSI-X vector, or ISR bit 0 and INTx without MSI-X. */
  private signalQueue(q: number): void {
    if (this.msixEnabled()) {
      const vector = this.common.queues[q].msixVector;
      if (vector !== NO_VECTOR) this.ctx.msix(vector);
      return;
    }
    this.isr |= Isr.QUEUE;
    this.ctx.intx(true);
  }

  /** §4.1.4.5.1: ISR bit 1 is set for every configuration change; then the vector or INTx. */
  private signalConfig(): void {
    this.isr |= Isr.CONFIG;
    if (this.msixEnabled()) {
      const vector = this.common.configMsixVector;
      if (vector !== NO_VECTOR) this.ctx.msix(vector);
      return;
    }
    this.ctx.intx(true);
  }
}
