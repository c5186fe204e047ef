// Firmware enumeration over vpci's bus, both backends: depth-first bus numbering, BAR sizing and
// allocation with both policies, windows, Command, Interrupt Line; the invariants every layout
// must hold, read back from config space; routing that follows a guest's later window rewrite;
// the seed's loop behaviour; errors that leave config space as it was.
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import { AllocationError, FirmwareError, PciRoot, formatResourceMap, runFirmware } from '../../src/firmware/index.js';
import type { FirmwareResult, PolicyName } from '../../src/firmware/index.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, makeBus } from '../helpers/vpci.js';

const POLICIES: PolicyName[] = ['scan-order', 'largest-first'];

/** Two levels of bridges, a root port, endpoints with every BAR kind, a multi-function device. */
const NESTED: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { bdf: '00:01.0', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: '0x1000' }, { index: 1, kind: 'io', size: '0x20' }] } },
    { id: 'b1', bdf: '00:02.0', model: 'pci-bridge' },
    { id: 'b2', behind: 'b1', addr: '01.0', model: 'pci-bridge' },
    { behind: 'b2', addr: '00.0', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem64', size: '0x100000', prefetchable: true }, { index: 2, kind: 'io', size: '0x100' }], rom: { size: '0x10000' } } },
    { behind: 'b1', addr: '03.0', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: '0x200000' }] } },
    { behind: 'b1', addr: '03.1', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: '0x10' }] } },
    { id: 'rp', bdf: '00:03.0', model: 'root-port' },
    { behind: 'rp', addr: '00.0', model: 'test-endpoint', options: { pcie: true, bars: [{ index: 0, kind: 'mem64', size: '0x40000000', prefetchable: true }, { index: 2, kind: 'mem32', size: '0x4000' }] } },
  ],
};

interface Placed { bdf: string; kind: string; base: bigint; size: bigint; index: number }

/** Every BAR as config space holds it now (read back through PciRoot, not taken from the result). */
function barsFromConfig(bus: Bus, result: FirmwareResult): Placed[] {
  const root = new PciRoot(bus);
  const out: Placed[] = [];
  for (const node of result.all) {
    for (let bar = 0; bar < root.barCount(node.f); bar++) {
      const info = root.barInfo(node.f, bar);
      if (!info) continue;
      if (info.kind === 'io') out.push({ bdf: node.bdf, kind: 'io', base: BigInt(info.port), size: BigInt(info.size), index: bar });
      else out.push({ bdf: node.bdf, kind: info.addressType === 'width64' ? 'mem64' : 'mem32', base: info.address, size: info.size, index: bar });
      if (info.kind === 'memory' && info.addressType === 'width64') bar++;
    }
    const rom = root.romInfo(node.f);
    if (rom) out.push({ bdf: node.bdf, kind: 'rom', base: BigInt(rom.address), size: BigInt(rom.size), index: 6 });
  }
  return out;
}

function windowsFromConfig(bus: Bus, bdf: string): { io?: [bigint, bigint]; mem?: [bigint, bigint]; pref?: [bigint, bigint] } {
  const r = (o: number, s: number) => BigInt(bus.configRead(bdf, o, s));
  const out: ReturnType<typeof windowsFromConfig> = {};
  const ioLo = ((r(0x1c, 1) & 0xf0n) << 8n) | (r(0x30, 2) << 16n);
  const ioHi = ((r(0x1d, 1) & 0xf0n) << 8n) | 0xfffn | (r(0x32, 2) << 16n);
  if (ioLo <= ioHi) out.io = [ioLo, ioHi];
  const memLo = (r(0x20, 2) & 0xfff0n) << 16n;
  const memHi = ((r(0x22, 2) & 0xfff0n) << 16n) | 0xfffffn;
  if (memLo <= memHi) out.mem = [memLo, memHi];
  const p64 = (r(0x24, 1) & 0xfn) === 1n;
  const pLo = ((r(0x24, 2) & 0xfff0n) << 16n) | (p64 ? r(0x28, 4) << 32n : 0n);
  const pHi = ((r(0x26, 2) & 0xfff0n) << 16n) | 0xfffffn | (p64 ? r(0x2c, 4) << 32n : 0n);
  if (pLo <= pHi) out.pref = [pLo, pHi];
  return out;
}

/** The invariants of issue 5, checked on config space after the run. */
function checkLayout(bus: Bus, result: FirmwareResult): void {
  const bars = barsFromConfig(bus, result);
  const byBdf = new Map(result.all.map((n) => [n.bdf, n]));
  for (const b of bars) {
    expect(b.base % b.size, `${b.bdf} BAR ${b.index} aligned`).toBe(0n);
    expect(b.base, `${b.bdf} BAR ${b.index} assigned`).not.toBe(0n);
    // Inside every bridge window above it, of the right kind.
    for (let p = byBdf.get(b.bdf)!.parent; p; p = p.parent) {
      const w = windowsFromConfig(bus, p.bdf);
      const end = b.base + b.size - 1n;
      const inside = (r?: [bigint, bigint]) => r !== undefined && b.base >= r[0] && end <= r[1];
      expect(b.kind === 'io' ? inside(w.io) : inside(w.mem) || inside(w.pref), `${b.bdf} BAR ${b.index} inside ${p.bdf}'s windows`).toBe(true);
    }
  }
  for (let i = 0; i < bars.length; i++) {
    for (let j = i + 1; j < bars.length; j++) {
      const a = bars[i];
      const c = bars[j];
      if ((a.kind === 'io') !== (c.kind === 'io')) continue;
      expect(a.base + a.size <= c.base || c.base + c.size <= a.base, `${a.bdf} BAR ${a.index} overlaps ${c.bdf} BAR ${c.index}`).toBe(true);
    }
  }
  // Bus numbers nest: each bridge's range inside its parent's, secondary above the parent's bus.
  for (const n of result.all) {
    if (n.children === undefined) continue;
    const sec = bus.configRead(n.bdf, 0x19, 1);
    const sub = bus.configRead(n.bdf, 0x1a, 1);
    expect(bus.configRead(n.bdf, 0x18, 1)).toBe(n.f.bus);
    expect(sec).toBeGreaterThan(n.f.bus);
    expect(sub).toBeGreaterThanOrEqual(sec);
    if (n.parent) {
      expect(sec).toBeGreaterThan(bus.configRead(n.parent.bdf, 0x19, 1));
      expect(sub).toBeLessThanOrEqual(bus.configRead(n.parent.bdf, 0x1a, 1));
    }
    for (const c of n.children) expect(c.f.bus).toBe(sec);
  }
}

describe.each(BACKENDS)('firmware enumeration (%s backend)', (backend) => {
  test.each(POLICIES)('default topology, %s: every function reachable, the layout valid, decode on', async (policy) => {
    const bus = await makeBus(backend);
    const result = runFirmware(bus, { policy });
    for (const f of bus.functions()) expect(bus.addressOf(f.path), f.path).toBeDefined();
    expect(bus.addressOf('00:04.0/00.0')).toBe('0000:01:00.0');
    expect(bus.addressOf('00:05.0/00.0')).toBe('0000:02:00.0');
    expect(result.map.bridges.map((b) => [b.bdf, b.secondary, b.subordinate])).toEqual([['0000:00:04.0', 1, 1], ['0000:00:05.0', 2, 2], ['0000:00:09.0', 3, 3]]);
    checkLayout(bus, result);
    // Command: memory (and IO) decode and bus mastering where BARs exist; bridges forward.
    expect(bus.configRead('01:00.0', 0x04, 2) & 7).toBe(7);
    expect(bus.configRead('02:00.0', 0x04, 2) & 7).toBe(6);
    expect(bus.configRead('00:04.0', 0x04, 2) & 7).toBe(7);
    expect(bus.configRead('00:00.0', 0x04, 2) & 7).toBe(0);
  });

  test.each(POLICIES)('nested bridges, %s: depth-first bus numbers and windows that hold everything below', async (policy) => {
    const bus = await makeBus(backend, NESTED);
    const result = runFirmware(bus, { policy });
    expect(result.map.bridges.map((b) => [b.bdf, b.secondary, b.subordinate])).toEqual([
      ['0000:00:02.0', 1, 2], ['0000:01:01.0', 2, 2], ['0000:00:03.0', 3, 3],
    ]);
    checkLayout(bus, result);
    // The 1 GiB 64-bit prefetchable BAR behind the root port went above 4 GiB.
    const big = result.map.functions.find((f) => f.bdf === '0000:03:00.0')!.bars.find((b) => b.index === 0)!;
    expect(BigInt(big.base) >= 1n << 32n).toBe(true);
  });

  test('MMIO reaches a device behind two bridges, and follows the guest rewriting a window', async () => {
    const bus = await makeBus(backend, NESTED);
    const result = runFirmware(bus);
    const ep = result.map.functions.find((f) => f.bdf === '0000:02:00.0')!;
    const bar0 = BigInt(ep.bars.find((b) => b.index === 0)!.base);
    bus.setBarHandler('00:02.0/01.0/00.0', 0, { read: () => 0x5a5a5a5a, write: () => {} });
    expect(bus.mmioRead(bar0, 4)).toBe(0x5a5a5a5a);
    // The guest closes the upper bridge's prefetchable window: the BAR stops decoding...
    const saved = bus.configRead('00:02.0', 0x24, 4);
    bus.configWrite('00:02.0', 0x24, 4, 0x0000fff0);
    expect(bus.mmioRead(bar0, 4)).toBe(0xffffffff);
    // ...and decodes again when the window comes back.
    bus.configWrite('00:02.0', 0x24, 4, saved);
    expect(bus.mmioRead(bar0, 4)).toBe(0x5a5a5a5a);
  });

  test('Interrupt Line follows the swizzle across bridges and the PIIX routing', async () => {
    const bus = await makeBus(backend, NESTED);
    runFirmware(bus);
    // Root device 1, INTA: PIRQ (1 + 0) & 3 = B -> 10. Behind 00:02.0 and 01:01.0, device 0 INTA:
    // at 01:01.0 -> pin ((0 + 0) % 4) + 1 = INTA; at 00:02.0 -> ((0 + 1) % 4) + 1 = INTB;
    // root device 2, INTB: PIRQ (2 + 1) & 3 = D -> 11.
    expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(10);
    expect(bus.configRead('02:00.0', 0x3c, 1)).toBe(11);
  });

  test('scan-order is the seed\'s first-fit: exact addresses in scan order, 64-bit BARs take two entries', async () => {
    const bus = await makeBus(backend, {
      devices: [
        { bdf: '00:01.0', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: '0x100' }, { index: 1, kind: 'mem64', size: '0x4000' }, { index: 3, kind: 'mem32', size: '0x1000' }], rom: false } },
        { bdf: '00:02.0', model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: '0x2000' }], rom: false } },
      ],
    });
    const result = runFirmware(bus, { policy: 'scan-order' });
    const bars = result.map.functions.map((f) => [f.bdf, f.bars.map((b) => [b.index, b.base])]);
    expect(bars).toEqual([
      ['0000:00:01.0', [[0, '0xc0000000'], [1, '0xc0004000'], [3, '0xc0001000']]],
      ['0000:00:02.0', [[0, '0xc0002000']]],
    ]);
    const largest = await makeBus(backend, bus.topology);
    const lf = runFirmware(largest, { policy: 'largest-first' });
    // Largest-first lays the same BARs out in no more address space than scan order.
    const span = (r: FirmwareResult) => {
      const bars = r.map.functions.flatMap((f) => f.bars);
      const lo = bars.reduce((m, b) => (BigInt(b.base) < m ? BigInt(b.base) : m), 1n << 64n);
      const hi = bars.reduce((m, b) => (BigInt(b.base) + BigInt(b.size) > m ? BigInt(b.base) + BigInt(b.size) : m), 0n);
      return hi - lo;
    };
    expect(span(lf) <= span(result)).toBe(true);
    checkLayout(largest, lf);
  });

  test('already-assigned root-bus BARs are kept; the rest is laid out around them', async () => {
    const bus = await makeBus(backend, {
      devices: [
        { bdf: '00:01.0', descriptor: { vendorId: 0x1234, deviceId: 1, classCode: 0xff0000, bars: [{ index: 0, kind: 'mem32', size: 0x1000, address: 0xc0000000 }] } },
        { bdf: '00:02.0', descriptor: { vendorId: 0x1234, deviceId: 2, classCode: 0xff0000, bars: [{ index: 0, kind: 'mem32', size: 0x1000 }] } },
      ],
    });
    for (const policy of POLICIES) {
      const result = runFirmware(bus, { policy });
      expect(result.map.functions[0].bars[0]).toMatchObject({ base: '0xc0000000', kept: true });
      expect(result.map.functions[1].bars[0].base).not.toBe('0xc0000000');
      checkLayout(bus, result);
      bus.configWrite('00:02.0', 0x10, 4, 0);
    }
  });

  test('a window that is too small: AllocationError naming device, BAR, size and what was left; config space unchanged', async () => {
    const bus = await makeBus(backend, NESTED);
    const before = bus.functions().map((f) => bus.configRead(f.path, 0x18, 4));
    const dumpBefore = JSON.stringify(bus.dump().map((d) => Array.from(d.config)));
    let error: unknown;
    try {
      runFirmware(bus, { windows: { io: { base: 0x1000n, size: 0xf000n }, mem32: { base: 0xc0000000n, size: 0x100000n } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AllocationError);
    expect((error as Error).message).toMatch(/0000:0[0-3]:[0-9a-f]{2}\.[0-7]/);
    expect((error as Error).message).toMatch(/free/);
    expect(bus.functions().map((f) => bus.configRead(f.path, 0x18, 4))).toEqual(before);
    expect(JSON.stringify(bus.dump().map((d) => Array.from(d.config)))).toBe(dumpBefore);
  });

  test('too many bridges for the bus numbers: FirmwareError naming the bridge, bus numbers put back', async () => {
    const bus = await makeBus(backend, NESTED);
    const dumpBefore = JSON.stringify(bus.dump().map((d) => Array.from(d.config)));
    expect(() => runFirmware(bus, { segments: [{ segment: 0, rootBus: 0, maxBus: 2 }] })).toThrow(FirmwareError);
    expect(() => runFirmware(bus, { segments: [{ segment: 0, rootBus: 0, maxBus: 2 }] })).toThrow(/0000:00:03\.0: no bus number left/);
    expect(JSON.stringify(bus.dump().map((d) => Array.from(d.config)))).toBe(dumpBefore);
  });

  test('the resource map prints like /proc/iomem and /proc/ioports, windows enclosing their BARs', async () => {
    const bus = await makeBus(backend, NESTED);
    const { iomem, ioports } = formatResourceMap(runFirmware(bus).map);
    expect(iomem).toMatch(/^[0-9a-f]{8,16}-[0-9a-f]{8,16} : PCI Bus 0000:01/m);
    expect(iomem).toMatch(/^ {2}[0-9a-f]+-[0-9a-f]+ : (PCI Bus 0000:02|0000:01:03\.0 BAR 0)/m);
    expect(ioports).toMatch(/^ {4}[0-9a-f]{4}-[0-9a-f]{4} : 0000:02:00\.0 BAR 2$/m);
  });
});

describe.each(BACKENDS)('several segments (%s backend)', (backend) => {
  test('each segment numbered from its root bus; all laid out in the shared windows without overlap', async () => {
    const bus = await makeBus(backend, {
      segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 15] } }, { segment: 1, ecam: { base: '0xb1000000', buses: [0x20, 0x2f] } }],
      devices: [
        { id: 'a', bdf: '0000:00:01.0', model: 'pci-bridge' },
        { behind: 'a', addr: '00.0', model: 'test-endpoint' },
        { id: 'b', bdf: '0001:20:01.0', model: 'root-port' },
        { behind: 'b', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
        { bdf: '0001:20:02.0', model: 'test-endpoint' },
      ],
    });
    const result = runFirmware(bus, { segments: [{ segment: 0, rootBus: 0, maxBus: 15 }, { segment: 1, rootBus: 0x20, maxBus: 0x2f }] });
    expect(result.map.segments).toEqual([0, 1]);
    expect(result.map.bridges.map((b) => [b.bdf, b.secondary])).toEqual([['0000:00:01.0', 1], ['0001:20:01.0', 0x21]]);
    expect(bus.addressOf('0001:20:01.0/00.0')).toBe('0001:21:00.0');
    checkLayout(bus, result);
    const { iomem } = formatResourceMap(result.map);
    expect(iomem).toContain('PCI Bus 0001:21');
  });
});

describe('both backends', () => {
  test.each(POLICIES)('%s: the same result and the same config space, byte for byte', async (policy) => {
    const [wasm, ts] = [await makeBus('wasm', NESTED), await makeBus('ts', NESTED)];
    const a = runFirmware(wasm, { policy });
    const b = runFirmware(ts, { policy });
    expect(a.map).toEqual(b.map);
    expect(wasm.dump()).toEqual(ts.dump());
    expect(wasm.regions()).toEqual(ts.regions());
  });
});
