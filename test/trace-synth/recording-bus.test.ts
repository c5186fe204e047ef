import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { recordingBus } from '../../src/trace-synth/index.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS } from '../helpers/vpci.js';

describe.each(BACKENDS)('recordingBus (%s)', (backend) => {
  it('performs and records a segment-0 config read as a CF8 write and a CFC read', async () => {
    const bus = await createBus({ backend });
    const rec = recordingBus(bus);
    const v = rec.configRead('00:03.1', 0x0e, 1);
    expect(v).toBe(bus.configRead('00:03.1', 0x0e, 1));
    expect(rec.take()).toEqual([
      { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: BigInt((0x80000000 | (3 << 11) | (1 << 8) | 0x0c) >>> 0) },
      { op: 'read', space: 'io', addr: 0xcfen, size: 1, expected: BigInt(v) },
    ]);
  });

  it('a config write reaches the function through the ports', async () => {
    const bus = await createBus({ backend });
    const rec = recordingBus(bus);
    rec.configWrite('0000:00:01.0', 0x3c, 1, 0x1ab); // Interrupt Line: the low byte goes out
    expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0xab);
    expect(rec.trace[1]).toEqual({ op: 'write', space: 'io', addr: 0xcfcn, size: 1, value: 0xabn });
  });

  it('registers past 0x100 go through the ECAM window', async () => {
    const bus = await createBus({ backend });
    const rec = recordingBus(bus);
    const v = rec.configRead('00:05.0', 0x100, 4);
    expect(v).toBe(bus.configRead('00:05.0', 0x100, 4));
    expect(rec.take()).toEqual([{ op: 'read', space: 'mmio', addr: 0xb0000000n + (5n << 15n) + 0x100n, size: 4, expected: BigInt(v) }]);
  });

  it('config cycles no mechanism reaches read all ones and record nothing', async () => {
    const topology: Topology = { segments: [{ segment: 0, ecam: false }], devices: [{ bdf: '00:01.0', model: 'test-endpoint' }] };
    const rec = recordingBus(await createBus({ backend, topology }));
    expect(rec.configRead('00:01.0', 0x100, 4)).toBe(0xffffffff);
    expect(rec.configRead('0002:00:01.0', 0, 2)).toBe(0xffff);
    rec.configWrite('00:01.0', 0x200, 4, 1);
    expect(rec.trace).toEqual([]);
  });

  it('MMIO and IO accesses are recorded with what the bus returned; 8-byte reads as bigints', async () => {
    const bus = await createBus({ backend });
    const rec = recordingBus(bus);
    const eight = rec.mmioRead(0xb0000000, 8);
    expect(typeof eight).toBe('bigint');
    rec.mmioWrite(0xdead0000, 8, 0x1_0000_0002);
    rec.ioRead(0x70, 2);
    expect(rec.take()).toEqual([
      { op: 'read', space: 'mmio', addr: 0xb0000000n, size: 8, expected: eight },
      { op: 'write', space: 'mmio', addr: 0xdead0000n, size: 8, value: 0x1_0000_0002n },
      { op: 'read', space: 'io', addr: 0x70n, size: 2, expected: 0xffffn },
    ]);
  });

  it('passes dma, interrupts, device() and functions() through to the bus', async () => {
    const bus = await createBus({ backend });
    const rec = recordingBus(bus);
    expect(rec.dma).toBe(bus.dma);
    expect(rec.interrupts).toBe(bus.interrupts);
    expect(rec.device('00:07.0')).toBe(bus.device('00:07.0'));
    expect(rec.functions()).toBe(bus.functions());
    expect(rec.addressOf('00:05.0/00.0')).toBeUndefined();
  });

  it('guest RAM writes between accesses become memwrite events, one per changed run, once', async () => {
    const bus = await createBus({ backend });
    const bytes = new Uint8Array(0x2000);
    bus.dma.addRam({ base: 0x10000, size: bytes.length, buffer: bytes });
    const rec = recordingBus(bus, { ram: { bytes, base: 0x10000 } });
    bytes.set([1, 2, 3], 0x100);
    bytes[0x1000] = 9;
    rec.ioRead(0x80, 1);
    rec.ioRead(0x80, 1);
    expect(rec.take().filter((e) => e.op === 'memwrite')).toEqual([
      { op: 'memwrite', addr: 0x10100n, data: new Uint8Array([1, 2, 3]) },
      { op: 'memwrite', addr: 0x11000n, data: new Uint8Array([9]) },
    ]);
  });
});
