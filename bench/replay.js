// Trace replay end to end against the in-memory batch figure, Wasm and TypeScript side by side:
// a random trace (synthesized on the default topology, every read with its expected value) is
// written as a vpci binary file; "in memory" replays its records with bus.replay, "from disk"
// reads the file in 1 MiB chunks and hands the records to the replayer as they are, with
// verification (the path `vpci replay --verify` takes for a binary trace). Text formats: the text and qtest-log readers in lines per second.
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { createBus } from '../dist/index.js';
import { median, rate, record } from './stats.js';

const quick = process.argv.includes('--quick');
const count = quick ? 20_000 : 400_000;
const rounds = quick ? 3 : 7;

// The trace, replay and synth modules are not in the public bundle's API: bundle them here.
const dir = mkdtempSync(join(tmpdir(), 'vpci-bench-replay-'));
await build({
  stdin: { contents: "export * from './src/trace/index.ts'; export * from './src/replay/index.ts'; export * from './src/trace-synth/index.ts';", resolveDir: process.cwd(), loader: 'ts' },
  bundle: true, format: 'esm', platform: 'neutral', outfile: join(dir, 'trace.js'), logLevel: 'warning',
});
const t = await import(join(dir, 'trace.js'));

const events = (await t.synthesizeTrace({ profile: 'random', count, seed: 1 })).filter((e) => e.op === 'read' || e.op === 'write');
const file = join(dir, 'random.vtr');
writeFileSync(file, t.writeBinaryTrace(events));
const records = t.encodeBatch(events);
console.log(`replay: ${events.length} accesses (boot + ${count} random), ${(records.length / 1e6).toFixed(1)} MB of records, ${rounds} rounds alternating (median [min..max])`);

async function fromDisk(backend) {
  const bus = await createBus({ backend });
  const replayer = new t.TraceReplayer(bus, { verify: true, ramBytes: 1 << 20 });
  const reader = new t.BinaryTraceReader({ source: file });
  const t0 = performance.now();
  // As `vpci replay` does it: the header through the reader, the body as raw records.
  let rest = new Uint8Array(0);
  let headerDone = false;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    let bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!headerDone) {
      reader.push(bytes.subarray(0, t.BINARY_HEADER_SIZE));
      bytes = bytes.subarray(t.BINARY_HEADER_SIZE);
      headerDone = true;
    }
    let data = bytes;
    if (rest.length) {
      data = new Uint8Array(rest.length + bytes.length);
      data.set(rest);
      data.set(bytes, rest.length);
    }
    const whole = data.length - (data.length % 24);
    replayer.pushRecords(data.subarray(0, whole));
    rest = data.slice(whole);
  }
  const s = replayer.finish();
  if (s.mismatches !== 0) throw new Error(`${backend}: ${s.mismatches} mismatches`);
  return events.length / ((performance.now() - t0) / 1000);
}

async function inMemory(backend) {
  const bus = await createBus({ backend });
  const t0 = performance.now();
  const r = bus.replay(records);
  if (r.mismatches.length !== 0) throw new Error(`${backend}: ${r.mismatches.length} mismatches`);
  return events.length / ((performance.now() - t0) / 1000);
}

const samples = { 'wasm memory': [], 'wasm disk': [], 'ts memory': [], 'ts disk': [] };
for (let r = 0; r < rounds; r++) {
  for (const backend of ['wasm', 'ts']) {
    samples[`${backend} memory`].push(await inMemory(backend));
    samples[`${backend} disk`].push(await fromDisk(backend));
  }
}
for (const backend of ['wasm', 'ts']) {
  const m = samples[`${backend} memory`];
  const d = samples[`${backend} disk`];
  record('replay-in-memory', backend, 'accesses/s', m);
  record('replay-binary-file-verified', backend, 'accesses/s', d);
  const ratios = d.map((v, i) => v / m[i]);
  console.log(`  ${backend.padEnd(4)} in memory ${rate(median(m)).padStart(11)} [${rate(Math.min(...m))}..${rate(Math.max(...m))}]` +
    `  from disk, verified ${rate(median(d)).padStart(11)} [${rate(Math.min(...d))}..${rate(Math.max(...d))}]  disk/memory ${(median(ratios) * 100).toFixed(0)}%`);
}

// Text readers: lines per second.
const text = t.writeTextTrace(events);
const log = gunzipSync(readFileSync('../shared/data/qemu/pc-full.qtest.log.gz')).toString();
for (const [name, input, make] of [['vpci text', text, () => new t.TextTraceReader()], ['qtest log (pc-full)', log, () => new t.QtestReader()]]) {
  const lines = input.split('\n').length;
  const s = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    t.readAll(make(), input);
    s.push(lines / ((performance.now() - t0) / 1000));
  }
  record(name.startsWith('qtest') ? 'trace-read-qtest-log' : 'trace-read-text', 'reader', 'lines/s', s);
  console.log(`  ${name.padEnd(20)} ${rate(median(s)).replace('/s', ' lines/s')} [${rate(Math.min(...s))}..${rate(Math.max(...s))}]`);
}
rmSync(dir, { recursive: true, force: true });
