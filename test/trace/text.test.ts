import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TextTraceReader, TraceFormatError, readAll, writeTextTrace } from '../../src/trace/index.js';
import { event } from './arbitraries.js';
import { bare, readChunks } from './helpers.js';

const enc = new TextEncoder();

describe('text trace', () => {
  it('reads a hand-written sample with comments', () => {
    const out = readAll(new TextTraceReader(), [
      '# probe the host bridge\n',
      'W io 0xcf8 4 0x80000000\r\n',
      'R io 0xcfc 4 = 0x12378086   # i440FX\n',
      'R mmio 0xfe000000 8\n\n',
      'MW 0x10000 0a0b\nMR 0x10000 2 = 0a0b\nCLOCK step 100 = 100\nIRQ 11 1\nMETA endianness = little',
    ].join(''));
    expect(bare(out)).toEqual([
      { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n },
      { op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12378086n },
      { op: 'read', space: 'mmio', addr: 0xfe000000n, size: 8 },
      { op: 'memwrite', addr: 0x10000n, data: new Uint8Array([10, 11]) },
      { op: 'memread', addr: 0x10000n, size: 2, expected: new Uint8Array([10, 11]) },
      { op: 'clock', mode: 'step', ns: 100n, expected: 100n },
      { op: 'irq', line: 11, level: 1 },
      { op: 'meta', command: 'endianness', args: [], reply: 'little' },
    ]);
    expect(out.map((e) => e.source?.line)).toEqual([2, 3, 4, 6, 7, 8, 9, 10]);
  });

  it('writer then reader gives the same records, in any chunk sizes', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 25 }), fc.array(fc.nat(2000)), (events, cuts) => {
        const text = writeTextTrace(events);
        const out = readChunks(new TextTraceReader(), enc.encode(text), cuts);
        expect(bare(out)).toEqual(events);
        expect(writeTextTrace(out)).toBe(text); // text -> records -> text is exact
      }),
    );
  });

  it('a UTF-8 character split across chunks survives', () => {
    const bytes = enc.encode('# größe ✓\nW io 0x80 1 0x1\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(readChunks(new TextTraceReader(), bytes, [cut]).length).toBe(1);
    }
  });

  describe('errors name the line and the field', () => {
    const cases: [string, string, string][] = [
      ['X mmio 0x0 4', 'op', 'unknown record kind'],
      ['R pci 0x0 4', 'space', 'unknown space'],
      ['R mmio zz 4', 'addr', 'garbage address'],
      ['R mmio 0x10000000000000000 4', 'addr', 'address ≥ 2^64'],
      ['W io 0x10000 1 0x0', 'addr', 'IO port > 0xffff'],
      ['R mmio 0x0 3', 'size', 'size 3'],
      ['R io 0x0 8', 'size', 'IO size 8'],
      ['W mmio 0x0 1 0x100', 'value', 'value wider than size'],
      ['R mmio 0x0 2 = 0x10000', 'expected', 'expected wider than size'],
      ['W mmio 0x0 1', 'line', 'missing value'],
      ['MW 0x0 abc', 'data', 'odd hex'],
      ['CLOCK jump 5', 'mode', 'bad clock mode'],
      ['IRQ 3 high', 'level', 'bad level'],
    ];
    it.each(cases)('%s (%s: %s)', (line, field) => {
      try {
        readAll(new TextTraceReader({ source: 'my.trace' }), `# header\n${line}\n`);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(TraceFormatError);
        expect((e as TraceFormatError).field).toBe(field);
        expect((e as TraceFormatError).line).toBe(2);
        expect((e as Error).message).toMatch(new RegExp(`^my\\.trace:2: ${field}: `));
      }
    });

    it('keepGoing counts bad lines and keeps the good ones', () => {
      const reader = new TextTraceReader({ keepGoing: true });
      const out = readAll(reader, 'R mmio 0x0 3\nW io 0xcf8 4 0x0\ngarbage\n');
      expect(out.length).toBe(1);
      expect(reader.warningCount).toBe(2);
      expect(reader.warnings.map((w) => [w.line, w.field])).toEqual([[1, 'size'], [3, 'op']]);
    });
  });

  it('the writer refuses records the format cannot hold', () => {
    expect(() => writeTextTrace([{ op: 'read', space: 'io', addr: 0n, size: 8 }])).toThrow(/size/);
    expect(() => writeTextTrace([{ op: 'meta', command: 'a b', args: [] }])).toThrow(/command/);
  });
});
