// Conformance: the fields of the type 0 and type 1 headers. Each field is written with all ones,
// then with zeros, at its own width; the read-back must be exactly what the specification's
// masks give, and no other byte of the function may change. Plus an exhaustive check that every
// byte of every function obeys the specification's write masks (an independent model).
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import { defaultTopology } from '../../src/topology/index.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, diffOffsets, hex, hotplugDrivenBits, le, makeBus, merge, onesOf, poke, rd, snapshot, wr,
} from '../helpers/vpci.js';
import { specMasks } from '../helpers/spec-model.js';

const TOPOLOGY: Topology = {
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { bdf: '00:01.0', model: 'test-endpoint' },
    {
      bdf: '00:02.0',
      descriptor: {
        vendorId: 0x8086, deviceId: 0x1234, classCode: 0x020000, interruptPin: 2,
        capabilities: [{ id: 'pcie', portType: 'endpoint' }],
      },
    },
    { bdf: '00:04.0', model: 'pci-bridge' },
    { bdf: '00:05.0', model: 'root-port' },
    { bdf: '00:06.0', model: 'pci-bridge', options: { io32: true } },
    {
      bdf: '00:07.0',
      descriptor: {
        vendorId: 0x10de, deviceId: 0x0001, classCode: 0x060400, headerType: 1,
        bridgeIo32: false, bridgePrefetch64: false,
        bars: [{ index: 0, kind: 'mem32', size: 0x1000 }, { index: 1, kind: 'io', size: 0x10 }],
        rom: { size: 0x800 },
      },
    },
  ],
};

interface Field {
  name: string;
  off: number;
  width: number;
  /** Writable bits. */
  w?: number;
  /** Write-1-to-clear bits. */
  c?: number;
  /** The value the field holds before any write. */
  init?: number;
}

const RO = (name: string, off: number, width: number, init?: number): Field => ({ name, off, width, init });
const RW = (name: string, off: number, width: number, w: number, init = 0): Field => ({ name, off, width, w, init });

// The test endpoint at 00:01.0 (type 0, conventional).
const TYPE0_FIELDS: Field[] = [
  RO('Vendor ID', 0x00, 2, 0x1b36),
  RO('Device ID', 0x02, 2, 0x0005),
  RW('Command', 0x04, 2, 0x0547),
  { name: 'Status', off: 0x06, width: 2, c: 0xf900, init: 0x0010 },
  RO('Revision ID', 0x08, 1, 0x01),
  RO('Class Code (programming interface)', 0x09, 1, 0x00),
  RO('Class Code (subclass, base class)', 0x0a, 2, 0x00ff),
  RO('Class Code (all three bytes)', 0x09, 3, 0x00ff00),
  RW('Cache Line Size', 0x0c, 1, 0xff),
  RW('Latency Timer (conventional)', 0x0d, 1, 0xff),
  RO('Header Type', 0x0e, 1, 0x00),
  RO('BIST', 0x0f, 1, 0x00),
  RO('CardBus CIS Pointer', 0x28, 4, 0),
  RO('Subsystem Vendor ID', 0x2c, 2, 0x1af4),
  RO('Subsystem ID', 0x2e, 2, 0x1100),
  RO('Capabilities Pointer', 0x34, 1, 0x40),
  RO('Reserved 0x35', 0x35, 1, 0),
  RO('Reserved 0x36-0x37', 0x36, 2, 0),
  RO('Reserved 0x38-0x3b', 0x38, 4, 0),
  RW('Interrupt Line', 0x3c, 1, 0xff),
  RO('Interrupt Pin', 0x3d, 1, 0x01),
  RO('Min_Gnt', 0x3e, 1, 0),
  RO('Max_Lat', 0x3f, 1, 0),
];

// The conventional PCI-to-PCI bridge at 00:04.0 (16-bit I/O, 64-bit prefetchable window).
const TYPE1_FIELDS: Field[] = [
  RO('Vendor ID', 0x00, 2, 0x1b36),
  RO('Device ID', 0x02, 2, 0x0001),
  RW('Command', 0x04, 2, 0x0547),
  { name: 'Status', off: 0x06, width: 2, c: 0xf900, init: 0x00b0 },
  RO('Revision ID', 0x08, 1, 0x00),
  RO('Class Code', 0x09, 3, 0x060400),
  RW('Cache Line Size', 0x0c, 1, 0xff),
  RW('Latency Timer (conventional)', 0x0d, 1, 0xff),
  RO('Header Type', 0x0e, 1, 0x01),
  RO('BIST', 0x0f, 1, 0x00),
  RO('BAR0 (unimplemented)', 0x10, 4, 0),
  RO('BAR1 (unimplemented)', 0x14, 4, 0),
  RW('Primary Bus Number', 0x18, 1, 0xff),
  RW('Secondary Bus Number', 0x19, 1, 0xff),
  RW('Subordinate Bus Number', 0x1a, 1, 0xff),
  RW('Secondary Latency Timer (conventional)', 0x1b, 1, 0xff),
  RW('I/O Base (16-bit: upper nibble RW, type nibble 0)', 0x1c, 1, 0xf0, 0x00),
  RW('I/O Limit (16-bit: upper nibble RW, type nibble 0)', 0x1d, 1, 0xf0, 0x00),
  { name: 'Secondary Status', off: 0x1e, width: 2, c: 0xf900, init: 0 },
  RW('Memory Base (bits 15:4)', 0x20, 2, 0xfff0),
  RW('Memory Limit (bits 15:4)', 0x22, 2, 0xfff0),
  RW('Prefetchable Memory Base (bits 15:4, type nibble 1 = 64-bit)', 0x24, 2, 0xfff0, 0x0001),
  RW('Prefetchable Memory Limit (bits 15:4, type nibble 1 = 64-bit)', 0x26, 2, 0xfff0, 0x0001),
  RW('Prefetchable Base Upper 32 Bits (64-bit window)', 0x28, 4, 0xffffffff),
  RW('Prefetchable Limit Upper 32 Bits (64-bit window)', 0x2c, 4, 0xffffffff),
  RO('I/O Base Upper 16 Bits (read-only for a 16-bit window)', 0x30, 2, 0),
  RO('I/O Limit Upper 16 Bits (read-only for a 16-bit window)', 0x32, 2, 0),
  RO('Capabilities Pointer', 0x34, 1, 0x40),
  RO('Reserved 0x35-0x37', 0x35, 1, 0),
  RO('Reserved 0x36-0x37', 0x36, 2, 0),
  RO('Expansion ROM Base Address (no ROM)', 0x38, 4, 0),
  RW('Interrupt Line', 0x3c, 1, 0xff),
  RO('Interrupt Pin', 0x3d, 1, 0x01),
  { name: 'Bridge Control (0x0bff RW, bit 10 RW1C)', off: 0x3e, width: 2, w: 0x0bff, c: 0x0400, init: 0 },
];

// Fields that differ on the 32-bit-I/O bridge (00:06.0).
const IO32_FIELDS: Field[] = [
  RW('I/O Base (32-bit: type nibble 1)', 0x1c, 1, 0xf0, 0x01),
  RW('I/O Limit (32-bit: type nibble 1)', 0x1d, 1, 0xf0, 0x01),
  RW('I/O Base Upper 16 Bits (32-bit window)', 0x30, 2, 0xffff),
  RW('I/O Limit Upper 16 Bits (32-bit window)', 0x32, 2, 0xffff),
];

// Fields that differ on the bridge with a 32-bit prefetchable window (00:07.0).
const PREF32_FIELDS: Field[] = [
  RW('Prefetchable Memory Base (32-bit window: type nibble 0)', 0x24, 2, 0xfff0, 0x0000),
  RW('Prefetchable Memory Limit (32-bit window: type nibble 0)', 0x26, 2, 0xfff0, 0x0000),
  RO('Prefetchable Base Upper 32 Bits (read-only for a 32-bit window)', 0x28, 4, 0),
  RO('Prefetchable Limit Upper 32 Bits (read-only for a 32-bit window)', 0x2c, 4, 0),
];

// Fields that differ on PCI Express functions.
const PCIE_TYPE0_FIELDS: Field[] = [RO('Latency Timer (PCIe: read-only 0)', 0x0d, 1, 0)];
const ROOT_PORT_FIELDS: Field[] = [
  RO('Latency Timer (PCIe: read-only 0)', 0x0d, 1, 0),
  RO('Secondary Latency Timer (PCIe: read-only 0)', 0x1b, 1, 0),
  RW('I/O Base (root port: 32-bit)', 0x1c, 1, 0xf0, 0x01),
  RW('I/O Base Upper 16 Bits (root port)', 0x30, 2, 0xffff),
  RW('Prefetchable Base Upper 32 Bits (root port)', 0x28, 4, 0xffffffff),
];

/** Writes all ones then zeros to the field; checks exact read-back and untouched neighbours. */
function checkField(bus: Bus, bdf: string, f: Field, size = 256): void {
  const w = f.w ?? 0;
  const c = f.c ?? 0;
  const inField = (o: number) => o >= f.off && o < f.off + f.width;
  const before = snapshot(bus, bdf, size);
  const init = rd(bus, bdf, f.off, f.width);
  if (f.init !== undefined) expect(hex(init), `${f.name}: initial value`).toBe(hex(f.init));
  const ones = onesOf(f.width);

  wr(bus, bdf, f.off, f.width, ones);
  const afterOnes = rd(bus, bdf, f.off, f.width);
  expect(hex(afterOnes), `${f.name}: after writing all ones`).toBe(hex((merge(init, ones, w, c) & ones) >>> 0));
  expect(diffOffsets(before, snapshot(bus, bdf, size), inField), `${f.name}: other bytes after writing ones`).toEqual([]);

  wr(bus, bdf, f.off, f.width, 0);
  expect(hex(rd(bus, bdf, f.off, f.width)), `${f.name}: after writing zeros`).toBe(hex((merge(afterOnes, 0, w, c) & ones) >>> 0));
  expect(diffOffsets(before, snapshot(bus, bdf, size), inField), `${f.name}: other bytes after writing zeros`).toEqual([]);

  // Each byte of the field on its own behaves the same (byte lanes are independent).
  if (f.width > 1) {
    for (let i = 0; i < f.width; i++) {
      const o = rd(bus, bdf, f.off + i, 1);
      const wb = (w >>> (8 * i)) & 0xff;
      const cb = (c >>> (8 * i)) & 0xff;
      bus.configWrite(bdf, f.off + i, 1, 0xff);
      const r = bus.configRead(bdf, f.off + i, 1);
      expect(hex(r), `${f.name}: byte ${i} after writing 0xff`).toBe(hex(merge(o, 0xff, wb, cb) & 0xff));
      bus.configWrite(bdf, f.off + i, 1, 0);
      expect(hex(bus.configRead(bdf, f.off + i, 1)), `${f.name}: byte ${i} after writing 0`).toBe(hex(merge(r, 0, wb, cb) & 0xff));
    }
    expect(diffOffsets(before, snapshot(bus, bdf, size), inField), `${f.name}: other bytes after byte writes`).toEqual([]);
  }
}

describe.each(BACKENDS)('header fields (%s backend)', (backend) => {
  describe('type 0 header (test endpoint 00:01.0)', () => {
    test.each(TYPE0_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      '%s: exact read-back after writing ones then zeros, neighbours unchanged',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:01.0', f);
      },
    );

    test('Command: only bits 0, 1, 2, 6, 8, 10 (0x0547) are writable, each on its own', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      for (let bit = 0; bit < 16; bit++) {
        b.configWrite('00:01.0', 0x04, 2, 1 << bit);
        expect(hex(b.configRead('00:01.0', 0x04, 2)), `bit ${bit}`).toBe(hex((1 << bit) & 0x0547));
      }
      b.configWrite('00:01.0', 0x04, 2, 0);
      expect(b.configRead('00:01.0', 0x04, 2)).toBe(0);
    });

    test('Status error bits (0xf900) are write-1-to-clear; other Status bits are read-only', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      poke(b, '00:01.0', 0x06, le(0xf910, 2));
      expect(hex(b.configRead('00:01.0', 0x06, 2))).toBe('0xf910');
      b.configWrite('00:01.0', 0x06, 2, 0);
      expect(hex(b.configRead('00:01.0', 0x06, 2)), 'writing 0 clears nothing').toBe('0xf910');
      b.configWrite('00:01.0', 0x06, 2, 0x06ef);
      expect(hex(b.configRead('00:01.0', 0x06, 2)), 'writing 1 to read-only bits changes nothing').toBe('0xf910');
      b.configWrite('00:01.0', 0x06, 2, 0x0100);
      expect(hex(b.configRead('00:01.0', 0x06, 2)), 'writing 1 to bit 8 clears only bit 8').toBe('0xf810');
      b.configWrite('00:01.0', 0x07, 1, 0x80);
      expect(hex(b.configRead('00:01.0', 0x06, 2)), 'a byte write of 0x80 at 0x07 clears bit 15').toBe('0x7810');
      // A dword write to 0x04 with Command bits set does not clear Status when the Status half is 0.
      b.configWrite('00:01.0', 0x04, 4, 0x00000006);
      expect(hex(b.configRead('00:01.0', 0x04, 4))).toBe('0x78100006');
      b.configWrite('00:01.0', 0x04, 4, 0xffff0000);
      expect(hex(b.configRead('00:01.0', 0x04, 4)), 'all error bits cleared, Command bits written to 0').toBe('0x100000');
    });

    test('Status bit 4 (Capabilities List) is set when capabilities exist and clear when none', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      expect(b.configRead('00:01.0', 0x06, 2) & 0x10).toBe(0x10);
      expect(b.configRead('00:01.0', 0x34, 1)).not.toBe(0);
      expect(b.configRead('00:00.0', 0x06, 2) & 0x10, 'host bridge without capabilities').toBe(0);
      expect(b.configRead('00:00.0', 0x34, 1)).toBe(0);
      b.configWrite('00:01.0', 0x06, 2, 0xffff);
      b.configWrite('00:00.0', 0x06, 2, 0xffff);
      expect(b.configRead('00:01.0', 0x06, 2) & 0x10).toBe(0x10);
      expect(b.configRead('00:00.0', 0x06, 2) & 0x10).toBe(0);
    });

    test.each(PCIE_TYPE0_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      'PCIe endpoint 00:02.0 %s',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:02.0', f, 4096);
      },
    );
  });

  describe('type 1 header (PCI-to-PCI bridge 00:04.0)', () => {
    test.each(TYPE1_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      '%s: exact read-back after writing ones then zeros, neighbours unchanged',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:04.0', f);
      },
    );

    test.each(IO32_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      '32-bit I/O bridge 00:06.0 %s',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:06.0', f);
      },
    );

    test.each(PREF32_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      '32-bit prefetchable bridge 00:07.0 %s',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:07.0', f);
      },
    );

    test.each(ROOT_PORT_FIELDS.map((f) => [`${hex(f.off)} ${f.name}`, f] as const))(
      'PCIe root port 00:05.0 %s',
      async (_name, f) => {
        const b = await makeBus(backend, TOPOLOGY);
        checkField(b, '00:05.0', f, 4096);
      },
    );

    test('Secondary Status error bits (0xf900) are write-1-to-clear; other bits read-only', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      poke(b, '00:04.0', 0x1e, le(0xffff, 2));
      b.configWrite('00:04.0', 0x1e, 2, 0);
      expect(hex(b.configRead('00:04.0', 0x1e, 2))).toBe('0xffff');
      b.configWrite('00:04.0', 0x1e, 2, 0x2000);
      expect(hex(b.configRead('00:04.0', 0x1e, 2))).toBe('0xdfff');
      b.configWrite('00:04.0', 0x1e, 2, 0xffff);
      expect(hex(b.configRead('00:04.0', 0x1e, 2)), 'only the read-only bits remain').toBe('0x6ff');
      expect(hex(b.configRead('00:04.0', 0x06, 2)), 'primary Status untouched').toBe('0xb0');
    });

    test('Bridge Control bit 10 (Discard Timer Status) is write-1-to-clear; 0x0bff read/write', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      poke(b, '00:04.0', 0x3e, le(0x0400, 2));
      b.configWrite('00:04.0', 0x3e, 2, 0x0000);
      expect(hex(b.configRead('00:04.0', 0x3e, 2)), 'writing 0 keeps bit 10').toBe('0x400');
      b.configWrite('00:04.0', 0x3e, 2, 0x0003);
      expect(hex(b.configRead('00:04.0', 0x3e, 2))).toBe('0x403');
      b.configWrite('00:04.0', 0x3e, 2, 0xffff);
      expect(hex(b.configRead('00:04.0', 0x3e, 2)), 'ones: RW bits set, bit 10 cleared').toBe('0xbff');
      b.configWrite('00:04.0', 0x3e, 2, 0);
      expect(b.configRead('00:04.0', 0x3e, 2)).toBe(0);
      expect(b.configRead('00:04.0', 0x3c, 2), 'Interrupt Line/Pin untouched').toBe(0x0100);
    });

    test('bridges have only two BARs: 0x18-0x27 are bus numbers and windows, not BARs', async () => {
      const b = await makeBus(backend, TOPOLOGY);
      b.configWrite('00:04.0', 0x18, 4, 0xffffffff);
      expect(hex(b.configRead('00:04.0', 0x18, 4)), 'bus numbers and secondary latency').toBe('0xffffffff');
      b.configWrite('00:04.0', 0x18, 4, 0x00000000);
      expect(b.configRead('00:04.0', 0x18, 4)).toBe(0);
      b.configWrite('00:04.0', 0x20, 4, 0xffffffff);
      expect(hex(b.configRead('00:04.0', 0x20, 4)), 'memory base/limit').toBe('0xfff0fff0');
    });
  });

  describe('every byte obeys the specification write masks (independent model)', () => {
    const cases: [string, string, Topology, Map<number, bigint>][] = [
      ['host bridge', '00:00.0', TOPOLOGY, new Map()],
      ['test endpoint', '00:01.0', TOPOLOGY,
        new Map([[0, 0x1000n], [1, 0x20n], [2, 0x100000n], [4, 0x4000n], [6, 0x10000n]])],
      ['PCIe endpoint', '00:02.0', TOPOLOGY, new Map()],
      ['PCI-to-PCI bridge', '00:04.0', TOPOLOGY, new Map()],
      ['root port', '00:05.0', TOPOLOGY, new Map()],
      ['32-bit I/O bridge', '00:06.0', TOPOLOGY, new Map()],
      ['bridge with BARs, ROM, 32-bit prefetchable window', '00:07.0', TOPOLOGY,
        new Map([[0, 0x1000n], [1, 0x10n], [6, 0x800n]])],
      ['default topology: Firecracker virtio-blk clone', '00:02.0', defaultTopology, new Map([[0, 0x80000n]])],
      ['default topology: multi-function 00:03.1', '00:03.1', defaultTopology,
        new Map([[0, 0x1000n], [1, 0x20n], [2, 0x100000n], [4, 0x4000n], [6, 0x10000n]])],
    ];
    for (const width of [1, 2, 4] as const) {
      test.each(cases)(`%s %s: every ${width}-byte write of ones then zeros gives the masked value, nothing else changes`,
        async (_name, bdf, topology, bars) => {
          const b = await makeBus(backend, topology);
          const size = b.functions().find((f) => f.bdf.endsWith(bdf))!.planes.size;
          const initial = snapshot(b, bdf, size);
          const m = specMasks(initial, bars, size);
          // Set every write-1-to-clear bit, as hardware reporting errors would.
          const withErrors = initial.map((v, i) => v | m.c[i]);
          poke(b, bdf, 0, withErrors.subarray(0, 256));
          const failures: string[] = [];
          const driven = hotplugDrivenBits(initial);
          for (let off = 0; off < 256; off += width) {
            for (const v of [0xff, 0x00]) {
              const before = snapshot(b, bdf, 256);
              b.configWrite(bdf, off, width, v === 0xff ? onesOf(width) : 0);
              const after = snapshot(b, bdf, 256);
              for (let i = 0; i < 256; i++) {
                const inAccess = i >= off && i < off + width;
                if (inAccess && m.unspecified[i]) continue;
                const want = inAccess ? merge(before[i], v, m.w[i], m.c[i]) & 0xff : before[i];
                if ((after[i] & ~driven[i]) !== (want & ~driven[i])) {
                  failures.push(`write ${hex(v)} x${width} at ${hex(off)}: byte ${hex(i)} ${hex(before[i])} -> ${hex(after[i])}, expected ${hex(want)}`);
                }
              }
            }
          }
          expect(failures.slice(0, 20)).toEqual([]);
          if (size === 4096) {
            // The extended space: write-1-to-clear bits set as hardware would, then ones and
            // zeros everywhere; each byte must end as its masks say (RW bits 0 after the zeros,
            // RW1C bits cleared by the ones, the rest as they were).
            poke(b, bdf, 256, withErrors.subarray(256));
            const ext = snapshot(b, bdf, 4096);
            for (const v of [0xff, 0x00]) {
              for (let off = 256; off < 4096; off += width) b.configWrite(bdf, off, width, v === 0xff ? onesOf(width) : 0);
              const want = ext.map((x, i) => merge(x, v, m.w[i], m.c[i]) & 0xff);
              expect(diffOffsets(want.subarray(256), snapshot(b, bdf, 4096).subarray(256)), `extended space after ${hex(v)}`).toEqual([]);
              ext.set(want);
            }
          }
        });
    }
  });
});
