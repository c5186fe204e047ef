// Edge hosts (workerd, Cloudflare Workers) forbid compiling Wasm at run time: the host compiles
// vpci.wasm when it loads the worker and hands over a WebAssembly.Module (a module of type wasm in
// workerd's config, a `wasm_modules` binding or `import wasm from './vpci.wasm'` with wrangler).
// These helpers check that binding before use, so a wrong one fails here with a clear message
// rather than deep inside the loader, and pass it on as the bus's Wasm source.
import { WasmLoadError } from '../../../bindings/load.js';
import { createBus } from '../../bus.js';
import type { Bus, BusOptions } from '../../bus.js';
import { runScenario } from '../../scenario/index.js';
import type { ScenarioOptions, ScenarioResult } from '../../scenario/index.js';

/** What a wrong binding is, in words, and the likely mistake behind it. */
function describe(value: unknown): string {
  if (value === undefined || value === null) return `${value} (no binding of that name? declare vpci.wasm as a wasm module)`;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return 'bytes, not a compiled module (edge hosts cannot compile Wasm at run time: declare vpci.wasm as a wasm module, not data)';
  }
  if (typeof value === 'string') return 'a string (a path or URL is not loaded here: declare vpci.wasm as a wasm module)';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

/** The host's compiled vpci.wasm, or a WasmLoadError naming what was passed instead. */
export function wasmModule(binding: unknown): WebAssembly.Module {
  if (binding instanceof WebAssembly.Module) return binding;
  throw new WasmLoadError(`wasm: the binding given to vpci/edge is ${describe(binding)}; it must be a WebAssembly.Module of vpci.wasm`);
}

/** createBus on the Wasm core the host compiled (a wrong binding rejects, as load errors do). */
export async function createEdgeBus(binding: unknown, options: Omit<BusOptions, 'wasm'> = {}): Promise<Bus> {
  return createBus({ ...options, wasm: wasmModule(binding) });
}

/** runScenario on the Wasm core the host compiled. */
export async function runEdgeScenario(binding: unknown, options: Omit<ScenarioOptions, 'wasm'> = {}): Promise<ScenarioResult> {
  return runScenario({ ...options, wasm: wasmModule(binding) });
}
