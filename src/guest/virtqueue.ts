// The driver side of a split virtqueue (virtio 1.2 §2.7) in guest RAM: the descriptor table, the
// available ring the driver writes and the used ring the device writes. Buffers go in as chains
// of descriptors (direct, or one descriptor pointing at an indirect table, §2.7.5.3), the driver
// decides whether a notification is needed (VIRTQ_USED_F_NO_NOTIFY or, with VIRTIO_F_EVENT_IDX,
// avail_event, §2.7.7/§2.7.10) and takes used elements back, checking what the device returned.
//
//   descriptor table (align 16)   16 bytes each: addr u64 | len u32 | flags u16 | next u16
//   available ring   (align 2)    flags u16 | idx u16 | ring[size] u16 | used_event u16
//   used ring        (align 4)    flags u16 | idx u16 | ring[size] { id u32, len u32 } | avail_event u16
import { GuestError } from './errors.js';
import type { GuestRam } from './guest-ram.js';

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
/** Descriptor flag: the buffer is device-writable. */
export const VIRTQ_DESC_F_WRITE = 2;
/** Descriptor flag: the buffer is an indirect table of descriptors. */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail.flags (§2.7.6): the driver asks for no interrupts (ignored by the device under EVENT_IDX). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used.flags (§2.7.8): the device asks for no notifications (ignored by the driver under EVENT_IDX). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Bytes per descriptor: addr u64, len u32, flags u16, next u16. */
export const DESC_SIZE = 16;

/** Bytes of each part of a split virtqueue of `size` entries (§2.7: with the event fields). */
export function ringBytes(size: number): { desc: number; avail: number; used: number } {
  return { desc: DESC_SIZE * size, avail: 6 + 2 * size, used: 6 + 8 * size };
}

/**
 * §2.7.10 (and §2.7.7.2): with event indexes, the other side wants to hear when the index it
 * published (`event`) was passed by the move from `old` to `now` (16-bit wrapping arithmetic).
 */
export function needEvent(event: number, now: number, old: number): boolean {
  return ((now - event - 1) & 0xffff) < ((now - old) & 0xffff);
}

/** One buffer of a chain: `write` for device-writable (what the device fills). */
export interface BufferSpec {
  addr: number;
  len: number;
  write?: boolean;
}

/** An element of the used ring: the chain the device returned and how much it wrote. */
export interface UsedElement {
  /** The head of the chain the device used. */
  id: number;
  /** Bytes the device wrote into the chain's device-writable buffers. */
  len: number;
}

/** A descriptor as written to the table, unchecked (`writeDescriptor`: tests of device robustness). */
export interface RawDescriptor {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** A split virtqueue's index, size and the ring features negotiated. */
export interface SplitVirtqueueOptions {
  /** The queue's index on its device (what a notification names). */
  index: number;
  /** Entries: a power of two, 1..32768 (§2.7). */
  size: number;
  /** VIRTIO_F_EVENT_IDX negotiated: used_event/avail_event instead of the flags. */
  eventIdx?: boolean;
  /** VIRTIO_F_INDIRECT_DESC negotiated: add() may use indirect tables. */
  indirect?: boolean;
  /** Descriptors per indirect table (default 64). */
  indirectMax?: number;
}

/**
 * The driver side of a split virtqueue (virtio 1.2 §2.7) in guest RAM: allocates the descriptor
 * table and both rings, adds chains (direct or indirect), decides whether the device needs a
 * notification, and takes used elements back, checking what the device returned.
 */
export class SplitVirtqueue {
  readonly index: number;
  readonly size: number;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  readonly indirectMax: number;
  /** Guest-physical addresses of the three parts. */
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  /** Free descriptor indexes (a stack). */
  private readonly free: number[] = [];
  /** Per head: ring descriptors the chain holds (0: not a head in flight; -1: published raw). */
  private readonly chainLength: Int32Array;
  private indirectPool = 0;
  /** The driver's copy of avail.idx, and where it stood at the last notification. */
  private availIdx = 0;
  private kickedAt = 0;
  /** The next used ring entry to read. */
  private lastUsed = 0;
  private inFlight = 0;

  constructor(private readonly ram: GuestRam, options: SplitVirtqueueOptions) {
    const { size } = options;
    if (!Number.isInteger(size) || size < 1 || size > 32768 || (size & (size - 1)) !== 0) {
      throw new GuestError(`virtqueue ${options.index}: size ${size} is not a power of two in 1..32768`);
    }
    this.index = options.index;
    this.size = size;
    this.eventIdx = options.eventIdx ?? false;
    this.indirect = options.indirect ?? false;
    this.indirectMax = options.indirectMax ?? 64;
    const bytes = ringBytes(size);
    // §2.7: alignment 16 for the descriptor table, 2 for the available ring, 4 for the used ring.
    this.desc = ram.alloc(bytes.desc, 16);
    this.avail = ram.alloc(bytes.avail, 2);
    this.used = ram.alloc(bytes.used, 4);
    this.chainLength = new Int32Array(size);
    for (let i = size - 1; i >= 0; i--) this.free.push(i);
  }

  /** Descriptors free in the table. */
  get numFree(): number {
    return this.free.length;
  }

  /** Chains handed to the device and not yet taken back. */
  get outstanding(): number {
    return this.inFlight;
  }

  /** The driver's avail.idx. */
  get availIndex(): number {
    return this.availIdx;
  }

  /** The next used index the driver will read. */
  get lastUsedIndex(): number {
    return this.lastUsed;
  }

  private writeDesc(at: number, addr: number, len: number, flags: number, next: number): void {
    const ram = this.ram;
    ram.setU64(at, addr);
    ram.setU32(at + 8, len);
    ram.setU16(at + 12, flags);
    ram.setU16(at + 14, next);
  }

  /**
   * Adds a chain (device-readable buffers first, then device-writable ones, §2.7.4.2) and makes it
   * available; returns its head. `indirect` puts the buffers in an indirect table (needs
   * VIRTIO_F_INDIRECT_DESC). The device hears of it at the next notify (see kickNeeded).
   */
  add(buffers: readonly BufferSpec[], options: { indirect?: boolean } = {}): number {
    const n = buffers.length;
    if (n === 0) throw new GuestError(`virtqueue ${this.index}: a chain needs at least one buffer`);
    if (n > this.size) throw new GuestError(`virtqueue ${this.index}: a chain of ${n} buffers is longer than the queue (${this.size}) (§2.7.5.3.1)`);
    let seenWrite = false;
    for (const b of buffers) {
      if (b.write) seenWrite = true;
      else if (seenWrite) throw new GuestError(`virtqueue ${this.index}: a device-readable buffer after a device-writable one (§2.7.4.2)`);
    }
    const useIndirect = options.indirect ?? false;
    if (useIndirect) {
      if (!this.indirect) throw new GuestError(`virtqueue ${this.index}: indirect descriptors were not negotiated`);
      if (n > this.indirectMax) throw new GuestError(`virtqueue ${this.index}: ${n} buffers do not fit an indirect table of ${this.indirectMax}`);
    }
    const needed = useIndirect ? 1 : n;
    if (this.free.length < needed) throw new GuestError(`virtqueue ${this.index}: ${needed} descriptors needed, ${this.free.length} free`);
    let head: number;
    if (useIndirect) {
      head = this.free.pop()!;
      if (this.indirectPool === 0) this.indirectPool = this.ram.alloc(this.size * this.indirectMax * DESC_SIZE, 16);
      const table = this.indirectPool + head * this.indirectMax * DESC_SIZE;
      for (let i = 0; i < n; i++) {
        const b = buffers[i];
        const flags = (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
        this.writeDesc(table + i * DESC_SIZE, b.addr, b.len, flags, i + 1 < n ? i + 1 : 0);
      }
      // §2.7.5.3.1: the table's length in bytes; neither NEXT nor WRITE on this descriptor.
      this.writeDesc(this.desc + head * DESC_SIZE, table, n * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
      this.chainLength[head] = 1;
    } else {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push(this.free.pop()!);
      head = ids[0];
      for (let i = 0; i < n; i++) {
        const b = buffers[i];
        const last = i + 1 === n;
        const flags = (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
        this.writeDesc(this.desc + ids[i] * DESC_SIZE, b.addr, b.len, flags, last ? 0 : ids[i + 1]);
      }
      this.chainLength[head] = n;
    }
    this.inFlight++;
    this.publishHead(head);
    return head;
  }

  /** §2.7.13.2-3: the head goes in the next ring slot, then avail.idx moves past it. */
  private publishHead(head: number): void {
    const ram = this.ram;
    ram.setU16(this.avail + 4 + 2 * (this.availIdx & (this.size - 1)), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    ram.setU16(this.avail + 2, this.availIdx);
  }

  /**
   * Whether the device asked to be notified of what was added since the last notification:
   * avail_event passed (EVENT_IDX, §2.7.10), or VIRTQ_USED_F_NO_NOTIFY clear.
   */
  kickNeeded(): boolean {
    if (this.availIdx === this.kickedAt) return false;
    if (this.eventIdx) return needEvent(this.availEvent(), this.availIdx, this.kickedAt);
    return (this.ram.u16(this.used) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** Records that the device was notified of everything available now. */
  kicked(): void {
    this.kickedAt = this.availIdx;
  }

  /** avail_event, which the device writes after the used ring (EVENT_IDX). */
  availEvent(): number {
    return this.ram.u16(this.used + 4 + 8 * this.size);
  }

  /** used.idx as the device left it. */
  usedIdx(): number {
    return this.ram.u16(this.used + 2);
  }

  /** Whether the device has used a chain the driver has not taken yet. */
  hasUsed(): boolean {
    return this.usedIdx() !== this.lastUsed;
  }

  /**
   * The next used element, its chain's descriptors freed; undefined if none. A device that
   * returns a head not in flight, or more elements than were made available, is a GuestError.
   */
  takeUsed(): UsedElement | undefined {
    const usedIdx = this.usedIdx();
    if (usedIdx === this.lastUsed) return undefined;
    const ahead = (usedIdx - this.lastUsed) & 0xffff;
    if (ahead > this.size) throw new GuestError(`virtqueue ${this.index}: used.idx ${usedIdx} is ${ahead} entries past ${this.lastUsed}, more than the queue holds`);
    const at = this.used + 4 + 8 * (this.lastUsed & (this.size - 1));
    const id = this.ram.u32(at);
    const len = this.ram.u32(at + 4);
    if (id >= this.size || this.chainLength[id] === 0) {
      throw new GuestError(`virtqueue ${this.index}: the device used id ${id}, which is not a chain in flight (used index ${this.lastUsed})`);
    }
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    this.release(id);
    // EVENT_IDX: ask for an interrupt at the next completion again (unless the caller says otherwise).
    if (this.eventIdx && this.interruptsWanted) this.ram.setU16(this.avail + 4 + 2 * this.size, this.lastUsed);
    return { id, len };
  }

  /** Every used element waiting, oldest first. */
  takeAllUsed(): UsedElement[] {
    const out: UsedElement[] = [];
    for (let e = this.takeUsed(); e !== undefined; e = this.takeUsed()) out.push(e);
    return out;
  }

  private release(head: number): void {
    const n = this.chainLength[head];
    this.chainLength[head] = 0;
    this.inFlight--;
    if (n < 0) return;
    let i = head;
    for (let k = 0; k < n; k++) {
      this.free.push(i);
      i = this.ram.u16(this.desc + i * DESC_SIZE + 14);
    }
  }

  private interruptsWanted = true;

  /**
   * Asks the device for interrupts after used buffers (true, the default) or for none: avail.flags
   * VIRTQ_AVAIL_F_NO_INTERRUPT, or under EVENT_IDX used_event set to the next entry (on) or half
   * the index space away (off). Advisory: the device may interrupt anyway (§2.7.7).
   */
  setInterrupts(on: boolean): void {
    this.interruptsWanted = on;
    if (this.eventIdx) this.setUsedEvent(on ? this.lastUsed : (this.lastUsed + 0x7fff) & 0xffff);
    else this.ram.setU16(this.avail, on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  /**
   * EVENT_IDX: the device interrupts when used.idx moves past `index` (§2.7.10). Stays until the
   * next setInterrupts(true) or takeUsed with interrupts wanted.
   */
  setUsedEvent(index: number): void {
    this.ram.setU16(this.avail + 4 + 2 * this.size, index & 0xffff);
  }

  /** Leaves used_event alone when taking used elements (for tests that set it by hand). */
  holdUsedEvent(): void {
    this.interruptsWanted = false;
  }

  // Raw access, for drivers that must misbehave on purpose (tests of device robustness).

  /** Writes descriptor `i` of the table as given (no checks, no bookkeeping). */
  writeDescriptor(i: number, d: RawDescriptor): void {
    this.writeDesc(this.desc + (i & 0xffff) * DESC_SIZE, d.addr, d.len, d.flags, d.next);
  }

  /**
   * Makes `head` available as it is (any value, even past the table); takeUsed later accepts it
   * without freeing descriptors.
   */
  publishRaw(head: number): void {
    if (head >= 0 && head < this.size && this.chainLength[head] === 0) {
      this.chainLength[head] = -1;
      this.inFlight++;
    }
    this.publishHead(head & 0xffff);
  }

  /** Moves avail.idx by `count` without writing ring entries (a driver lying about what it added). */
  advanceAvailRaw(count: number): void {
    this.availIdx = (this.availIdx + count) & 0xffff;
    this.ram.setU16(this.avail + 2, this.availIdx);
  }

  /** Takes a descriptor index off the free list (so raw chains can use it). */
  reserveDescriptor(): number {
    const i = this.free.pop();
    if (i === undefined) throw new GuestError(`virtqueue ${this.index}: no free descriptor`);
    return i;
  }
}
