// FNV-1a, 32-bit: a small, stable digest of bytes for comparing states across runtimes and
// backends (the scenario's config digests, a snapshot's topology fingerprint). Not cryptographic.

/** Feeds bytes in; `hex()` gives the digest as 8 hex digits. */
export class Fnv1a {
  private h = 0x811c9dc5;

  /** Mixes in one byte (0..255). */
  byte(b: number): this {
    this.h = Math.imul(this.h ^ b, 0x01000193) >>> 0;
    return this;
  }

  /** Mixes in every byte of `bytes`. */
  bytes(bytes: Iterable<number>): this {
    for (const b of bytes) this.byte(b);
    return this;
  }

  /** The digest so far as 8 lowercase hex digits. */
  hex(): string {
    return this.h.toString(16).padStart(8, '0');
  }
}
