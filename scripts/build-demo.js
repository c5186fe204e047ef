// Builds the demo page (`npm run demo`) into dist/demo/: the page's module and the replay Web
// Worker bundled by esbuild (ESM, code splitting so the library lands in one chunk both load),
// then index.html, the stylesheet and uPlot's stylesheet copied beside them.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/demo`;
const require = createRequire(import.meta.url);

// Stale chunks from earlier builds would pile up under hashed names.
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  // The worker is its own entry: the page starts it by URL (new URL('./replay-worker.js', import.meta.url)).
  entryPoints: { main: `${root}demo/src/main.ts`, 'replay-worker': `${root}demo/src/replay-worker.ts` },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
await Promise.all([
  copyFile(`${root}demo/index.html`, `${out}/index.html`),
  copyFile(`${root}demo/style.css`, `${out}/style.css`),
  copyFile(require.resolve('uplot/dist/uPlot.min.css'), `${out}/uPlot.min.css`),
]);
