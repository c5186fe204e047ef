// Guest RAM as the guest sees it: bytes it owns, registered with the bus so devices can DMA into
// them, little-endian accessors by guest-physical address, and a bump allocator (rings, buffers).
import type { Bus } from '../bus.js';
import { GuestError } from './errors.js';

/** Where a guest's RAM is and how big, and where its allocator starts. */
export interface GuestRamOptions {
  /** Bytes, a multiple of 4 KiB (default 16 MiB). */
  size?: number;
  /** Guest-physical base, 4 KiB aligned (default 0). */
  base?: number;
  /** The first address the allocator hands out (default base + 4 KiB: address 0 stays unused). */
  allocStart?: number;
}

/**
 * A guest's RAM: bytes it owns, registered with the bus (`attach`) so devices can DMA into them,
 * little-endian accessors by guest-physical address, and a bump allocator. Addresses outside the
 * RAM throw GuestError.
 */
export class GuestRam {
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly size: number;
  private readonly view: DataView;
  private next: number;

  constructor(options: GuestRamOptions = {}) {
    this.size = options.size ?? 16 << 20;
    this.base = options.base ?? 0;
    if (!Number.isInteger(this.size) || this.size <= 0 || this.size % 4096 !== 0) throw new GuestError(`guest RAM: size ${this.size} is not a positive multiple of 4 KiB`);
    if (!Number.isInteger(this.base) || this.base < 0 || this.base % 4096 !== 0) throw new GuestError(`guest RAM: base ${this.base} is not 4 KiB aligned`);
    this.bytes = new Uint8Array(this.size);
    this.view = new DataView(this.bytes.buffer);
    this.next = options.allocStart ?? this.base + 4096;
  }

  /** Registers the RAM with the bus (bus.dma.addRam with these bytes); returns the region index. */
  attach(bus: Bus): number {
    return bus.dma.addRam({ base: this.base, size: this.size, buffer: this.bytes });
  }

  /** The first guest-physical address past the RAM. */
  get end(): number {
    return this.base + this.size;
  }

  /**
   * Allocates `size` bytes aligned to `align` (a power of two), zero-filled; returns the
   * guest-physical address. Nothing is ever freed (see mark/release).
   */
  alloc(size: number, align = 16): number {
    if (!Number.isInteger(size) || size < 0) throw new GuestError(`guest RAM: alloc(${size}): not a byte count`);
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) throw new GuestError(`guest RAM: alloc: alignment ${align} is not a power of two`);
    const at = Math.ceil(this.next / align) * align;
    if (at + size > this.end) throw new GuestError(`guest RAM: alloc(${size}, ${align}): ${this.end - this.next} bytes left`);
    this.next = at + size;
    this.bytes.fill(0, at - this.base, at - this.base + size);
    return at;
  }

  /** Where the allocator stands (for release). */
  mark(): number {
    return this.next;
  }

  /** Gives back everything allocated since `mark` (the caller no longer uses it). */
  release(mark: number): void {
    if (mark > this.next || mark < this.base) throw new GuestError(`guest RAM: release(0x${mark.toString(16)}): not a mark of this allocator`);
    this.next = mark;
  }

  private at(gpa: number, length: number): number {
    const off = gpa - this.base;
    if (!(off >= 0 && off + length <= this.size)) throw new GuestError(`guest RAM: 0x${gpa.toString(16)} (+${length}) is outside the RAM`);
    return off;
  }

  /** The byte at guest-physical `gpa`. */
  u8(gpa: number): number { return this.bytes[this.at(gpa, 1)]; }
  /** The little-endian 16-bit value at `gpa`. */
  u16(gpa: number): number { return this.view.getUint16(this.at(gpa, 2), true); }
  /** The little-endian 32-bit value at `gpa`. */
  u32(gpa: number): number { return this.view.getUint32(this.at(gpa, 4), true); }
  /** A 64-bit field as a number (exact below 2^53, which covers every guest address). */
  u64(gpa: number): number {
    const off = this.at(gpa, 8);
    return this.view.getUint32(off, true) + this.view.getUint32(off + 4, true) * 0x100000000;
  }

  /** Writes a byte at `gpa`. */
  setU8(gpa: number, v: number): void { this.bytes[this.at(gpa, 1)] = v; }
  /** Writes a little-endian 16-bit value at `gpa`. */
  setU16(gpa: number, v: number): void { this.view.setUint16(this.at(gpa, 2), v, true); }
  /** Writes a little-endian 32-bit value at `gpa`. */
  setU32(gpa: number, v: number): void { this.view.setUint32(this.at(gpa, 4), v >>> 0, true); }
  /** Writes a little-endian 64-bit value at `gpa` (a number, exact below 2^53). */
  setU64(gpa: number, v: number): void {
    const off = this.at(gpa, 8);
    this.view.setUint32(off, v >>> 0, true);
    this.view.setUint32(off + 4, Math.floor(v / 0x100000000) >>> 0, true);
  }

  /** A view of [gpa, gpa + length) (no copy: it sees later device writes). */
  view8(gpa: number, length: number): Uint8Array {
    const off = this.at(gpa, length);
    return this.bytes.subarray(off, off + length);
  }

  /** A copy of [gpa, gpa + length). */
  read(gpa: number, length: number): Uint8Array {
    return this.view8(gpa, length).slice();
  }

  /** Copies `data` into the RAM at `gpa`. */
  write(gpa: number, data: Uint8Array): void {
    this.bytes.set(data, this.at(gpa, data.length));
  }

  /** Sets `length` bytes from `gpa` on to `value`. */
  fill(gpa: number, length: number, value: number): void {
    const off = this.at(gpa, length);
    this.bytes.fill(value, off, off + length);
  }
}
