#!/usr/bin/env node
// `npm run demo:linux`: boots the stock Linux guest in v86 with vpci as its PCI bus and prints what
// the guest sees (its device listing, resources, interrupts, the virtio-rng and virtio-blk checks)
// beside vpci's own counters. Builds the guest first when it is not cached (setup.js).
//
//   node scripts/linux-guest/demo.js [--backend wasm|ts] [--serial] [--record FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { bootLinuxGuest, guestCache, BEGIN, END } from './boot.js';
import { parseInterrupts, parseKeyValues, parsePci, splitSections } from './report.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    serial: { type: 'boolean', default: false },
    record: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node scripts/linux-guest/demo.js [--backend wasm|ts] [--serial] [--record FILE]');
  process.exit(0);
}
if (args.backend !== 'wasm' && args.backend !== 'ts') {
  console.error(`demo:linux: --backend: "${args.backend}" is not wasm or ts`);
  process.exit(2);
}

if (!existsSync(join(guestCache, 'manifest.json'))) {
  console.log('demo:linux: building the guest first (scripts/linux-guest/setup.js)');
  const r = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'setup.js')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const tty = process.stderr.isTTY && !args.serial;
const bar = tty
  ? new cliProgress.SingleBar({ format: 'booting Linux on vpci | {stage} | {seconds}s | {config} config cycles, {mmio} MMIO accesses', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
  : undefined;
bar?.start(1, 0, { stage: 'firmware', seconds: '0.0', config: 0, mmio: 0 });
let lastStage = '';
const result = await bootLinuxGuest({
  backend: args.backend,
  record: args.record !== undefined,
  onSerial: args.serial ? (c) => process.stdout.write(c) : undefined,
  onProgress: (p) => {
    bar?.update(0, { stage: p.stage, seconds: p.seconds.toFixed(1), config: p.configAccesses, mmio: p.mmioAccesses });
    if (!bar && !args.serial && p.stage !== lastStage) console.error(`demo:linux: ${p.stage} (${p.seconds.toFixed(1)} s)`);
    lastStage = p.stage;
  },
}).finally(() => bar?.stop());

const s = splitSections(result.serial, BEGIN, END);
const out = [];
out.push(`== SeaBIOS enumerated vpci's bus (its debug log, port 0x402) ==`);
for (const l of result.firmwareLog) if (/^(Found \d+ PCI|PCI: map device|PIIX3\/PIIX4 init)/.test(l)) out.push(`  ${l}`);
out.push('', `== what Linux lists (sysfs, as /init reported it over ttyS0) ==`);
for (const f of parsePci(s.pci)) {
  const hex = (v, n) => v.toString(16).padStart(n, '0');
  out.push(`  ${f.bdf} [${hex(f.vendor, 4)}:${hex(f.device, 4)}] class ${hex(f.classCode, 6)} irq ${f.irq} driver ${f.driver ?? '-'}`);
  for (const r of f.resources) out.push(`      resource${r.index} ${r.start.toString(16)}-${r.end.toString(16)}`);
}
out.push('', '== interrupts of vpci\'s devices (/proc/interrupts) ==');
for (const l of parseInterrupts(s.interrupts)) if (l.names.some((n) => n.startsWith('virtio'))) out.push(`  IRQ ${l.irq}: ${l.count} (${l.chip} ${l.names.join(',')})`);
const vda = parseKeyValues(s.vda);
out.push('', '== virtio devices ==');
out.push(`  /dev/hwrng: ${s.hwrng.filter((l) => /^\s+[0-9a-f]{2} /.test(l)).length * 16} bytes read (seeded source, seed 7)`);
out.push(`  /dev/vda: ${vda.size} bytes, first 4 KiB md5 ${vda['head4096.md5']}, write ${vda.write}`);
const st = result.attachment.stats();
out.push('', `== vpci ==`, `  backend ${result.bus.backend}; ${st.configAccesses} config cycles, ${st.mmioAccesses} MMIO and ${st.ioAccesses} port accesses served, ${st.lineChanges} INTx line changes into v86's PICs`);
out.push(`  booted, reported and powered off in ${result.seconds.toFixed(1)} s`);
if (args.record) {
  const bytes = result.recorder.trace();
  writeFileSync(args.record, bytes);
  out.push(`  recorded ${result.recorder.count} events to ${args.record} (${bytes.length} bytes): replay with`);
  out.push(`  vpci replay --verify --ram-mib 96 --topology <v86 topology JSON> ${args.record}`);
}
console.log(out.join('\n'));
