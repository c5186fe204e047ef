// `npm run bench -- [suite...] [--quick] [--seed N]` (or `vpci bench`): runs the named suites
// (default: all) on the built library (dist/), Wasm and TypeScript side by side in this process,
// then the peers that are installed (bench/peers/), and writes bench/results/latest.json and
// bench/results/latest.svg: every result as { suite, backend, unit, median, min, max, runs }.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collected } from './stats.js';
import { resultsChart } from './chart.js';

const suites = {
  config: './config-access.js', dispatch: './dispatch.js', dma: './dma.js', alloc: './alloc.js', irq: './irq.js',
  virtio: './virtio.js', replay: './replay.js', enumerate: './enumerate.js', peers: './peers/index.js',
};
// Suite names are the words that are neither options nor an option's value (`--seed 7`).
const VALUED = new Set(['--seed']);
const args = process.argv.slice(2);
const names = args.filter((a, i) => !a.startsWith('--') && !VALUED.has(args[i - 1]));
for (const name of names) {
  if (!suites[name]) {
    console.error(`bench: unknown suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
}
const started = new Date();
for (const name of names.length ? names : Object.keys(suites)) await import(suites[name]);

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'results');
mkdirSync(out, { recursive: true });
const cpu = cpus();
const report = {
  date: started.toISOString(),
  quick: args.includes('--quick'),
  machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), platform: platform(), arch: arch() },
  node: process.version,
  results: collected,
};
writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
if (collected.length > 0) writeFileSync(join(out, 'latest.svg'), await resultsChart(report));
console.log(`bench: ${collected.length} results -> bench/results/latest.json, bench/results/latest.svg`);
