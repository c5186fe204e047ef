// Deno: topology files and the files their templates name (paths relative to the topology), the
// twin of ../node/topology-file.ts over Deno's file API instead of node:fs.
// From the library entry: the adapter's bundle imports it as the package 'vpci' rather than
// carrying a copy, so errors it throws are the classes `vpci` exports (instanceof holds).
import { TopologyError, resolveTopology } from '../../index.js';
import type { FileReader, ResolvedTopology } from '../../index.js';

/**
 * The little of the `Deno` global this adapter uses, declared here rather than pulling Deno's
 * type package into the build (the rest of the project compiles against Web APIs and Node).
 */
declare const Deno: {
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
};

/** POSIX `/x`, Windows `C:\x` or `\\server\x`: these do not take a base directory. */
const isAbsolute = (path: string) => /^(?:[/\\]|[A-Za-z]:[/\\])/.test(path);

/** The directory part of `path` ('.' for a bare file name); Deno resolves '.' and '..' itself. */
function directoryOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? '.' : cut === 0 ? '/' : path.slice(0, cut);
}

/** A FileReader resolving relative paths against `baseDir`. */
export function fileReader(baseDir: string): FileReader {
  return (path) => Deno.readFile(isAbsolute(path) ? path : `${baseDir.replace(/[/\\]$/, '')}/${path}`);
}

/** Reads, validates and resolves a JSON topology file; errors name the file. */
export async function loadTopologyFile(path: string): Promise<ResolvedTopology> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new TopologyError(path, '', `cannot read the file: ${(e as Error).message}`);
  }
  return resolveTopology(text, { source: path, readFile: fileReader(directoryOf(path)) });
}
