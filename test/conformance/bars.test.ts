// Conformance: Base Address Registers and the expansion ROM BAR. Every BAR kind is sized the way
// firmware does it (write all ones, read back, size = ~(value & mask) + 1), then restored.
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, diffOffsets, hex, makeBus, snapshot } from '../helpers/vpci.js';

const TOPOLOGY: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    {
      bdf: '00:01.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0001, classCode: 0xff0000,
        bars: [
          { index: 0, kind: 'io', size: 0x100 },
          { index: 1, kind: 'mem32', size: 0x1000 },
          { index: 2, kind: 'mem32', size: 0x10000, prefetchable: true },
          { index: 3, kind: 'mem64', size: 0x4000 },
        ],
        rom: { size: 0x10000 },
      },
    },
    {
      bdf: '00:02.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0002, classCode: 0xff0000,
        bars: [
          { index: 0, kind: 'mem64', size: 1n << 33n, prefetchable: true },
          { index: 2, kind: 'mem64', size: 1n << 63n },
          { index: 4, kind: 'io', size: 0x10000 },
          { index: 5, kind: 'io', size: 4 },
        ],
        rom: { size: 0x800 },
      },
    },
    {
      bdf: '00:03.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0003, classCode: 0xff0000,
        bars: [
          { index: 0, kind: 'mem32', size: 0x80000000 },
          { index: 1, kind: 'mem32', size: 16 },
          { index: 2, kind: 'mem64', size: 16, address: 0x1234567890n },
          { index: 5, kind: 'mem32', size: 0x100000, prefetchable: true, address: 0xfe000000 },
        ],
        rom: { size: 0x100000, address: 0xfeb00000 },
      },
    },
    {
      bdf: '00:04.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0004, classCode: 0x060400, headerType: 1,
        bars: [{ index: 0, kind: 'mem64', size: 0x1000000 }],
        rom: { size: 0x8000 },
      },
    },
    {
      bdf: '00:05.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 0x0005, classCode: 0x060400, headerType: 1,
        bars: [{ index: 0, kind: 'io', size: 0x100, address: 0xc000 }, { index: 1, kind: 'mem32', size: 0x1000, prefetchable: true }],
      },
    },
    { bdf: '00:06.0', model: 'test-endpoint' },
    { bdf: '00:07.0', model: 'pci-bridge' },
  ],
};

// Sizes written as "0x..." strings in a JSON topology.
const JSON_TOPOLOGY = JSON.stringify({
  devices: [
    {
      bdf: '00:01.0',
      descriptor: {
        vendorId: '0x1234', deviceId: '0x5678', classCode: '0x020000',
        bars: [
          { index: 0, kind: 'mem64', size: '0x200000000', prefetchable: true },
          { index: 2, kind: 'mem64', size: '0x8000000000000000' },
          { index: 4, kind: 'io', size: '0x100' },
        ],
        rom: { size: '0x800' },
      },
    },
  ],
});

interface BarCase {
  bdf: string;
  index: number;
  kind: 'io' | 'mem32' | 'mem64';
  size: bigint;
  prefetchable?: boolean;
  address?: bigint;
  headerType?: 0 | 1;
}

const CASES: BarCase[] = [
  { bdf: '00:01.0', index: 0, kind: 'io', size: 0x100n },
  { bdf: '00:01.0', index: 1, kind: 'mem32', size: 0x1000n },
  { bdf: '00:01.0', index: 2, kind: 'mem32', size: 0x10000n, prefetchable: true },
  { bdf: '00:01.0', index: 3, kind: 'mem64', size: 0x4000n },
  { bdf: '00:02.0', index: 0, kind: 'mem64', size: 1n << 33n, prefetchable: true },
  { bdf: '00:02.0', index: 2, kind: 'mem64', size: 1n << 63n },
  { bdf: '00:02.0', index: 4, kind: 'io', size: 0x10000n },
  { bdf: '00:02.0', index: 5, kind: 'io', size: 4n },
  { bdf: '00:03.0', index: 0, kind: 'mem32', size: 0x80000000n },
  { bdf: '00:03.0', index: 1, kind: 'mem32', size: 16n },
  { bdf: '00:03.0', index: 2, kind: 'mem64', size: 16n, address: 0x1234567890n },
  { bdf: '00:03.0', index: 5, kind: 'mem32', size: 0x100000n, prefetchable: true, address: 0xfe000000n },
  { bdf: '00:04.0', index: 0, kind: 'mem64', size: 0x1000000n, headerType: 1 },
  { bdf: '00:05.0', index: 0, kind: 'io', size: 0x100n, address: 0xc000n, headerType: 1 },
  { bdf: '00:05.0', index: 1, kind: 'mem32', size: 0x1000n, prefetchable: true, headerType: 1 },
  // The test endpoint model: BAR0 mem32 4 KiB, BAR1 io 32 B, BAR2-3 mem64 pref 1 MiB, BAR4-5 mem64 16 KiB.
  { bdf: '00:06.0', index: 0, kind: 'mem32', size: 0x1000n },
  { bdf: '00:06.0', index: 1, kind: 'io', size: 0x20n },
  { bdf: '00:06.0', index: 2, kind: 'mem64', size: 0x100000n, prefetchable: true },
  { bdf: '00:06.0', index: 4, kind: 'mem64', size: 0x4000n },
];

function flagsOf(c: BarCase): number {
  if (c.kind === 'io') return 0x1;
  return (c.kind === 'mem64' ? 0x4 : 0) | (c.prefetchable ? 0x8 : 0);
}

function label(c: BarCase): string {
  return `${c.bdf} BAR${c.index} ${c.kind}${c.prefetchable ? ' prefetchable' : ''} size ${hex(c.size)}${c.address ? ` at ${hex(c.address)}` : ''}`;
}

/** Sizes a BAR as firmware does and restores it; returns what was read after the probe. */
function probe(bus: Bus, bdf: string, off: number, is64: boolean): { low: number; high: number } {
  const origLow = bus.configRead(bdf, off, 4);
  const origHigh = is64 ? bus.configRead(bdf, off + 4, 4) : 0;
  bus.configWrite(bdf, off, 4, 0xffffffff);
  if (is64) bus.configWrite(bdf, off + 4, 4, 0xffffffff);
  const low = bus.configRead(bdf, off, 4);
  const high = is64 ? bus.configRead(bdf, off + 4, 4) : 0;
  bus.configWrite(bdf, off, 4, origLow);
  if (is64) bus.configWrite(bdf, off + 4, 4, origHigh);
  return { low, high };
}

describe.each(BACKENDS)('BARs (%s backend)', (backend) => {
  test.each(CASES.map((c) => [label(c), c] as const))('%s: reads its type bits, sizes to its size, restores', async (_l, c) => {
    const bus = await makeBus(backend, TOPOLOGY);
    const off = 0x10 + 4 * c.index;
    const is64 = c.kind === 'mem64';
    const flags = flagsOf(c);
    const address = c.address ?? 0n;
    const addrMask = c.kind === 'io' ? 0xfffffffcn : 0xfffffff0n;
    const span = is64 ? 8 : 4;
    const inBar = (o: number) => o >= off && o < off + span;
    const before = snapshot(bus, c.bdf);

    // Initial contents: the assigned address with the read-only type bits.
    expect(hex(bus.configRead(c.bdf, off, 4)), 'initial low dword').toBe(hex((Number(address & addrMask) | flags) >>> 0));
    if (is64) expect(hex(bus.configRead(c.bdf, off + 4, 4)), 'initial high dword').toBe(hex(Number(address >> 32n)));

    // Probe: the writable bits are ~(size-1) above the flag bits.
    bus.configWrite(c.bdf, off, 4, 0xffffffff);
    if (is64) bus.configWrite(c.bdf, off + 4, 4, 0xffffffff);
    const low = bus.configRead(c.bdf, off, 4);
    const high = is64 ? bus.configRead(c.bdf, off + 4, 4) : 0;
    expect(hex(low), 'low dword after writing all ones').toBe(hex((Number(~(c.size - 1n) & addrMask) | flags) >>> 0));
    if (is64) {
      expect(hex(high), 'high dword after writing all ones').toBe(hex(Number(~((c.size - 1n) >> 32n) & 0xffffffffn)));
      const v = (BigInt(high) << 32n) | BigInt(low);
      expect(hex(((~(v & ~0xfn)) & 0xffffffffffffffffn) + 1n), 'size decoded from the probe').toBe(hex(c.size));
    } else {
      expect(hex(((~(low & Number(addrMask)) >>> 0) + 1)), 'size decoded from the probe').toBe(hex(c.size));
    }
    expect(diffOffsets(before, snapshot(bus, c.bdf), inBar), 'other bytes after the probe').toEqual([]);

    // Restore: the original address comes back exactly.
    bus.configWrite(c.bdf, off, 4, Number(address & 0xffffffffn));
    if (is64) bus.configWrite(c.bdf, off + 4, 4, Number(address >> 32n));
    expect(diffOffsets(before, snapshot(bus, c.bdf)), 'whole space after restoring').toEqual([]);

    // Zeros: address bits clear, type bits stay.
    bus.configWrite(c.bdf, off, 4, 0);
    if (is64) bus.configWrite(c.bdf, off + 4, 4, 0);
    expect(hex(bus.configRead(c.bdf, off, 4)), 'low dword after writing zeros').toBe(hex(flags));
    if (is64) expect(bus.configRead(c.bdf, off + 4, 4), 'high dword after writing zeros').toBe(0);

    // The type bits cannot be written: writing their complement leaves them.
    const typeBits = c.kind === 'io' ? 0x3 : 0xf;
    bus.configWrite(c.bdf, off, 1, ~flags & typeBits);
    expect(bus.configRead(c.bdf, off, 1) & typeBits, 'type bits are read-only').toBe(flags);
  });

  test('64-bit BAR upper half is sized on its own: ~((size-1) >> 32)', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const cases: [string, number, string][] = [
      ['00:01.0', 0x20, '0xffffffff'], // BAR3-4, 16 KiB: all ones below 4 GiB
      ['00:02.0', 0x14, '0xfffffffe'], // 8 GiB
      ['00:02.0', 0x1c, '0x80000000'], // 2^63
      ['00:04.0', 0x14, '0xffffffff'], // bridge BAR0-1, 16 MiB
    ];
    for (const [bdf, off, want] of cases) {
      const lowBefore = bus.configRead(bdf, off - 4, 4);
      bus.configWrite(bdf, off, 4, 0xffffffff);
      expect(hex(bus.configRead(bdf, off, 4)), `${bdf} ${hex(off)}`).toBe(want);
      expect(bus.configRead(bdf, off - 4, 4), `${bdf} low half untouched`).toBe(lowBefore);
      bus.configWrite(bdf, off, 4, 0);
    }
  });

  test('a 64-bit BAR can hold an address above 4 GiB', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    bus.configWrite('00:02.0', 0x10, 4, 0x00000000);
    bus.configWrite('00:02.0', 0x14, 4, 0x00000012); // 0x12_0000_0000 is 8 GiB aligned
    expect(hex(bus.configRead('00:02.0', 0x10, 4))).toBe('0xc');
    expect(hex(bus.configRead('00:02.0', 0x14, 4))).toBe('0x12');
    bus.configWrite('00:02.0', 0x14, 4, 0x00000013); // bit 32 is inside the 8 GiB size: not writable
    expect(hex(bus.configRead('00:02.0', 0x14, 4))).toBe('0x12');
  });

  test('unimplemented BARs read 0 and ignore writes', async () => {
    const bus = await makeBus(backend, TOPOLOGY);
    const unimplemented: [string, number][] = [
      ['00:00.0', 0x10], ['00:00.0', 0x14], ['00:00.0', 0x18], ['00:00.0', 0x1c], ['00:00.0', 0x20], ['00:00.0', 0x24],
      ['00:01.0', 0x24],
      ['00:03.0', 0x20],
      ['00:07.0', 0x10], ['00:07.0', 0x14],
    ];
    for (const [bdf, off] of unimplemented) {
      const before = snapshot(bus, bdf);
      expect(bus.configRead(bdf, off, 4), `${bdf} ${hex(off)} initial`).toBe(0);
      for (const v of [0xffffffff, 0xfffffff0, 0x00000001, 0x12345678]) {
        bus.configWrite(bdf, off, 4, v);
        expect(bus.configRead(bdf, off, 4), `${bdf} ${hex(off)} after ${hex(v)}`).toBe(0);
      }
      for (let i = 0; i < 4; i++) bus.configWrite(bdf, off + i, 1, 0xff);
      bus.configWrite(bdf, off, 2, 0xffff);
      bus.configWrite(bdf, off + 2, 2, 0xffff);
      expect(diffOffsets(before, snapshot(bus, bdf)), `${bdf} ${hex(off)}: nothing changed`).toEqual([]);
    }
  });

  describe('expansion ROM BAR', () => {
    const ROMS: [string, number, bigint, bigint][] = [
      ['00:01.0', 0x30, 0x10000n, 0n],
      ['00:02.0', 0x30, 0x800n, 0n],
      ['00:03.0', 0x30, 0x100000n, 0xfeb00000n],
      ['00:04.0', 0x38, 0x8000n, 0n],
      ['00:06.0', 0x30, 0x10000n, 0n],
    ];
    test.each(ROMS.map(([bdf, off, size, address]) => [`${bdf} at ${hex(off)} size ${hex(size)}`, bdf, off, size, address] as const))(
      'ROM BAR %s: writable bits (~(size-1) & 0xfffff800) | 1, sizing and restore',
      async (_l, bdf, off, size, address) => {
        const bus = await makeBus(backend, TOPOLOGY);
        const before = snapshot(bus, bdf);
        const inRom = (o: number) => o >= off && o < off + 4;
        expect(hex(bus.configRead(bdf, off, 4)), 'initial: address, disabled').toBe(hex(Number(address)));
        const { low } = probe(bus, bdf, off, false);
        expect(hex(low), 'after writing all ones').toBe(hex(Number((~(size - 1n) & 0xfffff800n) | 1n)));
        expect(hex((~(low & 0xfffff800) >>> 0) + 1), 'size decoded').toBe(hex(size));
        expect(diffOffsets(before, snapshot(bus, bdf)), 'restored, nothing else changed').toEqual([]);
        // The enable bit.
        bus.configWrite(bdf, off, 4, Number(address) + 1);
        expect(hex(bus.configRead(bdf, off, 4)), 'enabled').toBe(hex(Number(address) + 1));
        bus.configWrite(bdf, off, 4, Number(address));
        expect(hex(bus.configRead(bdf, off, 4)), 'disabled again').toBe(hex(Number(address)));
        // Bits 10:1 are read-only zero.
        bus.configWrite(bdf, off, 4, 0x7fe);
        expect(bus.configRead(bdf, off, 4), 'bits 10:1 read 0').toBe(0);
        bus.configWrite(bdf, off, 1, 0x01);
        expect(bus.configRead(bdf, off, 4), 'a byte write sets the enable bit').toBe(1);
        expect(diffOffsets(before, snapshot(bus, bdf), inRom)).toEqual([]);
      },
    );

    test('functions without a ROM read 0 at the ROM BAR and ignore writes', async () => {
      const bus = await makeBus(backend, TOPOLOGY);
      for (const [bdf, off] of [['00:00.0', 0x30], ['00:05.0', 0x38], ['00:07.0', 0x38]] as const) {
        bus.configWrite(bdf, off, 4, 0xffffffff);
        expect(bus.configRead(bdf, off, 4), `${bdf} ${hex(off)}`).toBe(0);
      }
    });

    test('on a bridge 0x30 is the I/O Upper 16 Bits, not a ROM BAR', async () => {
      const bus = await makeBus(backend, TOPOLOGY);
      bus.configWrite('00:04.0', 0x30, 4, 0xffffffff);
      expect(bus.configRead('00:04.0', 0x30, 4), '16-bit I/O bridge: read-only').toBe(0);
    });
  });

  test('sizes given as "0x..." strings in a JSON topology (64-bit BARs above 4 GiB, up to 2^63)', async () => {
    const bus = await makeBus(backend, JSON_TOPOLOGY);
    const p0 = probe(bus, '00:01.0', 0x10, true);
    expect([hex(p0.low), hex(p0.high)]).toEqual(['0xc', '0xfffffffe']);
    const p2 = probe(bus, '00:01.0', 0x18, true);
    expect([hex(p2.low), hex(p2.high)]).toEqual(['0x4', '0x80000000']);
    expect(hex(probe(bus, '00:01.0', 0x20, false).low)).toBe('0xffffff01');
    expect(hex(probe(bus, '00:01.0', 0x30, false).low)).toBe('0xfffff801');
    expect(bus.functions()[0].barSizes.map((b) => [b.index, hex(b.size)])).toEqual([
      [0, '0x200000000'], [2, '0x8000000000000000'], [4, '0x100'], [6, '0x800'],
    ]);
  });

  test('BAR sizes of a template given with bigint and "0x..." sizes above 4 GiB', async () => {
    const config = new Uint8Array(256);
    config.set([0x34, 0x12, 0x78, 0x56], 0);
    config[0x0b] = 0x02;
    config.set([0x0c, 0, 0, 0], 0x10); // BAR0-1: mem64 prefetchable
    config.set([0x04, 0, 0, 0], 0x18); // BAR2-3: mem64
    const configHex = Array.from(config, (b) => b.toString(16).padStart(2, '0')).join('');
    const topology: Topology = {
      devices: [{
        bdf: '00:01.0',
        template: { configHex, barSizes: [{ index: 0, size: 1n << 34n }, { index: 2, size: '0x100000000' }] },
      }],
    };
    const bus = await makeBus(backend, topology);
    const p0 = probe(bus, '00:01.0', 0x10, true);
    expect([hex(p0.low), hex(p0.high)]).toEqual(['0xc', '0xfffffffc']);
    const p2 = probe(bus, '00:01.0', 0x18, true);
    expect([hex(p2.low), hex(p2.high)]).toEqual(['0x4', '0xffffffff']);
    expect(bus.configRead('00:01.0', 0x20, 4), 'BAR4 (no size given) unimplemented').toBe(0);
  });
});
