// Value checks of the TypeScript twin's loadState: the same rules as the Wasm core's image reader
// (assembly/state/image.ts), so both cores refuse the same states with the same status.

/** An integer in [lo, hi]. */
export function intIn(v: number, lo: number, hi: number): boolean {
  return v >= lo && v <= hi && Math.floor(v) === v;
}

/** An integer in [0, 2^64) (the Wasm boundary's u64 rule). */
export function isU64(v: number): boolean {
  return v >= 0 && v < 18446744073709551616 && Math.floor(v) === v;
}

export function isU32(v: number): boolean {
  return intIn(v, 0, 0xffffffff);
}
