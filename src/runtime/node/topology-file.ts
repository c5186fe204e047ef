// Node: topology files and the files their templates name (paths relative to the topology).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
// From the library entry: the adapter's bundle imports it as the package 'vpci' rather than
// carrying a copy, so errors it throws are the classes `vpci` exports (instanceof holds).
import { TopologyError, resolveTopology } from '../../index.js';
import type { FileReader, ResolvedTopology } from '../../index.js';

/** A FileReader resolving paths against `baseDir`. */
export function fileReader(baseDir: string): FileReader {
  return async (path) => new Uint8Array(await readFile(resolve(baseDir, path)));
}

/** Reads, validates and resolves a JSON topology file; errors name the file. */
export async function loadTopologyFile(path: string): Promise<ResolvedTopology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TopologyError(path, '', `cannot read the file: ${(e as Error).message}`);
  }
  return resolveTopology(text, { source: path, readFile: fileReader(dirname(resolve(path))) });
}
