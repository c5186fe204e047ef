// Bundles the TypeScript with esbuild:
// - dist/index.js: the library, platform-neutral ESM, the Wasm inlined (Node, Deno, bundlers);
// - dist/slim.js: the same without the inline Wasm, for hosts that compile vpci.wasm themselves
//   (workerd's precompiled WebAssembly.Module, a URL the page fetches);
// - dist/browser.js: the browser adapter with the library, minified, Wasm inlined: one file a
//   page imports as is;
// - dist/node.js, dist/deno.js: the file adapters (topology files through node:fs / Deno's file
//   API), importing the library as the package 'vpci' rather than carrying a copy;
// - dist/v86.js: the v86 adapter (vpci/v86), importing the library as the package 'vpci';
// - dist/edge.js: the library for workerd-style hosts, without inline Wasm (they hand over a
//   precompiled WebAssembly.Module), with helpers that check that module;
// - dist/cli.js, dist/replay-worker.js: the CLI.
// Type declarations come from tsc (tsconfig.build.json).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

/** Resolves the generated inline-Wasm module to the empty stand-in. */
const withoutInlineWasm = {
  name: 'without-inline-wasm',
  setup(b) {
    const stub = fileURLToPath(new URL('../bindings/no-inline-wasm.ts', import.meta.url));
    b.onResolve({ filter: /generated\/wasm-inline\.js$/ }, () => ({ path: stub }));
  },
};

/**
 * The file adapters (vpci/node, vpci/deno) and the v86 adapter import the library entry as the package 'vpci' instead
 * of bundling a second copy: one set of classes, so `instanceof TopologyError` holds for errors
 * they throw.
 */
const libraryAsPackage = {
  name: 'library-as-package',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/index\.js$/ }, (args) =>
      (/src[\\/]runtime[\\/](node|deno|v86)[\\/]/.test(args.importer) ? { path: 'vpci', external: true } : undefined));
  },
};

await Promise.all([
  build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist', platform: 'neutral' }),
  build({ ...common, entryPoints: { slim: 'src/index.ts' }, outdir: 'dist', platform: 'neutral', plugins: [withoutInlineWasm] }),
  build({ ...common, entryPoints: { browser: 'src/runtime/browser/index.ts' }, outdir: 'dist', platform: 'browser', minify: true }),
  build({ ...common, entryPoints: { node: 'src/runtime/node/index.ts' }, outdir: 'dist', platform: 'node', plugins: [libraryAsPackage] }),
  build({ ...common, entryPoints: { deno: 'src/runtime/deno/index.ts' }, outdir: 'dist', platform: 'neutral', plugins: [libraryAsPackage] }),
  build({ ...common, entryPoints: { v86: 'src/runtime/v86/index.ts' }, outdir: 'dist', platform: 'neutral', plugins: [libraryAsPackage] }),
  build({ ...common, entryPoints: { edge: 'src/runtime/edge/index.ts' }, outdir: 'dist', platform: 'neutral', plugins: [withoutInlineWasm] }),
  build({
    ...common,
    // The replay worker is its own entry: `vpci replay DIR --jobs N` starts it in worker threads.
    entryPoints: { cli: 'src/cli/main.ts', 'replay-worker': 'src/cli/replay-worker.ts' },
    outdir: 'dist',
    platform: 'node',
    packages: 'external',
  }),
]);
