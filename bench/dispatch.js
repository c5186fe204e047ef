// The trap dispatcher, Wasm core vs TypeScript twin, side by side: batch replay throughput over
// ~100 mapped handler regions (zero-copy: records written once into the core's batch area, then
// replayBatch in a loop), the memory limit (a loop that only reads the records), per-access
// calls, and the cost of a TypeScript device model in 1% of the accesses. Writes the figures to
// bench/results/dispatch-latest.json (full runs only). `npm run bench -- dispatch [--quick]`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBenchEntry } from './compile-as.js';
import { alternate, median, record, slug } from './stats.js';

// Each backend gets its own instance of the library (the query makes a separate module) and its
// own copy of every timed loop (compiled by `loop` below): V8 keeps type feedback per function,
// so code shared by both cores would measure polymorphic call sites no embedder has, since an
// embedder runs one backend. The config suite shares its loops; this one does not.
const libraries = { wasm: await import('../dist/index.js?backend=wasm'), ts: await import('../dist/index.js?backend=ts') };
const sinkBox = { value: 0 };
/** `(n) => { for i < n: s ^= <expr> }` compiled afresh for one backend; `vars` are in scope. */
function loop(vars, expr) {
  const names = Object.keys(vars);
  const make = new Function(...names, 'sinkBox',
    `return (n) => { let s = 0; for (let i = 0; i < n; i++) s ^= ${expr}; sinkBox.value ^= s; };`);
  return make(...names.map((k) => vars[k]), sinkBox);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 9;
const RECORDS = 16384; // one batch: the core's batch capacity
const RECORD_BYTES = 24;
const BATCHES = quick ? 4 : 256; // replayBatch calls per timed run
const MODEL_BATCHES = quick ? 1 : 32; // the same when every access calls the TypeScript model
const STREAM_BATCHES = quick ? 8 : 1024; // streamRecords calls per timed run
const CALLS = quick ? 20_000 : 2_000_000; // per-access calls per timed run

/** Stops the run with a message (a throw would be reported from binaryen's handler once asc is loaded). */
function fail(message) {
  console.error(`dispatch bench: ${message}`);
  process.exit(1);
}

// ---- the memory-limit loop in Wasm: bench/dispatch/stream.as, compiled into a temporary dir ------
async function compileStream() {
  const { dir, wasmFile } = await compileBenchEntry('bench/dispatch/stream.as', 'vpci-dispatch-bench-');
  try {
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), { env: { abort() { throw new Error('abort'); } } });
    return instance.exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- topology: 25 test endpoints (20 slots, 5 of them multi-function) -------------------------
// Each has BAR0 mem32 4 KiB, BAR1 io 32 B, BAR2 mem64 1 MiB, BAR4 mem64 16 KiB and a 64 KiB ROM:
// 125 BAR regions. Each memory BAR and the ROM gets a 4 KiB handler: 100 handler regions.
const devices = [];
for (let d = 1; d <= 20; d++) {
  const dev = d.toString(16).padStart(2, '0');
  devices.push({ bdf: `00:${dev}.0`, model: 'test-endpoint' });
  if (d % 4 === 0) devices.push({ bdf: `00:${dev}.1`, model: 'test-endpoint', options: { interruptPin: 2 } });
}
const topology = { name: 'dispatch-bench', devices };
const doorbellAt = (k) => k % 6 === 5; // BAR4 of these functions is a doorbell, not a register file
const MODEL_FN = 0; // the TypeScript model sits in BAR4 +0x1000 of this function (its BAR4 +0 is a regfile)

function makeModel() {
  const regs = new Uint32Array(1024);
  return {
    // Offsets are from the start of the BAR: the region is BAR4 +0x1000..+0x2000.
    read: (offset, size) => regs[(offset >> 2) & 1023] & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
    write: (offset, size, value) => { regs[(offset >> 2) & 1023] = Number(value); },
  };
}

/** A bus with every BAR placed and decoding; returns it with the handler regions' ids. */
async function setUp(backend) {
  const bus = await libraries[backend].createBus({ backend, topology });
  const handlers = [];
  let model = 0;
  bus.functions().forEach((f, k) => {
    const w = (off, size, v) => bus.configWrite(f.bdf, off, size, v);
    w(0x10, 4, 0xc0000000 + k * 0x1000); // BAR0 mem32 4 KiB
    w(0x14, 4, 0xc000 + k * 0x20); // BAR1 io 32 B
    w(0x18, 4, (k * 0x100000) >>> 0); // BAR2 mem64 1 MiB above 4 GiB: low dword, then high
    w(0x1c, 4, 0x8);
    w(0x20, 4, 0xc1000000 + k * 0x4000); // BAR4 mem64 16 KiB below 4 GiB
    w(0x24, 4, 0);
    w(0x30, 4, (0xc2000000 + k * 0x10000 + 1) >>> 0); // ROM 64 KiB, enabled
    w(0x04, 2, 0x0003); // Command: IO and memory decode
    const regfile = (rom) => ({ kind: 'regfile', size: 4096, writeMask: rom ? new Uint8Array(4096) : undefined });
    handlers.push(bus.setBarHandler(f.bdf, 0, regfile(false)));
    handlers.push(bus.setBarHandler(f.bdf, 2, regfile(false)));
    handlers.push(bus.setBarHandler(f.bdf, 4, doorbellAt(k) ? { kind: 'doorbell' } : regfile(false), { length: 4096 }));
    handlers.push(bus.setBarHandler(f.bdf, 6, regfile(true)));
    if (k === MODEL_FN) model = bus.setBarHandler(f.bdf, 4, makeModel(), { offset: 0x1000, length: 0x1000 });
  });
  const mapped = new Map(bus.regions().map((r) => [r.id, r]));
  const regions = handlers.map((id) => {
    const r = mapped.get(id);
    if (!r) fail(`${backend}: handler region ${id} is not mapped`);
    return { id, kind: r.kind, base: Number(r.base), size: Number(r.size) };
  });
  const m = mapped.get(model);
  if (!m) fail(`${backend}: the model region is not mapped`);
  return { bus, regions, model: { id: model, base: Number(m.base), size: Number(m.size) }, barRegions: bus.regions().filter((r) => r.kind === 'bar').length };
}

// ---- traces -------------------------------------------------------------------------------------
let seed = 0x2545f491;
function rnd() { // xorshift32 in [0, 1)
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
}
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

/** Sizes 4 mostly (85%), then 8, 2, 1 (5% each); two reads for every write. */
function pickSize() {
  const s = rnd();
  return s < 0.85 ? 4 : s < 0.9 ? 8 : s < 0.95 ? 2 : 1;
}

function putRecord(view, i, write, size, addr, lo = write ? Math.floor(rnd() * 2 ** 32) : 0, hi = write && size === 8 ? Math.floor(rnd() * 2 ** 32) : 0) {
  const at = i * RECORD_BYTES;
  view.setUint8(at, write ? 2 : 1);
  view.setUint8(at + 1, size);
  view.setUint16(at + 2, 0, true);
  view.setUint32(at + 4, 0, true);
  view.setUint32(at + 8, addr >>> 0, true);
  view.setUint32(at + 12, Math.floor(addr / 2 ** 32), true);
  view.setUint32(at + 16, lo, true);
  view.setUint32(at + 20, hi, true);
}

/**
 * One batch of records over `regions`. local: 90% of accesses stay in the previous access's
 * region, a register or so away; uniform: a random region and offset each time.
 */
function trace(regions, kind) {
  const bytes = new Uint8Array(RECORDS * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  let r = regions[randInt(0, regions.length - 1)];
  let off = 0;
  for (let i = 0; i < RECORDS; i++) {
    if (kind === 'uniform' || i === 0 || rnd() >= 0.9) {
      r = regions[randInt(0, regions.length - 1)];
      off = randInt(0, r.size / 4 - 1) * 4;
    } else {
      off = Math.min(Math.max(off + 4 * randInt(-16, 16), 0), r.size - 4);
    }
    const size = pickSize();
    putRecord(view, i, rnd() < 1 / 3, size, r.base + (off - (off % size)));
  }
  return bytes;
}

/**
 * The local trace with 1% of its records (4-byte, a third writes) moved to `target` at a random
 * register; `control` gets the very same records at the same offsets in `control` instead.
 */
function withOnePercent(base, target, control) {
  const a = base.slice();
  const b = base.slice();
  const va = new DataView(a.buffer);
  const vb = new DataView(b.buffer);
  let n = 0;
  for (let i = 0; i < RECORDS; i++) {
    if (rnd() >= 0.01) continue;
    const write = rnd() < 1 / 3;
    const off = randInt(0, target.size / 4 - 1) * 4;
    const value = write ? Math.floor(rnd() * 2 ** 32) : 0;
    putRecord(va, i, write, 4, target.base + off, value, 0);
    putRecord(vb, i, write, 4, control.base + off, value, 0);
    n++;
  }
  return { model: a, control: b, count: n };
}

/** Every record to `target`: 4-byte, a third writes, a register or so from the previous one. */
function allTo(target) {
  const bytes = new Uint8Array(RECORDS * RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  let off = 0;
  for (let i = 0; i < RECORDS; i++) {
    off = Math.min(Math.max(off + 4 * randInt(-16, 16), 0), target.size - 4);
    putRecord(view, i, rnd() < 1 / 3, 4, target.base + off);
  }
  return bytes;
}

// ---- set-up and checks --------------------------------------------------------------------------
const sides = { wasm: await setUp('wasm'), ts: await setUp('ts') };
for (const [i, r] of sides.wasm.regions.entries()) {
  const t = sides.ts.regions[i];
  if (r.id !== t.id || r.base !== t.base || r.size !== t.size) fail(`region ${r.id}: wasm and ts disagree`);
}
const regions = sides.wasm.regions;
const modelRegion = sides.wasm.model;
const controlRegion = regions.find((r) => r.base === modelRegion.base - 0x1000);
if (!controlRegion || controlRegion.kind !== 'regfile') fail('the control region (BAR4 +0 of the model function) is not a regfile');

const local = trace(regions, 'local');
const uniform = trace(regions, 'uniform');
const onePercent = withOnePercent(local, modelRegion, controlRegion);
const traces = {
  local: { label: 'batch replay, 90% locality', bytes: local },
  uniform: { label: 'batch replay, uniform over regions', bytes: uniform },
  control: { label: '1% to a regfile (control of the next)', bytes: onePercent.control },
  model: { label: '1% to a TypeScript model', bytes: onePercent.model },
  modelOnly: { label: 'every access to the TypeScript model', bytes: allTo(modelRegion), batches: MODEL_BATCHES },
};

// Both backends run every trace through bus.replay before anything is timed: every record must
// hit its region (status 0) and both must answer bit for bit alike.
for (const [name, t] of Object.entries(traces)) {
  const w = sides.wasm.bus.replay(t.bytes);
  const s = sides.ts.bus.replay(t.bytes);
  const bad = w.status.findIndex((v) => v !== 0);
  if (bad >= 0) fail(`${name}: record ${bad} has status ${w.status[bad]}`);
  for (let i = 0; i < t.bytes.length / RECORD_BYTES; i++) {
    if (w.results[i] !== s.results[i] || w.status[i] !== s.status[i]) fail(`${name}: record ${i}: wasm and ts differ`);
  }
}
const hostCalls = (bus) => bus.stats().regions.find((r) => r.id === modelRegion.id);
const before = { wasm: hostCalls(sides.wasm.bus), ts: hostCalls(sides.ts.bus) };
const modelAccesses = onePercent.count + RECORDS;
if (before.wasm.reads + before.wasm.writes !== modelAccesses || before.ts.reads + before.ts.writes !== modelAccesses) {
  fail('the model region did not see the accesses meant for it');
}
sides.wasm.bus.events();
sides.ts.bus.events();

// ---- measurement helpers ------------------------------------------------------------------------
const f1 = (v) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(1)} M` : `${(v / 1e3).toFixed(1)} k`);
const rateCell = (o) => `${f1(o.median).padStart(7)}/s [${f1(o.min).trim()}..${f1(o.max).trim()}]`;
const summary = (o) => ({ median: o.opsPerSecond.median, min: o.opsPerSecond.min, max: o.opsPerSecond.max });
const ratioOf = (a, b) => median(a.samples.map((s, i) => s / b.samples[i]));
const results = { throughput: {}, stream: {}, perAccess: {}, crossing: {} };
const rows = [];

function pair(key, label, wasmRun, tsRun, iterations, into) {
  const [w, t] = alternate([{ name: 'wasm', run: wasmRun }, { name: 'ts', run: tsRun }], { iterations, rounds, record: { suite: key === 'records' ? 'limit-stream-records' : slug('dispatch', key), unit: key === 'records' ? 'records/s' : 'accesses/s' } });
  const entry = { wasm: summary(w), ts: summary(t), wasmOverTs: ratioOf(w, t), unit: 'per second' };
  into[key] = entry;
  rows.push([label, rateCell(entry.wasm), rateCell(entry.ts), `${entry.wasmOverTs.toFixed(2)}x`]);
  return entry;
}

function printRows(title, head) {
  const widths = [40, 34, 34, 8];
  console.log(title);
  console.log(`  ${head.map((h, i) => h.padEnd(widths[i])).join(' ')}`);
  for (const r of rows.splice(0)) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join(' ')}`);
}


// ---- 1 + 4: batch replay, zero-copy ---------------------------------------------------------------
/** Writes the trace into the core's batch area once; the timed run is replayBatch in a loop. */
function replayer(side, bytes, batches) {
  const core = side.bus.core;
  core.batchRecords().set(bytes);
  const run = loop({ core, RECORDS }, 'core.replayBatch(RECORDS)');
  return () => run(batches);
}
const counts = `${BATCHES} x ${RECORDS} records per run`;
console.log(`dispatch: ${regions.length} handler regions (${regions.filter((r) => r.kind === 'regfile').length} regfile 4 KiB, ` +
  `${regions.filter((r) => r.kind === 'doorbell').length} doorbells) over ${sides.wasm.bus.functions().length} test-endpoint functions ` +
  `(${sides.wasm.barRegions} BAR regions mapped); ${rounds} rounds per row, alternating wasm/ts; median [min..max]; ratio = median of per-round wasm/ts`);
for (const key of ['local', 'uniform', 'control', 'model', 'modelOnly']) {
  const t = traces[key];
  const batches = t.batches ?? BATCHES;
  // Each core has its own batch area and only this row runs until the next: one fill per row.
  pair(key, t.label, replayer(sides.wasm, t.bytes, batches), replayer(sides.ts, t.bytes, batches), batches * RECORDS,
    key === 'local' || key === 'uniform' ? results.throughput : results.crossing);
}

// ---- 2: the memory limit ------------------------------------------------------------------------
const stream = await compileStream();
const streamAt = Number(stream.recordBuffer(RECORDS));
new Uint8Array(stream.memory.buffer, streamAt, RECORDS * RECORD_BYTES).set(local);
const tsRecords = sides.ts.bus.core.batchRecords(); // the twin's batch area, holding a trace
tsRecords.set(local);
const TWO32 = 4294967296;
/** What the twin's replayBatch reads of each record, and nothing else. */
function streamJs(bytes, n) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const at = i * RECORD_BYTES;
    const op = bytes[at];
    const size = bytes[at + 1];
    const addr = view.getUint32(at + 12, true) * TWO32 + view.getUint32(at + 8, true);
    sum += op + size + addr + view.getUint32(at + 16, true) + view.getUint32(at + 20, true);
  }
  return sum;
}
const expected = streamJs(local, RECORDS);
if (stream.streamRecords(RECORDS) !== expected) fail('stream: wasm and js sums differ');
let streamSum = 0;
const streamEntry = pair('records', 'stream records only (memory limit)',
  () => { for (let b = 0; b < STREAM_BATCHES; b++) streamSum = stream.streamRecords(RECORDS); },
  () => { for (let b = 0; b < STREAM_BATCHES; b++) streamSum = streamJs(tsRecords, RECORDS); },
  STREAM_BATCHES * RECORDS, results.stream);
if (streamSum !== expected) fail('stream: wrong sum');
streamEntry.unit = 'records per second';
printRows(`batch (${counts}, ${MODEL_BATCHES} for the all-model row; stream ${STREAM_BATCHES} x ${RECORDS}); accesses/s`, ['', 'wasm', 'ts', 'wasm/ts']);

// What the 1% costs per crossing: the time the model trace takes over its control, per model access.
for (const b of ['wasm', 'ts']) {
  const extra = (1 / results.crossing.model[b].median - 1 / results.crossing.control[b].median) * RECORDS / onePercent.count;
  results.crossing[`${b}NsPerModelAccess`] = extra * 1e9;
}
for (const b of ['wasm', 'ts']) results.crossing[`${b}NsPerAccessAllModel`] = 1e9 / results.crossing.modelOnly[b].median;
console.log(`  1% row: ${onePercent.count} model accesses per ${RECORDS} records; extra time over its control per model access: ` +
  `wasm ${results.crossing.wasmNsPerModelAccess.toFixed(0)} ns, ts ${results.crossing.tsNsPerModelAccess.toFixed(0)} ns (a 1% effect: noisy)`);
console.log(`  all-model row: wasm ${results.crossing.wasmNsPerAccessAllModel.toFixed(0)} ns, ts ${results.crossing.tsNsPerAccessAllModel.toFixed(0)} ns per access ` +
  `(wasm: record -> core -> import -> JS model -> mailbox; ts: a JS call)`);
const streamRatio = (b) => results.throughput.local[b].median / results.stream.records[b].median;
console.log(`  replay at 90% locality reaches ${(100 * streamRatio('wasm')).toFixed(0)}% of the streaming rate in wasm, ${(100 * streamRatio('ts')).toFixed(0)}% in ts`);

// ---- 3: per access --------------------------------------------------------------------------------
const reg = regions[0]; // function 0's BAR0: a 4 KiB register file
const offsets = [0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x2c, 0x3c];
const calls = {
  'core.mmioReadHigh (near-empty export)': (bus) => loop({ core: bus.core }, 'core.mmioReadHigh()'),
  'core.mmioRead(addr, 4) on a regfile': (bus) => loop({ core: bus.core, base: reg.base, offsets }, 'core.mmioRead(base + offsets[i & 7], 4)'),
  'bus.mmioRead(addr, 4) on a regfile': (bus) => loop({ bus, base: reg.base, offsets }, 'bus.mmioRead(base + offsets[i & 7], 4)'),
};
const names = Object.keys(calls);
const contenders = [];
for (const name of names) {
  contenders.push({ name: `wasm ${name}`, run: calls[name](sides.wasm.bus) });
  contenders.push({ name: `ts ${name}`, run: calls[name](sides.ts.bus) });
}
const per = alternate(contenders, { iterations: CALLS, rounds });
names.forEach((name, k) => {
  record(slug('per-access', name), 'wasm', 'calls/s', per[2 * k].samples);
  record(slug('per-access', name), 'ts', 'calls/s', per[2 * k + 1].samples);
});
const ns = (o) => 1e9 / o;
const nsCell = (r) => `${ns(r.opsPerSecond.median).toFixed(1).padStart(6)} ns [${ns(r.opsPerSecond.max).toFixed(1)}..${ns(r.opsPerSecond.min).toFixed(1)}]`;
console.log(`per access (${CALLS} calls per run, the six rows alternating); ns per call median [min..max]; x empty = median of per-round ratios to the near-empty call`);
console.log(`  ${''.padEnd(40)} ${'wasm'.padEnd(27)} ${'x empty'.padEnd(8)} ${'ts'.padEnd(27)} ${'x empty'.padEnd(8)} wasm/ts time`);
names.forEach((name, k) => {
  const w = per[2 * k];
  const t = per[2 * k + 1];
  const xw = ratioOf(per[0], w); // empty rate / this rate = this time / empty time
  const xt = ratioOf(per[1], t);
  const wt = ratioOf(t, w);
  results.perAccess[name] = {
    wasm: { nsMedian: ns(w.opsPerSecond.median), nsMin: ns(w.opsPerSecond.max), nsMax: ns(w.opsPerSecond.min), overEmpty: xw },
    ts: { nsMedian: ns(t.opsPerSecond.median), nsMin: ns(t.opsPerSecond.max), nsMax: ns(t.opsPerSecond.min), overEmpty: xt },
    wasmOverTsTime: wt,
  };
  console.log(`  ${name.padEnd(40)} ${nsCell(w).padEnd(27)} ${`${xw.toFixed(2)}x`.padEnd(8)} ${nsCell(t).padEnd(27)} ${`${xt.toFixed(2)}x`.padEnd(8)} ${wt.toFixed(2)}x`);
});

// ---- targets --------------------------------------------------------------------------------------
const local90 = results.throughput.local;
const perRead = results.perAccess['core.mmioRead(addr, 4) on a regfile'].wasm.overEmpty;
const targets = {
  wasmLocal90AtLeast150M: { value: local90.wasm.median, met: local90.wasm.median >= 150e6 },
  wasmOverTsLocal90AtLeast1_5: { value: local90.wasmOverTs, met: local90.wasmOverTs >= 1.5 },
  wasmMmioReadWithin2xEmpty: { value: perRead, met: perRead <= 2 },
};
console.log(`targets: wasm batch at 90% locality >= 150 M/s: ${f1(local90.wasm.median)}/s ${targets.wasmLocal90AtLeast150M.met ? 'met' : 'MISSED'}; ` +
  `>= 1.5x ts: ${local90.wasmOverTs.toFixed(2)}x ${targets.wasmOverTsLocal90AtLeast1_5.met ? 'met' : 'MISSED'}; ` +
  `wasm core.mmioRead within 2x the empty call: ${perRead.toFixed(2)}x ${targets.wasmMmioReadWithin2xEmpty.met ? 'met' : 'MISSED'}`);

if (quick) {
  console.log('(quick run: bench/results/dispatch-latest.json not written)');
} else {
  const out = {
    suite: 'dispatch',
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    wasmSha256: createHash('sha256').update(readFileSync(join(root, 'build/vpci.wasm'))).digest('hex'),
    config: {
      handlerRegions: regions.length, barRegions: sides.wasm.barRegions, functions: sides.wasm.bus.functions().length,
      recordsPerBatch: RECORDS, batchesPerRun: BATCHES, streamBatchesPerRun: STREAM_BATCHES, callsPerRun: CALLS, rounds,
      modelAccessesPerBatch: onePercent.count,
    },
    ...results,
    targets,
  };
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dispatch-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('figures written to bench/results/dispatch-latest.json');
}
if (sinkBox.value === 0.5) console.log('unreachable: keeps the loops from being optimised away');
