// A virtio-pci modern driver (virtio 1.2 §4.1): finds the common, notify, ISR and device
// configuration structures from the function's vendor-specific capabilities (§4.1.4; nothing at a
// fixed place), runs the initialization sequence (§3.1.1), sets up split virtqueues (§4.1.5.1.3),
// notifies (§4.1.4.4) and takes interrupts: MSI-X messages (§4.1.5.1.2) or INTx and the ISR
// status byte (§4.1.4.5).
import { CapId } from '../config/index.js';
import { GuestError } from './errors.js';
import type { GuestRam } from './guest-ram.js';
import type { GuestInterrupts } from './interrupts.js';
import { PciFunction } from './pci.js';
import type { FoundFunction, GuestBus, MsixTable } from './pci.js';
import { SplitVirtqueue } from './virtqueue.js';

/** PCI vendor of virtio devices, and the first modern device ID (0x1040 + device type, §4.1.2). */
export const VIRTIO_VENDOR = 0x1af4;
/** The first modern virtio device ID: 0x1040 + device type. */
export const VIRTIO_MODERN_DEVICE_BASE = 0x1040;
/** Device types (§5). */
export const VirtioType = { NET: 1, BLOCK: 2, CONSOLE: 3, ENTROPY: 4 } as const;

/** Device status bits (§2.1). */
export const VirtioStatus = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** Reserved feature bits (§6) as bigint masks. */
export const VirtioFeature = {
  INDIRECT_DESC: 1n << 28n,
  EVENT_IDX: 1n << 29n,
  VERSION_1: 1n << 32n,
  ACCESS_PLATFORM: 1n << 33n,
  RING_PACKED: 1n << 34n,
} as const;

/** virtio_pci_cap cfg_type values (§4.1.4). */
export const VirtioPciCapType = { COMMON: 1, NOTIFY: 2, ISR: 3, DEVICE: 4, PCI_CFG: 5 } as const;

/**
 * Fields of struct virtio_pci_common_cfg (§4.1.4.3): offsets inside the structure, which the
 * specification fixes; where the structure is comes from its capability.
 */
export const CommonCfg = {
  DEVICE_FEATURE_SELECT: 0x00,
  DEVICE_FEATURE: 0x04,
  DRIVER_FEATURE_SELECT: 0x08,
  DRIVER_FEATURE: 0x0c,
  CONFIG_MSIX_VECTOR: 0x10,
  NUM_QUEUES: 0x12,
  DEVICE_STATUS: 0x14,
  CONFIG_GENERATION: 0x15,
  QUEUE_SELECT: 0x16,
  QUEUE_SIZE: 0x18,
  QUEUE_MSIX_VECTOR: 0x1a,
  QUEUE_ENABLE: 0x1c,
  QUEUE_NOTIFY_OFF: 0x1e,
  QUEUE_DESC: 0x20,
  QUEUE_DRIVER: 0x28,
  QUEUE_DEVICE: 0x30,
} as const;
/** The common structure up to queue_device: what a 1.0 device must provide. */
export const COMMON_CFG_LENGTH = 0x38;

/** "No vector" for config_msix_vector / queue_msix_vector (§4.1.5.1.2). */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** ISR status bits (§4.1.4.5). */
export const ISR_QUEUE = 1;
/** ISR status bit 1: the device configuration changed. */
export const ISR_CONFIG = 2;

/** One virtio structure: where it is (BAR, offset, length) and its address now. */
export interface VirtioRegion {
  bar: number;
  offset: number;
  length: number;
  address: number;
}

/**
 * Where a device's virtio structures are: common configuration, notifications (with
 * notify_off_multiplier), ISR status, and device configuration if it has one.
 */
export interface VirtioRegions {
  common: VirtioRegion;
  notify: VirtioRegion & { multiplier: number };
  isr: VirtioRegion;
  device?: VirtioRegion;
}

/** The modern virtio functions a scan found (vendor 0x1AF4, device 0x1040 + type). */
export function isVirtioModern(found: FoundFunction, type?: number): boolean {
  if (found.vendorId !== VIRTIO_VENDOR || found.deviceId < VIRTIO_MODERN_DEVICE_BASE || found.deviceId > 0x107f) return false;
  return type === undefined || found.deviceId === VIRTIO_MODERN_DEVICE_BASE + type;
}

/**
 * What a `VirtioPciDevice` drives: the bus, the guest's RAM and interrupt controller, the function,
 * and whether to use MSI-X.
 */
export interface VirtioPciOptions {
  bus: GuestBus;
  ram: GuestRam;
  irq: GuestInterrupts;
  /** The function (from scanFunctions/findFunctions). */
  function: { f: FoundFunction['f'] };
  /** Use MSI-X when the function has it (default true); false: INTx and the ISR byte. */
  msix?: boolean;
}

/** How a virtqueue is set up: its size and the length of its indirect tables. */
export interface QueueSetupOptions {
  /** Entries wanted (default: the device's maximum); the driver uses min(wanted, maximum). */
  size?: number;
  /** Indirect tables' length in descriptors (default 64). */
  indirectMax?: number;
}

/** A bounded wait: a reset that never reads back 0 is a device fault, not a hang. */
const RESET_POLLS = 1000;

/**
 * A virtio-pci modern driver (virtio 1.2 §4.1) for one function: finds its structures from the
 * vendor capabilities, negotiates features, sets up split virtqueues, notifies, and takes
 * interrupts (MSI-X messages, or INTx and the ISR byte). Construction turns on memory decode and
 * bus mastering and, with MSI-X, enables it with every vector masked.
 */
export class VirtioPciDevice {
  readonly fn: PciFunction;
  readonly regions: VirtioRegions;
  readonly bus: GuestBus;
  readonly ram: GuestRam;
  readonly irq: GuestInterrupts;
  /** The MSI-X table, when the driver uses MSI-X. */
  readonly msix: MsixTable | undefined;
  /** Device type (§5): device ID - 0x1040. */
  readonly type: number;
  /** The GSI Interrupt Line names (INTx mode). */
  readonly gsi: number;
  /** Features accepted by the last negotiate(). */
  features = 0n;
  readonly queues: SplitVirtqueue[] = [];
  /** Message data value per MSI-X vector this driver programmed. */
  private readonly vectorData = new Map<number, number>();
  /** MSI-X vector of the config-change interrupt, and per queue (NO_VECTOR: none). */
  private configVector = VIRTIO_MSI_NO_VECTOR;
  private readonly queueVectors: number[] = [];
  private readonly notifyAddresses: number[] = [];
  /** ISR bits read (INTx mode) and not yet claimed by takeQueueInterrupt/takeConfigInterrupt. */
  private isrSeen = 0;
  private readonly common: number;

  constructor(options: VirtioPciOptions) {
    this.bus = options.bus;
    this.ram = options.ram;
    this.irq = options.irq;
    this.fn = new PciFunction(options.bus, options.function.f);
    const deviceId = this.fn.deviceId;
    if (this.fn.vendorId !== VIRTIO_VENDOR || deviceId < VIRTIO_MODERN_DEVICE_BASE || deviceId > 0x107f) {
      throw new GuestError(`${this.fn.bdf}: ${this.fn.vendorId.toString(16)}:${deviceId.toString(16)} is not a modern virtio device (1af4:1040-107f)`);
    }
    this.type = deviceId - VIRTIO_MODERN_DEVICE_BASE;
    this.fn.enableMemoryAndBusMaster();
    this.regions = this.findRegions();
    this.common = this.regions.common.address;
    this.gsi = this.fn.interruptLine;
    const table = this.fn.msix();
    const msix = (options.msix ?? true) ? table : undefined;
    this.msix = msix;
    if (msix) {
      // Linux's order: MSI-X on (entries masked until programmed) before virtio maps vectors to it.
      for (let v = 0; v < msix.size; v++) msix.setMasked(v, true);
      msix.setEnabled(true);
    } else if (table?.enabled) {
      // INTx and the ISR byte (§4.1.5.4): MSI-X must be off for the device to use them.
      table.setEnabled(false);
    }
  }

  /**
   * §4.1.4: the first capability of each cfg_type the driver knows, whose BAR is a memory BAR
   * (bar values 0x6-0xFF are reserved) and whose region fits inside it. Common, notify and ISR
   * are required; device configuration is optional (some device types have none).
   */
  private findRegions(): VirtioRegions {
    const fn = this.fn;
    const found = new Map<number, VirtioRegion & { multiplier?: number }>();
    for (const cap of fn.capabilities()) {
      if (cap.id !== CapId.VENDOR) continue;
      const at = cap.offset;
      const capLen = fn.read8(at + 2);
      const type = fn.read8(at + 3);
      const bar = fn.read8(at + 4);
      if (capLen < 16 || bar > 5 || found.has(type) || type < VirtioPciCapType.COMMON || type > VirtioPciCapType.DEVICE) continue;
      const offset = fn.read32(at + 8);
      const length = fn.read32(at + 12);
      const place = fn.bar(bar);
      if (place?.kind !== 'memory' || place.address === 0 || offset + length > place.size) continue;
      const region: VirtioRegion & { multiplier?: number } = { bar, offset, length, address: place.address + offset };
      if (type === VirtioPciCapType.NOTIFY) {
        if (capLen < 20) continue;
        region.multiplier = fn.read32(at + 16);
      }
      found.set(type, region);
    }
    const need = (type: number, what: string, min: number) => {
      const r = found.get(type);
      if (!r) throw new GuestError(`${fn.bdf}: no usable virtio ${what} capability (cfg_type ${type}) (§4.1.4)`);
      if (r.length < min) throw new GuestError(`${fn.bdf}: the virtio ${what} structure is ${r.length} bytes, fewer than ${min}`);
      return r;
    };
    const common = need(VirtioPciCapType.COMMON, 'common configuration', COMMON_CFG_LENGTH);
    const notify = need(VirtioPciCapType.NOTIFY, 'notification', 2);
    const isr = need(VirtioPciCapType.ISR, 'ISR status', 1);
    return { common, notify: { ...notify, multiplier: notify.multiplier ?? 0 }, isr, device: found.get(VirtioPciCapType.DEVICE) };
  }

  // Common configuration, each field with its natural width (§4.1.3.1).
  private r8(field: number): number { return this.bus.mmioRead(this.common + field, 1); }
  private r16(field: number): number { return this.bus.mmioRead(this.common + field, 2); }
  private r32(field: number): number { return this.bus.mmioRead(this.common + field, 4) >>> 0; }
  private w8(field: number, v: number): void { this.bus.mmioWrite(this.common + field, 1, v); }
  private w16(field: number, v: number): void { this.bus.mmioWrite(this.common + field, 2, v); }
  private w32(field: number, v: number): void { this.bus.mmioWrite(this.common + field, 4, v >>> 0); }
  /** §4.1.3.1: a 64-bit field may be written as its two 32-bit halves, low first. */
  private w64(field: number, v: number): void {
    this.w32(field, v >>> 0);
    this.w32(field + 4, Math.floor(v / 0x100000000) >>> 0);
  }

  /** A common configuration field by its offset (for tests that look at the device directly). */
  readCommon(field: number, size: 1 | 2 | 4): number {
    return size === 1 ? this.r8(field) : size === 2 ? this.r16(field) : this.r32(field);
  }

  /** Writes a common configuration field by its offset (for tests that drive the device directly). */
  writeCommon(field: number, size: 1 | 2 | 4, value: number): void {
    if (size === 1) this.w8(field, value);
    else if (size === 2) this.w16(field, value);
    else this.w32(field, value);
  }

  /** The device_status byte (`VirtioStatus` bits). */
  get status(): number {
    return this.r8(CommonCfg.DEVICE_STATUS);
  }

  /** Sets status bits on top of those there (§3.1.1: the driver only ever adds bits until reset). */
  addStatus(bits: number): void {
    this.w8(CommonCfg.DEVICE_STATUS, this.status | bits);
  }

  /** Whether the device set DEVICE_NEEDS_RESET (it met something it cannot go on from). */
  get needsReset(): boolean {
    return (this.status & VirtioStatus.DEVICE_NEEDS_RESET) !== 0;
  }

  /**
   * §4.1.4.3.2: writing 0 to device_status resets the device; the driver waits until it reads 0.
   * The driver's queues are forgotten (their memory stays; the device no longer uses it), and so
   * are interrupts that arrived before the reset (as Linux synchronizes its vectors on reset).
   */
  reset(): void {
    this.w8(CommonCfg.DEVICE_STATUS, 0);
    let polls = 0;
    while (this.status !== 0) {
      if (++polls >= RESET_POLLS) throw new GuestError(`${this.fn.bdf}: device_status still reads 0x${this.status.toString(16)} after reset`);
    }
    for (const data of this.vectorData.values()) this.irq.takeAll(data);
    if (!this.msix && this.irq.lineHigh(this.gsi)) this.readIsr();
    this.queues.length = 0;
    this.queueVectors.length = 0;
    this.notifyAddresses.length = 0;
    this.configVector = VIRTIO_MSI_NO_VECTOR;
    this.features = 0n;
    this.isrSeen = 0;
  }

  /** §3.1.1 steps 1-3: reset, ACKNOWLEDGE, DRIVER. */
  begin(): void {
    this.reset();
    this.addStatus(VirtioStatus.ACKNOWLEDGE);
    this.addStatus(VirtioStatus.DRIVER);
  }

  /** The 64 feature bits the device offers (device_feature_select 0 and 1, §4.1.4.3). */
  deviceFeatures(): bigint {
    this.w32(CommonCfg.DEVICE_FEATURE_SELECT, 0);
    const lo = this.r32(CommonCfg.DEVICE_FEATURE);
    this.w32(CommonCfg.DEVICE_FEATURE_SELECT, 1);
    const hi = this.r32(CommonCfg.DEVICE_FEATURE);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Writes the driver's feature bits (both halves). */
  writeDriverFeatures(features: bigint): void {
    this.w32(CommonCfg.DRIVER_FEATURE_SELECT, 0);
    this.w32(CommonCfg.DRIVER_FEATURE, Number(features & 0xffffffffn));
    this.w32(CommonCfg.DRIVER_FEATURE_SELECT, 1);
    this.w32(CommonCfg.DRIVER_FEATURE, Number((features >> 32n) & 0xffffffffn));
  }

  /**
   * §3.1.1 steps 4-6: accepts `wanted` ∩ offered (VERSION_1 is always required, §6.1), sets
   * FEATURES_OK and checks it stuck. A device that lacks a required feature, or refuses the set,
   * gets FAILED and a GuestError.
   */
  negotiate(wanted: bigint, required = 0n): bigint {
    const offered = this.deviceFeatures();
    const must = required | VirtioFeature.VERSION_1;
    if ((offered & must) !== must) {
      this.addStatus(VirtioStatus.FAILED);
      throw new GuestError(`${this.fn.bdf}: the device does not offer required features 0x${(must & ~offered).toString(16)} (offered 0x${offered.toString(16)})`);
    }
    const accepted = (wanted | must) & offered;
    this.writeDriverFeatures(accepted);
    this.addStatus(VirtioStatus.FEATURES_OK);
    if ((this.status & VirtioStatus.FEATURES_OK) === 0) {
      this.addStatus(VirtioStatus.FAILED);
      throw new GuestError(`${this.fn.bdf}: the device did not accept features 0x${accepted.toString(16)} (FEATURES_OK did not stick)`);
    }
    this.features = accepted;
    return accepted;
  }

  /** Whether every bit of `feature` (a `VirtioFeature` mask) was accepted by the last negotiate(). */
  has(feature: bigint): boolean {
    return (this.features & feature) === feature;
  }

  /** The num_queues field: how many virtqueues the device has. */
  get numQueues(): number {
    return this.r16(CommonCfg.NUM_QUEUES);
  }

  /** The largest size queue `index` supports (0: no such queue). */
  queueMaxSize(index: number): number {
    this.w16(CommonCfg.QUEUE_SELECT, index);
    return this.r16(CommonCfg.QUEUE_SIZE);
  }

  /** The MSI-X message this driver programmed into `vector` (allocated on first use). */
  private messageFor(vector: number): number {
    let data = this.vectorData.get(vector);
    if (data === undefined) {
      const message = this.irq.allocMessage();
      data = message.data;
      this.vectorData.set(vector, data);
      this.msix!.setEntry(vector, message);
    }
    return data;
  }

  /** The message data of an MSI-X vector this driver uses (undefined in INTx mode). */
  dataOfVector(vector: number): number | undefined {
    return this.vectorData.get(vector);
  }

  /**
   * §4.1.5.1.2: maps config changes to MSI-X vector 0 (read back: NO_VECTOR means the device
   * could not). Done once features are negotiated; nothing in INTx mode.
   */
  setupConfigVector(vector = 0): void {
    if (!this.msix) return;
    this.messageFor(vector);
    this.w16(CommonCfg.CONFIG_MSIX_VECTOR, vector);
    const got = this.r16(CommonCfg.CONFIG_MSIX_VECTOR);
    if (got !== vector) throw new GuestError(`${this.fn.bdf}: config_msix_vector reads 0x${got.toString(16)} after writing ${vector} (§4.1.5.1.2)`);
    this.configVector = vector;
  }

  /**
   * §4.1.5.1.3: selects the queue, sizes it, writes the three ring addresses, maps its MSI-X
   * vector (queue index + 1, or the last vector when the table is smaller), enables it.
   */
  setupQueue(index: number, options: QueueSetupOptions = {}): SplitVirtqueue {
    const max = this.queueMaxSize(index);
    if (max === 0) throw new GuestError(`${this.fn.bdf}: queue ${index} is not available (queue_size 0)`);
    if (this.r16(CommonCfg.QUEUE_ENABLE) !== 0) throw new GuestError(`${this.fn.bdf}: queue ${index} is already enabled`);
    const size = 2 ** Math.floor(Math.log2(Math.min(options.size ?? max, max)));
    const q = new SplitVirtqueue(this.ram, {
      index, size, eventIdx: this.has(VirtioFeature.EVENT_IDX), indirect: this.has(VirtioFeature.INDIRECT_DESC),
      indirectMax: options.indirectMax,
    });
    this.programQueue(index, { size, desc: q.desc, driver: q.avail, device: q.used });
    this.queues[index] = q;
    return q;
  }

  /**
   * The register part of queue setup, with whatever ring addresses the caller gives (setupQueue
   * passes its rings; tests pass addresses a device must refuse to use): queue_select,
   * queue_size, queue_desc/driver/device, queue_msix_vector (read back), queue_enable. Returns
   * the queue's notification address.
   */
  programQueue(index: number, rings: { size: number; desc: number; driver: number; device: number }): number {
    this.w16(CommonCfg.QUEUE_SELECT, index);
    if (rings.size !== this.r16(CommonCfg.QUEUE_SIZE)) this.w16(CommonCfg.QUEUE_SIZE, rings.size);
    this.w64(CommonCfg.QUEUE_DESC, rings.desc);
    this.w64(CommonCfg.QUEUE_DRIVER, rings.driver);
    this.w64(CommonCfg.QUEUE_DEVICE, rings.device);
    let vector = VIRTIO_MSI_NO_VECTOR;
    if (this.msix) {
      vector = Math.min(index + 1, this.msix.size - 1);
      this.messageFor(vector);
      this.w16(CommonCfg.QUEUE_MSIX_VECTOR, vector);
      const got = this.r16(CommonCfg.QUEUE_MSIX_VECTOR);
      if (got !== vector) throw new GuestError(`${this.fn.bdf}: queue ${index}: queue_msix_vector reads 0x${got.toString(16)} after writing ${vector} (§4.1.5.1.2)`);
    }
    // §4.1.4.4: cap.offset + queue_notify_off * notify_off_multiplier, inside the notify structure.
    const n = this.regions.notify;
    const offset = this.r16(CommonCfg.QUEUE_NOTIFY_OFF) * n.multiplier;
    if (offset + 2 > n.length) throw new GuestError(`${this.fn.bdf}: queue ${index}: notify offset ${offset} is outside the ${n.length}-byte notify structure`);
    this.w16(CommonCfg.QUEUE_ENABLE, 1);
    this.queueVectors[index] = vector;
    this.notifyAddresses[index] = n.address + offset;
    return n.address + offset;
  }

  /** §3.1.1 step 8: DRIVER_OK. */
  driverOk(): void {
    this.addStatus(VirtioStatus.DRIVER_OK);
  }

  /**
   * The whole §3.1.1 sequence: reset, ACKNOWLEDGE, DRIVER, negotiate, config vector, queues,
   * `setup` (device-specific, before DRIVER_OK), DRIVER_OK. Returns the accepted features.
   */
  initialize(o: { features: bigint; required?: bigint; queues: QueueSetupOptions[]; setup?: () => void }): bigint {
    this.begin();
    const accepted = this.negotiate(o.features, o.required);
    this.setupConfigVector();
    o.queues.forEach((q, i) => this.setupQueue(i, q));
    o.setup?.();
    this.driverOk();
    return accepted;
  }

  /** §4.1.4.4: the queue's index, written (16 bits) to its notification address. */
  notify(q: SplitVirtqueue): void {
    this.bus.mmioWrite(this.notifyAddresses[q.index], 2, q.index);
    q.kicked();
  }

  /** Notifies if the device asked to hear about what was added (event index or flags); returns whether it did. */
  kick(q: SplitVirtqueue): boolean {
    if (!q.kickNeeded()) return false;
    this.notify(q);
    return true;
  }

  /** The notification address of a queue set up here. */
  notifyAddress(index: number): number {
    return this.notifyAddresses[index];
  }

  /** §4.1.4.5: reads (and so clears) the ISR status byte; the device deasserts INTx. */
  readIsr(): number {
    return this.bus.mmioRead(this.regions.isr.address, 1);
  }

  /** INTx mode: if the line is up, read the ISR and keep its bits. */
  private pollIsr(): void {
    if (this.irq.lineHigh(this.gsi)) this.isrSeen |= this.readIsr();
  }

  /**
   * Takes one queue interrupt for `q` if one arrived: its MSI-X message, or in INTx mode the
   * line up and ISR bit 0. Returns whether there was one.
   */
  takeQueueInterrupt(q: SplitVirtqueue): boolean {
    if (this.msix) {
      const vector = this.queueVectors[q.index];
      return vector !== VIRTIO_MSI_NO_VECTOR && this.irq.take(this.vectorData.get(vector)!);
    }
    this.pollIsr();
    if ((this.isrSeen & ISR_QUEUE) === 0) return false;
    this.isrSeen &= ~ISR_QUEUE;
    return true;
  }

  /** Takes one configuration-change interrupt if one arrived (MSI-X config vector, or ISR bit 1). */
  takeConfigInterrupt(): boolean {
    if (this.msix) {
      return this.configVector !== VIRTIO_MSI_NO_VECTOR && this.irq.take(this.vectorData.get(this.configVector)!);
    }
    this.pollIsr();
    if ((this.isrSeen & ISR_CONFIG) === 0) return false;
    this.isrSeen &= ~ISR_CONFIG;
    return true;
  }

  /** The config_generation field: changes whenever the device configuration does. */
  get configGeneration(): number {
    return this.r8(CommonCfg.CONFIG_GENERATION);
  }

  private deviceCfg(offset: number, size: number): number {
    const d = this.regions.device;
    if (!d) throw new GuestError(`${this.fn.bdf}: the device has no device configuration structure`);
    if (offset + size > d.length) throw new GuestError(`${this.fn.bdf}: device configuration ${offset}+${size} is past its ${d.length} bytes`);
    return d.address + offset;
  }

  /** A device configuration field of 1, 2 or 4 bytes. */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    const v = this.bus.mmioRead(this.deviceCfg(offset, size), size);
    return size === 4 ? v >>> 0 : v;
  }

  /**
   * Reads device configuration consistently (§4.1.4.3.1 / §2.5.1): config_generation before and
   * after, again while they differ.
   */
  readConfigStable<T>(read: () => T): T {
    for (let tries = 0; tries < 100; tries++) {
      const before = this.configGeneration;
      const value = read();
      if (this.configGeneration === before) return value;
    }
    throw new GuestError(`${this.fn.bdf}: config_generation keeps changing`);
  }

  /** A 64-bit device configuration field as two 32-bit reads within one generation. */
  readConfig64(offset: number): number {
    return this.readConfigStable(() => this.readConfig(offset, 4) + this.readConfig(offset + 4, 4) * 0x100000000);
  }
}
