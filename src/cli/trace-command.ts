// `vpci trace synth`: writes a synthesized trace (recorded from a real run on the topology, with
// an expected value on every read) for benchmarks and tests: a firmware boot, a guest driving the
// virtio devices, or seeded random accesses.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ArgumentError } from '../errors.js';
import { isAccess, writeBinaryTrace, writeTextTrace } from '../trace/index.js';
import { PROFILES, synthesizeTrace } from '../trace-synth/index.js';
import type { SynthProfile } from '../trace-synth/index.js';
import { loadTopologyFile } from '../runtime/node/index.js';
import type { BusCliOptions } from './load-bus.js';
import { withBusOptions } from './load-bus.js';

interface SynthOptions extends BusCliOptions {
  profile: SynthProfile;
  count: string;
  seed: string;
  out?: string;
  format?: 'binary' | 'text';
}

function synthCommand(): Command {
  return withBusOptions(new Command('synth'))
    .description('write a synthesized trace: boot (firmware), virtio-io (boot + a guest driving the virtio devices) or random')
    .addOption(new Option('--profile <profile>', 'what the trace does').choices([...PROFILES]).default('boot'))
    .option('--count <n>', 'virtio requests or random accesses', '100')
    .option('--seed <n>', 'seed of the random choices', '1')
    .option('--out <file>', 'file to write (default: standard output, text)')
    .addOption(new Option('--format <format>', 'output format (default: from --out: .vtr/.bin binary, else text)').choices(['binary', 'text']))
    .action(async (o: SynthOptions) => {
      const count = Number(o.count);
      const seed = Number(o.seed);
      if (!Number.isInteger(count) || count < 0 || count > 10_000_000) throw new ArgumentError(`--count: "${o.count}" is not 0..10000000`);
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ArgumentError(`--seed: "${o.seed}" is not 0..4294967295`);
      const topology = o.topology === undefined ? undefined : await loadTopologyFile(o.topology);
      const events = await synthesizeTrace({ profile: o.profile, count, seed, backend: o.backend, topology });
      const format = o.format ?? (o.out !== undefined && /\.(vtr|bin)$/i.test(o.out) ? 'binary' : 'text');
      let data: Uint8Array | string;
      if (format === 'binary') {
        // A virtio-io trace's guest-RAM writes go in memory records (header flag bit 1); the other
        // profiles have none and get a plain binary trace.
        const memory = events.some((e) => e.op === 'memwrite');
        const others = events.filter((e) => !isAccess(e) && e.op !== 'memwrite').length;
        if (others > 0) throw new ArgumentError(`--format binary: the ${o.profile} trace has ${others} events the binary format cannot hold; write it as text`);
        data = writeBinaryTrace(events, { memory });
      } else {
        data = writeTextTrace(events);
      }
      if (o.out === undefined) {
        process.stdout.write(data);
        return;
      }
      try {
        writeFileSync(o.out, data);
      } catch (e) {
        throw new ArgumentError(`${o.out}: cannot write: ${(e as Error).message}`);
      }
      process.stderr.write(`vpci: ${o.profile} trace of ${events.length} events -> ${o.out} (${format})\n`);
    });
}

export function traceCommand(): Command {
  const trace = new Command('trace').description('trace tools: synth');
  trace.addCommand(synthCommand());
  return trace;
}
