// Builds synthetic config spaces for tests, one register write at a time.

/** A config space under construction (little-endian writes). */
export class ConfigBuilder {
  readonly bytes: Uint8Array;

  constructor(size: 64 | 256 | 4096, vendor = 0x1234, device = 0x5678, classCode = 0x0200) {
    this.bytes = new Uint8Array(size);
    this.w16(0x00, vendor).w16(0x02, device).w16(0x0a, classCode);
  }

  w8(off: number, v: number): this {
    this.bytes[off] = v & 0xff;
    return this;
  }

  w16(off: number, v: number): this {
    return this.w8(off, v).w8(off + 1, v >> 8);
  }

  w32(off: number, v: number): this {
    return this.w16(off, v & 0xffff).w16(off + 2, v >>> 16);
  }

  /** Append a standard capability: sets the Cap bit and links it after `prev` (or 0x34). */
  cap(off: number, id: number, prev?: number): this {
    this.w16(0x06, (this.bytes[0x06]! | (this.bytes[0x07]! << 8)) | 0x10);
    this.w8(prev === undefined ? 0x34 : prev + 1, off);
    return this.w8(off, id);
  }

  /** Write an extended capability header. */
  ext(off: number, id: number, version: number, next: number): this {
    return this.w32(off, (id | (version << 16) | (next << 20)) >>> 0);
  }
}
