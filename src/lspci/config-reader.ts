// Little-endian reads from a config-space snapshot. Dumps may be shorter than the structures
// they describe (a 64-byte `lspci -x` dump, a capability pointer past the end), so reads past
// the end yield 0 and callers ask `has()` first when absence must be reported.

/** Bounds-tolerant little-endian view of one function's config bytes. */
export class ConfigReader {
  /** The snapshot being read. */
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Number of bytes captured. */
  get length(): number {
    return this.bytes.length;
  }

  /** True when all of `[offset, offset + len)` was captured. */
  has(offset: number, len: number): boolean {
    return offset >= 0 && offset + len <= this.bytes.length;
  }

  /** Byte at `offset`, 0 when not captured. */
  u8(offset: number): number {
    return this.bytes[offset] ?? 0;
  }

  /** 16-bit little-endian word at `offset`. */
  u16(offset: number): number {
    return this.u8(offset) | (this.u8(offset + 1) << 8);
  }

  /** 32-bit little-endian dword at `offset`, unsigned. */
  u32(offset: number): number {
    return (this.u16(offset) | (this.u16(offset + 2) << 16)) >>> 0;
  }

  /** 64-bit little-endian qword at `offset`. */
  u64(offset: number): bigint {
    return (BigInt(this.u32(offset + 4)) << 32n) | BigInt(this.u32(offset));
  }
}
