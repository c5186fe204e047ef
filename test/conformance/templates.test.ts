// Conformance: config spaces cloned from real dumps (the Firecracker sysfs dumps in
// ../shared/data/firecracker). A clone keeps the dump's bytes exactly — except the
// multi-function bit, which follows the topology — and its read-only bytes never change.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, bytesToHex, diffOffsets, hex, makeBus, merge, onesOf, snapshot,
} from '../helpers/vpci.js';
import { specCaps, specMasks } from '../helpers/spec-model.js';
import { SHARED_DATA } from '../helpers/shared-data.js';

const DIR = join(SHARED_DATA, 'firecracker');

interface Dump {
  bdf: string;
  config: Uint8Array;
  barSizes: { index: number; size: string }[];
}

/** The resource lines of a .info file: index = line number after the first, 6 = ROM. */
function barSizesOf(info: string): { index: number; size: string }[] {
  const lines = info.split('\n').slice(1).filter((l) => l.trim() !== '');
  const out: { index: number; size: string }[] = [];
  lines.forEach((line, index) => {
    const [start, end] = line.trim().split(/\s+/).map((v) => BigInt(v));
    if (start === 0n && end === 0n) return;
    out.push({ index, size: hex(end - start + 1n) });
  });
  return out;
}

const DUMPS: Dump[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.config'))
  .sort()
  .map((f) => {
    const bdf = f.replace(/\.config$/, '');
    return {
      bdf,
      config: new Uint8Array(readFileSync(join(DIR, f))),
      barSizes: barSizesOf(readFileSync(join(DIR, `${bdf}.info`), 'utf8')),
    };
  });

function cloneTopology(withSiblings: boolean): Topology {
  const devices: Topology['devices'] = [];
  for (const d of DUMPS) {
    devices.push({ bdf: d.bdf, name: d.bdf, template: { configHex: bytesToHex(d.config), barSizes: d.barSizes } });
    if (withSiblings) devices.push({ bdf: d.bdf.replace(/\.0$/, '.1'), model: 'test-endpoint' });
  }
  return { devices };
}

/**
 * What the guest must read from a clone: the dump, with the multi-function bit set by the rule.
 * A PCIe clone (with a PCIe capability) keeps all 4096 bytes; for a conventional one only the
 * first 256 bytes are compared here (what 256..4095 read is the subject of its own test below).
 */
function expectedBytes(d: Dump, hasSibling: boolean): Uint8Array {
  const express = specCaps(d.config).some((c) => c.id === 0x10);
  const out = new Uint8Array(d.config.subarray(0, express ? 4096 : 256));
  out[0x0e] = (d.config[0x0e] & 0x7f) | (hasSibling ? 0x80 : 0);
  return out;
}

function readAll(bus: Bus, bdf: string): Uint8Array {
  return snapshot(bus, bdf, 4096);
}

/** The guest's view of the region `expectedBytes` covers. */
function readExpected(bus: Bus, d: Dump): Uint8Array {
  const express = specCaps(d.config).some((c) => c.id === 0x10);
  return snapshot(bus, d.bdf, express ? 4096 : 256);
}

describe('Firecracker dumps (test data)', () => {
  test('six dumps with their BAR sizes are present', () => {
    expect(DUMPS.map((d) => d.bdf)).toEqual([0, 1, 2, 3, 4, 5].map((dev) => `0000:00:0${dev}.0`));
    expect(DUMPS.map((d) => d.barSizes)).toEqual([
      [],
      ...Array.from({ length: 5 }, () => [{ index: 0, size: '0x80000' }]),
    ]);
  });
});

describe.each(BACKENDS)('templates cloned from real dumps (%s backend)', (backend) => {
  test.each(DUMPS.map((d) => [d.bdf, d] as const))(
    '%s: the clone reads exactly the dump bytes (multi-function bit clear: no other function)',
    async (_bdf, d) => {
      const bus = await makeBus(backend, cloneTopology(false));
      const want = expectedBytes(d, false);
      expect(diffOffsets(want, readExpected(bus, d)).slice(0, 20)).toEqual([]);
      const got = readAll(bus, d.bdf);
      const dump = bus.dump().find((x) => `0000:00:${x.dev.toString(16).padStart(2, '0')}.${x.fn}` === d.bdf)!;
      expect(diffOffsets(got.subarray(0, dump.config.length), dump.config), 'dump() matches config reads').toEqual([]);
      expect(dump.config.length === 256 || dump.config.length === 4096).toBe(true);
    },
  );

  test.each(DUMPS.map((d) => [d.bdf, d] as const))(
    '%s: the clone with a sibling function 1 reads the dump bytes with the multi-function bit set',
    async (_bdf, d) => {
      const bus = await makeBus(backend, cloneTopology(true));
      expect(diffOffsets(expectedBytes(d, true), readExpected(bus, d)).slice(0, 20)).toEqual([]);
      expect(bus.configRead(d.bdf, 0x0e, 1) & 0x80).toBe(0x80);
    },
  );

  test.each(DUMPS.map((d) => [d.bdf, d] as const))(
    '%s: writes to read-only bytes never change them; writable bytes follow the specification masks',
    async (_bdf, d) => {
      const bus = await makeBus(backend, cloneTopology(false));
      const f = bus.functions().find((x) => x.bdf === d.bdf)!;
      const size = f.planes.size;
      const m = specMasks(d.config, new Map(d.barSizes.map((b) => [b.index, BigInt(b.size)])), size);
      const failures: string[] = [];
      for (let off = 0; off < 256; off += 4) {
        const accesses: [number, number, number][] = [
          [off, 4, 0xffffffff], [off, 4, 0],
          [off, 2, 0xffff], [off + 2, 2, 0xffff], [off, 2, 0], [off + 2, 2, 0],
          [off, 1, 0xff], [off + 1, 1, 0xff], [off + 2, 1, 0xff], [off + 3, 1, 0xff],
          [off, 1, 0], [off + 1, 1, 0], [off + 2, 1, 0], [off + 3, 1, 0],
          [off, 4, 0x5aa55aa5], [off, 4, 0],
        ];
        for (const [reg, width, value] of accesses) {
          const before = snapshot(bus, d.bdf, 256);
          bus.configWrite(d.bdf, reg, width, value);
          const after = snapshot(bus, d.bdf, 256);
          for (let i = 0; i < 256; i++) {
            const inAccess = i >= reg && i < reg + width;
            if (inAccess && m.unspecified[i]) continue;
            const v = (value >>> (8 * (i - reg))) & 0xff;
            const want = inAccess ? merge(before[i], v, m.w[i], m.c[i]) & 0xff : before[i];
            if (after[i] !== want) failures.push(`write ${hex(value)} x${width} at ${hex(reg)}: byte ${hex(i)} ${hex(before[i])} -> ${hex(after[i])}, expected ${hex(want)}`);
          }
        }
      }
      expect(failures.slice(0, 20)).toEqual([]);
      // Read-only bytes are still the dump's (the writable ones were left at 0 or their type bits).
      const now = snapshot(bus, d.bdf, 256);
      const ro = (i: number) => m.w[i] === 0 && m.c[i] === 0 && !m.unspecified[i];
      expect(diffOffsets(expectedBytes(d, false).subarray(0, 256), now, (i) => !ro(i))).toEqual([]);
      // Above 256 nothing is writable.
      const ext = readAll(bus, d.bdf);
      for (let off = 256; off < 4096; off += 4) {
        bus.configWrite(d.bdf, off, 4, 0xffffffff);
        bus.configWrite(d.bdf, off + 1, 1, 0x00);
      }
      expect(diffOffsets(ext, readAll(bus, d.bdf)).slice(0, 10)).toEqual([]);
    },
  );

  test.each(DUMPS.filter((d) => d.barSizes.length > 0).map((d) => [d.bdf, d] as const))(
    '%s: BAR0 (64-bit, size from the resource file) sizes to 512 KiB and restores its address',
    async (_bdf, d) => {
      const bus = await makeBus(backend, cloneTopology(false));
      const low = bus.configRead(d.bdf, 0x10, 4);
      const high = bus.configRead(d.bdf, 0x14, 4);
      expect(low & 0x7, 'mem64 type bits').toBe(0x4);
      bus.configWrite(d.bdf, 0x10, 4, 0xffffffff);
      bus.configWrite(d.bdf, 0x14, 4, 0xffffffff);
      expect(hex(bus.configRead(d.bdf, 0x10, 4))).toBe(hex((0xfff80000 | (low & 0xf)) >>> 0));
      expect(hex(bus.configRead(d.bdf, 0x14, 4))).toBe('0xffffffff');
      bus.configWrite(d.bdf, 0x10, 4, low);
      bus.configWrite(d.bdf, 0x14, 4, high);
      expect(diffOffsets(expectedBytes(d, false), readExpected(bus, d))).toEqual([]);
    },
  );

  test('the built-in firecracker-virtio-blk model (default 00:02.0) is the 0000:00:02.0 dump', async () => {
    const bus = await makeBus(backend);
    const d = DUMPS.find((x) => x.bdf === '0000:00:02.0')!;
    expect(diffOffsets(expectedBytes(d, false).subarray(0, 256), snapshot(bus, '00:02.0'))).toEqual([]);
    expect(hex(bus.configRead('00:02.0', 0x100, 4))).toBe('0xffffffff');
    expect(bus.functions().find((f) => f.bdf === '0000:00:02.0')!.barSizes).toEqual([{ index: 0, size: 0x80000n }]);
  });

  test.each([
    ['test endpoint', { model: 'test-endpoint' }],
    ['PCI-to-PCI bridge', { model: 'pci-bridge' }],
    ['32-bit I/O bridge', { model: 'pci-bridge', options: { io32: true } }],
    ['root port', { model: 'root-port', options: { serial: 77 } }],
    ['Firecracker virtio-blk', { model: 'firecracker-virtio-blk' }],
    ['PCIe endpoint with MSI-X, MSI (32-bit, masking) and PM', {
      descriptor: {
        vendorId: 0x8086, deviceId: 0x10d3, classCode: 0x020000,
        bars: [{ index: 0, kind: 'mem32', size: 0x20000 }, { index: 2, kind: 'io', size: 0x20 }, { index: 3, kind: 'mem64', size: 0x4000, prefetchable: true }],
        rom: { size: 0x40000 },
        capabilities: [
          { id: 'pm' }, { id: 'msi', vectors: 8, address64: false, perVectorMask: true },
          { id: 'pcie', portType: 'endpoint' },
          { id: 'msix', tableSize: 5, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 },
        ],
      },
    }],
  ] as const)('a template cloned from the bytes of a built %s gets the same bytes and write masks', async (_name, source) => {
    const built = await makeBus(backend, { devices: [{ bdf: '00:01.0', ...(source as object) }] });
    const f = built.functions()[0];
    const bytes = built.dump()[0].config;
    const clone = await makeBus(backend, {
      devices: [{
        bdf: '00:01.0',
        template: { configHex: bytesToHex(bytes), barSizes: f.barSizes.map((b) => ({ index: b.index, size: b.size })) },
      }],
    });
    expect(clone.functions()[0].planes.size).toBe(f.planes.size);
    const problems: string[] = [];
    for (let plane = 0; plane < 3; plane++) {
      for (let off = 0; off < f.planes.size; off++) {
        const a = built.core.planeByte(0, plane, off);
        const b = clone.core.planeByte(0, plane, off);
        if (a !== b) problems.push(`plane ${plane} byte ${hex(off)}: built ${hex(a)}, clone ${hex(b)}`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  test('a 256-byte dump with a PCIe capability is a PCIe function: Latency Timer read-only 0', async () => {
    // lspci -xxx shows only 256 bytes, also of PCIe functions.
    const built = await makeBus(backend, {
      devices: [{ bdf: '00:01.0', descriptor: { vendorId: 0x8086, deviceId: 0x1234, classCode: 0x020000, capabilities: [{ id: 'pcie', portType: 'endpoint' }] } }],
    });
    const bytes = built.dump()[0].config.subarray(0, 256);
    const bus = await makeBus(backend, { devices: [{ bdf: '00:01.0', template: { configHex: bytesToHex(bytes) } }] });
    bus.configWrite('00:01.0', 0x0d, 1, 0xff);
    expect(hex(bus.configRead('00:01.0', 0x0d, 1)), 'Latency Timer').toBe('0x0');
    built.configWrite('00:01.0', 0x0d, 1, 0xff);
    expect(hex(built.configRead('00:01.0', 0x0d, 1)), 'the built function agrees').toBe('0x0');
  });

  test('a 4096-byte dump without a PCIe capability keeps its 4 KiB as the real device answered, read-only past 0xff', async () => {
    // Linux reads the extended space of host bridges, so Firecracker's host bridge dump is 4096
    // bytes of what the device returned (zeros past 0xff): the clone answers the same.
    const d = DUMPS.find((x) => x.config.length === 4096)!;
    expect(specCaps(d.config).some((c) => c.id === 0x10), 'the host bridge dump has no PCIe capability').toBe(false);
    const bus = await makeBus(backend, cloneTopology(false));
    const view = new DataView(d.config.buffer, d.config.byteOffset, d.config.byteLength);
    const problems: string[] = [];
    for (const off of [0x100, 0x104, 0x200, 0xffc]) {
      bus.configWrite(d.bdf, off, 4, 0xffffffff);
      const v = bus.configRead(d.bdf, off, 4);
      if (v !== view.getUint32(off, true)) problems.push(`${d.bdf} configRead(${hex(off)}, 4) = ${hex(v)}`);
    }
    expect(problems).toEqual([]);
  });
});
