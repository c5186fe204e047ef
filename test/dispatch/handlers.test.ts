// Conformance: the three handler kinds. Register files (every size at every offset, write masks,
// accesses running past the end, on MMIO, IO and BAR sub-ranges that move with their BAR),
// doorbells (counts, events, queue overflow) and TypeScript device models (offsets relative to
// the BAR or region, bigint values for 8-byte accesses, one call per access, models that throw).
import { describe, expect, test } from 'vitest';
import { BACKENDS } from '../helpers/vpci.js';
import {
  CMD_IO, CMD_MEM, EP, TOPOLOGY, RecordingModel, addRegion, leValue, makeDBus, onesFor, regionStats,
  setBarHandler, showBig,
} from './helpers.js';
import type { DBus, DoorbellEvent, ErrorInfo, Space } from './helpers.js';

const R = 0xe0000000;
const A = 0xc0000000;

const init = (n: number, seed = 0x31) => Uint8Array.from({ length: n }, (_, i) => (seed + i * 7) & 0xff);
const normEvents = (list: DoorbellEvent[]) => list.map((e) => ({ region: e.region, offset: Number(e.offset), size: e.size, value: e.value }));

function read(bus: DBus, space: Space, addr: number, size: number): bigint {
  return BigInt(space === 'mmio' ? bus.mmioRead(addr, size) : bus.ioRead(addr, size));
}
function write(bus: DBus, space: Space, addr: number, size: number, v: bigint): void {
  if (space === 'mmio') bus.mmioWrite(addr, size, size === 8 ? v : Number(v));
  else bus.ioWrite(addr, size, Number(v));
}

async function decodedEp(backend: 'wasm' | 'ts', onError?: (e: unknown, i: ErrorInfo) => void): Promise<DBus> {
  const bus = await makeDBus(backend, TOPOLOGY, onError ? { onError } : {});
  bus.configWrite(EP, 0x10, 4, 0xc000);
  bus.configWrite(EP, 0x14, 4, A);
  bus.configWrite(EP, 0x18, 4, 0);
  bus.configWrite(EP, 0x1c, 4, 0x20);
  bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM);
  return bus;
}

describe.each(BACKENDS)('register files (%s backend)', (backend) => {
  test.each([['mmio', R, [1, 2, 4, 8]], ['io', 0x5000, [1, 2, 4]]] as const)('%s: every size at every offset of a 16-byte regfile reads its bytes little-endian, 0xff past the end', async (space, base, sizes) => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const bytes = init(16);
    addRegion(bus, space, base, 16, { kind: 'regfile', size: 16, initial: bytes });
    const bad: string[] = [];
    for (const size of sizes) {
      for (let off = 0; off < 16; off++) {
        const got = read(bus, space, base + off, size);
        const want = leValue(bytes, off, size);
        if (got !== want) bad.push(`${size} bytes at ${off}: 0x${got.toString(16)} want 0x${want.toString(16)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test.each([['mmio', R, [1, 2, 4, 8]], ['io', 0x5000, [1, 2, 4]]] as const)('%s: writes merge through the write mask, byte by byte; bytes past the end are not written', async (space, base, sizes) => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const bytes = Array.from(init(16));
    const mask = Uint8Array.from({ length: 16 }, (_, i) => [0xff, 0x0f, 0x00, 0xf0, 0x81][i % 5]);
    addRegion(bus, space, base, 16, { kind: 'regfile', size: 16, initial: Uint8Array.from(bytes), writeMask: mask });
    let step = 0;
    const bad: string[] = [];
    for (const size of sizes) {
      for (let off = 0; off < 16; off++) {
        let v = 0n;
        for (let i = 0; i < size; i++) v |= BigInt((0x5a + 37 * (step + i)) & 0xff) << BigInt(8 * i);
        step++;
        write(bus, space, base + off, size, v);
        for (let i = 0; i < size && off + i < 16; i++) {
          const b = Number((v >> BigInt(8 * i)) & 0xffn);
          bytes[off + i] = (bytes[off + i] & ~mask[off + i]) | (b & mask[off + i]);
        }
        const now = Array.from({ length: 16 }, (_, i) => Number(read(bus, space, base + i, 1)));
        if (showBig(now) !== showBig(bytes)) bad.push(`after ${size} bytes 0x${v.toString(16)} at ${off}: ${showBig(now)} want ${showBig(bytes)}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  test('an embedder regfile region has exactly the size given: bytes past the register file read 0xff, are not written, and count on the region', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const id = addRegion(bus, 'mmio', R, 0x1000, { kind: 'regfile', size: 8, initial: init(8) });
    const r = bus.regions().find((x) => x.id === id);
    expect(r && [r.base, r.size]).toEqual([BigInt(R), 0x1000n]);
    expect(bus.mmioRead(R + 8, 1), 'past the register file').toBe(0xff);
    expect(bus.mmioRead(R + 0xff8, 8)).toBe(0xffffffffffffffffn);
    expect(bus.mmioRead(R + 4, 8), 'straddling the end of the register file').toBe(leValue(init(8), 4, 8));
    bus.mmioWrite(R + 8, 4, 0x12345678);
    bus.mmioWrite(R + 6, 4, 0);
    expect(bus.mmioRead(R + 8, 4), 'not written').toBe(0xffffffff);
    expect(bus.mmioRead(R, 8), 'bytes 6-7 written, nothing past them').toBe(leValue([...init(8).slice(0, 6), 0, 0], 0, 8));
    expect(bus.mmioRead(R + 0x1000, 1), 'past the region: unmapped').toBe(0xff);
    const s = bus.stats();
    expect(s.aborts.mmio, 'only the access past the region aborts').toEqual({ reads: 1, writes: 0 });
    expect([regionStats(bus, id).reads, regionStats(bus, id).writes]).toEqual([5, 2]);
    const id2 = addRegion(bus, 'io', 0x6000, 4, { kind: 'regfile', size: 64 });
    const r2 = bus.regions().find((x) => x.id === id2);
    expect(r2 && [r2.base, r2.size]).toEqual([0x6000n, 4n]);
    expect(bus.ioRead(0x6002, 4), 'initial bytes default to 0; past the region 0xff').toBe(0xffff0000);
    bus.ioWrite(0x6002, 4, 0x11223344);
    expect(bus.ioRead(0x6000, 4), 'the bytes of the register file past the region are not written').toBe(0x33440000);
    expect(bus.ioRead(0x6004, 1)).toBe(0xff);
  });

  test('a BAR regfile without an explicit length is min(regfile size, BAR size - offset) long; with one it is exactly that long, 0xff past the register file', async () => {
    const bus = await decodedEp(backend);
    // BAR 1: mem32 4 KiB at A.
    const small = setBarHandler(bus, EP, 1, { kind: 'regfile', size: 16, initial: init(16) }, { offset: 0x100 });
    const clipped = setBarHandler(bus, EP, 1, { kind: 'regfile', size: 0x100, initial: init(0x100, 5) }, { offset: 0xf80 });
    const exact = setBarHandler(bus, EP, 1, { kind: 'regfile', size: 8, initial: init(8, 9) }, { offset: 0x400, length: 0x40 });
    const byId = (id: number) => { const r = bus.regions().find((x) => x.id === id); return r && [r.base, r.size]; };
    expect(byId(small), 'the register file is shorter than the rest of the BAR').toEqual([BigInt(A + 0x100), 16n]);
    expect(byId(clipped), 'the rest of the BAR is shorter than the register file').toEqual([BigInt(A + 0xf80), 0x80n]);
    expect(byId(exact), 'explicit length').toEqual([BigInt(A + 0x400), 0x40n]);
    expect(bus.mmioRead(A + 0x110, 4), 'past the small regfile: the unbacked BAR').toBe(0);
    expect(bus.mmioRead(A + 0x10c, 8), 'straddling its end: 0xff past it').toBe(leValue(init(16), 12, 8));
    expect(bus.mmioRead(A + 0xff8, 8)).toBe(leValue(init(0x100, 5), 0x78, 8));
    expect(bus.mmioRead(A + 0x408, 4), 'past the 8-byte regfile, inside the region').toBe(0xffffffff);
    expect(bus.mmioRead(A + 0x43c, 4)).toBe(0xffffffff);
    bus.mmioWrite(A + 0x404, 8, 0x0102030405060708n);
    expect(bus.mmioRead(A + 0x400, 8), 'only the bytes inside the register file are written').toBe(leValue([...init(8, 9).slice(0, 4), 8, 7, 6, 5], 0, 8));
    expect(bus.mmioRead(A + 0x408, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(A + 0x440, 4), 'past the region: the unbacked BAR').toBe(0);
    expect(bus.stats().aborts.mmio).toEqual({ reads: 0, writes: 0 });
    expect([regionStats(bus, exact).reads, regionStats(bus, exact).writes]).toEqual([4, 1]);
    // It moves with its BAR and keeps its length.
    bus.configWrite(EP, 0x14, 4, 0xc8000000);
    expect(byId(exact)).toEqual([0xc8000400n, 0x40n]);
    expect(bus.mmioRead(0xc800043c, 4)).toBe(0xffffffff);
    expect(regionStats(bus, exact).reads).toBe(5);
  });

  test('a handler on a 64-bit BAR of 2^61 bytes: without a length, an offset whose rest is not an exact number is refused alike; an exact length works', async () => {
    // The rest of the BAR after offset 4 is 2^61 - 4, which no number holds: both backends refuse
    // to guess a length (rounding it to 2^61 would claim past the BAR), and say how to fix it.
    const bus = await makeDBus(backend, {
      devices: [{ bdf: '00:01.0', descriptor: { vendorId: 0x1234, deviceId: 1, classCode: 0xff0000, bars: [{ index: 0, kind: 'mem64', size: 2n ** 61n }] } }],
    });
    expect(() => setBarHandler(bus, '00:01.0', 0, { kind: 'doorbell' }, { offset: 0 }), 'offset 0: the rest is 2^61').not.toThrow();
    for (const offset of [4, 0x40]) {
      expect(() => setBarHandler(bus, '00:01.0', 0, { kind: 'doorbell' }, { offset }), `offset ${offset}`).toThrow(/give the length/);
    }
    expect(() => setBarHandler(bus, '00:01.0', 0, { kind: 'doorbell' }, { offset: 0x1000 }), 'offset 0x1000: 2^61 - 2^12 is exact').not.toThrow();
    expect(() => setBarHandler(bus, '00:01.0', 0, { kind: 'doorbell' }, { offset: 4, length: 2 ** 52 }), 'an exact length').not.toThrow();
    expect(() => setBarHandler(bus, '00:01.0', 0, { kind: 'doorbell' }, { offset: 4, length: 2 ** 61 }), 'a length past the BAR').toThrow();
  });

  test('a regfile on a BAR sub-range at an offset indexes from the sub-range start and moves with its BAR, keeping its bytes', async () => {
    const bus = await decodedEp(backend);
    const id = setBarHandler(bus, EP, 1, { kind: 'regfile', size: 32, initial: init(32) }, { offset: 0x200, length: 0x20 });
    expect(bus.mmioRead(A + 0x200, 1)).toBe(init(32)[0]);
    bus.mmioWrite(A + 0x204, 4, 0xdeadbeef);
    bus.configWrite(EP, 0x14, 4, 0xc8000000);
    expect(bus.mmioRead(A + 0x204, 4), 'old place').toBe(0xffffffff);
    expect(bus.mmioRead(0xc8000204, 4)).toBe(0xdeadbeef);
    const r = bus.regions().find((x) => x.id === id);
    expect(r && [r.base, r.size]).toEqual([0xc8000200n, 0x20n]);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(bus.regions().find((x) => x.id === id), 'unmapped with its BAR').toBeUndefined();
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(bus.mmioRead(0xc8000204, 4)).toBe(0xdeadbeef);
  });

  test('a regfile on a 64-bit BAR above 4 GiB and on an IO BAR', async () => {
    const bus = await decodedEp(backend);
    setBarHandler(bus, EP, 2, { kind: 'regfile', size: 16, initial: init(16) });
    setBarHandler(bus, EP, 0, { kind: 'regfile', size: 4, initial: init(4, 0x80) }, { offset: 0x10, length: 4 });
    expect(bus.mmioRead(0x20_00000000, 8)).toBe(leValue(init(16), 0, 8));
    expect(bus.mmioRead(0x20_0000000c, 8), 'running past the regfile: bytes past its end read 0xff').toBe(leValue(init(16), 12, 8));
    expect(bus.ioRead(0xc010, 4)).toBe(Number(leValue(init(4, 0x80), 0, 4)));
    expect(bus.ioRead(0xc012, 4)).toBe(Number(leValue(init(4, 0x80), 2, 4)));
  });
});

describe.each(BACKENDS)('doorbells (%s backend)', (backend) => {
  test('each write counts and queues one event with region, offset, size and bigint value; reads return the count', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const id = addRegion(bus, 'mmio', R, 0x100, { kind: 'doorbell' });
    expect(bus.mmioRead(R, 4)).toBe(0);
    bus.mmioWrite(R, 4, 0x11223344);
    bus.mmioWrite(R + 5, 1, 0x55);
    bus.mmioWrite(R + 8, 8, 0x0102030405060708n);
    bus.mmioWrite(R + 0x10, 2, 0xbeef);
    bus.mmioWrite(R + 0xf8, 8, 0xffffffffffffffffn);
    expect(normEvents(bus.events())).toEqual([
      { region: id, offset: 0, size: 4, value: 0x11223344n },
      { region: id, offset: 5, size: 1, value: 0x55n },
      { region: id, offset: 8, size: 8, value: 0x0102030405060708n },
      { region: id, offset: 0x10, size: 2, value: 0xbeefn },
      { region: id, offset: 0xf8, size: 8, value: 0xffffffffffffffffn },
    ]);
    expect(bus.events(), 'events() drains').toEqual([]);
    expect(bus.mmioRead(R, 4)).toBe(5);
    expect(bus.mmioRead(R + 0x40, 8)).toBe(5n);
    expect(bus.events(), 'reads queue nothing').toEqual([]);
    expect([regionStats(bus, id).reads, regionStats(bus, id).writes]).toEqual([3, 5]);
  });

  test('an IO doorbell and a BAR doorbell; events of several doorbells interleave oldest first', async () => {
    const bus = await decodedEp(backend);
    const io = addRegion(bus, 'io', 0x7000, 8, { kind: 'doorbell' });
    const bar = setBarHandler(bus, EP, 1, { kind: 'doorbell' });
    bus.ioWrite(0x7004, 2, 0x1234);
    bus.mmioWrite(A + 0x40, 4, 7);
    bus.ioWrite(0x7000, 1, 1);
    expect(normEvents(bus.events())).toEqual([
      { region: io, offset: 4, size: 2, value: 0x1234n },
      { region: bar, offset: 0x40, size: 4, value: 7n },
      { region: io, offset: 0, size: 1, value: 1n },
    ]);
    expect([bus.ioRead(0x7000, 4), bus.mmioRead(A, 4)]).toEqual([2, 1]);
  });

  test('the queue holds 4096 events: later ones are dropped and counted in droppedEvents, the count still advances', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    addRegion(bus, 'mmio', R, 0x10, { kind: 'doorbell' });
    for (let i = 0; i < 4100; i++) bus.mmioWrite(R, 4, i);
    const ev = bus.events();
    expect(ev).toHaveLength(4096);
    expect([ev[0].value, ev[4095].value]).toEqual([0n, 4095n]);
    expect(bus.stats().droppedEvents).toBe(4);
    expect(bus.mmioRead(R, 4)).toBe(4100);
    bus.mmioWrite(R, 4, 9);
    expect(normEvents(bus.events()).map((e) => e.value), 'room again after draining').toEqual([9n]);
    expect(bus.stats().droppedEvents).toBe(4);
  });
});

describe.each(BACKENDS)('TypeScript device models (%s backend)', (backend) => {
  test('a BAR model gets offsets relative to the BAR start, also when registered on a sub-range at an offset', async () => {
    const bus = await decodedEp(backend);
    const m = new RecordingModel(0x40);
    setBarHandler(bus, EP, 1, m, { offset: 0x100, length: 0x100 });
    expect(bus.mmioRead(A + 0x104, 4)).toBe(0x47464544);
    bus.mmioWrite(A + 0x1fc, 4, 0xcafe);
    expect(bus.mmioRead(A + 0x200, 4), 'past the sub-range: the unbacked BAR').toBe(0);
    expect(bus.mmioRead(A + 0xfc, 4)).toBe(0);
    expect(m.calls).toEqual([
      { op: 'read', offset: 0x104, size: 4 },
      { op: 'write', offset: 0x1fc, size: 4, value: 0xcafe },
    ]);
    // After the BAR moves the offsets stay BAR-relative.
    bus.configWrite(EP, 0x14, 4, 0xc9000000);
    bus.mmioRead(0xc9000100, 2);
    expect(m.calls[2]).toEqual({ op: 'read', offset: 0x100, size: 2 });
  });

  test('8-byte accesses pass and return bigints; smaller ones numbers; one call per access', async () => {
    const bus = await decodedEp(backend);
    const m = new RecordingModel(0);
    setBarHandler(bus, EP, 2, m);
    bus.mmioWrite(0x20_00000008, 8, 0x8877665544332211n);
    bus.mmioWrite(0x20_00000010, 8, 0x0102030405060708n);
    const r8 = bus.mmioRead(0x20_00000008, 8);
    const r4 = bus.mmioRead(0x20_0000000c, 4);
    const r2 = bus.mmioRead(0x20_00000010, 2);
    const r1 = bus.mmioRead(0x20_00000017, 1);
    expect([r8, r4, r2, r1]).toEqual([0x8877665544332211n, 0x88776655, 0x0708, 0x01]);
    expect(m.calls.map((c) => [c.op, c.offset, c.size, typeof c.value])).toEqual([
      ['write', 8, 8, 'bigint'], ['write', 0x10, 8, 'bigint'],
      ['read', 8, 8, 'undefined'], ['read', 0xc, 4, 'undefined'], ['read', 0x10, 2, 'undefined'], ['read', 0x17, 1, 'undefined'],
    ]);
    bus.mmioWrite(0x20_00000000, 4, 0xffffffff);
    bus.mmioWrite(0x20_00000000, 2, 0xabcd);
    bus.mmioWrite(0x20_00000000, 1, 0x7f);
    expect(m.calls.slice(6).map((c) => [c.size, c.value])).toEqual([[4, 0xffffffff], [2, 0xabcd], [1, 0x7f]]);
  });

  test('an embedder model gets offsets relative to its region; an IO BAR model relative to the BAR', async () => {
    const bus = await decodedEp(backend);
    const emb = new RecordingModel(0x10);
    const io = new RecordingModel(0x20);
    addRegion(bus, 'mmio', R + 0x1000, 0x100, emb);
    setBarHandler(bus, EP, 0, io, { offset: 0x80, length: 0x80 });
    expect(bus.mmioRead(R + 0x1010, 1)).toBe(0x20);
    expect(bus.ioRead(0xc084, 2)).toBe(0xa5a4);
    bus.ioWrite(0xc0ff, 1, 3);
    expect(emb.calls).toEqual([{ op: 'read', offset: 0x10, size: 1 }]);
    expect(io.calls).toEqual([{ op: 'read', offset: 0x84, size: 2 }, { op: 'write', offset: 0xff, size: 1, value: 3 }]);
  });

  test('a model that throws: all-ones reads, dropped writes, hostErrors, onError with region/offset/size/write; the bus keeps working', async () => {
    const errors: [unknown, ErrorInfo][] = [];
    const bus = await decodedEp(backend, (e, info) => errors.push([e, info]));
    const m = new RecordingModel(0, (off) => off >= 0x800);
    const id = setBarHandler(bus, EP, 1, m);
    const got = [1, 2, 4, 8].map((s) => bus.mmioRead(A + 0x800, s));
    expect(got).toEqual([1, 2, 4, 8].map(onesFor));
    bus.mmioWrite(A + 0x808, 4, 0x1234);
    expect(bus.stats().hostErrors).toBe(5);
    expect(errors.map(([e, info]) => [(e as Error).message, { region: info.region, offset: Number(info.offset), size: info.size, write: info.write }])).toEqual([
      ['model read at 2048', { region: id, offset: 0x800, size: 1, write: false }],
      ['model read at 2048', { region: id, offset: 0x800, size: 2, write: false }],
      ['model read at 2048', { region: id, offset: 0x800, size: 4, write: false }],
      ['model read at 2048', { region: id, offset: 0x800, size: 8, write: false }],
      ['model write at 2056', { region: id, offset: 0x808, size: 4, write: true }],
    ]);
    // The bus keeps working: the same model below 0x800, other regions, config space.
    bus.mmioWrite(A + 0x10, 4, 0xfeedf00d);
    expect(bus.mmioRead(A + 0x10, 4)).toBe(0xfeedf00d);
    expect(bus.ioRead(0xc000, 4)).toBe(0);
    expect(bus.configRead(EP, 0, 4)).toBe(0x00011234);
    expect(bus.stats().hostErrors).toBe(5);
  });

  test('a throwing model without onError still completes the access', async () => {
    const bus = await decodedEp(backend);
    setBarHandler(bus, EP, 1, { read: () => { throw new Error('boom'); }, write: () => { throw new Error('boom'); } });
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);
    expect(() => bus.mmioWrite(A, 4, 1)).not.toThrow();
    expect(bus.stats().hostErrors).toBe(2);
  });
});
