// Loads the Wasm core from inline bytes (default), a precompiled WebAssembly.Module (workerd and
// other hosts that cannot compile at run time), a BufferSource, or a URL. Web APIs only.
import { WasmCore, coreImports } from './wasm-core.js';
import { wasmBase64 } from './generated/wasm-inline.js';

/** Where the Wasm core comes from. */
export type WasmSource = WebAssembly.Module | BufferSource | URL;

/** Raised when the Wasm core cannot be loaded; says which source and why. */
export class WasmLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WasmLoadError';
  }
}

let inlineModule: Promise<WebAssembly.Module> | undefined;

/** Decodes the Wasm bytes embedded in the bundle (none in the slim build: an error says so). */
export function inlineWasmBytes(): Uint8Array {
  if (wasmBase64 === '') {
    throw new WasmLoadError('wasm: this build (vpci/slim, vpci/edge) carries no inline Wasm; pass `wasm`: a WebAssembly.Module of vpci.wasm, its bytes or its URL');
  }
  const text = atob(wasmBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

async function compile(source: WasmSource | undefined): Promise<WebAssembly.Module> {
  if (source === undefined) {
    inlineModule ??= WebAssembly.compile(inlineWasmBytes() as BufferSource);
    return inlineModule;
  }
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof URL) {
    let response: Response;
    try {
      response = await fetch(source);
    } catch (e) {
      throw new WasmLoadError(`wasm: fetching ${source.href} failed: ${(e as Error).message}`, { cause: e });
    }
    if (!response.ok) throw new WasmLoadError(`wasm: fetching ${source.href} failed: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
  if (!(source instanceof ArrayBuffer) && !ArrayBuffer.isView(source)) {
    const got = typeof source === 'string' ? `a string ("${String(source).slice(0, 80)}")` : typeof source === 'object' ? `an object (${Object.prototype.toString.call(source)})` : `a ${typeof source}`;
    throw new WasmLoadError(`wasm: expected a WebAssembly.Module, bytes or a URL, got ${got}`);
  }
  return WebAssembly.compile(source);
}

/** Compiles (once for the inline bytes) and instantiates a fresh core: each call is a separate bus state. */
export async function loadWasmCore(source?: WasmSource): Promise<WasmCore> {
  const what = source === undefined ? 'the inline module' : source instanceof URL ? source.href
    : source instanceof WebAssembly.Module ? 'the given WebAssembly.Module' : 'the given bytes';
  const be = source === undefined || source instanceof URL || source instanceof WebAssembly.Module ? 'is' : 'are';
  let module: WebAssembly.Module;
  try {
    module = await compile(source);
  } catch (e) {
    if (e instanceof WasmLoadError) throw e;
    // Hosts that forbid run-time compilation (workerd) reject valid bytes too: say "could not be compiled".
    const message = (e as Error).message;
    const why = /disallowed/i.test(message) ? `could not be compiled here (this host compiles no Wasm at run time: hand over a WebAssembly.Module)` : `${be} not a valid WebAssembly module`;
    throw new WasmLoadError(`wasm: ${what} ${why}: ${message}`, { cause: e });
  }
  const names = WebAssembly.Module.exports(module).map((d) => d.name);
  for (const required of ['memory', 'stagingAddress', 'configRead', 'mmioRead', 'ioRead']) {
    if (!names.includes(required)) {
      throw new WasmLoadError(`wasm: ${what} ${be} not the vpci core (no export "${required}")`);
    }
  }
  try {
    const holder: { core?: WasmCore } = {};
    const instance = await WebAssembly.instantiate(module, coreImports(holder));
    holder.core = new WasmCore(instance);
    return holder.core;
  } catch (e) {
    throw new WasmLoadError(`wasm: instantiating ${what} failed: ${(e as Error).message}`, { cause: e });
  }
}
