// Memory records of the binary trace (header flag bit 1, op 5): how memwrite events are written,
// read back (contiguous runs joined into one event, in any chunk sizes), and refused when bad.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BINARY_FLAG_LINES, BINARY_FLAG_MEMORY, BINARY_OP_MEMWRITE, BinaryTraceReader, MAX_MEMORY_RUN, MemoryRunBuilder,
  TraceFormatError, encodeBinaryHeader, encodeBinaryRecords, readAll, writeBinaryTrace,
  type TraceEvent, type TraceMemWrite,
} from '../../src/trace/index.js';
import { access } from './arbitraries.js';
import { bare, readChunks } from './helpers.js';
import { thrown } from '../helpers/thrown.js';

const MAX_U64 = (1n << 64n) - 1n;
const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed) & 0xff);
const mw = (addr: bigint, data: Uint8Array): TraceMemWrite => ({ op: 'memwrite', addr, data });
const cf8: TraceEvent = { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n };

/**
 * What a reader gives back for `events`: consecutive memwrites whose addresses are contiguous
 * joined into one (the format keeps no boundary between them).
 */
function joined(events: TraceEvent[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.op === 'memwrite' && last?.op === 'memwrite' && last.addr + BigInt(last.data.length) === e.addr) {
      const data = new Uint8Array(last.data.length + e.data.length);
      data.set(last.data);
      data.set(e.data, last.data.length);
      out[out.length - 1] = mw(last.addr, data);
    } else {
      out.push(e);
    }
  }
  return out;
}

const errorOf = (f: () => unknown): TraceFormatError => thrown(TraceFormatError, f);

describe('binary memory records: writing', () => {
  it('a memwrite of N bytes is ceil(N/8) op-5 records, contiguous, data little-endian, and the header has flag bit 1', () => {
    const data = bytes(9);
    const file = writeBinaryTrace([cf8, mw(0x1000n, data)], { memory: true });
    const v = new DataView(file.buffer);
    expect(v.getUint16(14, true)).toBe(BINARY_FLAG_MEMORY);
    expect(v.getBigUint64(16, true)).toBe(3n); // the access and two memory records
    const rec = (i: number) => 64 + i * 24;
    expect([file[rec(1)], file[rec(1) + 1], v.getUint16(rec(1) + 2, true), v.getUint32(rec(1) + 4, true)]).toEqual([BINARY_OP_MEMWRITE, 8, 0, 0]);
    expect(v.getBigUint64(rec(1) + 8, true)).toBe(0x1000n);
    expect([...file.subarray(rec(1) + 16, rec(1) + 24)]).toEqual([...data.subarray(0, 8)]);
    // The last record: 1 byte at 0x1008, in bits 0..7; the bytes above it zero.
    expect([file[rec(2)], file[rec(2) + 1]]).toEqual([BINARY_OP_MEMWRITE, 1]);
    expect(v.getBigUint64(rec(2) + 8, true)).toBe(0x1008n);
    expect(v.getBigUint64(rec(2) + 16, true)).toBe(BigInt(data[8]!));
  });

  it('without the memory option a memwrite has no record, as before: an error, or skipped', () => {
    expect(() => writeBinaryTrace([mw(0n, bytes(4))])).toThrow(/op: a "memwrite" event has no record.*memory option/);
    const skipped = writeBinaryTrace([cf8, mw(0n, bytes(4))], { others: 'skip' });
    expect(skipped.length).toBe(64 + 24);
    expect(new DataView(skipped.buffer).getUint16(14, true)).toBe(0);
  });

  it('memreads stay events with no record even with the memory option', () => {
    expect(() => writeBinaryTrace([{ op: 'memread', addr: 0n, size: 4 }], { memory: true })).toThrow(/"memread"/);
  });

  it('refuses a memwrite the format cannot hold: no bytes, or bytes past 2^64', () => {
    expect(() => writeBinaryTrace([mw(0n, new Uint8Array(0))], { memory: true })).toThrow(/data: empty/);
    expect(() => writeBinaryTrace([mw(MAX_U64 - 2n, bytes(4))], { memory: true })).toThrow(/addr/);
    // Up to the last byte of the space is fine.
    const top = writeBinaryTrace([mw(MAX_U64 - 3n, bytes(4))], { memory: true });
    expect(bare(readAll(new BinaryTraceReader(), top))).toEqual([mw(MAX_U64 - 3n, bytes(4))]);
  });

  it('a streaming writer passes memory to the header and the records', () => {
    const events = [mw(0x20n, bytes(12)), cf8];
    const file = [encodeBinaryHeader({ memory: true }), encodeBinaryRecords(events, { memory: true })];
    expect(bare(readAll(new BinaryTraceReader(), file))).toEqual(events);
  });
});

describe('binary memory records: reading', () => {
  it.each([1, 7, 8, 9, 4096])('a memwrite of %i bytes comes back as one event from its first record', (n) => {
    const events: TraceEvent[] = [cf8, mw(0x3000n, bytes(n, n)), cf8];
    const reader = new BinaryTraceReader();
    const out = readAll(reader, writeBinaryTrace(events, { memory: true }));
    expect(reader.header?.flags).toBe(BINARY_FLAG_MEMORY);
    expect(bare(out)).toEqual(events);
    expect(out.map((e) => e.source)).toEqual([{ record: 0 }, { record: 1 }, { record: 1 + Math.ceil(n / 8) }]);
  });

  it('consecutive memwrites with contiguous addresses come back joined; a gap, an access or other addresses keep them apart', () => {
    const events: TraceEvent[] = [
      mw(0x100n, bytes(5, 1)), mw(0x105n, bytes(11, 2)), mw(0x110n, bytes(3, 3)), // contiguous: one event
      mw(0x114n, bytes(2, 4)),                                                    // a 1-byte gap
      cf8, mw(0x116n, bytes(2, 5)),                                               // an access between
      mw(0x0n, bytes(8, 6)),                                                      // lower: a new run
    ];
    const out = readAll(new BinaryTraceReader(), writeBinaryTrace(events, { memory: true }));
    expect(bare(out)).toEqual(joined(events));
    expect(out.filter((e) => e.op === 'memwrite').length).toBe(4);
    expect((out[0] as TraceMemWrite).data.length).toBe(19);
    // Records: 1+2+1 joined (0..3), 4, the access 5, 6, 7.
    expect(out.map((e) => e.source?.record)).toEqual([0, 4, 5, 6, 7]);
  });

  it('a run that reaches 2^64 does not continue at address 0', () => {
    const events = [mw(MAX_U64 - 7n, bytes(8)), mw(0n, bytes(8))];
    expect(bare(readAll(new BinaryTraceReader(), writeBinaryTrace(events, { memory: true })))).toEqual(events);
  });

  it('a run continues across the u32 halves of the address', () => {
    const events = [mw(0xfffffffcn, bytes(4)), mw(0x100000000n, bytes(4))];
    expect(bare(readAll(new BinaryTraceReader(), writeBinaryTrace(events, { memory: true })))).toEqual(joined(events));
  });

  it('keeps the source line of the first record with the lines flag', () => {
    const events: TraceEvent[] = [{ ...mw(0x40n, bytes(20)), source: { line: 7 } }, { ...cf8, source: { line: 9 } }];
    const file = writeBinaryTrace(events, { memory: true, lines: true });
    expect(new DataView(file.buffer).getUint16(14, true)).toBe(BINARY_FLAG_LINES | BINARY_FLAG_MEMORY);
    expect(readAll(new BinaryTraceReader(), file).map((e) => e.source)).toEqual([{ record: 0, line: 7 }, { record: 3, line: 9 }]);
  });

  const memwrite = fc
    .record({ near: fc.boolean(), addr: fc.bigInt({ min: 0n, max: MAX_U64 }), small: fc.nat(48), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) })
    .map(({ near, addr, small, data }): TraceEvent => {
      // Mostly small addresses, so neighbours are sometimes contiguous; some anywhere up to 2^64.
      const at = near ? BigInt(small) : addr > MAX_U64 - BigInt(data.length) + 1n ? MAX_U64 - BigInt(data.length) + 1n : addr;
      return mw(at, data);
    });

  it('round-trips accesses and memwrites fed in any chunk sizes, joining contiguous runs', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(access, memwrite), { maxLength: 30 }), fc.array(fc.nat(1200)), fc.boolean(), (events, cuts, counted) => {
        const file = writeBinaryTrace(events, { memory: true });
        if (!counted) file.set(new Uint8Array(8), 16); // count 0: records to the end
        const out = readChunks(new BinaryTraceReader(), file, cuts);
        expect(bare(out)).toEqual(joined(events));
      }),
    );
  });

  it('a run longer than MAX_MEMORY_RUN goes on in a next event', () => {
    const run = new MemoryRunBuilder();
    const rec = new DataView(new ArrayBuffer(24));
    rec.setUint8(0, BINARY_OP_MEMWRITE);
    rec.setUint8(1, 8);
    const ended: TraceMemWrite[] = [];
    for (let i = 0; i <= MAX_MEMORY_RUN / 8; i++) {
      rec.setBigUint64(8, 0x10000n + BigInt(i * 8), true);
      const e = run.add(rec, 0, i);
      if (e) ended.push(e);
    }
    expect(ended.length).toBe(1);
    expect(ended[0]!.data.length).toBe(MAX_MEMORY_RUN);
    expect(run.take()).toMatchObject({ addr: 0x10000n + BigInt(MAX_MEMORY_RUN), source: { record: MAX_MEMORY_RUN / 8 } });
  });
});

describe('binary memory records: errors name the record and the field', () => {
  // Record 0 an access, records 1-2 a 12-byte memwrite, record 3 an access.
  const good = writeBinaryTrace([cf8, mw(0x200n, bytes(12)), cf8], { memory: true });
  const patched = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const at = (record: number) => 64 + record * 24;
  const cases: [string, Uint8Array, string, number | undefined][] = [
    ['size 0', patched((b) => (b[at(1) + 1] = 0)), 'size', 1],
    ['size 9', patched((b) => (b[at(2) + 1] = 9)), 'size', 2],
    ['a byte above the size', patched((b) => (b[at(2) + 16 + 6] = 1)), 'value', 2],
    ['flags', patched((_, v) => v.setUint16(at(1) + 2, 1, true)), 'flags', 1],
    ['address + size past 2^64', patched((_, v) => v.setBigUint64(at(2) + 8, MAX_U64 - 2n, true)), 'addr', 2],
    ['reserved without the lines flag', patched((_, v) => v.setUint32(at(1) + 4, 3, true)), 'reserved', 1],
    ['op 5 without the memory flag: an unknown op, as before', patched((_, v) => v.setUint16(14, 0, true)), 'op', 1],
    ['unknown header flags', patched((_, v) => v.setUint16(14, BINARY_FLAG_MEMORY | 4, true)), 'flags', undefined],
  ];
  it.each(cases)('%s', (_name, file, field, record) => {
    const err = errorOf(() => readAll(new BinaryTraceReader({ source: 'm.vtr' }), file));
    expect(err.field).toBe(field);
    expect(err.record).toBe(record);
    expect(err.message).toMatch(record === undefined ? /^m\.vtr: flags: / : new RegExp(`^m\\.vtr: record ${record}: ${field}: `));
  });

  it('keepGoing skips a bad memory record, which ends the run: the records around it stay apart', () => {
    const file = writeBinaryTrace([mw(0x200n, bytes(24))], { memory: true });
    file[64 + 24 + 1] = 0; // the middle record: size 0
    const reader = new BinaryTraceReader({ keepGoing: true });
    const out = readAll(reader, file);
    expect(reader.warnings.map((w) => [w.record, w.field])).toEqual([[1, 'size']]);
    expect(bare(out)).toEqual([mw(0x200n, bytes(24).subarray(0, 8)), mw(0x210n, bytes(24).subarray(16))]);
    expect(out.map((e) => e.source?.record)).toEqual([0, 2]);
  });

  it('keepGoing: a run still open when the file is cut short is returned before the warning', () => {
    const file = writeBinaryTrace([mw(0x200n, bytes(16))], { memory: true });
    const reader = new BinaryTraceReader({ keepGoing: true });
    const out = readAll(reader, file.subarray(0, file.length - 4));
    expect(bare(out)).toEqual([mw(0x200n, bytes(8))]);
    expect(reader.warnings.map((w) => [w.record, w.field])).toEqual([[1, 'record']]);
  });
});
