/**
 * vpci/edge: the library for hosts that hand over a precompiled WebAssembly.Module (workerd,
 * Cloudflare Workers), plus helpers that check that binding. Bundled as dist/edge.js from the
 * slim build's sources: no inline Wasm travels, since such hosts could not compile it anyway.
 *
 * @module vpci/edge
 */
export * from '../../index.js';
export { wasmModule, createEdgeBus, runEdgeScenario } from './wasm-binding.js';
