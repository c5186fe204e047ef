// Builds vpci topology files that rebuild the QEMU machines recorded in ../shared/data/qemu/
// (pc-full.json, pc-bare.json: QEMU 7.2, i440fx `pc`, driven over qtest).
//
//   node scripts/build-qemu-fixture.js [--data DIR] [--out DIR]
//
// Defaults: --data ../shared/data/qemu (or $VPCI_SHARED_DATA/qemu), --out test/fixtures/qemu.
// Writes pc-full.topology.json and pc-bare.topology.json; test/trace-fixtures/qemu-topology.test.ts
// checks them against the same dumps. Plain Node, no dependencies.
//
// What the files hold, and why:
// - Every function is a `template` whose `configHex` is its FIRST-READ 256 bytes (root bus: before
//   any write to any device; below a bridge: after the bridges above it were numbered, before any
//   write to it), and `barSizes` from the recorded sizing (index 6 = ROM).
// - Functions below the PCI-PCI bridges are placed with `behind` + `addr`: the dump's bus numbers
//   are what the recording's firmware wrote into the bridges, so each bridge gets an `id` (QEMU's
//   `-device pci-bridge,id=...` when there is one) and a function on bus N sits behind the bridge
//   whose final Secondary Bus Number is N.
// - `segments: [{ segment: 0, ecam: false }]`: i440fx has no ECAM, only 0xCF8/0xCFC.
// - `interrupts.routing`: a table for every root device and pin, as QEMU's PIIX3 maps them
//   (PIRQ = (slot - 1 + pin - 1) mod 4, hw/isa/piix3.c and SeaBIOS pciinit.c) through the PIRQ
//   route registers 0x60-0x63 of 00:01.0 as the recorded firmware left them. vpci's "piix" default
//   uses (slot + pin - 1) mod 4, which differs for half of the root device/pin pairs (the
//   recording shows it: the edu at 02:01.0 raises IRQ 10, "piix" would give 11).
// - Names: the QEMU device driver from the recorded command line (`-device DRIVER,...,addr=`),
//   or the board's built-in function for the fixed i440fx/PIIX functions.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function args(argv) {
  const out = {
    data: resolve(process.env.VPCI_SHARED_DATA ?? resolve(ROOT, '../shared/data'), 'qemu'),
    out: resolve(ROOT, 'test/fixtures/qemu'),
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') out.data = resolve(argv[++i]);
    else if (argv[i] === '--out') out.out = resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (use --data DIR, --out DIR)`);
  }
  return out;
}

/** The board's own functions (QEMU type names), by vendor:device. */
const BUILT_IN = {
  '8086:1237': 'i440FX host bridge',
  '8086:7000': 'PIIX3 ISA bridge',
  '8086:7010': 'PIIX3 IDE',
  '8086:7113': 'PIIX4 PM',
};

const hex = (v) => `0x${v.toString(16)}`;
const h2 = (v) => v.toString(16).padStart(2, '0');
const bdfOf = (bus, dev, fn) => `${h2(bus)}:${h2(dev)}.${fn}`;
const devFnOf = (dev, fn) => `${h2(dev)}.${fn}`;

/** "02.0" / "0a" / "0x12.1" -> { dev, fn } */
function parseAddr(s) {
  const m = /^(?:0x)?([0-9a-f]{1,2})(?:\.([0-7]))?$/i.exec(s);
  if (!m) throw new Error(`cannot read QEMU addr=${s}`);
  return { dev: parseInt(m[1], 16), fn: m[2] === undefined ? 0 : Number(m[2]) };
}

/** The -device options of the recorded command line: driver, id, bus, addr. */
function deviceArgs(argv) {
  const out = [];
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== '-device') continue;
    const [driver, ...opts] = argv[i + 1].split(',');
    const o = Object.fromEntries(opts.map((kv) => { const j = kv.indexOf('='); return j < 0 ? [kv, ''] : [kv.slice(0, j), kv.slice(j + 1)]; }));
    out.push({ driver, id: o.id, bus: o.bus, addr: o.addr === undefined ? undefined : parseAddr(o.addr) });
  }
  return out;
}

/** Byte `off` of a config dump in hex. */
const byteAt = (hexText, off) => parseInt(hexText.slice(2 * off, 2 * off + 2), 16);

function buildTopology(dump, name) {
  const functions = dump.functions;
  const byBdf = new Map(functions.map((f) => [f.bdf, f]));
  // Bridges: the bus behind each, as the recording's firmware numbered it (its final state).
  const bridgeBySecondary = new Map();
  for (const f of functions) {
    if ((f.header_type & 0x7f) !== 1) continue;
    const secondary = f.secondary_bus ?? byteAt(f.config_final_hex, 0x19);
    if (bridgeBySecondary.has(secondary)) throw new Error(`${name}: two bridges lead to bus ${secondary}`);
    bridgeBySecondary.set(secondary, f);
  }
  // Names and bridge ids from the command line: -device DRIVER[,id=ID][,bus=ID],addr=DD.F.
  const driverAt = new Map();
  const idAt = new Map();
  const busOfId = new Map();
  for (const d of deviceArgs(dump.qemu_argv ?? [])) {
    if (d.addr === undefined) continue;
    let bus = 0;
    if (d.bus !== undefined) {
      if (!busOfId.has(d.bus)) throw new Error(`${name}: -device ${d.driver} on bus=${d.bus}, which no earlier bridge names`);
      bus = busOfId.get(d.bus);
    }
    const bdf = bdfOf(bus, d.addr.dev, d.addr.fn);
    const f = byBdf.get(bdf);
    if (!f) throw new Error(`${name}: -device ${d.driver} at ${bdf} is not in the dump`);
    driverAt.set(bdf, d.driver);
    if (d.id !== undefined) {
      idAt.set(bdf, d.id);
      if ((f.header_type & 0x7f) === 1) busOfId.set(d.id, f.secondary_bus ?? byteAt(f.config_final_hex, 0x19));
    }
  }
  const bridgeId = (f) => idAt.get(f.bdf) ?? `bridge-${f.bdf.replace(/[:.]/g, '-')}`;

  const devices = functions.map((f) => {
    const configHex = f.config_initial_hex;
    if (typeof configHex !== 'string' || configHex.length !== 512) throw new Error(`${name}: ${f.bdf}: first-read config is not 256 bytes`);
    const idText = `${f.vendor_id.toString(16).padStart(4, '0')}:${f.device_id.toString(16).padStart(4, '0')}`;
    const device = {};
    if ((f.header_type & 0x7f) === 1) device.id = bridgeId(f);
    if (f.bus === 0) {
      device.bdf = f.bdf;
    } else {
      const parent = bridgeBySecondary.get(f.bus);
      if (!parent) throw new Error(`${name}: ${f.bdf}: no bridge leads to bus ${f.bus}`);
      device.behind = bridgeId(parent);
      device.addr = devFnOf(f.dev, f.fn);
    }
    device.name = `${driverAt.get(f.bdf) ?? BUILT_IN[idText] ?? 'function'} (${idText})`;
    const barSizes = [];
    for (const b of f.bars ?? []) {
      if (b.type === 'unimplemented' || b.size === undefined) continue;
      barSizes.push({ index: b.index, size: hex(b.size) });
    }
    if (f.rom && f.rom.size !== undefined) barSizes.push({ index: 6, size: hex(f.rom.size) });
    device.template = { configHex, ...(barSizes.length ? { barSizes } : {}) };
    return device;
  });

  // PIIX3: PIRQ route registers 0x60-0x63 of the ISA bridge as the firmware left them.
  const isa = functions.find((f) => f.bus === 0 && `${f.vendor_id}:${f.device_id}` === `${0x8086}:${0x7000}`);
  const routing = [];
  if (isa) {
    const pirq = [0, 1, 2, 3].map((i) => byteAt(isa.config_final_hex, 0x60 + i));
    for (let device = 0; device < 32; device++) {
      for (let pin = 1; pin <= 4; pin++) {
        const r = pirq[(device - 1 + pin - 1) & 3];
        if (r & 0x80) continue; // routing disabled
        routing.push({ device, pin, gsi: r & 0x0f });
      }
    }
  }

  return {
    name: `qemu-${name}`,
    segments: [{ segment: 0, ecam: false }],
    ...(isa ? { interrupts: { routing } } : {}),
    devices,
  };
}

/** JSON with one device / route per line (reviewable diffs). */
function format(topology) {
  const lines = ['{'];
  lines.push(`  "name": ${JSON.stringify(topology.name)},`);
  lines.push(`  "segments": ${JSON.stringify(topology.segments)},`);
  if (topology.interrupts) {
    lines.push('  "interrupts": { "routing": [');
    lines.push(topology.interrupts.routing.map((r) => `    ${JSON.stringify(r)}`).join(',\n'));
    lines.push('  ] },');
  }
  lines.push('  "devices": [');
  lines.push(topology.devices.map((d) => `    ${JSON.stringify(d)}`).join(',\n'));
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n') + '\n';
}

const opts = args(process.argv.slice(2));
mkdirSync(opts.out, { recursive: true });
for (const name of ['pc-full', 'pc-bare']) {
  const dump = JSON.parse(readFileSync(resolve(opts.data, `${name}.json`), 'utf8'));
  const topology = buildTopology(dump, name);
  const file = resolve(opts.out, `${name}.topology.json`);
  writeFileSync(file, format(topology));
  console.log(`${file}: ${topology.devices.length} functions`);
}
