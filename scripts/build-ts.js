// Bundles the TypeScript with esbuild: the library (platform-neutral ESM, Wasm inlined), the
// Node runtime adapter, and the CLI. Type declarations come from tsc (tsconfig.build.json).
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist', platform: 'neutral' }),
  build({ ...common, entryPoints: { node: 'src/runtime/node/index.ts' }, outdir: 'dist', platform: 'node' }),
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    packages: 'external',
  }),
]);
