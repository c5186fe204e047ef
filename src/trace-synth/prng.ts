// A small seeded generator for the synthesized traces: a 32-bit xorshift (shifts 13, 17, 5) with
// the seed spread by a multiplicative hash first, so seeds 0, 1, 2 start far apart. Not for
// anything but reproducible test input.

export class Prng {
  private state: number;

  constructor(seed: number) {
    let s = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    s ^= s >>> 16;
    this.state = s === 0 ? 0x6d2b79f5 : s;
    for (let i = 0; i < 4; i++) this.u32();
  }

  /** The next 32 bits. */
  u32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  /** An integer in [0, n) (n ≤ 2^32). */
  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** `bytes` (1..8) random bytes as an unsigned bigint. */
  bits(bytes: number): bigint {
    const lo = BigInt(this.u32());
    const v = bytes > 4 ? (BigInt(this.u32()) << 32n) | lo : lo;
    return BigInt.asUintN(bytes * 8, v);
  }

  /** A bigint in [0, n) for n up to 2^64. */
  bigBelow(n: bigint): bigint {
    if (n <= 0x100000000n) return BigInt(this.below(Number(n)));
    return ((BigInt(this.u32()) << 32n) | BigInt(this.u32())) % n;
  }

  fill(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
