// Topologies with bridges: how "behind" + "addr" resolve (paths, parents, a bridge before the
// functions below it), and what the bus then does on both backends: a function behind a bridge
// answers no config cycle until the bridge holds bus numbers, then answers at the bus it is
// given, by that BDF and by its path; the bus's lookups (addressOf, dump, tree, BAR handlers,
// DMA, stats) follow the bus numbers as they change.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError } from '../../src/errors.js';
import { formatTree } from '../../src/lspci/index.js';
import { formatBdf, resolveTopology } from '../../src/topology/index.js';
import type { Topology } from '../../src/topology/index.js';

const BACKENDS = ['wasm', 'ts'] as const;
const TESTDEV = 0x00051b36;

/** Children listed before their bridges, bridges named by id and by bdf, two levels deep. */
const NESTED: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { behind: 'rp0', addr: '00.0', model: 'test-endpoint', name: 'below the root port' },
    { id: 'rp0', bdf: '00:05.0', model: 'root-port' },
    { behind: 'br1', addr: '00.1', model: 'test-endpoint' },
    { id: 'br1', behind: 'br0', addr: '01.0', model: 'pci-bridge' },
    { behind: 'br1', addr: '00.0', model: 'test-endpoint' },
    { id: 'br0', bdf: '00:04.0', model: 'pci-bridge' },
    { behind: '0000:00:04.0', addr: '02.0', model: 'test-endpoint' },
    { id: 'br2', behind: 'br0', addr: '03.0', model: 'pci-bridge' },
  ],
};

/** Writes a bridge's primary, secondary and subordinate bus numbers (config 0x18-0x1a). */
function setBuses(bus: Bus, bridge: string, primary: number, secondary: number, subordinate: number): void {
  bus.configWrite(bridge, 0x18, 1, primary);
  bus.configWrite(bridge, 0x19, 1, secondary);
  bus.configWrite(bridge, 0x1a, 1, subordinate);
}

/** NESTED numbered as firmware would: 04.0 -> [01-03], 01:01.0 -> [02], 01:03.0 -> [03], 05.0 -> [04]. */
function enumerateNested(bus: Bus): void {
  setBuses(bus, '00:04.0', 0, 1, 3);
  setBuses(bus, '01:01.0', 1, 2, 2);
  setBuses(bus, '01:03.0', 1, 3, 3);
  setBuses(bus, '00:05.0', 0, 4, 4);
}

describe('resolution', () => {
  it('a bridge precedes the functions below it; otherwise topology order', async () => {
    const t = await resolveTopology(NESTED);
    expect(t.functions.map((f) => [f.path, f.parent, f.id ?? null])).toEqual([
      ['0000:00:00.0', -1, null],
      ['0000:00:05.0', -1, 'rp0'],
      ['0000:00:05.0/00.0', 1, null],
      ['0000:00:04.0', -1, 'br0'],
      ['0000:00:04.0/01.0', 3, 'br1'],
      ['0000:00:04.0/01.0/00.1', 4, null],
      ['0000:00:04.0/01.0/00.0', 4, null],
      ['0000:00:04.0/02.0', 3, null],
      ['0000:00:04.0/03.0', 3, 'br2'],
    ]);
    for (const f of t.functions) {
      if (f.parent >= 0) expect(t.functions[f.parent].planes.config[0x0e] & 0x7f, f.path).toBe(1);
    }
  });

  it('a function below a bridge: bus -1, bdf = path, the segment of its root, dev.fn from addr, name defaulting to the path', async () => {
    const t = await resolveTopology({
      segments: [{ segment: 0 }, { segment: 3, ecam: { base: '0xc0000000', buses: [0x40, 0x4f] } }],
      devices: [
        { id: 'rp', bdf: '0003:40:1c.0', model: 'root-port' },
        { behind: 'rp', addr: '1F.7', model: 'test-endpoint' },
        { behind: 'rp', addr: '1f.0', model: 'test-endpoint', name: 'fn 0' },
      ],
    });
    const [rp, f7, f0] = t.functions;
    expect(rp).toMatchObject({ seg: 3, bus: 0x40, dev: 0x1c, fn: 0, bdf: '0003:40:1c.0', path: '0003:40:1c.0', parent: -1, id: 'rp' });
    expect(f7).toMatchObject({ seg: 3, bus: -1, dev: 0x1f, fn: 7, bdf: '0003:40:1c.0/1f.7', path: '0003:40:1c.0/1f.7', parent: 0, name: '0003:40:1c.0/1f.7' });
    expect(f0).toMatchObject({ dev: 0x1f, fn: 0, path: '0003:40:1c.0/1f.0', name: 'fn 0' });
    expect('id' in f7).toBe(false);
  });

  it('a bdf on another bus of the ECAM window is another root bus (like QEMU\'s pxb)', async () => {
    const t = await resolveTopology({ devices: [
      { bdf: '00:00.0', model: 'host-bridge' }, { bdf: '80:00.0', model: 'host-bridge' }, { id: 'rp', bdf: '80:01.0', model: 'root-port' },
      { behind: 'rp', addr: '00.0', model: 'test-endpoint' },
    ] });
    expect(t.functions.map((f) => [f.path, f.bus, f.parent])).toEqual([
      ['0000:00:00.0', 0, -1], ['0000:80:00.0', 0x80, -1], ['0000:80:01.0', 0x80, -1], ['0000:80:01.0/00.0', -1, 2],
    ]);
  });
});

describe.each(BACKENDS)('the bus with bridges (%s)', (backend) => {
  it('a function behind a bridge answers nothing until the bridge holds bus numbers, then at that bus, by BDF and by path', async () => {
    const bus = await createBus({ backend });
    const ep = '00:04.0/00.0';
    // Before enumeration: every bridge's bus numbers are 0.
    expect(bus.configRead('00:04.0', 0x18, 4) & 0xffffff).toBe(0);
    expect(bus.configRead(ep, 0, 4)).toBe(0xffffffff);
    expect(bus.configRead(ep, 0x0e, 1)).toBe(0xff);
    expect(bus.configRead('01:00.0', 0, 4)).toBe(0xffffffff);
    expect(bus.addressOf(ep)).toBeUndefined();
    expect(bus.addressOf('01:00.0')).toBeUndefined();
    bus.configWrite(ep, 0x10, 4, 0xfe000000); // dropped: nothing reaches it
    expect(bus.dump().map((d) => formatBdf(d))).not.toContain('0000:01:00.0');
    expect(bus.dump()).toHaveLength(bus.functions().length - 2); // all but the two behind bridges

    setBuses(bus, '00:04.0', 0, 1, 1);
    expect(bus.addressOf(ep)).toBe('0000:01:00.0');
    expect(bus.addressOf('0000:00:04.0/0.0')).toBe('0000:01:00.0');
    expect(bus.addressOf('01:00.0')).toBe('0000:01:00.0');
    expect(bus.configRead('01:00.0', 0, 4)).toBe(TESTDEV);
    expect(bus.configRead(ep, 0, 4)).toBe(TESTDEV);
    expect(bus.configRead(ep, 0x10, 4)).toBe(0); // the write before enumeration went nowhere
    // the same thing through ECAM (bus 1 at +1 MiB)
    expect(bus.mmioRead(0xb0000000 + (1 << 20), 4)).toBe(TESTDEV);
    // a write through the path is a write at the BDF
    bus.configWrite(ep, 0x10, 4, 0xfe000000);
    expect(bus.configRead('01:00.0', 0x10, 4)).toBe(0xfe000000);
    // the root port's endpoint is still unreachable
    expect(bus.addressOf('00:05.0/00.0')).toBeUndefined();
    const dumped = bus.dump();
    expect(dumped.map((d) => formatBdf(d))).toContain('0000:01:00.0');
    expect(dumped.find((d) => d.bus === 1)!.config[0]).toBe(0x36);

    // renumbering moves it at once: the old BDF answers nothing
    setBuses(bus, '00:04.0', 0, 7, 7);
    expect(bus.addressOf(ep)).toBe('0000:07:00.0');
    expect(bus.configRead('01:00.0', 0, 4)).toBe(0xffffffff);
    expect(bus.configRead('07:00.0', 0x10, 4)).toBe(0xfe000000);
    expect(bus.configRead(ep, 0x10, 4)).toBe(0xfe000000);

    // the root port's device: a virtio-rng (1af4:1044) whose BAR 4 is 64-bit
    setBuses(bus, '00:05.0', 0, 8, 8);
    expect(bus.addressOf('00:05.0/00.0')).toBe('0000:08:00.0');
    expect(bus.configRead('08:00.0', 0, 4)).toBe(0x10441af4);
    expect(bus.configRead('08:00.0', 0x20, 4) & 0x6).toBe(0x4);
    expect(bus.dump()).toHaveLength(bus.functions().length);
  });

  it('root-bus functions: addressOf is their BDF, and a BDF nothing answers at is undefined', async () => {
    const bus = await createBus({ backend });
    expect(bus.addressOf('00:03.1')).toBe('0000:00:03.1');
    expect(bus.addressOf('0000:00:05.0')).toBe('0000:00:05.0');
    expect(bus.addressOf('00:1f.0')).toBeUndefined();
    expect(() => bus.addressOf('00:04.0/05.0')).toThrow(ArgumentError);
    expect(() => bus.addressOf('00:04.0/5')).toThrow(/bdf: "5" is not a device and function like "00.0"/);
    expect(() => bus.addressOf('zz')).toThrow(ArgumentError);
  });

  it('nested bridges: every function answers at the bus its bridge forwards; the tree is what lspci -tv prints', async () => {
    const bus = await createBus({ backend, topology: NESTED });
    expect(formatTree(bus.tree(), { verbose: true })).toBe([
      '-[0000:00]-+-00.0  Device 1b36:0008',
      '           +-04.0--',
      '           \\-05.0--',
      '',
    ].join('\n'));
    enumerateNested(bus);
    expect(bus.functions().map((f) => bus.addressOf(f.path))).toEqual([
      '0000:00:00.0', '0000:00:05.0', '0000:04:00.0', '0000:00:04.0', '0000:01:01.0', '0000:02:00.1', '0000:02:00.0', '0000:01:02.0', '0000:01:03.0',
    ]);
    expect(bus.configRead('00:04.0/01.0/00.1', 0, 4)).toBe(TESTDEV);
    expect(bus.configRead('02:00.0', 0x0e, 1)).toBe(0x80); // multi-function below the bridge
    expect(formatTree(bus.tree(), { verbose: true })).toBe([
      '-[0000:00]-+-00.0  Device 1b36:0008',
      '           +-04.0-[01-03]--+-01.0-[02]--+-00.0  Device 1b36:0005',
      '           |               |            \\-00.1  Device 1b36:0005',
      '           |               +-02.0  Device 1b36:0005',
      '           |               \\-03.0-[03]--',
      '           \\-05.0-[04]----00.0  Device 1b36:0005',
      '',
    ].join('\n'));
    // a subordinate range that stops short of a bridge below cuts that part off
    setBuses(bus, '00:04.0', 0, 1, 1);
    expect(bus.addressOf('00:04.0/01.0/00.0')).toBeUndefined();
    expect(formatTree(bus.tree())).toBe([
      '-[0000:00]-+-00.0',
      '           +-04.0-[01]--+-01.0-[02]--',
      '           |            +-02.0',
      '           |            \\-03.0-[03]--',
      '           \\-05.0-[04]----00.0',
      '',
    ].join('\n'));
  });

  it('BAR handlers, regions, effects and stats name a function behind a bridge by its path; both names reach it', async () => {
    const bus = await createBus({ backend });
    const ep = '00:04.0/00.0';
    bus.effects(); // the virtio-blk clone is mapped at load
    setBuses(bus, '00:04.0', 0, 1, 1);
    // the bridge forwards 0xfe000000-0xfe0fffff and decodes memory; the endpoint's BAR0 (8 KiB) sits there
    bus.configWrite('00:04.0', 0x20, 2, 0xfe00);
    bus.configWrite('00:04.0', 0x22, 2, 0xfe00);
    bus.configWrite('00:04.0', 0x04, 2, 0x0006);
    bus.configWrite('01:00.0', 0x10, 4, 0xfe000000);
    bus.configWrite(ep, 0x04, 2, 0x0006);
    expect(bus.effects()).toEqual([{ bdf: '0000:00:04.0/00.0', bar: 0, kind: 'mem32', oldBase: null, newBase: 0xfe000000n, size: 0x2000n }]);
    const a = bus.setBarHandler(ep, 0, { kind: 'regfile', size: 16, initial: Uint8Array.from({ length: 16 }, (_, i) => i) });
    const b = bus.setBarHandler('01:00.0', 0, { kind: 'doorbell' }, { offset: 0x1000, length: 4 });
    expect(bus.mmioRead(0xfe000004, 4)).toBe(0x07060504);
    bus.mmioWrite(0xfe001000, 4, 1);
    expect(bus.events()).toEqual([{ region: b, offset: 0, size: 4, value: 1n }]);
    const regions = bus.regions().filter((r) => r.id === a || r.id === b);
    expect(regions.map((r) => [r.name, r.bdf])).toEqual([
      ['0000:00:04.0/00.0 BAR0 +0x0', '0000:00:04.0/00.0'], ['0000:00:04.0/00.0 BAR0 +0x1000', '0000:00:04.0/00.0'],
    ]);
    expect(bus.stats().devices).toContainEqual({ bdf: '0000:00:04.0/00.0', reads: 1, writes: 1 });
    // renumbered: the handler stays with the function, found by its new BDF too
    setBuses(bus, '00:04.0', 0, 2, 2);
    expect(bus.mmioRead(0xfe000004, 4)).toBe(0x07060504);
    expect(() => bus.setBarHandler('01:00.0', 0, { kind: 'doorbell' })).toThrow(/^bdf: 01:00\.0 is not a function of the topology, or not one that answers there now/);
    expect(() => bus.setBarHandler('02:00.0', 1, { kind: 'doorbell' })).not.toThrow();
    expect(() => bus.setBarHandler('00:04.0/07.0', 0, { kind: 'doorbell' })).toThrow('bdf: 0000:00:04.0/07.0 is not a function of the topology');
    expect(() => bus.setBarHandler(ep, 2, { kind: 'doorbell' })).toThrow('bar: 0000:00:04.0/00.0 has no BAR 2');
  });

  it('DMA on behalf of a function behind a bridge, by path or BDF, needs Bus Master Enable on the bridge too', async () => {
    const bus = await createBus({ backend });
    setBuses(bus, '00:05.0', 0, 3, 3);
    bus.dma.addRam({ base: 0, size: 0x10000 });
    bus.configWrite('03:00.0', 0x04, 2, 0x0004);
    expect(bus.dma.write('00:05.0/00.0', 0x100, Uint8Array.of(1, 2, 3))).toBe('bus-master-off');
    bus.configWrite('00:05.0', 0x04, 2, 0x0004);
    expect(bus.dma.write('00:05.0/00.0', 0x100, Uint8Array.of(1, 2, 3))).toBe('ok');
    const back = new Uint8Array(3);
    expect(bus.dma.read('03:00.0', 0x100, back)).toBe('ok');
    expect(Array.from(back)).toEqual([1, 2, 3]);
    expect(bus.dma.faults()).toEqual([{ bdf: '0000:00:05.0/00.0', iova: 0x100, length: 3, direction: 'write', reason: 'bus-master-off' }]);
  });
});
