/**
 * vpci/browser: the library plus what a page needs that the neutral library cannot assume — files
 * the user picked (<input type="file">, drag and drop) as topologies and traces. Bundled minified
 * with the Wasm inline as dist/browser.js, one file a page imports as is.
 *
 * @module vpci/browser
 */
export * from '../../index.js';
export { topologyFromFiles, traceFromFile } from './files.js';
