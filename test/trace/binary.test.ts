import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BinaryTraceReader, TraceFormatError, encodeBinaryHeader, readAll, writeBinaryTrace, type TraceAccess,
} from '../../src/trace/index.js';
import { access } from './arbitraries.js';
import { bare, readChunks } from './helpers.js';
import { thrown } from '../helpers/thrown.js';

const sample: TraceAccess[] = [
  { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n },
  { op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12378086n },
  { op: 'read', space: 'mmio', addr: 0xfe000000n, size: 8 },
];

const errorOf = (f: () => unknown): TraceFormatError => thrown(TraceFormatError, f);

describe('binary trace', () => {
  it('has a 64-byte header and 24-byte records in batch layout 1', () => {
    const bytes = writeBinaryTrace(sample);
    expect(bytes.length).toBe(64 + 3 * 24);
    expect(new TextDecoder().decode(bytes.subarray(0, 7))).toBe('VPCITRC');
    const v = new DataView(bytes.buffer);
    expect(v.getUint16(8, true)).toBe(1);
    expect(v.getUint16(10, true)).toBe(1);
    expect(v.getBigUint64(16, true)).toBe(3n);
    // record 1: IO read with expected value
    expect([bytes[64 + 24], bytes[64 + 25], v.getUint16(64 + 26, true)]).toEqual([3, 4, 1]);
    expect(v.getBigUint64(64 + 24 + 8, true)).toBe(0xcfcn);
    expect(v.getBigUint64(64 + 24 + 16, true)).toBe(0x12378086n);
  });

  it('round-trips any accesses, fed in any chunk sizes', () => {
    fc.assert(
      fc.property(fc.array(access, { maxLength: 30 }), fc.array(fc.nat(800)), fc.boolean(), (events, cuts, counted) => {
        let bytes = writeBinaryTrace(events);
        if (!counted) bytes.set(new Uint8Array(8), 16); // count 0: records to the end
        const out = readChunks(new BinaryTraceReader(), bytes, cuts);
        expect(bare(out)).toEqual(events);
        out.forEach((e, i) => expect(e.source).toEqual({ record: i }));
      }),
    );
  });

  it('keeps the fingerprint and source lines when asked', () => {
    const fp = new Uint8Array(32).fill(7);
    const reader = new BinaryTraceReader();
    const out = readAll(reader, writeBinaryTrace([{ ...sample[0]!, source: { line: 42 } }], { fingerprint: fp, lines: true }));
    expect(reader.header?.fingerprint).toEqual(fp);
    expect(out[0]!.source).toEqual({ record: 0, line: 42 });
    expect(new BinaryTraceReader().header).toBeUndefined();
  });

  it('rejects non-access events unless told to skip them', () => {
    expect(() => writeBinaryTrace([{ op: 'clock', mode: 'step', ns: 1n }])).toThrow(/op/);
    expect(writeBinaryTrace([{ op: 'clock', mode: 'step', ns: 1n }], { others: 'skip' }).length).toBe(64);
  });

  describe('errors name the record and the field', () => {
    const good = writeBinaryTrace(sample);
    const patched = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
      const b = good.slice();
      f(b, new DataView(b.buffer));
      return b;
    };
    const cases: [string, Uint8Array, string, number | undefined][] = [
      ['wrong magic', patched((b) => (b[0] = 0x58)), 'magic', undefined],
      ['unknown version', patched((_, v) => v.setUint16(8, 2, true)), 'version', undefined],
      ['unknown layout', patched((_, v) => v.setUint16(10, 9, true)), 'layout', undefined],
      ['unknown flags', patched((_, v) => v.setUint16(14, 0x80, true)), 'flags', undefined],
      ['bad header size', patched((_, v) => v.setUint16(12, 12, true)), 'headerSize', undefined],
      ['truncated header', good.slice(0, 40), 'header', undefined],
      ['truncated record', good.slice(0, 64 + 30), 'record', 1],
      ['fewer records than counted', good.slice(0, 64 + 48), 'count', 2],
      ['more records than counted', patched((_, v) => v.setBigUint64(16, 1n, true)), 'count', 1],
      ['bad op', patched((b) => (b[64 + 24] = 9)), 'op', 1],
      ['IO size 8', patched((b) => (b[64 + 25] = 8)), 'size', 1],
      ['size 3', patched((b) => (b[64 + 1] = 3)), 'size', 0],
      ['value wider than size', patched((_, v) => v.setBigUint64(64 + 24 + 16, 1n << 40n, true)), 'expected', 1],
      ['IO port above 0xffff', patched((_, v) => v.setBigUint64(64 + 8, 0x10000n, true)), 'addr', 0],
      ['expected flag on a write', patched((_, v) => v.setUint16(64 + 2, 1, true)), 'flags', 0],
      ['reserved bits without the lines flag', patched((_, v) => v.setUint32(64 + 4, 5, true)), 'reserved', 0],
    ];
    it.each(cases)('%s', (_name, bytes, field, record) => {
      const err = errorOf(() => readAll(new BinaryTraceReader({ source: 'x.vtrace' }), bytes));
      expect(err.field).toBe(field);
      expect(err.record).toBe(record);
      expect(err.message).toContain('x.vtrace');
      if (record !== undefined) expect(err.message).toContain(`record ${record}`);
    });

    it('keepGoing skips bad records and counts them', () => {
      const bytes = patched((b) => (b[64 + 24] = 9));
      const reader = new BinaryTraceReader({ keepGoing: true });
      const out = readAll(reader, bytes);
      expect(out.length).toBe(2);
      expect(reader.warningCount).toBe(1);
      expect(reader.warnings[0]).toMatchObject({ record: 1, field: 'op' });
    });

    it('a text chunk is refused', () => {
      expect(errorOf(() => new BinaryTraceReader().push('hello')).field).toBe('input');
    });
  });

  it('a streaming writer can put the header first with count 0', () => {
    const h = encodeBinaryHeader();
    const body = writeBinaryTrace(sample).subarray(64);
    expect(bare(readAll(new BinaryTraceReader(), [h, body]))).toEqual(sample);
  });
});
