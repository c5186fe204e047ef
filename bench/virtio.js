// virtio through the full path, Wasm core vs TypeScript twin, side by side: the guest driver kit
// (src/guest) adds a chain to a split virtqueue in guest RAM and notifies (an MMIO write); the
// device model walks the chain, moves the data by DMA, fills the used ring and signals its MSI-X
// vector; the guest's sink takes the message and the driver takes the used element.
// - virtio-blk: 4 KiB reads (header, one 4 KiB data buffer, status byte), sectors cycling over 8 MiB;
// - virtio-rng: 64-byte requests (one write-only buffer), seeded generator.
// The driver kit is not in dist/: it is bundled here with esbuild into a temporary folder.
// `npm run bench -- virtio [--quick]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { alternate, median, rate, slug } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const iterations = quick ? 2_000 : 20_000;
const rounds = quick ? 3 : 9;

const dir = mkdtempSync(join(tmpdir(), 'vpci-bench-guest-'));
let kits;
try {
  await build({
    entryPoints: { guest: join(root, 'src/guest/index.ts') }, outdir: dir, bundle: true, format: 'esm',
    target: 'es2022', platform: 'neutral', logLevel: 'warning',
  });
  // One library and one kit instance per backend (as bench/dma.js does): V8 keeps type feedback per
  // function, and a guest drives one backend.
  const url = pathToFileURL(join(dir, 'guest.js')).href;
  kits = { wasm: await import(`${url}?backend=wasm`), ts: await import(`${url}?backend=ts`) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const libraries = { wasm: await import('../dist/index.js?backend=wasm'), ts: await import('../dist/index.js?backend=ts') };

const topology = {
  devices: [
    { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 1 } },
    { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 8 } },
  ],
};
const SECTORS_PER_READ = 8;

async function setUp(backend) {
  const lib = libraries[backend];
  const kit = kits[backend];
  const irq = new kit.GuestInterrupts({ log: false });
  const bus = await lib.createBus({ backend, topology, interrupts: irq });
  const ram = new kit.GuestRam({ size: 16 << 20 });
  ram.attach(bus);
  lib.runFirmware(bus, { irqRoute: lib.routeFromTable(bus.interrupts) });
  const found = kit.scanFunctions(bus);
  const open = (type) => new kit.VirtioPciDevice({ bus, ram, irq, function: found.find((f) => kit.isVirtioModern(f, type)) });
  const rng = new kit.VirtioRng(open(kit.VirtioType.ENTROPY));
  const blk = new kit.VirtioBlk(open(kit.VirtioType.BLOCK));
  // Fill the disk so reads move something other than zeros.
  const image = bus.device('00:07.0').image;
  for (let i = 0; i < image.length; i += 4096) image[i] = i >>> 12;
  return { irq, rng, blk, vectors: { rng: rng.dev.dataOfVector(1), blk: blk.dev.dataOfVector(1) } };
}

const setups = { wasm: await setUp('wasm'), ts: await setUp('ts') };
let bad = 0;

const suites = {
  'virtio-blk 4 KiB read (notify->used->MSI-X)': (s) => {
    const span = s.blk.capacity - SECTORS_PER_READ;
    let sector = 0;
    return (n) => {
      for (let i = 0; i < n; i++) {
        if (s.blk.readStatus(sector, 4096) !== 0) bad++;
        sector += SECTORS_PER_READ;
        if (sector > span) sector = 0;
      }
    };
  },
  'virtio-rng 64 B request (notify->used->MSI-X)': (s) => (n) => {
    for (let i = 0; i < n; i++) if (s.rng.requestLen(64) !== 64) bad++;
  },
};

console.log(`virtio, ${iterations} requests x ${rounds} rounds per backend, alternating wasm/ts (median [min..max])`);
for (const [name, prepare] of Object.entries(suites)) {
  const runs = { wasm: prepare(setups.wasm), ts: prepare(setups.ts) };
  const [w, t] = alternate([{ name: 'wasm', run: runs.wasm }, { name: 'ts', run: runs.ts }], { iterations, rounds, record: { suite: slug('virtio', name), unit: 'requests/s' } });
  const ratios = w.samples.map((v, i) => v / t.samples[i]);
  console.log(`  ${name.padEnd(46)} wasm ${rate(w.opsPerSecond.median).padStart(10)} [${rate(w.opsPerSecond.min)}..${rate(w.opsPerSecond.max)}]` +
    `  ts ${rate(t.opsPerSecond.median).padStart(10)} [${rate(t.opsPerSecond.min)}..${rate(t.opsPerSecond.max)}]` +
    `  wasm/ts ${median(ratios).toFixed(2)}x`);
}
// Every request completed OK with one MSI-X message to the guest's sink.
for (const [backend, s] of Object.entries(setups)) {
  const messages = s.irq.count(s.vectors.rng) + s.irq.count(s.vectors.blk);
  console.log(`  (${backend}: ${messages} MSI-X messages taken by the guest, ${s.irq.strayMessages()} stray)`);
}
if (bad !== 0) {
  console.error(`virtio bench: ${bad} requests failed`);
  process.exit(1);
}
