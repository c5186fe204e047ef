// `npm run bench -- [suite...] [--quick] [--seed N]`: runs the named suites (default: all) on the built
// library (dist/), Wasm and TypeScript side by side.
const suites = { config: './config-access.js', dispatch: './dispatch.js', dma: './dma.js', alloc: './alloc.js', irq: './irq.js', replay: './replay.js', virtio: './virtio.js' };
// Suite names are the words that are neither options nor an option's value (`--seed 7`).
const VALUED = new Set(['--seed']);
const args = process.argv.slice(2);
const names = args.filter((a, i) => !a.startsWith('--') && !VALUED.has(args[i - 1]));
for (const name of names.length ? names : Object.keys(suites)) {
  if (!suites[name]) {
    console.error(`bench: unknown suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
  await import(suites[name]);
}
