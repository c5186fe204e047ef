// `npm run soak -- [--accesses N] [--seed S] [--backend wasm|ts] [--intervals K] [--bar-moves M]
// [--out DIR]`: a long replay on the built library (dist/). A bus boots (the synthesized 'boot'
// trace, replayed), then N accesses of the 'random' profile (soak/workload.js) run through
// bus.replay in chunks of 16,384 records. About every N/K accesses (whole chunks, so about K
// intervals) it samples throughput and memory (process RSS, JS heap, the Wasm linear memory); with
// `node --expose-gc` the heap is measured after a full GC (sampling time is not counted as run
// time). It writes DIR/latest.json and DIR/latest.svg (default soak/results/) and
// exits 1 when memory did not stay flat after the first interval (the warm-up): the Wasm memory
// must not grow at all, the live JS heap by at most HEAP_BOUND.
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { createBus, parseBdf, synthesizeTrace, trace } from '../dist/index.js';
import { median } from '../bench/stats.js';
import { soakChart } from './chart.js';
import { CHUNK, RandomWorkload } from './workload.js';

/** The live JS heap may end this much above where it was after warm-up (forced GC on both ends). */
export const HEAP_BOUND = 4 * 2 ** 20;
const MiB = 2 ** 20;

function fail(message) {
  console.error(`soak: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { accesses: 1e9, seed: 1, backend: 'wasm', intervals: 100, barMoves: 1, out: join(dirname(fileURLToPath(import.meta.url)), 'results') };
  const numeric = { '--accesses': 'accesses', '--seed': 'seed', '--intervals': 'intervals', '--bar-moves': 'barMoves' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (numeric[a]) {
      const n = Number(v);
      if (v === undefined || !Number.isSafeInteger(n) || n < 0) fail(`${a}: "${v}" is not a non-negative integer (1e9 is fine)`);
      o[numeric[a]] = n;
      i++;
    } else if (a === '--backend') {
      if (v !== 'wasm' && v !== 'ts') fail(`--backend: "${v}" is not wasm or ts`);
      o.backend = v;
      i++;
    } else if (a === '--out') {
      if (!v) fail('--out: a directory is missing');
      o.out = resolve(v);
      i++;
    } else {
      fail(`unknown argument "${a}" (options: --accesses N, --seed S, --backend wasm|ts, --intervals K, --bar-moves M, --out DIR)`);
    }
  }
  if (o.accesses < 1) fail('--accesses: at least 1');
  if (o.intervals < 1) fail('--intervals: at least 1');
  return o;
}

const o = parseArgs(process.argv.slice(2));
const gc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

/** The Wasm core's linear memory in bytes (a fresh view of the batch area sits on its buffer); null on the ts backend. */
function wasmBytes(bus) {
  return bus.backend === 'wasm' ? bus.core.batchRecords().buffer.byteLength : null;
}

function memory(bus) {
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, wasm: wasmBytes(bus) };
}

// ---- The bus, booted --------------------------------------------------------------------------
const interrupts = { lines: 0, messages: 0 };
const bus = await createBus({ backend: o.backend, interrupts: { line: () => { interrupts.lines++; }, message: () => { interrupts.messages++; } } });
// Guest RAM for the device models' DMA (random doorbells and queue addresses mostly fault).
bus.dma.addRam({ base: 0, size: MiB, buffer: new Uint8Array(MiB) });
const boot = trace.encodeBatch((await synthesizeTrace({ profile: 'boot', seed: o.seed, backend: o.backend })).filter(trace.isAccess));
const booted = bus.replay(boot);
if (booted.mismatches.length !== 0) fail(`boot: ${booted.mismatches.length} reads differ from the synthesized trace`);
bus.effects();
const workload = new RandomWorkload({ bus, seed: o.seed, barMoves: o.barMoves, parseBdf });
const statsBefore = bus.stats();
const start = memory(bus);

// ---- The run ----------------------------------------------------------------------------------
const perInterval = Math.max(CHUNK, Math.ceil(o.accesses / o.intervals / CHUNK) * CHUNK);
const records = new Uint8Array(CHUNK * 24);
const words = new Uint32Array(records.buffer);
const counts = { reads: 0, writes: 0, ok: 0, aborts: 0, invalid: 0, modelErrors: 0, barMoves: 0, effects: 0, droppedEffects: 0, dmaFaults: 0 };
const intervals = [];
let warm;
let done = 0;

const tty = process.stderr.isTTY === true;
const bar = tty
  ? new cliProgress.SingleBar({ format: `soak ${o.backend} [{bar}] {percentage}% | {done}/{all} M accesses | {rate} M/s | heap {heap} MiB | wasm {wasm} | {eta}s`, stream: process.stderr }, cliProgress.Presets.shades_classic)
  : undefined;
const fmt = (m) => ({ heap: (m.heapUsed / MiB).toFixed(1), wasm: m.wasm === null ? 'n/a' : `${m.wasm / MiB} MiB` });
bar?.start(o.accesses, 0, { done: '0', all: (o.accesses / 1e6).toFixed(0), rate: '-', ...fmt(start) });
if (!tty) console.log(`soak: ${o.accesses} accesses on ${o.backend} (seed ${o.seed}, ${o.barMoves} BAR moves per ${CHUNK} records), ${Math.ceil(o.accesses / perInterval)} intervals`);

const t0 = performance.now();
let sampling = 0; // milliseconds spent sampling (GC included), not counted as running time
let nextPlain = 0.1;
while (done < o.accesses) {
  const target = Math.min(o.accesses, done + perInterval);
  const ti = performance.now();
  const from = done;
  while (done < target) {
    const n = Math.min(CHUNK, target - done);
    counts.barMoves += workload.fill(words, n);
    const r = bus.replay(records.subarray(0, n * 24));
    const status = r.status;
    for (let i = 0; i < n; i++) {
      const s = status[i];
      if (s === 0) counts.ok++;
      else if (s === 1) counts.aborts++;
      else if (s === 2) counts.invalid++;
      else counts.modelErrors++;
      if (records[i * 24] & 1) counts.reads++;
      else counts.writes++;
    }
    if (o.barMoves > 0) counts.effects += bus.effects().length;
    done += n;
  }
  const seconds = (performance.now() - ti) / 1000;
  // What an embedder would drain now and then: the DMA fault log.
  counts.dmaFaults += bus.dma.faults().length;
  const ts = performance.now();
  const m = memory(bus);
  sampling += performance.now() - ts;
  const sample = {
    index: intervals.length, accesses: done - from, seconds, rate: (done - from) / seconds,
    elapsed: (performance.now() - t0 - sampling) / 1000, done, ...m,
  };
  intervals.push(sample);
  if (warm === undefined) warm = m;
  bar?.update(done, { done: (done / 1e6).toFixed(0), rate: (sample.rate / 1e6).toFixed(1), ...fmt(m) });
  while (!tty && done / o.accesses >= nextPlain - 1e-9) {
    console.log(`soak: ${Math.round(nextPlain * 100)}% ${done} accesses, ${(sample.rate / 1e6).toFixed(2)} M/s this interval, heap ${fmt(m).heap} MiB, wasm ${fmt(m).wasm}, rss ${(m.rss / MiB).toFixed(0)} MiB`);
    nextPlain += 0.1;
  }
}
const runSeconds = (performance.now() - t0 - sampling) / 1000;
bar?.stop();
const end = intervals.at(-1);

// ---- Verdicts and the report ------------------------------------------------------------------
const statsAfter = bus.stats();
const sum = (s) => s.aborts.mmio.reads + s.aborts.mmio.writes + s.aborts.io.reads + s.aborts.io.writes;
counts.droppedEffects = statsAfter.droppedEffects - statsBefore.droppedEffects;
const agree = {
  aborts: sum(statsAfter) - sum(statsBefore) === counts.aborts,
  invalid: statsAfter.invalid - statsBefore.invalid === counts.invalid,
  modelErrors: statsAfter.hostErrors - statsBefore.hostErrors === counts.modelErrors,
};
const drift = {};
for (const k of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'wasm']) {
  drift[k] = { fromStart: end[k] === null ? null : end[k] - start[k], afterWarmup: end[k] === null ? null : end[k] - warm[k] };
}
const wasmVerdict = end.wasm === null ? 'n/a' : end.wasm === warm.wasm ? 'flat' : 'grew';
const heapVerdict = gc === undefined ? 'unchecked' : drift.heapUsed.afterWarmup <= HEAP_BOUND ? 'flat' : 'grew';
const reasons = [];
if (wasmVerdict === 'grew') reasons.push(`the Wasm memory grew by ${drift.wasm.afterWarmup} bytes after warm-up`);
if (heapVerdict === 'grew') reasons.push(`the live JS heap grew by ${drift.heapUsed.afterWarmup} bytes after warm-up (bound ${HEAP_BOUND})`);
if (heapVerdict === 'unchecked') reasons.push('the JS heap was not checked: run node with --expose-gc to measure it after a full GC');
const rates = intervals.map((s) => s.rate);
const cpu = cpus();
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), platform: platform(), arch: arch() },
  node: process.version,
  options: { accesses: o.accesses, seed: o.seed, backend: o.backend, intervals: o.intervals, barMoves: o.barMoves, chunk: CHUNK, exposeGc: gc !== undefined },
  workload: `boot trace (${boot.length / 24} accesses, not counted), then the 'random' profile as batch records with ${o.barMoves} BAR move(s) per ${CHUNK} records`,
  accesses: done,
  seconds: runSeconds,
  throughput: { overall: done / runSeconds, medianInterval: median(rates), minInterval: Math.min(...rates), maxInterval: Math.max(...rates) },
  counts: { ...counts, interrupts: { ...interrupts }, statsAgree: agree },
  memory: {
    gcForced: gc !== undefined,
    heapBound: HEAP_BOUND,
    start, warm, end: { rss: end.rss, heapUsed: end.heapUsed, heapTotal: end.heapTotal, external: end.external, arrayBuffers: end.arrayBuffers, wasm: end.wasm },
    drift,
    verdict: { wasm: wasmVerdict, heap: heapVerdict, flat: wasmVerdict !== 'grew' && heapVerdict !== 'grew', reasons },
  },
  intervals: intervals.map(({ index, accesses, seconds, rate, elapsed, done: d, rss, heapUsed, wasm }) => ({ index, accesses, done: d, seconds, elapsed, rate, rss, heapUsed, wasm })),
};
mkdirSync(o.out, { recursive: true });
writeFileSync(join(o.out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(o.out, 'latest.svg'), await soakChart(report));

const mib = (b) => (b === null ? 'n/a' : `${(b / MiB).toFixed(1)} MiB`);
console.log(`soak: ${done} accesses in ${runSeconds.toFixed(1)} s on ${o.backend}: ${(report.throughput.overall / 1e6).toFixed(2)} M/s overall, ` +
  `median interval ${(report.throughput.medianInterval / 1e6).toFixed(2)} M/s [${(report.throughput.minInterval / 1e6).toFixed(2)}..${(report.throughput.maxInterval / 1e6).toFixed(2)}]`);
console.log(`soak: memory start -> end: rss ${mib(start.rss)} -> ${mib(end.rss)}, heap ${mib(start.heapUsed)} -> ${mib(end.heapUsed)}${gc ? ' (after GC)' : ''}, wasm ${mib(start.wasm)} -> ${mib(end.wasm)}`);
console.log(`soak: memory ${report.memory.verdict.flat ? 'flat' : 'NOT flat'} after warm-up (wasm ${wasmVerdict}, heap ${heapVerdict})${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
console.log(`soak: -> ${join(o.out, 'latest.json')}, ${join(o.out, 'latest.svg')}`);
if (!report.memory.verdict.flat) process.exit(1);
