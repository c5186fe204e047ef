/**
 * vpci/node: the Node runtime adapter (file access for topology files and their templates).
 *
 * @module vpci/node
 */
export { loadTopologyFile, fileReader } from './topology-file.js';
