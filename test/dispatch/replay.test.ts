// Conformance: batch replay. The v1 record layout (24 bytes, little-endian), per-record results
// and status, expected-value mismatches, unknown ops and bad sizes (invalid), addresses and ports
// outside the decodable space (master aborts), host errors, and the equivalence of the batch path
// and the per-access path: same results, counters, effects, events, model calls and final config
// space.
import { describe, expect, test } from 'vitest';
import { BACKENDS, ecam } from '../helpers/vpci.js';
import {
  CMD_IO, CMD_MEM, EP, LATE, OP, RecordingModel, STATUS, TOPOLOGY, addRegion, makeDBus, normEffects, perAccess, records,
  setBarHandler, showBig,
} from './helpers.js';
import type { DBus, ErrorInfo, Rec } from './helpers.js';

const A = 0xc0000000;
const R = 0xe0000000;
const ONES = 0xffffffffffffffffn;

async function setup(backend: 'wasm' | 'ts', errors?: [unknown, ErrorInfo][]): Promise<{ bus: DBus; model: RecordingModel }> {
  const bus = await makeDBus(backend, TOPOLOGY, errors ? { onError: (e, i) => errors.push([e, i]) } : {});
  addRegion(bus, 'mmio', R, 0x20, { kind: 'regfile', size: 0x20 });
  addRegion(bus, 'mmio', R + 0x1000, 0x100, { kind: 'doorbell' });
  addRegion(bus, 'io', 0x5000, 0x10, { kind: 'regfile', size: 0x10 });
  const model = new RecordingModel(0x30, (off) => off === 0xbad);
  setBarHandler(bus, EP, 4, model);
  setBarHandler(bus, LATE, 0, { kind: 'regfile', size: 0x40 }, { offset: 0x40, length: 0x40 });
  return { bus, model };
}

describe.each(BACKENDS)('batch replay (%s backend)', (backend) => {
  test('records run in order: reads give values, writes 0, status ok; count is the number of records', async () => {
    const { bus } = await setup(backend);
    const list: Rec[] = [
      { op: OP.MMIO_WRITE, size: 4, address: R, value: 0x11223344 },
      { op: OP.MMIO_READ, size: 4, address: R },
      { op: OP.MMIO_WRITE, size: 8, address: R + 8, value: 0x8877665544332211n },
      { op: OP.MMIO_READ, size: 8, address: R + 8 },
      { op: OP.MMIO_READ, size: 1, address: R + 3 },
      { op: OP.MMIO_READ, size: 2, address: R + 0xf },
      { op: OP.IO_WRITE, size: 2, address: 0x5002, value: 0xbeef },
      { op: OP.IO_READ, size: 4, address: 0x5000 },
      { op: OP.MMIO_READ, size: 4, address: ecam(0, 1, 0, 0) },
    ];
    const r = bus.replay(records(list));
    expect(r.count).toBe(list.length);
    expect(Array.from(r.results)).toEqual([0n, 0x11223344n, 0n, 0x8877665544332211n, 0x11n, 0x0088n, 0n, 0xbeef0000n, 0x00011234n]);
    expect(Array.from(r.status)).toEqual(list.map(() => STATUS.OK));
    expect(r.mismatches).toEqual([]);
    expect(bus.mmioRead(R + 8, 8), 'writes really happened').toBe(0x8877665544332211n);
  });

  test('the expected-value flag: mismatches lists exactly the reads whose value differed', async () => {
    const { bus } = await setup(backend);
    bus.mmioWrite(R, 8, 0x0102030405060708n);
    const r = bus.replay(records([
      { op: OP.MMIO_READ, size: 4, address: R, value: 0x05060708, expect: true },
      { op: OP.MMIO_READ, size: 4, address: R, value: 0x05060709, expect: true },
      { op: OP.MMIO_READ, size: 8, address: R, value: 0x0102030405060708n, expect: true },
      { op: OP.MMIO_READ, size: 1, address: R + 7, value: 0x02, expect: true },
      { op: OP.MMIO_READ, size: 4, address: R, value: 0x12345678 },
      { op: OP.MMIO_WRITE, size: 4, address: R + 0x10, value: 1, expect: true },
      { op: OP.MMIO_READ, size: 2, address: 0x1000, value: 0xffff, expect: true },
      { op: OP.MMIO_READ, size: 8, address: R + 0x18, value: 0n, expect: true },
    ]));
    expect(r.mismatches).toEqual([1, 3]);
    expect(Array.from(r.status)).toEqual([0, 0, 0, 0, 0, 0, STATUS.ABORT, 0]);
  });

  test('unknown ops: status 2, result all ones, counted in invalid; nothing else happens', async () => {
    const { bus } = await setup(backend);
    const r = bus.replay(records([
      { op: 0, size: 4, address: R },
      { op: 5, size: 4, address: R, value: 1 },
      { op: 255, size: 1, address: 0x5000 },
      { op: OP.MMIO_READ, size: 4, address: R },
    ]));
    expect(Array.from(r.status)).toEqual([STATUS.INVALID, STATUS.INVALID, STATUS.INVALID, STATUS.OK]);
    expect(Array.from(r.results)).toEqual([ONES, ONES, ONES, 0n]);
    const s = bus.stats();
    expect([s.invalid, s.aborts.mmio.reads, s.aborts.mmio.writes]).toEqual([3, 0, 0]);
    expect(bus.events()).toEqual([]);
  });

  test('bad sizes: status 2, all ones, counted in invalid, writes dropped', async () => {
    const { bus } = await setup(backend);
    const list: Rec[] = [
      { op: OP.MMIO_READ, size: 0, address: R },
      { op: OP.MMIO_READ, size: 3, address: R },
      { op: OP.MMIO_READ, size: 16, address: R },
      { op: OP.MMIO_WRITE, size: 5, address: R, value: 0xff },
      { op: OP.IO_READ, size: 8, address: 0x5000 },
      { op: OP.IO_WRITE, size: 8, address: 0x5000, value: 0xff },
    ];
    const r = bus.replay(records(list));
    expect(Array.from(r.status)).toEqual(list.map(() => STATUS.INVALID));
    expect(bus.stats().invalid).toBe(list.length);
    expect(bus.stats().aborts).toEqual({ mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } });
    expect(bus.mmioRead(R, 8), 'nothing written').toBe(0n);
    expect(bus.ioRead(0x5000, 4)).toBe(0);
  });

  test('addresses/ports outside the decodable space (MMIO >= 2^52 up to 2^64 - 1, ports >= 0x10000 including 2^32 + x): status 1, master aborts, never aliased', async () => {
    const { bus } = await setup(backend);
    const list: Rec[] = [
      { op: OP.IO_READ, size: 1, address: 0x10000 },
      { op: OP.IO_WRITE, size: 1, address: 0x1_00005000n, value: 0xff },
      { op: OP.IO_READ, size: 4, address: 0x1_00005000n },
      { op: OP.MMIO_READ, size: 4, address: 2n ** 52n },
      { op: OP.MMIO_READ, size: 8, address: 2n ** 53n },
      { op: OP.MMIO_WRITE, size: 4, address: 2n ** 64n - 1n, value: 0xff },
      { op: OP.MMIO_WRITE, size: 4, address: 2n ** 64n - 0x20000000n + BigInt(R), value: 0xff },
      { op: OP.MMIO_WRITE, size: 8, address: 2n ** 52n + BigInt(R), value: 0xff },
      { op: OP.MMIO_READ, size: 4, address: 2n ** 64n - 2n ** 32n + BigInt(R) },
    ];
    const r = bus.replay(records(list));
    expect(Array.from(r.status)).toEqual(list.map(() => STATUS.ABORT));
    expect(Array.from(r.results)).toEqual([0xffn, 0n, 0xffffffffn, 0xffffffffn, ONES, 0n, 0n, 0n, 0xffffffffn]);
    const s = bus.stats();
    expect(s.invalid).toBe(0);
    expect(s.aborts).toEqual({ mmio: { reads: 3, writes: 3 }, io: { reads: 2, writes: 1 } });
    expect(bus.mmioRead(R, 8), 'nothing written').toBe(0n);
    expect(bus.ioRead(0x5000, 4)).toBe(0);
  });

  test('unmapped: status 1, all ones of the size, aborts counted by space and direction', async () => {
    const { bus } = await setup(backend);
    const r = bus.replay(records([
      { op: OP.MMIO_READ, size: 1, address: 0x1000 },
      { op: OP.MMIO_READ, size: 2, address: 0x1000 },
      { op: OP.MMIO_READ, size: 4, address: 0x1000 },
      { op: OP.MMIO_READ, size: 8, address: 0x1000 },
      { op: OP.MMIO_WRITE, size: 8, address: 0x1000, value: 1 },
      { op: OP.IO_READ, size: 2, address: 0x80 },
      { op: OP.IO_WRITE, size: 1, address: 0x80, value: 1 },
    ]));
    expect(Array.from(r.status)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(r.results)).toEqual([0xffn, 0xffffn, 0xffffffffn, ONES, 0n, 0xffffn, 0n]);
    expect(bus.stats().aborts).toEqual({ mmio: { reads: 4, writes: 1 }, io: { reads: 1, writes: 1 } });
  });

  test('a TypeScript model in a batch: called once per record with BAR offsets; a throw gives status 3, all ones, onError', async () => {
    const errors: [unknown, ErrorInfo][] = [];
    const { bus, model } = await setup(backend, errors);
    bus.configWrite(EP, 0x20, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const r = bus.replay(records([
      { op: OP.MMIO_WRITE, size: 2, address: A + 0x10, value: 0xabcd },
      { op: OP.MMIO_READ, size: 4, address: A + 0x10 },
      { op: OP.MMIO_READ, size: 8, address: A + 0xbad },
      { op: OP.MMIO_WRITE, size: 8, address: A + 0x18, value: 0x1122334455667788n },
    ]));
    expect(Array.from(r.status)).toEqual([STATUS.OK, STATUS.OK, STATUS.HOST_ERROR, STATUS.OK]);
    expect(Array.from(r.results)).toEqual([0n, 0x4342abcdn, ONES, 0n]);
    expect(model.calls).toEqual([
      { op: 'write', offset: 0x10, size: 2, value: 0xabcd },
      { op: 'read', offset: 0x10, size: 4 },
      { op: 'read', offset: 0xbad, size: 8 },
      { op: 'write', offset: 0x18, size: 8, value: 0x1122334455667788n },
    ]);
    expect(bus.stats().hostErrors).toBe(1);
    expect(errors.map(([, i]) => [i.offset, i.size, i.write])).toEqual([[0xbad, 8, false]]);
  });

  test('an empty batch', async () => {
    const { bus } = await setup(backend);
    const r = bus.replay(new Uint8Array(0));
    expect([r.count, r.results.length, r.status.length, r.mismatches]).toEqual([0, 0, 0, []]);
  });

  test('batch and per-access paths give identical results, counters, effects, events, model calls and config space', async () => {
    const a = await setup(backend);
    const b = await setup(backend);
    const E = (reg: number, fn = 1) => ecam(0, fn, 0, reg);
    const list: Rec[] = [
      // Program 00:01.0 through ECAM: IO BAR0, mem32 BAR1, mem64 BAR2 in halves, BAR4 (model), ROM.
      { op: OP.MMIO_WRITE, size: 4, address: E(0x10), value: 0xc000 },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x14), value: A + 0x100000 },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x18), value: 0xd0000000 },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x1c), value: 0x3 },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x20), value: A },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x30), value: 0xd8000001 },
      { op: OP.MMIO_WRITE, size: 2, address: E(0x04), value: CMD_IO | CMD_MEM },
      { op: OP.MMIO_READ, size: 4, address: A + 0x100000 },
      { op: OP.MMIO_READ, size: 8, address: 0x3_d0000000n },
      { op: OP.MMIO_READ, size: 2, address: A + 0x20 },
      { op: OP.MMIO_READ, size: 4, address: A + 0xbad },
      { op: OP.MMIO_WRITE, size: 4, address: A + 0xbad, value: 7 },
      { op: OP.IO_READ, size: 4, address: 0xc0fc },
      { op: OP.IO_READ, size: 4, address: 0xc100 },
      // Sizing probe of the 64-bit BAR with an 8-byte ECAM write, then restore.
      { op: OP.MMIO_WRITE, size: 8, address: E(0x18), value: ONES },
      { op: OP.MMIO_READ, size: 8, address: E(0x18) },
      { op: OP.MMIO_WRITE, size: 8, address: E(0x18), value: 0x3_d0000000n },
      { op: OP.MMIO_READ, size: 4, address: 0x3_d0000000n },
      // Only the low half: staged (the BAR stays at 0x3_d0000000); the high half then moves it.
      { op: OP.MMIO_WRITE, size: 4, address: E(0x18), value: 0xd1000000 },
      { op: OP.MMIO_READ, size: 4, address: 0x3_d1000000n },
      { op: OP.MMIO_WRITE, size: 4, address: E(0x1c), value: 0x4 },
      { op: OP.MMIO_READ, size: 4, address: 0x4_d1000000n },
      // 00:02.0: BAR0 with a regfile sub-range; doorbell and regfile embedder regions.
      { op: OP.MMIO_WRITE, size: 4, address: E(0x10, 2), value: A + 0x200000 },
      { op: OP.MMIO_WRITE, size: 2, address: E(0x04, 2), value: CMD_MEM },
      { op: OP.MMIO_WRITE, size: 8, address: A + 0x200040, value: 0xfedcba9876543210n },
      { op: OP.MMIO_READ, size: 8, address: A + 0x20007c },
      { op: OP.MMIO_READ, size: 4, address: A + 0x200000 },
      { op: OP.MMIO_WRITE, size: 4, address: R + 0x1000, value: 1 },
      { op: OP.MMIO_WRITE, size: 8, address: R + 0x1008, value: 0x1234567890n },
      { op: OP.MMIO_READ, size: 4, address: R + 0x1000 },
      { op: OP.MMIO_WRITE, size: 8, address: R + 0x1c, value: ONES },
      { op: OP.MMIO_READ, size: 8, address: R + 0x18 },
      { op: OP.IO_WRITE, size: 4, address: 0x500e, value: 0xaabbccdd },
      { op: OP.IO_READ, size: 4, address: 0x500c },
      // Config mechanism #1 through IO records.
      { op: OP.IO_WRITE, size: 4, address: 0xcf8, value: 0x80000800 | 0x04 },
      { op: OP.IO_WRITE, size: 2, address: 0xcfc, value: CMD_IO },
      { op: OP.IO_READ, size: 4, address: 0xcf8 },
      { op: OP.MMIO_READ, size: 4, address: A + 0x100000 },
      // Unmapped, invalid, decodable limit.
      { op: OP.MMIO_READ, size: 8, address: 0x1000 },
      { op: OP.MMIO_WRITE, size: 2, address: 0x1000, value: 1 },
      { op: OP.MMIO_READ, size: 3, address: R },
      { op: OP.MMIO_WRITE, size: 0, address: R, value: 1 },
      { op: OP.IO_READ, size: 8, address: 0x5000 },
      { op: OP.IO_READ, size: 1, address: 0x10000 },
      { op: OP.MMIO_READ, size: 4, address: 2n ** 52n },
      { op: OP.MMIO_READ, size: 4, address: 2n ** 53n },
      { op: OP.MMIO_READ, size: 4, address: 2n ** 64n - 4n },
      { op: OP.IO_WRITE, size: 4, address: 0x1_00000cf8n, value: 0x80000810 },
      { op: OP.IO_READ, size: 4, address: 0x1_00000cfcn },
      { op: OP.IO_READ, size: 2, address: 0x80 },
      { op: OP.IO_WRITE, size: 1, address: 0x80, value: 0 },
      // Leave 00:01.0 with decode off.
      { op: OP.MMIO_WRITE, size: 4, address: E(0x04), value: 0 },
      { op: OP.MMIO_READ, size: 4, address: A },
    ];
    a.bus.effects();
    b.bus.effects();
    const batch = a.bus.replay(records(list));
    const single = list.map((r) => perAccess(b.bus, r));
    const diffs: string[] = [];
    list.forEach((r, i) => {
      if (batch.results[i] !== single[i]) diffs.push(`record ${i} ${showBig(r)}: batch 0x${batch.results[i].toString(16)} per-access 0x${single[i].toString(16)}`);
    });
    expect(diffs).toEqual([]);
    expect(batch.count).toBe(list.length);
    expect(showBig(a.bus.stats())).toBe(showBig(b.bus.stats()));
    expect(showBig(normEffects(a.bus.effects()))).toBe(showBig(normEffects(b.bus.effects())));
    expect(showBig(a.bus.events())).toBe(showBig(b.bus.events()));
    expect(showBig(a.bus.regions())).toBe(showBig(b.bus.regions()));
    expect(showBig(a.model.calls)).toBe(showBig(b.model.calls));
    expect(a.bus.dump().map((d) => Array.from(d.config))).toEqual(b.bus.dump().map((d) => Array.from(d.config)));
    // The sequence did reach what it aimed at.
    const s = a.bus.stats();
    expect(s.hostErrors).toBe(2);
    expect(s.invalid, 'the three bad sizes').toBe(3);
    expect(s.aborts.mmio.reads).toBeGreaterThanOrEqual(4);
    expect(Array.from(batch.status.slice(-15, -2)), 'unmapped, bad sizes, past the decodable space (aborts), unmapped ports').toEqual([1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(a.bus.ioRead(0xcf8, 4), '2^32 + 0xCF8 did not reach CONFIG_ADDRESS').toBe(0x80000804);
    expect(a.model.calls.length).toBe(3);
    // The staged low half: not at the half-written address; the upper write moved it.
    const at = (addr: bigint) => list.findIndex((r) => r.op === OP.MMIO_READ && r.address === addr);
    expect([batch.results[at(0x3_d1000000n)], batch.status[at(0x3_d1000000n)]]).toEqual([0xffffffffn, 1]);
    expect([batch.results[at(0x4_d1000000n)], batch.status[at(0x4_d1000000n)]]).toEqual([0n, 0]);
  });

  test('a large batch: 20000 records, results as per-access', async () => {
    const a = await setup(backend);
    const b = await setup(backend);
    const list: Rec[] = [];
    for (let i = 0; i < 20000; i++) {
      const off = (i * 7) % 0x20;
      if (i % 3 === 0) list.push({ op: OP.MMIO_WRITE, size: [1, 2, 4, 8][i % 4], address: R + off, value: BigInt(i) * 0x9e3779b1n });
      else if (i % 3 === 1) list.push({ op: OP.MMIO_READ, size: [1, 2, 4, 8][i % 4], address: R + off, value: 0n, expect: true });
      else list.push({ op: i % 2 ? OP.IO_READ : OP.IO_WRITE, size: [1, 2, 4][i % 3], address: 0x5000 + (i % 0x12), value: i });
    }
    const batch = a.bus.replay(records(list));
    const single = list.map((r) => perAccess(b.bus, r));
    expect(Array.from(batch.results)).toEqual(single);
    const expectedMismatches = list.map((r, i) => (r.expect && single[i] !== 0n ? i : -1)).filter((i) => i >= 0);
    expect(batch.mismatches).toEqual(expectedMismatches);
    expect(showBig(a.bus.stats())).toBe(showBig(b.bus.stats()));
  });
});
