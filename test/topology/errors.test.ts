// Every bad topology is refused with one TopologyError naming the source, the device path and
// the field ("x.json: devices[3].descriptor.bars[0].size: 3000 is not a power of two"), before
// anything is built: createBus rejects with the same error and never adds a function to a core.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBus } from '../../src/bus.js';
import { TsCore } from '../../src/core/ts/ts-core.js';
import { TopologyError } from '../../src/errors.js';
import { resolveTopology } from '../../src/topology/index.js';

const SOURCE = 'x.json';

/** Three good devices, so that the device under test is devices[3]. */
const PREFIX = [
  { bdf: '00:00.0', model: 'host-bridge' },
  { bdf: '00:01.0', model: 'test-endpoint' },
  { bdf: '00:02.0', model: 'pci-bridge' },
];
const EP = { vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000 };

function withDevice(device: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, devices: [...PREFIX, { bdf: '00:03.0', ...device }] });
}
function withDescriptor(d: Record<string, unknown>): string {
  return withDevice({ descriptor: { ...EP, ...d } });
}
function withTemplate(t: Record<string, unknown>): string {
  return withDevice({ template: t });
}

afterEach(() => vi.restoreAllMocks());

/**
 * Asserts that the text is refused by resolveTopology and by createBus (both backends) with a
 * TopologyError whose message is exactly `message` (or matches it), and that no core got a function.
 */
async function refused(text: string, message: string | RegExp, path?: string): Promise<TopologyError> {
  let error: unknown;
  try {
    await resolveTopology(text, { source: SOURCE });
  } catch (e) {
    error = e;
  }
  expect(error, 'resolveTopology must throw').toBeInstanceOf(TopologyError);
  const err = error as TopologyError;
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
  expect(err.message.startsWith(`${SOURCE}: `)).toBe(true);
  expect(err.source).toBe(SOURCE);
  if (path !== undefined) expect(err.path).toBe(path);

  const add = vi.spyOn(TsCore.prototype, 'addFunction');
  const ecam = vi.spyOn(TsCore.prototype, 'setEcam');
  for (const backend of ['ts', 'wasm'] as const) {
    await expect(createBus({ backend, topology: text, source: SOURCE })).rejects.toThrow(err.message);
    await expect(createBus({ backend, topology: text, source: SOURCE })).rejects.toBeInstanceOf(TopologyError);
  }
  expect(add).not.toHaveBeenCalled();
  expect(ecam).not.toHaveBeenCalled();
  return err;
}

describe('the fixture is valid without the bad field', () => {
  it('resolves the three prefix devices plus a good descriptor', async () => {
    const t = await resolveTopology(withDescriptor({}), { source: SOURCE });
    expect(t.functions.map((f) => f.bdf)).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:00:02.0', '0000:00:03.0']);
    expect(t.source).toBe(SOURCE);
  });
});

describe('file-level errors', () => {
  it('bad JSON', async () => {
    await refused('{ "devices": [ { "bdf": "00:00.0", } ] }', /^x\.json: not valid JSON: .+/);
    await refused('', /^x\.json: not valid JSON: /);
  });
  it('not an object / no devices array', async () => {
    await refused('[]', 'x.json: must be a JSON object with a "devices" array');
    await refused('42', 'x.json: must be a JSON object with a "devices" array');
    await refused('{}', 'x.json: devices: must be an array');
    await refused('{"devices": {}}', 'x.json: devices: must be an array');
  });
  it('a device that is not an object, or has no / several kinds', async () => {
    await refused(JSON.stringify({ devices: [...PREFIX, 7] }), /^x\.json: devices\[3\]: must be an object/);
    await refused(withDevice({}), 'x.json: devices[3]: needs exactly one of "model", "descriptor" or "template" (has none)');
    await refused(withDevice({ model: 'host-bridge', descriptor: EP }),
      'x.json: devices[3]: needs exactly one of "model", "descriptor" or "template" (has model, descriptor)');
    await refused(withDevice({ descriptor: EP, options: {} }), 'x.json: devices[3].options: options go with "model"');
  });
});

describe('models', () => {
  it('unknown model', async () => {
    await refused(withDevice({ model: 'nic-9000' }),
      'x.json: devices[3].model: "nic-9000" is not a model (known: host-bridge, test-endpoint, test-device, pci-bridge, root-port, firecracker-virtio-blk, virtio-rng, i440fx, piix3, virtio-blk, sriov-endpoint)');
    // names of Object.prototype are not models
    await refused(withDevice({ model: 'toString' }), /^x\.json: devices\[3\]\.model: "toString" is not a model/);
    await refused(withDevice({ model: '__proto__' }), /^x\.json: devices\[3\]\.model: "__proto__" is not a model/);
  });
  it('options that are not an object', async () => {
    await refused(withDevice({ model: 'test-endpoint', options: 5 }), 'x.json: devices[3].options: must be an object');
    await refused(withDevice({ model: 'test-endpoint', options: [1] }), 'x.json: devices[3].options: must be an object');
  });
  it('unknown model option', async () => {
    await refused(withDevice({ model: 'test-endpoint', options: { msiVectors: 4, colour: 'red' } }),
      'x.json: devices[3].options.colour: is not an option of test-endpoint (it takes: vendorId, deviceId, interruptPin, msiVectors, bars, rom, pcie)');
    await refused(withDevice({ model: 'firecracker-virtio-blk', options: { size: 1 } }),
      'x.json: devices[3].options.size: is not an option of firecracker-virtio-blk (it takes: none)');
  });
  it('a bad value of a known option is refused at the descriptor field it feeds', async () => {
    const err = await refused(withDevice({ model: 'test-endpoint', options: { msiVectors: 3 } }),
      /^x\.json: devices\[3\]\.capabilities\[1\]\.vectors: 3 is not 1, 2, 4, 8, 16 or 32$/);
    expect(err.path).toBe('devices[3].capabilities[1].vectors');
    await refused(withDevice({ model: 'test-endpoint', options: { interruptPin: 5 } }),
      /^x\.json: devices\[3\]\.interruptPin: 5 is not an integer in 0x0\.\.0x4$/);
  });
});

describe('BDFs', () => {
  it('malformed', async () => {
    for (const bdf of ['0:1', '00:01', '00:01.', 'zz:01.0', '00:01.0 ', '000:00:01.0:0', '00-01.0', '']) {
      await refused(withDevice({ bdf, model: 'host-bridge' }),
        `x.json: devices[3].bdf: ${JSON.stringify(bdf)} is not a BDF like "00:1f.3" or "0000:00:1f.3"`);
    }
    await refused(withDevice({ bdf: 1, model: 'host-bridge' }),
      'x.json: devices[3].bdf: 1 is not a string like "00:1f.3" or "0000:00:1f.3"');
    await refused(JSON.stringify({ devices: [...PREFIX, { model: 'host-bridge' }] }),
      /^x\.json: devices\[3\]\.bdf: undefined is not a string/);
  });
  it('device above 0x1f', async () => {
    await refused(withDevice({ bdf: '00:20.0', model: 'host-bridge' }), 'x.json: devices[3].bdf: "00:20.0": device 0x20 is above 0x1f');
    await refused(withDevice({ bdf: '0000:00:ff.0', model: 'host-bridge' }), 'x.json: devices[3].bdf: "0000:00:ff.0": device 0xff is above 0x1f');
  });
  it('function above 7', async () => {
    await refused(withDevice({ bdf: '00:03.8', model: 'host-bridge' }),
      'x.json: devices[3].bdf: "00:03.8" is not a BDF like "00:1f.3" or "0000:00:1f.3"');
    await refused(withDevice({ bdf: '00:03.10', model: 'host-bridge' }), /^x\.json: devices\[3\]\.bdf: "00:03\.10"/);
  });
  it('duplicate BDF, in both spellings', async () => {
    const dup = (a: string, b: string) => JSON.stringify({ devices: [
      { bdf: a, model: 'host-bridge' }, { bdf: '00:01.0', model: 'test-endpoint' }, { bdf: b, model: 'test-endpoint' },
    ] });
    await refused(dup('00:00.0', '00:00.0'), 'x.json: devices[2].bdf: 0000:00:00.0 is already devices[0]');
    await refused(dup('00:00.0', '0000:00:00.0'), 'x.json: devices[2].bdf: 0000:00:00.0 is already devices[0]');
    await refused(dup('0000:00:00.0', '00:00.0'), 'x.json: devices[2].bdf: 0000:00:00.0 is already devices[0]');
    await refused(dup('00:0A.0', '00:0a.0'), 'x.json: devices[2].bdf: 0000:00:0a.0 is already devices[0]');
    await refused(dup('0:0:0.0', '00:00.0'), 'x.json: devices[2].bdf: 0000:00:00.0 is already devices[0]');
  });
  it('function 1 without function 0', async () => {
    await refused(withDevice({ bdf: '00:07.1', model: 'test-endpoint' }),
      'x.json: devices[3].bdf: 0000:00:07.1 has no function 0 (0000:00:07.0); a guest scans functions 1-7 only when function 0 exists');
    // function 0 listed later is fine
    const later = JSON.stringify({ devices: [{ bdf: '00:07.3', model: 'test-endpoint' }, { bdf: '00:07.0', model: 'test-endpoint' }] });
    const t = await resolveTopology(later, { source: SOURCE });
    expect(t.functions.map((f) => f.bdf)).toEqual(['0000:00:07.3', '0000:00:07.0']);
  });
  it('a bus outside the segment\'s ECAM window', async () => {
    const seg = { segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0x10, 0x1f] } }] };
    await refused(withDevice({ bdf: '00:03.0', model: 'test-endpoint' }, seg).replace(/"00:0([0-2])\.0"/g, '"10:0$1.0"'),
      "x.json: devices[3].bdf: bus 0x0 is outside segment 0's ECAM window (buses 0x10-0x1f)", 'devices[3].bdf');
    await refused(withDevice({ bdf: '20:03.0', model: 'test-endpoint' }, seg).replace(/"00:0([0-2])\.0"/g, '"10:0$1.0"'),
      "x.json: devices[3].bdf: bus 0x20 is outside segment 0's ECAM window (buses 0x10-0x1f)");
  });
  it('a bus other than the window\'s first is another root bus, not an error', async () => {
    const t = await resolveTopology(withDevice({ bdf: '01:00.0', model: 'test-endpoint' }), { source: SOURCE });
    expect(t.functions.map((f) => [f.path, f.bus, f.parent])).toEqual([
      ['0000:00:00.0', 0, -1], ['0000:00:01.0', 0, -1], ['0000:00:02.0', 0, -1], ['0000:01:00.0', 1, -1],
    ]);
    // without an ECAM window (0xCF8/0xCFC only) any bus number is a root bus
    const ports = await resolveTopology(withDevice({ bdf: 'ff:00.0', model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: false }] }));
    expect(ports.functions[3].bdf).toBe('0000:ff:00.0');
  });
  it('a segment that is not declared', async () => {
    await refused(withDevice({ bdf: '0001:00:00.0', model: 'test-endpoint' }), 'x.json: devices[3].bdf: segment 1 is not declared in "segments"');
    const seg = { segments: [{ segment: 0, ecam: false }, { segment: 2, ecam: { base: '0xc0000000', buses: [0, 0] } }] };
    await refused(withDevice({ bdf: '0003:00:00.0', model: 'test-endpoint' }, seg), 'x.json: devices[3].bdf: segment 3 is not declared in "segments"');
  });
});

describe('segments', () => {
  it('a segment other than 0 without ECAM', async () => {
    const seg = (ecam: unknown) => ({ segments: [{ segment: 0 }, { segment: 1, ecam }] });
    await refused(withDevice({ model: 'test-endpoint' }, seg(false)),
      'x.json: segments[1].ecam: segment 1 needs an ECAM window (only segment 0 is reached through 0xCF8/0xCFC)');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0 }, { segment: 1 }] }),
      'x.json: segments[1].ecam: segment 1 needs an ECAM window (only segment 0 is reached through 0xCF8/0xCFC)');
  });
  it('overlapping ECAM windows', async () => {
    const two = (b0: string, r0: number[], b1: string, r1: number[]) => ({ segments: [
      { segment: 0, ecam: { base: b0, buses: r0 } }, { segment: 1, ecam: { base: b1, buses: r1 } },
    ] });
    // segment 0: 0xB0000000..0xBFFFFFFF; segment 1 starts inside it
    await refused(withDevice({ model: 'test-endpoint' }, two('0xb0000000', [0, 255], '0xbff00000', [0, 0])),
      "x.json: segments[1].ecam.base: the window overlaps segment 0's ECAM window");
    // segment 1 starts below and runs into it
    await refused(withDevice({ model: 'test-endpoint' }, two('0xb0000000', [0, 15], '0xaff00000', [0, 1])),
      "x.json: segments[1].ecam.base: the window overlaps segment 0's ECAM window");
    // adjacent windows do not overlap
    const ok = await resolveTopology(withDevice({ model: 'test-endpoint' }, two('0xb0000000', [0, 15], '0xb1000000', [0, 0])), { source: SOURCE });
    expect(ok.segments).toEqual([
      { segment: 0, ecam: { base: 0xb0000000, busStart: 0, busEnd: 15 } },
      { segment: 1, ecam: { base: 0xb1000000, busStart: 0, busEnd: 0 } },
    ]);
  });
  it('bad segment numbers, bases and bus ranges', async () => {
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 16, ecam: { base: 0 } }] }),
      'x.json: segments[0].segment: 16 is not a segment number 0..15');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0 }, { segment: 0 }] }),
      'x.json: segments[1].segment: segment 0 is declared twice');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: { base: '0xb0080000' } }] }),
      'x.json: segments[0].ecam.base: 0xb0080000 is not a 1 MiB aligned address below 2^53');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: { base: 'zero' } }] }),
      'x.json: segments[0].ecam.base: "zero" is not a number or a "0x..." string');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: { base: '0x40000000000000' } }] }),
      'x.json: segments[0].ecam.base: 0x40000000000000 is not a 1 MiB aligned address below 2^53');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: { base: 0, buses: [5, 4] } }] }),
      'x.json: segments[0].ecam.buses: [5,4] is not [first, last] with 0 <= first <= last <= 255');
    await refused(withDevice({ model: 'test-endpoint' }, { segments: [{ segment: 0, ecam: { base: 0, buses: [0, 256] } }] }),
      'x.json: segments[0].ecam.buses: [0,256] is not [first, last] with 0 <= first <= last <= 255');
  });
});

describe('descriptor BARs', () => {
  it('size not a power of two', async () => {
    const err = await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 3000 }] }),
      'x.json: devices[3].descriptor.bars[0].size: 3000 is not a power of two');
    expect(err.path).toBe('devices[3].descriptor.bars[0].size');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'io', size: 16 }, { index: 1, kind: 'mem64', size: '0x300000000' }] }),
      'x.json: devices[3].descriptor.bars[1].size: 12884901888 is not a power of two');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 0 }] }),
      'x.json: devices[3].descriptor.bars[0].size: 0 is not a power of two');
  });
  it('size too small', async () => {
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 8 }] }),
      'x.json: devices[3].descriptor.bars[0].size: 8 is outside 16..2147483648 for a mem32 BAR');
    await refused(withDescriptor({ bars: [{ index: 2, kind: 'io', size: 2 }] }),
      'x.json: devices[3].descriptor.bars[0].size: 2 is outside 4..65536 for a io BAR');
  });
  it('size too big', async () => {
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: '0x100000000' }] }),
      'x.json: devices[3].descriptor.bars[0].size: 4294967296 is outside 16..2147483648 for a mem32 BAR');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'io', size: 131072 }] }),
      'x.json: devices[3].descriptor.bars[0].size: 131072 is outside 4..65536 for a io BAR');
  });
  it('a 64-bit BAR at index 5', async () => {
    await refused(withDescriptor({ bars: [{ index: 5, kind: 'mem64', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[0].index: a 64-bit BAR at index 5 needs BAR 6 too');
    // a bridge has 2 BARs: a 64-bit BAR at index 1 does not fit either
    await refused(withDescriptor({ headerType: 1, classCode: 0x060400, bars: [{ index: 1, kind: 'mem64', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[0].index: a 64-bit BAR at index 1 needs BAR 2 too');
  });
  it('two BARs on one index (directly, or via the upper half of a 64-bit BAR)', async () => {
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 4096 }, { index: 0, kind: 'io', size: 16 }] }),
      'x.json: devices[3].descriptor.bars[1].index: BAR 0 is already used by bars[0]');
    await refused(withDescriptor({ bars: [{ index: 2, kind: 'mem64', size: 4096 }, { index: 3, kind: 'mem32', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[1].index: BAR 3 is already used by bars[0]');
    await refused(withDescriptor({ bars: [{ index: 3, kind: 'mem32', size: 4096 }, { index: 2, kind: 'mem64', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[1].index: BAR 3 is already used by bars[0]');
  });
  it('index out of range, unknown kind, unaligned address', async () => {
    await refused(withDescriptor({ bars: [{ index: 6, kind: 'mem32', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[0].index: 6 is not a BAR index (0..5)');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem16', size: 4096 }] }),
      'x.json: devices[3].descriptor.bars[0].kind: "mem16" is not one of io, mem32, mem64');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 4096, address: '0xfebf0800' }] }),
      'x.json: devices[3].descriptor.bars[0].address: 0xfebf0800 is not a mem32 address aligned to the size');
  });
  it('ROM too small (or not a power of two)', async () => {
    await refused(withDescriptor({ rom: { size: 1024 } }),
      'x.json: devices[3].descriptor.rom.size: 1024 is not a power of two between 2 KiB and 2 GiB');
    await refused(withDescriptor({ rom: { size: 3072 } }),
      'x.json: devices[3].descriptor.rom.size: 3072 is not a power of two between 2 KiB and 2 GiB');
  });
});

describe('descriptor capabilities', () => {
  it('overlapping capability offsets', async () => {
    await refused(withDescriptor({ capabilities: [{ id: 'msi', offset: 0x40, vectors: 1 }, { id: 'pm', offset: 0x44 }] }),
      'x.json: devices[3].descriptor.capabilities[1].offset: 0x44 overlaps the capability at 0x40');
    await refused(withDescriptor({ capabilities: [{ id: 'pm', offset: '0x50' }, { id: 'pm', offset: '0x50' }] }),
      'x.json: devices[3].descriptor.capabilities[1].offset: 0x50 overlaps the capability at 0x50');
  });
  it('capability offsets out of range or unaligned', async () => {
    await refused(withDescriptor({ capabilities: [{ id: 'pm', offset: 0x3c }] }),
      'x.json: devices[3].descriptor.capabilities[0].offset: 0x3c is not a dword-aligned offset with 8 bytes free in 0x40..0xff');
    await refused(withDescriptor({ capabilities: [{ id: 'pm', offset: 0xfc }] }),
      'x.json: devices[3].descriptor.capabilities[0].offset: 0xfc is not a dword-aligned offset with 8 bytes free in 0x40..0xff');
    await refused(withDescriptor({ capabilities: [{ id: 'pm', offset: 0x100 }] }),
      'x.json: devices[3].descriptor.capabilities[0].offset: 0x100 is not a dword-aligned offset with 8 bytes free in 0x40..0xff');
    await refused(withDescriptor({ capabilities: [{ id: 'pm', offset: 0x42 }] }),
      'x.json: devices[3].descriptor.capabilities[0].offset: 0x42 is not a dword-aligned offset with 8 bytes free in 0x40..0xff');
  });
  it('MSI with 3 vectors', async () => {
    await refused(withDescriptor({ capabilities: [{ id: 'pm' }, { id: 'msi', vectors: 3 }] }),
      'x.json: devices[3].descriptor.capabilities[1].vectors: 3 is not 1, 2, 4, 8, 16 or 32');
  });
  it('MSI-X table sizes 0 and 2049', async () => {
    const msix = (tableSize: number) => ({ id: 'msix', tableSize, tableBar: 0, tableOffset: 0, pbaBar: 0, pbaOffset: 0x800 });
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 0x4000 }], capabilities: [msix(0)] }),
      'x.json: devices[3].descriptor.capabilities[0].tableSize: 0 is not in 1..2048');
    await refused(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 0x10000 }], capabilities: [msix(2049)] }),
      'x.json: devices[3].descriptor.capabilities[0].tableSize: 2049 is not in 1..2048');
    // the bounds themselves are fine
    for (const n of [1, 2048]) {
      const t = await resolveTopology(withDescriptor({ bars: [{ index: 0, kind: 'mem32', size: 0x10000 }], capabilities: [msix(n)] }), { source: SOURCE });
      expect(t.functions[3].planes.get(0x42, 2)).toBe(n - 1);
    }
  });
  it('unknown capability id', async () => {
    await refused(withDescriptor({ capabilities: [{ id: 'agp' }] }),
      'x.json: devices[3].descriptor.capabilities[0].id: "agp" is not one of pm, msi, msix, pcie, vendor');
  });
  it('extended capabilities without a pcie capability', async () => {
    await refused(withDescriptor({ capabilities: [{ id: 'pm' }], extendedCapabilities: [{ id: 'dsn', serial: 1 }] }),
      'x.json: devices[3].descriptor.extendedCapabilities: need a "pcie" capability (extended config space is PCI Express only)');
  });
  it('bad identity fields', async () => {
    await refused(withDescriptor({ vendorId: 0xffff }), 'x.json: devices[3].descriptor.vendorId: 65535 is not an integer in 0x0..0xfffe');
    await refused(withDescriptor({ classCode: '0x1000000' }), 'x.json: devices[3].descriptor.classCode: 16777216 is not an integer in 0x0..0xffffff');
    await refused(withDescriptor({ headerType: 2 }), 'x.json: devices[3].descriptor.headerType: 2 is not 0 or 1');
  });
});

// A conventional endpoint's 256 bytes: IO BAR0 (0x..01), 64-bit BAR2/3, mem32 BAR5.
function dump256(): Uint8Array {
  const b = new Uint8Array(256);
  b.set([0x34, 0x12, 0x78, 0x56], 0);
  b[0x0b] = 0xff;
  b.set([0x01, 0xc0, 0, 0], 0x10); // BAR0 io at 0xc000
  b.set([0x0c, 0, 0, 0xfe], 0x18); // BAR2 mem64 prefetchable at 0xfe000000
  b.set([0x00, 0x00, 0xbf, 0xfe], 0x24); // BAR5 mem32 at 0xfebf0000
  return b;
}
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SIZES = [{ index: 0, size: 32 }, { index: 2, size: '0x1000000' }, { index: 5, size: 4096 }];

describe('templates', () => {
  it('the fixture template resolves', async () => {
    const t = await resolveTopology(withTemplate({ configHex: hexOf(dump256()), barSizes: SIZES }), { source: SOURCE });
    expect(t.functions[3].kind).toBe('template');
  });
  it('a dump of the wrong length names the field that holds it', async () => {
    for (const n of [100, 64, 128, 512, 0]) {
      const bytes = new Uint8Array(n);
      bytes.set(dump256().slice(0, n));
      await refused(withTemplate({ configHex: hexOf(bytes) }),
        `x.json: devices[3].template.configHex: a dump of ${n} bytes; need 256 (lspci -xxx, conventional) or 4096 (lspci -xxxx, PCIe)`);
    }
  });
  it('an lspci -x dump (64 bytes) names the lspci field', async () => {
    const text = '00:03.0 Unclassified device: Device 1234:5678\n' +
      ['00: 34 12 78 56 00 00 00 00 00 00 00 ff 00 00 00 00', '10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
        '20: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', '30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'].join('\n') + '\n';
    await refused(withTemplate({ lspci: text }),
      'x.json: devices[3].template.lspci: a dump of 64 bytes; need 256 (lspci -xxx, conventional) or 4096 (lspci -xxxx, PCIe)');
  });
  it('malformed hex in configHex', async () => {
    await refused(withTemplate({ configHex: 'zz' + hexOf(dump256()).slice(2) }), 'x.json: devices[3].template.configHex: is not hex digit pairs');
    await refused(withTemplate({ configHex: hexOf(dump256()).slice(1) }), 'x.json: devices[3].template.configHex: is not hex digit pairs');
    await refused(withTemplate({ configHex: 42 }), 'x.json: devices[3].template.configHex: must be a string of hex digit pairs');
  });
  it('malformed hex in lspci text names the text and the line', async () => {
    const lines = ['00:03.0 Unclassified device: Device 1234:5678'];
    const b = dump256();
    for (let r = 0; r < 256; r += 16) {
      lines.push(`${r.toString(16).padStart(2, '0')}: ${Array.from(b.slice(r, r + 16), (x) => x.toString(16).padStart(2, '0')).join(' ')}`);
    }
    const good = lines.join('\n') + '\n';
    await resolveTopology(withTemplate({ lspci: good, barSizes: SIZES }), { source: SOURCE });
    const bad = good.replace('10: 01 c0', '10: 01 cg');
    await refused(withTemplate({ lspci: bad, barSizes: SIZES }), 'x.json: devices[3].template.lspci: lspci text:3: bad hex byte "cg" at column 8');
    const short = good.replace('\n30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', '\n30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
    expect(short).not.toBe(good);
    await refused(withTemplate({ lspci: short, barSizes: SIZES }), 'x.json: devices[3].template.lspci: lspci text:5: row has 15 bytes, expected 16');
    await refused(withTemplate({ lspci: good, function: '00:04.0', barSizes: SIZES }), 'x.json: devices[3].template.function: 00:04.0 is not in the dump');
    await refused(withTemplate({ lspci: good + '\n' + good.replace('00:03.0', '00:04.0'), barSizes: SIZES }),
      'x.json: devices[3].template.function: the dump holds 2 functions; say which one');
  });
  it('an implemented BAR without a size', async () => {
    await refused(withTemplate({ configHex: hexOf(dump256()), barSizes: SIZES.slice(1) }),
      'x.json: devices[3].template.barSizes: BAR 0 is implemented in the dump (0xc001) but has no size');
    await refused(withTemplate({ configHex: hexOf(dump256()) }),
      'x.json: devices[3].template.barSizes: BAR 0 is implemented in the dump (0xc001) but has no size');
  });
  it('a barSizes entry that does not fit the BAR type the dump shows', async () => {
    const sizes = (s: unknown[]) => withTemplate({ configHex: hexOf(dump256()), barSizes: s });
    // I/O BAR0 cannot be 1 MiB
    await refused(sizes([{ index: 0, size: 0x100000 }, SIZES[1], SIZES[2]]),
      'x.json: devices[3].template.barSizes[0].size: 1048576 is outside 4..65536 for the I/O BAR the dump shows');
    // 32-bit memory BAR5 cannot be 4 GiB
    await refused(sizes([SIZES[0], SIZES[1], { index: 5, size: '0x100000000' }]),
      'x.json: devices[3].template.barSizes[2].size: 4294967296 is outside 16..2147483648 for the 32-bit memory BAR the dump shows');
    // BAR3 (barSizes[0]) is the upper half of the dump's 64-bit BAR2 (barSizes[2])
    await refused(sizes([{ index: 3, size: 4096 }, ...SIZES]),
      'x.json: devices[3].template.barSizes[2].index: BAR 3 is the upper half of 64-bit BAR 2');
    await refused(sizes([SIZES[0], { index: 2, size: 3000 }, SIZES[2]]),
      'x.json: devices[3].template.barSizes[1].size: 3000 is not a power of two');
    await refused(sizes([...SIZES, { index: 6, size: 1024 }]),
      'x.json: devices[3].template.barSizes[3].size: 1024 is not a ROM size (2 KiB..2 GiB)');
    await refused(sizes([...SIZES, { index: 7, size: 4096 }]),
      'x.json: devices[3].template.barSizes[3].index: 7 is not a BAR index (0..5, 6 = ROM)');
    await refused(sizes([SIZES[0], SIZES[1], { index: 5, size: 'big' }]),
      'x.json: devices[3].template.barSizes[2].size: "big" is not a number or a "0x..." string');
  });
  it('barSizes giving the same BAR twice is refused (not silently "last one wins")', async () => {
    await refused(withTemplate({ configHex: hexOf(dump256()), barSizes: [...SIZES, { index: 0, size: 64 }] }),
      'x.json: devices[3].template.barSizes[3].index: BAR 0 is given twice');
  });
  it('errors in barSizes name the entry of the file, also when a resource file gives other sizes', async () => {
    // The resource file sizes BAR0 (32 bytes of I/O) and BAR2 (16 MiB); barSizes[0] is the bad one.
    const resource = [
      '0x000000000000c000 0x000000000000c01f 0x0000000000040101',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x00000000fe000000 0x00000000feffffff 0x000000000014220c',
    ].join('\n') + '\n';
    const readFile = async () => new TextEncoder().encode(resource);
    const text = withTemplate({ configHex: hexOf(dump256()), resourceFile: 'resource', barSizes: [{ index: 5, size: '0x100000000' }] });
    await expect(resolveTopology(text, { source: SOURCE, readFile })).rejects.toThrow(
      'x.json: devices[3].template.barSizes[0].size: 4294967296 is outside 16..2147483648 for the 32-bit memory BAR the dump shows');
    // and the same file with a good BAR5 size resolves, with the resource file's sizes
    const ok = await resolveTopology(withTemplate({ configHex: hexOf(dump256()), resourceFile: 'resource', barSizes: [{ index: 5, size: 4096 }] }),
      { source: SOURCE, readFile });
    expect(ok.functions[3].barSizes).toEqual([{ index: 0, size: 32n }, { index: 2, size: 0x1000000n }, { index: 5, size: 4096n }]);
  });
  it('a size for the upper half of a 64-bit BAR, given after the BAR, is called that (not "given twice")', async () => {
    // barSizes lists BAR 3 once; the message must not say it is given twice.
    await refused(withTemplate({ configHex: hexOf(dump256()), barSizes: [...SIZES, { index: 3, size: 4096 }] }),
      'x.json: devices[3].template.barSizes[3].index: BAR 3 is the upper half of 64-bit BAR 2');
  });
  it('an absent function as a dump', async () => {
    await refused(withTemplate({ configHex: 'ff'.repeat(256) }),
      'x.json: devices[3].template.configHex: vendor ID 0xffff is not a present function');
  });
  it('a file path with no file reader', async () => {
    for (const field of ['lspciFile', 'configFile']) {
      await refused(withTemplate({ [field]: 'dump.txt' }),
        `x.json: devices[3].template.${field}: a file path needs a file reader (load the topology with the Node runtime, or inline the dump with configHex/lspci)`);
    }
    await refused(withTemplate({ configHex: hexOf(dump256()), resourceFile: 'resource', barSizes: SIZES }),
      'x.json: devices[3].template.resourceFile: a file path needs a file reader (load the topology with the Node runtime, or inline the dump with configHex/lspci)');
  });
  it('template field errors', async () => {
    await refused(withTemplate({ configHex: hexOf(dump256()), sizes: [] }),
      'x.json: devices[3].template.sizes: is not a template field (configHex, lspci, lspciFile, function, configFile, resourceFile, barSizes)');
    await refused(withTemplate({ barSizes: [] }),
      'x.json: devices[3].template: needs exactly one of configHex, lspci, lspciFile, configFile (has none)');
    await refused(withTemplate({ configHex: hexOf(dump256()), lspci: 'x' }),
      'x.json: devices[3].template: needs exactly one of configHex, lspci, lspciFile, configFile (has configHex, lspci)');
  });
});

describe('errors from files read through a reader', () => {
  it('a reader that fails is reported with the path', async () => {
    const readFile = async (p: string): Promise<Uint8Array> => { throw new Error(`ENOENT: no such file, open '${p}'`); };
    await expect(resolveTopology(withTemplate({ lspciFile: 'missing.txt' }), { source: SOURCE, readFile }))
      .rejects.toThrow("x.json: devices[3].template.lspciFile: cannot read \"missing.txt\": ENOENT: no such file, open 'missing.txt'");
  });
  it('malformed sysfs resource text names the file and the line', async () => {
    const files: Record<string, string> = { res: '0x0000000000000000 0x000000000000001f 0x0000000000040101\nbogus\n' };
    const readFile = async (p: string) => new TextEncoder().encode(files[p]);
    await expect(resolveTopology(withTemplate({ configHex: hexOf(dump256()), resourceFile: 'res' }), { source: SOURCE, readFile }))
      .rejects.toThrow('x.json: devices[3].template.resourceFile: res:2: expected "0xSTART 0xEND 0xFLAGS", found 1 field(s)');
  });
});

describe('devices behind bridges', () => {
  /** The three prefix devices (00:02.0 is a PCI-to-PCI bridge) and then `devices`, from devices[3] on. */
  const topo = (devices: Record<string, unknown>[], extra: Record<string, unknown> = {}) => JSON.stringify({ ...extra, devices: [...PREFIX, ...devices] });
  const EPM = { model: 'test-endpoint' };
  const BRM = { model: 'pci-bridge' };

  it('"bdf" and "behind" together, or neither, or "addr" without "behind"', async () => {
    await refused(topo([{ bdf: '00:03.0', behind: '00:02.0', addr: '00.0', ...EPM }]),
      'x.json: devices[3].behind: a device has "bdf" (on a root bus) or "behind" and "addr" (below a bridge), not both', 'devices[3].behind');
    await refused(topo([{ ...EPM }]),
      'x.json: devices[3].bdf: undefined is not a string like "00:1f.3" or "0000:00:1f.3" (a device below a bridge gives "behind" and "addr" instead)');
    await refused(topo([{ addr: '00.0', ...EPM }]),
      'x.json: devices[3].behind: is missing: "addr" places a device on the secondary bus of the bridge "behind" names', 'devices[3].behind');
    await refused(topo([{ bdf: '00:03.0', addr: '00.0', ...EPM }]),
      'x.json: devices[3].addr: goes with "behind"; a device on a root bus gives only "bdf"', 'devices[3].addr');
  });

  it('"behind" that is not a string, and a missing or malformed "addr"', async () => {
    await refused(topo([{ behind: 7, addr: '00.0', ...EPM }]), 'x.json: devices[3].behind: 7 is not a bridge\'s "id" or "bdf"');
    await refused(topo([{ behind: '', addr: '00.0', ...EPM }]), 'x.json: devices[3].behind: "" is not a bridge\'s "id" or "bdf"');
    await refused(topo([{ behind: '00:02.0', ...EPM }]),
      'x.json: devices[3].addr: is missing: a device behind a bridge needs "addr", its "DD.F" on the secondary bus', 'devices[3].addr');
    await refused(topo([{ behind: '00:02.0', addr: '00:00.0', ...EPM }]), 'x.json: devices[3].addr: "00:00.0" is not a device and function like "00.0" or "1f.3"');
    await refused(topo([{ behind: '00:02.0', addr: '00.8', ...EPM }]), 'x.json: devices[3].addr: "00.8" is not a device and function like "00.0" or "1f.3"');
    await refused(topo([{ behind: '00:02.0', addr: '20.0', ...EPM }]), 'x.json: devices[3].addr: "20.0": device 0x20 is above 0x1f');
    await refused(topo([{ behind: '00:02.0', addr: 0, ...EPM }]), 'x.json: devices[3].addr: 0 is not a string like "00.0"');
  });

  it('ids that are not non-empty strings, read as a BDF, or are taken twice', async () => {
    await refused(topo([{ id: 5, bdf: '00:03.0', ...BRM }]), 'x.json: devices[3].id: 5 is not a non-empty string', 'devices[3].id');
    await refused(topo([{ id: '', bdf: '00:03.0', ...BRM }]), 'x.json: devices[3].id: "" is not a non-empty string');
    await refused(topo([{ id: '00:04.0', bdf: '00:03.0', ...BRM }]),
      'x.json: devices[3].id: "00:04.0" reads as a BDF; "behind" takes a bridge\'s id or its bdf, so an id must not look like one');
    await refused(topo([{ id: 'br', bdf: '00:03.0', ...BRM }, { id: 'br', bdf: '00:04.0', ...BRM }]),
      'x.json: devices[4].id: "br" is already the id of devices[3]', 'devices[4].id');
  });

  it('"behind" naming no device', async () => {
    for (const behind of ['nope', '00:09.0', '01:00.0', '0000:00:02.0/00.0']) {
      await refused(topo([{ behind, addr: '00.0', ...EPM }]),
        `x.json: devices[3].behind: "${behind}" is neither the "id" of a device nor the "bdf" of a device on a root bus`, 'devices[3].behind');
    }
  });

  it('"behind" naming a function that is not a bridge (header type != 1)', async () => {
    await refused(topo([{ behind: '00:01.0', addr: '00.0', ...EPM }]),
      'x.json: devices[3].behind: "00:01.0" is devices[1], which is not a bridge (header type 0, not 1): only a bridge has a secondary bus', 'devices[3].behind');
    await refused(topo([{ id: 'hb', bdf: '00:05.0', model: 'host-bridge' }, { behind: 'hb', addr: '00.0', ...EPM }]),
      'x.json: devices[4].behind: "hb" is devices[3], which is not a bridge (header type 0, not 1): only a bridge has a secondary bus');
    // a bridge class code does not make a bridge; the header type does
    await refused(topo([{ id: 'fake', bdf: '00:05.0', descriptor: { ...EP, classCode: 0x060400 } }, { behind: 'fake', addr: '00.0', ...EPM }]),
      /^x\.json: devices\[4\]\.behind: "fake" is devices\[3\], which is not a bridge \(header type 0, not 1\)/);
  });

  it('loops: a chain of "behind" that never reaches a root bus, named at its first device', async () => {
    await refused(topo([{ id: 'a', behind: 'b', addr: '00.0', ...BRM }, { id: 'b', behind: 'a', addr: '00.0', ...BRM }]),
      'x.json: devices[3].behind: "a" -> "b" -> "a" is a loop: the chain of "behind" never reaches a device on a root bus', 'devices[3].behind');
    await refused(topo([{ id: 'self', behind: 'self', addr: '00.0', ...BRM }]),
      'x.json: devices[3].behind: "self" -> "self" is a loop: the chain of "behind" never reaches a device on a root bus');
    // a device hanging below a loop: the loop is named, from its first device in the file
    await refused(topo([
      { behind: 'y', addr: '00.0', ...EPM }, { id: 'x', behind: 'z', addr: '00.0', ...BRM }, { id: 'y', behind: 'x', addr: '01.0', ...BRM },
      { id: 'z', behind: 'y', addr: '00.0', ...BRM },
    ]), 'x.json: devices[4].behind: "x" -> "z" -> "y" -> "x" is a loop: the chain of "behind" never reaches a device on a root bus', 'devices[4].behind');
  });

  it('two devices at one "addr" below one bridge, in any spelling of both', async () => {
    await refused(topo([{ behind: '00:02.0', addr: '00.0', ...EPM }, { behind: '0000:00:02.0', addr: '0.0', ...EPM }]),
      'x.json: devices[4].addr: 00.0 below "0000:00:02.0" is already devices[3] (0000:00:02.0/00.0)', 'devices[4].addr');
    await refused(topo([{ id: 'br', bdf: '00:04.0', ...BRM }, { behind: 'br', addr: '1F.7', ...EPM }, { behind: 'br', addr: '1f.0', ...EPM }, { behind: '00:04.0', addr: '1f.7', ...EPM }]),
      'x.json: devices[6].addr: 1f.7 below "00:04.0" is already devices[4] (0000:00:04.0/1f.7)');
    // the same addr below two bridges is two functions
    const t = await resolveTopology(topo([{ id: 'br', bdf: '00:04.0', ...BRM }, { behind: 'br', addr: '00.0', ...EPM }, { behind: '00:02.0', addr: '00.0', ...EPM }]));
    expect(t.functions.map((f) => f.path).slice(3)).toEqual(['0000:00:04.0', '0000:00:04.0/00.0', '0000:00:02.0/00.0']);
  });

  it('functions 1-7 below a bridge need function 0 below the same bridge', async () => {
    await refused(topo([{ behind: '00:02.0', addr: '00.1', ...EPM }]),
      'x.json: devices[3].addr: 0000:00:02.0/00.1 has no function 0 (0000:00:02.0/00.0); a guest scans functions 1-7 only when function 0 exists', 'devices[3].addr');
    // function 0 below another bridge does not count
    await refused(topo([{ id: 'br', bdf: '00:04.0', ...BRM }, { behind: 'br', addr: '03.0', ...EPM }, { behind: '00:02.0', addr: '03.2', ...EPM }]),
      'x.json: devices[5].addr: 0000:00:02.0/03.2 has no function 0 (0000:00:02.0/03.0); a guest scans functions 1-7 only when function 0 exists');
    // function 0 listed later is fine
    const t = await resolveTopology(topo([{ behind: '00:02.0', addr: '00.5', ...EPM }, { behind: '00:02.0', addr: '00.0', ...EPM }]));
    expect(t.functions.map((f) => f.path).slice(3)).toEqual(['0000:00:02.0/00.5', '0000:00:02.0/00.0']);
  });

  it('more root buses and bridges than the bus numbers of the segment', async () => {
    const two = { segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 1] } }] };
    // the prefix: root bus 0 and one bridge fill the two buses
    await resolveTopology(topo([], two));
    await refused(topo([{ bdf: '00:03.0', ...BRM }], two),
      'x.json: devices[3]: segment 0 needs 3 bus numbers (1 root bus and 2 bridges, each with its secondary bus), but its ECAM window covers 2 (0x0-0x1)', 'devices[3]');
    await refused(topo([{ behind: '00:02.0', addr: '00.0', model: 'root-port' }], two),
      'x.json: devices[3]: segment 0 needs 3 bus numbers (1 root bus and 2 bridges, each with its secondary bus), but its ECAM window covers 2 (0x0-0x1)');
    await refused(topo([{ bdf: '01:00.0', ...EPM }], two),
      'x.json: devices[3].bdf: segment 0 needs 3 bus numbers (2 root buses and 1 bridge, each with its secondary bus), but its ECAM window covers 2 (0x0-0x1)', 'devices[3].bdf');
    // every segment counts its own
    const seg1 = { segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 1] } }, { segment: 1, ecam: { base: '0xc0000000', buses: [0x10, 0x10] } }] };
    await refused(topo([{ bdf: '0001:10:00.0', ...EPM }, { id: 'b1', bdf: '0001:10:01.0', ...BRM }], seg1),
      'x.json: devices[4]: segment 1 needs 2 bus numbers (1 root bus and 1 bridge, each with its secondary bus), but its ECAM window covers 1 (0x10-0x10)');
  });

  it('without an ECAM window a segment has 256 bus numbers', async () => {
    const bridges = (n: number) => Array.from({ length: n }, (_, i) => ({ bdf: `00:${(i >> 3).toString(16).padStart(2, '0')}.${i & 7}`, ...BRM }));
    const ports = { segments: [{ segment: 0, ecam: false }] };
    const ok = await resolveTopology(JSON.stringify({ ...ports, devices: bridges(255) }));
    expect(ok.functions).toHaveLength(255);
    await refused(JSON.stringify({ ...ports, devices: bridges(256) }),
      'x.json: devices[255]: segment 0 needs 257 bus numbers (1 root bus and 256 bridges, each with its secondary bus), but a segment has 256');
  });
});
