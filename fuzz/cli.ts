// `node fuzz/run.js [--seconds N] [--steps N] [--seed S] [--check-every N] [--out DIR] [--no-shrink]
// [--keep-going] [--json]` runs the hostile-guest fuzzer; `--replay FILE...` reruns reproducers.
// A failure is shrunk and written to --out (default test-artifacts/fuzz/) as a vpci text trace or
// a JSON step list; the exit status is 1 when anything failed.
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fuzzTarget, replaySteps, runCampaign } from './campaign.js';
import type { CampaignResult, Found, Progress, Target } from './campaign.js';
import { formatReproducer, readReproducer } from './reproducer.js';
import { loadTopologyFile } from '../src/runtime/node/index.js';
import { shrink } from './shrink.js';

interface CliOptions {
  seconds?: string;
  steps?: string;
  seed?: string;
  checkEvery: string;
  out: string;
  shrink: boolean;
  shrinkSeconds: string;
  keepGoing?: boolean;
  json?: boolean;
  replay?: string[];
  topology?: string;
}

function integer(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name}: "${v}" is not an integer >= ${min}`);
  return n;
}

const rate = (n: number, s: number) => (s > 0 ? Math.round(n / s) : 0);

/** Reruns reproducers with every check; returns the exit status. */
async function replay(files: string[], json: boolean, fixed: Target | undefined): Promise<number> {
  let bad = 0;
  const report: unknown[] = [];
  for (const file of files) {
    const { steps, topology } = readReproducer(readFileSync(file, 'utf8'), file);
    const target = topology !== undefined ? await fuzzTarget(topology) : fixed ?? await fuzzTarget();
    const { failure, twin } = await replaySteps(steps, target);
    if (failure) bad++;
    report.push({ file, steps: steps.length, accesses: twin.accesses, failure });
    if (!json) {
      process.stdout.write(failure
        ? `${file}: FAILS after step ${failure.step + 1} of ${steps.length}: ${failure.kind}: ${failure.message}\n`
        : `${file}: passes (${steps.length} steps, ${twin.accesses} accesses, every check after every step)\n`);
    }
  }
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return bad > 0 ? 1 : 0;
}

async function save(found: Found, o: CliOptions, seed: number, fixed: Target | undefined, log: (s: string) => void): Promise<string> {
  const target = found.topology !== undefined ? await fuzzTarget(found.topology) : fixed ?? await fuzzTarget();
  let steps = found.steps;
  let failure = found.failure;
  if (o.shrink && steps.length > 0) {
    log(`shrinking ${steps.length} steps (${failure.kind}) ...`);
    const s = await shrink(steps, failure, target, { seconds: Number(o.shrinkSeconds) });
    log(`  ${s.reproduced ? `${steps.length} -> ${s.steps.length} steps` : 'did not fail again with every check after every step; saved unshrunk'} in ${s.tries} tries, ${s.seconds.toFixed(1)} s`);
    steps = s.steps;
    failure = s.failure;
  }
  // The Wasm core's read values for the trace's expected values.
  const rerun = await replaySteps(steps, target);
  mkdirSync(o.out, { recursive: true });
  const base = join(o.out, `${failure.kind}-seed${seed}-${found.episodeSeed.toString(36)}`);
  const info = {
    failure: rerun.failure ?? failure, seed, episodeSeed: found.episodeSeed, originalLength: found.steps.length,
    reads: rerun.twin.reads, expectedRead: rerun.twin.expectedRead, topology: found.topology,
    topologyFile: found.topology === undefined && o.topology !== undefined && o.topology !== 'random' ? o.topology : undefined,
  };
  const probe = formatReproducer(steps, info);
  const file = `${base}.${probe.ext}`;
  writeFileSync(file, formatReproducer(steps, info, relative(process.cwd(), file)).text);
  return file;
}

function summary(r: CampaignResult, files: string[]): string {
  const lines = [
    `vpci fuzz: seed ${r.seed}: ${r.episodes} episodes, ${r.steps} steps, ${r.accesses} guest accesses in ${r.seconds.toFixed(1)} s ` +
      `(${rate(r.accesses, r.seconds)} accesses/s, ${rate(r.steps, r.seconds)} steps/s; about ${(rate(r.accesses, r.seconds) * 3600 / 1e6).toFixed(1)} M accesses/hour)`,
    'steps by kind:',
  ];
  const kinds = [...r.kinds].sort((a, b) => b[1] - a[1]);
  for (const [k, n] of kinds.slice(0, 40)) lines.push(`  ${String(n).padStart(9)}  ${k}`);
  if (kinds.length > 40) lines.push(`  ... ${kinds.length - 40} more kinds`);
  lines.push('what they made happen (Wasm backend):');
  for (const [k, n] of [...r.happened].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`  ${String(n).padStart(9)}  ${k}`);
  lines.push(r.found.length === 0 ? 'failures: none' : `failures: ${r.found.length}`);
  r.found.forEach((f, i) => lines.push(`  ${f.failure.kind} (episode ${f.episode}, step ${f.failure.step + 1}): ${f.failure.message.split('\n')[0]}${files[i] ? `\n    reproducer: ${files[i]}` : ''}`));
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  let status = 0;
  const program = new Command('fuzz')
    .description('hostile-guest fuzzer: structure-aware guest and embedder steps on the Wasm core and the TypeScript twin at once, checked against each other and a reference model')
    .option('--seconds <n>', 'run for this long (default 60 unless --steps is given)')
    .option('--steps <n>', 'run this many steps')
    .option('--seed <n>', 'the seed (default: from the clock, printed)')
    .option('--check-every <n>', 'full checks (config planes, region table, counters) every N steps', '32')
    .option('--out <dir>', 'where reproducers go', 'test-artifacts/fuzz')
    .option('--no-shrink', 'save failing episodes unshrunk')
    .option('--shrink-seconds <n>', 'time budget for shrinking one failure', '120')
    .option('--keep-going', 'go on after a failure (each failing episode is saved)')
    .option('--json', 'print the summary as JSON')
    .option('--topology <file|random>', 'a topology file, or "random": a fresh random topology per episode (default: the built-in one)')
    .addOption(new Option('--replay <file...>', 'rerun reproducers (vpci text traces or JSON step lists) with every check'))
    .exitOverride()
    .action(async (o: CliOptions) => {
      const fixed = o.topology === undefined || o.topology === 'random' ? undefined : await fuzzTarget(await loadTopologyFile(o.topology));
      if (o.replay) {
        status = await replay(o.replay, o.json ?? false, fixed);
        return;
      }
      const seed = integer('seed', o.seed, 0) ?? (Date.now() % 1e9);
      const steps = integer('steps', o.steps, 1);
      const seconds = integer('seconds', o.seconds, 1) ?? (steps === undefined ? 60 : undefined);
      const checkEvery = integer('check-every', o.checkEvery, 1)!;
      integer('shrink-seconds', o.shrinkSeconds, 1);
      const tty = process.stderr.isTTY === true && !o.json;
      const log = (s: string) => process.stderr.write(`${s}\n`);
      if (!o.json) log(`vpci fuzz: seed ${seed}, ${seconds !== undefined ? `${seconds} s` : `${steps} steps`}, full checks every ${checkEvery} steps`);
      const bar = tty ? new cliProgress.SingleBar({
        format: ' {bar} {percentage}% | {steps} steps, {accesses} accesses, {rate} acc/s | {failures} failures',
        hideCursor: true, clearOnComplete: true,
      }, cliProgress.Presets.shades_classic) : undefined;
      const total = seconds ?? steps!;
      bar?.start(total, 0, { steps: 0, accesses: 0, rate: 0, failures: 0 });
      let lastLine = performance.now();
      const onProgress = (p: Progress) => {
        if (bar) {
          bar.update(Math.min(total, seconds !== undefined ? Math.floor(p.seconds) : p.steps), { steps: p.steps, accesses: p.accesses, rate: rate(p.accesses, p.seconds), failures: p.failures });
        } else if (!o.json && performance.now() - lastLine > 10_000) {
          lastLine = performance.now();
          log(`  ${p.seconds.toFixed(0)} s: ${p.steps} steps, ${p.accesses} accesses (${rate(p.accesses, p.seconds)}/s), ${p.failures} failures`);
        }
      };
      const result = await runCampaign({ seed, seconds, steps, checkEvery, keepGoing: o.keepGoing, onProgress, topology: o.topology === 'random' ? 'random' : fixed?.topology });
      bar?.stop();
      const files: string[] = [];
      if (result.found.length > 0) {
        for (const f of result.found) files.push(await save(f, o, seed, fixed, o.json ? () => {} : log));
        status = 1;
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({
          seed, episodes: result.episodes, steps: result.steps, accesses: result.accesses, seconds: result.seconds,
          accessesPerSecond: rate(result.accesses, result.seconds), kinds: Object.fromEntries(result.kinds), happened: Object.fromEntries(result.happened),
          failures: result.found.map((f, i) => ({ ...f.failure, episode: f.episode, reproducer: files[i] })),
        }, null, 2)}\n`);
      } else {
        process.stdout.write(summary(result, files));
      }
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const e = error as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 2;
    process.stderr.write(`fuzz: ${e.message ?? String(error)}\n`);
    return 2;
  }
  return status;
}
