// Compiles a throw-away AssemblyScript bench entry (a `.as` file, so tsc leaves it alone) with the
// core's release options, into a fresh temporary folder. Used by the benches that measure loops
// inside Wasm (region-table, dispatch stream, DMA).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Compiles `source` (a path relative to the repository, ending in .as) and returns
 * `{ dir, wasmFile }`; the caller removes `dir` when done.
 */
export async function compileBenchEntry(source, prefix = 'vpci-bench-') {
  // Imported here: binaryen installs an uncaughtException handler that rethrows from its own code.
  const { main: asc } = await import('assemblyscript/asc');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const wasmFile = join(dir, 'entry.wasm');
  const virtualEntry = source.replace(/\.as$/, '.ts');
  const stderr = [];
  const res = await asc([
    virtualEntry, '--baseDir', root, '--outFile', wasmFile, '--config', join(dir, 'none.json'),
    '--optimizeLevel', '3', '--shrinkLevel', '0', '--converge', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
  ], {
    readFile: (name, base) => {
      const file = name === virtualEntry ? join(root, source) : join(base, name);
      try { return readFileSync(file, 'utf8'); } catch { return null; }
    },
    stderr: { write: (s) => { stderr.push(String(s)); return true; } },
  });
  if (res.error) throw new Error(`asc: ${res.error.message}\n${stderr.join('')}`);
  return { dir, wasmFile };
}
