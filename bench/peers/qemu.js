// The QEMU peer of `npm run bench`: the same PCI accesses run by QEMU's qtest protocol and by
// vpci's trace replay (Wasm and TypeScript), in accesses per second.
//
//   node bench/peers/qemu.js [--quick]        (bench/peers/setup-qemu.sh installs QEMU)
//
// QEMU: `qemu-system-x86_64 -machine pc,pit=off -accel tcg -display none -nodefaults -bios BIOS
// -qtest stdio -qtest-log none` (Debian's build has no qtest accelerator, so `-accel qtest` fails;
// with TCG the CPU starts at a 64 KiB BIOS whose reset vector is `cli; hlt`, so it never touches a
// device). A batch of N qtest commands is written at once (pipelined) and the clock stops at the
// N-th reply, several batches on one QEMU process (its start-up is not timed).
// vpci: the same commands as a qtest script, replayed by TraceReplayer on createBus({ backend }):
// (i) from the qtest text (QtestReader parse + replay), (ii) from a vpci binary trace of the same
// accesses (writeBinaryTrace, the body after the 64-byte header through pushRecords).
// Suites: 'qtest-config-pairs' (outl 0xcf8 + inl 0xcfc over bus 0, dev 0..31, offsets 0..0x3c)
// and 'qtest-mmio-readl' (readl of one MMIO register: on QEMU the HPET capabilities register at
// 0xfed00000, on vpci BAR0 of the test endpoint 00:01.0 after runFirmware; different devices, the
// same kind of access: a 4-byte MMIO read of a register that is served without side effects).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, runFirmware, trace, TraceReplayer } from '../../dist/index.js';
import { median, rate } from '../stats.js';

const QEMU = 'qemu-system-x86_64';
const UNIT = 'accesses/s';

/** The QEMU command line (BIOS path filled in). */
export function qemuArgs(bios) {
  return ['-machine', 'pc,pit=off', '-accel', 'tcg', '-display', 'none', '-nodefaults', '-bios', bios, '-qtest', 'stdio', '-qtest-log', 'none'];
}

function qemuVersion() {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0];
}

/** A 64 KiB BIOS image: HLT everywhere, `cli; hlt` (FA F4) at the reset vector (offset 0xFFF0). */
function writeBios(dir) {
  const bios = new Uint8Array(0x10000).fill(0xf4);
  bios[0xfff0] = 0xfa;
  bios[0xfff1] = 0xf4;
  const file = join(dir, 'bios.bin');
  writeFileSync(file, bios);
  return file;
}

/** qtest script lines: `pairs` CONFIG_ADDRESS writes + CONFIG_DATA reads (2 accesses each). */
function configPairsScript(pairs) {
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    const dev = i & 31;
    const off = ((i >> 5) & 15) << 2;
    const addr = (0x80000000 | (dev << 11) | off) >>> 0;
    lines.push(`outl 0xcf8 0x${addr.toString(16)}`, 'inl 0xcfc');
  }
  return lines;
}

function readlScript(addr, count) {
  const line = `readl 0x${addr.toString(16)}`;
  return Array.from({ length: count }, () => line);
}

/** A QEMU process speaking qtest on stdio; `batch(lines)` sends them at once, resolves at the last reply. */
class QemuQtest {
  constructor(bios) {
    this.proc = spawn(QEMU, qemuArgs(bios), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.stdout.setEncoding('utf8');
    this.partial = '';
    this.waiting = undefined;
    this.replies = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.dead = `exited (code ${code}, signal ${signal})${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
      this.waiting?.reject(new Error(`QEMU ${this.dead}`));
      resolve();
    }));
    this.proc.on('error', (e) => { this.dead = e.message; this.waiting?.reject(e); });
    this.proc.stdout.on('data', (d) => this.onData(d));
  }

  onData(d) {
    const text = this.partial + d;
    const lines = text.split('\n');
    this.partial = lines.pop();
    const w = this.waiting;
    if (!w) return;
    for (const l of lines) {
      if (l.startsWith('IRQ')) continue; // IRQ raise/lower lines interleave with the replies
      if (!l.startsWith('OK')) { this.waiting = undefined; w.reject(new Error(`QEMU replied "${l}" to a qtest command`)); return; }
      w.left--;
      if (w.keep) this.replies.push(l);
    }
    if (w.left === 0) { this.waiting = undefined; w.resolve(); }
  }

  /** Sends the lines at once; resolves with the seconds from the write to the last reply. */
  async batch(lines, { keep = false } = {}) {
    if (this.dead) throw new Error(`QEMU ${this.dead}`);
    this.replies = [];
    const payload = lines.join('\n') + '\n';
    const done = new Promise((resolve, reject) => { this.waiting = { left: lines.length, keep, resolve, reject }; });
    const t0 = performance.now();
    this.proc.stdin.write(payload);
    await done;
    return (performance.now() - t0) / 1000;
  }

  async close() {
    if (!this.dead) this.proc.kill('SIGTERM');
    await this.exited;
  }
}

function summarize(suite, backend, samples, extra = {}) {
  return { suite, backend, unit: UNIT, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length, samples, ...extra };
}

/** vpci: one run of a qtest script (text) or its binary trace; returns accesses/s. */
async function vpciRun(backend, input, work, setup) {
  const bus = await createBus({ backend });
  if (setup) setup(bus);
  const replayer = new TraceReplayer(bus, { verify: false, ramBytes: 1 << 20 });
  const t0 = performance.now();
  if (input === 'text') {
    replayer.push(trace.readAll(new trace.QtestReader(), work.script));
  } else {
    replayer.pushRecords(work.body);
  }
  const s = replayer.finish();
  const seconds = (performance.now() - t0) / 1000;
  if (s.aborts !== 0) throw new Error(`vpci ${backend} ${input}: ${s.aborts} accesses aborted (nothing mapped there)`);
  if (s.records !== work.accesses) throw new Error(`vpci ${backend} ${input}: replayed ${s.records} of ${work.accesses} accesses`);
  return work.accesses / seconds;
}

export async function qemuPeer({ quick = false } = {}) {
  const version = qemuVersion();
  if (!version) {
    console.log(`qemu peer: skipped: ${QEMU} is not installed (bench/peers/setup-qemu.sh installs Debian's qemu-system-x86)`);
    return [];
  }
  const rounds = quick ? 3 : 7;
  const pairs = quick ? 10_000 : 100_000;
  const reads = quick ? 20_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'vpci-bench-qemu-'));
  const bios = writeBios(dir);
  console.log(`qemu peer: ${version}`);
  console.log(`  ${QEMU} ${qemuArgs(bios).join(' ')}`);

  // vpci's MMIO target: BAR0 of the test endpoint once the firmware has placed it.
  const probe = await createBus({ backend: 'ts' });
  runFirmware(probe);
  const bar0 = probe.regions().find((r) => r.kind === 'bar' && r.space === 'mmio' && r.bdf === '0000:00:01.0' && r.bar === 0);
  const suites = [
    { suite: 'qtest-config-pairs', qemuLines: configPairsScript(pairs), vpciLines: configPairsScript(pairs) },
    { suite: 'qtest-mmio-readl', qemuLines: readlScript(0xfed00000, reads), vpciLines: readlScript(Number(bar0.base), reads), setup: (bus) => runFirmware(bus) },
  ];

  const qemu = new QemuQtest(bios);
  const results = [];
  try {
    // Ready, and a sanity check: the i440FX host bridge's vendor/device id, HPET capabilities.
    await qemu.batch(['outl 0xcf8 0x80000000', 'inl 0xcfc', 'readl 0xfed00000'], { keep: true });
    console.log(`  QEMU sanity: 00:00.0 id ${qemu.replies[1].slice(3)}, HPET cap ${qemu.replies[2].slice(3)}`);
    for (const s of suites) {
      const script = s.vpciLines.join('\n') + '\n';
      writeFileSync(join(dir, `${s.suite}.qtest`), script);
      const events = trace.readAll(new trace.QtestReader(), script);
      const binary = trace.writeBinaryTrace(events);
      const work = { script, body: binary.subarray(trace.BINARY_HEADER_SIZE), accesses: events.filter((e) => e.op === 'read' || e.op === 'write').length };
      if (work.accesses !== s.qemuLines.length) throw new Error(`${s.suite}: ${work.accesses} accesses parsed from ${s.qemuLines.length} lines`);
      const samples = { qemu: [], 'wasm binary': [], 'wasm text': [], 'ts binary': [], 'ts text': [] };
      // Warm-up, then alternate the contenders round by round.
      await qemu.batch(s.qemuLines.slice(0, 2000));
      for (const b of ['wasm', 'ts']) for (const i of ['binary', 'text']) await vpciRun(b, i, work, s.setup);
      for (let r = 0; r < rounds; r++) {
        samples.qemu.push(s.qemuLines.length / (await qemu.batch(s.qemuLines)));
        for (const b of ['wasm', 'ts']) for (const i of ['binary', 'text']) samples[`${b} ${i}`].push(await vpciRun(b, i, work, s.setup));
      }
      results.push(summarize(s.suite, 'qemu', samples.qemu, { qemu: version }));
      for (const b of ['wasm', 'ts']) for (const i of ['binary', 'text']) results.push(summarize(s.suite, b, samples[`${b} ${i}`], { input: i === 'binary' ? 'vpci binary trace' : 'qtest script' }));

      const q = median(samples.qemu);
      console.log(`\n${s.suite}: ${s.qemuLines.length} accesses per batch, ${rounds} rounds alternating (median [min..max])`);
      console.log('| what | accesses/s | vs QEMU |');
      console.log('|---|---|---|');
      for (const r of results.filter((x) => x.suite === s.suite)) {
        const what = r.backend === 'qemu' ? 'QEMU qtest (pipelined)' : `vpci ${r.backend}, ${r.input}`;
        console.log(`| ${what} | ${rate(r.median)} [${rate(r.min)}..${rate(r.max)}] | ${(r.median / q).toFixed(1)}x |`);
      }
    }
  } finally {
    await qemu.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await qemuPeer({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
}
