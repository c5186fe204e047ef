// `vpci bench [suite...] [--quick]`: the benchmark harness of a source checkout (bench/run.js,
// which is not in the npm package), run in a child Node process with this terminal.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ArgumentError } from '../errors.js';

export function benchCommand(): Command {
  return new Command('bench')
    .argument('[suites...]', 'suites to run (default: all): config, dispatch, dma, alloc, irq, virtio, replay, enumerate, peers')
    .option('--quick', 'small sizes, a smoke check (under a minute)')
    .option('--seed <n>', 'seed of the alloc suite')
    .description('run the benchmarks (Wasm vs TypeScript vs peers) and write bench/results/latest.json and latest.svg')
    .action((suites: string[], options: { quick?: boolean; seed?: string }) => {
      // dist/cli.js -> ../bench/run.js
      const run = fileURLToPath(new URL('../bench/run.js', import.meta.url));
      if (!existsSync(run)) throw new ArgumentError('bench: the benchmarks come with a source checkout of vpci (bench/ is not in the npm package)');
      const args = [run, ...suites, ...(options.quick ? ['--quick'] : []), ...(options.seed ? ['--seed', options.seed] : [])];
      const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    });
}
