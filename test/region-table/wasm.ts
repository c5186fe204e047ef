// Compiles assembly/dispatch/region-table.ts on its own (it is its own entry: its exports are the
// module's) with the release options of asconfig.json, into a temporary directory, and wraps an
// instance in the TypeScript twin's interface so tests can drive both cores alike.
import { compileAsEntry } from '../helpers/compile-as.js';


/** The surface both cores share, addresses and sizes as numbers. */
export interface RegionTableApi {
  regionMap(id: number, space: number, base: number, size: number, priority: number): number;
  regionUnmap(id: number): number;
  regionLookup(space: number, addr: number): number;
  regionBase(id: number): number;
  regionSize(id: number): number;
  regionCount(): number;
  regionReset(): void;
  regionTableBytes(): number;
  regionTableLiveBytes(): number;
  regionTableBlocks(cls: number): number;
  regionProbe(addr: number, level: number): number;
}

interface Exports {
  memory: WebAssembly.Memory;
  regionMap(id: number, space: number, base: bigint, size: bigint, priority: number): number;
  regionUnmap(id: number): number;
  regionLookup(space: number, addr: bigint): number;
  regionBase(id: number): bigint;
  regionSize(id: number): bigint;
  regionCount(): number;
  regionReset(): void;
  regionTableBytes(): number;
  regionTableLiveBytes(): number;
  regionTableBlocks(cls: number): number;
  regionProbe(addr: bigint, level: number): number;
  leafEntry(id: number): number;
  FIXED_BYTES: WebAssembly.Global;
}

/**
 * A number as the u64 the Wasm core receives: integers in [0, 2^64) exactly; anything else (NaN,
 * fractions, negatives, 2^64 and up) as 2^64 - 1, a u64 no table decodes, matching the twin's
 * documented rule for numbers that are not u64 values.
 */
export function toU64(v: number): bigint {
  return v >= 0 && v < 2 ** 64 && Math.floor(v) === v ? BigInt(v) : 0xffffffffffffffffn;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles once per test process. */
export function compileRegionTable(): Promise<WebAssembly.Module> {
  compiled ??= compileAsEntry('assembly/dispatch/region-table.ts');
  return compiled;
}

export interface WasmRegionTable extends RegionTableApi {
  readonly exports: Exports;
}

/** A fresh instance (fresh state) of the compiled module, behind the twin's interface. */
export async function newWasmRegionTable(): Promise<WasmRegionTable> {
  const module = await compileRegionTable();
  const instance = await WebAssembly.instantiate(module, {
    env: { abort: () => { throw new Error('abort reached: the core must not abort'); } },
  });
  const x = instance.exports as unknown as Exports;
  return {
    exports: x,
    regionMap: (id, space, base, size, priority) => x.regionMap(id, space, toU64(base), toU64(size), priority),
    regionUnmap: (id) => x.regionUnmap(id),
    regionLookup: (space, addr) => x.regionLookup(space, toU64(addr)),
    regionBase: (id) => Number(x.regionBase(id)),
    regionSize: (id) => Number(x.regionSize(id)),
    regionCount: () => x.regionCount(),
    regionReset: () => x.regionReset(),
    regionTableBytes: () => x.regionTableBytes() >>> 0,
    regionTableLiveBytes: () => x.regionTableLiveBytes() >>> 0,
    regionTableBlocks: (cls) => x.regionTableBlocks(cls),
    regionProbe: (addr, level) => x.regionProbe(toU64(addr), level),
  };
}
