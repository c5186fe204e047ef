// Interrupts, Wasm core vs TypeScript twin, side by side: MSI-X table dword writes by the guest
// (served inside the core), MSI-X vector delivery to a counting sink (device model -> core ->
// sink), and an INTx assert/deassert pair on a shared line.
import { createBus } from '../dist/index.js';
import { alternate, median, rate, slug } from './stats.js';

const quick = process.argv.includes('--quick');
const iterations = quick ? 10_000 : 500_000;
const rounds = quick ? 3 : 9;

// One endpoint with INTA and 64 MSI-X vectors in BAR 0, mapped at 0xc0000000 with decode on.
const topology = {
  devices: [{
    bdf: '00:01.0',
    descriptor: {
      vendorId: 0x1234, deviceId: 0x0001, classCode: 0xff0000, interruptPin: 1,
      bars: [{ index: 0, kind: 'mem32', size: 0x4000 }],
      capabilities: [{ id: 'msix', tableSize: 64, tableBar: 0, tableOffset: 0x1000, pbaBar: 0, pbaOffset: 0x2000 }],
    },
  }],
};
let delivered = 0;
const sink = { line: () => { delivered++; }, message: () => { delivered++; } };

async function make(backend) {
  const bus = await createBus({ backend, topology, interrupts: sink });
  bus.configWrite('00:01.0', 0x10, 4, 0xc0000000);
  bus.configWrite('00:01.0', 0x04, 2, 0x0006);
  for (let k = 0; k < 64; k++) {
    bus.mmioWrite(0xc0001000 + k * 16, 4, 0xfee00000);
    bus.mmioWrite(0xc0001000 + k * 16 + 8, 4, 0x40 + k);
    bus.mmioWrite(0xc0001000 + k * 16 + 12, 4, 0);
  }
  return bus;
}
const buses = { wasm: await make('wasm'), ts: await make('ts') };

const suites = {
  'MSI-X table dword write (guest)': (bus) => (n) => {
    for (let i = 0; i < n; i++) bus.mmioWrite(0xc0001008 + ((i & 63) << 4), 4, 0x40 + (i & 63));
  },
  'MSI-X vector delivered (model->sink)': (bus) => {
    bus.configWrite('00:01.0', 0x42, 2, 0x8000 | 63); // enable (the control word's RO size bits stay)
    return (n) => {
      for (let i = 0; i < n; i++) bus.interrupts.msix('00:01.0', i & 63);
    };
  },
  'INTx assert+deassert (shared line)': (bus) => {
    bus.configWrite('00:01.0', 0x42, 2, 0); // MSI-X off: INTx drives the line again
    return (n) => {
      for (let i = 0; i < n; i++) {
        bus.interrupts.intx('00:01.0', true);
        bus.interrupts.intx('00:01.0', false);
      }
    };
  },
};

console.log(`interrupts, ${iterations} operations x ${rounds} rounds per backend, alternating wasm/ts (median [min..max])`);
for (const [name, prepare] of Object.entries(suites)) {
  const runs = { wasm: prepare(buses.wasm), ts: prepare(buses.ts) };
  const [w, t] = alternate([{ name: 'wasm', run: runs.wasm }, { name: 'ts', run: runs.ts }], { iterations, rounds, record: { suite: slug('irq', name), unit: 'operations/s' } });
  const ratios = w.samples.map((s, i) => s / t.samples[i]);
  console.log(`  ${name.padEnd(38)} wasm ${rate(w.opsPerSecond.median).padStart(11)} [${rate(w.opsPerSecond.min)}..${rate(w.opsPerSecond.max)}]` +
    `  ts ${rate(t.opsPerSecond.median).padStart(11)} [${rate(t.opsPerSecond.min)}..${rate(t.opsPerSecond.max)}]` +
    `  wasm/ts ${median(ratios).toFixed(2)}x`);
}
// Each MSI-X signal is one message, each INTx pair two line changes: the sink saw them all.
console.log(`  (${delivered} events reached the counting sink)`);
