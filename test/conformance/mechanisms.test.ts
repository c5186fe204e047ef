// Conformance: the two ways a guest reaches config space — PCI configuration mechanism #1
// (0xCF8 address latch, 0xCFC-0xCFF data) and ECAM windows — their decoding and edge cases,
// that they reach the one store the embedder's configRead/configWrite reach, and that hostile
// inputs never throw.
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, ECAM_BASE, MiB, cf8, diffOffsets, ecam, hex, le, makeBus, onesOf, parseAddress, poke, snapshot, snapshotAll,
} from '../helpers/vpci.js';

const SEG1_BASE = 0xe0000000;
const SEG2_BASE = 0x800000000; // 32 GiB, buses 0x10-0x1f
const SEG3_BASE = 0xc0000000; // right after segment 0's window, one bus (0xc8)

const MULTI: Topology = {
  segments: [
    { segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } },
    { segment: 1, ecam: { base: '0xe0000000', buses: [0, 15] } },
    { segment: 2, ecam: { base: '0x800000000', buses: [0x10, 0x1f] } },
    { segment: 3, ecam: { base: SEG3_BASE, buses: [0xc8, 0xc8] } },
  ],
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { bdf: '00:01.0', model: 'test-endpoint' },
    { bdf: '0001:00:00.0', model: 'host-bridge', options: { deviceId: 0x1111 } },
    { bdf: '0001:00:01.0', model: 'pci-bridge' },
    { bdf: '0002:10:02.0', model: 'root-port' },
    { bdf: '0003:c8:1f.0', model: 'host-bridge', options: { deviceId: 0x3333 } },
    { bdf: '0003:c8:1f.7', model: 'test-endpoint', options: { deviceId: 0x3337 } },
  ],
};

/** Where each function of MULTI is in its window. */
const MULTI_ADDRS: [string, number][] = [
  ['00:00.0', ecam(0, 0, 0, 0)],
  ['00:01.0', ecam(0, 1, 0, 0)],
  ['0001:00:00.0', ecam(0, 0, 0, 0, SEG1_BASE)],
  ['0001:00:01.0', ecam(0, 1, 0, 0, SEG1_BASE)],
  ['0002:10:02.0', ecam(0x10, 2, 0, 0, SEG2_BASE, 0x10)],
  ['0003:c8:1f.0', ecam(0xc8, 0x1f, 0, 0, SEG3_BASE, 0xc8)],
  ['0003:c8:1f.7', ecam(0xc8, 0x1f, 7, 0, SEG3_BASE, 0xc8)],
];

/** Adds a function directly in the core (any bus) with a recognisable vendor/device and a RW dword at 0x40. */
function addRaw(bus: Bus, seg: number, b: number, dev: number, fn: number, id: number): number {
  const slot = bus.core.addFunction(seg, b, dev, fn, 256);
  expect(slot, `addFunction(${seg}, ${b}, ${dev}, ${fn})`).toBeGreaterThanOrEqual(0);
  const config = new Uint8Array(256);
  config.set(le(id, 4), 0);
  const wmask = new Uint8Array(256);
  wmask.set([0xff, 0xff, 0xff, 0xff], 0x40);
  expect(bus.core.loadPlanes(slot, config, wmask, new Uint8Array(256))).toBe(0);
  return slot;
}

const HOSTILE_NUMBERS = [
  NaN, Infinity, -Infinity, -1, -0.5, 0.5, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 32 + 0xcfc, 2 ** 53, 2 ** 64, 1e300,
  -1e300, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, ECAM_BASE + 0.5, ECAM_BASE - 1, -ECAM_BASE, 0xcf8 + 0.25,
];
const HOSTILE_BIGINTS = [-1n, -(2n ** 64n), 2n ** 53n, 2n ** 64n, 2n ** 64n + BigInt(ECAM_BASE), 2n ** 200n, BigInt(ECAM_BASE) - 1n];
const HOSTILE_SIZES = [NaN, Infinity, -Infinity, -1, -8, 0, 3, 8, 9, 1.5, 2 ** 31, 2 ** 32, 2 ** 32 + 8, 1e300, -0];

describe.each(BACKENDS)('mechanisms (%s backend)', (backend) => {
  describe('0xCF8/0xCFC (PCI configuration mechanism #1)', () => {
    test('only a 4-byte write to 0xCF8 latches the address; a 4-byte read returns value & 0x80fffffc', async () => {
      const bus = await makeBus(backend);
      expect(bus.ioRead(0xcf8, 4), 'initial latch').toBe(0);
      for (const [v, want] of [
        [0xffffffff, 0x80fffffc], [0x7f000003, 0], [0x80001804, 0x80001804], [0x8000ff03, 0x8000ff00],
        [0x00ab5678, 0x00ab5678], [0xc1234567, 0x80234564],
      ] as const) {
        bus.ioWrite(0xcf8, 4, v);
        expect(hex(bus.ioRead(0xcf8, 4)), `wrote ${hex(v)}`).toBe(hex(want));
      }
      bus.ioWrite(0xcf8, 4, 0x80000800);
      for (const [port, size] of [[0xcf8, 1], [0xcf8, 2], [0xcf8, 3], [0xcf8, 8], [0xcf8, 0], [0xcf9, 1], [0xcf9, 4], [0xcfa, 2], [0xcfa, 4], [0xcfb, 1]] as const) {
        bus.ioWrite(port, size, 0x12345678);
        expect(hex(bus.ioRead(0xcf8, 4)), `write of ${size} byte(s) to ${hex(port)} is dropped`).toBe('0x80000800');
      }
    });

    test('1- and 2-byte reads of 0xCF8 and any read of 0xCF9-0xCFB read all ones', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, 0x80000800);
      for (const [port, size] of [[0xcf8, 1], [0xcf8, 2], [0xcf9, 1], [0xcf9, 2], [0xcf9, 4], [0xcfa, 1], [0xcfa, 2], [0xcfa, 4], [0xcfb, 1], [0xcfb, 4], [0xcf8, 3], [0xcf8, 8]] as const) {
        expect(hex(bus.ioRead(port, size)), `${hex(port)} size ${size}`).toBe(hex(onesOf(size === 3 || size === 8 ? 4 : size)));
      }
    });

    test('with the enable bit (31) clear the data ports read all ones and drop writes', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x3c, false));
      expect(hex(bus.ioRead(0xcf8, 4))).toBe(hex(cf8(0, 1, 0, 0x3c, false)));
      for (let lane = 0; lane < 4; lane++) {
        for (const size of [1, 2, 4]) {
          expect(hex(bus.ioRead(0xcfc + lane, size)), `lane ${lane} size ${size}`).toBe(hex(onesOf(size)));
          bus.ioWrite(0xcfc + lane, size, 0x5a5a5a5a);
        }
      }
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
    });

    test('data port lanes 0xCFC-0xCFF read register (latch & 0xfc) + lane for sizes 1/2/4; lane + size > 4 reads all ones', async () => {
      const bus = await makeBus(backend);
      const problems: string[] = [];
      for (const bdf of ['00:01.0', '00:02.0', '00:03.1', '00:05.0']) {
        const a = parseAddress(bdf);
        for (let reg = 0; reg < 256; reg += 4) {
          bus.ioWrite(0xcf8, 4, cf8(a.bus, a.dev, a.fn, reg));
          for (let lane = 0; lane < 4; lane++) {
            for (const size of [1, 2, 4]) {
              const got = bus.ioRead(0xcfc + lane, size);
              const want = lane + size <= 4 ? bus.configRead(bdf, reg + lane, size) : onesOf(size);
              if (got !== want) problems.push(`${bdf} reg ${hex(reg)} port ${hex(0xcfc + lane)} size ${size}: ${hex(got)} != ${hex(want)}`);
            }
          }
        }
      }
      expect(problems.slice(0, 20)).toEqual([]);
    });

    test('data port lanes write register (latch & 0xfc) + lane; lane + size > 4 writes nothing', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:01.0';
      for (let lane = 0; lane < 4; lane++) {
        for (const size of [1, 2, 4]) {
          bus.configWrite(bdf, 0x50, 4, 0); // MSI upper address: a fully writable dword
          const before = snapshot(bus, bdf);
          bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x50));
          bus.ioWrite(0xcfc + lane, size, 0xa1b2c3d4);
          const after = snapshot(bus, bdf);
          if (lane + size <= 4) {
            expect(hex(bus.configRead(bdf, 0x50 + lane, size)), `lane ${lane} size ${size}`).toBe(hex((0xa1b2c3d4 & onesOf(size)) >>> 0));
            expect(diffOffsets(before, after, (o) => o >= 0x50 + lane && o < 0x50 + lane + size)).toEqual([]);
          } else {
            expect(diffOffsets(before, after), `lane ${lane} size ${size}: nothing written`).toEqual([]);
          }
        }
      }
    });

    test('CF8 bits 1:0 and 30:24 are reserved: ignored for decoding, read back as 0', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, (cf8(0, 1, 0, 0x08) | 0x3) >>> 0);
      expect(hex(bus.ioRead(0xcf8, 4))).toBe(hex(cf8(0, 1, 0, 0x08)));
      expect(hex(bus.ioRead(0xcfc, 4))).toBe(hex(bus.configRead('00:01.0', 0x08, 4)));
      // Bits 27:24 (AMD's extended register number) do not reach offsets 0x100 and up.
      bus.ioWrite(0xcf8, 4, (cf8(0, 5, 0, 0x00) | 0x01000000) >>> 0);
      expect(hex(bus.ioRead(0xcf8, 4))).toBe(hex(cf8(0, 5, 0, 0x00)));
      expect(hex(bus.ioRead(0xcfc, 4)), 'reads offset 0, not 0x100').toBe(hex(bus.configRead('00:05.0', 0x00, 4)));
      bus.ioWrite(0xcf8, 4, (cf8(0, 5, 0, 0x00) | 0x7f000000) >>> 0);
      expect(hex(bus.ioRead(0xcfc, 4))).toBe(hex(bus.configRead('00:05.0', 0x00, 4)));
    });

    test('bus, device and function fields select the function on segment 0', async () => {
      const bus = await makeBus(backend, MULTI);
      addRaw(bus, 0, 0x12, 0x1f, 7, 0xaaaa5555);
      addRaw(bus, 1, 0x12, 0x1f, 7, 0xbbbb6666);
      for (const [bdf, b, d, f] of [['00:00.0', 0, 0, 0], ['00:01.0', 0, 1, 0], ['12:1f.7', 0x12, 0x1f, 7]] as const) {
        bus.ioWrite(0xcf8, 4, cf8(b, d, f, 0));
        expect(hex(bus.ioRead(0xcfc, 4)), bdf).toBe(hex(bus.configRead(bdf, 0, 4)));
      }
      expect(hex(bus.configRead('12:1f.7', 0, 4))).toBe('0xaaaa5555');
      // CF8 writes land in the selected function only.
      bus.ioWrite(0xcf8, 4, cf8(0x12, 0x1f, 7, 0x40));
      bus.ioWrite(0xcfc, 4, 0xdeadbeef);
      expect(hex(bus.configRead('12:1f.7', 0x40, 4))).toBe('0xdeadbeef');
      expect(hex(bus.configRead('0001:12:1f.7', 0x40, 4)), 'segment 1 is not reached through CF8').toBe('0x0');
      // Segment 1's 00:01.0 (a bridge) is not what CF8 bus 0 device 1 reaches.
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
      expect(hex(bus.ioRead(0xcfc, 4))).toBe('0x51b36');
      expect(hex(bus.configRead('0001:00:01.0', 0, 4))).toBe('0x11b36');
    });

    test('CF8 reaches only the first 256 bytes of a PCIe function', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, cf8(0, 5, 0, 0xfc));
      expect(hex(bus.ioRead(0xcfc, 4))).toBe(hex(bus.configRead('00:05.0', 0xfc, 4)));
      expect(hex(bus.configRead('00:05.0', 0x100, 4)), 'extended space exists').toBe('0x10c10003');
    });

    test('ports other than 0xCF8-0xCFF read all ones and writes to them do nothing', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x3c));
      const before = snapshotAll(bus);
      for (const port of [0, 0x80, 0xcf4, 0xcf7, 0xd00, 0xd04, 0xcf8 - 4, 0x1cf8, 0x1cfc, 0x10cf8, 0x10cfc, 0xffff, -1, -0xcf8]) {
        for (const size of [1, 2, 4]) {
          expect(hex(bus.ioRead(port, size)), `${hex(port)} size ${size}`).toBe(hex(onesOf(size)));
          bus.ioWrite(port, size, 0xffffffff);
          bus.ioWrite(port, size, 0x00000000);
        }
      }
      expect(hex(bus.ioRead(0xcf8, 4)), 'latch unchanged').toBe(hex(cf8(0, 1, 0, 0x3c)));
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
    });

    test('port numbers are not taken modulo 2^32: 2^32 + 0xCF8 and 2^32 + 0xCFC are other ports', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
      const problems: string[] = [];
      for (const port of [2 ** 32 + 0xcf8, 2 ** 32 + 0xcfc, 2 ** 33 + 0xcfc, -(2 ** 32) + 0xcfc]) {
        const v = bus.ioRead(port, 4);
        if (v !== 0xffffffff) problems.push(`ioRead(${hex(port)}, 4) = ${hex(v)}`);
      }
      bus.ioWrite(2 ** 32 + 0xcf8, 4, cf8(0, 2, 0, 0));
      if (bus.ioRead(0xcf8, 4) !== cf8(0, 1, 0, 0)) problems.push(`ioWrite(2^32 + 0xCF8) changed the latch to ${hex(bus.ioRead(0xcf8, 4))}`);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x3c));
      bus.ioWrite(2 ** 32 + 0xcfc, 1, 0x77);
      if (bus.configRead('00:01.0', 0x3c, 1) !== 0) problems.push(`ioWrite(2^32 + 0xCFC) wrote Interrupt Line = ${hex(bus.configRead('00:01.0', 0x3c, 1))}`);
      expect(problems).toEqual([]);
    });
  });

  describe('ECAM', () => {
    test.each(MULTI_ADDRS)('%s is reached at bus<<20 | device<<15 | function<<12 | register in its segment window', async (bdf, base) => {
      const bus = await makeBus(backend, MULTI);
      const size = bus.functions().find((f) => f.bdf.endsWith(bdf))!.planes.size;
      const problems: string[] = [];
      for (let reg = 0; reg < size; reg += reg < 256 ? 1 : 4) {
        for (const s of [1, 2, 4]) {
          if ((reg & 3) + s > 4) continue;
          const got = bus.mmioRead(base + reg, s);
          const want = bus.configRead(bdf, reg, s);
          if (got !== want) problems.push(`reg ${hex(reg)} size ${s}: ${hex(got)} != ${hex(want)}`);
        }
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(bus.configRead(bdf, 0, 2), 'present').not.toBe(0xffff);
    });

    test('bus = window first bus + (offset >> 20), up to the last bus of the window', async () => {
      const bus = await makeBus(backend, MULTI);
      addRaw(bus, 0, 0xff, 0x1f, 7, 0x00ff1f07);
      addRaw(bus, 1, 15, 0x1f, 7, 0x01151f07);
      addRaw(bus, 2, 0x1f, 3, 2, 0x021f0302);
      addRaw(bus, 2, 0x11, 0, 0, 0x02110000);
      expect(hex(bus.mmioRead(ecam(0xff, 0x1f, 7, 0), 4))).toBe('0xff1f07');
      expect(hex(bus.mmioRead(ECAM_BASE + 0x0ffff000, 4))).toBe('0xff1f07');
      expect(hex(bus.mmioRead(SEG1_BASE + 0x00fff000, 4))).toBe('0x1151f07');
      expect(hex(bus.mmioRead(SEG2_BASE + 15 * MiB + (3 << 15) + (2 << 12), 4))).toBe('0x21f0302');
      expect(hex(bus.mmioRead(SEG2_BASE + 1 * MiB, 4)), 'bus 0x11 is 1 MiB into the window').toBe('0x2110000');
      // The register field: the last dword of the last function of the last bus.
      bus.mmioWrite(ECAM_BASE + 0x0ffff040, 4, 0x12345678);
      expect(hex(bus.configRead('ff:1f.7', 0x40, 4))).toBe('0x12345678');
      expect(hex(bus.mmioRead(ECAM_BASE + 0x0ffffffc, 4)), '0xffc of a 256-byte function').toBe('0xffffffff');
    });

    test('outside every window: reads all ones for every size, writes dropped', async () => {
      const bus = await makeBus(backend, MULTI);
      addRaw(bus, 1, 16, 0, 0, 0x01160000); // exists in the store, but bus 16 is past segment 1's window
      addRaw(bus, 2, 0x0f, 0, 0, 0x020f0000); // bus 0x0f is before segment 2's first bus
      addRaw(bus, 3, 0xc9, 0, 0, 0x03c90000); // segment 3 decodes only bus 0xc8
      const before = snapshotAll(bus);
      const outside = [
        0, 4, ECAM_BASE - 4, ECAM_BASE - 1, SEG1_BASE - 4, SEG1_BASE + 16 * MiB, SEG1_BASE + 16 * MiB + 0x40,
        SEG2_BASE - 4, SEG2_BASE - MiB, SEG2_BASE + 16 * MiB, SEG3_BASE + MiB, SEG3_BASE + MiB + 0x40,
        0xfffffffc, 2 ** 40, 2 ** 52,
      ];
      for (const addr of outside) {
        for (const size of [1, 2, 4]) {
          expect(hex(bus.mmioRead(addr, size)), `${hex(addr)} size ${size}`).toBe(hex(onesOf(size)));
          expect(hex(bus.mmioRead(BigInt(addr), size)), `${hex(addr)}n size ${size}`).toBe(hex(onesOf(size)));
          bus.mmioWrite(addr, size, 0xffffffff);
          bus.mmioWrite(BigInt(addr), size, 0n);
        }
        expect(bus.mmioRead(addr, 8), `${hex(addr)} size 8`).toBe(0xffffffffffffffffn);
        bus.mmioWrite(addr, 8, 0xffffffffffffffffn);
      }
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
      for (const bdf of ['0001:10:00.0', '0002:0f:00.0', '0003:c9:00.0']) {
        expect(bus.configRead(bdf, 0x40, 4), `${bdf} not written`).toBe(0);
      }
    });

    test('a segment declared without an ECAM window is reached only through 0xCF8/0xCFC', async () => {
      const bus = await makeBus(backend, { segments: [{ segment: 0, ecam: false }], devices: [{ bdf: '00:01.0', model: 'test-endpoint' }] });
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0), 4)), 'no window at the default base').toBe('0xffffffff');
      bus.mmioWrite(ecam(0, 1, 0, 0x3c), 1, 0x12);
      expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
      expect(hex(bus.ioRead(0xcfc, 4))).toBe('0x51b36');
    });

    test('each segment window reaches only its own segment', async () => {
      const bus = await makeBus(backend, MULTI);
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0), 4)), 'segment 0 00:01.0: test endpoint').toBe('0x51b36');
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0, SEG1_BASE), 4)), 'segment 1 00:01.0: bridge').toBe('0x11b36');
      bus.mmioWrite(ecam(0, 1, 0, 0x3c, SEG1_BASE), 1, 0x42);
      expect(bus.configRead('0001:00:01.0', 0x3c, 1)).toBe(0x42);
      expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0);
      expect(hex(bus.mmioRead(SEG2_BASE, 4)), 'segment 2 bus 0x10 device 0: absent').toBe('0xffffffff');
    });

    test('8-byte accesses at 8-byte-aligned registers are two dword transactions (low dword first)', async () => {
      const bus = await makeBus(backend);
      for (const [bdf, regs] of [['00:01.0', [0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0xf8]], ['00:05.0', [0x00, 0x100, 0x108, 0xff8]]] as const) {
        const a = parseAddress(bdf);
        for (const reg of regs) {
          const want = (BigInt(bus.configRead(bdf, reg + 4, 4)) << 32n) | BigInt(bus.configRead(bdf, reg, 4));
          const got = bus.mmioRead(ecam(0, a.dev, a.fn, reg), 8);
          expect(typeof got).toBe('bigint');
          expect(hex(got), `${bdf} ${hex(reg)}`).toBe(hex(want));
          expect(hex(bus.mmioRead(BigInt(ecam(0, a.dev, a.fn, reg)), 8)), `${bdf} ${hex(reg)} (bigint address)`).toBe(hex(want));
        }
      }
      // Sizing the 64-bit BAR2-3 of the test endpoint with one 8-byte write.
      bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0xffffffffffffffffn);
      expect(hex(bus.configRead('00:01.0', 0x18, 4))).toBe('0xfff0000c');
      expect(hex(bus.configRead('00:01.0', 0x1c, 4))).toBe('0xffffffff');
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0x18), 8))).toBe('0xfffffffffff0000c');
      bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0n);
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0x18), 8))).toBe('0xc');
      // A number value: low 32 bits to the low dword, the rest to the high dword (each masked).
      bus.mmioWrite(ecam(0, 1, 0, 0x50), 8, 2 ** 40 + 0x12345);
      expect(hex(bus.configRead('00:01.0', 0x50, 4)), 'MSI upper address').toBe('0x12345');
      expect(hex(bus.configRead('00:01.0', 0x54, 4)), 'MSI data (16 bits) + read-only half').toBe('0x100');
      // Vendor/Device are read-only; Command in the high dword is written.
      bus.mmioWrite(ecam(0, 1, 0, 0x00), 8, 0x0000ffff_00000000n | 0xffffffffn);
      expect(hex(bus.configRead('00:01.0', 0x00, 4))).toBe('0x51b36');
      expect(hex(bus.configRead('00:01.0', 0x04, 2))).toBe('0x547');
    });

    test('unaligned 8-byte accesses read all ones and write nothing', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      for (const reg of [0x04, 0x0c, 0x14, 0x1c, 0x3c, 0x01, 0x02, 0x03, 0x05, 0x07, 0x4c, 0xfc]) {
        expect(bus.mmioRead(ecam(0, 1, 0, reg), 8), hex(reg)).toBe(0xffffffffffffffffn);
        bus.mmioWrite(ecam(0, 1, 0, reg), 8, 0xffffffffffffffffn);
        bus.mmioWrite(ecam(0, 1, 0, reg), 8, 0xffffffff);
      }
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
    });

    test('bigint addresses decode like numbers; bigints >= 2^53 or negative are never decoded', async () => {
      const bus = await makeBus(backend, MULTI);
      for (const [bdf, base] of MULTI_ADDRS) {
        expect(hex(bus.mmioRead(BigInt(base), 4)), bdf).toBe(hex(bus.configRead(bdf, 0, 4)));
        expect(hex(bus.mmioRead(BigInt(base) + 0x3cn, 1)), bdf).toBe(hex(bus.configRead(bdf, 0x3c, 1)));
      }
      bus.mmioWrite(BigInt(ecam(0, 1, 0, 0x3c)), 1, 0x33n);
      expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0x33);
      const before = snapshotAll(bus);
      for (const addr of [2n ** 53n, 2n ** 53n + BigInt(ECAM_BASE), 2n ** 64n + BigInt(ECAM_BASE), 2n ** 64n + BigInt(SEG2_BASE), 2n ** 100n, -1n, -BigInt(ECAM_BASE), -(2n ** 64n) + BigInt(ECAM_BASE)]) {
        for (const size of [1, 2, 4]) {
          expect(hex(bus.mmioRead(addr, size)), `${hex(addr)} size ${size}`).toBe(hex(onesOf(size)));
          bus.mmioWrite(addr, size, 0xffffffff);
        }
        expect(bus.mmioRead(addr, 8)).toBe(0xffffffffffffffffn);
        bus.mmioWrite(addr, 8, 0xffffffffffffffffn);
      }
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
    });

    test('a window reaching past 2^53 is refused in a topology; addresses at or above 2^52 are never decoded', async () => {
      const topology: Topology = {
        segments: [{ segment: 0, ecam: false }, { segment: 4, ecam: { base: 2 ** 53 - MiB, buses: [0, 1] } }],
        devices: [{ bdf: '0004:00:00.0', model: 'host-bridge' }],
      };
      await expect(makeBus(backend, topology)).rejects.toThrow(/segments\[1\]\.ecam\.base: the window ends at 0x20000000100000, past 2\^53/);
      // The core refuses windows past 2^52, the end of the decodable MMIO space.
      const bus = await makeBus(backend);
      expect(bus.core.setEcam(4, 2 ** 52 - MiB, 0, 1), 'a window past 2^52').toBe(-1);
      expect(bus.core.setEcam(4, 2 ** 52 - 2 * MiB, 0, 1), 'a window ending at 2^52').toBe(0);
      addRaw(bus, 4, 1, 0, 0, 0x04010000);
      const base = 2 ** 52 - 2 * MiB;
      expect(hex(bus.mmioRead(base + MiB, 4)), 'bus 1 just below 2^52').toBe('0x4010000');
      expect(hex(bus.mmioRead(BigInt(base + MiB), 4))).toBe('0x4010000');
      for (const a of [2 ** 52, 2 ** 53, 2n ** 52n, 2n ** 53n, 2n ** 64n - 1n]) {
        expect(hex(bus.mmioRead(a, 4)), `${a}`).toBe('0xffffffff');
        bus.mmioWrite(a, 4, 0xffffffff);
      }
      expect(hex(bus.core.configRead(4, 1, 0, 0, 0x40, 4)), 'no write landed').toBe('0x0');
    });

    test('non-integer, negative and non-finite number addresses read all ones and write nothing', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      for (const addr of [ECAM_BASE + 0.5, ECAM_BASE + 0x3c + 0.25, ECAM_BASE - 0.5, -ECAM_BASE, -1, -0.5, NaN, Infinity, -Infinity, 2 ** 64, 2 ** 64 + 2 ** 12, 1e300]) {
        for (const size of [1, 2, 4]) {
          expect(hex(bus.mmioRead(addr, size)), `${addr} size ${size}`).toBe(hex(onesOf(size)));
          bus.mmioWrite(addr, size, 0xffffffff);
        }
        expect(bus.mmioRead(addr, 8)).toBe(0xffffffffffffffffn);
        bus.mmioWrite(addr, 8, 0xffffffffffffffffn);
      }
      snapshotAll(bus).forEach((s, i) => expect(diffOffsets(before[i], s)).toEqual([]));
    });
  });

  describe('one store behind every mechanism', () => {
    test('a write through CF8 is seen through ECAM and configRead, and the other way round', async () => {
      const bus = await makeBus(backend);
      // CF8 -> ECAM, configRead.
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x04));
      bus.ioWrite(0xcfc, 2, 0x0006);
      expect(bus.mmioRead(ecam(0, 1, 0, 0x04), 2)).toBe(0x0006);
      expect(bus.configRead('00:01.0', 0x04, 2)).toBe(0x0006);
      // ECAM -> CF8, configRead.
      bus.mmioWrite(ecam(0, 1, 0, 0x3c), 1, 0x0b);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x3c));
      expect(bus.ioRead(0xcfc, 1)).toBe(0x0b);
      expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0x0b);
      // configWrite -> ECAM, CF8.
      bus.configWrite('00:01.0', 0x0c, 1, 0x10);
      expect(bus.mmioRead(ecam(0, 1, 0, 0x0c), 1)).toBe(0x10);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x0c));
      expect(bus.ioRead(0xcfc, 1)).toBe(0x10);
      // Functions 0 and 1 of a multi-function device are distinct through every path.
      bus.mmioWrite(ecam(0, 3, 1, 0x3c), 1, 0x31);
      bus.ioWrite(0xcf8, 4, cf8(0, 3, 0, 0x3c));
      bus.ioWrite(0xcfc, 1, 0x30);
      expect([bus.configRead('00:03.0', 0x3c, 1), bus.configRead('00:03.1', 0x3c, 1)]).toEqual([0x30, 0x31]);
    });

    test('firmware BAR sizing through CF8 reads back through ECAM', async () => {
      const bus = await makeBus(backend);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x10));
      const orig = bus.ioRead(0xcfc, 4);
      bus.ioWrite(0xcfc, 4, 0xffffffff);
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0x10), 4))).toBe('0xfffff000');
      bus.ioWrite(0xcfc, 4, orig);
      expect(bus.mmioRead(ecam(0, 1, 0, 0x10), 4)).toBe(orig);
    });

    test('write-1-to-clear through one mechanism is seen through the others', async () => {
      const bus = await makeBus(backend);
      poke(bus, '00:01.0', 0x06, le(0xf910, 2));
      bus.mmioWrite(ecam(0, 1, 0, 0x06), 2, 0x8000);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x04));
      expect(hex(bus.ioRead(0xcfe, 2))).toBe('0x7910');
      bus.ioWrite(0xcfe, 2, 0x4000);
      expect(hex(bus.configRead('00:01.0', 0x06, 2))).toBe('0x3910');
      bus.configWrite('00:01.0', 0x07, 1, 0xff);
      expect(hex(bus.mmioRead(ecam(0, 1, 0, 0x06), 2))).toBe('0x10');
    });
  });

  describe('hostile inputs never throw', () => {
    test('configRead/configWrite with hostile offsets, sizes and values', async () => {
      const bus = await makeBus(backend);
      for (const off of HOSTILE_NUMBERS) {
        for (const size of HOSTILE_SIZES) {
          const v = bus.configRead('00:01.0', off, size);
          expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `configRead(${off}, ${size}) = ${v}`).toBe(true);
          for (const value of HOSTILE_NUMBERS) bus.configWrite('00:01.0', off, size, value);
        }
      }
      expect(hex(bus.configRead('00:01.0', 0, 4)), 'still answers').toBe('0x51b36');
    });

    test('mmioRead/mmioWrite with hostile addresses, sizes and values', async () => {
      const bus = await makeBus(backend);
      const addrs: (number | bigint)[] = [...HOSTILE_NUMBERS, ...HOSTILE_BIGINTS];
      const values: (number | bigint)[] = [...HOSTILE_NUMBERS, -1n, 2n ** 64n, 2n ** 200n, -(2n ** 200n)];
      for (const addr of addrs) {
        for (const size of [...HOSTILE_SIZES, 1, 2, 4]) {
          const v = bus.mmioRead(addr, size);
          if (typeof v === 'bigint') expect(v >= 0n && v < 2n ** 64n, `mmioRead(${addr}, ${size})`).toBe(true);
          else expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `mmioRead(${addr}, ${size}) = ${v}`).toBe(true);
          for (const value of values) bus.mmioWrite(addr, size, value);
        }
      }
      // Hostile sizes and values at a decoded address.
      for (const size of HOSTILE_SIZES) {
        const v = bus.mmioRead(ECAM_BASE + 0x8000, size);
        expect(typeof v === 'bigint' || (Number.isInteger(v) && v >= 0 && v <= 0xffffffff)).toBe(true);
        for (const value of values) bus.mmioWrite(ECAM_BASE + 0x8000 + 0x3c, size, value);
      }
      expect(hex(bus.mmioRead(ECAM_BASE + 0x8000, 4)), 'still answers').toBe('0x51b36');
    });

    test('ioRead/ioWrite with hostile ports, sizes and values', async () => {
      const bus = await makeBus(backend);
      const ports = [...HOSTILE_NUMBERS, 0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff];
      for (const port of ports) {
        for (const size of [...HOSTILE_SIZES, 1, 2, 4]) {
          const v = bus.ioRead(port, size);
          expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `ioRead(${port}, ${size}) = ${v}`).toBe(true);
          for (const value of HOSTILE_NUMBERS) bus.ioWrite(port, size, value);
        }
      }
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
      expect(hex(bus.ioRead(0xcfc, 4)), 'still answers').toBe('0x51b36');
    });

    test('core entry points with hostile arguments return status codes, never throw', async () => {
      const bus = await makeBus(backend);
      const core = bus.core;
      const isStatus = (v: number) => Number.isInteger(v) && v <= 0 && v >= -4;
      for (const x of HOSTILE_NUMBERS) {
        expect(core.addFunction(x, x, x, x, x), `addFunction(${x} x5)`).toBeLessThan(0);
        expect(isStatus(core.setEcam(15, x, 0, 0)), `setEcam(15, ${x}, 0, 0)`).toBe(true);
        expect(isStatus(core.setEcam(x, 0x100000000 * 7, 0, 0)), `setEcam(${x}, ...)`).toBe(true);
        expect(isStatus(core.setEcam(14, 0x100000000 * 9, x, x)), `setEcam(14, ..., ${x}, ${x})`).toBe(true);
        const p = core.planeByte(x, x, x);
        expect(Number.isInteger(p) && p >= 0 && p <= 255, `planeByte(${x} x3) = ${p}`).toBe(true);
        core.configWrite(x, x, x, x, x, x, x);
        const r = core.configRead(x, x, x, x, x, x);
        expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff, `configRead(${x} x6) = ${r}`).toBe(true);
        const m = core.mmioRead(x, x);
        expect(Number.isInteger(m) && m >= 0 && m <= 0xffffffff).toBe(true);
        core.mmioWrite(x, x, x, x);
        core.ioWrite(x, x, x);
        expect(Number.isInteger(core.ioRead(x, x))).toBe(true);
      }
      expect(hex(bus.configRead('00:01.0', 0, 4)), 'still answers').toBe('0x51b36');
      // Slot numbers past the table or negative: NOT_FOUND, and nothing is loaded.
      for (const slot of [-1, -(2 ** 31), 4096, 2 ** 31 - 1, 1e9]) {
        expect(core.removeFunction(slot), `removeFunction(${slot})`).toBe(-4);
        expect(core.loadPlanes(slot, new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)), `loadPlanes(${slot})`).toBe(-4);
      }
      expect(hex(bus.configRead('00:00.0', 0, 4))).toBe('0x81b36');
    });
  });
});
