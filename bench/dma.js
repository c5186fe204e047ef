// The Bus's DMA service (`bus.dma`), Wasm core vs TypeScript twin, side by side:
// - translations per second: bus.dma.read of 8 bytes through a translated domain with a warm IOTLB
//   (4 KiB and 2 MiB pages), with every lookup missing the IOTLB, and through the identity domain;
// - copy throughput of bus.dma.read / bus.dma.write for 64 B, 512 B, 4 KiB and 64 KiB, internal
//   (core) and external (embedder SharedArrayBuffer) RAM, next to a plain TypedArray.set of the
//   same bytes between the same RAM and a JS buffer (the limit).
// Alternating rounds (wasm, ts, plain ...), medians [min..max]. Writes bench/results/dma-latest.json
// (full runs only). `npm run bench -- dma [--quick]`. The core-level bench is bench/dma/run.js.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, median, slug } from './stats.js';

// One library instance per backend (the query makes a separate module) and one compiled copy of
// every timed loop per backend and row: V8 keeps type feedback per function, and an embedder runs
// one backend, so shared loops would measure polymorphic call sites nobody has.
const libraries = { wasm: await import('../dist/index.js?backend=wasm'), ts: await import('../dist/index.js?backend=ts') };
const sinkBox = { value: 0, result: 'ok' };
/** `(n) => { for i < n: <body> }` compiled afresh; `vars` are in scope; the body sets `r`. */
function loop(vars, body) {
  const names = Object.keys(vars);
  const make = new Function(...names, 'sinkBox',
    `return (n) => { let r = 'ok'; let bad = 0; for (let i = 0; i < n; i++) { ${body}; if (r !== 'ok') bad++; } if (bad) sinkBox.result = r; };`);
  return make(...names.map((k) => vars[k]), sinkBox);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 9;
const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const BDF = '00:01.0';
const RAM = 16 * MiB; // internal at GPA 0: 4096 pages
const EXT_BASE = 2 ** 30; // external RAM (an emulator's SharedArrayBuffer) at 1 GiB
const IOVA_4K = 256 * MiB; // domain 1: 4 KiB pages, IOVA page i -> GPA page (i * 7919) mod 4096
const IOVA_2M = 4 * 2 ** 30; // domain 2: 2 MiB pages, IOVA 4 GiB -> GPA 0 (internal)
const IOVA_2M_EXT = 8 * 2 ** 30; // and IOVA 8 GiB -> 1 GiB (external)
const COUNT = 4096; // addresses per stream
const MASK = COUNT - 1;

function fail(message) {
  console.error(`dma bench: ${message}`);
  process.exit(1);
}

async function setUp(backend) {
  const bus = await libraries[backend].createBus({ backend });
  bus.configWrite(BDF, 4, 2, 4); // Bus Master Enable
  const dma = bus.dma;
  if (dma.addRam({ base: 0, size: RAM }) !== 0) fail(`${backend}: internal RAM`);
  const ext = new Uint8Array(new SharedArrayBuffer(RAM));
  if (dma.addRam({ base: EXT_BASE, size: RAM, buffer: ext }) !== 1) fail(`${backend}: external RAM`);
  const ram = dma.ram(0);
  for (let i = 0; i < RAM; i++) { ram[i] = (i * 31) >>> 3; ext[i] = (i * 17) >>> 2; }
  const d4k = dma.createDomain('translated');
  const d2m = dma.createDomain('translated');
  for (let i = 0; i < RAM / PAGE; i++) dma.map(d4k, { iova: IOVA_4K + i * PAGE, gpa: ((i * 7919) % (RAM / PAGE)) * PAGE, size: PAGE });
  dma.map(d2m, { iova: IOVA_2M, gpa: 0, size: RAM });
  dma.map(d2m, { iova: IOVA_2M_EXT, gpa: EXT_BASE, size: RAM });
  return { bus, dma, ram: dma.ram(0), ext, domains: { identity: 0, d4k, d2m } };
}

const sides = { wasm: await setUp('wasm'), ts: await setUp('ts') };

let seed = 0x2545f491;
function rnd() { // xorshift32 in [0, 1)
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
}
const f1 = (v) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(1)} M` : `${(v / 1e3).toFixed(1)} k`);
const cell = (o) => `${f1(o.median).padStart(7)} [${f1(o.min).trim()}..${f1(o.max).trim()}]`;
const summary = (r) => ({ median: r.opsPerSecond.median, min: r.opsPerSecond.min, max: r.opsPerSecond.max });
const ratioOf = (a, b) => median(a.samples.map((s, i) => s / b.samples[i]));
const results = { translations: {}, copies: {} };

function attach(domain) {
  for (const s of Object.values(sides)) {
    if (domain === 0) s.dma.detach(BDF);
    else s.dma.attach(BDF, s.domains[domain]);
  }
}

function checkAllOk(label) {
  if (sinkBox.result !== 'ok') fail(`${label}: a DMA returned ${sinkBox.result}`);
}

// ---- translations: bus.dma.read of 8 bytes, one call per translation -----------------------------
const TRANSLATIONS = quick ? 20_000 : 400_000;
const streams = {
  'warm IOTLB, 4 KiB pages (256 pages)': ['d4k', () => IOVA_4K + Math.floor(rnd() * 256) * PAGE + Math.floor(rnd() * (PAGE - 8))],
  'IOTLB misses (4096 pages cycled)': ['d4k', (i) => IOVA_4K + ((i * 1031) % 4096) * PAGE + 8],
  'warm IOTLB, 2 MiB pages (8 pages)': ['d2m', () => IOVA_2M + Math.floor(rnd() * (RAM - 8))],
  'identity domain (no IOTLB)': ['identity', () => Math.floor(rnd() * (RAM - 8))],
};
console.log(`dma: bus.dma on the built library (dist/), ${rounds} rounds per row alternating wasm/ts; median [min..max]; ` +
  `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')} on ${cpus().length} CPUs (a shared machine: expect noise)`);
console.log(`translations per second (bus.dma.read of 8 bytes, ${TRANSLATIONS} calls per run)`);
console.log(`  ${''.padEnd(38)} ${'wasm'.padEnd(26)} ${'ts'.padEnd(26)} wasm/ts  IOTLB misses per call (wasm, ts)`);
for (const [name, [domain, gen]] of Object.entries(streams)) {
  attach(domain);
  const addrs = new Float64Array(COUNT);
  for (let i = 0; i < COUNT; i++) addrs[i] = gen(i);
  const runs = {};
  for (const [b, s] of Object.entries(sides)) {
    const buf = new Uint8Array(8);
    runs[b] = loop({ dma: s.dma, bdf: BDF, addrs, buf, MASK }, 'r = dma.read(bdf, addrs[i & MASK], buf)');
  }
  const before = Object.fromEntries(Object.entries(sides).map(([b, s]) => [b, s.dma.stats()]));
  const [w, t] = alternate([{ name: 'wasm', run: runs.wasm }, { name: 'ts', run: runs.ts }], { iterations: TRANSLATIONS, rounds, record: { suite: slug('dma-translate', name), unit: 'DMAs/s' } });
  checkAllOk(name);
  const calls = (2 + rounds) * TRANSLATIONS;
  const miss = Object.fromEntries(Object.entries(sides).map(([b, s]) => [b, (s.dma.stats().iotlbMisses - before[b].iotlbMisses) / calls]));
  const entry = { wasm: summary(w), ts: summary(t), wasmOverTs: ratioOf(w, t), iotlbMissesPerCall: miss, unit: 'translations (8-byte DMAs) per second' };
  results.translations[name] = entry;
  console.log(`  ${name.padEnd(38)} ${`${cell(entry.wasm)}/s`.padEnd(26)} ${`${cell(entry.ts)}/s`.padEnd(26)} ${`${entry.wasmOverTs.toFixed(2)}x`.padEnd(8)} ${miss.wasm.toFixed(2)}, ${miss.ts.toFixed(2)}`);
}

// ---- diagnostic: the service layer vs the core call it makes ------------------------------------
// bus.core.dma.dmaRead is the call bus.dma.read makes after its checks; the difference is the cost
// of the service (BDF lookup, argument checks, message strings, buffer views, the copy out).
console.log('  diagnostic, ns per 8-byte read: bus.dma.read vs the core call it makes (bus.core.dma.dmaRead + copy out of the transfer buffer)');
results.serviceOverhead = {};
for (const [name, [domain, gen]] of Object.entries(streams)) {
  if (name.startsWith('IOTLB misses')) continue;
  attach(domain);
  const addrs = new Float64Array(COUNT);
  for (let i = 0; i < COUNT; i++) addrs[i] = gen(i);
  const contenders = [];
  for (const [b, s] of Object.entries(sides)) {
    const buf = new Uint8Array(8);
    contenders.push({ name: `${b} bus.dma.read`, run: loop({ dma: s.dma, bdf: BDF, addrs, buf, MASK }, 'r = dma.read(bdf, addrs[i & MASK], buf)') });
    // The slot of BDF: Bus#slotOfBdf is private in TypeScript, callable from JS.
    const slot = s.bus.slotOfBdf(BDF);
    contenders.push({ name: `${b} core`, run: loop({ core: s.bus.core.dma, slot, addrs, buf, MASK }, 'r = core.dmaRead(slot, addrs[i & MASK], 8, 0) === 0 ? "ok" : "core status"; buf.set(core.dmaBuffer().subarray(0, 8))') });
  }
  const out = alternate(contenders, { iterations: TRANSLATIONS, rounds });
  checkAllOk(`${name} (diagnostic)`);
  const ns = (r) => 1e9 / r.opsPerSecond.median;
  results.serviceOverhead[name] = Object.fromEntries(out.map((r) => [r.name, { nsMedian: ns(r), nsMin: 1e9 / r.opsPerSecond.max, nsMax: 1e9 / r.opsPerSecond.min }]));
  console.log(`    ${name.padEnd(36)} ${out.map((r) => `${r.name} ${ns(r).toFixed(0)} ns`).join(', ')}`);
}

// ---- copies ---------------------------------------------------------------------------------------
// 4096 addresses, 64-byte aligned, spread over a 1 MiB window (hot in cache) of one 2 MiB page, so
// every transfer is one warm IOTLB entry: the cost is the service, the core and the copies.
attach('d2m');
const SIZES = [64, 512, 4096, 65536];
const BYTES = quick ? 4 * MiB : 64 * MiB; // per timed run
console.log(`copies, bytes per second: bus.dma.read/write through 2 MiB pages (warm IOTLB) vs a plain TypedArray.set of the same bytes between the same RAM and a JS buffer; ${BYTES / MiB} MiB per run`);
console.log(`  ${''.padEnd(26)} ${'wasm dma'.padEnd(24)} ${'ts dma'.padEnd(24)} ${'plain (wasm RAM)'.padEnd(24)} ${'plain (ts RAM)'.padEnd(24)} wasm/plain ts/plain`);
for (const kind of ['internal', 'external']) {
  for (const dir of ['read', 'write']) {
    for (const size of SIZES) {
      const offs = new Float64Array(COUNT);
      for (let i = 0; i < COUNT; i++) offs[i] = Math.floor(rnd() * ((MiB - size) / 64)) * 64;
      const iovaBase = kind === 'internal' ? IOVA_2M : IOVA_2M_EXT;
      const addrs = offs.map((o) => iovaBase + o);
      const iterations = Math.min(400_000, Math.max(1000, Math.floor(BYTES / size)));
      const contenders = [];
      for (const [b, s] of Object.entries(sides)) {
        const buf = new Uint8Array(size).fill(0x5a);
        const body = dir === 'read' ? 'r = dma.read(bdf, addrs[i & MASK], buf)' : 'r = dma.write(bdf, addrs[i & MASK], buf)';
        contenders.push({ name: `${b} dma`, run: loop({ dma: s.dma, bdf: BDF, addrs, buf, MASK }, body) });
      }
      for (const [b, s] of Object.entries(sides)) {
        const buf = new Uint8Array(size).fill(0x5a);
        const mem = kind === 'internal' ? s.ram : s.ext; // the Wasm view stays valid: DMAs never grow memory
        const body = dir === 'read' ? 'buf.set(mem.subarray(offs[i & MASK], offs[i & MASK] + size))' : 'mem.set(buf, offs[i & MASK])';
        contenders.push({ name: `plain (${b} RAM)`, run: loop({ mem, buf, offs, size, MASK }, body) });
      }
      const label = `${kind} ${dir} ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`;
      // The plain copy of the same bytes (TypedArray.set: memory.copy underneath) is the limit.
      const [wd, td, wp, tp] = alternate(contenders, { iterations, rounds, record: { suite: slug('dma-copy', label), unit: 'bytes/s', scale: size, backends: ['wasm', 'ts', 'limit', null] } });
      checkAllOk(label);
      const bytesOf = (r) => ({ median: r.opsPerSecond.median * size, min: r.opsPerSecond.min * size, max: r.opsPerSecond.max * size });
      const entry = {
        size, kind, dir, iterationsPerRun: iterations,
        wasm: bytesOf(wd), ts: bytesOf(td), plainWasmRam: bytesOf(wp), plainTsRam: bytesOf(tp),
        wasmOverPlain: ratioOf(wd, wp), tsOverPlain: ratioOf(td, tp), wasmOverTs: ratioOf(wd, td),
        unit: 'bytes per second',
      };
      results.copies[label] = entry;
      const pc = (v) => `${(100 * v).toFixed(0)}%`;
      console.log(`  ${label.padEnd(26)} ${`${cell(entry.wasm)}B/s`.padEnd(24)} ${`${cell(entry.ts)}B/s`.padEnd(24)} ` +
        `${`${cell(entry.plainWasmRam)}B/s`.padEnd(24)} ${`${cell(entry.plainTsRam)}B/s`.padEnd(24)} ${pc(entry.wasmOverPlain).padEnd(10)} ${pc(entry.tsOverPlain)}`);
    }
  }
}

// ---- checks: the data really moved --------------------------------------------------------------
for (const [b, s] of Object.entries(sides)) {
  const probe = new Uint8Array(4096);
  if (s.dma.read(BDF, IOVA_2M + 12345, probe) !== 'ok') fail(`${b}: probe read`);
  for (let k = 0; k < probe.length; k++) if (probe[k] !== s.ram[12345 + k]) fail(`${b}: probe read returned other bytes`);
}

// ---- targets --------------------------------------------------------------------------------------
const targets = {};
for (const kind of ['internal', 'external']) {
  for (const dir of ['read', 'write']) {
    const e = results.copies[`${kind} ${dir} 4 KiB`];
    for (const b of ['wasm', 'ts']) {
      const v = b === 'wasm' ? e.wasmOverPlain : e.tsOverPlain;
      targets[`${b} ${kind} ${dir} 4 KiB >= 70% of plain`] = { value: v, met: v >= 0.7 };
    }
  }
}
console.log(`target: 4 KiB DMA copies at >= 70% of the plain copy: ${Object.entries(targets).map(([k, v]) => `${k.replace(' >= 70% of plain', '')} ${(100 * v.value).toFixed(0)}% ${v.met ? 'met' : 'MISSED'}`).join('; ')}`);

if (quick) {
  console.log('(quick run: bench/results/dma-latest.json not written)');
} else {
  const out = {
    suite: 'dma',
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    loadAverage: loadavg(),
    wasmSha256: createHash('sha256').update(readFileSync(join(root, 'build/vpci.wasm'))).digest('hex'),
    config: { rounds, translationsPerRun: TRANSLATIONS, bytesPerCopyRun: BYTES, addressesPerStream: COUNT, internalRam: RAM, externalRam: RAM },
    ...results,
    targets,
  };
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dma-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/dma-latest.json');
}
