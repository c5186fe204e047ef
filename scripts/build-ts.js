// Bundles the TypeScript with esbuild: the library (platform-neutral ESM, Wasm inlined), the
// Node runtime adapter, and the CLI. Type declarations come from tsc (tsconfig.build.json).
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist', platform: 'neutral' }),
  build({ ...common, entryPoints: { node: 'src/runtime/node/index.ts' }, outdir: 'dist', platform: 'node' }),
  build({
    ...common,
    // The replay worker is its own entry: `vpci replay DIR --jobs N` starts it in worker threads.
    entryPoints: { cli: 'src/cli/main.ts', 'replay-worker': 'src/cli/replay-worker.ts' },
    outdir: 'dist',
    platform: 'node',
    packages: 'external',
  }),
]);
