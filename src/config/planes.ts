// The three byte planes of one function's config space, as the policy layer builds them before
// handing them to a core: the register bytes, the write mask and the write-1-to-clear mask.

/** Little-endian field helpers over the config, wmask and w1cmask planes of one function. */
export class ConfigPlanes {
  readonly config: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1cmask: Uint8Array;

  constructor(readonly size: 256 | 4096) {
    this.config = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
  }

  /** Sets a read-only field: value written, no writable or W1C bits. */
  ro(offset: number, width: 1 | 2 | 4, value: number): this {
    return this.field(offset, width, value, 0, 0);
  }

  /** Sets a field with a value, a write mask and a write-1-to-clear mask (disjoint). */
  field(offset: number, width: 1 | 2 | 4, value: number, wmask: number, w1cmask = 0): this {
    put(this.config, offset, width, value);
    put(this.wmask, offset, width, wmask);
    put(this.w1cmask, offset, width, w1cmask);
    return this;
  }

  /** Changes only the masks of a field, keeping its bytes (used when cloning real dumps). */
  masks(offset: number, width: 1 | 2 | 4, wmask: number, w1cmask = 0): this {
    put(this.wmask, offset, width, wmask);
    put(this.w1cmask, offset, width, w1cmask);
    return this;
  }

  /** Reads a little-endian field of the config plane. */
  get(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.config[offset + i];
    return v;
  }
}

function put(plane: Uint8Array, offset: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) plane[offset + i] = (value >>> (8 * i)) & 0xff;
}
