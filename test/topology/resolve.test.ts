// Good topologies: descriptors written with "0x..." strings and bigints, templates cloned from
// real dumps (lspci text, configHex, files through a reader), and what the bus then shows: the
// dump's bytes unchanged, and BAR sizing probes that read back what real QEMU answered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { fileReader } from '../../src/runtime/node/index.js';
import { defaultTopology, formatBdf, resolveTopology } from '../../src/topology/index.js';
import type { Topology, TopologyDevice } from '../../src/topology/index.js';
import { SHARED_DATA } from '../helpers/shared-data.js';

const DATA = SHARED_DATA;
const QEMU = join(DATA, 'qemu');
const BACKENDS = ['wasm', 'ts'] as const;
const SOURCE = 'x.json';

interface QemuBar { index: number; type: string; size?: number; readback_ffffffff: number; readback_hi_ffffffff?: number }
interface QemuFunction {
  bdf: string; bus: number; dev: number; fn: number; header_type: number;
  config_initial_hex: string; bars: QemuBar[];
  rom: { offset: number; readback_fffffffe: number; size?: number };
}
const pcFull = JSON.parse(readFileSync(join(QEMU, 'pc-full.json'), 'utf8')) as { functions: QemuFunction[] };
const initialText = readFileSync(join(QEMU, 'pc-full.initial.lspci-dump.txt'), 'utf8');

/** barSizes of a pc-full.json function: implemented BARs and the ROM. */
function barSizesOf(f: QemuFunction): { index: number; size: number }[] {
  const sizes = f.bars.filter((b) => b.type !== 'unimplemented').map((b) => ({ index: b.index, size: b.size! }));
  if (f.rom.size) sizes.push({ index: 6, size: f.rom.size });
  return sizes;
}
const byBdf = (bdf: string) => pcFull.functions.find((f) => f.bdf === bdf)!;
const bytesOfHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** The config space as the guest reads it through configRead (dwords). */
function read(bus: Bus, bdf: string, size = 256): Uint8Array {
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  for (let o = 0; o < size; o += 4) v.setUint32(o, bus.configRead(bdf, o, 4), true);
  return out;
}

/** BAR sizing probe: write all ones, read back, restore. */
function probe(bus: Bus, bdf: string, offset: number, ones = 0xffffffff): number {
  const old = bus.configRead(bdf, offset, 4);
  bus.configWrite(bdf, offset, 4, ones);
  const got = bus.configRead(bdf, offset, 4);
  bus.configWrite(bdf, offset, 4, old);
  expect(bus.configRead(bdf, offset, 4), `restored ${bdf}+${offset.toString(16)}`).toBe(old);
  return got;
}

describe('descriptors with "0x..." strings and bigints', () => {
  const json = JSON.stringify({
    segments: [{ segment: 0, ecam: { base: '0xe0000000', buses: [0, 15] } }],
    devices: [{
      bdf: '00:00.0',
      descriptor: {
        vendorId: '0x1af4', deviceId: '0x1052', classCode: '0x020000', revision: '0x01', interruptPin: 1,
        subsystemVendorId: '0x1af4', subsystemId: '0x1100',
        bars: [
          { index: 0, kind: 'mem64', size: '0x100000000', prefetchable: true },
          { index: 2, kind: 'io', size: '0x20', address: '0xc040' },
          { index: 3, kind: 'mem64', size: '0x8000000000000000' },
          { index: 5, kind: 'mem32', size: '0x1000', address: '0xfebf1000' },
        ],
        rom: { size: '0x8000' },
        capabilities: [{ id: 'pm', offset: '0x60' }, { id: 'msi', vectors: 4, offset: '0x50' }],
      },
    }],
  });

  it.each(BACKENDS)('resolve to the values given (%s)', async (backend) => {
    const bus = await createBus({ backend, topology: json, source: SOURCE });
    const f = bus.functions()[0];
    expect(f.bdf).toBe('0000:00:00.0');
    expect(f.barSizes).toEqual([
      { index: 0, size: 0x100000000n }, { index: 2, size: 0x20n }, { index: 3, size: 1n << 63n }, { index: 5, size: 0x1000n }, { index: 6, size: 0x8000n },
    ]);
    expect(bus.configRead('00:00.0', 0, 4)).toBe(0x10521af4);
    expect(bus.configRead('00:00.0', 0x08, 4)).toBe(0x02000001);
    expect(bus.configRead('00:00.0', 0x2c, 4)).toBe(0x11001af4);
    expect(bus.configRead('00:00.0', 0x34, 1)).toBe(0x60);
    expect(bus.configRead('00:00.0', 0x60, 2)).toBe(0x5001); // PM -> MSI
    expect(bus.configRead('00:00.0', 0x50, 2)).toBe(0x0005);
    expect(bus.configRead('00:00.0', 0x52, 2) & 0x0e).toBe(2 << 1); // 4 vectors
    // the window is where "0xe0000000" says
    expect(bus.mmioRead(0xe0000000, 4)).toBe(0x10521af4);
    expect(bus.mmioRead(0xe0000000n + 0x14n, 4)).toBe(0x00000000);
    expect(bus.mmioRead(0xb0000000, 4)).toBe(0xffffffff);
    // BAR registers and their sizing
    expect(bus.configRead('00:00.0', 0x18, 4)).toBe(0xc041);
    expect(bus.configRead('00:00.0', 0x24, 4)).toBe(0xfebf1000);
    expect(probe(bus, '00:00.0', 0x10)).toBe(0x0000000c); // 4 GiB: nothing writable in the low dword
    expect(probe(bus, '00:00.0', 0x14)).toBe(0xffffffff);
    expect(probe(bus, '00:00.0', 0x18)).toBe(0xffffffe1);
    expect(probe(bus, '00:00.0', 0x1c)).toBe(0x00000004);
    expect(probe(bus, '00:00.0', 0x20)).toBe(0x80000000);
    expect(probe(bus, '00:00.0', 0x24)).toBe(0xfffff000);
    expect(probe(bus, '00:00.0', 0x30, 0xfffffffe)).toBe(0xffff8000);
  });

  it.each(BACKENDS)('bigints and "0x..." serials in an object topology (%s)', async (backend) => {
    const topology: Topology = {
      devices: [{
        bdf: '0000:00:1f.0',
        descriptor: {
          vendorId: 0x8086, deviceId: 0x1234, classCode: 0x010802, headerType: 0,
          bars: [{ index: 0, kind: 'mem64', size: 1n << 40n, address: 0x30000000000n }],
          capabilities: [{ id: 'pcie', portType: 'endpoint' }, { id: 'msix', tableSize: 16, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 }],
          extendedCapabilities: [{ id: 'dsn', serial: 0x0123456789abcdefn }],
        },
      }],
    };
    const bus = await createBus({ backend, topology });
    const f = bus.functions()[0];
    expect(f.planes.size).toBe(4096);
    expect(f.barSizes).toEqual([{ index: 0, size: 1n << 40n }]);
    expect(bus.configRead('00:1f.0', 0x10, 4)).toBe(0x00000004);
    expect(bus.configRead('00:1f.0', 0x14, 4)).toBe(0x300);
    expect(probe(bus, '00:1f.0', 0x10)).toBe(0x00000004);
    expect(probe(bus, '00:1f.0', 0x14)).toBe(0xffffff00);
    // DSN at 0x100: header 0x0003, version 1, next 0; serial low then high dword
    expect(bus.configRead('00:1f.0', 0x100, 4)).toBe(0x00010003);
    expect(bus.configRead('00:1f.0', 0x104, 4)).toBe(0x89abcdef);
    expect(bus.configRead('00:1f.0', 0x108, 4)).toBe(0x01234567);
    // the same as a JSON "0x..." string
    const viaJson = await resolveTopology(JSON.stringify(topology, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
    expect(Buffer.from(viaJson.functions[0].planes.config)).toEqual(Buffer.from(f.planes.config));
    expect(Buffer.from(viaJson.functions[0].planes.wmask)).toEqual(Buffer.from(f.planes.wmask));
  });

  it('model options take "0x..." strings too', async () => {
    const t = await resolveTopology(JSON.stringify({ devices: [{ bdf: '00:00.0', model: 'test-endpoint', options: { vendorId: '0x1234', deviceId: '0xabcd', msiVectors: '0x8' } }] }));
    expect(t.functions[0].planes.get(0, 4)).toBe(0xabcd1234);
    const msi = 0x48;
    expect((t.functions[0].planes.get(msi + 2, 2) >> 1) & 7).toBe(3);
  });
});

describe('the default topology', () => {
  it.each(BACKENDS)('resolves to its thirteen functions in order, two of them behind bridges (%s)', async (backend) => {
    const bus = await createBus({ backend });
    expect(bus.functions().map((f) => [f.path, f.kind, f.parent, f.bus])).toEqual([
      ['0000:00:00.0', 'host-bridge', -1, 0], ['0000:00:01.0', 'test-endpoint', -1, 0], ['0000:00:02.0', 'firecracker-virtio-blk', -1, 0],
      ['0000:00:03.0', 'test-endpoint', -1, 0], ['0000:00:03.1', 'test-endpoint', -1, 0], ['0000:00:04.0', 'pci-bridge', -1, 0],
      ['0000:00:04.0/00.0', 'test-endpoint', 5, -1], ['0000:00:05.0', 'root-port', -1, 0], ['0000:00:05.0/00.0', 'virtio-rng', 7, -1],
      ['0000:00:06.0', 'virtio-rng', -1, 0], ['0000:00:07.0', 'virtio-blk', -1, 0], ['0000:00:08.0', 'test-device', -1, 0],
      ['0000:00:09.0', 'root-port', -1, 0],
    ]);
    expect(bus.functions().map((f) => f.id)).toEqual([undefined, undefined, undefined, undefined, undefined, 'bridge', undefined, 'rootport', undefined, undefined, undefined, undefined, 'hotplug']);
    // the endpoint behind the bridge has mem32 + io + ROM; the virtio device behind the root port
    // a 64-bit BAR (its virtio structures) and a 32-bit one (its MSI-X table)
    expect(bus.functions()[6].barSizes).toEqual([{ index: 0, size: 0x2000n }, { index: 1, size: 0x40n }, { index: 6, size: 0x8000n }]);
    expect(bus.functions()[8].barSizes).toEqual([{ index: 1, size: 0x1000n }, { index: 4, size: 0x4000n }]);
    expect(bus.functions()[8].planes.get(0x20, 4) & 0x6).toBe(0x4); // BAR 4: mem64
    // before firmware writes bus numbers only the root bus answers
    expect(bus.dump().map((d) => formatBdf(d))).toEqual(bus.functions().filter((f) => f.parent < 0).map((f) => f.bdf));
    expect(bus.addressOf('00:04.0/00.0')).toBeUndefined();
    expect(bus.topology.segments).toEqual([{ segment: 0, ecam: { base: 0xb0000000, busStart: 0, busEnd: 255 } }]);
    // The multi-function device: bit 7 on 03.0 only
    expect(bus.configRead('00:03.0', 0x0e, 1)).toBe(0x80);
    expect(bus.configRead('00:03.1', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('00:01.0', 0x0e, 1)).toBe(0x00);
    expect(bus.configRead('00:03.1', 0x3d, 1)).toBe(2);
    expect(bus.configRead('00:05.0', 0x100, 4)).toBe(0x10c10003); // DSN v1, then AER at 0x10c
    expect(bus.configRead('00:04.0', 0x100, 4)).toBe(0xffffffff);
    // the object itself is JSON: the file format round-trips
    const again = await resolveTopology(JSON.stringify(defaultTopology));
    expect(again.functions.map((f) => Buffer.from(f.planes.config).toString('hex')))
      .toEqual(bus.functions().map((f) => Buffer.from(f.planes.config).toString('hex')));
  });
});

describe('templates from the QEMU pc-full recording', () => {
  const f03 = byBdf('00:03.0');

  it.each(BACKENDS)('lspci text + function "00:03.0" + barSizes from pc-full.json (%s)', async (backend) => {
    const topology = { devices: [{ bdf: '00:03.0', name: 'virtio-blk', template: { lspci: initialText, function: '00:03.0', barSizes: barSizesOf(f03) } }] };
    const bus = await createBus({ backend, topology: JSON.stringify(topology), source: SOURCE });
    const f = bus.functions()[0];
    expect(f.kind).toBe('template');
    expect(f.name).toBe('virtio-blk');
    expect(f.barSizes).toEqual([{ index: 0, size: 128n }, { index: 1, size: 4096n }, { index: 4, size: 16384n }]);
    expect(Buffer.from(read(bus, '00:03.0')).toString('hex')).toBe(f03.config_initial_hex);
    expect(Buffer.from(bus.dump()[0].config).toString('hex')).toBe(f03.config_initial_hex);
  });

  it('the same template with "function": "0000:00:03.0" and from configHex gives the same planes', async () => {
    const a = await resolveTopology({ devices: [{ bdf: '00:03.0', template: { lspci: initialText, function: '0000:00:03.0', barSizes: barSizesOf(f03) } }] });
    const b = await resolveTopology({ devices: [{ bdf: '00:03.0', template: { configHex: f03.config_initial_hex, barSizes: barSizesOf(f03) } }] });
    for (const plane of ['config', 'wmask', 'w1cmask'] as const) {
      expect(Buffer.from(a.functions[0].planes[plane]).toString('hex')).toBe(Buffer.from(b.functions[0].planes[plane]).toString('hex'));
    }
  });

  it('lspciFile through a file reader resolves relative to the reader base', async () => {
    const t = await resolveTopology(
      { devices: [{ bdf: '00:03.0', template: { lspciFile: 'pc-full.initial.lspci-dump.txt', function: '00:03.0', barSizes: barSizesOf(f03) } }] },
      { source: SOURCE, readFile: fileReader(QEMU) },
    );
    expect(Buffer.from(t.functions[0].planes.config).toString('hex')).toBe(f03.config_initial_hex);
  });

  // Every function of pc-full, cloned onto bus 0 (the bridges' children at free device numbers):
  // the sizing probes read back what QEMU answered to the same probes.
  const MOVED: Record<string, string> = { '01:01.0': '00:13.0', '01:02.0': '00:14.0', '01:03.0': '00:15.0', '02:01.0': '00:16.0' };
  const devices: TopologyDevice[] = pcFull.functions.map((f) => ({
    bdf: MOVED[f.bdf] ?? f.bdf,
    name: f.bdf,
    template: { configHex: f.config_initial_hex, barSizes: barSizesOf(f) },
  }));

  it.each(BACKENDS)('all 19 functions: bytes as recorded, and BAR / ROM probes read back what QEMU did (%s)', async (backend) => {
    const bus = await createBus({ backend, topology: { devices } });
    expect(bus.functions()).toHaveLength(19);
    for (const f of pcFull.functions) {
      const bdf = MOVED[f.bdf] ?? f.bdf;
      expect(Buffer.from(read(bus, bdf)).toString('hex'), bdf).toBe(f.config_initial_hex);
      for (const b of f.bars) {
        expect(probe(bus, bdf, 0x10 + 4 * b.index) >>> 0, `${f.bdf} BAR${b.index}`).toBe(b.readback_ffffffff);
        if (b.readback_hi_ffffffff !== undefined) {
          expect(probe(bus, bdf, 0x14 + 4 * b.index) >>> 0, `${f.bdf} BAR${b.index} high`).toBe(b.readback_hi_ffffffff);
        }
      }
      expect(probe(bus, bdf, f.rom.offset, 0xfffffffe) >>> 0, `${f.bdf} ROM`).toBe(f.rom.readback_fffffffe);
    }
  });
});

describe('templates of PCI Express functions', () => {
  it.each(BACKENDS)('a 4096-byte PCIe dump keeps its extended space; latency timers are read-only 0 (%s)', async (backend) => {
    const rp = await resolveTopology({ devices: [{ bdf: '00:00.0', model: 'root-port', options: { serial: 0x1122334455667788n } }] });
    const hex = Buffer.from(rp.functions[0].planes.config).toString('hex');
    const bus = await createBus({ backend, topology: { devices: [{ bdf: '00:00.0', template: { configHex: hex } }] } });
    expect(bus.functions()[0].planes.size).toBe(4096);
    expect(bus.configRead('00:00.0', 0x104, 4)).toBe(0x55667788);
    bus.configWrite('00:00.0', 0x0d, 1, 0x40);
    bus.configWrite('00:00.0', 0x1b, 1, 0x40);
    expect(bus.configRead('00:00.0', 0x0d, 1)).toBe(0);
    expect(bus.configRead('00:00.0', 0x1b, 1)).toBe(0);
    // the cloned masks are the built model's masks
    expect(Buffer.from(bus.functions()[0].planes.wmask).equals(Buffer.from(rp.functions[0].planes.wmask))).toBe(true);
    expect(Buffer.from(bus.functions()[0].planes.w1cmask).equals(Buffer.from(rp.functions[0].planes.w1cmask))).toBe(true);
  });

  it.each(BACKENDS)('a PCIe function cloned from a 256-byte (lspci -xxx) dump is refused or still follows the PCIe rules (%s)', async (backend) => {
    // The root port's first 256 bytes: a PCI Express capability at 0x40.
    const rp = await resolveTopology({ devices: [{ bdf: '00:00.0', model: 'root-port' }] });
    const hex = Buffer.from(rp.functions[0].planes.config.slice(0, 256)).toString('hex');
    const text = JSON.stringify({ devices: [{ bdf: '00:00.0', template: { configHex: hex } }] });
    let bus: Bus;
    try {
      bus = await createBus({ backend, topology: text, source: SOURCE });
    } catch (e) {
      // Refusing is fine, if the error names the dump.
      expect((e as Error).message).toMatch(/^x\.json: devices\[0\]\.template\.configHex: /);
      return;
    }
    // Otherwise: "PCIe functions (with a PCIe capability) have 4096" bytes, and the latency
    // timers are "read-only 0 on PCIe ones".
    expect(bus.functions()[0].planes.size, 'config space size of a PCIe function').toBe(4096);
    bus.configWrite('00:00.0', 0x0d, 1, 0x40);
    bus.configWrite('00:00.0', 0x1b, 1, 0x40);
    expect(bus.configRead('00:00.0', 0x0d, 1), 'Latency Timer').toBe(0);
    expect(bus.configRead('00:00.0', 0x1b, 1), 'Secondary Latency Timer').toBe(0);
  });
});

describe('segments', () => {
  it.each(BACKENDS)('segment 0 without ECAM (ports only) and segment 1 with a window (%s)', async (backend) => {
    const bus = await createBus({ backend, topology: JSON.stringify({
      segments: [{ segment: 0, ecam: false }, { segment: 1, ecam: { base: '0xc0000000', buses: [0, 0] } }],
      devices: [{ bdf: '00:00.0', model: 'host-bridge' }, { bdf: '0001:00:00.0', model: 'test-endpoint' }],
    }) });
    expect(bus.topology.segments).toEqual([{ segment: 0 }, { segment: 1, ecam: { base: 0xc0000000, busStart: 0, busEnd: 0 } }]);
    expect(bus.mmioRead(0xb0000000, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(0xc0000000, 4)).toBe(0x00051b36);
    expect(bus.mmioRead(0xc0100000, 4)).toBe(0xffffffff);
    bus.ioWrite(0xcf8, 4, 0x80000000);
    expect(bus.ioRead(0xcfc, 4)).toBe(0x00081b36);
    expect(bus.configRead('0001:00:00.0', 0, 4)).toBe(0x00051b36);
    expect(bus.configRead('00:00.0', 0, 4)).toBe(0x00081b36);
  });

  it.each(BACKENDS)('a window whose first bus is 0x10: the root bus is 0x10 for ECAM and 0xCF8 (%s)', async (backend) => {
    const bus = await createBus({ backend, topology: {
      segments: [{ segment: 0, ecam: { base: 0xe0000000, buses: [0x10, 0x1f] } }],
      devices: [{ bdf: '10:00.0', model: 'host-bridge' }, { bdf: '10:02.0', model: 'test-endpoint' }],
    } });
    expect(bus.mmioRead(0xe0000000, 4)).toBe(0x00081b36);
    expect(bus.mmioRead(0xe0000000 + 2 * 0x8000, 4)).toBe(0x00051b36);
    expect(bus.mmioRead(0xe0000000 + 16 * 0x100000, 4)).toBe(0xffffffff);
    bus.ioWrite(0xcf8, 4, 0x80101000);
    expect(bus.ioRead(0xcfc, 4)).toBe(0x00051b36);
    bus.ioWrite(0xcf8, 4, 0x80001000);
    expect(bus.ioRead(0xcfc, 4)).toBe(0xffffffff);
  });
});
