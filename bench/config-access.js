// Config-space access through the per-access API, Wasm core vs TypeScript twin, side by side:
// Bus.configRead (BDF string), the core's configRead (numbers), a CF8/CFC address+data pair,
// an ECAM dword read, and an empty exported Wasm call as the floor of a boundary crossing.
import { createBus } from '../dist/index.js';
import { alternate, median, rate, slug } from './stats.js';

const quick = process.argv.includes('--quick');
const iterations = quick ? 20_000 : 2_000_000;
const rounds = quick ? 3 : 9;

const buses = { wasm: await createBus({ backend: 'wasm' }), ts: await createBus({ backend: 'ts' }) };
const ECAM = 0xb0000000;
const offsets = [0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x2c, 0x3c];
let sink = 0;

const suites = {
  'bus.configRead (BDF string)': (bus) => (n) => {
    for (let i = 0; i < n; i++) sink ^= bus.configRead('00:01.0', offsets[i & 7], 4);
  },
  'core.configRead (numbers)': (bus) => (n) => {
    const core = bus.core;
    for (let i = 0; i < n; i++) sink ^= core.configRead(0, 0, 1, 0, offsets[i & 7], 4);
  },
  'CF8 write + CFC read pair': (bus) => (n) => {
    const core = bus.core;
    for (let i = 0; i < n; i++) {
      core.ioWrite(0xcf8, 4, 0x80000800 | offsets[i & 7]);
      sink ^= core.ioRead(0xcfc, 4);
    }
  },
  'near-empty call (mmioReadHigh)': (bus) => (n) => {
    const core = bus.core;
    for (let i = 0; i < n; i++) sink ^= core.mmioReadHigh();
  },
  'ECAM mmioRead dword': (bus) => (n) => {
    const core = bus.core;
    for (let i = 0; i < n; i++) sink ^= core.mmioRead(ECAM + (1 << 15) + offsets[i & 7], 4);
  },
};

console.log(`config access, ${iterations} accesses x ${rounds} rounds per backend, alternating wasm/ts (median [min..max])`);
for (const [name, make] of Object.entries(suites)) {
  const [w, t] = alternate(
    [{ name: 'wasm', run: make(buses.wasm) }, { name: 'ts', run: make(buses.ts) }],
    { iterations, rounds, record: { suite: slug('config', name), unit: 'accesses/s' } },
  );
  const ratios = w.samples.map((s, i) => s / t.samples[i]);
  console.log(`  ${name.padEnd(30)} wasm ${rate(w.opsPerSecond.median).padStart(11)} [${rate(w.opsPerSecond.min)}..${rate(w.opsPerSecond.max)}]` +
    `  ts ${rate(t.opsPerSecond.median).padStart(11)} [${rate(t.opsPerSecond.min)}..${rate(t.opsPerSecond.max)}]` +
    `  wasm/ts ${median(ratios).toFixed(2)}x`);
}
if (sink === 0.5) console.log('unreachable: keeps the loops from being optimised away');
