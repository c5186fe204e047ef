// Guest RAM the embedder keeps in a growable WebAssembly.Memory (as v86 does), on both backends:
// `RamOptions.buffer` as a function, asked for the bytes before every transfer, so DMA keeps
// working after memory.grow() detached the old views and writes land in the new buffer; and
// `RamOptions.onWrite`, told which bytes of that region a DMA write changed (single transfers and
// scatter-gather, with the region's own offsets), never for reads, faults or the core's own RAM.
// And addRam's refusals of the new options.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError } from '../../src/errors.js';
import { runFirmware } from '../../src/firmware/index.js';
import type { RamOptions } from '../../src/dma/types.js';
import { TestDeviceReg } from '../../src/devices/test-device.js';
import { BACKENDS } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

const KiB = 1024;
const PAGE = 4 * KiB;
const WASM_PAGE = 64 * KiB;
const EP = '00:01.0';

/** Where the emulator's RAM starts inside its Memory (v86 keeps other things before it). */
const RAM_OFFSET = 0x1000;
/** The external region: guest-physical [BASE, BASE + SIZE). */
const BASE = 0x100000;
const SIZE = 64 * KiB;

async function dmaBus(backend: Backend): Promise<Bus> {
  const bus = await createBus({ backend });
  bus.configWrite(EP, 0x04, 2, 0x0004); // Bus Master Enable
  return bus;
}

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + 1) & 0xff);
}

/** A growable Memory whose RAM view is asked for through a function that counts its calls. */
function growable(): { memory: WebAssembly.Memory; ram: () => Uint8Array; calls: () => number } {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
  let n = 0;
  return {
    memory,
    ram: () => {
      n++;
      return new Uint8Array(memory.buffer, RAM_OFFSET, SIZE);
    },
    calls: () => n,
  };
}

describe.each(BACKENDS)('RAM given as a function (%s)', (backend) => {
  it('is asked for the bytes at addRam and again before every transfer', async () => {
    const bus = await dmaBus(backend);
    const g = growable();
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: g.ram });
    expect(g.calls()).toBe(1);
    const before = g.calls();
    expect(bus.dma.write(EP, BASE + 0x10, bytes(8, 1))).toBe('ok');
    expect(g.calls()).toBeGreaterThan(before);
    const mid = g.calls();
    expect(bus.dma.read(EP, BASE + 0x10, new Uint8Array(8))).toBe('ok');
    expect(g.calls()).toBeGreaterThan(mid);
  });

  it('after memory.grow() detaches the old view, writes land in the new buffer and reads see it', async () => {
    const bus = await dmaBus(backend);
    const g = growable();
    const index = bus.dma.addRam({ base: BASE, size: SIZE, buffer: g.ram });
    const first = bytes(256, 1);
    expect(bus.dma.write(EP, BASE + 0x200, first)).toBe('ok');
    const oldBuffer = g.memory.buffer;
    expect(new Uint8Array(oldBuffer, RAM_OFFSET + 0x200, 256)).toEqual(first);

    g.memory.grow(2);
    expect(oldBuffer.byteLength, 'the old buffer is detached').toBe(0);
    expect(g.memory.buffer.byteLength).toBe(4 * WASM_PAGE);

    // What was written before the growth is still there, read through the new buffer.
    const back = new Uint8Array(256);
    expect(bus.dma.read(EP, BASE + 0x200, back)).toBe('ok');
    expect(back).toEqual(first);

    // A write after the growth lands in the new buffer, at the RAM's offset inside the Memory.
    const second = bytes(300, 2);
    expect(bus.dma.write(EP, BASE + SIZE - 300, second)).toBe('ok');
    expect(new Uint8Array(g.memory.buffer, RAM_OFFSET + SIZE - 300, 300)).toEqual(second);
    // And nothing outside the RAM's window of the Memory was touched.
    expect(new Uint8Array(g.memory.buffer, 0, RAM_OFFSET).every((b) => b === 0)).toBe(true);
    expect(new Uint8Array(g.memory.buffer, RAM_OFFSET + SIZE).every((b) => b === 0)).toBe(true);

    // The embedder writes guest RAM in the new buffer; a device reads it.
    new Uint8Array(g.memory.buffer, RAM_OFFSET + 0x1000, 4).set([1, 2, 3, 4]);
    const seen = new Uint8Array(4);
    expect(bus.dma.read(EP, BASE + 0x1000, seen)).toBe('ok');
    expect(Array.from(seen)).toEqual([1, 2, 3, 4]);

    // bus.dma.ram() hands out the current view, not the detached one.
    expect(bus.dma.ram(index).buffer).toBe(g.memory.buffer);
    expect(bus.dma.ram(index).length).toBe(SIZE);
  });

  it('scatter-gather works across a growth too, in both directions', async () => {
    const bus = await dmaBus(backend);
    const g = growable();
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: g.ram });
    g.memory.grow(1);
    const list = [{ iova: BASE + 0x100, length: 16 }, { iova: BASE + 0x8000, length: 32 }, { iova: BASE + 0x40, length: 8 }];
    const data = bytes(56, 3);
    expect(bus.dma.writeSg(EP, list, data)).toBe('ok');
    const view = new Uint8Array(g.memory.buffer, RAM_OFFSET, SIZE);
    expect(view.subarray(0x100, 0x110)).toEqual(data.subarray(0, 16));
    expect(view.subarray(0x8000, 0x8020)).toEqual(data.subarray(16, 48));
    expect(view.subarray(0x40, 0x48)).toEqual(data.subarray(48, 56));
    g.memory.grow(1);
    const back = new Uint8Array(56);
    expect(bus.dma.readSg(EP, list, back)).toBe('ok');
    expect(back).toEqual(data);
  });

  it('a device model\'s DMA (the test device\'s engine) writes into the grown Memory', async () => {
    const bus = await createBus({ backend });
    runFirmware(bus);
    const g = growable();
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: g.ram });
    const td = '00:08.0';
    const bar0 = (bus.configRead(td, 0x10, 4) & ~0xf) >>> 0;
    bus.configWrite(td, 0x04, 2, bus.configRead(td, 0x04, 2) | 0x6);
    for (let i = 0; i < 16; i += 4) bus.mmioWrite(bar0 + 0x1000 + i, 4, 0xa0b0c0d0 + i);
    g.memory.grow(3);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_SRC, 8, 0n);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_DST, 8, BigInt(BASE + 0x300));
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_LEN, 4, 16);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_CMD, 4, 1 | 2); // START, buffer -> guest memory
    expect(bus.mmioRead(bar0 + TestDeviceReg.DMA_STATUS, 4)).toBe(1);
    const dv = new DataView(g.memory.buffer, RAM_OFFSET + 0x300, 16);
    for (let i = 0; i < 16; i += 4) expect(dv.getUint32(i, true)).toBe(0xa0b0c0d0 + i);
  });

  it('a snapshot taken after a growth carries the current bytes, and a restore writes into the current buffer', async () => {
    const a = await dmaBus(backend);
    const ga = growable();
    a.dma.addRam({ base: BASE, size: SIZE, buffer: ga.ram });
    ga.memory.grow(1);
    a.dma.write(EP, BASE + 0x20, bytes(64, 4));
    const blob = a.snapshot();

    const b = await dmaBus(backend);
    const gb = growable();
    b.dma.addRam({ base: BASE, size: SIZE, buffer: gb.ram });
    gb.memory.grow(2);
    b.restore(blob);
    expect(new Uint8Array(gb.memory.buffer, RAM_OFFSET + 0x20, 64)).toEqual(bytes(64, 4));
  });
});

describe.each(BACKENDS)('onWrite (%s)', (backend) => {
  /** Internal [0, 64K) | external A [BASE, BASE + 64K) with onWrite | external B right after A with onWrite. */
  async function setup(o: { bFunction?: boolean } = {}) {
    const bus = await dmaBus(backend);
    const calls: { region: string; offset: number; length: number }[] = [];
    const a = new Uint8Array(SIZE);
    const b = new Uint8Array(SIZE);
    bus.dma.addRam({ base: 0, size: 64 * KiB });
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: a, onWrite: (offset, length) => calls.push({ region: 'A', offset, length }) });
    bus.dma.addRam({
      base: BASE + SIZE, size: SIZE, buffer: o.bFunction ? () => b : b,
      onWrite: (offset, length) => calls.push({ region: 'B', offset, length }),
    });
    return { bus, calls, a, b };
  }

  it('a write tells the region\'s owner the offset (from the region\'s base) and length it changed', async () => {
    const { bus, calls, a } = await setup();
    expect(bus.dma.write(EP, BASE + 0x1234, bytes(100, 1))).toBe('ok');
    expect(calls).toEqual([{ region: 'A', offset: 0x1234, length: 100 }]);
    expect(a.subarray(0x1234, 0x1234 + 100)).toEqual(bytes(100, 1));
  });

  it('is called after the bytes are in place (a listener can read them)', async () => {
    const bus = await dmaBus(backend);
    const ram = new Uint8Array(SIZE);
    const seen: number[][] = [];
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: ram, onWrite: (offset, length) => seen.push(Array.from(ram.subarray(offset, offset + length))) });
    bus.dma.write(EP, BASE + 8, Uint8Array.of(9, 8, 7));
    expect(seen).toEqual([[9, 8, 7]]);
  });

  it('a write across two external regions tells each owner its own part; the core\'s RAM has no listener', async () => {
    const { bus, calls } = await setup({ bFunction: true });
    expect(bus.dma.write(EP, BASE + SIZE - 10, bytes(30, 2))).toBe('ok');
    expect(calls).toEqual([{ region: 'A', offset: SIZE - 10, length: 10 }, { region: 'B', offset: 0, length: 20 }]);
    calls.length = 0;
    // A write into the core's RAM only, and one spanning core RAM and nothing else.
    expect(bus.dma.write(EP, 0x100, bytes(64, 3))).toBe('ok');
    expect(calls).toEqual([]);
  });

  it('a write spanning the core\'s RAM and external RAM reports only the external part', async () => {
    const bus = await dmaBus(backend);
    const calls: [number, number][] = [];
    bus.dma.addRam({ base: 0, size: BASE });
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: new Uint8Array(SIZE), onWrite: (o, n) => calls.push([o, n]) });
    expect(bus.dma.write(EP, BASE - 24, bytes(64, 4))).toBe('ok');
    expect(calls).toEqual([[0, 40]]);
  });

  it('writeSg tells the owner every element it wrote, with region offsets', async () => {
    const { bus, calls, a, b } = await setup();
    const list = [
      { iova: BASE + 0x10, length: 4 },
      { iova: 0x800, length: 8 }, // the core's RAM: no call
      { iova: BASE + SIZE + 0x100, length: 16 },
      { iova: BASE + SIZE - 2, length: 6 }, // across A and B
      { iova: BASE + 0x20, length: 0 },
    ];
    const data = bytes(34, 5);
    expect(bus.dma.writeSg(EP, list, data)).toBe('ok');
    // The empty element moves nothing and is not reported.
    expect(calls).toEqual([
      { region: 'A', offset: 0x10, length: 4 },
      { region: 'B', offset: 0x100, length: 16 },
      { region: 'A', offset: SIZE - 2, length: 2 },
      { region: 'B', offset: 0, length: 4 },
    ]);
    expect(a.subarray(0x10, 0x14)).toEqual(data.subarray(0, 4));
    expect(b.subarray(0x100, 0x110)).toEqual(data.subarray(12, 28));
  });

  it('adjacent scatter-gather elements are reported as the bytes they cover, nothing more or less', async () => {
    const { bus, calls } = await setup();
    expect(bus.dma.writeSg(EP, [{ iova: BASE + 0x20, length: 4 }, { iova: BASE + 0x24, length: 4 }, { iova: BASE + 0x40, length: 2 }], bytes(10, 6))).toBe('ok');
    const covered = new Set<number>();
    for (const c of calls) for (let k = 0; k < c.length; k++) covered.add(c.offset + k);
    expect([...covered].sort((x, y) => x - y)).toEqual([0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x40, 0x41]);
    expect(calls.reduce((n, c) => n + c.length, 0), 'no byte reported twice').toBe(10);
  });

  it('is not called for reads, readSg, refused transfers or zero-length writes', async () => {
    const { bus, calls } = await setup();
    expect(bus.dma.read(EP, BASE, new Uint8Array(64))).toBe('ok');
    expect(bus.dma.readSg(EP, [{ iova: BASE + 4, length: 4 }, { iova: BASE + SIZE, length: 4 }], new Uint8Array(8))).toBe('ok');
    expect(bus.dma.write(EP, BASE + 3 * SIZE, bytes(4, 1)), 'outside RAM').toBe('outside-ram');
    expect(bus.dma.write(EP, BASE + 2 * SIZE - 2, bytes(4096, 1)), 'partly outside RAM (past B)').toBe('outside-ram');
    expect(bus.dma.writeSg(EP, [{ iova: BASE, length: 4 }, { iova: BASE + 5 * SIZE, length: 4 }], bytes(8, 1)), 'one element outside').toBe('outside-ram');
    bus.configWrite(EP, 0x04, 2, 0);
    expect(bus.dma.write(EP, BASE, bytes(4, 1))).toBe('bus-master-off');
    bus.configWrite(EP, 0x04, 2, 4);
    expect(bus.dma.write(EP, BASE, new Uint8Array(0))).toBe('ok');
    expect(calls).toEqual([]);
  });

  it('a device model\'s DMA (the test device\'s engine) is reported too', async () => {
    const bus = await createBus({ backend });
    runFirmware(bus);
    const calls: [number, number][] = [];
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: new Uint8Array(SIZE), onWrite: (o, n) => calls.push([o, n]) });
    const td = '00:08.0';
    const bar0 = (bus.configRead(td, 0x10, 4) & ~0xf) >>> 0;
    bus.configWrite(td, 0x04, 2, bus.configRead(td, 0x04, 2) | 0x6);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_SRC, 8, 0n);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_DST, 8, BigInt(BASE + 0x300));
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_LEN, 4, 0x40);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_CMD, 4, 1 | 2);
    expect(bus.mmioRead(bar0 + TestDeviceReg.DMA_STATUS, 4)).toBe(1);
    expect(calls).toEqual([[0x300, 0x40]]);
    // Guest memory -> buffer is a read: nothing more.
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_SRC, 8, BigInt(BASE));
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_DST, 8, 0n);
    bus.mmioWrite(bar0 + TestDeviceReg.DMA_CMD, 4, 1);
    expect(calls).toEqual([[0x300, 0x40]]);
  });

  it('stops with removeRam; a region added again at the index has only its own listener', async () => {
    const bus = await dmaBus(backend);
    const first: number[] = [];
    const second: number[] = [];
    let asked = 0;
    const index = bus.dma.addRam({ base: BASE, size: SIZE, buffer: () => { asked++; return new Uint8Array(SIZE); }, onWrite: (o) => first.push(o) });
    bus.dma.write(EP, BASE, bytes(4, 1));
    bus.dma.removeRam(index);
    const askedBefore = asked;
    const again = bus.dma.addRam({ base: BASE, size: SIZE, buffer: new Uint8Array(SIZE), onWrite: (o) => second.push(o) });
    bus.dma.write(EP, BASE + 8, bytes(4, 1));
    expect(first).toEqual([0]);
    expect(second).toEqual([8]);
    expect(asked, 'the removed region\'s function is not asked again').toBe(askedBefore);
    expect(again).toBeGreaterThanOrEqual(0);
  });
});

describe.each(BACKENDS)('addRam refuses the new options (%s)', (backend) => {
  const refusals: [string, (size: number) => RamOptions, RegExp][] = [
    ['onWrite without a buffer (RAM the core holds)', (size) => ({ base: BASE, size, onWrite: () => {} }), /onWrite.* needs? a buffer/],
    ['onWrite that is not a function', (size) => ({ base: BASE, size, buffer: new Uint8Array(size), onWrite: 5 as unknown as RamOptions['onWrite'] }), /onWrite must be a function/],
    ['a buffer function returning an ArrayBuffer', (size) => ({ base: BASE, size, buffer: (() => new ArrayBuffer(size)) as unknown as () => Uint8Array }), /must return a Uint8Array/],
    ['a buffer function returning undefined', (size) => ({ base: BASE, size, buffer: (() => undefined) as unknown as () => Uint8Array }), /must return a Uint8Array/],
    ['a buffer function returning a number', (size) => ({ base: BASE, size, buffer: (() => size) as unknown as () => Uint8Array }), /must return a Uint8Array/],
    ['a buffer function returning too few bytes', (size) => ({ base: BASE, size, buffer: () => new Uint8Array(size - 1) }), /fewer than size/],
  ];

  it.each(refusals)('%s: ArgumentError, and no region is added', async (_name, options, message) => {
    const bus = await dmaBus(backend);
    expect(() => bus.dma.addRam(options(SIZE))).toThrow(ArgumentError);
    expect(() => bus.dma.addRam(options(SIZE))).toThrow(message);
    // Nothing was added: the same range is still free, and DMA there is outside RAM.
    expect(bus.dma.write(EP, BASE, bytes(4, 1))).toBe('outside-ram');
    const ram = new Uint8Array(SIZE);
    bus.dma.addRam({ base: BASE, size: SIZE, buffer: ram });
    expect(bus.dma.write(EP, BASE, bytes(4, 1))).toBe('ok');
  });
});
