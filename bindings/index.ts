export { loadWasmCore, inlineWasmBytes, WasmLoadError } from './load.js';
export type { WasmSource } from './load.js';
export { WasmCore } from './wasm-core.js';
export type { VpciWasmExports } from './wasm-core.js';
