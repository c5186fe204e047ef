// Peer comparison: v86's PCI configuration path (its PCI class behind its IO port table) against
// vpci's, on the same CF8/CFC access sequence. v86 is driven as an installed package (devDependency
// `v86`): a V86 instance is built without a BIOS or disk and never started, and once it reports
// `emulator-loaded` its port handlers are called directly through `emulator.v86.cpu.io`
// (`port_write32(0xcf8, addr)`, `port_read32(0xcfc)`, `port_write32(0xcfc, value)`), the same
// functions its CPU reaches for an `out`/`in` instruction. vpci runs the sequence through
// `bus.ioWrite(port, 4, value)` / `bus.ioRead(port, 4)` of `createBus({ backend })`.
//
// One pass of the sequence: for bus 0, devices 0..31, function 0, offsets 0x00..0x3c, a CF8 write
// + CFC dword read (512 pairs); then for each of the 32 device numbers a CF8 write + CFC dword write
// of the Command/Status dword (the Command value read in the sweep, Status written as 0, so the
// write leaves vpci's state unchanged; absent devices ignore it on both sides): 544 pairs a pass.
//
//   node bench/peers/v86.js [--quick]
import { pathToFileURL } from 'node:url';
import { loadV86Emulator, v86Version } from '../../scripts/v86-emulator.js';
import { createBus } from '../../dist/index.js';
import { alternate, median, rate } from '../stats.js';

const DEVICES = 32;
const OFFSETS = 16; // 0x00..0x3c
const PAIRS_PER_PASS = DEVICES * OFFSETS + DEVICES;
const ENABLE = 0x80000000;

let sink = 0;

/** The pass above as a run(n) for alternate(); n is rounded up to whole passes by the caller. */
function makeRun(write32, read32) {
  const command = new Uint32Array(DEVICES);
  return (n) => {
    const passes = n / PAIRS_PER_PASS;
    for (let p = 0; p < passes; p++) {
      for (let d = 0; d < DEVICES; d++) {
        const base = (ENABLE | (d << 11)) >>> 0;
        for (let o = 0; o < OFFSETS; o++) {
          write32(0xcf8, (base | (o << 2)) >>> 0);
          const v = read32(0xcfc);
          sink ^= v;
          if (o === 1) command[d] = v & 0xffff;
        }
      }
      for (let d = 0; d < DEVICES; d++) {
        write32(0xcf8, (ENABLE | (d << 11) | 0x04) >>> 0);
        write32(0xcfc, command[d]);
      }
    }
  };
}

/** Vendor:device IDs present on bus 0 through a given port pair (sanity check, printed). */
function scan(write32, read32) {
  const found = [];
  for (let d = 0; d < DEVICES; d++) {
    write32(0xcf8, (ENABLE | (d << 11)) >>> 0);
    const id = read32(0xcfc) >>> 0;
    if (id !== 0xffffffff) found.push(`${d.toString(16).padStart(2, '0')}:${(id & 0xffff).toString(16).padStart(4, '0')}:${(id >>> 16).toString(16).padStart(4, '0')}`);
  }
  return found;
}

/** Builds a never-started v86 emulator (no BIOS, no disks) and resolves with it once loaded. */
async function loadV86() {
  const emulator = await loadV86Emulator();
  const io = emulator.v86?.cpu?.io;
  if (!io || typeof io.port_write32 !== 'function' || typeof io.port_read32 !== 'function') {
    await emulator.destroy?.();
    throw new Error('emulator.v86.cpu.io.port_write32/port_read32 not found in this v86 build');
  }
  if (!emulator.v86.cpu.devices?.pci) {
    await emulator.destroy?.();
    throw new Error('emulator.v86.cpu.devices.pci missing: v86 built no PCI bus');
  }
  return { emulator, io, version: v86Version };
}

/**
 * Alternates v86, vpci-wasm and vpci-ts over the CF8/CFC sequence; prints medians [min..max] and
 * the vpci/v86 ratio; returns one result row per contender, or [] (with the reason printed) if v86
 * cannot be loaded.
 */
export async function v86Peer({ quick = false } = {}) {
  let v86;
  try {
    v86 = await loadV86();
  } catch (err) {
    console.log(`v86 peer skipped: ${err?.message ?? err}`);
    return [];
  }
  try {
    const { io } = v86;
    const v86Write = (port, value) => io.port_write32(port, value | 0);
    const v86Read = (port) => io.port_read32(port);
    const buses = { wasm: await createBus({ backend: 'wasm' }), ts: await createBus({ backend: 'ts' }) };
    const vpciPorts = (bus) => [(port, value) => bus.ioWrite(port, 4, value), (port) => bus.ioRead(port, 4)];

    console.log(`v86 ${v86.version} bus 0: ${scan(v86Write, v86Read).join(' ')}`);
    console.log(`vpci       bus 0: ${scan(...vpciPorts(buses.wasm)).join(' ')}`);

    const passes = quick ? 40 : 4000;
    const iterations = passes * PAIRS_PER_PASS;
    const rounds = quick ? 3 : 9;
    const [v, w, t] = alternate(
      [
        { name: 'v86', run: makeRun(v86Write, v86Read) },
        { name: 'wasm', run: makeRun(...vpciPorts(buses.wasm)) },
        { name: 'ts', run: makeRun(...vpciPorts(buses.ts)) },
      ],
      { iterations, rounds },
    );
    console.log(`config-cf8-pair: ${iterations} CF8+CFC pairs (${passes} passes of ${PAIRS_PER_PASS}) x ${rounds} rounds, alternating v86/wasm/ts (median [min..max])`);
    for (const r of [v, w, t]) {
      const line = `  ${r.name.padEnd(5)} ${rate(r.opsPerSecond.median).padStart(11)} [${rate(r.opsPerSecond.min)}..${rate(r.opsPerSecond.max)}]`;
      const ratio = r === v ? '' : `  vpci/v86 ${median(r.samples.map((s, i) => s / v.samples[i])).toFixed(2)}x`;
      console.log(line + ratio);
    }
    if (sink === 0.5) console.log('unreachable: keeps the loops from being optimised away');
    return [v, w, t].map((r) => ({
      suite: 'config-cf8-pair',
      backend: r.name,
      unit: 'pairs/s',
      median: r.opsPerSecond.median,
      min: r.opsPerSecond.min,
      max: r.opsPerSecond.max,
      runs: r.samples.length,
    }));
  } finally {
    await v86.emulator.destroy?.();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await v86Peer({ quick: process.argv.includes('--quick') });
}
