// The BAR/window allocator's policies on random topologies (bench/alloc/topology.js, seeded):
// for root windows of 256 MiB, 512 MiB and 1 GiB of 32-bit MMIO (IO 0x1000-0xffff), each without
// and with a 64-bit window, and for each policy: the fraction of topologies that fit; for those
// that fit, the address space used in each root window (lowest to highest address assigned there)
// over the sum of the BAR sizes placed in it (median and p90); the topologies one policy fits and
// the other does not (largest-first should fit everything scan-order fits); and the time per
// allocation. Hotplug bridges get Linux-like reserves (IO 4 KiB, mem 2 MiB, prefetch 2 MiB).
// Full runs write bench/results/alloc-<date>.json and bench/results/alloc.svg.
// `npm run bench -- alloc [--quick] [--seed N]`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fitChart } from './alloc/chart.js';
import { topologies } from './alloc/topology.js';
import { median } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedArg = args.find((a) => a.startsWith('--seed='))?.slice(7) ?? (args.includes('--seed') ? args[args.indexOf('--seed') + 1] : undefined);
const seed = seedArg === undefined ? 1 : Number(seedArg);
if (!Number.isInteger(seed) || seed < 0) {
  console.error(`alloc bench: --seed ${seedArg} is not a non-negative integer`);
  process.exit(2);
}
const COUNT = quick ? 200 : 2000;

const KiB = 1024n;
const MiB = 1024n * KiB;
const GiB = 1024n * MiB;
const IO = { base: 0x1000n, size: 0xf000n };
const MEM64 = { base: 64n * GiB, size: 16n * GiB };
const CONFIGS = [256n, 512n, 1024n].flatMap((mib) => [false, true].map((with64) => ({
  name: `${mib >= 1024n ? `${mib / 1024n} GiB` : `${mib} MiB`}${with64 ? ' + mem64' : ''}`,
  windows: { io: IO, mem32: { base: 0xc0000000n, size: mib * MiB }, ...(with64 ? { mem64: MEM64 } : {}) },
})));
const POLICIES = ['scan-order', 'largest-first'];
const HOTPLUG = { io: 4n * KiB, mem: 2n * MiB, prefetch: 2n * MiB };

/** The allocator from the built library when its entry exports it, else bundled from source. */
async function loadAllocator() {
  try {
    const lib = await import('../dist/index.js');
    if (typeof lib.allocate === 'function') return { allocate: lib.allocate, AllocationError: lib.AllocationError, from: 'dist/index.js' };
  } catch { /* not built: bundle from source below */ }
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'vpci-alloc-'));
  try {
    const outfile = join(dir, 'allocate.js');
    await build({ entryPoints: [join(root, 'src/firmware/allocate/index.ts')], bundle: true, format: 'esm', platform: 'neutral', outfile, logLevel: 'warning' });
    const mod = await import(pathToFileURL(outfile).href);
    return { allocate: mod.allocate, AllocationError: mod.AllocationError, from: 'src/firmware/allocate (bundled by esbuild)' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 90th percentile (nearest rank). */
function p90(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(0.9 * s.length) - 1)];
}

const inside = (w, base) => w !== undefined && base >= w.base && base < w.base + w.size;

/**
 * Per root window: span = highest end - lowest base of what sits directly in it (root-bus BARs and
 * root-bus bridges' windows); demand = the sizes of all BARs, at any depth, whose address is in it.
 */
function usage(children, windows, allocation) {
  const rootBridges = new Set(children.filter((c) => Array.isArray(c.children)).map((c) => c.bdf));
  const out = {};
  for (const name of ['mem32', 'mem64', 'io']) {
    const w = windows[name];
    if (!w) continue;
    let lo;
    let hi;
    let demand = 0n;
    const extend = (base, size) => {
      if (lo === undefined || base < lo) lo = base;
      if (hi === undefined || base + size > hi) hi = base + size;
    };
    for (const f of allocation.functions) {
      for (const b of f.bars) {
        if (!inside(w, b.base) || (name === 'io') !== (b.kind === 'io')) continue;
        demand += b.size;
        if (b.window === name) extend(b.base, b.size);
      }
    }
    for (const b of allocation.bridges) {
      if (!rootBridges.has(b.bdf)) continue;
      for (const win of b.windows) if (win.size > 0n && (win.kind === 'io') === (name === 'io') && inside(w, win.base)) extend(win.base, win.size);
    }
    if (demand > 0n) out[name] = Number(hi - lo) / Number(demand);
  }
  return out;
}

const { allocate, AllocationError, from } = await loadAllocator();
const trees = topologies(seed, COUNT);
console.log(`alloc: ${COUNT} random topologies (seed ${seed}), hotplug reserve IO 4 KiB / mem 2 MiB / prefetch 2 MiB; allocator from ${from}`);
console.log('  span/demand: address space used in a root window (lowest to highest address there) over the BAR sizes placed in it');
console.log(`  ${'root windows'.padEnd(18)} ${'policy'.padEnd(14)} ${'fit'.padStart(7)}   ${'mem32 med  p90'.padEnd(16)} ${'mem64 med  p90'.padEnd(16)} ${'io med  p90'.padEnd(16)} us/alloc`);

// Warm-up, so the first row's time does not include compiling the allocator.
for (const policy of POLICIES) {
  for (const children of trees.slice(0, 100)) {
    try { allocate({ windows: CONFIGS[0].windows, children }, { policy, hotplugReserve: HOTPLUG }); } catch (e) { if (!(e instanceof AllocationError)) throw e; }
  }
}

const results = [];
const cross = [];
let violated = 0;
for (const config of CONFIGS) {
  const fitsBy = {};
  for (const policy of POLICIES) {
    const fits = [];
    const ratios = { mem32: [], mem64: [], io: [] };
    const t0 = performance.now();
    const outcomes = trees.map((children) => {
      try {
        return allocate({ windows: config.windows, children }, { policy, hotplugReserve: HOTPLUG });
      } catch (e) {
        if (e instanceof AllocationError) return undefined;
        throw e;
      }
    });
    const usPerAlloc = ((performance.now() - t0) * 1000) / COUNT;
    outcomes.forEach((a, i) => {
      fits.push(a !== undefined);
      if (!a) return;
      for (const [name, r] of Object.entries(usage(trees[i], config.windows, a))) ratios[name].push(r);
    });
    fitsBy[policy] = fits;
    const fitCount = fits.filter(Boolean).length;
    const stat = (xs) => (xs.length ? { median: median(xs), p90: p90(xs), n: xs.length } : null);
    const entry = {
      config: config.name, policy, fit: fitCount, fitFraction: fitCount / COUNT,
      spanOverDemand: { mem32: stat(ratios.mem32), mem64: stat(ratios.mem64), io: stat(ratios.io) }, usPerAllocation: usPerAlloc,
    };
    results.push(entry);
    const cell = (s) => (s ? `${s.median.toFixed(2).padStart(5)} ${s.p90.toFixed(2).padStart(5)}` : '    -     -').padEnd(16);
    console.log(`  ${config.name.padEnd(18)} ${policy.padEnd(14)} ${`${(100 * entry.fitFraction).toFixed(1)}%`.padStart(7)}   ` +
      `${cell(entry.spanOverDemand.mem32)} ${cell(entry.spanOverDemand.mem64)} ${cell(entry.spanOverDemand.io)} ${usPerAlloc.toFixed(1)}`);
  }
  const largestOnly = fitsBy['largest-first'].filter((f, i) => f && !fitsBy['scan-order'][i]).length;
  const scanOnlyAt = fitsBy['scan-order'].flatMap((f, i) => (f && !fitsBy['largest-first'][i] ? [i] : []));
  violated += scanOnlyAt.length;
  cross.push({ config: config.name, largestFirstOnly: largestOnly, scanOrderOnly: scanOnlyAt.length, scanOrderOnlyTopologies: scanOnlyAt });
}
console.log(`  fits with largest-first but not scan-order: ${cross.map((c) => `${c.config} ${c.largestFirstOnly}`).join(', ')}`);
console.log(`  fits with scan-order but not largest-first: ${cross.map((c) => `${c.config} ${c.scanOrderOnly}`).join(', ')} ` +
  `${violated === 0 ? '(0, as it must be)' : `-- NOT 0: topologies ${cross.flatMap((c) => c.scanOrderOnlyTopologies.map((i) => `${c.config}#${i}`)).join(' ')} (seed ${seed})`}`);
if (violated) process.exitCode = 1;

if (quick) {
  console.log('(quick run: bench/results/alloc-<date>.json and alloc.svg not written)');
} else {
  const date = new Date().toISOString();
  const out = {
    suite: 'alloc',
    date,
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    loadAverage: loadavg(),
    allocatorFrom: from,
    config: {
      seed, topologies: COUNT,
      hotplugReserve: Object.fromEntries(Object.entries(HOTPLUG).map(([k, v]) => [k, Number(v)])),
      windows: CONFIGS.map((c) => ({ name: c.name, ...Object.fromEntries(Object.entries(c.windows).map(([k, w]) => [k, { base: `0x${w.base.toString(16)}`, size: `0x${w.size.toString(16)}` }])) })),
    },
    results,
    cross,
  };
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const jsonName = `alloc-${date.slice(0, 10)}.json`;
  writeFileSync(join(dir, jsonName), `${JSON.stringify(out, null, 2)}\n`);
  const svg = await fitChart(results.map((r) => ({ config: r.config, policy: r.policy, fit: r.fitFraction })), {
    title: 'vpci allocator: topologies that fit',
    subtitle: `${COUNT} random topologies, seed ${seed}, ${date.slice(0, 10)}`,
  });
  writeFileSync(join(dir, 'alloc.svg'), svg);
  console.log(`wrote bench/results/${jsonName} and bench/results/alloc.svg`);
}
