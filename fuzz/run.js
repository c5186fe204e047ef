#!/usr/bin/env node
// `node fuzz/run.js [options]` (`npm run fuzz -- [options]`): bundles the fuzzer (fuzz/*.ts over the
// library's sources in src/, so it always fuzzes the working tree, not a stale dist/) with esbuild
// into node_modules/.cache/vpci-fuzz/, then runs it. Options: `node fuzz/run.js --help`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'node_modules', '.cache', 'vpci-fuzz', 'cli.mjs');
await build({
  entryPoints: [join(root, 'fuzz', 'cli.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
// The bundle lives elsewhere: tell the test helpers (random topologies) where the shared dumps are.
process.env.VPCI_SHARED_DATA ??= join(root, '..', 'shared', 'data');
const { main } = await import(pathToFileURL(outfile).href);
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
