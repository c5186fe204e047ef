// Conformance: capability lists (walked from 0x34 through config reads) and the write masks of
// the capabilities vpci knows: PM, MSI (32/64-bit, per-vector masking), MSI-X, PCI Express,
// and the extended capability list at 0x100.
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, bytesToHex, diffOffsets, hex, le, makeBus, poke, snapshot, walkCaps, walkExtCaps,
} from '../helpers/vpci.js';

const EXPECTED_CHAINS: [string, [number, number][]][] = [
  ['00:00.0', []],
  ['00:01.0', [[0x40, 0x01], [0x48, 0x05]]],
  ['00:02.0', [[0x40, 0x09], [0x50, 0x09], [0x60, 0x09], [0x70, 0x09], [0x84, 0x09], [0x98, 0x11]]],
  ['00:03.0', [[0x40, 0x01], [0x48, 0x05]]],
  ['00:03.1', [[0x40, 0x01], [0x48, 0x05]]],
  ['00:04.0', [[0x40, 0x01], [0x48, 0x05]]],
  ['00:05.0', [[0x40, 0x10], [0x7c, 0x05], [0x8c, 0x01]]],
];

/** Writes `value` at (off, width); expects the read-back `want`. */
function writeExpect(bus: Bus, bdf: string, off: number, width: 1 | 2 | 4, value: number, want: number, what: string): void {
  bus.configWrite(bdf, off, width, value);
  expect(hex(bus.configRead(bdf, off, width)), `${what}: wrote ${hex(value)} at ${hex(off)}`).toBe(hex(want));
}

const CAP_TOPOLOGY: Topology = {
  devices: [
    { bdf: '00:01.0', model: 'test-endpoint', options: { msiVectors: 32 } },
    { bdf: '00:02.0', model: 'test-endpoint', options: { msiVectors: 1 } },
    {
      bdf: '00:03.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 1, classCode: 0xff0000,
        capabilities: [
          { id: 'msi', vectors: 2, address64: false, perVectorMask: true },
          { id: 'msi', vectors: 8, address64: false, perVectorMask: false, offset: 0x60 },
          { id: 'msix', tableSize: 16, tableBar: 0, tableOffset: 0x2000, pbaBar: 2, pbaOffset: 0x3000, offset: 0x80 },
          { id: 'vendor', data: [1, 2, 3, 4, 5], offset: 0x90 },
        ],
        bars: [{ index: 0, kind: 'mem32', size: 0x4000 }, { index: 2, kind: 'mem32', size: 0x4000 }],
      },
    },
    {
      bdf: '00:04.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 2, classCode: 0x060400, headerType: 1,
        capabilities: [{ id: 'pcie', portType: 'downstream-port' }],
        extendedCapabilities: [
          { id: 'dsn', serial: 5 },
          { id: 'raw', capId: 0x000b, version: 1, data: [1, 2, 3, 4, 5, 6, 7, 8] },
        ],
      },
    },
    {
      bdf: '00:05.0',
      descriptor: {
        vendorId: 0x1234, deviceId: 3, classCode: 0x020000,
        capabilities: [{ id: 'pcie', portType: 'endpoint' }, { id: 'pm' }],
      },
    },
    { bdf: '00:06.0', model: 'root-port', options: { serial: '0x0123456789abcdef' } },
  ],
};

describe.each(BACKENDS)('capabilities (%s backend)', (backend) => {
  test.each(EXPECTED_CHAINS)('%s: the list from 0x34 reaches the expected capability IDs', async (bdf, chain) => {
    const bus = await makeBus(backend);
    expect(walkCaps(bus, bdf).map((c) => [hex(c.offset), hex(c.id)])).toEqual(chain.map(([o, i]) => [hex(o), hex(i)]));
    expect((bus.configRead(bdf, 0x06, 2) & 0x10) !== 0, 'Status Capabilities List bit').toBe(chain.length > 0);
  });

  test('capability headers (ID, next pointer) and the Capabilities Pointer are read-only', async () => {
    const bus = await makeBus(backend);
    for (const [bdf, chain] of EXPECTED_CHAINS) {
      const before = snapshot(bus, bdf);
      bus.configWrite(bdf, 0x34, 1, 0xff);
      bus.configWrite(bdf, 0x34, 4, 0);
      for (const [off] of chain) {
        bus.configWrite(bdf, off, 2, 0xffff);
        bus.configWrite(bdf, off, 2, 0);
        bus.configWrite(bdf, off, 1, 0xa5);
        bus.configWrite(bdf, off + 1, 1, 0x5a);
      }
      expect(diffOffsets(before, snapshot(bus, bdf)), bdf).toEqual([]);
    }
  });

  describe('Power Management', () => {
    test.each([['00:01.0', 0x40], ['00:04.0', 0x40], ['00:05.0', 0x8c]] as const)(
      '%s PM at %s: PMC read-only; PMCSR bits 1:0 and 8 read/write, bit 15 write-1-to-clear',
      async (bdf, at) => {
        const bus = await makeBus(backend);
        const before = snapshot(bus, bdf);
        const inPmcsr = (o: number) => o >= at + 4 && o < at + 6;
        expect(hex(bus.configRead(bdf, at + 2, 2)), 'PMC').toBe('0x3');
        writeExpect(bus, bdf, at + 2, 2, 0xffff, 0x0003, 'PMC read-only');
        expect(hex(bus.configRead(bdf, at + 4, 2)), 'PMCSR initial: D0, No_Soft_Reset').toBe('0x8');
        writeExpect(bus, bdf, at + 4, 2, 0xffff, 0x010b, 'PMCSR ones');
        writeExpect(bus, bdf, at + 4, 2, 0x0000, 0x0008, 'PMCSR zeros');
        writeExpect(bus, bdf, at + 6, 2, 0xffff, 0x0000, 'PMCSR_BSE and Data read-only');
        poke(bus, bdf, at + 4, le(0x8008, 2)); // PME_Status set by the device
        writeExpect(bus, bdf, at + 4, 2, 0x0000, 0x8008, 'PME_Status kept when writing 0');
        writeExpect(bus, bdf, at + 4, 2, 0x0103, 0x810b, 'PME_Status kept when writing only RW bits');
        writeExpect(bus, bdf, at + 4, 2, 0x8000, 0x0008, 'PME_Status cleared by writing 1 (RW bits written 0)');
        writeExpect(bus, bdf, at + 4, 4, 0xffffffff, 0x0000010b, 'dword write of ones');
        bus.configWrite(bdf, at + 4, 2, 0);
        expect(diffOffsets(before, snapshot(bus, bdf), inPmcsr)).toEqual([]);
      },
    );
  });

  describe('MSI', () => {
    test('64-bit MSI with per-vector masking (test endpoint, 4 vectors at 0x48)', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:01.0';
      const before = snapshot(bus, bdf);
      expect(hex(bus.configRead(bdf, 0x4a, 2)), 'control: 4 vectors capable, 64-bit, per-vector mask').toBe('0x184');
      writeExpect(bus, bdf, 0x4a, 2, 0xffff, 0x01f5, 'control: Enable (0) and Multiple Message Enable (6:4) RW');
      writeExpect(bus, bdf, 0x4a, 2, 0x0000, 0x0184, 'control back');
      writeExpect(bus, bdf, 0x4c, 4, 0xffffffff, 0xfffffffc, 'address: bits 1:0 read-only');
      writeExpect(bus, bdf, 0x4c, 4, 0xfee00000, 0xfee00000, 'address');
      writeExpect(bus, bdf, 0x50, 4, 0xffffffff, 0xffffffff, 'upper address RW');
      writeExpect(bus, bdf, 0x54, 2, 0xffff, 0xffff, 'message data 16 bits RW');
      writeExpect(bus, bdf, 0x56, 2, 0xffff, 0x0000, 'bytes 0x0e-0x0f of the capability read-only');
      writeExpect(bus, bdf, 0x58, 4, 0xffffffff, 0x0000000f, 'mask bits: one per implemented vector (4)');
      writeExpect(bus, bdf, 0x58, 4, 0x00000005, 0x00000005, 'mask bits');
      writeExpect(bus, bdf, 0x5c, 4, 0xffffffff, 0x00000000, 'pending bits read-only');
      poke(bus, bdf, 0x5c, le(0x5, 4));
      writeExpect(bus, bdf, 0x5c, 4, 0x00000000, 0x00000005, 'pending bits read-only (set by the device)');
      writeExpect(bus, bdf, 0x5c, 4, 0xffffffff, 0x00000005, 'pending bits are not write-1-to-clear');
      // Nothing outside the capability changed.
      expect(diffOffsets(before, snapshot(bus, bdf), (o) => o >= 0x48 && o < 0x60)).toEqual([]);
    });

    test('per-vector mask width follows the vector count (32 vectors: all 32 bits; 1 vector: bit 0)', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      expect(hex(bus.configRead('00:01.0', 0x4a, 2))).toBe('0x18a');
      writeExpect(bus, '00:01.0', 0x58, 4, 0xffffffff, 0xffffffff, '32 vectors');
      expect(hex(bus.configRead('00:02.0', 0x4a, 2))).toBe('0x180');
      writeExpect(bus, '00:02.0', 0x58, 4, 0xffffffff, 0x00000001, '1 vector');
    });

    test('32-bit MSI: data at cap+8; mask at cap+0xc and pending at cap+0x10 with per-vector masking', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      const bdf = '00:03.0';
      expect(walkCaps(bus, bdf).map((c) => [hex(c.offset), hex(c.id)])).toEqual([
        ['0x40', '0x5'], ['0x60', '0x5'], ['0x80', '0x11'], ['0x90', '0x9'],
      ]);
      // 0x40: 2 vectors, 32-bit, per-vector mask.
      expect(hex(bus.configRead(bdf, 0x42, 2))).toBe('0x102');
      writeExpect(bus, bdf, 0x42, 2, 0xffff, 0x0173, 'control');
      writeExpect(bus, bdf, 0x44, 4, 0xffffffff, 0xfffffffc, 'address');
      writeExpect(bus, bdf, 0x48, 2, 0xffff, 0xffff, 'data at cap+8');
      writeExpect(bus, bdf, 0x4a, 2, 0xffff, 0x0000, 'cap+0xa read-only');
      writeExpect(bus, bdf, 0x4c, 4, 0xffffffff, 0x00000003, 'mask bits at cap+0xc (2 vectors)');
      writeExpect(bus, bdf, 0x50, 4, 0xffffffff, 0x00000000, 'pending at cap+0x10 read-only');
      // 0x60: 8 vectors, 32-bit, no masking.
      expect(hex(bus.configRead(bdf, 0x62, 2))).toBe('0x6');
      writeExpect(bus, bdf, 0x62, 2, 0xffff, 0x0077, 'control');
      writeExpect(bus, bdf, 0x64, 4, 0xffffffff, 0xfffffffc, 'address');
      writeExpect(bus, bdf, 0x68, 2, 0xffff, 0xffff, 'data at cap+8');
      writeExpect(bus, bdf, 0x6a, 2, 0xffff, 0x0000, 'after the capability: read-only');
      writeExpect(bus, bdf, 0x6c, 4, 0xffffffff, 0x00000000, 'no mask bits without per-vector masking');
    });
  });

  describe('MSI-X', () => {
    test('Firecracker virtio-blk template (default 00:02.0): control bits 14 and 15 RW, the rest read-only', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:02.0';
      const before = snapshot(bus, bdf);
      expect(hex(bus.configRead(bdf, 0x98, 4)), 'header: MSI-X, last; control 0x8001').toBe('0x80010011');
      writeExpect(bus, bdf, 0x9a, 2, 0x0000, 0x0001, 'enable cleared, table size kept');
      writeExpect(bus, bdf, 0x9a, 2, 0xffff, 0xc001, 'enable and function mask set');
      writeExpect(bus, bdf, 0x9b, 1, 0x40, 0x40, 'function mask by byte write');
      writeExpect(bus, bdf, 0x9c, 4, 0xffffffff, 0x00008000, 'table offset/BIR read-only');
      writeExpect(bus, bdf, 0xa0, 4, 0xffffffff, 0x00048000, 'PBA offset/BIR read-only');
      bus.configWrite(bdf, 0x9a, 2, 0x8001);
      expect(diffOffsets(before, snapshot(bus, bdf))).toEqual([]);
    });

    test('the virtio vendor-specific capabilities of the template are read-only', async () => {
      const bus = await makeBus(backend);
      const before = snapshot(bus, '00:02.0');
      for (let off = 0x40; off < 0x98; off++) {
        bus.configWrite('00:02.0', off, 1, 0xff);
        bus.configWrite('00:02.0', off, 1, 0x00);
      }
      expect(diffOffsets(before, snapshot(bus, '00:02.0'))).toEqual([]);
    });

    test('MSI-X built from a descriptor: table size, BIRs and offsets read-only, control bits 15:14 RW', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      const bdf = '00:03.0';
      expect(hex(bus.configRead(bdf, 0x80, 4))).toBe(hex((0x000f0000 | 0x9000 | 0x11) >>> 0));
      expect(hex(bus.configRead(bdf, 0x84, 4))).toBe('0x2000');
      expect(hex(bus.configRead(bdf, 0x88, 4))).toBe('0x3002');
      writeExpect(bus, bdf, 0x82, 2, 0xffff, 0xc00f, 'control ones');
      writeExpect(bus, bdf, 0x82, 2, 0x0000, 0x000f, 'control zeros');
      writeExpect(bus, bdf, 0x84, 4, 0xffffffff, 0x2000, 'table read-only');
      writeExpect(bus, bdf, 0x88, 4, 0, 0x3002, 'PBA read-only');
      expect(hex(bus.configRead(bdf, 0x90, 4)), 'vendor capability: id, next, length, data[0]').toBe('0x1080009');
      writeExpect(bus, bdf, 0x90, 4, 0xffffffff, 0x01080009, 'vendor capability read-only');
    });
  });

  describe('PCI Express', () => {
    test('root port: capability flags and Device Capabilities read-only; Device Control 0x7fff RW', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:05.0';
      const flags = bus.configRead(bdf, 0x42, 2);
      expect((flags >> 4) & 0xf, 'port type: root port').toBe(4);
      writeExpect(bus, bdf, 0x42, 2, 0xffff, flags, 'flags read-only');
      const devcap = bus.configRead(bdf, 0x44, 4);
      writeExpect(bus, bdf, 0x44, 4, ~devcap >>> 0, devcap, 'Device Capabilities read-only');
      const devctl = bus.configRead(bdf, 0x48, 2);
      writeExpect(bus, bdf, 0x48, 2, 0xffff, 0x7fff, 'Device Control ones (bit 15 read-only)');
      writeExpect(bus, bdf, 0x48, 2, 0x0000, 0x0000, 'Device Control zeros');
      writeExpect(bus, bdf, 0x48, 2, devctl, devctl, 'Device Control restored');
    });

    test('root port: Device Status bits 3:0 are write-1-to-clear, bits above read-only', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:05.0';
      expect(bus.configRead(bdf, 0x4a, 2)).toBe(0);
      writeExpect(bus, bdf, 0x4a, 2, 0xffff, 0x0000, 'nothing to set');
      poke(bus, bdf, 0x4a, le(0x003f, 2));
      writeExpect(bus, bdf, 0x4a, 2, 0x0000, 0x003f, 'writing 0 clears nothing');
      writeExpect(bus, bdf, 0x4a, 2, 0x0001, 0x003e, 'Correctable Error Detected cleared');
      writeExpect(bus, bdf, 0x4a, 2, 0x0030, 0x003e, 'bits 5:4 are not write-1-to-clear');
      writeExpect(bus, bdf, 0x4a, 2, 0xffff, 0x0030, 'all error bits cleared');
      // A dword write to Device Control with the Status half 0 leaves Device Status.
      poke(bus, bdf, 0x4a, le(0x000f, 2));
      writeExpect(bus, bdf, 0x48, 4, 0x00002000, 0x000f2000, 'dword write, status half zero');
      writeExpect(bus, bdf, 0x48, 4, 0x00042000, 0x000b2000, 'dword write clears one status bit');
    });

    test('root port: Link Control is writable; Link Status bits 15:14 write-1-to-clear, the rest read-only', async () => {
      const bus = await makeBus(backend);
      const bdf = '00:05.0';
      expect(bus.configRead(bdf, 0x50, 2)).toBe(0);
      bus.configWrite(bdf, 0x50, 2, 0xffff);
      const lnkctl = bus.configRead(bdf, 0x50, 2);
      expect(lnkctl & 0x0003, 'ASPM Control writable').toBe(0x0003);
      bus.configWrite(bdf, 0x50, 2, 0);
      expect(bus.configRead(bdf, 0x50, 2), 'Link Control back to 0 (not write-1-to-clear)').toBe(0);
      const lnksta = bus.configRead(bdf, 0x52, 2);
      // DLL Link Active (bit 13): the root port's hot-plug slot holds virtio-rng.
      expect(hex(lnksta), 'Link Status: 2.5 GT/s x1, DLL Link Active').toBe('0x2011');
      writeExpect(bus, bdf, 0x52, 2, 0xffff, lnksta, 'nothing to clear, the rest read-only');
      poke(bus, bdf, 0x52, le(0xc011, 2));
      writeExpect(bus, bdf, 0x52, 2, 0x0000, 0xc011, 'writing 0 clears nothing');
      writeExpect(bus, bdf, 0x52, 2, 0x4000, 0x8011, 'bit 14 cleared');
      writeExpect(bus, bdf, 0x52, 2, 0x3fff, 0x8011, 'other bits are not write-1-to-clear');
      writeExpect(bus, bdf, 0x52, 2, 0xffff, 0x0011, 'bit 15 cleared');
    });

    test('downstream port: Link Status bits 15:14 write-1-to-clear; endpoint: Link Status read-only', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      poke(bus, '00:04.0', 0x52, le(0xc011, 2));
      writeExpect(bus, '00:04.0', 0x52, 2, 0x8000, 0x4011, 'downstream port');
      poke(bus, '00:05.0', 0x52, le(0xc011, 2));
      writeExpect(bus, '00:05.0', 0x52, 2, 0xffff, 0xc011, 'endpoint');
    });

    test('PCIe endpoint: Device Control RW, Device Status RW1C, Latency Timer read-only 0', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      const bdf = '00:05.0';
      writeExpect(bus, bdf, 0x48, 2, 0xffff, 0x7fff, 'Device Control');
      poke(bus, bdf, 0x4a, le(0x000f, 2));
      writeExpect(bus, bdf, 0x4a, 2, 0x000a, 0x0005, 'Device Status');
      writeExpect(bus, bdf, 0x0d, 1, 0xff, 0x00, 'Latency Timer');
      expect(walkCaps(bus, bdf).map((c) => c.id)).toEqual([0x10, 0x01]);
    });

    test('root port: the extended capability list at 0x100 reaches the Device Serial Number (read-only), then AER', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      const bdf = '00:06.0';
      expect(walkExtCaps(bus, bdf).map((c) => [hex(c.offset), hex(c.id), c.version])).toEqual([['0x100', '0x3', 1], ['0x10c', '0x1', 2]]);
      expect(hex(bus.configRead(bdf, 0x100, 4)), 'header: DSN v1, next 0x10c').toBe('0x10c10003');
      expect(hex(bus.configRead(bdf, 0x104, 4)), 'serial low').toBe('0x89abcdef');
      expect(hex(bus.configRead(bdf, 0x108, 4)), 'serial high').toBe('0x1234567');
      const before = snapshot(bus, bdf, 4096);
      for (let off = 0x100; off < 0x110; off++) {
        bus.configWrite(bdf, off, 1, 0xff);
        bus.configWrite(bdf, off, 1, 0x00);
      }
      // Everything but AER's own registers (0x10c-0x143, test/aer) is read-only.
      for (let off = 0x100; off < 0x1000; off += 4) if (off < 0x10c || off >= 0x144) bus.configWrite(bdf, off, 4, 0xffffffff);
      expect(diffOffsets(before, snapshot(bus, bdf, 4096))).toEqual([]);
    });

    test('default root port: DSN with serial 0, then AER; extended list reachable through ECAM', async () => {
      const bus = await makeBus(backend);
      expect(walkExtCaps(bus, '00:05.0').map((c) => [hex(c.offset), hex(c.id)])).toEqual([['0x100', '0x3'], ['0x10c', '0x1']]);
      expect(bus.configRead('00:05.0', 0x104, 4)).toBe(0);
      expect(hex(bus.mmioRead(0xb0000000 + 5 * 0x8000 + 0x100, 4))).toBe('0x10c10003');
      expect(bus.mmioRead(0xb0000000 + 5 * 0x8000 + 0x100, 8)).toBe(0x10c10003n);
    });

    test('a list of several extended capabilities is linked from 0x100', async () => {
      const bus = await makeBus(backend, CAP_TOPOLOGY);
      expect(walkExtCaps(bus, '00:04.0').map((c) => [hex(c.offset), hex(c.id), c.version])).toEqual([
        ['0x100', '0x3', 1], ['0x10c', '0xb', 1],
      ]);
      expect(bus.configRead('00:04.0', 0x104, 4)).toBe(5);
      expect(hex(bus.configRead('00:04.0', 0x110, 4))).toBe('0x4030201');
    });
  });

  test('a corrupt capability chain in a template (pointer low bits set, loop) loads, keeps its bytes, masks the capabilities found', async () => {
    const config = new Uint8Array(256);
    config.set([0x34, 0x12, 0x78, 0x56], 0);
    config.set(le(0x0010, 2), 0x06); // capabilities list
    config[0x0b] = 0xff;
    config[0x34] = 0x43; // low bits are reserved: the list starts at 0x40
    config.set([0x01, 0x48, 0x03, 0x00, 0x08, 0x00, 0x00, 0x00], 0x40); // PM -> 0x48
    config.set([0x05, 0x41, 0x80, 0x00], 0x48); // MSI 64-bit -> 0x41 (= 0x40 again: a loop)
    const topology: Topology = { devices: [{ bdf: '00:01.0', template: { configHex: bytesToHex(config) } }] };
    const bus = await makeBus(backend, topology);
    expect(diffOffsets(config, bus.dump()[0].config)).toEqual([]);
    expect(walkCaps(bus, '00:01.0').map((c) => [hex(c.offset), hex(c.id)])).toEqual([['0x40', '0x1'], ['0x48', '0x5']]);
    writeExpect(bus, '00:01.0', 0x44, 2, 0xffff, 0x010b, 'PM PMCSR');
    writeExpect(bus, '00:01.0', 0x4c, 4, 0xffffffff, 0xfffffffc, 'MSI address');
    writeExpect(bus, '00:01.0', 0x48, 4, 0xffffffff, 0x00f14105, 'MSI header read-only, control bits 6:4 and 0 RW');
  });
});
