// The caps docs/limits.md documents that had no test of their own: each is reached, refused with
// the documented error, and the refusal leaves the bus as it was (regions, counters, config space,
// DMA state). Core caps run on both backends. Trace readers: the line length, qtest buffers, and
// the number of reads a kvm_pio string read expands to.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError, TopologyError } from '../../src/errors.js';
import { resolveTopology } from '../../src/topology/index.js';
import type { TopologyDevice } from '../../src/topology/index.js';
import { KvmTraceReader, MAX_QTEST_BUFFER, QtestReader, TextTraceReader, TraceFormatError, readAll } from '../../src/trace/index.js';
import { MAX_LINE_CHARS } from '../../src/trace/lines.js';
import { BACKENDS } from '../helpers/vpci.js';
import { ROOT } from '../helpers/shared-data.js';

const NO_BARS = { vendorId: 0x1234, deviceId: 0x0001, classCode: 0xff0000 };
/** A host bridge and a test endpoint (BAR 0 at 00:01.0): no device model holds a register file or doorbell. */
const SMALL = { devices: [{ bdf: '00:00.0', model: 'host-bridge' }, { bdf: '00:01.0', model: 'test-endpoint' }] };
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Everything a refusal must leave as it was: regions, counters, config space, DMA state, queued effects. */
function state(bus: Bus): string {
  return JSON.stringify({
    regions: bus.regions(), stats: bus.stats(), dump: bus.dump().map((d) => ({ ...d, config: Array.from(d.config) })),
    dma: bus.dma.stats(), effects: bus.effects(), events: bus.events(),
  }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Runs `f`, which must throw `type` with `message`, and checks that the bus did not change. */
function refusedUnchanged(bus: Bus, f: () => unknown, type: new (...a: never[]) => Error, message: string | RegExp): void {
  const before = state(bus);
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
  expect(state(bus)).toBe(before);
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Embedder regions until the core has no region id left; returns their ids. */
function fillRegionIds(bus: Bus): number[] {
  const ids: number[] = [];
  const model = { read: () => 0, write: () => {} };
  for (;;) {
    try {
      ids.push(bus.addRegion({ space: 'mmio', base: 2 ** 36 + ids.length * 0x1000, size: 0x1000, handler: model }));
    } catch (e) {
      expect((e as Error).message).toBe('region: table full');
      return ids;
    }
  }
}

describe.each(BACKENDS)('documented caps (%s backend)', (backend) => {
  test('functions: 4,096 fit in a core; a topology with 4,097 is refused by createBus naming the one that did not fit', async () => {
    const devices: TopologyDevice[] = [];
    for (let b = 0; b < 16; b++) {
      for (let d = 0; d < 32; d++) for (let f = 0; f < 8; f++) devices.push({ bdf: `${hex2(b)}:${hex2(d)}.${f}`, descriptor: NO_BARS });
    }
    const full = await createBus({ backend, topology: await resolveTopology({ devices }) });
    expect(full.functions()).toHaveLength(4096);
    expect(full.configRead('0f:1f.7', 0, 4)).toBe(0x00011234);
    const error = await rejected(createBus({ backend, topology: await resolveTopology({ devices: [...devices, { bdf: '10:00.0', descriptor: NO_BARS }] }) }));
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toBe('topology: 0000:10:00.0: cannot add the function: table full');
  });

  test('ECAM window: one ending past 2^52 passes the file check and the core refuses it: createBus names the segment', async () => {
    const topology = { segments: [{ segment: 0, ecam: { base: '0x10000000000000', buses: [0, 0] as [number, number] } }], devices: [] };
    const resolved = await resolveTopology(topology);
    expect(resolved.segments[0].ecam!.base).toBe(2 ** 52);
    const error = await rejected(createBus({ backend, topology: resolved }));
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toBe('topology: segments(0).ecam: value out of range');
    // A window ending exactly at 2^52 is inside the decodable space.
    const edge = await createBus({ backend, topology: { segments: [{ segment: 0, ecam: { base: 2 ** 52 - 0x100000, buses: [0, 0] } }], devices: [{ bdf: '00:00.0', descriptor: NO_BARS }] } });
    expect(edge.mmioRead(2 ** 52 - 0x100000, 4)).toBe(0x00011234);
  });

  test('region ids: past 4,095 addRegion and setBarHandler are refused with "table full", and nothing changes', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    const ids = fillRegionIds(bus);
    const used = bus.stats().regions.length;
    expect(used).toBe(4095);
    expect(Math.max(...ids)).toBe(4095);
    refusedUnchanged(bus, () => bus.addRegion({ space: 'io', base: 0x9000, size: 4, handler: { read: () => 0, write: () => {} } }), ArgumentError, 'region: table full');
    refusedUnchanged(bus, () => bus.setBarHandler('00:01.0', 0, { read: () => 0, write: () => {} }), ArgumentError, 'bar handler: table full');
    // A freed id is taken again.
    bus.removeRegion(ids[7]);
    expect(bus.addRegion({ space: 'mmio', base: 2 ** 40, size: 16, handler: { read: () => 5, write: () => {} } })).toBe(ids[7]);
    expect(bus.mmioRead(2 ** 40, 4)).toBe(5);
  });

  test('region ids: a topology whose BARs need more ids than 4,095 is refused by createBus naming the function', async () => {
    const six = { ...NO_BARS, bars: [0, 1, 2, 3, 4, 5].map((index) => ({ index, kind: 'mem32' as const, size: 0x1000 })) };
    // 3 ids for 0xCF8, 0xCFC and the ECAM window; 682 functions x 6 BARs = 4,092 fit exactly.
    const devices: TopologyDevice[] = Array.from({ length: 683 }, (_, i) => ({ bdf: `${hex2(i >> 8)}:${hex2((i >> 3) & 31)}.${i & 7}`, descriptor: six }));
    const fits = await createBus({ backend, topology: await resolveTopology({ devices: devices.slice(0, 682) }) });
    expect(fits.stats().regions).toHaveLength(4095);
    const error = await rejected(createBus({ backend, topology: await resolveTopology({ devices }) }));
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toBe('topology: 0000:02:15.2: cannot map the BARs: table full');
  });

  test('region priority and placement: outside 0..255 or outside the space is refused before anything is created', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    const handler = { kind: 'regfile' as const, size: 4 };
    for (const priority of [256, -1, 1.5, NaN]) {
      refusedUnchanged(bus, () => bus.addRegion({ space: 'mmio', base: 0x1000, size: 4, priority, handler }), ArgumentError, `priority: ${priority} is not 0..255`);
    }
    refusedUnchanged(bus, () => bus.addRegion({ space: 'io', base: 0xfffe, size: 4, handler }), ArgumentError,
      'base/size: [0xfffe, +0x4) is not inside the io space (below 0x10000)');
    refusedUnchanged(bus, () => bus.addRegion({ space: 'mmio', base: 2 ** 52 - 2, size: 4, handler }), ArgumentError,
      'base/size: [0xffffffffffffe, +0x4) is not inside the mmio space (below 0x10000000000000)');
    refusedUnchanged(bus, () => bus.addRegion({ space: 'mmio', base: 0x1000, size: 0, handler }), ArgumentError,
      'base/size: [0x1000, +0x0) is not inside the mmio space (below 0x10000000000000)');
    // Priority 255 and the last bytes of each space are fine.
    bus.addRegion({ space: 'io', base: 0xfffc, size: 4, priority: 255, handler: { kind: 'regfile', size: 4, initial: Uint8Array.of(1, 2, 3, 4) } });
    expect(bus.ioRead(0xfffc, 4)).toBe(0x04030201);
  });

  test('register files: 1..4,096 bytes; the 4,097th file is refused (ids are freed with their regions, files are not)', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    for (const size of [0, 4097, 1.5]) {
      refusedUnchanged(bus, () => bus.addRegion({ space: 'mmio', base: 0x1000, size: 4, handler: { kind: 'regfile', size } }), ArgumentError, `handler.size: ${size} is not 1..4096`);
    }
    bus.removeRegion(bus.addRegion({ space: 'mmio', base: 0x1000, size: 0x1000, handler: { kind: 'regfile', size: 4096 } }));
    for (let i = 1; i < 4096; i++) bus.removeRegion(bus.addRegion({ space: 'mmio', base: 0x1000, size: 1, handler: { kind: 'regfile', size: 1 } }));
    refusedUnchanged(bus, () => bus.addRegion({ space: 'mmio', base: 0x1000, size: 1, handler: { kind: 'regfile', size: 1 } }), ArgumentError,
      'handler: no register file can be created (limit 4096)');
    // Other handler kinds still work.
    bus.addRegion({ space: 'mmio', base: 0x1000, size: 4, handler: { read: () => 9, write: () => {} } });
    expect(bus.mmioRead(0x1000, 4)).toBe(9);
  });

  test('doorbells: the 4,097th is refused', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    for (let i = 0; i < 4096; i++) bus.removeRegion(bus.addRegion({ space: 'io', base: 0x9000, size: 4, handler: { kind: 'doorbell' } }));
    refusedUnchanged(bus, () => bus.addRegion({ space: 'io', base: 0x9000, size: 4, handler: { kind: 'doorbell' } }), ArgumentError,
      'handler: no doorbell can be created (limit 4096)');
  });

  test('a refusal takes nothing: register files and doorbells offered to a full region table are not used up', async () => {
    // docs/limits.md: "A refused call changes nothing". Each refused addRegion/setBarHandler below
    // creates its register file (or doorbell) before the core refuses the region id.
    const bus = await createBus({ backend, topology: SMALL });
    const ids = fillRegionIds(bus);
    for (let i = 0; i < 4096; i++) {
      expect(() => bus.addRegion({ space: 'mmio', base: 0x1000, size: 1, handler: { kind: 'regfile', size: 1 } })).toThrow('region: table full');
      expect(() => bus.setBarHandler('00:01.0', 0, { kind: 'doorbell' })).toThrow('bar handler: table full');
    }
    bus.removeRegion(ids[0]);
    bus.removeRegion(ids[1]);
    // Nothing was ever created, so both kinds are available.
    expect(() => bus.addRegion({ space: 'mmio', base: 0x1000, size: 1, handler: { kind: 'regfile', size: 1, initial: Uint8Array.of(0x42) } })).not.toThrow();
    expect(bus.mmioRead(0x1000, 1)).toBe(0x42);
    expect(() => bus.addRegion({ space: 'io', base: 0x9000, size: 4, handler: { kind: 'doorbell' } })).not.toThrow();
  });

  test('batch records: a buffer that is not whole 24-byte records is refused before any record runs', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    const records = new Uint8Array(49);
    records[0] = 4; // IO write, would set CONFIG_ADDRESS if it ran
    records[1] = 4;
    new DataView(records.buffer).setUint32(8, 0xcf8, true);
    new DataView(records.buffer).setUint32(16, 0x80000000, true);
    refusedUnchanged(bus, () => bus.replay(records), ArgumentError, 'records: 49 bytes is not a whole number of 24-byte records');
    expect(bus.ioRead(0xcf8, 4)).toBe(0);
  });

  test('IOMMU domains: 255 created, the 256th refused with "table full"; nothing changes', async () => {
    const bus = await createBus({ backend, topology: SMALL });
    const ids = Array.from({ length: 255 }, (_, i) => bus.dma.createDomain(i % 2 ? 'identity' : 'blocked'));
    expect(new Set(ids).size).toBe(255);
    expect(Math.max(...ids)).toBe(255);
    const before = JSON.stringify(bus.dma.stats());
    refusedUnchanged(bus, () => bus.dma.createDomain('translated'), ArgumentError, 'dma: createDomain: table full');
    expect(JSON.stringify(bus.dma.stats())).toBe(before);
    bus.dma.destroyDomain(ids[10]);
    expect(bus.dma.createDomain('identity')).toBe(ids[10]);
  });
});

describe('topology files', () => {
  test('numbers in files: above 2^53 only as "0x..." strings or bigints, each refusal naming the field', async () => {
    const ecam = await rejected(resolveTopology({ segments: [{ segment: 0, ecam: { base: 2 ** 53 + 2 ** 21 } }], devices: [] }));
    expect(ecam).toBeInstanceOf(TopologyError);
    expect(ecam.message).toBe('topology: segments[0].ecam.base: 9007199256838144 is not an integer below 2^53 (write it as a "0x..." string)');
    const bar = await rejected(resolveTopology({ devices: [{ bdf: '00:00.0', descriptor: { ...NO_BARS, bars: [{ index: 0, kind: 'mem64', size: 2 ** 60 }] } }] }));
    expect(bar).toBeInstanceOf(TopologyError);
    expect(bar.message).toBe('topology: devices[0].descriptor.bars[0].size: 1152921504606847000 is not an integer (use a bigint above 2^53)');
    // The same size as a bigint is fine.
    const ok = await resolveTopology({ devices: [{ bdf: '00:00.0', descriptor: { ...NO_BARS, bars: [{ index: 0, kind: 'mem64', size: 2n ** 60n }] } }] });
    expect(ok.functions).toHaveLength(1);
  });
});

describe('trace readers', () => {
  test(`a line still incomplete past ${MAX_LINE_CHARS} characters is refused naming the line, by every line format`, () => {
    const long = 'x'.repeat(MAX_LINE_CHARS + 1);
    for (const make of [() => new TextTraceReader(), () => new QtestReader(), () => new KvmTraceReader()]) {
      const reader = make();
      expect(reader.push('# first line\n')).toEqual([]);
      let error: unknown;
      try {
        reader.push(long);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TraceFormatError);
      expect((error as TraceFormatError).message).toBe(`trace:2: line: line 2 is longer than ${MAX_LINE_CHARS} characters`);
    }
    // Exactly the cap, then the rest of the line in the next chunk: read (a comment here).
    const reader = new TextTraceReader();
    expect(reader.push(`#${'x'.repeat(MAX_LINE_CHARS - 1)}`)).toEqual([]);
    expect(reader.push('\nR io 0x80 1\n')).toHaveLength(1);
  });

  test(`qtest guest-RAM commands above ${MAX_QTEST_BUFFER} bytes are refused naming the line and field`, () => {
    for (const cmd of [`read 0x0 ${MAX_QTEST_BUFFER + 1}`, `memset 0x0 ${MAX_QTEST_BUFFER + 1} 0x00`, `write 0x0 0x1000001 0x00`, `b64write 0x0 ${MAX_QTEST_BUFFER + 1} AA==`]) {
      let error: unknown;
      try {
        readAll(new QtestReader({ source: 'q' }), `outb 0x80 1\n${cmd}\n`);
      } catch (e) {
        error = e;
      }
      expect(error, cmd).toBeInstanceOf(TraceFormatError);
      expect((error as TraceFormatError).message, cmd).toBe(`q:2: size: ${MAX_QTEST_BUFFER + 1} is above ${MAX_QTEST_BUFFER}`);
    }
    const [, e] = readAll(new QtestReader(), `outb 0x80 1\nmemset 0x0 ${MAX_QTEST_BUFFER} 0x5a\n`);
    expect(e.op === 'memwrite' && e.data.length).toBe(MAX_QTEST_BUFFER);
  });

  test('a kvm_pio string read expands to at most a page of reads: a huge count is refused, not expanded', async () => {
    // `count N` turns into N read records. KVM's string I/O moves at most one page per exit
    // (count x size <= 4096), so a larger count is not a trace KVM wrote. The line below would
    // otherwise make 2^32 - 1 records: the reader runs in a worker with a small heap, so a reader
    // that expands it fails this test instead of taking the test process down.
    const bundle = join(ROOT, 'dist/index.js');
    expect(existsSync(bundle), 'dist/index.js (npm run build)').toBe(true);
    const line = ' qemu-1 [000] .... 1.000000: kvm_pio: pio_read at 0x60 size 1 count 4294967295 val 0x1 (...)\n';
    const outcome = await new Promise<string>((resolve) => {
      const worker = new Worker(`
        const { parentPort, workerData } = require('node:worker_threads');
        import(workerData.bundle).then(({ trace }) => {
          try {
            const records = trace.readAll(new trace.KvmTraceReader(), workerData.line);
            parentPort.postMessage('read ' + records.length + ' records');
          } catch (e) {
            parentPort.postMessage(e.name + ': ' + e.message);
          }
        });
      `, { eval: true, workerData: { bundle: pathToFileURL(bundle).href, line }, resourceLimits: { maxOldGenerationSizeMb: 96 } });
      const timer = setTimeout(() => { void worker.terminate(); resolve('still expanding after 20 s'); }, 20_000);
      worker.on('message', (m: string) => { clearTimeout(timer); resolve(m); void worker.terminate(); });
      worker.on('error', (e) => { clearTimeout(timer); resolve(`worker died: ${e.message}`); });
    });
    expect(outcome).toMatch(/^TraceFormatError: trace:1: count: /);
  }, 30_000);
});
