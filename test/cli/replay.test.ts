// `vpci replay` and `vpci convert` as a user runs them: formats detected from the content, the
// summary (text and --json), --verify with mismatches explained and exit status 3, conversion
// round trips, a corpus over worker threads where one bad trace does not stop the others, and
// errors that name the file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';
import { SHARED_DATA } from '../helpers/shared-data.js';

let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-replay-'));
  await buildOnce();
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// What firmware does first on the default topology: read 00:01.0's vendor/device through
// 0xCF8/0xCFC, size its BAR0 (4 KiB), then a read with a wrong recorded value.
const TEXT = [
  '# vpci text trace v1',
  'W io 0xcf8 4 0x80000800',
  'R io 0xcfc 4 = 0x00051b36',
  'W io 0xcf8 4 0x80000810',
  'W io 0xcfc 4 0xffffffff',
  'R io 0xcfc 4 = 0xfffff000',
  'W io 0xcfc 4 0x00000000',
  'W io 0xcf8 4 0x80000800',
  'R io 0xcfc 2 = 0x1234',
  'R mmio 0xfe000000 4',
  '',
].join('\n');

describe('vpci replay', () => {
  it('replays a text trace: the summary counts reads, writes and the abort; without --verify the exit status is 0', () => {
    const file = join(scratch, 'small.txt');
    writeFileSync(file, TEXT);
    const r = vpci(['replay', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`vpci replay: ${file} (vpci-text) on topology "default", wasm backend\n`);
    expect(r.stdout).toContain('  records 9 (reads 4, writes 5), verified 0, mismatches 0, aborts 1, invalid 0, model errors 0\n');
  });

  it('--verify reports the mismatch with its line and meaning, exit status 3; --json has the documented keys', () => {
    const file = join(scratch, 'small.txt');
    writeFileSync(file, TEXT);
    const r = vpci(['replay', file, '--verify']);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('verified 3, mismatches 1');
    expect(r.stdout).toContain('  record 7 (line 9): read io 0xcfc size 2: 00:01.0 config 0x0 VENDOR_ID: expected 0x1234, got 0x1b36\n');
    const j = vpci(['replay', file, '--verify', '--json', '--backend', 'ts']);
    expect(j.status).toBe(3);
    const summary = JSON.parse(j.stdout);
    for (const key of ['records', 'reads', 'writes', 'verified', 'mismatches', 'aborts', 'seconds']) expect(summary).toHaveProperty(key);
    expect([summary.records, summary.reads, summary.writes, summary.verified, summary.mismatches, summary.aborts]).toEqual([9, 4, 5, 3, 1, 1]);
    expect(summary.mismatchList[0]).toMatchObject({ record: 7, line: 9, expected: '0x1234', actual: '0x1b36' });
    expect(summary.backend).toBe('ts');
  });

  it('a binary trace replays its records as they are; a mismatch is still decoded (CONFIG_ADDRESS as it was)', () => {
    const text = join(scratch, 'small.txt');
    const bin = join(scratch, 'small.vtr');
    writeFileSync(text, TEXT);
    expect(vpci(['convert', text, bin]).status).toBe(0);
    const r = vpci(['replay', bin, '--verify']);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('  records 9 (reads 4, writes 5), verified 3, mismatches 1, aborts 1, invalid 0, model errors 0\n');
    expect(r.stdout).toContain('  record 7: read io 0xcfc size 2: 00:01.0 config 0x0 VENDOR_ID: expected 0x1234, got 0x1b36\n');
    // A truncated body is an error naming the record.
    const cut = join(scratch, 'cut.vtr');
    const bytes = readFileSync(bin);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    const c = vpci(['replay', cut]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/cut\.vtr.*record 8.*truncated: 19 of 24 bytes/);
  });

  it('a real QEMU qtest log replays through the same path (detected as qtest-log); both backends count alike', () => {
    const file = join(scratch, 'pc-bare.log');
    writeFileSync(file, gunzipSync(readFileSync(join(SHARED_DATA, 'qemu/pc-bare.qtest.log.gz'))));
    const [w, t] = ['wasm', 'ts'].map((b) => JSON.parse(vpci(['replay', file, '--json', '--verify', '--backend', b]).stdout));
    expect(w.format).toBe('qtest-log');
    expect(w.records).toBeGreaterThan(5000);
    expect(w.verified).toBe(w.reads);
    for (const k of ['records', 'reads', 'writes', 'verified', 'mismatches', 'aborts']) expect(t[k], k).toBe(w[k]);
  });

  it('vpci convert: qtest log -> text -> binary, and every form replays to the same counts', () => {
    const log = join(scratch, 'pc-bare.log');
    writeFileSync(log, gunzipSync(readFileSync(join(SHARED_DATA, 'qemu/pc-bare.qtest.log.gz'))));
    const text = join(scratch, 'pc-bare.txt');
    const bin = join(scratch, 'pc-bare.vtr');
    expect(vpci(['convert', log, text]).status).toBe(0);
    const c = vpci(['convert', text, bin]);
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/-> .*pc-bare\.vtr \(binary\)/);
    const counts = (f: string) => {
      const s = JSON.parse(vpci(['replay', f, '--json', '--verify']).stdout);
      return [s.records, s.reads, s.writes, s.verified, s.mismatches, s.aborts];
    };
    expect(counts(text)).toEqual(counts(log));
    expect(counts(bin)).toEqual(counts(log));
    expect(JSON.parse(vpci(['replay', bin, '--json']).stdout).format).toBe('vpci-binary');
  });

  it('a directory with --jobs: every trace replayed in worker threads, a bad one reported, exit status 1', () => {
    const dir = join(scratch, 'corpus');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.txt'), TEXT);
    writeFileSync(join(dir, 'b.txt'), TEXT.replace('R io 0xcfc 2 = 0x1234', 'R io 0xcfc 2 = 0x1b36'));
    writeFileSync(join(dir, 'c.txt'), 'this is not a trace\n');
    const r = vpci(['replay', dir, '--jobs', '2', '--verify']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`vpci replay: ${dir}: 3 traces, 1 failed; records 18 (reads 8, writes 10), verified 6, mismatches 1, aborts 2;`);
    expect(r.stdout).toContain(`  ${join(dir, 'a.txt')}: 9 records, 1 mismatches, 1 aborts\n`);
    expect(r.stdout).toMatch(/c\.txt: FAILED: .*c\.txt: the trace format is not recognised/);
  });

  it('bad input: a garbage line names the file, line and field; --keep-going counts it; a missing file; bad options', () => {
    const file = join(scratch, 'bad.txt');
    writeFileSync(file, `${TEXT}R mmio 0x1000 3\n`);
    const r = vpci(['replay', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`vpci: ${file}:11: size: 3 is not 1, 2, 4 or 8\n`);
    const k = vpci(['replay', file, '--keep-going']);
    expect(k.status).toBe(0);
    expect(k.stdout).toContain('1 warnings skipped');
    expect(vpci(['replay', join(scratch, 'none.txt')]).stderr).toMatch(/none\.txt: cannot read the trace/);
    expect(vpci(['replay', file, '--jobs', '0']).stderr).toBe('vpci: --jobs: "0" is not 1..64\n');
  });

  it('vpci trace synth writes traces that replay with every read verified', () => {
    const boot = join(scratch, 'boot.vtr');
    expect(vpci(['trace', 'synth', '--profile', 'boot', '--out', boot]).status).toBe(0);
    const b = JSON.parse(vpci(['replay', boot, '--verify', '--json']).stdout);
    expect(b.format).toBe('vpci-binary');
    expect(b.verified).toBe(b.reads);
    expect(b.mismatches).toBe(0);
    const io = join(scratch, 'io.txt');
    expect(vpci(['trace', 'synth', '--profile', 'virtio-io', '--count', '20', '--out', io]).status).toBe(0);
    const v = JSON.parse(vpci(['replay', io, '--verify', '--json', '--backend', 'ts']).stdout);
    expect([v.mismatches, v.memory.mismatches, v.dmaFaults]).toEqual([0, 0, 0]);
    expect(v.interrupts.messages).toBe(20);
    expect(vpci(['trace', 'synth', '--count', 'many']).stderr).toBe('vpci: --count: "many" is not 0..10000000\n');
  });

  it('a virtio-io trace in binary carries its guest-RAM writes as memory records: raw replay, text and convert agree', () => {
    const text = join(scratch, 'io.txt');
    const bin = join(scratch, 'io.vtr');
    expect(vpci(['trace', 'synth', '--profile', 'virtio-io', '--count', '20', '--out', text]).status).toBe(0);
    expect(vpci(['trace', 'synth', '--profile', 'virtio-io', '--count', '20', '--out', bin]).status).toBe(0);
    expect(readFileSync(bin).readUInt16LE(14)).toBe(2); // header flag bit 1: memory records
    const summary = (f: string) => {
      const s = JSON.parse(vpci(['replay', f, '--verify', '--json', '--ram-mib', '1']).stdout);
      return [s.records, s.reads, s.writes, s.verified, s.mismatches, s.invalid, s.memory, s.interrupts.messages, s.dmaFaults];
    };
    const fromText = summary(text);
    expect(fromText[7]).toBe(20); // every request completed: the devices read what the guest wrote
    expect(fromText[5]).toBe(0);
    expect(summary(bin)).toEqual(fromText);
    // convert: text -> binary takes the memory flag from the content; binary -> text gives the MW lines back.
    const converted = join(scratch, 'io-converted.vtr');
    const c = vpci(['convert', text, converted]);
    expect(c.status).toBe(0);
    expect(c.stderr).not.toContain('left out');
    expect(readFileSync(converted)).toEqual(readFileSync(bin));
    const back = join(scratch, 'io-back.txt');
    expect(vpci(['convert', bin, back]).status).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(text, 'utf8'));
    // The worker threads of a corpus replay take the memory records too.
    const dir = join(scratch, 'io-corpus');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'io.txt'), readFileSync(text));
    writeFileSync(join(dir, 'io.vtr'), readFileSync(bin));
    const corpus = JSON.parse(vpci(['replay', dir, '--jobs', '2', '--json', '--ram-mib', '1']).stdout);
    expect(corpus.failed).toBe(0);
    expect(corpus.outcomes.map((o: { summary: { records: number; memory: unknown } }) => [o.summary.records, o.summary.memory]))
      .toEqual([[fromText[0], fromText[6]], [fromText[0], fromText[6]]]);
    // A bad memory record stops the raw replay with an error naming the file, record and field.
    const bytes = readFileSync(bin);
    let first = 0;
    while (bytes[64 + first * 24] !== 5) first++;
    bytes[64 + first * 24 + 1] = 0;
    const bad = join(scratch, 'io-bad.vtr');
    writeFileSync(bad, bytes);
    const r = vpci(['replay', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`vpci: ${bad}: record ${first}: size: 0 is not 1..8 (data bytes of a memory record)\n`);
  });
});
