// TypeScript twin of assembly/dispatch/regfile.ts: register files with a per-byte write mask.
export const REGFILE_MAX = 4096;
const MAX_REGFILES = 4096;

export class Regfiles {
  private readonly files: { values: Uint8Array; mask: Uint8Array; v: DataView; m: DataView }[] = [];

  /** Values and mask are the first `size` bytes of the given arrays (zero beyond their length). */
  create(size: number, values: Uint8Array, mask: Uint8Array): number {
    if (size === 0 || size > REGFILE_MAX || this.files.length >= MAX_REGFILES) return 0xffffffff;
    const v = new Uint8Array(size);
    const m = new Uint8Array(size);
    v.set(values.subarray(0, size));
    m.set(mask.subarray(0, size));
    this.files.push({ values: v, mask: m, v: new DataView(v.buffer), m: new DataView(m.buffer) });
    return this.files.length - 1;
  }

  /** Takes back the newest file (its region was refused): OK, or NOT_FOUND for any other handle. */
  drop(handle: number): number {
    if (this.files.length === 0 || handle !== this.files.length - 1) return -4;
    this.files.pop();
    return 0;
  }

  valid(handle: number): boolean {
    return handle < this.files.length;
  }

  /** How many register files exist (state save and load). */
  count(): number {
    return this.files.length;
  }

  /** A valid handle's bytes and write mask (the arrays themselves). */
  file(handle: number): { values: Uint8Array; mask: Uint8Array } {
    return this.files[handle];
  }

  /** Bytes [offset, offset+size) as lo/hi halves; bytes past the file or `limit` read 0xff. */
  read(handle: number, offset: number, size: number, limit: number, out: { lo: number; hi: number }): void {
    const f = this.files[handle];
    const v = f.values;
    const n = Math.min(v.length, limit);
    if (offset + size <= n && size >= 4) {
      out.lo = f.v.getUint32(offset, true);
      out.hi = size === 8 ? f.v.getUint32(offset + 4, true) : 0;
      return;
    }
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = o < n ? v[o] : 0xff;
      if (i < 4) lo |= b << (8 * i); else hi |= b << (8 * (i - 4));
    }
    out.lo = lo >>> 0;
    out.hi = hi >>> 0;
  }

  write(handle: number, offset: number, size: number, lo: number, hi: number, limit: number): void {
    const f = this.files[handle];
    const n = Math.min(f.values.length, limit);
    if (offset + size <= n && size >= 2) {
      // The whole access is inside: masked read-modify-write a word at a time.
      const v = f.v;
      const m = f.m;
      if (size === 2) {
        v.setUint16(offset, (v.getUint16(offset, true) & ~m.getUint16(offset, true)) | (lo & m.getUint16(offset, true)), true);
        return;
      }
      v.setUint32(offset, (v.getUint32(offset, true) & ~m.getUint32(offset, true)) | (lo & m.getUint32(offset, true)), true);
      if (size === 8) {
        const o = offset + 4;
        v.setUint32(o, (v.getUint32(o, true) & ~m.getUint32(o, true)) | (hi & m.getUint32(o, true)), true);
      }
      return;
    }
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      if (o >= n) break;
      const b = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      const m = f.mask[o];
      f.values[o] = (f.values[o] & ~m) | (b & m);
    }
  }
}
