// bus.snapshot() / bus.restore(): a replay stopped half-way, snapshotted, restored into a fresh bus
// of the other backend (and the same one) and finished, ends exactly where an uninterrupted run
// ends — every access verified, and the final state (config spaces, stats, regions, DMA, the
// guest RAM the devices wrote, every device model's state: virtio queues, the rng's generator,
// the disk, the test device) equal; bad blobs are refused with the bus unchanged.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { BackendKind } from '../../src/core/backend.js';
import { TraceReplayer } from '../../src/replay/index.js';
import { defaultTrace } from '../../src/scenario/index.js';
import { synthesizeTrace } from '../../src/trace-synth/index.js';
import type { TraceEvent } from '../../src/trace/index.js';
import { SnapshotError, encodePlain, readContainer } from '../../src/snapshot/index.js';
import type { PlainValue } from '../../src/snapshot/index.js';
import { defaultTopology } from '../../src/topology/index.js';
import { firmwareDefaults, runFirmware } from '../../src/firmware/index.js';
import { TestDeviceReg } from '../../src/devices/test-device.js';

/** The synthesized traces keep their guest memory in the first 512 KiB (SYNTH_RAM): 1 MiB of replay RAM holds it. */
const OPTIONS = { verify: true, ramBytes: 1 << 20 };

const PAIRS: [BackendKind, BackendKind][] = [['wasm', 'ts'], ['ts', 'wasm'], ['wasm', 'wasm'], ['ts', 'ts']];

/**
 * The snapshot body without the backend that wrote it, encoded again: two backends' snapshots
 * compare byte for byte (comparing bytes, not objects: the body holds megabytes of RAM and disk).
 */
function body(bus: Bus): Buffer {
  const b = readContainer(bus.snapshot()) as { [k: string]: PlainValue };
  delete b.backend;
  return Buffer.from(encodePlain(b));
}

/** Everything a caller can observe of a bus, for comparing two of them. */
function observed(bus: Bus) {
  return { dump: bus.dump(), stats: bus.stats(), regions: bus.regions(), dma: bus.dma.stats(), body: body(bus) };
}

/** Two buses' observations are equal: the small parts as objects, the snapshot body as bytes. */
function expectSame(a: ReturnType<typeof observed>, b: ReturnType<typeof observed>): void {
  expect({ ...a, body: undefined }).toEqual({ ...b, body: undefined });
  expect(a.body.length).toBe(b.body.length);
  expect(a.body.equals(b.body), 'the snapshot bodies are byte-identical').toBe(true);
}

async function traces(): Promise<[string, TraceEvent[]][]> {
  return [
    ['the default trace (boot + virtio-rng/virtio-blk requests)', await defaultTrace()],
    ['a random trace (boot + 3000 random accesses)', await synthesizeTrace({ profile: 'random', count: 3000, seed: 7 })],
  ];
}

describe('snapshot and restore across backends', async () => {
  for (const [name, events] of await traces()) {
    it.each(PAIRS)(`${name}: half on %s, the rest on %s, equals an uninterrupted run`, async (first, second) => {
      const whole = await createBus({ backend: second });
      const uninterrupted = new TraceReplayer(whole, OPTIONS);
      uninterrupted.push(events);
      const u = uninterrupted.finish();
      expect(u.mismatches).toBe(0);

      const half = Math.floor(events.length / 2);
      const a = await createBus({ backend: first });
      const r1 = new TraceReplayer(a, OPTIONS);
      r1.push(events.slice(0, half));
      const s1 = r1.finish();
      const blob = a.snapshot();

      const b = await createBus({ backend: second });
      // The replayer's guest RAM is the embedder's: it is added before the restore fills it.
      const r2 = new TraceReplayer(b, OPTIONS);
      b.restore(blob);
      r2.push(events.slice(half));
      const s2 = r2.finish();
      expect(s1.mismatches + s2.mismatches).toBe(0);
      expect(s1.records + s2.records).toBe(u.records);
      expect(s1.interrupts.messages + s2.interrupts.messages).toBe(u.interrupts.messages);
      expectSame(observed(b), observed(whole));
    }, 60_000);
  }
});

describe('embedder RAM and device models', () => {
  /** A bus whose test device (00:08.0) has copied its buffer into the embedder's RAM by DMA. */
  async function worked(backend: BackendKind) {
    const bus = await createBus({ backend });
    runFirmware(bus, firmwareDefaults(bus));
    const ram = new Uint8Array(1 << 20);
    bus.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    const bar0 = BigInt((bus.configRead('00:08.0', 0x10, 4) & ~0xf) >>> 0);
    const reg = (r: number) => bar0 + BigInt(r);
    for (let i = 0; i < 64; i += 4) bus.mmioWrite(reg(TestDeviceReg.BUFFER + i), 4, 0xa5a50000 + i);
    bus.mmioWrite(reg(TestDeviceReg.SCRATCH), 4, 0x5c5c5c5c);
    bus.mmioWrite(reg(TestDeviceReg.DMA_SRC), 4, 0);          // from buffer offset 0
    bus.mmioWrite(reg(TestDeviceReg.DMA_DST), 4, 0x8000);     // to RAM 0x8000
    bus.mmioWrite(reg(TestDeviceReg.DMA_LEN), 4, 64);
    bus.mmioWrite(reg(TestDeviceReg.DMA_CMD), 4, 1 | 2);      // START | TO_RAM
    return { bus, ram, reg };
  }

  it.each(PAIRS)('the RAM the device wrote, its registers and buffer move from %s to %s', async (first, second) => {
    const a = await worked(first);
    expect(a.ram[0x8000]).toBe(0x00);
    expect(a.ram[0x8002]).toBe(0xa5);
    const b = await createBus({ backend: second });
    const ram = new Uint8Array(1 << 20);
    b.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    b.restore(a.bus.snapshot());
    expect(Buffer.from(ram).equals(Buffer.from(a.ram))).toBe(true);
    for (const r of [TestDeviceReg.SCRATCH, TestDeviceReg.DMA_STATUS, TestDeviceReg.DMA_LEN, TestDeviceReg.DMA_DST, TestDeviceReg.BUFFER + 8]) {
      expect(b.mmioRead(a.reg(r), 4), `register 0x${r.toString(16)}`).toBe(a.bus.mmioRead(a.reg(r), 4));
    }
    expect(b.mmioRead(a.reg(TestDeviceReg.DMA_STATUS), 4)).not.toBe(0);
  });

  it('with externalRam: false the embedder keeps its own RAM; a missing RAM region is named', async () => {
    const a = await worked('wasm');
    const b = await createBus({ backend: 'ts' });
    const ram = new Uint8Array(1 << 20).fill(0x77);
    b.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    b.restore(a.bus.snapshot({ externalRam: false }));
    expect(ram.every((x) => x === 0x77)).toBe(true);
    const c = await createBus({ backend: 'ts' });
    expect(() => c.restore(a.bus.snapshot())).toThrow(/^snapshot: body\.externalRam\[0\]\.index: RAM region 0 is the embedder's in the snapshot; add the same RAM/);
  });
});

describe('bad blobs leave the bus as it was', () => {
  it('truncated, bit-flipped, future-version, foreign and other-topology blobs are refused', async () => {
    const src = await createBus({ backend: 'wasm' });
    src.configWrite('00:01.0', 0x10, 4, 0xfe000000);
    src.configWrite('00:01.0', 0x04, 2, 0x0006);
    const blob = src.snapshot();

    const target = await createBus({ backend: 'ts' });
    target.configWrite('00:03.0', 0x10, 4, 0xfd000000);
    const before = observed(target);
    const expectRefused = (bad: Uint8Array, message: RegExp) => {
      expect(() => target.restore(bad)).toThrow(SnapshotError);
      expect(() => target.restore(bad)).toThrow(message);
      expectSame(observed(target), before);
    };
    expectRefused(blob.subarray(0, blob.length - 1), /^snapshot: body: truncated/);
    const flipped = blob.slice();
    flipped[blob.length >> 1] ^= 0x10;
    expectRefused(flipped, /^snapshot: body: corrupted: CRC-32/);
    const future = blob.slice();
    new DataView(future.buffer).setUint32(8, 99, true);
    expectRefused(future, /^snapshot: header\.version: format version 99/);

    const other = await createBus({ backend: 'wasm', topology: { ...defaultTopology, name: 'fewer', devices: defaultTopology.devices.slice(0, 3) } });
    expectRefused(other.snapshot(), /^snapshot: body\.topology: the snapshot is of topology "fewer"/);
  });
});
