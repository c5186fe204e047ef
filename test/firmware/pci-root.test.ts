// The seed's driver API (PciRoot) over vpci's bus, both backends: enumerateBus, barInfo with the
// all-ones probe (decode off while probing, everything restored), takesTwoEntries, setBar32/64,
// getStatusCommand/setCommand.
import { describe, expect, test } from 'vitest';
import { PciRoot, takesTwoEntries } from '../../src/firmware/index.js';
import { Command } from '../../src/config/index.js';
import type { DeviceFunction } from '../../src/firmware/index.js';
import { BACKENDS, makeBus, snapshot } from '../helpers/vpci.js';
import type { Topology } from '../../src/topology/index.js';

const TOPOLOGY: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    {
      bdf: '00:01.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0001, classCode: 0xff0000, interruptPin: 1,
        bars: [
          { index: 0, kind: 'mem64', size: 0x4000, prefetchable: true },
          { index: 2, kind: 'io', size: 0x20 },
          { index: 3, kind: 'mem32', size: 0x1000 },
          { index: 4, kind: 'mem64', size: 1n << 33n },
        ],
        rom: { size: 0x10000 },
      },
    },
    { bdf: '00:02.0', descriptor: { vendorId: 0x1234, deviceId: 0x0002, classCode: 0xff0000 } },
    { bdf: '00:02.3', descriptor: { vendorId: 0x1234, deviceId: 0x0023, classCode: 0xff0000 } },
  ],
};

const fn = (device: number, f = 0): DeviceFunction => ({ segment: 0, bus: 0, device, function: f });

describe.each(BACKENDS)('PciRoot (%s backend)', (backend) => {
  test('enumerateBus finds functions 1-7 only when function 0 says multi-function', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const found = [...new PciRoot(bus).enumerateBus(0)].map(([f, info]) => [f.device, f.function, info.deviceId, info.multiFunction]);
    expect(found).toEqual([[0, 0, 0x0008, false], [1, 0, 0x0001, false], [2, 0, 0x0002, true], [2, 3, 0x0023, false]]);
  });

  test('barInfo reads type, address and size; the seed loop advances twice over 64-bit BARs', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const root = new PciRoot(bus);
    const seen: [number, string, bigint | number][] = [];
    for (let bar = 0; bar < 6; bar++) {
      const info = root.barInfo(fn(1), bar);
      if (info === undefined) continue;
      seen.push([bar, info.kind === 'io' ? 'io' : `${info.addressType}${info.prefetchable ? '/pf' : ''}`, info.size]);
      if (takesTwoEntries(info)) bar++;
    }
    expect(seen).toEqual([[0, 'width64/pf', 0x4000n], [2, 'io', 0x20], [3, 'width32', 0x1000n], [4, 'width64', 1n << 33n]]);
    expect(root.romInfo(fn(1))).toEqual({ address: 0, size: 0x10000, enabled: false });
    expect(root.barInfo(fn(2), 0)).toBeUndefined();
    expect(() => root.barInfo(fn(1), 6)).toThrow(/bar: 6 is not a BAR index 0..5/);
  });

  test('the probe restores every register and never decodes at the probe address', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const root = new PciRoot(bus);
    root.setBar64(fn(1), 0, 0xc0000000n);
    root.setBar32(fn(1), 3, 0xc0010000);
    root.setCommand(fn(1), Command.MEMORY_SPACE | Command.IO_SPACE);
    bus.effects();
    const before = snapshot(bus, '00:01.0');
    for (let bar = 0; bar < 6; bar++) root.barInfo(fn(1), bar);
    root.romInfo(fn(1));
    expect(snapshot(bus, '00:01.0')).toEqual(before);
    // Decode was off while probing: BARs left and came back, never mapped anywhere else.
    const effects = bus.effects();
    expect(effects.length).toBeGreaterThan(0);
    for (const e of effects) if (e.newBase !== null) expect([0xc0000000n, 0xc0010000n]).toContain(e.newBase);
  });

  test('setBar64 writes both halves, getStatusCommand/setCommand round-trip', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const root = new PciRoot(bus);
    root.setBar64(fn(1), 4, 0x8000000000n);
    const info = root.barInfo(fn(1), 4);
    expect(info).toMatchObject({ kind: 'memory', address: 0x8000000000n });
    root.setCommand(fn(1), Command.IO_SPACE | Command.MEMORY_SPACE | Command.BUS_MASTER);
    const [status, command] = root.getStatusCommand(fn(1));
    expect(command).toBe(7);
    expect(status).toBe(bus.configRead('00:01.0', 0x06, 2));
    expect(bus.configRead('00:01.0', 0x04, 2)).toBe(7);
  });
});
