// Isolation. Two buses in one process share no state: everything done to one (config cycles and
// BAR moves, device models doing DMA and raising interrupts, embedder regions and handlers, IOMMU
// domains, a replayed trace) leaves everything observable on the other unchanged, and the other
// then behaves exactly as if the first had never run — Wasm with Wasm, TypeScript with TypeScript,
// and mixed. And a TypeScript device model that throws cannot break the bus: the access completes
// as a master abort (reads all ones), the error reaches `onError` and `stats().hostErrors`, and
// every other device keeps working, per access and inside `bus.replay` batches, on both backends.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { DeviceBehaviour, DeviceContext } from '../../src/devices/model-api.js';
import type { TestDevice } from '../../src/devices/test-device.js';
import type { AccessErrorInfo } from '../../src/dispatch/types.js';
import { TopologyError, VpciError } from '../../src/errors.js';
import { runFirmware } from '../../src/firmware/index.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import { defaultTopology, resolveTopology } from '../../src/topology/index.js';
import type { ResolvedTopology, TopologyDevice } from '../../src/topology/index.js';
import { encodeBatch, isAccess } from '../../src/trace/index.js';
import { firmwareOptions, synthesizeTrace } from '../../src/trace-synth/index.js';
import { BACKENDS } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

const MiB = 0x100000;
const TEST_DEVICE = '00:08.0';
const ENDPOINT = '00:01.0';
const BLK = '00:07.0';
// Test device registers (src/devices/test-device.ts).
const SCRATCH = 0x04, IRQ_RAISE = 0x08, DMA_SRC = 0x20, DMA_DST = 0x28, DMA_LEN = 0x30, DMA_CMD = 0x34, DMA_STATUS = 0x38, BUFFER = 0x1000;
const START = 1, TO_RAM = 2, IRQ = 4;

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? sha1(x) : x));

/** A bus of the shared resolved topology, booted by the firmware, with 1 MiB of guest RAM and a recording sink. */
interface World { bus: Bus; ram: Uint8Array; sink: RecordingSink; errors: AccessErrorInfo[] }

async function world(backend: Backend, topology: ResolvedTopology): Promise<World> {
  const sink = new RecordingSink();
  const errors: AccessErrorInfo[] = [];
  const bus = await createBus({ backend, topology, interrupts: sink, onError: (_e, info) => errors.push(info) });
  runFirmware(bus, firmwareOptions(bus));
  const ram = new Uint8Array(MiB);
  bus.dma.addRam({ base: 0, size: MiB, buffer: ram });
  // What the firmware queued is not part of what follows.
  bus.effects();
  bus.events();
  bus.dma.faults();
  return { bus, ram, sink, errors };
}

/**
 * Everything observable about a bus: the config space of every function, regions, counters, DMA
 * state and faults, queued effects and doorbell events, interrupts delivered and line levels,
 * guest RAM, the device models' own state. (Drains the queues it reads.)
 */
function observe(w: World): string {
  const { bus } = w;
  return json({
    dump: bus.dump(),
    regions: bus.regions(),
    stats: bus.stats(),
    dma: bus.dma.stats(),
    faults: bus.dma.faults(),
    effects: bus.effects(),
    events: bus.events(),
    interrupts: w.sink.events,
    lines: Array.from({ length: 24 }, (_, gsi) => bus.interrupts.lineLevel(gsi)),
    ram: w.ram,
    testDevice: bus.device<TestDevice>(TEST_DEVICE)!.buffer,
    disk: (bus.device(BLK) as unknown as { image: Uint8Array }).image,
    errors: w.errors,
  });
}

const bar = (bus: Bus, bdf: string, index: number) => (bus.configRead(bdf, 0x10 + 4 * index, 4) & ~0xf) >>> 0;

/** The same work on any bus: deterministic, so two buses that did it from the same start agree. */
function exercise(w: World, trace: Uint8Array): void {
  const { bus, ram } = w;
  // The test device: scratch, MSI-X on, DMA guest RAM -> buffer -> guest RAM with completion interrupts.
  const td0 = bar(bus, TEST_DEVICE, 0);
  const td2 = bar(bus, TEST_DEVICE, 2);
  bus.mmioWrite(td0 + SCRATCH, 4, 0xabcd1234);
  for (let k = 0; k < 4; k++) {
    bus.mmioWrite(td2 + 16 * k, 4, 0xfee00000);
    bus.mmioWrite(td2 + 16 * k + 8, 4, 0x40 + k);
    bus.mmioWrite(td2 + 16 * k + 12, 4, 0);
  }
  bus.configWrite(TEST_DEVICE, 0x04, 2, 0x0006);
  bus.configWrite(TEST_DEVICE, 0x72, 2, 0x8000);
  ram.subarray(0x1000, 0x1100).forEach((_, i, a) => { a[i] = (i * 7 + 3) & 0xff; });
  bus.mmioWrite(td0 + DMA_SRC, 8, 0x1000n);
  bus.mmioWrite(td0 + DMA_DST, 8, 0n);
  bus.mmioWrite(td0 + DMA_LEN, 4, 0x100);
  bus.mmioWrite(td0 + DMA_CMD, 4, START | IRQ | (1 << 8));
  bus.mmioWrite(td0 + DMA_SRC, 8, 0n);
  bus.mmioWrite(td0 + DMA_DST, 8, 0x3000n);
  bus.mmioWrite(td0 + DMA_CMD, 4, START | TO_RAM | IRQ | (2 << 8));
  bus.mmioWrite(td0 + IRQ_RAISE, 4, 3);
  // A DMA that faults (outside RAM), logged.
  bus.mmioWrite(td0 + DMA_SRC, 8, 0x40000000n);
  bus.mmioWrite(td0 + DMA_DST, 8, 0n);
  bus.mmioWrite(td0 + DMA_CMD, 4, START);
  expect(bus.mmioRead(td0 + DMA_STATUS, 4)).toBe(0x502); // ERROR, code 5: outside guest RAM
  // BAR moves: the endpoint's BAR 0 to a new place and its I/O BAR off and on.
  bus.configWrite(ENDPOINT, 0x10, 4, 0xd0000000);
  bus.configWrite(ENDPOINT, 0x04, 2, 0x0002);
  bus.configWrite(ENDPOINT, 0x04, 2, 0x0003);
  // Embedder regions and handlers: a register file, a doorbell, a TypeScript model, a BAR handler.
  let calls = 0;
  bus.addRegion({ space: 'mmio', base: 0xe0000000, size: 16, handler: { kind: 'regfile', size: 16 } });
  bus.addRegion({ space: 'io', base: 0x9000, size: 4, handler: { kind: 'doorbell' } });
  bus.addRegion({ space: 'mmio', base: 0xe0001000, size: 0x100, handler: { read: (o) => o + calls++, write: () => { calls += 10; } } });
  bus.setBarHandler(ENDPOINT, 0, { kind: 'regfile', size: 8, initial: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }, { offset: 0x20 });
  bus.mmioWrite(0xe0000004, 4, 0x11223344);
  bus.ioWrite(0x9000, 2, 0x55);
  bus.mmioWrite(0xe0001010, 1, 1);
  expect(bus.mmioRead(0xe0001010, 4)).toBe(0x10 + 10);
  expect(bus.mmioRead(0xd0000020, 8)).toBe(0x0807060504030201n);
  // IOMMU: the endpoint in a translated domain, a map, DMA through it and a fault outside it.
  const d = bus.dma.createDomain('translated');
  bus.dma.map(d, { iova: 0x10000000, gpa: 0x8000, size: 0x2000 });
  bus.dma.attach(ENDPOINT, d);
  bus.configWrite(ENDPOINT, 0x04, 2, 0x0007);
  expect(bus.dma.write(ENDPOINT, 0x10000010, Uint8Array.of(9, 8, 7))).toBe('ok');
  expect(bus.dma.read(ENDPOINT, 0x20000000, new Uint8Array(4))).toBe('unmapped');
  // Interrupts: routing, a line through the multi-function device's pin, MSI-X by the embedder.
  bus.interrupts.route(0, 3, 2, 19);
  bus.interrupts.intx('00:03.1', true);
  expect(bus.interrupts.msix(TEST_DEVICE, 0)).toBe('delivered');
  // A replayed random trace (virtio devices, MSI-X tables, far addresses).
  bus.replay(trace);
}

let sharedTrace: Uint8Array | undefined;
async function randomTrace(): Promise<Uint8Array> {
  sharedTrace ??= encodeBatch((await synthesizeTrace({ profile: 'random', count: 4000, seed: 11 })).filter(isAccess));
  return sharedTrace;
}

const PAIRS: [Backend, Backend][] = [['wasm', 'wasm'], ['ts', 'ts'], ['wasm', 'ts'], ['ts', 'wasm']];

describe.each(PAIRS)('two buses in one process (%s and %s)', (a, b) => {
  test('work on the first changes nothing observable on the second, which then behaves as if the first never ran', async () => {
    // One resolved topology for both: its planes and device models are shared inputs, never state.
    const topology = await resolveTopology(defaultTopology);
    const trace = await randomTrace();
    const A = await world(a, topology);
    const B = await world(b, topology);
    const fresh = observe(B);
    expect(observe(A)).toBe(fresh);
    exercise(A, trace);
    const afterA = observe(A);
    expect(afterA).not.toBe(fresh);
    expect(observe(B)).toBe(fresh);
    // Now the same work on the second: it ends where the first ended.
    exercise(B, trace);
    expect(observe(B)).toBe(afterA);
    // And the first did not notice the second's work.
    expect(observe(A)).toBe(observe(B));
  });
});

describe('two Wasm buses', () => {
  test('have separate instances and linear memories', async () => {
    const A = await createBus({ backend: 'wasm' });
    const B = await createBus({ backend: 'wasm' });
    expect(A.core).not.toBe(B.core);
    const memA = A.core.batchRecords().buffer;
    const memB = B.core.batchRecords().buffer;
    expect(memA).not.toBe(memB);
    const before = sha1(new Uint8Array(memB));
    // Scribble over A's batch area and grow A's memory (64 MiB of internal RAM): B's memory is untouched.
    A.core.batchRecords().fill(0xa5);
    A.dma.addRam({ base: 0, size: 64 * MiB });
    expect(A.core.batchRecords().buffer.byteLength).toBeGreaterThan(memB.byteLength);
    expect(B.core.batchRecords().buffer).toBe(memB);
    expect(sha1(new Uint8Array(memB))).toBe(before);
  });
});

// ---- Device models that throw ------------------------------------------------------------------

const FAULTY = '00:0a.0';
const FAULTY_PATH = '0000:00:0a.0';

/**
 * A model with bugs at known offsets of BAR 0: read 0x0 throws an Error, write 0x4 throws, read
 * 0x8 returns NaN, read 0xc throws a string, read 0x10 returns undefined, read 0x14 signals an MSI-X
 * vector the function does not have (the bus's ArgumentError escapes the model), and 0x18 throws
 * on both. Everything else is a working register at 0x20.
 */
function faultyBehaviour(): DeviceBehaviour {
  return {
    attach(ctx: DeviceContext) {
      let reg = 0x600d;
      ctx.bar(0, {
        read: (o) => {
          switch (o) {
            case 0x0: throw new Error('read bug');
            case 0x8: return NaN;
            case 0xc: throw 'a string'; // eslint-disable-line no-throw-literal
            case 0x10: return undefined as unknown as number;
            case 0x14: return ctx.msix(99) === 'delivered' ? 1 : 0;
            case 0x18: throw new RangeError('read range bug');
            default: return o === 0x20 ? reg : 0;
          }
        },
        write: (o, _s, v) => {
          if (o === 0x4 || o === 0x18) throw new Error('write bug');
          if (o === 0x20) reg = Number(v);
        },
      });
      return {};
    },
  };
}

const FAULTY_DESCRIPTOR = {
  vendorId: 0x1234, deviceId: 0xbad0, classCode: 0xff0000,
  bars: [{ index: 0, kind: 'mem32' as const, size: 0x1000 }],
  capabilities: [{ id: 'msix' as const, tableSize: 1, tableBar: 0, tableOffset: 0x800, pbaBar: 0, pbaOffset: 0xc00 }],
};

async function faultyTopology(): Promise<ResolvedTopology> {
  const devices: TopologyDevice[] = [...defaultTopology.devices, { bdf: FAULTY, descriptor: FAULTY_DESCRIPTOR }];
  const topology = await resolveTopology({ ...defaultTopology, devices });
  topology.functions.find((f) => f.path === FAULTY_PATH)!.behaviour = faultyBehaviour();
  return topology;
}

/** The test device and the rest of the bus answer as they should. */
function othersWork(w: World): void {
  const { bus } = w;
  const td0 = bar(bus, TEST_DEVICE, 0);
  expect(bus.mmioRead(td0, 4)).toBe(0x7e570100);
  bus.mmioWrite(td0 + SCRATCH, 4, 0x5a5a0001);
  expect(bus.mmioRead(td0 + SCRATCH, 4)).toBe(0x5a5a0001);
  bus.configWrite(TEST_DEVICE, 0x04, 2, 0x0006);
  w.ram.set([1, 2, 3, 4], 0x5000);
  bus.mmioWrite(td0 + DMA_SRC, 8, 0x5000n);
  bus.mmioWrite(td0 + DMA_DST, 8, 0n);
  bus.mmioWrite(td0 + DMA_LEN, 4, 4);
  bus.mmioWrite(td0 + DMA_CMD, 4, START);
  expect(bus.mmioRead(td0 + DMA_STATUS, 4)).toBe(1);
  expect(bus.mmioRead(td0 + BUFFER, 4)).toBe(0x04030201);
  const ep = bus.functions().find((f) => f.path === '0000:00:01.0')!.planes.config;
  expect(bus.configRead(ENDPOINT, 0, 4)).toBe(new DataView(ep.buffer, ep.byteOffset).getUint32(0, true));
}

describe.each(BACKENDS)('a device model that throws (%s backend)', (backend) => {
  const ONES = { 1: 0xff, 2: 0xffff, 4: 0xffffffff } as Record<number, number>;

  test('per access: all ones, writes dropped, onError and hostErrors tell, every other device keeps working', async () => {
    const w = await world(backend, await faultyTopology());
    const { bus } = w;
    const base = bar(bus, FAULTY, 0);
    expect(base).not.toBe(0);
    bus.configWrite(FAULTY, 0x04, 2, 0x0002);
    expect(bus.mmioRead(base + 0x20, 4)).toBe(0x600d);
    const hostErrors = bus.stats().hostErrors;
    const bad: [number, number, boolean][] = [[0x0, 4, false], [0x4, 4, true], [0x8, 4, false], [0xc, 2, false], [0x10, 1, false], [0x14, 4, false], [0x18, 4, false], [0x18, 4, true]];
    for (const [offset, size, write] of bad) {
      if (write) bus.mmioWrite(base + offset, size, 0x1234);
      else expect(bus.mmioRead(base + offset, size), `read 0x${offset.toString(16)}`).toBe(ONES[size]);
    }
    expect(bus.mmioRead(base + 0x0, 8)).toBe(0xffffffffffffffffn);
    expect(bus.stats().hostErrors - hostErrors).toBe(bad.length + 1);
    const region = bus.regions().find((r) => r.kind === 'model' && r.bdf === FAULTY_PATH)!.id;
    expect(w.errors.map((e) => [e.region, Number(e.offset), e.size, e.write])).toEqual([
      ...bad.map(([o, s, wr]) => [region, o, s, wr]), [region, 0, 8, false],
    ]);
    // The model's own good register, the rest of the bus, and the other devices.
    bus.mmioWrite(base + 0x20, 4, 0x77);
    expect(bus.mmioRead(base + 0x20, 4)).toBe(0x77);
    expect(bus.configRead(FAULTY, 0, 4)).toBe(0xbad01234);
    othersWork(w);
    expect(bus.stats().hostErrors - hostErrors).toBe(bad.length + 1);
  });

  test('inside bus.replay: status 3 and all ones for the throwing records only; the batch and the other devices carry on', async () => {
    const w = await world(backend, await faultyTopology());
    const { bus } = w;
    const base = BigInt(bar(bus, FAULTY, 0));
    const td0 = BigInt(bar(bus, TEST_DEVICE, 0));
    bus.configWrite(FAULTY, 0x04, 2, 0x0002);
    const records = encodeBatch([
      { op: 'read', space: 'mmio', addr: base, size: 4 },
      { op: 'write', space: 'mmio', addr: td0 + 4n, size: 4, value: 0xc0ffeen },
      { op: 'write', space: 'mmio', addr: base + 4n, size: 4, value: 1n },
      { op: 'read', space: 'mmio', addr: td0 + 4n, size: 4 },
      { op: 'read', space: 'mmio', addr: base + 0xcn, size: 2 },
      { op: 'write', space: 'mmio', addr: base + 0x20n, size: 4, value: 0x99n },
      { op: 'read', space: 'mmio', addr: base + 0x8n, size: 8 },
      { op: 'read', space: 'mmio', addr: base + 0x20n, size: 4 },
      { op: 'read', space: 'mmio', addr: td0, size: 4 },
    ]);
    const r = bus.replay(records);
    expect([...r.status]).toEqual([3, 0, 3, 0, 3, 0, 3, 0, 0]);
    expect([...r.results]).toEqual([0xffffffffn, 0n, 0n, 0xc0ffeen, 0xffffn, 0n, 0xffffffffffffffffn, 0x99n, 0x7e570100n]);
    expect(w.errors.map((e) => [Number(e.offset), e.size, e.write])).toEqual([[0, 4, false], [4, 4, true], [0xc, 2, false], [8, 8, false]]);
    expect(bus.stats().hostErrors).toBe(4);
    othersWork(w);
  });

  test('an onError that throws itself does not break the access or the batch', async () => {
    const topology = await faultyTopology();
    const bus = await createBus({ backend, topology, onError: () => { throw new Error('embedder bug'); } });
    runFirmware(bus, firmwareOptions(bus));
    const base = bar(bus, FAULTY, 0);
    bus.configWrite(FAULTY, 0x04, 2, 0x0002);
    expect(bus.mmioRead(base, 4)).toBe(0xffffffff);
    expect(() => bus.mmioWrite(base + 4, 4, 1)).not.toThrow();
    const r = bus.replay(encodeBatch([{ op: 'read', space: 'mmio', addr: BigInt(base), size: 4 }, { op: 'read', space: 'mmio', addr: BigInt(base + 0x20), size: 4 }]));
    expect([...r.status]).toEqual([3, 0]);
    expect(r.results[1]).toBe(0x600dn);
    expect(bus.stats().hostErrors).toBe(3);
  });

  test('a throwing model on one bus is invisible to another bus of the same topology', async () => {
    const topology = await faultyTopology();
    const A = await world(backend, topology);
    const B = await world(backend, topology);
    const fresh = observe(B);
    A.bus.configWrite(FAULTY, 0x04, 2, 0x0002);
    const base = bar(A.bus, FAULTY, 0);
    for (let i = 0; i < 100; i++) A.bus.mmioRead(base + (i % 8) * 4, 4);
    A.bus.replay(encodeBatch(Array.from({ length: 500 }, (_, i) => ({ op: 'read' as const, space: 'mmio' as const, addr: BigInt(base + (i % 8) * 4), size: 4 as const }))));
    expect(A.bus.stats().hostErrors).toBeGreaterThan(0);
    expect(observe(B)).toBe(fresh);
  });

  test('a model that calls bus.replay while a batch runs does not change the records of that batch', async () => {
    // A model (or an interrupt sink it triggers) may call back into the bus. A nested replay must
    // either run on its own or be refused (a model error); the outer batch must run its own records.
    const w = await world(backend, await faultyTopology());
    const { bus } = w;
    const td0 = BigInt(bar(bus, TEST_DEVICE, 0));
    const r0 = bus.regions().find((r) => r.bdf === '0000:00:01.0' && r.bar === 0)!;
    bus.setBarHandler(ENDPOINT, 0, {
      read: () => {
        bus.replay(encodeBatch([0x99n, 0x99n, 0x99n].map((value) => ({ op: 'write' as const, space: 'mmio' as const, addr: td0 + 4n, size: 4 as const, value }))));
        return 7;
      },
      write: () => {},
    });
    const r = bus.replay(encodeBatch([
      { op: 'read', space: 'mmio', addr: r0.base, size: 4 },
      { op: 'write', space: 'mmio', addr: td0 + 4n, size: 4, value: 0x11n },
      { op: 'read', space: 'mmio', addr: td0 + 4n, size: 4 },
    ]));
    expect([...r.status].slice(1)).toEqual([0, 0]);
    expect(r.results[2]).toBe(0x11n);
  });
});

describe.each(BACKENDS)('a device model whose attach throws (%s backend)', (backend) => {
  test('createBus fails with a VpciError naming the function; buses made before and after are unaffected', async () => {
    const before = await world(backend, await resolveTopology(defaultTopology));
    const snapshot = observe(before);
    const topology = await resolveTopology({ ...defaultTopology, devices: [...defaultTopology.devices, { bdf: FAULTY, descriptor: FAULTY_DESCRIPTOR }] });
    topology.functions.find((f) => f.path === FAULTY_PATH)!.behaviour = {
      attach(ctx) {
        ctx.bar(0, { read: () => 0, write: () => {} }); // half attached, then a bug
        throw new Error('attach bug');
      },
    };
    let error: unknown;
    try {
      await createBus({ backend, topology });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(observe(before)).toBe(snapshot);
    othersWork(before);
    const after = await world(backend, await resolveTopology(defaultTopology));
    othersWork(after);
    // The error says which function's model failed (a TopologyError like every createBus refusal).
    expect(error).toBeInstanceOf(VpciError);
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as Error).message).toContain(FAULTY_PATH);
    expect((error as Error).message).toContain('attach bug');
  });
});
