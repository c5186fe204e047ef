// Random topologies for the allocator's properties: functions with up to six BARs (IO, 32- and
// 64-bit memory, prefetchable or not) and a ROM, bridges up to three deep with every flag mix,
// hotplug bridges, and root windows from roomy to tight (bases aligned and not), so that a good
// share of cases do not fit and the error paths and fallbacks run too.
import fc from 'fast-check';
import type { AllocationRoot, BarRequest, BridgeRequest, FunctionRequest, Reserves, RootWindows } from '../../../src/firmware/allocate/index.js';

export const KiB = 1024n;
export const MiB = 1024n * KiB;
export const GiB = 1024n * MiB;

const pow2 = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((e) => 1n << BigInt(e));

/** Memory BAR sizes 16 B .. 256 MiB, mostly small. */
const memSize = fc.oneof(
  { weight: 5, arbitrary: pow2(4, 16) },
  { weight: 4, arbitrary: pow2(17, 22) },
  { weight: 1, arbitrary: pow2(23, 28) },
);

type Slot = 'none' | 'io' | 'mem32' | 'mem32p' | 'mem64' | 'mem64p';
const slotArb: fc.Arbitrary<Slot> = fc.constantFrom('none', 'none', 'io', 'mem32', 'mem32p', 'mem64', 'mem64p');

/** BARs for `slots` BAR slots (6 for an endpoint, 2 for a bridge) plus maybe a ROM. */
function barsArb(slots: number): fc.Arbitrary<BarRequest[]> {
  return fc.tuple(
    fc.array(fc.tuple(slotArb, memSize, pow2(2, 8)), { minLength: slots, maxLength: slots }),
    fc.option(pow2(11, 20), { freq: 4 }),
  ).map(([picks, rom]) => {
    const bars: BarRequest[] = [];
    for (let i = 0; i < slots; i++) {
      const [slot, size, ioSize] = picks[i];
      if (slot === 'none') continue;
      if (slot === 'io') { bars.push({ index: i, kind: 'io', prefetchable: false, size: ioSize }); continue; }
      const wide = slot.startsWith('mem64');
      if (wide && i === slots - 1) continue; // no upper half left
      bars.push({ index: i, kind: wide ? 'mem64' : 'mem32', prefetchable: slot.endsWith('p'), size });
      if (wide) i++;
    }
    if (rom !== null) bars.push({ index: 6, kind: 'rom', prefetchable: false, size: rom });
    return bars;
  });
}

const fnArb: fc.Arbitrary<FunctionRequest> = barsArb(6).map((bars) => ({ bdf: '', bars }));

function nodeArb(depth: number): fc.Arbitrary<FunctionRequest | BridgeRequest> {
  if (depth >= 3) return fnArb;
  return fc.oneof({ weight: 3, arbitrary: fnArb }, { weight: 1, arbitrary: bridgeArb(depth + 1) });
}

function bridgeArb(depth: number): fc.Arbitrary<BridgeRequest> {
  return fc.record({
    bars: fc.oneof({ weight: 3, arbitrary: fc.constant([] as BarRequest[]) }, { weight: 1, arbitrary: barsArb(2) }),
    io32: fc.boolean(),
    prefetch64: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    hasPrefetchWindow: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    hotplug: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    children: fc.array(nodeArb(depth), { minLength: 0, maxLength: 3 }),
  }).map((b) => ({ bdf: '', ...b }));
}

/** A copy of the tree with every function named by its path ("01.0/00.0"), unique by construction. */
export function nameTree(children: (FunctionRequest | BridgeRequest)[], prefix = ''): (FunctionRequest | BridgeRequest)[] {
  return children.map((c, i) => {
    const bdf = `${prefix}${i.toString(16).padStart(2, '0')}.0`;
    return 'children' in c ? { ...c, bdf, children: nameTree(c.children, `${bdf}/`) } : { ...c, bdf };
  });
}

const windowsArb: fc.Arbitrary<RootWindows> = fc.record({
  ioBase: fc.constantFrom(0n, 0x1000n, 0xc000n, 0xf000n),
  ioSize: fc.constantFrom(0x4000n, 0x10000n, 0x20000n),
  memBase: fc.constantFrom(0x80000000n, 0xc0000000n, 0xe0000000n, 0xe0100000n, 0xd0300000n),
  memSize: fc.constantFrom(16n * MiB, 64n * MiB, 128n * MiB, 256n * MiB, 512n * MiB),
  mem64: fc.option(fc.record({ base: fc.constantFrom(1n << 32n, 0x800000000n), size: fc.constantFrom(64n * MiB, 256n * MiB, 4n * GiB) }), { freq: 2 }),
}).map((w) => {
  const memSize = w.memBase + w.memSize > 1n << 32n ? (1n << 32n) - w.memBase : w.memSize;
  return {
    io: { base: w.ioBase, size: w.ioSize },
    mem32: { base: w.memBase, size: memSize },
    ...(w.mem64 ? { mem64: w.mem64 } : {}),
  };
});

export const reservesArb: fc.Arbitrary<Reserves | undefined> = fc.option(fc.record({
  io: fc.constantFrom(0n, 4n * KiB, 8n * KiB),
  mem: fc.constantFrom(0n, 1n * MiB, 2n * MiB, 8n * MiB),
  prefetch: fc.constantFrom(0n, 2n * MiB, 32n * MiB),
}), { nil: undefined });

/** Ranges in use (BARs firmware keeps): naturally aligned, somewhere in (or across) a root window. */
const reservedArb = fc.array(fc.record({
  space: fc.constantFrom('io' as const, 'mem' as const, 'mem' as const),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  size: fc.oneof(pow2(4, 12), pow2(16, 26)),
}), { maxLength: 3 });

/** A named tree with windows, sometimes with ranges already in use. */
export const rootArb: fc.Arbitrary<AllocationRoot> = fc.record({
  windows: windowsArb,
  children: fc.array(nodeArb(0), { minLength: 1, maxLength: 6 }),
  reserved: fc.option(reservedArb, { freq: 3, nil: undefined }),
}).map((r) => {
  const reserved = r.reserved?.map(({ space, at, size }) => {
    const w = space === 'io' ? r.windows.io : at < 0.8 || !r.windows.mem64 ? r.windows.mem32 : r.windows.mem64;
    const s = space === 'io' && size > 0x1000n ? size >> 8n : size;
    const offset = BigInt(Math.floor(at * Number(w.size)));
    return { space, base: ((w.base + offset) / s) * s, size: s };
  });
  return { windows: r.windows, children: nameTree(r.children), ...(reserved ? { reserved } : {}) };
});

/** Bridge paths the generator produces often enough for `reserveFor` to hit. */
const BRIDGE_PATHS = ['00.0', '01.0', '02.0', '00.0/00.0', '00.0/01.0', '01.0/00.0', '03.0'];

/** Options for either policy, with random hotplug reserves and per-bridge overrides. */
export const optionsArb = fc.record({
  policy: fc.constantFrom('scan-order' as const, 'largest-first' as const),
  hotplugReserve: reservesArb,
  reserveFor: fc.option(fc.dictionary(fc.constantFrom(...BRIDGE_PATHS), reservesArb.map((r) => r ?? {}), { maxKeys: 3 }), { nil: undefined }),
}).map((o) => ({
  policy: o.policy,
  ...(o.hotplugReserve ? { hotplugReserve: o.hotplugReserve } : {}),
  ...(o.reserveFor ? { reserveFor: o.reserveFor } : {}),
}));
