// Conformance: access sizes and offsets (every offset of the header area, dword-crossing and
// invalid sizes), the 256-byte conventional space vs the 4 KiB PCIe space, absent functions,
// and the multi-function bit of function 0's Header Type.
import { describe, expect, test } from 'vitest';
import { defaultTopology } from '../../src/topology/index.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, ECAM_BASE, bytesToHex, cf8, diffOffsets, ecam, hex, hotplugDrivenBits, makeBus, onesOf, parseAddress, slotOf, snapshot, snapshotAll,
} from '../helpers/vpci.js';

const DEFAULT_BDFS = ['00:00.0', '00:01.0', '00:02.0', '00:03.0', '00:03.1', '00:04.0', '00:05.0', '00:06.0', '00:07.0', '00:08.0', '00:09.0'];
const ABSENT_BDFS = ['00:03.2', '00:03.7', '00:01.1', '00:0a.0', '00:1f.7', '01:00.0', 'ff:1f.7', '0001:00:00.0', '000f:00:01.0', 'ffff:00:00.0'];
const INVALID_SIZES = [0, 3, 5, 6, 7, 8, 16, 32, -1, -2, -4, 2 ** 31, -(2 ** 31), NaN, Infinity, -Infinity];
const NON_INTEGER_SIZES = [1.5, 2.5, 4.25, 0.999, 2 ** 32 + 1, 2 ** 32 + 2, 2 ** 32 + 4, -(2 ** 32) + 4];

describe.each(BACKENDS)('access sizes and offsets (%s backend)', (backend) => {
  test('default topology holds the documented functions', async () => {
    const bus = await makeBus(backend);
    // Two more sit behind the bridges; no config cycle reaches them before bus numbers are set.
    const rest = DEFAULT_BDFS.slice(7).map((b) => `0000:${b}`);
    expect(bus.functions().map((f) => f.path)).toEqual([
      ...DEFAULT_BDFS.slice(0, 6).map((b) => `0000:${b}`), '0000:00:04.0/00.0', '0000:00:05.0', '0000:00:05.0/00.0', ...rest,
    ]);
    expect(bus.functions().map((f) => bus.addressOf(f.path))).toEqual([
      ...DEFAULT_BDFS.slice(0, 6).map((b) => `0000:${b}`), undefined, '0000:00:05.0', undefined, ...rest,
    ]);
    expect(bus.dump().map((d) => d.config.length)).toEqual([256, 256, 256, 256, 256, 256, 4096, 256, 256, 256, 4096]);
    expect(DEFAULT_BDFS.map((b) => hex(bus.configRead(b, 0x00, 4)))).toEqual(
      ['0x81b36', '0x51b36', '0x10421af4', '0x51b36', '0x51b36', '0x11b36', '0xc1b36', '0x10441af4', '0x10421af4', '0xfe1b36', '0xc1b36'],
    );
    expect(DEFAULT_BDFS.map((b) => bus.configRead(b, 0x3d, 1)), 'interrupt pins').toEqual([0, 1, 0, 1, 2, 1, 1, 1, 1, 1, 1]);
  });

  test.each(DEFAULT_BDFS)('%s: byte and word reads at every offset 0..0xff compose the dword read', async (bdf) => {
    const bus = await makeBus(backend);
    const problems: string[] = [];
    for (let off = 0; off < 256; off++) {
      const dword = bus.configRead(bdf, off & ~3, 4);
      const lane = off & 3;
      const byte = bus.configRead(bdf, off, 1);
      if (byte !== ((dword >>> (8 * lane)) & 0xff)) problems.push(`byte ${hex(off)}: ${hex(byte)} vs dword ${hex(dword)}`);
      if (lane <= 2) {
        const word = bus.configRead(bdf, off, 2);
        if (word !== ((dword >>> (8 * lane)) & 0xffff)) problems.push(`word ${hex(off)}: ${hex(word)} vs dword ${hex(dword)}`);
      }
      if (lane === 0) {
        let composed = 0;
        for (let i = 3; i >= 0; i--) composed = composed * 256 + bus.configRead(bdf, off + i, 1);
        if (composed !== dword) problems.push(`dword ${hex(off)}: ${hex(dword)} vs bytes ${hex(composed)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test.each(DEFAULT_BDFS)('%s: dword-crossing reads at every offset read all ones for their size', async (bdf) => {
    const bus = await makeBus(backend);
    const problems: string[] = [];
    for (let off = 0; off < 256; off++) {
      for (const size of [2, 4]) {
        if ((off & 3) + size <= 4) continue;
        const v = bus.configRead(bdf, off, size);
        if (v !== onesOf(size)) problems.push(`${size} bytes at ${hex(off)}: ${hex(v)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test.each(DEFAULT_BDFS)('%s: dword-crossing writes at every offset write nothing', async (bdf) => {
    const bus = await makeBus(backend);
    const before = snapshotAll(bus);
    for (let off = 0; off < 256; off++) {
      for (const size of [2, 4]) {
        if ((off & 3) + size <= 4) continue;
        bus.configWrite(bdf, off, size, 0xffffffff);
        bus.configWrite(bdf, off, size, 0);
      }
    }
    const after = snapshotAll(bus);
    after.forEach((a, i) => expect(diffOffsets(before[i], a), DEFAULT_BDFS[i]).toEqual([]));
  });

  test.each(DEFAULT_BDFS)('%s: an in-dword write at every offset touches only its own bytes', async (bdf) => {
    const bus = await makeBus(backend);
    const problems: string[] = [];
    // A hot-plug port's controller answers Slot Control commands device-side: not the write's doing.
    const driven = hotplugDrivenBits(snapshot(bus, bdf));
    const steady = (a: Uint8Array) => a.map((b, i) => b & ~driven[i]);
    for (let off = 0; off < 256; off++) {
      for (const size of [1, 2, 4]) {
        if ((off & 3) + size > 4) continue;
        for (const v of [0xffffffff, 0]) {
          const before = steady(snapshot(bus, bdf));
          bus.configWrite(bdf, off, size, v);
          const d = diffOffsets(before, steady(snapshot(bus, bdf)), (o) => o >= off && o < off + size);
          if (d.length) problems.push(`${size} bytes at ${hex(off)} value ${hex(v)} changed ${d.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('invalid sizes read 0xffffffff and write nothing (configRead/configWrite, ECAM, 0xCFC)', async () => {
    const bus = await makeBus(backend);
    const before = snapshotAll(bus);
    for (const size of INVALID_SIZES) {
      for (const off of [0x00, 0x04, 0x0c, 0x3c]) {
        expect(hex(bus.configRead('00:01.0', off, size)), `configRead size ${size} at ${hex(off)}`).toBe('0xffffffff');
        bus.configWrite('00:01.0', off, size, 0xffffffff);
        if (size !== 8) {
          expect(hex(bus.mmioRead(ecam(0, 1, 0, off), size)), `ECAM size ${size} at ${hex(off)}`).toBe('0xffffffff');
          bus.mmioWrite(ecam(0, 1, 0, off), size, 0xffffffff);
        }
        bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, off));
        expect(hex(bus.ioRead(0xcfc, size)), `0xCFC size ${size} at ${hex(off)}`).toBe('0xffffffff');
        bus.ioWrite(0xcfc, size, 0xffffffff);
      }
    }
    const after = snapshotAll(bus);
    after.forEach((a, i) => expect(diffOffsets(before[i], a), DEFAULT_BDFS[i]).toEqual([]));
  });

  test('sizes that are not exactly 1, 2 or 4 (fractions, 2^32 + n) read all ones and write nothing', async () => {
    const bus = await makeBus(backend);
    const before = snapshotAll(bus);
    const problems: string[] = [];
    for (const size of NON_INTEGER_SIZES) {
      const r = bus.configRead('00:01.0', 0x00, size);
      if (r !== 0xffffffff) problems.push(`configRead('00:01.0', 0, ${size}) = ${hex(r)}`);
      bus.configWrite('00:01.0', 0x04, size, 0xffffffff);
      bus.configWrite('00:01.0', 0x3c, size, 0xffffffff);
      const m = bus.mmioRead(ecam(0, 1, 0, 0), size);
      if (m !== 0xffffffff) problems.push(`mmioRead(ECAM 00:01.0 0x00, ${size}) = ${hex(m)}`);
      bus.mmioWrite(ecam(0, 1, 0, 0x3c), size, 0xffffffff);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
      const io = bus.ioRead(0xcfc, size);
      if (io !== 0xffffffff) problems.push(`ioRead(0xCFC, ${size}) = ${hex(io)}`);
      bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x04));
      bus.ioWrite(0xcfc, size, 0xffffffff);
    }
    const after = snapshotAll(bus);
    after.forEach((a, i) => {
      const d = diffOffsets(before[i], a);
      if (d.length) problems.push(`${DEFAULT_BDFS[i]} changed: ${d.join(', ')}`);
    });
    expect(problems).toEqual([]);
  });

  describe('conventional (256-byte) and PCI Express (4 KiB) config spaces', () => {
    test('a conventional function reads all ones at 256..4095 for every size, and drops writes there', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      for (const bdf of ['00:00.0', '00:01.0', '00:02.0', '00:03.1', '00:04.0']) {
        const problems: string[] = [];
        for (let off = 256; off < 4096; off++) {
          for (const size of [1, 2, 4]) {
            if ((off & 3) + size > 4) continue;
            const v = bus.configRead(bdf, off, size);
            if (v !== onesOf(size)) problems.push(`${size} at ${hex(off)}: ${hex(v)}`);
            bus.configWrite(bdf, off, size, 0);
          }
          const e = bus.mmioRead(ecam(0, parseAddress(bdf).dev, parseAddress(bdf).fn, off), 1);
          if (e !== 0xff) problems.push(`ECAM byte at ${hex(off)}: ${hex(e)}`);
        }
        expect(problems.slice(0, 10), bdf).toEqual([]);
      }
      const after = snapshotAll(bus);
      after.forEach((a, i) => expect(diffOffsets(before[i], a), DEFAULT_BDFS[i]).toEqual([]));
    });

    test('a PCIe function (root port) reads its extended space 256..4095 and all ones from 4096 on', async () => {
      const bus = await makeBus(backend);
      expect(hex(bus.configRead('00:05.0', 0x100, 4)), 'DSN header, next AER at 0x10c').toBe('0x10c10003');
      expect(bus.configRead('00:05.0', 0xffc, 4), 'last dword of the space').toBe(0);
      expect(bus.configRead('00:05.0', 0xfff, 1)).toBe(0);
      for (const off of [0x1000, 0x1001, 0x1004, 0x2000, 0xffff, 0x10000, 0x7ffffffc]) {
        expect(hex(bus.configRead('00:05.0', off, 4)), hex(off)).toBe('0xffffffff');
        expect(hex(bus.configRead('00:05.0', off, 1)), hex(off)).toBe('0xff');
      }
      for (const off of [0x1000, 0x4000, 0xfffffffc]) {
        expect(hex(bus.configRead('00:01.0', off, 4)), `conventional ${hex(off)}`).toBe('0xffffffff');
      }
    });

    test('negative offsets read all ones and write nothing', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      for (const off of [-1, -4, -256, -4096]) {
        expect(hex(bus.configRead('00:05.0', off, 4)), String(off)).toBe('0xffffffff');
        expect(hex(bus.configRead('00:01.0', off, 1)), String(off)).toBe('0xff');
        bus.configWrite('00:01.0', off, 4, 0xffffffff);
        bus.configWrite('00:05.0', off, 1, 0xff);
      }
      snapshotAll(bus).forEach((a, i) => expect(diffOffsets(before[i], a)).toEqual([]));
    });
  });

  describe('absent functions', () => {
    test.each(ABSENT_BDFS)('%s reads all ones for every size and offset (vendor 0xffff)', async (bdf) => {
      const bus = await makeBus(backend);
      expect(hex(bus.configRead(bdf, 0, 2)), 'vendor ID').toBe('0xffff');
      const problems: string[] = [];
      for (let off = 0; off < 4096; off += off < 256 ? 1 : 61) {
        for (const size of [1, 2, 4]) {
          const v = bus.configRead(bdf, off, size);
          if (v !== onesOf(size)) problems.push(`${size} at ${hex(off)}: ${hex(v)}`);
        }
      }
      expect(problems.slice(0, 10)).toEqual([]);
    });

    test('absent functions read all ones through ECAM and 0xCF8/0xCFC', async () => {
      const bus = await makeBus(backend);
      for (const bdf of ABSENT_BDFS) {
        const a = parseAddress(bdf);
        if (a.seg !== 0) continue;
        expect(hex(bus.mmioRead(ecam(a.bus, a.dev, a.fn, 0), 4)), `ECAM ${bdf}`).toBe('0xffffffff');
        expect(bus.mmioRead(ecam(a.bus, a.dev, a.fn, 0), 8), `ECAM 8 ${bdf}`).toBe(0xffffffffffffffffn);
        bus.ioWrite(0xcf8, 4, cf8(a.bus, a.dev, a.fn, 0));
        expect(hex(bus.ioRead(0xcfc, 4)), `CF8 ${bdf}`).toBe('0xffffffff');
        expect(hex(bus.ioRead(0xcfe, 2)), `CF8 ${bdf}`).toBe('0xffff');
      }
    });

    test('writes to absent functions change nothing anywhere (configWrite, ECAM, 0xCFC)', async () => {
      const bus = await makeBus(backend);
      const before = snapshotAll(bus);
      for (const bdf of ABSENT_BDFS) {
        const a = parseAddress(bdf);
        for (let off = 0; off < 0x1000; off += off < 0x100 ? 1 : 4) {
          for (const size of [1, 2, 4]) {
            if ((off & 3) + size > 4) continue;
            bus.configWrite(bdf, off, size, 0xffffffff);
            if (a.seg === 0) bus.mmioWrite(ecam(a.bus, a.dev, a.fn, off), size, 0xffffffff);
          }
          if (a.seg === 0 && off < 0x100) {
            bus.ioWrite(0xcf8, 4, cf8(a.bus, a.dev, a.fn, off));
            bus.ioWrite(0xcfc + (off & 3), 1, 0xff);
          }
        }
        expect(hex(bus.configRead(bdf, 0, 4)), `${bdf} still absent`).toBe('0xffffffff');
      }
      const after = snapshotAll(bus);
      after.forEach((a, i) => expect(diffOffsets(before[i], a), DEFAULT_BDFS[i]).toEqual([]));
      expect(bus.dump().map((d) => bytesToHex(d.config))).toEqual(before.map(bytesToHex));
    });
  });

  describe('multi-function bit (Header Type bit 7 of function 0)', () => {
    test('set on function 0 of a device with another function, clear on the other function and on single-function devices', async () => {
      const bus = await makeBus(backend);
      expect(hex(bus.configRead('00:03.0', 0x0e, 1)), '00:03.0 has 00:03.1').toBe('0x80');
      expect(hex(bus.configRead('00:03.1', 0x0e, 1)), '00:03.1 (not function 0)').toBe('0x0');
      expect(hex(bus.configRead('00:01.0', 0x0e, 1)), 'single-function endpoint').toBe('0x0');
      expect(hex(bus.configRead('00:04.0', 0x0e, 1)), 'single-function bridge').toBe('0x1');
      expect(hex(bus.configRead('00:05.0', 0x0e, 1)), 'single-function root port').toBe('0x1');
      expect(hex(bus.configRead('00:03.0', 0x0c, 4)), 'dword read shows it too').toBe('0x800000');
    });

    test('set when the only other function is a high one (function 0 + function 5)', async () => {
      const topology: Topology = {
        devices: [
          { bdf: '00:07.0', model: 'pci-bridge' },
          { bdf: '00:07.5', model: 'test-endpoint' },
        ],
      };
      const bus = await makeBus(backend, topology);
      expect(hex(bus.configRead('00:07.0', 0x0e, 1))).toBe('0x81');
      expect(hex(bus.configRead('00:07.5', 0x0e, 1))).toBe('0x0');
      for (const fn of [1, 2, 3, 4, 6, 7]) {
        expect(hex(bus.configRead(`00:07.${fn}`, 0x00, 4)), `00:07.${fn} absent`).toBe('0xffffffff');
      }
    });

    test('does not depend on the order of the functions in the topology', async () => {
      const topology: Topology = {
        devices: [
          { bdf: '00:03.1', model: 'test-endpoint' },
          { bdf: '00:03.0', model: 'pci-bridge' },
          { bdf: '00:04.2', model: 'host-bridge' },
          { bdf: '00:04.0', model: 'host-bridge' },
        ],
      };
      const bus = await makeBus(backend, topology);
      expect(hex(bus.configRead('00:03.0', 0x0e, 1))).toBe('0x81');
      expect(hex(bus.configRead('00:04.0', 0x0e, 1))).toBe('0x80');
      expect(hex(bus.configRead('00:03.1', 0x0e, 1))).toBe('0x0');
    });

    test('the guest cannot write the multi-function bit', async () => {
      const bus = await makeBus(backend);
      for (const [bdf, want] of [['00:03.0', 0x80], ['00:01.0', 0x00], ['00:04.0', 0x01]] as const) {
        bus.configWrite(bdf, 0x0e, 1, want ^ 0x80);
        expect(hex(bus.configRead(bdf, 0x0e, 1)), `${bdf} after byte write`).toBe(hex(want));
        bus.configWrite(bdf, 0x0c, 4, 0xffffffff);
        expect(hex(bus.configRead(bdf, 0x0e, 1)), `${bdf} after dword write`).toBe(hex(want));
        bus.mmioWrite(ecam(0, parseAddress(bdf).dev, parseAddress(bdf).fn, 0x0e), 1, 0x7f);
        expect(hex(bus.configRead(bdf, 0x0e, 1)), `${bdf} after ECAM write`).toBe(hex(want));
      }
    });

    test('a template dump with bit 7 set but no other function reads it clear; one without it but with a sibling reads it set', async () => {
      const config = new Uint8Array(256);
      config.set([0xf4, 0x1a, 0x42, 0x10], 0);
      config[0x0b] = 0x01;
      const single = new Uint8Array(config);
      single[0x0e] = 0x80; // the dump says multi-function
      const multi = new Uint8Array(config);
      multi[0x0e] = 0x00; // the dump says single-function
      const topology: Topology = {
        devices: [
          { bdf: '00:01.0', template: { configHex: bytesToHex(single) } },
          { bdf: '00:02.0', template: { configHex: bytesToHex(multi) } },
          { bdf: '00:02.3', model: 'test-endpoint' },
        ],
      };
      const bus = await makeBus(backend, topology);
      expect(hex(bus.configRead('00:01.0', 0x0e, 1))).toBe('0x0');
      expect(hex(bus.configRead('00:02.0', 0x0e, 1))).toBe('0x80');
      expect(bus.dump()[0].config[0x0e]).toBe(0x00);
      expect(bus.dump()[1].config[0x0e]).toBe(0x80);
    });

    test('follows functions added and removed in the core', async () => {
      const bus = await makeBus(backend);
      // Remove 00:03.1: function 0 becomes single-function.
      expect(bus.core.removeFunction(slotOf(bus, '00:03.1'))).toBe(0);
      expect(hex(bus.configRead('00:03.1', 0, 4))).toBe('0xffffffff');
      expect(hex(bus.configRead('00:03.0', 0x0e, 1))).toBe('0x0');
      // Add a function 7 to 00:01.0: its function 0 becomes multi-function.
      const slot = bus.core.addFunction(0, 0, 1, 7, 256);
      expect(slot).toBeGreaterThanOrEqual(0);
      const cfg = new Uint8Array(256);
      cfg.set([0x34, 0x12, 0x78, 0x56]);
      expect(bus.core.loadPlanes(slot, cfg, new Uint8Array(256), new Uint8Array(256))).toBe(0);
      expect(hex(bus.configRead('00:01.0', 0x0e, 1))).toBe('0x80');
      expect(hex(bus.configRead('00:01.7', 0, 4))).toBe('0x56781234');
      expect(bus.core.removeFunction(slot)).toBe(0);
      expect(hex(bus.configRead('00:01.0', 0x0e, 1))).toBe('0x0');
      // Re-loading function 0's planes keeps the rule (the loaded byte says multi-function).
      const f0 = slotOf(bus, '00:01.0');
      const planes = [0, 1, 2].map((p) => Uint8Array.from({ length: 256 }, (_, i) => bus.core.planeByte(f0, p, i)));
      planes[0][0x0e] = 0x80;
      bus.core.loadPlanes(f0, planes[0], planes[1], planes[2]);
      expect(hex(bus.configRead('00:01.0', 0x0e, 1))).toBe('0x0');
    });
  });

  test('ECAM base in the default topology is 0xB0000000 for buses 0-255', async () => {
    const bus = await makeBus(backend, defaultTopology);
    expect(hex(bus.mmioRead(ECAM_BASE, 4))).toBe(hex(bus.configRead('00:00.0', 0, 4)));
    expect(bus.configRead('00:00.0', 0, 4)).not.toBe(0xffffffff);
  });
});
