// Small formatting helpers shared by the decoders, in lspci's notation.

/** `name+` when `on`, else `name-`: lspci's notation for a single-bit flag. */
export function flag(name: string, on: boolean | number): string {
  return `${name}${on ? '+' : '-'}`;
}

/** Space-separated flags for the bits of `value`; `bits` pairs a name with its mask. */
export function flags(value: number, bits: readonly (readonly [string, number])[]): string {
  return bits.map(([name, mask]) => flag(name, (value & mask) !== 0)).join(' ');
}

const SUFFIXES = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/**
 * A size the way lspci prints it: divided by 1024 for as long as that is exact, with the
 * matching suffix: 4096 -> `4K`, 3 MiB -> `3M`, 1536 -> `1536` (never a rounded fraction).
 */
export function formatSize(size: number | bigint): string {
  let x = BigInt(size);
  let i = 0;
  while (x !== 0n && x % 1024n === 0n && i < SUFFIXES.length - 1) {
    x /= 1024n;
    i++;
  }
  return `${x}${SUFFIXES[i]}`;
}

/** ` [size=4K]`, or nothing for an unknown/zero size. */
export function sizeSuffix(size: number | bigint | undefined): string {
  return size === undefined || BigInt(size) === 0n ? '' : ` [size=${formatSize(size)}]`;
}
