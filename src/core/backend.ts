/**
 * The numeric interface both cores implement: the AssemblyScript core behind `bindings/`, and
 * its pure-TypeScript twin in `./ts/`. Everything crossing it is a number; every call is safe
 * with any argument a guest can produce (bad values read all ones or are dropped; nothing
 * throws). Status codes are the `Status` values below.
 */
export interface CoreBackend {
  /** 'wasm' or 'ts'. */
  readonly kind: BackendKind;
  /** Adds a function with a zeroed config space of 256 or 4096 bytes; returns its slot or a negative Status. */
  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number;
  /** Removes a function by slot. */
  removeFunction(slot: number): number;
  /**
   * Replaces a slot's three planes: current config bytes, write mask, write-1-to-clear mask.
   * Each array is at most 4096 bytes; shorter arrays leave the rest zero.
   */
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number;
  /** One raw plane byte (0 config, 1 wmask, 2 w1c), for tests and snapshots. */
  planeByte(slot: number, plane: number, offset: number): number;
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number;
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void;
  /** Maps segment `seg`'s ECAM window at `base` (1 MiB aligned) for buses busStart..busEnd. */
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number;
  /** Low 32 bits of an MMIO read; the high half of an 8-byte read is in mmioReadHigh(). */
  mmioRead(addr: number, size: number): number;
  mmioReadHigh(): number;
  mmioWrite(addr: number, size: number, value: number, high: number): void;
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
}

export type BackendKind = 'wasm' | 'ts';

/** Status codes shared by both cores (assembly/config/layout.ts holds the same numbers). */
export const Status = {
  OK: 0,
  RANGE: -1,
  EXISTS: -2,
  FULL: -3,
  NOT_FOUND: -4,
} as const;

/** Core limits (assembly/config/layout.ts holds the same numbers). */
export const Limits = {
  segments: 16,
  functions: 4096,
  planeSize: 4096,
  conventionalSize: 256,
} as const;

/** Human text for a status code, for error messages. */
export function statusText(status: number): string {
  switch (status) {
    case Status.OK: return 'ok';
    case Status.RANGE: return 'value out of range';
    case Status.EXISTS: return 'already exists';
    case Status.FULL: return 'table full';
    case Status.NOT_FOUND: return 'not found';
    default: return `status ${status}`;
  }
}
