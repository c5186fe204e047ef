// `npm run bench -- [suite...] [--quick]`: runs the named suites (default: all) on the built
// library (dist/), Wasm and TypeScript side by side.
const suites = { config: './config-access.js', dispatch: './dispatch.js', dma: './dma.js' };
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const name of names.length ? names : Object.keys(suites)) {
  if (!suites[name]) {
    console.error(`bench: unknown suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
  await import(suites[name]);
}
