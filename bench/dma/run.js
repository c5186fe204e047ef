// DMA translator: translations per second (warm IOTLB, IOTLB misses, identity, 2 MiB pages) and
// copy throughput (64 B .. 64 KiB) next to a plain copy of the same size, Wasm core vs TypeScript
// twin, alternating, medians [min..max]. `node bench/dma/run.js [--quick]`. Builds into a
// temporary directory (nothing is written to the tree): loop.as through asc with the release
// options, the twin through esbuild.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { alternate, median } from '../stats.js';
import { compileBenchEntry } from '../compile-as.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 9;

// ---- build --------------------------------------------------------------------------------------
const { dir, wasmFile } = await compileBenchEntry('bench/dma/loop.as', 'vpci-dma-bench-');
const twinFile = join(dir, 'twin.mjs');
await build({
  stdin: {
    contents: `export { DmaTranslator, runSegments } from './src/core/ts/dma/index.ts'; export { ConfigStore } from './src/core/ts/config-store.ts';`,
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', outfile: twinFile, logLevel: 'error',
});
const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), {
  env: { abort() { throw new Error('abort'); } }, host: { access() {} },
});
const w = instance.exports;
const { DmaTranslator, ConfigStore, runSegments } = await import(twinFile);
rmSync(dir, { recursive: true, force: true });

// ---- machine: one function (slot 0, bus master on), RAM, domains ------------------------------
const MiB = 1 << 20;
const RAM = 64 * MiB;           // internal RAM at GPA 0
const EXT_BASE = 1 << 30;       // external RAM (an emulator's buffer) at 1 GiB
const store = new ConfigStore();
const ts = new DmaTranslator(store);
const config = new Uint8Array(4096);
config[4] = 4;
{
  const z = new Uint8Array(4096);
  if (store.addFunction(0, 0, 3, 0, 256) !== 0 || store.loadPlanes(0, config, z, z) !== 0) throw new Error('ts store');
  if (w.addFunction(0, 0, 3, 0, 256) !== 0) throw new Error('wasm store');
  new Uint8Array(w.memory.buffer, w.stagingAddress(), 4096).set(config);
  if (w.loadPlanes(0) !== 0) throw new Error('wasm planes');
}
const ext = new Uint8Array(new SharedArrayBuffer(RAM));
for (const core of [w, ts]) {
  if (core.ramAdd(0, RAM, 1) !== 0 || core.ramAdd(EXT_BASE, RAM, 0) !== 1) throw new Error('ram');
  // Domain 1: 4 KiB pages, IOVA 256 MiB.. → GPA scattered (page i → page (i * 7919) mod 16384).
  // Domain 2: 2 MiB pages, IOVA 4 GiB → GPA 0 (64 MiB). Domain 3: 4 KiB pages into external RAM.
  if (core.domainCreate(2) !== 1 || core.domainCreate(2) !== 2 || core.domainCreate(2) !== 3) throw new Error('domains');
  for (let i = 0; i < 16384; i++) {
    if (core.domainMap(1, 256 * MiB + i * 4096, ((i * 7919) % 16384) * 4096, 4096, 3) !== 0) throw new Error('map 1');
  }
  if (core.domainMap(1, 512 * MiB, 0, 16 * MiB, 3) !== 0) throw new Error('map 1b'); // GPA-contiguous, 4 KiB pages (unaligned below)
  if (core.domainUnmap(1, 512 * MiB, 4096) !== 4096) throw new Error('unmap'); // splits: the rest stays 4 KiB pages
  if (core.domainMap(2, 4 * 2 ** 30, 0, RAM, 3) !== 0) throw new Error('map 2');
  if (core.domainMap(3, 768 * MiB, EXT_BASE, 16 * MiB, 3) !== 0) throw new Error('map 3');
}
const wRam = () => new Uint8Array(w.memory.buffer, w.ramAddress(0), RAM);
for (let i = 0; i < RAM; i += 4096) { wRam()[i] = i >>> 12; ts.ramBytes(0)[i] = i >>> 12; }

let seed = 0x2545f491;
function rnd() { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 2 ** 32; }
const COUNT = 4096;
const wAddrs = new Float64Array(w.memory.buffer, w.addressBuffer(COUNT), COUNT);
const wAddrsAt = wAddrs.byteOffset;
const wOffsAt = w.offsetBuffer();
const addrs = new Float64Array(COUNT);
const offs = new Uint32Array(COUNT);
function setStream(gen) {
  for (let i = 0; i < COUNT; i++) { const [a, o] = gen(i); addrs[i] = a; offs[i] = o; }
  new Float64Array(w.memory.buffer, wAddrsAt, COUNT).set(addrs);
  new Uint32Array(w.memory.buffer, wOffsAt, COUNT).set(offs);
}
function attach(domain) {
  if (w.dmaAttach(0, domain) !== 0 || ts.dmaAttach(0, domain) !== 0) throw new Error('attach');
}
const f = (v) => v >= 1e9 ? `${(v / 1e9).toFixed(2)}G` : `${(v / 1e6).toFixed(1)}M`;
const ratioOf = (out, x, y) => median(out[x].samples.map((s, i) => s / out[y].samples[i]));

// ---- translations -------------------------------------------------------------------------------
console.log(`DMA translator: ${rounds} rounds, alternating; median [min..max]`);
console.log('  translations (dmaTranslate of 8 bytes, loops inside Wasm / inside JS for the twin), per second');
const PASSES = quick ? 4 : 32;
const streams = {
  'warm IOTLB (256 pages, 4 KiB)': [1, () => { const p = Math.floor(rnd() * 256); return [256 * MiB + p * 4096 + Math.floor(rnd() * 4088), 0]; }],
  'IOTLB misses (4096 pages cycled)': [1, (i) => [256 * MiB + ((i * 1031) % 4096) * 4096 + 8, 0]],
  'warm IOTLB, 2 MiB pages (32)': [2, () => [4 * 2 ** 30 + Math.floor(rnd() * 32) * 2 * MiB + Math.floor(rnd() * (2 * MiB - 8)), 0]],
  'identity domain (no IOTLB)': [0, () => [Math.floor(rnd() * (RAM - 8)), 0]],
};
const translations = {};
for (const [name, [domain, gen]] of Object.entries(streams)) {
  attach(domain);
  setStream(gen);
  const before = [w.dmaCounter(1), ts.dmaCounter(1)];
  let sink = 0;
  const out = alternate([
    { name: 'wasm', run: () => { sink = w.runTranslate(PASSES, 8); } },
    { name: 'ts', run: () => { let s = 0; for (let p = 0; p < PASSES; p++) for (let i = 0; i < COUNT; i++) s += ts.dmaTranslate(0, addrs[i], 8, 0); sink = s; } },
    { name: 'wasm per call from JS', run: () => { let s = 0; for (let p = 0; p < PASSES; p++) for (let i = 0; i < COUNT; i++) s += w.dmaTranslate(0, addrs[i], 8, 0); sink = s; } },
  ], { iterations: COUNT * PASSES, rounds });
  if (sink !== COUNT * PASSES) throw new Error(`${name}: statuses ${sink}`);
  const missRate = [(w.dmaCounter(1) - before[0]), (ts.dmaCounter(1) - before[1])];
  translations[name] = out;
  console.log(`    ${name}  (IOTLB misses: wasm ${missRate[0]}, ts ${missRate[1]})`);
  for (const r of out) console.log(`      ${r.name.padEnd(22)} ${f(r.opsPerSecond.median).padStart(7)}/s  [${f(r.opsPerSecond.min)}..${f(r.opsPerSecond.max)}]`);
}

// ---- copies -------------------------------------------------------------------------------------
// Two working sets: hot (sources in 1 MiB: the copy is cheap, so the translation shows most) and
// cold (32 MiB: memory-bound). Sources are 64-byte aligned inside 64 KiB blocks, so no transfer
// crosses a 2 MiB page.
console.log('  copies (dmaRead, internal RAM, 2 MiB pages, warm IOTLB) vs a plain copy of the same bytes; bytes/s');
attach(2);
const copies = {};
for (const [set, blocks] of [['hot 1 MiB', 16], ['cold 32 MiB', 496]]) {
  for (const size of [64, 512, 4096, 65536]) {
    setStream(() => { const o = Math.floor(rnd() * blocks) * 65536 + Math.floor(rnd() * (65536 - size) / 64) * 64; return [4 * 2 ** 30 + o, o]; });
    const n = COUNT; // 4096 sources spread over the working set
    const passes = Math.max(1, Math.floor((quick ? 16 : 128) * MiB / (size * n)));
    const wBase = w.ramAddress(0);
    const tRam = ts.ramBytes(0);
    const tBuf = ts.dmaBuffer();
    const check = (x) => { if (x !== 0) throw new Error(`status ${x}`); };
    const addrsN = addrs.subarray(0, n);
    const offsN = offs.subarray(0, n);
    // runRead/runPlain walk the first `count` entries of fresh buffers: give them only n.
    new Float64Array(w.memory.buffer, w.addressBuffer(n), n).set(addrsN);
    new Uint32Array(w.memory.buffer, w.offsetBuffer(), n).set(offsN);
    const out = alternate([
      { name: 'wasm dmaRead', run: () => { check(w.runRead(passes, size)); } },
      { name: 'wasm memory.copy', run: () => { w.runPlain(passes, size, wBase); } },
      { name: 'ts dmaRead', run: () => { let s = 0; for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) s |= ts.dmaRead(0, addrsN[i], size, 0); check(s); } },
      { name: 'ts TypedArray.set', run: () => { for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) tBuf.set(tRam.subarray(offsN[i], offsN[i] + size), 0); } },
    ], { iterations: passes * n * size, rounds });
    copies[`${set} ${size}`] = out;
    console.log(`    ${set}, ${size} B`);
    for (const r of out) console.log(`      ${r.name.padEnd(22)} ${f(r.opsPerSecond.median).padStart(7)}B/s  [${f(r.opsPerSecond.min)}..${f(r.opsPerSecond.max)}]`);
    console.log(`      DMA / plain copy (median of per-round ratios): wasm ${(ratioOf(out, 0, 1) * 100).toFixed(0)}%, ts ${(ratioOf(out, 2, 3) * 100).toFixed(0)}%`);
  }
}
// ---- external RAM: one call per DMA from JS, then the listed segment copied by TypeScript ---------
console.log('  external RAM (an emulator\'s SharedArrayBuffer; 4 KiB pages, warm IOTLB): dmaRead from JS + runSegments vs TypedArray.set');
attach(3);
for (const size of [64, 512, 4096, 65536]) {
  const n = 256;
  const a = new Float64Array(n);
  const o = new Uint32Array(n);
  for (let i = 0; i < n; i++) { const off = Math.floor(rnd() * (16 * MiB - size)); a[i] = 768 * MiB + off; o[i] = off; }
  const passes = Math.max(1, Math.floor((quick ? 8 : 64) * MiB / (size * n)));
  const wBuf = () => new Uint8Array(w.memory.buffer, w.dmaBufferAddress(), 1 << 20);
  const wSegs = () => new Uint8Array(w.memory.buffer, w.dmaSegmentsAddress(), 4096 * 24);
  const rams = [undefined, ext];
  const tBuf = ts.dmaBuffer();
  const tSegs = ts.dmaSegments();
  const plainDst = new Uint8Array(1 << 20);
  const out = alternate([
    { name: 'wasm', run: () => { const buf = wBuf(); const segs = wSegs(); for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) { const k = w.dmaRead(0, a[i], size, 0); if (k < 0) throw new Error(`wasm ${k}`); runSegments(segs, k, 0, buf, 0, rams); } } },
    { name: 'ts', run: () => { for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) { const k = ts.dmaRead(0, a[i], size, 0); if (k < 0) throw new Error(`ts ${k}`); runSegments(tSegs, k, 0, tBuf, 0, rams); } } },
    { name: 'TypedArray.set', run: () => { for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) plainDst.set(ext.subarray(o[i], o[i] + size), 0); } },
  ], { iterations: passes * n * size, rounds });
  console.log(`    ${String(size).padStart(5)} B: ${out.map((r) => `${r.name} ${f(r.opsPerSecond.median)}B/s [${f(r.opsPerSecond.min)}..${f(r.opsPerSecond.max)}]`).join('; ')}; ` +
    `vs plain: wasm ${(ratioOf(out, 0, 2) * 100).toFixed(0)}%, ts ${(ratioOf(out, 1, 2) * 100).toFixed(0)}%`);
}
