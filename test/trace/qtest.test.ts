import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { QtestReader, TraceFormatError, detectFormat, readAll, type TraceAccess } from '../../src/trace/index.js';
import { SHARED_DATA } from '../helpers/shared-data.js';
import { bare, readChunks } from './helpers.js';

const load = (name: string): Uint8Array => gunzipSync(readFileSync(resolve(SHARED_DATA, 'qemu', name)));

/** Counts of `[R` command words and `[S ... IRQ` lines, straight from the text. */
function countLines(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\[R [^\]]*\] (\S+)/.exec(line) ?? /^\[S [^\]]*\] (IRQ)/.exec(line) ?? /^\[I [^\]]*\] (\S+)/.exec(line);
    if (m) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  }
  return counts;
}

describe('qtest scripts', () => {
  it('parses every command kind', () => {
    const script = [
      'irq_intercept_in ioapic', 'outl 0xcf8 0x80000000', 'inl 0xcfc', 'outb 0x80 255', 'inw 0x1f0',
      'writeq 0x800201000 0x123456789abcdef', 'readq 0x800201000', 'readb 0xc0000000', 'writew 0xc0000002 0x1',
      'write 0x10000 4 0x0102', 'memset 0x11000 3 0x7f', 'read 0x11000 3', 'b64write 0x12000 3 AQID', 'b64read 0x12000 3',
      'clock_step', 'clock_step 100', 'clock_set 5000', 'set_irq_in /machine/ioapic unnamed-gpio-in 4 1', 'endianness',
      'irq_intercept_out /machine/pci',
    ].join('\n');
    const out = bare(readAll(new QtestReader(), script));
    expect(out).toEqual([
      { op: 'meta', command: 'irq_intercept_in', args: ['ioapic'] },
      { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n },
      { op: 'read', space: 'io', addr: 0xcfcn, size: 4 },
      { op: 'write', space: 'io', addr: 0x80n, size: 1, value: 255n },
      { op: 'read', space: 'io', addr: 0x1f0n, size: 2 },
      { op: 'write', space: 'mmio', addr: 0x800201000n, size: 8, value: 0x123456789abcdefn },
      { op: 'read', space: 'mmio', addr: 0x800201000n, size: 8 },
      { op: 'read', space: 'mmio', addr: 0xc0000000n, size: 1 },
      { op: 'write', space: 'mmio', addr: 0xc0000002n, size: 2, value: 1n },
      { op: 'memwrite', addr: 0x10000n, data: new Uint8Array([1, 2, 0, 0]) },
      { op: 'memwrite', addr: 0x11000n, data: new Uint8Array([0x7f, 0x7f, 0x7f]) },
      { op: 'memread', addr: 0x11000n, size: 3 },
      { op: 'memwrite', addr: 0x12000n, data: new Uint8Array([1, 2, 3]) },
      { op: 'memread', addr: 0x12000n, size: 3 },
      { op: 'clock', mode: 'step' },
      { op: 'clock', mode: 'step', ns: 100n },
      { op: 'clock', mode: 'set', ns: 5000n },
      { op: 'irq', line: 4, level: 1, inject: { path: '/machine/ioapic', name: 'unnamed-gpio-in' } },
      { op: 'meta', command: 'endianness', args: [] },
      { op: 'meta', command: 'irq_intercept_out', args: ['/machine/pci'] },
    ]);
    expect(detectFormat(script)).toBe('qtest');
  });

  it.each([
    ['frobnicate 0x1', 'command'],
    ['outl 0xcf8', 'args'],
    ['outb 0x10000 1', 'addr'],
    ['outb 0x80 0x100', 'value'],
    ['writel 0x0 zz', 'value'],
    ['readq 0x10000000000000000', 'addr'],
    ['memset 0x0 4 0x100', 'value'],
    ['write 0x0 1 0x0102', 'data'],
  ])('%s -> error in field %s with the line', (line, field) => {
    try {
      readAll(new QtestReader({ source: 'fuzz.qtest' }), `outb 0x80 1\n${line}\n`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TraceFormatError);
      expect((e as TraceFormatError).message).toMatch(new RegExp(`^fuzz\\.qtest:2: ${field}: `));
    }
  });
});

describe('qtest logs', () => {
  const log = [
    '[I 0.000000] OPENED',
    '[R +0.1] inl 0xcfc',
    '[S +0.1] OK 0x12378086',
    '[R +0.2] writel 0xc0200060 0x1234',
    '[S +0.2] IRQ raise 11',
    '[S +0.2] OK',
    '[R +0.3] clock_step 150000000',
    '[S +0.3] IRQ raise 0',
    '[S +0.3] IRQ lower 0',
    '[S +0.3] OK 150000000',
    '[R +0.4] read 0x11000 2',
    '[S +0.4] OK 0x1011',
    '[R +0.5] b64read 0x11000 2',
    '[S +0.5] OK EBE=',
    '[R +0.6] endianness',
    '[S +0.6] OK little',
    '[I +0.7] CLOSED',
  ].join('\n');

  it('pairs replies with commands and puts IRQs after the access that caused them', () => {
    const out = bare(readAll(new QtestReader(), log));
    expect(out).toEqual([
      { op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12378086n },
      { op: 'write', space: 'mmio', addr: 0xc0200060n, size: 4, value: 0x1234n },
      { op: 'irq', line: 11, level: 1 },
      { op: 'clock', mode: 'step', ns: 150000000n, expected: 150000000n },
      { op: 'irq', line: 0, level: 1 },
      { op: 'irq', line: 0, level: 0 },
      { op: 'memread', addr: 0x11000n, size: 2, expected: new Uint8Array([0x10, 0x11]) },
      { op: 'memread', addr: 0x11000n, size: 2, expected: new Uint8Array([0x10, 0x11]) },
      { op: 'meta', command: 'endianness', args: [], reply: 'little' },
    ]);
    expect(detectFormat(log)).toBe('qtest-log');
  });

  it.each([
    ['[R +0.1] inl 0xcfc\n[S +0.1] OK 0x100000000', 2, 'reply'],
    ['[R +0.1] inl 0xcfc\n[S +0.1] FAIL Unknown command', 2, 'reply'],
    ['[S +0.1] OK', 1, 'reply'],
    ['[R +0.1] inl 0xcfc\n[R +0.2] inl 0xcfc\n[S +0.2] OK 0x0', 1, 'reply'],
    ['[R +0.1] inl 0xcfc', 1, 'reply'],
    ['[R +0.1] inl 0xcfc\n[S +0.1] OK 0x1\noutb 0x80 1', 3, 'line'],
    ['[X +0.1] what', 1, 'command'],
  ])('%j -> line %i field %s', (text, line, field) => {
    const reader = new QtestReader({ keepGoing: true, source: 'q.log' });
    readAll(reader, text);
    expect(reader.warnings[0]).toMatchObject({ line, field, source: 'q.log' });
  });

  for (const name of ['pc-full.qtest.log.gz', 'pc-bare.qtest.log.gz']) {
    it(`parses every line of ${name}; every read has its expected value`, () => {
      const bytes = load(name);
      const text = new TextDecoder().decode(bytes);
      const reader = new QtestReader({ source: name });
      const out = readAll(reader, bytes);
      expect(reader.warningCount).toBe(0);
      const counts = countLines(text);
      expect(reader.commandCounts).toEqual(counts);
      // one event per command (OPENED/CLOSED carry none), plus one per IRQ line
      const commands = Object.entries(counts).filter(([k]) => k !== 'OPENED' && k !== 'CLOSED').reduce((s, [, n]) => s + n, 0);
      expect(out.length).toBe(commands);
      const byCommand: Record<string, number> = {};
      for (const e of out) byCommand[e.source!.command!] = (byCommand[e.source!.command!] ?? 0) + 1;
      expect(byCommand).toEqual(Object.fromEntries(Object.entries(counts).filter(([k]) => k !== 'OPENED' && k !== 'CLOSED')));
      const reads = out.filter((e): e is TraceAccess => e.op === 'read');
      expect(reads.length).toBeGreaterThan(1000);
      expect(reads.every((r) => r.expected !== undefined)).toBe(true);
      for (const e of out) if (e.op === 'memread') expect(e.expected?.length).toBe(e.size);
      expect(detectFormat(bytes.subarray(0, 4096))).toBe('qtest-log');
    });
  }

  it('pc-full gives the same records in random chunk sizes', () => {
    const bytes = load('pc-full.qtest.log.gz');
    const whole = readAll(new QtestReader(), bytes);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 200 }), (cuts) => {
        expect(readChunks(new QtestReader(), bytes, cuts)).toEqual(whole);
      }),
      { numRuns: 5 },
    );
  });
});
