// fast-check arbitraries for the differential suites: random device descriptors (BAR kinds and
// sizes, ROMs, capabilities, extended capabilities, header types), random topologies (segments,
// ECAM windows, multi-function devices, models and cloned templates), and random guest access
// sequences aimed at what exists (and just outside it).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type {
  BarDescriptor, CapabilityDescriptor, ExtendedCapabilityDescriptor, FunctionDescriptor, PciePortType, RomDescriptor,
} from '../../src/config/index.js';
import type { Topology, TopologyDevice } from '../../src/topology/index.js';
import { bytesToHex, cf8 } from './vpci.js';
import { SHARED_DATA } from './shared-data.js';
import { join } from 'node:path';

const MiB = 0x100000;

// ---------------------------------------------------------------------------------------------
// Descriptors

type BarChoice = 'none' | 'io' | 'mem32' | 'mem32p' | 'mem64' | 'mem64p';

const sizeValue = (size: bigint, asBigint: boolean): number | bigint =>
  asBigint || size > 2n ** 52n ? size : Number(size);

interface BarSlot { choice: BarChoice; exp: number; addr: bigint; useAddr: boolean; asBigint: boolean }

const barSlotArb: fc.Arbitrary<BarSlot> = fc.record({
  choice: fc.constantFrom<BarChoice>('none', 'none', 'io', 'mem32', 'mem32p', 'mem64', 'mem64p'),
  exp: fc.nat(1000),
  addr: fc.bigInt({ min: 0n, max: 2n ** 64n }),
  useAddr: fc.boolean(),
  asBigint: fc.boolean(),
});

function barsFrom(slots: BarSlot[], count: number): BarDescriptor[] {
  const bars: BarDescriptor[] = [];
  for (let i = 0; i < count; i++) {
    const s = slots[i];
    let choice = s.choice;
    if ((choice === 'mem64' || choice === 'mem64p') && i + 1 >= count) choice = 'mem32';
    if (choice === 'none') continue;
    const kind = choice === 'io' ? 'io' : choice.startsWith('mem64') ? 'mem64' : 'mem32';
    const [lo, hi] = kind === 'io' ? [2, 16] : kind === 'mem32' ? [4, 31] : [4, 63];
    const size = 2n ** BigInt(lo + (s.exp % (hi - lo + 1)));
    const limit = kind === 'mem64' ? 2n ** 64n : 2n ** 32n;
    const address = s.useAddr ? (s.addr % (limit / size)) * size : undefined;
    const bar: BarDescriptor = { index: i, kind, size: sizeValue(size, s.asBigint) };
    if (choice === 'mem32p' || choice === 'mem64p') bar.prefetchable = true;
    if (address !== undefined) bar.address = sizeValue(address, s.asBigint);
    bars.push(bar);
    if (kind === 'mem64') i++;
  }
  return bars;
}

const romArb: fc.Arbitrary<RomDescriptor | undefined> = fc.option(
  fc.record({ exp: fc.integer({ min: 11, max: 24 }), k: fc.nat(), useAddr: fc.boolean() }).map(({ exp, k, useAddr }) => {
    const size = 2 ** exp;
    return useAddr ? { size, address: (k % (2 ** 32 / size)) * size } : { size };
  }),
  { nil: undefined },
);

const PORT_TYPES: PciePortType[] = [
  'endpoint', 'legacy-endpoint', 'root-port', 'upstream-port', 'downstream-port',
  'pcie-to-pci-bridge', 'pci-to-pcie-bridge', 'rc-integrated-endpoint', 'rc-event-collector',
];

const capArb: fc.Arbitrary<CapabilityDescriptor> = fc.oneof(
  fc.constant<CapabilityDescriptor>({ id: 'pm' }),
  fc.record({
    vectors: fc.constantFrom<1 | 2 | 4 | 8 | 16 | 32>(1, 2, 4, 8, 16, 32),
    address64: fc.boolean(),
    perVectorMask: fc.boolean(),
  }).map((o): CapabilityDescriptor => ({ id: 'msi', ...o })),
  fc.record({
    tableSize: fc.integer({ min: 1, max: 2048 }),
    tableBar: fc.integer({ min: 0, max: 5 }),
    tableOffset: fc.nat(0x1fffffff).map((v) => v * 8),
    pbaBar: fc.integer({ min: 0, max: 5 }),
    pbaOffset: fc.nat(0x1fffffff).map((v) => v * 8),
  }).map((o): CapabilityDescriptor => ({ id: 'msix', ...o })),
  fc.constantFrom(...PORT_TYPES).map((portType): CapabilityDescriptor => ({ id: 'pcie', portType })),
  fc.array(fc.nat(255), { maxLength: 24 }).map((data): CapabilityDescriptor => ({ id: 'vendor', data })),
);

function capLength(c: CapabilityDescriptor): number {
  switch (c.id) {
    case 'pm': return 8;
    case 'msi': return ((c.address64 ?? true) ? 0x0e : 0x0a) + ((c.perVectorMask ?? false) ? 0x0a : 0);
    case 'msix': return 12;
    case 'pcie': return 0x3c;
    case 'vendor': return 3 + c.data.length;
  }
}

/** Keeps capabilities while they fit (laid out from 0x40, dword aligned) below 0x100. */
function fitCaps(caps: CapabilityDescriptor[]): CapabilityDescriptor[] {
  const out: CapabilityDescriptor[] = [];
  let next = 0x40;
  for (const c of caps) {
    const end = next + capLength(c);
    if (end > 256) continue;
    out.push(c);
    next = (end + 3) & ~3;
  }
  return out;
}

const extCapArb: fc.Arbitrary<ExtendedCapabilityDescriptor> = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((serial): ExtendedCapabilityDescriptor => ({ id: 'dsn', serial })),
  fc.record({
    capId: fc.integer({ min: 1, max: 0xffff }),
    version: fc.integer({ min: 0, max: 15 }),
    words: fc.array(fc.nat(255), { maxLength: 16 }),
  }).map(({ capId, version, words }): ExtendedCapabilityDescriptor => ({
    id: 'raw', capId, version, data: words.slice(0, words.length - (words.length % 4)),
  })),
);

export const descriptorArb: fc.Arbitrary<FunctionDescriptor> = fc.record({
  headerType: fc.constantFrom<0 | 1>(0, 0, 1),
  vendorId: fc.integer({ min: 0, max: 0xfffe }),
  deviceId: fc.integer({ min: 0, max: 0xffff }),
  classCode: fc.integer({ min: 0, max: 0xffffff }),
  revision: fc.integer({ min: 0, max: 0xff }),
  subsystemVendorId: fc.integer({ min: 0, max: 0xffff }),
  subsystemId: fc.integer({ min: 0, max: 0xffff }),
  interruptPin: fc.integer({ min: 0, max: 4 }),
  statusBits: fc.subarray([0x20, 0x80, 0x200, 0x400]).map((bits) => bits.reduce((a, b) => a | b, 0)),
  slots: fc.array(barSlotArb, { minLength: 6, maxLength: 6 }),
  rom: romArb,
  caps: fc.array(capArb, { maxLength: 5 }),
  ext: fc.array(extCapArb, { maxLength: 3 }),
  bridgeIo32: fc.boolean(),
  bridgePrefetch64: fc.boolean(),
}).map((r) => {
  const d: FunctionDescriptor = {
    vendorId: r.vendorId, deviceId: r.deviceId, classCode: r.classCode, revision: r.revision,
    headerType: r.headerType, interruptPin: r.interruptPin, statusBits: r.statusBits,
    bars: barsFrom(r.slots, r.headerType === 1 ? 2 : 6),
    capabilities: fitCaps(r.caps),
  };
  if (r.headerType === 0) {
    d.subsystemVendorId = r.subsystemVendorId;
    d.subsystemId = r.subsystemId;
  } else {
    d.bridgeIo32 = r.bridgeIo32;
    d.bridgePrefetch64 = r.bridgePrefetch64;
  }
  if (r.rom) d.rom = r.rom;
  d.capabilities = placeMsix(d);
  if (d.capabilities.some((c) => c.id === 'pcie') && r.ext.length > 0) d.extendedCapabilities = r.ext;
  return d;
});

/**
 * Puts each MSI-X table and its PBA inside the function's largest memory BAR (the topology layer
 * refuses them elsewhere), shrinking the table to fit and keeping the generated offset where it
 * fits; drops MSI-X when no memory BAR can hold a one-entry table and its PBA.
 */
function placeMsix(d: FunctionDescriptor): CapabilityDescriptor[] {
  const mem = (d.bars ?? []).filter((b) => b.kind !== 'io').sort((a, b) => (BigInt(b.size) > BigInt(a.size) ? 1 : -1))[0];
  const room = mem === undefined ? 0 : Number(BigInt(mem.size) > 0x40000000n ? 0x40000000n : BigInt(mem.size));
  const pba = (n: number) => Math.ceil(n / 64) * 8;
  return (d.capabilities ?? []).flatMap((c): CapabilityDescriptor[] => {
    if (c.id !== 'msix') return [c];
    let n = c.tableSize;
    while (n > 1 && n * 16 + pba(n) > room) n = Math.max(1, n >> 1);
    const need = n * 16 + pba(n);
    if (mem === undefined || need > room) return [];
    const tableOffset = (c.tableOffset % (room - need + 1)) & ~7;
    return [{ ...c, tableSize: n, tableBar: mem.index, tableOffset, pbaBar: mem.index, pbaOffset: tableOffset + n * 16 }];
  });
}

// ---------------------------------------------------------------------------------------------
// Sources of a function: descriptor, model, template

const FIRECRACKER = join(SHARED_DATA, 'firecracker');
const DUMP_TEMPLATES = [0, 1, 2, 3, 4, 5].map((dev) => {
  const bdf = `0000:00:0${dev}.0`;
  return {
    configHex: bytesToHex(new Uint8Array(readFileSync(`${FIRECRACKER}/${bdf}.config`))),
    barSizes: dev === 0 ? [] : [{ index: 0, size: '0x80000' }],
  };
});

type Source = Omit<TopologyDevice, 'bdf'>;

const sourceArb: fc.Arbitrary<Source> = fc.oneof(
  { weight: 6, arbitrary: descriptorArb.map((descriptor): Source => ({ descriptor })) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constant<Source>({ model: 'host-bridge' }),
      fc.record({ interruptPin: fc.integer({ min: 0, max: 4 }), msiVectors: fc.constantFrom(1, 2, 4, 8, 16, 32) })
        .map((options): Source => ({ model: 'test-endpoint', options })),
      fc.boolean().map((io32): Source => ({ model: 'pci-bridge', options: { io32 } })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((s): Source => ({ model: 'root-port', options: { serial: `0x${s.toString(16)}` } })),
      fc.constant<Source>({ model: 'firecracker-virtio-blk' }),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...DUMP_TEMPLATES).map((t): Source => ({ template: t })) },
);

// ---------------------------------------------------------------------------------------------
// Topologies

export interface Window { seg: number; base: number; busStart: number; busEnd: number }
export interface FnAddr { seg: number; bus: number; dev: number; fn: number }

export interface GeneratedTopology {
  topology: Topology;
  windows: Window[];
  functions: FnAddr[];
}

// Bus windows are wide enough for every function to be a bridge (each needs a bus number of its
// segment: 5 devices of up to 4 functions).
const SEGMENT_LAYOUTS: { segments?: Topology['segments']; windows: Window[] }[] = [
  { windows: [{ seg: 0, base: 0xb0000000, busStart: 0, busEnd: 255 }] },
  {
    segments: [{ segment: 0, ecam: false }, { segment: 1, ecam: { base: '0xe0000000', buses: [0, 31] } }],
    windows: [{ seg: 1, base: 0xe0000000, busStart: 0, busEnd: 31 }],
  },
  {
    segments: [
      { segment: 0, ecam: { base: 0x80000000, buses: [0, 31] } },
      { segment: 2, ecam: { base: '0x800000000', buses: [16, 47] } },
      { segment: 15, ecam: { base: 0x90000000, buses: [0xe0, 0xff] } },
    ],
    windows: [
      { seg: 0, base: 0x80000000, busStart: 0, busEnd: 31 },
      { seg: 2, base: 0x800000000, busStart: 16, busEnd: 47 },
      { seg: 15, base: 0x90000000, busStart: 0xe0, busEnd: 0xff },
    ],
  },
];

export const topologyArb: fc.Arbitrary<GeneratedTopology> = fc.integer({ min: 0, max: SEGMENT_LAYOUTS.length - 1 }).chain((layoutIndex) => {
  const layout = SEGMENT_LAYOUTS[layoutIndex];
  const segs = layout.segments ? layout.segments.map((s) => ({ seg: s.segment, root: s.ecam ? s.ecam.buses![0] : 0 })) : [{ seg: 0, root: 0 }];
  const deviceArb = fc.record({
    segIndex: fc.nat(segs.length - 1),
    dev: fc.nat(31),
    fns: fc.subarray([1, 2, 3, 4, 5, 6, 7], { maxLength: 3 }),
  });
  return fc.uniqueArray(deviceArb, { minLength: 1, maxLength: 5, selector: (d) => `${d.segIndex}:${d.dev}` })
    .chain((devs) => {
      const addrs: FnAddr[] = [];
      for (const d of devs) {
        for (const fn of [0, ...d.fns]) addrs.push({ seg: segs[d.segIndex].seg, bus: segs[d.segIndex].root, dev: d.dev, fn });
      }
      return fc.array(sourceArb, { minLength: addrs.length, maxLength: addrs.length }).map((sources): GeneratedTopology => ({
        topology: {
          ...(layout.segments ? { segments: layout.segments } : {}),
          devices: addrs.map((a, i) => ({ bdf: formatBdf(a), ...sources[i] })),
        },
        windows: layout.windows,
        functions: addrs,
      }));
    });
});

export function formatBdf(a: FnAddr): string {
  const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${h(a.seg, 4)}:${h(a.bus, 2)}:${h(a.dev, 2)}.${a.fn}`;
}

// ---------------------------------------------------------------------------------------------
// Guest access sequences

export type Op =
  | { op: 'configRead'; bdf: string; reg: number; size: number }
  | { op: 'configWrite'; bdf: string; reg: number; size: number; value: number }
  | { op: 'mmioRead'; addr: number | bigint; size: number }
  | { op: 'mmioWrite'; addr: number | bigint; size: number; value: number | bigint }
  | { op: 'ioRead'; port: number; size: number }
  | { op: 'ioWrite'; port: number; size: number; value: number };

const HOSTILE = [NaN, Infinity, -Infinity, -1, -0.5, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 32 + 4, 2 ** 53, 2 ** 64, 1e300, -(2 ** 31)];

export const sizeArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(1, 2, 4) },
  { weight: 1, arbitrary: fc.constantFrom(0, 3, 5, 8, 16, -1, -4, ...HOSTILE) },
);
export const valueArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat(0xffffffff) },
  { weight: 3, arbitrary: fc.constantFrom(0, 0xffffffff, 0xff, 0xffff, 0xffff0000, 0x80000000, 0xf900, 0x0547) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
);
const regArb = fc.oneof(
  { weight: 10, arbitrary: fc.nat(0xff) },
  { weight: 3, arbitrary: fc.nat(0xfff) },
  { weight: 1, arbitrary: fc.constantFrom(0x100, 0xffc, 0xfff, 0x1000, 0x1004, 0xfffffffc, -1, -4, ...HOSTILE) },
);

export function opsArb(g: GeneratedTopology, maxLength: number): fc.Arbitrary<Op[]> {
  const fnArb: fc.Arbitrary<FnAddr> = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...g.functions) },
    { weight: 1, arbitrary: fc.constantFrom(...g.functions).chain((f) => fc.nat(7).map((fn) => ({ ...f, fn }))) },
    {
      weight: 1,
      arbitrary: fc.record({ seg: fc.constantFrom(0, 1, 2, 15, 16, 0xffff), bus: fc.constantFrom(0, 1, 16, 0xfe, 0xff), dev: fc.nat(31), fn: fc.nat(7) }),
    },
  );
  const bdfArb = fnArb.map(formatBdf);
  const windowArb = fc.constantFrom(...g.windows);
  const ecamAddrArb: fc.Arbitrary<number | bigint> = fc.oneof(
    {
      weight: 10,
      arbitrary: fc.tuple(fnArb, regArb.filter((r) => Number.isInteger(r) && r >= 0 && r < 0x1000)).map(([f, reg]) => {
        const w = g.windows.find((x) => x.seg === f.seg) ?? g.windows[0];
        return w.base + (f.bus - w.busStart) * MiB + f.dev * 0x8000 + f.fn * 0x1000 + reg;
      }),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(windowArb, fc.integer({ min: -2, max: 2 }), fc.nat(MiB - 1)).map(([w, edge, off]) => {
        // Just inside or just outside either end of the window.
        const size = (w.busEnd - w.busStart + 1) * MiB;
        if (edge < 0) return w.base - 1 - (off % 16);
        if (edge > 0) return w.base + size + (off % 16);
        return w.base + size - 1 - (off % 16);
      }),
    },
    { weight: 1, arbitrary: fc.nat(2 ** 36) },
    { weight: 1, arbitrary: fc.constantFrom<number | bigint>(...HOSTILE, -1n, 2n ** 53n, 2n ** 64n, 2n ** 64n + 0xb0000000n, -0xb0000000n) },
  );
  const addrArb = fc.tuple(ecamAddrArb, fc.boolean()).map(([a, big]) => (big && typeof a === 'number' && Number.isSafeInteger(a) && a >= 0 ? BigInt(a) : a));
  const mmioSizeArb = fc.oneof({ weight: 3, arbitrary: sizeArb }, { weight: 1, arbitrary: fc.constant(8) });
  const portArb = fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0xcf4, max: 0xd00 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 0x80, 0xffff, 0x10cf8, 2 ** 32 + 0xcf8, 2 ** 32 + 0xcfc, -1, ...HOSTILE) },
  );
  const cf8ValueArb = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fnArb, fc.nat(0xff), fc.boolean(), fc.nat(3)).map(([f, reg, en, junk]) => (cf8(f.bus & 0xff, f.dev, f.fn, reg, en) | junk) >>> 0) },
    { weight: 1, arbitrary: valueArb },
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('configRead' as const), bdf: bdfArb, reg: regArb, size: sizeArb }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('configWrite' as const), bdf: bdfArb, reg: regArb, size: sizeArb, value: valueArb }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('mmioRead' as const), addr: addrArb, size: mmioSizeArb }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('mmioWrite' as const), addr: addrArb, size: mmioSizeArb,
        value: fc.oneof(valueArb, fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n })) as fc.Arbitrary<number | bigint>,
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('ioRead' as const), port: portArb, size: sizeArb }) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.record({ op: fc.constant('ioWrite' as const), port: fc.constant(0xcf8), size: fc.constant(4), value: cf8ValueArb }),
        fc.record({ op: fc.constant('ioWrite' as const), port: portArb, size: sizeArb, value: valueArb }),
      ),
    },
  );
  return fc.array(op, { maxLength, size: 'max' });
}
