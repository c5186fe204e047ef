// Compiles part of the AssemblyScript core on its own (an entry file, or a virtual one given as
// source) with the release options of asconfig.json, into a temporary directory, for tests that
// drive a core module directly (region table, DMA translator).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from 'assemblyscript/asc';
import { ROOT } from './shared-data.js';

/**
 * Compiles `entry` (a path relative to the repository). With `source`, the entry does not exist
 * on disk and its text is `source`. Not the project's asconfig.json: its entries would pull in the
 * whole core.
 */
export async function compileAsEntry(entry: string, source?: string): Promise<WebAssembly.Module> {
  const dir = mkdtempSync(join(tmpdir(), 'vpci-as-test-'));
  try {
    const out = join(dir, 'entry.wasm');
    const stderr: string[] = [];
    const result = await main([
      entry, '--baseDir', ROOT, '--outFile', out, '--config', join(dir, 'none.json'),
      '--optimizeLevel', '3', '--shrinkLevel', '0', '--converge', '--noAssert',
      '--runtime', 'stub', '--use', 'abort=',
    ], {
      ...(source === undefined ? {} : {
        readFile: (name: string, base: string) => {
          if (name === entry) return source;
          try { return readFileSync(join(base, name), 'utf8'); } catch { return null; }
        },
      }),
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
    });
    if (result.error) throw new Error(`asc failed: ${result.error.message}\n${stderr.join('')}`);
    return await WebAssembly.compile(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
