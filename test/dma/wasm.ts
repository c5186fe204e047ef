// Compiles the DMA translator with the config store (a virtual test-only entry: the DMA exports
// plus the store calls the tests need) using the release options of asconfig.json, into a
// temporary directory, and wraps an instance in the twin's DmaCore interface. Also builds the
// twin over its own ConfigStore, so a test drives both cores the same way.
import { compileAsEntry } from '../helpers/compile-as.js';
import { ConfigStore } from '../../src/core/ts/config-store.js';
import { DmaTranslator, type DmaCore } from '../../src/core/ts/dma/index.js';
import { BUFFER_SIZE, FAULT_BYTES, FAULT_CAPACITY, MAX_SEGMENTS, MAX_SG, SEGMENT_BYTES, SG_BYTES } from '../../src/core/ts/dma/layout.js';

const ENTRY = 'test/dma/entry.ts';
const ENTRY_SOURCE = `
export * from "../../assembly/dma/index";
export { addFunction, removeFunction, loadPlanes, configWrite, configRead } from "../../assembly/config/store";
import { staging } from "../../assembly/config/store";
export function stagingAddress(): u32 { return <u32>staging; }
`;

interface Exports {
  memory: WebAssembly.Memory;
  [name: string]: unknown;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles once per test process. */
export function compileDma(): Promise<WebAssembly.Module> {
  compiled ??= compileAsEntry(ENTRY, ENTRY_SOURCE);
  return compiled;
}

/** The config-store calls the DMA tests need, the same on both cores. */
export interface StoreOps {
  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number;
  removeFunction(slot: number): number;
  /** Loads config/wmask planes (first bytes given, rest zero). */
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array): number;
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void;
}

export interface Core extends DmaCore, StoreOps {
  readonly name: 'wasm' | 'ts';
}

/** A fresh Wasm instance (fresh state) behind DmaCore + StoreOps. */
export async function newWasmCore(): Promise<Core> {
  const module = await compileDma();
  const instance = await WebAssembly.instantiate(module, {
    env: { abort: () => { throw new Error('abort reached: the core must not abort'); } },
    host: { access: () => {} },
  });
  const x = instance.exports as Exports;
  const f = (name: string) => x[name] as (...a: number[]) => number;
  const mem = () => x.memory.buffer;
  const buffer = f('dmaBufferAddress')();
  const sg = f('dmaSgAddress')();
  const segs = f('dmaSegmentsAddress')();
  const faults = f('dmaFaultsAddress')();
  const staging = f('stagingAddress')();
  const names = [
    'ramAdd', 'ramRemove', 'ramBase', 'ramSize', 'ramCount', 'domainCreate', 'domainDestroy', 'domainType',
    'domainMap', 'domainUnmap', 'domainTranslate', 'domainPerms', 'dmaAttach', 'dmaDetach', 'dmaDomainOf',
    'dmaSlotReleased', 'dmaRead', 'dmaWrite', 'dmaSg', 'dmaTranslate', 'dmaFaultsQueued', 'dmaFaultsDrain',
    'dmaCounter', 'dmaTableCount', 'dmaIotlbValid', 'dmaReset', 'addFunction', 'removeFunction', 'configWrite',
  ] as const;
  const core: Record<string, unknown> = { name: 'wasm' };
  for (const n of names) core[n] = f(n);
  // u32 results come back as i32 from Wasm: normalise the ones that are unsigned.
  core.dmaFaultsQueued = () => f('dmaFaultsQueued')() >>> 0;
  core.dmaFaultsDrain = (max: number) => f('dmaFaultsDrain')(max) >>> 0;
  core.ramBytes = (i: number) => {
    const at = f('ramAddress')(i) >>> 0;
    return at === 0 ? undefined : new Uint8Array(mem(), at, f('ramSize')(i));
  };
  core.dmaBuffer = () => new Uint8Array(mem(), buffer, BUFFER_SIZE);
  core.dmaSgList = () => new Uint8Array(mem(), sg, MAX_SG * SG_BYTES);
  core.dmaSegments = () => new Uint8Array(mem(), segs, MAX_SEGMENTS * SEGMENT_BYTES);
  core.dmaFaultArea = () => new Uint8Array(mem(), faults, FAULT_CAPACITY * FAULT_BYTES);
  core.removeFunction = (slot: number) => {
    // What assembly/dispatch/hooks.ts releaseHooks will do once the DMA translator is wired in.
    const st = f('removeFunction')(slot);
    if (st === 0) f('dmaSlotReleased')(slot);
    return st;
  };
  core.loadPlanes = (slot: number, config: Uint8Array, wmask: Uint8Array) => {
    const s = new Uint8Array(mem(), staging, 3 * 4096);
    s.fill(0);
    s.set(config.subarray(0, 4096), 0);
    s.set(wmask.subarray(0, 4096), 4096);
    return f('loadPlanes')(slot);
  };
  return core as unknown as Core;
}

/** The twin over its own config store, behind the same interface. */
export function newTsCore(): Core {
  const store = new ConfigStore();
  const dma = new DmaTranslator(store);
  const core: Record<string, unknown> = {};
  for (const n of Object.getOwnPropertyNames(DmaTranslator.prototype)) {
    const m = (dma as unknown as Record<string, unknown>)[n];
    if (n !== 'constructor' && typeof m === 'function') core[n] = m.bind(dma);
  }
  Object.assign(core, {
    name: 'ts',
    addFunction: (seg: number, bus: number, dev: number, fn: number, size: number) =>
      store.addFunction(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, size >>> 0),
    removeFunction: (slot: number) => {
      // What TsCore's releaseHooks will do once the DMA translator is wired in.
      const st = store.removeFunction(slot | 0);
      if (st === 0) dma.dmaSlotReleased(slot | 0);
      return st;
    },
    loadPlanes: (slot: number, config: Uint8Array, wmask: Uint8Array) =>
      store.loadPlanes(slot | 0, config, wmask, new Uint8Array(4096)),
    configWrite: (seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number) =>
      store.configWrite(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, reg >>> 0, size | 0, value >>> 0),
  });
  return core as unknown as Core;
}

/** Both cores, fresh. */
export async function newCores(): Promise<[Core, Core]> {
  return [await newWasmCore(), newTsCore()];
}
