// When and how events reach the embedder, on both backends: synchronously to a sink after every
// access path that queued them (config, ECAM, 0xCF8/0xCFC, MSI-X MMIO, batch replay) and every
// service call; queued for poll() without a sink, with drops past 4,096 counted; a sink set later
// gets the backlog; device models and sinks calling back into the bus keep the order.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { piixGsi, RecordingSink } from '../../src/interrupts/index.js';
import type { InterruptEvent, InterruptSink } from '../../src/interrupts/index.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, CAP_MSI, CAP_MSIX, TABLE, capOffset, ecamAddress, mapBar0, msi64, msixDescriptor, records, sinkBus, writeEntry,
} from './helpers.js';

const EP = '00:01.0';
const EP_PATH = '0000:00:01.0';
const MX = '00:03.0';
const topology: Topology = {
  devices: [{ bdf: EP, model: 'test-endpoint' }, { bdf: MX, descriptor: msixDescriptor() }],
};

/** MSI on EP: address 0xFEE00000, data 0x40 | k, four vectors, enabled. */
function enableMsi(bus: import('../../src/bus.js').Bus): ReturnType<typeof msi64> {
  const r = msi64(capOffset(bus, EP, CAP_MSI));
  bus.configWrite(EP, r.addressLow, 4, 0xfee00000);
  bus.configWrite(EP, r.data, 2, 0x40);
  bus.configWrite(EP, r.control, 2, (2 << 4) | 1);
  return r;
}

const msg = (data: number, bdf = EP_PATH, address = 0xfee00000n): InterruptEvent => ({ kind: 'message', bdf, address, data });

describe.each(BACKENDS)('delivery on the %s backend', (backend) => {
  it('without a sink, events wait for poll(), typed, oldest first; the queue is then empty', async () => {
    const bus = await createBus({ backend, topology });
    enableMsi(bus);
    bus.interrupts.msi(EP, 1);
    bus.configWrite(EP, 0x04, 2, 0x0400); // no line change: EP is not asserting
    bus.configWrite(EP, 0x04, 2, 0);
    bus.interrupts.route(0, 3, 1, 33);
    bus.interrupts.intx(MX, true);
    bus.interrupts.msi(EP, 3);
    expect(bus.interrupts.poll()).toEqual([msg(0x41), { kind: 'line', gsi: 33, level: true }, msg(0x43)]);
    expect(bus.interrupts.poll()).toEqual([]);
    expect(bus.interrupts.deliver()).toBe(0);
    expect(bus.interrupts.sink).toBeUndefined();
  });

  it('past 4,096 queued events the newest are dropped and counted in stats().droppedIrqs', async () => {
    const bus = await createBus({ backend, topology });
    enableMsi(bus);
    expect(bus.stats().droppedIrqs).toBe(0);
    for (let i = 0; i < 4100; i++) bus.interrupts.msi(EP, i & 3);
    expect(bus.stats().droppedIrqs).toBe(4);
    const got = bus.interrupts.poll();
    expect(got).toHaveLength(4096);
    expect(got.slice(0, 5)).toEqual([msg(0x40), msg(0x41), msg(0x42), msg(0x43), msg(0x40)]);
    expect(got.at(-1)).toEqual(msg(0x43));
    bus.interrupts.msi(EP, 2);
    expect(bus.interrupts.poll()).toEqual([msg(0x42)]);
    expect(bus.stats().droppedIrqs).toBe(4);
  });

  it('a sink set later gets what waited, at once, then every event as it happens', async () => {
    const bus = await createBus({ backend, topology });
    enableMsi(bus);
    bus.interrupts.msi(EP, 0);
    bus.interrupts.intx(MX, true);
    const sink = new RecordingSink();
    bus.interrupts.setSink(sink);
    expect(bus.interrupts.sink).toBe(sink);
    expect(sink.events).toMatchObject([msg(0x40), { kind: 'line', gsi: piixGsi(3, 1), level: true }]);
    bus.interrupts.msi(EP, 1);
    expect(sink.events).toHaveLength(3);
    expect(bus.interrupts.poll()).toEqual([]);
    // Unset: back to queueing.
    bus.interrupts.setSink(undefined);
    bus.interrupts.msi(EP, 2);
    expect(sink.events).toHaveLength(3);
    expect(bus.interrupts.poll()).toEqual([msg(0x42)]);
  });

  it('config writes through ECAM and through 0xCF8/0xCFC deliver what they cause before they return', async () => {
    const { bus, sink } = await sinkBus(backend, topology);
    const r = msi64(capOffset(bus, EP, CAP_MSI));
    bus.configWrite(EP, r.addressLow, 4, 0xfee00000);
    bus.configWrite(EP, r.data, 2, 0x40);
    bus.configWrite(EP, r.control, 2, (2 << 4) | 1);
    bus.configWrite(EP, r.mask, 4, 0b11);
    bus.interrupts.msi(EP, 0);
    bus.interrupts.msi(EP, 1);
    expect(sink.events).toEqual([]);
    bus.mmioWrite(ecamAddress(0, 1, 0, r.mask), 4, 0b10); // ECAM
    expect(sink.events).toMatchObject([msg(0x40)]);
    bus.ioWrite(0xcf8, 4, (0x80000000 | (1 << 11) | r.mask) >>> 0); // CF8/CFC
    bus.ioWrite(0xcfc, 4, 0);
    expect(sink.events).toMatchObject([msg(0x40), msg(0x41)]);
    // Interrupt Disable through 0xCFD (a byte lane of Command's upper half).
    bus.interrupts.intx(EP, false);
    bus.configWrite(EP, r.control, 2, 0);
    bus.interrupts.intx(EP, true);
    sink.reset();
    bus.ioWrite(0xcf8, 4, (0x80000000 | (1 << 11) | 0x04) >>> 0);
    bus.ioWrite(0xcfd, 1, 0x04);
    expect(sink.events).toEqual([{ kind: 'line', gsi: piixGsi(1, 1), level: false }]);
  });

  it('bus.replay delivers what its records caused (ECAM config writes, MSI-X table writes) before it returns', async () => {
    const { bus, sink } = await sinkBus(backend, topology);
    mapBar0(bus, MX);
    const cap = capOffset(bus, MX, CAP_MSIX);
    writeEntry(bus, 0, { address: 0xfee00000, data: 0x50, masked: true });
    writeEntry(bus, 1, { address: 0xfee00000, data: 0x51, masked: true });
    bus.configWrite(MX, cap + 2, 2, 0x8000);
    bus.interrupts.msix(MX, 0);
    bus.interrupts.msix(MX, 1);
    expect(sink.events).toEqual([]);
    const result = bus.replay(records([
      { op: 2, size: 4, address: TABLE + 12, value: 0 },
      { op: 1, size: 4, address: TABLE + 12 },
      { op: 2, size: 2, address: ecamAddress(0, 3, 0, cap + 2), value: 0xc000 },
      { op: 2, size: 4, address: TABLE + 16 + 12, value: 0 },
      { op: 2, size: 2, address: ecamAddress(0, 3, 0, cap + 2), value: 0x8000 },
    ]));
    expect(Array.from(result.status)).toEqual([0, 0, 0, 0, 0]);
    expect(sink.events).toMatchObject([msg(0x50, '0000:00:03.0'), msg(0x51, '0000:00:03.0')]);
    // Without a sink the replay's events wait for poll().
    bus.interrupts.setSink(undefined);
    bus.interrupts.msix(MX, 1);
    bus.replay(records([{ op: 2, size: 4, address: TABLE + 16 + 12, value: 1 }]));
    bus.interrupts.msix(MX, 1);
    bus.replay(records([{ op: 2, size: 4, address: TABLE + 16 + 12, value: 0 }]));
    expect(bus.interrupts.poll()).toEqual([msg(0x51, '0000:00:03.0'), msg(0x51, '0000:00:03.0')]);
  });

  it('a device model raising an interrupt from its register write: the sink sees it before the guest write returns', async () => {
    const { bus, sink } = await sinkBus(backend, topology);
    enableMsi(bus);
    bus.configWrite(EP, 0x10, 4, 0xfe100000);
    bus.configWrite(EP, 0x04, 2, 0x0002);
    const seen: number[] = [];
    bus.setBarHandler(EP, 0, {
      read: () => 0,
      write: (offset, _size, value) => {
        if (offset === 0x10) expect(bus.interrupts.msi(EP, Number(value) & 3)).toBe('delivered');
        if (offset === 0x14) bus.interrupts.intx(EP, Number(value) !== 0);
        seen.push(sink.events.length);
      },
    });
    bus.mmioWrite(0xfe100010, 4, 2);
    expect(sink.events).toEqual([expect.objectContaining(msg(0x42))]);
    expect(seen).toEqual([1]);
    // MSI enabled: the pin is raised (Status) but the line stays low.
    bus.mmioWrite(0xfe100014, 4, 1);
    expect(sink.events).toHaveLength(1);
    expect(bus.configRead(EP, 0x06, 2) & 0x08).toBe(0x08);
  });

  it('a sink calling back into the bus gets the new events after the ones already on their way, in order', async () => {
    const bus = await createBus({ backend, topology });
    enableMsi(bus);
    const log: string[] = [];
    const sink: InterruptSink = {
      line: (gsi, level) => {
        log.push(`line ${gsi} ${level}`);
        // An interrupt controller that, on a line going high, makes another device signal.
        if (level) bus.interrupts.msi(EP, 3);
      },
      message: (_a, data) => log.push(`msg ${data.toString(16)}`),
    };
    bus.interrupts.setSink(sink);
    bus.interrupts.route(0, 3, 1, 50);
    bus.interrupts.intx(MX, true);
    bus.interrupts.msi(EP, 1);
    expect(log).toEqual(['line 50 true', 'msg 43', 'msg 41']);
    // Moving an asserted line: deassert old, assert new, then the message that causes.
    log.length = 0;
    bus.interrupts.route(0, 3, 1, 51);
    expect(log).toEqual(['line 50 false', 'line 51 true', 'msg 43']);
  });

  it('a sink replaced or removed inside a delivery: the rest go to the new sink, or wait for poll()', async () => {
    const bus = await createBus({ backend, topology });
    enableMsi(bus);
    const second = new RecordingSink();
    const first: InterruptSink = {
      line: () => {},
      message: (_a, data) => {
        if (data === 0x40) bus.interrupts.setSink(second);
      },
    };
    bus.interrupts.setSink(undefined);
    bus.interrupts.msi(EP, 0);
    bus.interrupts.msi(EP, 1);
    bus.interrupts.setSink(first);
    expect(second.events).toEqual([expect.objectContaining(msg(0x41))]);
    const leaving: InterruptSink = { line: () => {}, message: () => bus.interrupts.setSink(undefined) };
    bus.interrupts.setSink(undefined);
    bus.interrupts.msi(EP, 2);
    bus.interrupts.msi(EP, 3);
    bus.interrupts.setSink(leaving);
    expect(bus.interrupts.poll()).toEqual([msg(0x43)]);
  });

  it('a sink that throws: every event is still delivered, then the first error comes out of the call', async () => {
    const bus = await createBus({ backend, topology });
    const got: string[] = [];
    const boom = new Error('controller failed');
    bus.interrupts.setSink({
      line: (gsi, level) => {
        got.push(`${gsi} ${level}`);
        if (!level) throw boom;
      },
      message: () => {},
    });
    bus.interrupts.intx(EP, true);
    expect(() => bus.interrupts.route(0, 1, 1, 60)).toThrow(boom);
    expect(got).toEqual([`${piixGsi(1, 1)} true`, `${piixGsi(1, 1)} false`, '60 true']);
    expect(bus.interrupts.routeOf(0, 1, 1)).toBe(60);
    expect(bus.interrupts.poll()).toEqual([]);
    // From a guest write too: the write itself completed.
    expect(() => bus.configWrite(EP, 0x04, 2, 0x0400)).toThrow(boom);
    expect(bus.configRead(EP, 0x04, 2)).toBe(0x0400);
  });

  it('setSink refuses what is not a sink', async () => {
    const bus = await createBus({ backend, topology });
    expect(() => bus.interrupts.setSink({ line: () => {} } as unknown as InterruptSink)).toThrow(/^interrupts: setSink: /);
  });
});
