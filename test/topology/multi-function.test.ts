// The multi-function bit (Header Type bit 7, PCI 3.0 §6.2.1) as a bus built from a topology shows
// it, on both backends: function 0 of every device with more than one function reads it set (on a
// root bus and behind bridges, whatever order the topology lists the functions in), a
// single-function device and functions 1-7 read it clear, it is read-only, and firmware (which scans
// functions 1-7 only when function 0 says so) finds every function. The core sets the bit from the
// functions present (README "Access rules"), not the topology's planes.
import { describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus.js';
import { runFirmware } from '../../src/firmware/index.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, makeBus } from '../helpers/vpci.js';

/** Two bridges with the same device numbers behind them, a multi-function bridge and root-bus devices. */
const BRIDGED: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { id: 'b1', bdf: '00:04.0', model: 'pci-bridge' },
    { behind: 'b1', addr: '00.0', model: 'test-endpoint' },
    { behind: 'b1', addr: '00.3', model: 'test-endpoint', options: { interruptPin: 2 } },
    { behind: 'b1', addr: '01.0', model: 'test-endpoint' },
    { id: 'b2', bdf: '00:05.0', model: 'pci-bridge' },
    { behind: 'b2', addr: '01.0', model: 'test-endpoint' },
    { behind: 'b2', addr: '00.0', model: 'test-endpoint' },
    { bdf: '00:05.1', model: 'test-endpoint' },
  ],
};

/** Header Type of a function named by path, read through config space at its current address. */
function headerType(bus: Bus, path: string): number {
  const bdf = bus.addressOf(path);
  if (bdf === undefined) throw new Error(`${path} is not reachable`);
  return bus.configRead(bdf, 0x0e, 1);
}

/** Numbers the two bridges of BRIDGED: b1 gets bus 1, b2 bus 2. */
function numberBridges(bus: Bus): void {
  bus.configWrite('00:04.0', 0x18, 4, 0x00010100);
  bus.configWrite('00:05.0', 0x18, 4, 0x00020200);
}

describe.each(BACKENDS)('the multi-function bit (%s)', (backend) => {
  it('the default topology: 00:03.0 reads Header Type 0x80; 00:03.1 and the single-function devices 0x00', async () => {
    const bus = await makeBus(backend);
    expect(bus.configRead('00:03.0', 0x0e, 1)).toBe(0x80);
    expect(bus.configRead('00:03.0', 0x0c, 4) >>> 16 & 0xff, 'in a dword read too').toBe(0x80);
    expect(bus.configRead('00:03.1', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('00:00.0', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('00:01.0', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('00:04.0', 0x0e, 1), 'a single-function bridge keeps layout 1 alone').toBe(0x01);
  });

  it('is read-only', async () => {
    const bus = await makeBus(backend);
    bus.configWrite('00:03.0', 0x0e, 1, 0x00);
    bus.configWrite('00:03.0', 0x0c, 4, 0);
    expect(bus.configRead('00:03.0', 0x0e, 1)).toBe(0x80);
    bus.configWrite('00:01.0', 0x0e, 1, 0x80);
    expect(bus.configRead('00:01.0', 0x0e, 1)).toBe(0x00);
  });

  it('behind bridges: function 0 of a two-function device reads 0x80; another device number and the other bridge\'s device 0 do not', async () => {
    const bus = await makeBus(backend, BRIDGED);
    numberBridges(bus);
    expect(headerType(bus, '0000:00:04.0/00.0')).toBe(0x80);
    expect(headerType(bus, '0000:00:04.0/00.3')).toBe(0x00);
    expect(headerType(bus, '0000:00:04.0/01.0')).toBe(0x00);
    expect(headerType(bus, '0000:00:05.0/00.0'), 'same device number, other bridge: single-function').toBe(0x00);
    expect(headerType(bus, '0000:00:05.0/01.0')).toBe(0x00);
    expect(headerType(bus, '0000:00:05.0'), 'a bridge that is function 0 of a multi-function device').toBe(0x81);
    expect(headerType(bus, '0000:00:05.1')).toBe(0x00);
    expect(headerType(bus, '0000:00:04.0')).toBe(0x01);
  });

  it('segments and root buses are separate: the same bus/device number elsewhere is another device', async () => {
    const bus = await makeBus(backend, {
      segments: [
        { segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } },
        { segment: 1, ecam: { base: '0xc0000000', buses: [0, 0] } },
      ],
      devices: [
        { bdf: '00:03.0', model: 'test-endpoint' },
        { bdf: '0001:00:03.0', model: 'test-endpoint' },
        { bdf: '0001:00:03.2', model: 'test-endpoint' },
        { bdf: '80:03.0', model: 'test-endpoint' },
      ],
    });
    expect(bus.configRead('00:03.0', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('0001:00:03.0', 0x0e, 1)).toBe(0x80);
    expect(bus.configRead('80:03.0', 0x0e, 1)).toBe(0x00);
  });

  it('functions listed before function 0 still set it', async () => {
    const bus = await makeBus(backend, { devices: [{ bdf: '00:07.5', model: 'test-endpoint' }, { bdf: '00:07.0', model: 'test-endpoint' }] });
    expect(bus.configRead('00:07.0', 0x0e, 1)).toBe(0x80);
    expect(bus.configRead('00:07.5', 0x0e, 1)).toBe(0x00);
  });

  it('firmware finds every function of the multi-function devices, at the addresses it gave them', async () => {
    const bus = await makeBus(backend, BRIDGED);
    const found = runFirmware(bus).all.map((n) => n.bdf).sort();
    expect(found).toHaveLength(bus.functions().length);
    expect(found).toEqual(bus.functions().map((f) => `0000:${bus.addressOf(f.path)!.replace(/^0000:/, '')}`).sort());
  });
});
