// DeviceContext.watchConfig, on both backends, through a device model an embedder attaches to a
// resolved topology: the window is checked (1..16 bytes inside the function's config space, a
// function to call), and the watcher is called once after each access that changed its bytes —
// bus.configWrite, CF8/CFC, ECAM, a batch replay (once, after the batch), a restore — and not for
// accesses that changed nothing it watches. Also DeviceContext.routeIntx's argument checks.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { DeviceBehaviour, DeviceContext } from '../../src/devices/index.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import { ArgumentError, TopologyError } from '../../src/errors.js';
import { resolveTopology } from '../../src/topology/index.js';
import { BACKENDS, cf8, ecam } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';
import { OP, records } from '../dispatch/helpers.js';

const DEV = '00:02.0';
const PATH = '0000:00:02.0';
const OTHER = '00:03.0';

/** Writable dwords at 0x60-0x6f, a read-only dword at 0x70 (0x11223344). */
const DESCRIPTOR: FunctionDescriptor = {
  vendorId: 0x1b36, deviceId: 0x00f0, classCode: 0xff0000,
  registers: [
    { offset: 0x60, width: 4, value: 0, writable: 0xffffffff },
    { offset: 0x64, width: 4, value: 0, writable: 0xffffffff },
    { offset: 0x68, width: 4, value: 0, writable: 0x0000ffff },
    { offset: 0x6c, width: 4, value: 0, writable: 0xffffffff },
    { offset: 0x70, width: 4, value: 0x11223344, writable: 0 },
  ],
};

/** A bus whose 00:02.0 runs `attach` (00:03.0 has the same registers and no behaviour). */
async function busWith(backend: Backend, attach: (ctx: DeviceContext) => void, descriptor = DESCRIPTOR): Promise<Bus> {
  const topology = await resolveTopology({ devices: [{ bdf: DEV, descriptor }, { bdf: OTHER, descriptor: DESCRIPTOR }, { bdf: '00:04.0', model: 'test-endpoint' }] });
  const behaviour: DeviceBehaviour = { attach(ctx) { attach(ctx); return {}; } };
  topology.functions.find((f) => f.path === PATH)!.behaviour = behaviour;
  return createBus({ backend, topology });
}

/** A bus with one watch on [offset, offset + length) of 00:02.0, counting its calls. */
async function watched(backend: Backend, offset: number, length: number): Promise<{ bus: Bus; calls: () => number; seen: number[][] }> {
  let n = 0;
  const seen: number[][] = [];
  let context: DeviceContext | undefined;
  const bus = await busWith(backend, (ctx) => {
    context = ctx;
    ctx.watchConfig(offset, length, () => {
      n++;
      seen.push(Array.from({ length }, (_, i) => context!.configRead(offset + i, 1)));
    });
  });
  return { bus, calls: () => n, seen };
}

describe.each(BACKENDS)('watchConfig: the window (%s)', (backend) => {
  const bad: [string, number, number][] = [
    ['length 0', 0x60, 0],
    ['length 17', 0x60, 17],
    ['a negative length', 0x60, -1],
    ['a fractional length', 0x60, 1.5],
    ['a negative offset', -1, 4],
    ['a fractional offset', 0x60 + 0.5, 4],
    ['past the end of a 256-byte space', 0xf8, 16],
    ['starting past the end', 0x100, 1],
    ['NaN', Number.NaN, 4],
  ];

  it.each(bad)('%s is refused: the model fails to attach and createBus names the function', async (_name, offset, length) => {
    const made = busWith(backend, (ctx) => ctx.watchConfig(offset, length, () => {}));
    await expect(made).rejects.toBeInstanceOf(TopologyError);
    await expect(busWith(backend, (ctx) => ctx.watchConfig(offset, length, () => {}))).rejects.toThrow(
      /0000:00:02\.0: the device model failed to attach: watchConfig\(.*\): 1\.\.16 bytes inside the function's 256-byte config space/,
    );
  });

  it('an onChange that is not a function is refused', async () => {
    await expect(busWith(backend, (ctx) => ctx.watchConfig(0x60, 4, 5 as unknown as () => void))).rejects.toThrow(/onChange must be a function/);
  });

  it('1 and 16 bytes, the last byte of the space, and extended config space of a PCIe function are accepted', async () => {
    await expect(busWith(backend, (ctx) => {
      ctx.watchConfig(0x60, 1, () => {});
      ctx.watchConfig(0x60, 16, () => {});
      ctx.watchConfig(0xff, 1, () => {});
      ctx.watchConfig(0xf0, 16, () => {});
    })).resolves.toBeDefined();
    const pcie: FunctionDescriptor = { ...DESCRIPTOR, registers: [], capabilities: [{ id: 'pcie', portType: 'endpoint' }] };
    await expect(busWith(backend, (ctx) => ctx.watchConfig(0xff0, 16, () => {}), pcie)).resolves.toBeDefined();
    await expect(busWith(backend, (ctx) => ctx.watchConfig(0xff8, 16, () => {}), pcie)).rejects.toThrow(/4096-byte config space/);
  });

  it('a watch added after attach is refused with an ArgumentError at the call', async () => {
    let context: DeviceContext | undefined;
    await busWith(backend, (ctx) => { context = ctx; });
    expect(() => context!.watchConfig(0x60, 0, () => {})).toThrow(ArgumentError);
    expect(() => context!.watchConfig(0x60, 4, () => {})).not.toThrow();
  });
});

describe.each(BACKENDS)('watchConfig: when the watcher is called (%s)', (backend) => {
  it('bus.configWrite that changes a watched byte: once, after the bytes are in place', async () => {
    const { bus, calls, seen } = await watched(backend, 0x60, 8);
    bus.configWrite(DEV, 0x64, 4, 0x04030201);
    expect(calls()).toBe(1);
    expect(seen).toEqual([[0, 0, 0, 0, 1, 2, 3, 4]]);
    bus.configWrite(DEV, 0x67, 1, 0x99);
    expect(calls()).toBe(2);
  });

  it('not for writes that change nothing it watches: same value, read-only bits, bytes beside it, another function, reads', async () => {
    const { bus, calls } = await watched(backend, 0x64, 8); // 0x64-0x6b; 0x6a-0x6b read-only
    bus.configWrite(DEV, 0x64, 4, 0);
    bus.configWrite(DEV, 0x6a, 2, 0xffff);
    bus.configWrite(DEV, 0x60, 4, 0xffffffff);
    bus.configWrite(DEV, 0x6c, 4, 0xffffffff);
    bus.configWrite(OTHER, 0x64, 4, 0xffffffff);
    bus.configRead(DEV, 0x64, 4);
    bus.ioWrite(0xcf8, 4, cf8(0, 2, 0, 0x64));
    bus.ioRead(0xcfc, 4);
    expect(calls()).toBe(0);
    bus.configWrite(DEV, 0x6b, 1, 0xff); // read-only byte next to a writable one in the same register
    bus.configWrite(DEV, 0x68, 4, 0xffff0000); // only read-only bits set
    expect(calls()).toBe(0);
    bus.configWrite(DEV, 0x68, 4, 0xffff0001);
    expect(calls()).toBe(1);
  });

  it('CF8/CFC byte, word and dword writes; a CF8 write alone does nothing', async () => {
    const { bus, calls } = await watched(backend, 0x60, 4);
    bus.ioWrite(0xcf8, 4, cf8(0, 2, 0, 0x60));
    expect(calls()).toBe(0);
    bus.ioWrite(0xcfd, 1, 0x12);
    expect(calls()).toBe(1);
    bus.ioWrite(0xcfe, 2, 0x3456);
    expect(calls()).toBe(2);
    bus.ioWrite(0xcfc, 4, 0xaabbccdd);
    expect(calls()).toBe(3);
    expect(bus.configRead(DEV, 0x60, 4)).toBe(0xaabbccdd);
    // A disabled CONFIG_ADDRESS writes nothing.
    bus.ioWrite(0xcf8, 4, cf8(0, 2, 0, 0x60, false));
    bus.ioWrite(0xcfc, 4, 0);
    expect(calls()).toBe(3);
  });

  it('ECAM writes of 1, 2, 4 and 8 bytes', async () => {
    const { bus, calls } = await watched(backend, 0x60, 16);
    bus.mmioWrite(ecam(0, 2, 0, 0x61), 1, 1);
    bus.mmioWrite(ecam(0, 2, 0, 0x62), 2, 2);
    bus.mmioWrite(ecam(0, 2, 0, 0x64), 4, 3);
    bus.mmioWrite(ecam(0, 2, 0, 0x68), 8, 0x0000000500000004n);
    expect(calls()).toBe(4);
    expect(bus.configRead(DEV, 0x68, 4)).toBe(4);
    expect(bus.configRead(DEV, 0x6c, 4)).toBe(5);
  });

  it('a batch replay: once after the batch, however many records changed the bytes; not for a batch that changed none', async () => {
    const { bus, calls, seen } = await watched(backend, 0x60, 4);
    bus.replay(records([
      { op: OP.IO_WRITE, size: 4, address: 0xcf8, value: cf8(0, 2, 0, 0x60) },
      { op: OP.IO_WRITE, size: 1, address: 0xcfc, value: 1 },
      { op: OP.IO_WRITE, size: 1, address: 0xcfd, value: 2 },
      { op: OP.MMIO_WRITE, size: 2, address: ecam(0, 2, 0, 0x62), value: 0x0403 },
    ]));
    expect(calls()).toBe(1);
    expect(seen).toEqual([[1, 2, 3, 4]]);
    bus.replay(records([
      { op: OP.MMIO_WRITE, size: 4, address: ecam(0, 2, 0, 0x64), value: 7 },
      { op: OP.MMIO_READ, size: 4, address: ecam(0, 2, 0, 0x60), value: 0 },
    ]));
    expect(calls()).toBe(1);
    // A batch that changes the bytes and changes them back is not a change.
    bus.replay(records([
      { op: OP.MMIO_WRITE, size: 4, address: ecam(0, 2, 0, 0x60), value: 0 },
      { op: OP.MMIO_WRITE, size: 4, address: ecam(0, 2, 0, 0x60), value: 0x04030201 },
    ]));
    expect(calls()).toBe(1);
  });

  it('a restore calls every watcher once, changed or not, with the restored bytes in place', async () => {
    const a = await watched(backend, 0x60, 4);
    a.bus.configWrite(DEV, 0x60, 4, 0x0a0b0c0d);
    const blob = a.bus.snapshot();
    const b = await watched(backend, 0x60, 4);
    b.bus.restore(blob);
    expect(b.calls()).toBe(1);
    expect(b.seen).toEqual([[0x0d, 0x0c, 0x0b, 0x0a]]);
    b.bus.restore(blob);
    expect(b.calls()).toBe(2);
    // The watcher's view was resynchronised: writing the same value again is no change.
    b.bus.configWrite(DEV, 0x60, 4, 0x0a0b0c0d);
    expect(b.calls()).toBe(2);
  });

  it('several watchers, overlapping windows: each is called for its own bytes only', async () => {
    const log: string[] = [];
    const bus = await busWith(backend, (ctx) => {
      ctx.watchConfig(0x60, 4, () => log.push('a'));
      ctx.watchConfig(0x62, 4, () => log.push('b'));
      ctx.watchConfig(0x6c, 1, () => log.push('c'));
    });
    bus.configWrite(DEV, 0x60, 1, 1);
    expect(log).toEqual(['a']);
    bus.configWrite(DEV, 0x63, 1, 1);
    expect(log).toEqual(['a', 'a', 'b']);
    bus.configWrite(DEV, 0x64, 4, 0x01010101);
    expect(log).toEqual(['a', 'a', 'b', 'b']);
    bus.configWrite(DEV, 0x6c, 4, 0x01010101);
    expect(log).toEqual(['a', 'a', 'b', 'b', 'c']);
  });

  it('a watcher that writes config space itself does not recurse, and is not called again late for its own write', async () => {
    let bus: Bus | undefined;
    let n = 0;
    bus = await busWith(backend, (ctx) => ctx.watchConfig(0x60, 4, () => {
      n++;
      // Mirrors byte 0x60 into 0x61 (inside its own window) and into 0x6c (outside it).
      const v = ctx.configRead(0x60, 1);
      bus!.configWrite(DEV, 0x61, 1, v);
      bus!.configWrite(DEV, 0x6c, 1, v);
    }));
    bus.configWrite(DEV, 0x60, 1, 5);
    expect(bus.configRead(DEV, 0x60, 4)).toBe(0x0505);
    expect(bus.configRead(DEV, 0x6c, 1)).toBe(5);
    // Once for the write, once more at once for its own write to 0x61 (which then changes nothing).
    expect(n).toBe(2);
    // An unrelated access afterwards must not deliver a stale change.
    bus.configWrite(OTHER, 0x60, 4, 0x12345678);
    bus.configWrite(DEV, 0x70, 4, 0);
    expect(n).toBe(2);
  });

  it('a watcher that changes its own bytes every time it is called cannot hang an access', async () => {
    let bus: Bus | undefined;
    let n = 0;
    bus = await busWith(backend, (ctx) => ctx.watchConfig(0x64, 1, () => {
      n++;
      bus!.configWrite(DEV, 0x64, 1, (ctx.configRead(0x64, 1) + 1) & 0xff);
    }));
    bus.configWrite(DEV, 0x64, 1, 1);
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(16);
  });
});

describe.each(BACKENDS)('routeIntx (%s)', (backend) => {
  it('routes and unroutes root-bus entries of the function\'s segment; refuses entries out of range', async () => {
    let context: DeviceContext | undefined;
    const bus = await busWith(backend, (ctx) => { context = ctx; });
    context!.routeIntx(4, 1, 17);
    expect(bus.interrupts.routeOf(0, 4, 1)).toBe(17);
    context!.routeIntx(4, 1, null);
    expect(bus.interrupts.routeOf(0, 4, 1)).toBeNull();
    for (const [device, pin, gsi] of [[32, 1, 5], [4, 0, 5], [4, 5, 5], [4, 1, 1024], [4, 1, -1]] as const) {
      expect(() => context!.routeIntx(device, pin, gsi), `${device}/${pin} -> ${gsi}`).toThrow(ArgumentError);
    }
  });
});

