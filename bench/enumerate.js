// Firmware enumeration of a 200-device topology (bridges two deep; 32-bit, 64-bit prefetchable and
// ROM BARs), Wasm vs TS
// side by side: a fresh bus per run, then runFirmware (bus numbering, sizing, allocation,
// programming) through config cycles.
import { createBus, resolveTopology, runFirmware } from '../dist/index.js';
import { alternate, median } from './stats.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 9;

// 200 functions: 8 bridges on the root bus, each with 4 bridges below, each with endpoints.
const devices = [];
let made = 0;
// No IO BARs: 40 bridges with IO windows (4 KiB granularity each) would not fit in 64 KiB of ports.
const endpoint = (behind, addr) => ({
  behind, addr, model: 'test-endpoint',
  options: { rom: { size: '0x8000' }, bars: [{ index: 0, kind: 'mem32', size: '0x1000' }, { index: 2, kind: 'mem64', size: '0x100000', prefetchable: true }] },
});
for (let a = 0; a < 8 && made < 200; a++) {
  devices.push({ id: `a${a}`, bdf: `00:${(a + 1).toString(16).padStart(2, '0')}.0`, model: 'pci-bridge' });
  made++;
  for (let b = 0; b < 4 && made < 200; b++) {
    devices.push({ id: `a${a}b${b}`, behind: `a${a}`, addr: `${b.toString(16).padStart(2, '0')}.0`, model: 'pci-bridge' });
    made++;
    for (let e = 0; e < 5 && made < 200; e++) {
      devices.push(endpoint(`a${a}b${b}`, `${e.toString(16).padStart(2, '0')}.0`));
      made++;
    }
  }
}
const topology = await resolveTopology({ name: 'enumerate-200', devices });
const buses = { wasm: [], ts: [] };
// Buses are built ahead (building is not what is measured); each run enumerates a fresh one.
const per = quick ? 2 : 4;
for (const b of ['wasm', 'ts']) for (let i = 0; i < (rounds + 2) * per; i++) buses[b].push(await createBus({ backend: b, topology }));
const run = (b) => (n) => {
  for (let i = 0; i < n; i++) runFirmware(buses[b].pop());
};
const [w, t] = alternate([{ name: 'wasm', run: run('wasm') }, { name: 'ts', run: run('ts') }], {
  iterations: per, rounds, record: { suite: 'firmware-enumerate-200', unit: 'enumerations/s' },
});
console.log(`firmware enumeration of ${topology.functions.length} functions (${rounds} rounds x ${per}, alternating):`);
console.log(`  wasm ${median(w.samples).toFixed(1)}/s [${Math.min(...w.samples).toFixed(1)}..${Math.max(...w.samples).toFixed(1)}]` +
  `  ts ${median(t.samples).toFixed(1)}/s [${Math.min(...t.samples).toFixed(1)}..${Math.max(...t.samples).toFixed(1)}]` +
  `  wasm/ts ${median(w.samples.map((v, i) => v / t.samples[i])).toFixed(2)}x`);
