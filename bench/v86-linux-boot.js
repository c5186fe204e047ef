// The real-guest boot timed on each backend: SeaBIOS + Linux in v86 with vpci as its PCI bus
// (scripts/linux-guest/boot.js), Wasm and TS cores alternating (W T W T ...) so machine drift hits
// both alike; medians of the wall time from emulator start to the guest's end marker, and the
// accesses vpci served. Most of a boot is v86 running guest code, so the ratio says how much of
// the boot the PCI layer costs, not how fast the cores are (bench/config-access.js says that).
//
//   npm run build && node scripts/linux-guest/setup.js && node bench/v86-linux-boot.js [--rounds N]
import { parseArgs } from 'node:util';
import { bootLinuxGuest } from '../scripts/linux-guest/boot.js';
import { median } from './stats.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const samples = { wasm: [], ts: [] };
let served;
for (let r = 0; r < rounds; r++) {
  for (const backend of ['wasm', 'ts']) {
    const result = await bootLinuxGuest({ backend });
    samples[backend].push(result.seconds);
    const s = result.attachment.stats();
    served = `${s.configAccesses} config cycles, ${s.mmioAccesses} MMIO, ${s.ioAccesses} port accesses, ${s.lineChanges} INTx line changes`;
    console.error(`round ${r + 1}/${rounds} ${backend}: ${result.seconds.toFixed(2)} s`);
  }
}
const fmt = (xs) => `median ${median(xs).toFixed(2)} s (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}, ${xs.length} boots)`;
console.log(`v86 Linux boot on vpci, ${served} per boot`);
console.log(`  wasm: ${fmt(samples.wasm)}`);
console.log(`  ts:   ${fmt(samples.ts)}`);
console.log(`  ts/wasm: ${(median(samples.ts) / median(samples.wasm)).toFixed(3)}`);
