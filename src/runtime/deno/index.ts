/**
 * vpci/deno: the Deno runtime adapter (file access for topology files and their templates). The
 * library itself (`vpci`, dist/index.js) runs on Deno unchanged: Web APIs only.
 *
 * @module vpci/deno
 */
export { loadTopologyFile, fileReader } from './topology-file.js';
