// What firmware needs from a bus: config cycles, nothing else. vpci's Bus satisfies it, and so
// does any adapter over another emulator's config mechanism.

/** Config read/write by function address ("SSSS:BB:DD.F" or "BB:DD.F"); sizes 1, 2, 4. */
export interface ConfigAccess {
  /** Reads `size` bytes at config offset `offset`; all ones where no function answers. */
  configRead(bdf: string, offset: number, size: number): number;
  /** Writes `size` bytes of `value` at config offset `offset`. */
  configWrite(bdf: string, offset: number, size: number, value: number): void;
}

/** A function address as numbers. */
export interface DeviceFunction {
  segment: number;
  bus: number;
  device: number;
  function: number;
}

/** Canonical "SSSS:BB:DD.F" of a DeviceFunction. */
export function bdfText(f: DeviceFunction): string {
  const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${h(f.segment, 4)}:${h(f.bus, 2)}:${h(f.device, 2)}.${f.function}`;
}
