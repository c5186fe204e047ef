// The common configuration structure (virtio 1.2 §4.1.4.3) as a register model: feature
// negotiation, the device status state machine, queue selection and per-queue setup. Accesses of
// any width at any offset work: each access is split into the bytes of the fields it covers.
//
//   0x00 device_feature_select  u32 RW   0x16 queue_select       u16 RW
//   0x04 device_feature         u32 RO   0x18 queue_size         u16 RW
//   0x08 driver_feature_select  u32 RW   0x1a queue_msix_vector  u16 RW
//   0x0c driver_feature         u32 RW   0x1c queue_enable       u16 RW
//   0x10 config_msix_vector     u16 RW   0x1e queue_notify_off   u16 RO
//   0x12 num_queues             u16 RO   0x20 queue_desc         u64 RW
//   0x14 device_status          u8  RW   0x28 queue_driver       u64 RW
//   0x15 config_generation      u8  RO   0x30 queue_device       u64 RW
import { Feature, NO_VECTOR, Status, bit } from './spec.js';
import type { DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import { SnapshotError } from '../../snapshot/errors.js';

/** Addresses at or above 2^53 are not exact numbers; no guest RAM is there (the DMA refuses 2^53). */
const UNREACHABLE = 2 ** 53;

/** One queue's driver-visible configuration. */
export class QueueConfig {
  size: number;
  msixVector = NO_VECTOR;
  enabled = false;
  /** queue_desc, queue_driver, queue_device as 32-bit halves: [lo, hi] each. */
  readonly addr = new Uint32Array(6);

  constructor(readonly index: number, readonly maxSize: number) {
    this.size = maxSize;
  }

  /** Back to the state after reset: maximum size, no vector, disabled, no addresses. */
  reset(): void {
    this.size = this.maxSize;
    this.msixVector = NO_VECTOR;
    this.enabled = false;
    this.addr.fill(0);
  }

  /** The descriptor table, driver (available) and device (used) areas as numbers. */
  get desc(): number { return join(this.addr[0], this.addr[1]); }
  /** The driver (available ring) area: queue_driver. */
  get driver(): number { return join(this.addr[2], this.addr[3]); }
  /** The device (used ring) area: queue_device. */
  get device(): number { return join(this.addr[4], this.addr[5]); }
}

function join(lo: number, hi: number): number {
  return hi >= 0x200000 ? UNREACHABLE : hi * 4294967296 + lo;
}

/**
 * What a `CommonConfig` is built with: the features and queues it offers, its MSI-X table size, and
 * the transport's hooks.
 */
export interface CommonConfigOptions {
  /** Feature bits the device offers (VERSION_1 is added). */
  offered: bigint;
  /** Maximum size of each queue (powers of two). */
  queueSizes: readonly number[];
  /** MSI-X table size: vectors at or above it read back as NO_VECTOR (§4.1.5.1.2). */
  msixVectors: number;
  /** The driver wrote 0 to device_status: everything is reset (the hook resets this object too). */
  onReset(): void;
  /** The driver wrote 1 to queue_enable of a queue that was disabled. */
  onQueueEnable(queue: QueueConfig): void;
}

interface Field {
  offset: number;
  size: 1 | 2 | 4;
  read(): number;
  write?(value: number): void;
}

/**
 * The common configuration structure (virtio 1.2 §4.1.4.3) as a register model: feature
 * negotiation, the device status state machine, queue selection and per-queue setup. The transport
 * serves it in BAR 4 at 0x0000; accesses of any width at any offset work.
 */
export class CommonConfig {
  readonly offered: bigint;
  readonly queues: QueueConfig[];
  status = 0;
  configGeneration = 0;
  configMsixVector = NO_VECTOR;
  /** Bits the driver has written (frozen once FEATURES_OK is accepted). */
  driverFeatures = 0n;
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private queueSelect = 0;
  private readonly fields: Field[];
  /** Negotiated ring features, cached when FEATURES_OK is accepted. */
  eventIdx = false;
  indirect = false;

  constructor(private readonly o: CommonConfigOptions) {
    this.offered = o.offered | bit(Feature.VERSION_1);
    this.queues = o.queueSizes.map((size, i) => new QueueConfig(i, size));
    const q = () => this.queues[this.queueSelect] as QueueConfig | undefined;
    // queue_desc, queue_driver, queue_device: 64-bit fields kept as 32-bit halves.
    const half = (k: number): Field => ({ offset: 0x20 + 4 * k, size: 4, read: () => q()?.addr[k] ?? 0, write: (v) => this.setAddr(k, v) });
    this.fields = [
      { offset: 0x00, size: 4, read: () => this.deviceFeatureSelect, write: (v) => { this.deviceFeatureSelect = v; } },
      { offset: 0x04, size: 4, read: () => this.featureWord(this.offered, this.deviceFeatureSelect) },
      { offset: 0x08, size: 4, read: () => this.driverFeatureSelect, write: (v) => { this.driverFeatureSelect = v; } },
      { offset: 0x0c, size: 4, read: () => this.featureWord(this.driverFeatures, this.driverFeatureSelect), write: (v) => this.setDriverFeatures(v) },
      { offset: 0x10, size: 2, read: () => this.configMsixVector, write: (v) => { this.configMsixVector = this.vector(v); } },
      { offset: 0x12, size: 2, read: () => this.queues.length },
      { offset: 0x14, size: 1, read: () => this.status, write: (v) => this.setStatus(v) },
      { offset: 0x15, size: 1, read: () => this.configGeneration },
      { offset: 0x16, size: 2, read: () => this.queueSelect, write: (v) => { this.queueSelect = v; } },
      // §4.1.4.3.2: a queue that does not exist reads size 0 ("unavailable") and ignores writes.
      { offset: 0x18, size: 2, read: () => q()?.size ?? 0, write: (v) => this.setQueueSize(v) },
      { offset: 0x1a, size: 2, read: () => q()?.msixVector ?? NO_VECTOR, write: (v) => { const s = q(); if (s) s.msixVector = this.vector(v); } },
      { offset: 0x1c, size: 2, read: () => (q()?.enabled ? 1 : 0), write: (v) => this.setQueueEnable(v) },
      { offset: 0x1e, size: 2, read: () => q()?.index ?? 0 },
      ...[0, 1, 2, 3, 4, 5].map(half),
    ];
  }

  /** Back to the state after power-on (device_status 0). */
  reset(): void {
    this.status = 0;
    this.configMsixVector = NO_VECTOR;
    this.driverFeatures = 0n;
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.queueSelect = 0;
    this.eventIdx = false;
    this.indirect = false;
    for (const q of this.queues) q.reset();
  }

  /** The driver-visible state, for a snapshot (the transport's saveState). */
  saveState(): DeviceState {
    return {
      status: this.status,
      configGeneration: this.configGeneration,
      configMsixVector: this.configMsixVector,
      driverFeatures: this.driverFeatures,
      deviceFeatureSelect: this.deviceFeatureSelect,
      driverFeatureSelect: this.driverFeatureSelect,
      queueSelect: this.queueSelect,
      eventIdx: this.eventIdx,
      indirect: this.indirect,
      queues: this.queues.map((q) => ({ size: q.size, msixVector: q.msixVector, enabled: q.enabled, addr: q.addr.slice() })),
    };
  }

  /** Checks a saved state against this device's queues (throws naming the field); returns what loads it. */
  prepareLoad(r: StateReader): () => void {
    const status = r.get('status').int(0, 0xff);
    const configGeneration = r.get('configGeneration').int(0, 0xff);
    const configMsixVector = r.get('configMsixVector').int(0, 0xffff);
    const driverFeatures = r.get('driverFeatures').big(0n, 0xffffffffffffffffn);
    const deviceFeatureSelect = r.get('deviceFeatureSelect').int(0, 0xffffffff);
    const driverFeatureSelect = r.get('driverFeatureSelect').int(0, 0xffffffff);
    const queueSelect = r.get('queueSelect').int(0, 0xffff);
    const eventIdx = r.get('eventIdx').bool();
    const indirect = r.get('indirect').bool();
    const queues = r.get('queues').items(this.queues.length).map((q, i) => {
      const size = q.get('size').int(1, this.queues[i].maxSize);
      if ((size & (size - 1)) !== 0) throw new SnapshotError(`${q.place}.size`, `${size} is not a power of two`);
      return { size, msixVector: q.get('msixVector').int(0, 0xffff), enabled: q.get('enabled').bool(), addr: q.get('addr').words(6) };
    });
    return () => {
      Object.assign(this, { status, configGeneration, configMsixVector, driverFeatures, eventIdx, indirect });
      this.deviceFeatureSelect = deviceFeatureSelect;
      this.driverFeatureSelect = driverFeatureSelect;
      this.queueSelect = queueSelect;
      queues.forEach((q, i) => {
        const target = this.queues[i];
        target.size = q.size;
        target.msixVector = q.msixVector;
        target.enabled = q.enabled;
        target.addr.set(q.addr);
      });
    };
  }

  /** Whether feature `n` was negotiated (offered, accepted by the driver, FEATURES_OK taken). */
  negotiated(n: number): boolean {
    return (this.status & Status.FEATURES_OK) !== 0 && (this.driverFeatures & bit(n)) !== 0n;
  }

  /** A driver read of `size` bytes at `offset` (a bigint for 8); bytes of no field read 0. */
  read(offset: number, size: number): number | bigint {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const f = this.fieldAt(offset + i);
      if (f) bytes[i] = (f.read() >>> (8 * (offset + i - f.offset))) & 0xff;
    }
    return composeLe(bytes);
  }

  /**
   * A driver write of `size` bytes at `offset`: each field it covers takes the bytes written
   * (read-only fields ignore them).
   */
  write(offset: number, size: number, value: number | bigint): void {
    const bytes = splitLe(value, size);
    // Each field the access touches, in offset order, gets its old value with the written bytes
    // replaced (a 32-bit write to queue_desc's low half, a byte write to device_status).
    for (const f of this.fields) {
      if (f.offset + f.size <= offset || f.offset >= offset + size) continue;
      if (!f.write) continue;
      let v = f.read();
      for (let i = 0; i < f.size; i++) {
        const at = f.offset + i - offset;
        if (at < 0 || at >= size) continue;
        const shift = 8 * i;
        v = (v & ~(0xff << shift)) | (bytes[at] << shift);
      }
      f.write(f.size === 4 ? v >>> 0 : v & ((1 << (8 * f.size)) - 1));
    }
  }

  private fieldAt(at: number): Field | undefined {
    for (const f of this.fields) if (at >= f.offset && at < f.offset + f.size) return f;
    return undefined;
  }

  private featureWord(features: bigint, select: number): number {
    if (select > 1) return 0;
    return Number((features >> BigInt(32 * select)) & 0xffffffffn);
  }

  private setDriverFeatures(v: number): void {
    // §3.1.1: features are fixed once FEATURES_OK is set; later writes are ignored.
    if ((this.status & Status.FEATURES_OK) !== 0 || this.driverFeatureSelect > 1) return;
    const shift = BigInt(32 * this.driverFeatureSelect);
    this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v >>> 0) << shift);
  }

  /** §4.1.5.1.2.1: a vector the MSI-X table does not have is not mapped: it reads NO_VECTOR. */
  private vector(v: number): number {
    return v < this.o.msixVectors ? v : NO_VECTOR;
  }

  /**
   * §2.1 and §3.1.1: 0 resets the device. Otherwise status bits are sticky (a driver must not
   * clear them), DEVICE_NEEDS_RESET is the device's to set, and FEATURES_OK is only taken when
   * the driver accepted nothing the device did not offer and accepted VERSION_1 (§6.1): refused,
   * it reads back clear.
   */
  private setStatus(v: number): void {
    if (v === 0) {
      this.o.onReset();
      return;
    }
    let next = this.status | (v & ~Status.DEVICE_NEEDS_RESET);
    if ((next & Status.FEATURES_OK) !== 0 && (this.status & Status.FEATURES_OK) === 0) {
      const unknown = this.driverFeatures & ~this.offered;
      if (unknown !== 0n || (this.driverFeatures & bit(Feature.VERSION_1)) === 0n) {
        next &= ~Status.FEATURES_OK;
      } else {
        this.status = next;
        this.eventIdx = this.negotiated(Feature.RING_EVENT_IDX);
        this.indirect = this.negotiated(Feature.RING_INDIRECT_DESC);
      }
    }
    this.status = next;
  }

  /** §2.7: split queue sizes are powers of two up to the maximum; other values are ignored. */
  private setQueueSize(v: number): void {
    const q = this.queues[this.queueSelect];
    if (!q || q.enabled) return;
    if (v >= 1 && v <= q.maxSize && (v & (v - 1)) === 0) q.size = v;
  }

  /** §4.1.4.3.2: the driver only ever writes 1; 0 (reserved for queue_reset) is ignored. */
  private setQueueEnable(v: number): void {
    const q = this.queues[this.queueSelect];
    if (!q || q.enabled || v !== 1) return;
    q.enabled = true;
    this.o.onQueueEnable(q);
  }

  private setAddr(k: number, v: number): void {
    const q = this.queues[this.queueSelect];
    // The rings of an enabled queue stay where the device found them.
    if (!q || q.enabled) return;
    q.addr[k] = v >>> 0;
  }
}

/** Little-endian bytes to a register value: a number up to 4 bytes, a bigint for 8. */
export function composeLe(bytes: Uint8Array): number | bigint {
  if (bytes.length === 8) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return v;
  }
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i];
  return v;
}

/** A written register value (number, or bigint for 8 bytes) as `size` little-endian bytes. */
export function splitLe(value: number | bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number.isFinite(value) ? value : 0));
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
