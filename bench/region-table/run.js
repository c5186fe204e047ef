// Region-table lookups, Wasm core vs TypeScript twin, against the simple alternative (binary
// search over sorted non-overlapping ranges), on ~100 device-like regions. `node
// bench/region-table/run.js [--quick]`. Builds into a temporary directory (nothing is written
// to the tree): loop.as through asc with the release options, the twin through esbuild.
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
const COUNT = 1 << 16; // addresses in the buffer
const PASSES = quick ? 2 : 16; // passes over it per timed run

// ---- build --------------------------------------------------------------------------------------
const { dir, wasmFile } = await compileBenchEntry('bench/region-table/loop.as', 'vpci-region-bench-');
const twinFile = join(dir, 'region-table.mjs');
await build({ entryPoints: [join(root, 'src/core/ts/region-table.ts')], bundle: true, format: 'esm', outfile: twinFile, logLevel: 'error' });
const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), { env: { abort() { throw new Error('abort'); } } });
const w = instance.exports;
const { RegionTable } = await import(twinFile);
rmSync(dir, { recursive: true, force: true });

// ---- workload -----------------------------------------------------------------------------------
let seed = 0x2545f491;
function rnd() { // xorshift32 in [0, 1)
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
}
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const alignUp = (v, a) => Math.ceil(v / a) * a;

/** [base, size] non-overlapping, naturally aligned: a PCI-like population of 100 regions. */
const regions = [];
regions.push([0xb0000000, 2 ** 28]); // 256 MiB ECAM window
let cursor = 0x8_0000_0000; // 64-bit window at 32 GiB: 12 BARs of 2 MiB .. 1 GiB
for (const size of Array.from({ length: 12 }, () => 2 ** randInt(21, 30)).sort((a, b) => b - a)) {
  cursor = alignUp(cursor + randInt(0, 3) * size, size);
  regions.push([cursor, size]);
  cursor += size;
}
cursor = 0xc0000000; // 32-bit window: 45 BARs of 4 KiB .. 1 MiB
for (const size of Array.from({ length: 45 }, () => 2 ** randInt(12, 20)).sort((a, b) => b - a)) {
  cursor = alignUp(cursor + randInt(0, 1) * size, size);
  regions.push([cursor, size]);
  cursor += size;
}
for (let page = 0xfeb00000; regions.length < 100; page += 0x1000) { // 16..256-byte BARs sharing pages
  let at = page;
  for (let k = randInt(3, 5); k > 0 && regions.length < 100; k--) {
    const size = 2 ** randInt(4, 8);
    at = alignUp(at, size);
    if (at + size > page + 0x1000) break;
    regions.push([at, size]);
    at += size + randInt(0, 2) * 16;
  }
}
const ids = regions.map((_, i) => i + 1);
const sizes = regions.map(([, s]) => s);

const small = regions.map((_, i) => i).filter((i) => sizes[i] < 4096);

/**
 * COUNT addresses and the id owning each. local90: 90% of accesses stay in the previous access's
 * region, a register or so away; uniform: a random region each time, a random offset in it;
 * subpage: uniform over the regions smaller than a page only (the deepest table paths).
 */
function stream(kind) {
  const a = new Float64Array(COUNT);
  const want = new Int32Array(COUNT);
  let r = randInt(0, regions.length - 1);
  let off = 0;
  for (let i = 0; i < COUNT; i++) {
    if (kind === 'subpage') {
      r = small[randInt(0, small.length - 1)];
      off = Math.floor(rnd() * (sizes[r] / 4)) * 4;
    } else if (kind === 'uniform' || rnd() >= 0.9) {
      r = randInt(0, regions.length - 1);
      off = Math.floor(rnd() * (sizes[r] / 4)) * 4;
    } else { // the same region, a nearby register
      off = Math.min(Math.max(off + 4 * randInt(-16, 16), 0), sizes[r] - 4);
    }
    a[i] = regions[r][0] + off;
    want[i] = ids[r];
  }
  return { a, want };
}

// ---- the four contenders ------------------------------------------------------------------------
const ts = new RegionTable();
for (const [i, [base, size]] of regions.entries()) {
  if (w.regionMap(ids[i], 0, BigInt(base), BigInt(size), 0) !== 0) throw new Error('wasm map');
  if (ts.regionMap(ids[i], 0, base, size, 0) !== 0) throw new Error('ts map');
}
const sorted = regions.map(([b, s], i) => [b, b + s, ids[i]]).sort((x, y) => x[0] - y[0]);
w.sortedAlloc(sorted.length);
sorted.forEach(([b, e, id], i) => w.sortedSet(i, BigInt(b), BigInt(e), id));
const sBase = Float64Array.from(sorted.map((x) => x[0]));
const sEnd = Float64Array.from(sorted.map((x) => x[1]));
const sId = Int32Array.from(sorted.map((x) => x[2]));
function sortedLookupJs(addr) {
  let lo = 0;
  let hi = sBase.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sBase[mid] <= addr) lo = mid + 1; else hi = mid;
  }
  const k = lo - 1;
  return k >= 0 && addr < sEnd[k] ? sId[k] : 0;
}
const wasmBuffer = w.addressBuffer(COUNT);

const results = {};
console.log(`region table: ${regions.length} regions (16 B .. 1 GiB; ${regions.filter(([, s]) => s < 4096).length} under 4 KiB sharing pages), ` +
  `${COUNT} addresses x ${PASSES} passes per run, ${rounds} rounds, alternating; lookups/s median [min..max]`);
for (const kind of ['local90', 'uniform', 'subpage']) {
  const { a, want } = stream(kind);
  new BigUint64Array(w.memory.buffer, wasmBuffer, COUNT).set(Array.from(a, BigInt));
  // Every contender answers every address right before anything is timed.
  for (let i = 0; i < COUNT; i++) {
    const got = [w.regionLookup(0, BigInt(a[i])), ts.regionLookup(0, a[i]), w.sortedLookup(BigInt(a[i])), sortedLookupJs(a[i])];
    if (got.some((g) => g !== want[i])) throw new Error(`disagree at ${a[i].toString(16)}: ${got} want ${want[i]}`);
  }
  const expectSum = (want.reduce((s, v) => s + v, 0) * PASSES) >>> 0;
  let sink = 0;
  const contenders = [
    { name: 'wasm table', run: () => { sink = w.runTable(PASSES) >>> 0; } },
    { name: 'wasm sorted', run: () => { sink = w.runSorted(PASSES) >>> 0; } },
    { name: 'ts table', run: () => { let s = 0; for (let p = 0; p < PASSES; p++) for (let i = 0; i < COUNT; i++) s += ts.regionLookup(0, a[i]); sink = s >>> 0; } },
    { name: 'ts sorted', run: () => { let s = 0; for (let p = 0; p < PASSES; p++) for (let i = 0; i < COUNT; i++) s += sortedLookupJs(a[i]); sink = s >>> 0; } },
  ];
  const checked = contenders.map((c) => ({ name: c.name, run: () => { c.run(); if (sink !== expectSum) throw new Error(`${c.name}: sum ${sink} != ${expectSum}`); } }));
  const out = alternate(checked, { iterations: COUNT * PASSES, rounds });
  results[kind] = out;
  console.log(`  ${{ local90: '90% locality', uniform: 'uniform over regions', subpage: 'uniform over the sub-page regions only' }[kind]}`);
  for (const r of out) {
    const f = (v) => `${(v / 1e6).toFixed(1)}M`;
    console.log(`    ${r.name.padEnd(12)} ${f(r.opsPerSecond.median).padStart(7)}/s  [${f(r.opsPerSecond.min)}..${f(r.opsPerSecond.max)}]`);
  }
  const ratio = (x, y) => median(out[x].samples.map((s, i) => s / out[y].samples[i])).toFixed(2);
  console.log(`    table/sorted: wasm ${ratio(0, 1)}x, ts ${ratio(2, 3)}x; wasm/ts table ${ratio(0, 2)}x`);
}

// ---- map/unmap cost -----------------------------------------------------------------------------
function timeIt(reps, fn) {
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) * 1000);
  }
  return samples;
}
const fmt = (s) => `${median(s).toFixed(1)} µs [${Math.min(...s).toFixed(1)}..${Math.max(...s).toFixed(1)}]`;
console.log('  map/unmap cost, per operation, median [min..max] of rounds (both cores hold the 100 regions)');
const moves = [];
for (const [name, core, big] of [['wasm', w, BigInt], ['ts', ts, Number]]) {
  const rows = {
    'remap all 100 (unmap+map)': timeIt(rounds, () => {
      for (const [i, [b, s]] of regions.entries()) { core.regionUnmap(ids[i]); core.regionMap(ids[i], 0, big(b), big(s), 0); }
    }).map((v) => v / (2 * regions.length)),
    'move a 16 B BAR to another page': timeIt(rounds, () => {
      for (let k = 0; k < 100; k++) core.regionMap(4000, 0, big(0xfec00000 + (k % 2) * 0x1000 + 0x30), big(16), 1);
    }).map((v) => v / 100),
    'map+unmap 64 GiB BAR': timeIt(rounds, () => {
      for (let k = 0; k < 20; k++) { core.regionMap(4001, 0, big(2 ** 40 + k * 2 ** 36), big(2 ** 36), 1); core.regionUnmap(4001); }
    }).map((v) => v / 40),
    'map+unmap 2^51 B at 2^51': timeIt(rounds, () => {
      for (let k = 0; k < 20; k++) { core.regionMap(4002, 0, big(2 ** 51), big(2 ** 51), 0); core.regionUnmap(4002); }
    }).map((v) => v / 40),
    'map+unmap 2^51 B over all (base 0x10)': timeIt(rounds, () => {
      for (let k = 0; k < 5; k++) { core.regionMap(4003, 0, big(0x10), big(2 ** 51), 0); core.regionUnmap(4003); }
    }).map((v) => v / 10),
  };
  for (const [what, s] of Object.entries(rows)) moves.push([what, name, fmt(s)]);
}
for (const [what, name, f] of moves) console.log(`    ${what.padEnd(40)} ${name.padEnd(5)} ${f}`);
console.log(`  table memory: wasm ${w.regionTableLiveBytes()} B live of ${w.regionTableBytes()} B obtained; ts ${ts.regionTableLiveBytes()} of ${ts.regionTableBytes()}`);
