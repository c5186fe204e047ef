// The property: random mappings, attachments, bus-master toggles and DMA requests (single and
// scatter-gather, reads and writes, internal and external RAM) never read or write a byte outside
// the pages mapped for that slot with that permission; and both cores agree with the brute-force
// model, and with each other, byte for byte: statuses, RAM, transfer buffer, fault logs, counters.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Counter, IOVA_LIMIT, GPA_LIMIT } from '../../src/core/ts/dma/layout.js';
import { compileDma } from './wasm.js';
import { KiB, MiB, RAM_LAYOUT, drainFaults, makeWorld, ramOf, runDma, type World } from './world.js';

beforeAll(async () => {
  await compileDma();
}, 120_000);

const PAGE = 4096;

type Op =
  | { kind: 'map'; dom: number; iova: number; gpa: number; size: number; perms: number }
  | { kind: 'unmap'; dom: number; iova: number; size: number }
  | { kind: 'attach'; slot: number; dom: number }
  | { kind: 'detach'; slot: number }
  | { kind: 'bme'; slot: number; on: boolean }
  | { kind: 'dma'; slot: number; dir: number; elems: Array<[number, number]>; bufOffset: number; sg: boolean }
  /** A DMA aimed at what the slot's domain maps now: element k starts in the (pick % n)-th mapped page. */
  | { kind: 'near'; slot: number; dir: number; picks: Array<[number, number, number]>; bufOffset: number; sg: boolean };

/** IOVA pages cluster in [0, 256 KiB), at 2 MiB edges and just below 2^48: mappings collide. */
const iovaPage = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 63 }).map((p) => p * PAGE) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((k) => k * 2 * MiB) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }).map((p) => IOVA_LIMIT - p * PAGE) },
);
/** Guest-physical targets: mostly pages of RAM, also 2 MiB-aligned spots and gaps (0..6 MiB). */
const ramPage = fc.tuple(fc.integer({ min: 0, max: RAM_LAYOUT.length - 1 }), fc.nat())
  .map(([i, k]) => RAM_LAYOUT[i][0] + (k % (RAM_LAYOUT[i][1] / PAGE)) * PAGE);
const gpaPage = fc.oneof(
  { weight: 5, arbitrary: ramPage },
  { weight: 2, arbitrary: fc.constantFrom(0, 2 * MiB, 4 * MiB, 56 * KiB, 2 * MiB - 32 * KiB) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1535 }).map((p) => p * PAGE) },
);
const mapSize = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 12 }).map((k) => k * PAGE) },
  { weight: 2, arbitrary: fc.constantFrom(2 * MiB, 4 * MiB, 2 * MiB + 3 * PAGE) },
);
/** 0 built-in identity, 1 blocked, 2-3 translated, 4 identity. */
const domArb = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(0, 1, 4) }, { weight: 4, arbitrary: fc.constantFrom(2, 3) });
const dmaAddress = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 264 * KiB }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -8 * KiB, max: 8 * KiB })).map(([k, d]) => Math.max(0, k * 2 * MiB + d)) },
  { weight: 2, arbitrary: fc.tuple(ramPage, fc.integer({ min: 0, max: PAGE - 1 })).map(([p, o]) => p + o) },
  { weight: 1, arbitrary: fc.constantFrom(IOVA_LIMIT - 8, IOVA_LIMIT - PAGE - 2, GPA_LIMIT - 8, 2 ** 53 - 4096, 2 ** 60, 2 ** 64 - 2048, 128 * KiB - 2) },
);
const dmaLen = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 * PAGE }) },
  { weight: 1, arbitrary: fc.integer({ min: 3 * PAGE, max: 40 * KiB }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('map' as const), dom: domArb, iova: iovaPage, gpa: gpaPage, size: mapSize, perms: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unmap' as const), dom: domArb, iova: iovaPage, size: mapSize }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('attach' as const), slot: fc.constantFrom(0, 1), dom: domArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('detach' as const), slot: fc.constantFrom(0, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bme' as const), slot: fc.constantFrom(0, 1), on: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({
    kind: fc.constant('dma' as const), slot: fc.constantFrom(0, 1), dir: fc.constantFrom(0, 1),
    elems: fc.array(fc.tuple(dmaAddress, dmaLen), { minLength: 1, maxLength: 5 }),
    bufOffset: fc.integer({ min: 0, max: 64 * KiB }), sg: fc.boolean(),
  }) },
  { weight: 15, arbitrary: fc.record({
    kind: fc.constant('near' as const), slot: fc.constantFrom(0, 1), dir: fc.constantFrom(0, 1),
    picks: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: PAGE - 1 }), fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 256 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * PAGE }) })), { minLength: 1, maxLength: 3 }),
    bufOffset: fc.integer({ min: 0, max: 64 * KiB }), sg: fc.boolean(),
  }) },
);

/** Resolves a 'near' op against the model's current mappings (the same for every core). */
function resolve(w: World, op: Op): Op {
  if (op.kind !== 'near') return op;
  const dom = w.model.domains.get(w.model.slotDomain.get(w.slots[op.slot]) ?? 0)!;
  const pages = [...dom.pages.keys()].sort((x, y) => x - y);
  // Three picks in four aim at pages whose target is RAM (a 2 MiB page is mostly outside it).
  const inRam = pages.filter((p) => RAM_LAYOUT.some(([b, sz]) => {
    const g = dom.pages.get(p)!.gpa;
    return g >= b && g < b + sz;
  }));
  const elems = op.picks.map(([pick, off, len]): [number, number] => {
    const from = pick % 4 !== 0 && inRam.length ? inRam : pages;
    return [from.length ? from[(pick >> 2) % from.length] * PAGE + off : RAM_LAYOUT[pick % RAM_LAYOUT.length][0] + off, len];
  });
  return { kind: 'dma', slot: op.slot, dir: op.dir, elems, bufOffset: op.bufOffset, sg: op.sg };
}

async function world(): Promise<World> {
  const w = await makeWorld();
  for (const { core } of w.sides) {
    expect(core.domainCreate(1)).toBe(1);
    expect(core.domainCreate(2)).toBe(2);
    expect(core.domainCreate(2)).toBe(3);
    expect(core.domainCreate(0)).toBe(4);
  }
  w.model.createDomain(1, 1);
  w.model.createDomain(2, 2);
  w.model.createDomain(3, 2);
  w.model.createDomain(4, 0);
  // Starting mappings: 4 KiB pages into internal and external RAM, a 2 MiB page over a RAM edge,
  // pages at the top of the IOVA space, and 2 MiB pages over the first 4 MiB of guest RAM.
  const initial: Array<[number, number, number, number, number]> = [
    [2, 0, 8 * KiB, 16 * KiB, 3], [2, 64 * KiB, 64 * KiB + 2 * PAGE, 2 * PAGE, 1], [2, 2 * MiB, 2 * MiB, 2 * MiB, 3],
    [2, IOVA_LIMIT - 2 * PAGE, 4 * MiB, 2 * PAGE, 2], [2, 32 * KiB, 2 * MiB - 8 * KiB, 4 * PAGE, 3],
    [3, 0, 2 * MiB - 32 * KiB, 2 * PAGE, 3], [3, 4 * MiB, 0, 4 * MiB, 3], [3, 16 * KiB, 4 * MiB + PAGE, PAGE, 2],
  ];
  for (const [dom, iova, gpa, size, perms] of initial) {
    for (const { core } of w.sides) expect(core.domainMap(dom, iova, gpa, size, perms)).toBe(0);
    expect(w.model.map(dom, iova, gpa, size, perms)).toBe(0);
  }
  // Slot 0 starts in translated domain 2, slot 1 in the built-in identity domain.
  for (const { core } of w.sides) expect(core.dmaAttach(w.slots[0], 2)).toBe(0);
  w.model.slotDomain.set(w.slots[0], 2);
  // The transfer buffers start alike: a pattern, so a read that wrongly skips bytes shows.
  for (const buf of [...w.sides.map((s) => s.core.dmaBuffer()), w.model.buffer]) {
    for (let i = 0; i < 128 * KiB; i++) buf[i] = (i * 7) & 0xff;
  }
  return w;
}

function snapshotRam(w: World, sideIndex: number): Uint8Array[] {
  return RAM_LAYOUT.map((_, i) => ramOf(w.sides[sideIndex], i).slice());
}

function step(w: World, op: Op): void {
  const { model } = w;
  if (op.kind === 'near') throw new Error('resolve first');
  const results: number[] = [];
  for (const side of w.sides) {
    const c = side.core;
    const slot = w.slots[op.kind === 'map' || op.kind === 'unmap' ? 0 : op.slot];
    switch (op.kind) {
      case 'map': results.push(c.domainMap(op.dom, op.iova, op.gpa, op.size, op.perms)); break;
      case 'unmap': results.push(c.domainUnmap(op.dom, op.iova, op.size)); break;
      case 'attach': results.push(c.dmaAttach(slot, op.dom)); break;
      case 'detach': results.push(c.dmaDetach(slot)); break;
      case 'bme': c.configWrite(0, 0, slot === w.slots[0] ? 3 : 4, 0, 4, 1, op.on ? 4 : 0); results.push(0); break;
      case 'dma': results.push(Math.min(runDma(side, slot, op.dir, op.elems, op.bufOffset, op.sg || op.elems.length > 1), 0)); break;
    }
  }
  const slot = w.slots[op.kind === 'map' || op.kind === 'unmap' ? 0 : op.slot];
  let want: number;
  switch (op.kind) {
    case 'map': want = model.map(op.dom, op.iova, op.gpa, op.size, op.perms); break;
    case 'unmap': want = model.unmap(op.dom, op.iova, op.size); break;
    case 'attach': model.slotDomain.set(slot, op.dom); want = 0; break;
    case 'detach': model.slotDomain.set(slot, 0); want = 0; break;
    case 'bme': model.busMaster.set(slot, op.on); want = 0; break;
    case 'dma': {
      const allowed = model.allowed(slot, op.dir);
      const before = op.dir === 1 ? model.ram.map((r) => r!.bytes.slice()) : [];
      want = model.dma(slot, op.dir, op.elems, op.bufOffset);
      // The property, on the model's own bookkeeping: a write changed only permitted bytes.
      if (op.dir === 1) {
        model.ram.forEach((r, i) => {
          for (let k = 0; k < r!.size; k++) {
            if (r!.bytes[k] !== before[i][k] && !allowed(r!.base + k)) throw new Error(`model wrote ${r!.base + k}`);
          }
        });
      }
      break;
    }
  }
  expect(results, JSON.stringify(op)).toEqual([want, want]);
}

/** Everything observable agrees: RAM, buffer prefix, faults, counters, tables, IOTLB. */
function agree(w: World): void {
  const [a, b] = w.sides;
  RAM_LAYOUT.forEach((_, i) => {
    const want = w.model.ram[i]!.bytes;
    for (const side of w.sides) {
      const got = ramOf(side, i);
      if (Buffer.compare(got, want) !== 0) {
        const k = got.findIndex((v, j) => v !== want[j]);
        throw new Error(`${side.core.name}: RAM region ${i} differs at +${k}: ${got[k]} vs model ${want[k]}`);
      }
    }
  });
  const n = 128 * KiB;
  for (const side of w.sides) {
    if (Buffer.compare(side.core.dmaBuffer().subarray(0, n), w.model.buffer.subarray(0, n)) !== 0) {
      throw new Error(`${side.core.name}: transfer buffer differs from the model`);
    }
  }
  const faults = w.sides.map((s) => drainFaults(s.core));
  expect(faults[0]).toEqual(w.model.faults);
  expect(faults[1]).toEqual(w.model.faults);
  w.model.faults = [];
  for (const side of w.sides) {
    const c = side.core;
    expect([c.dmaCounter(Counter.FAULTS), c.dmaCounter(Counter.FAULTS_DROPPED), c.dmaCounter(Counter.TRANSFERS), c.dmaCounter(Counter.BYTES)])
      .toEqual([w.model.counters.faults, w.model.counters.dropped, w.model.counters.transfers, w.model.counters.bytes]);
  }
  expect([a.core.dmaCounter(Counter.IOTLB_HITS), a.core.dmaCounter(Counter.IOTLB_MISSES)])
    .toEqual([b.core.dmaCounter(Counter.IOTLB_HITS), b.core.dmaCounter(Counter.IOTLB_MISSES)]);
  expect(a.core.dmaTableCount()).toBe(b.core.dmaTableCount());
  // The byte areas too, past what a call returned: segments (scratch included) and drained faults.
  expect(Buffer.compare(a.core.dmaSegments().subarray(0, 64 * 24), b.core.dmaSegments().subarray(0, 64 * 24))).toBe(0);
  expect(Buffer.compare(a.core.dmaFaultArea(), b.core.dmaFaultArea())).toBe(0);
  expect(a.core.dmaIotlbValid()).toBe(b.core.dmaIotlbValid());
  for (const dom of [2, 3]) {
    for (const iova of [0, PAGE, 2 * MiB, 2 * MiB + PAGE, 4 * MiB, IOVA_LIMIT - PAGE]) {
      expect(a.core.domainTranslate(dom, iova)).toBe(b.core.domainTranslate(dom, iova));
      expect(a.core.domainPerms(dom, iova)).toBe(b.core.domainPerms(dom, iova));
    }
  }
}

describe('DMA: random mappings and requests, both cores against the model', () => {
  it('no byte outside the permitted pages is read or written; cores and model agree byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 60 }), async (ops) => {
        const w = await world();
        const ramBefore = snapshotRam(w, 0);
        for (const raw of ops) {
          const op = resolve(w, raw);
          if (op.kind === 'dma') {
            // Independent of the model: bytes a core wrote lie in pages the slot may write.
            const allowed = w.model.allowed(w.slots[op.slot], op.dir);
            const before = w.sides.map((_, i) => snapshotRam(w, i));
            step(w, op);
            w.sides.forEach((side, si) => RAM_LAYOUT.forEach(([base], i) => {
              const now = ramOf(side, i);
              for (let k = 0; k < now.length; k++) {
                if (now[k] !== before[si][i][k] && (op.dir === 0 || !allowed(base + k))) {
                  throw new Error(`${side.core.name} changed guest byte 0x${(base + k).toString(16)} (${JSON.stringify(op)})`);
                }
              }
            }));
          } else {
            step(w, op);
          }
          agree(w);
        }
        expect(ramBefore.length).toBe(RAM_LAYOUT.length);
      }),
      { numRuns: 120 },
    );
  }, 600_000);

  it('reads fill exactly the requested part of the buffer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 * MiB }), dmaLen), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 32 * KiB }),
        async (elems, bufOffset) => {
          const w = await world();
          for (const side of w.sides) {
            const before = side.core.dmaBuffer().slice(0, 256 * KiB);
            const st = runDma(side, w.slots[0], 0, elems, bufOffset, true);
            const total = elems.reduce((s, [, l]) => s + l, 0);
            const after = side.core.dmaBuffer().subarray(0, 256 * KiB);
            for (let i = 0; i < after.length; i++) {
              const inside = st >= 0 && i >= bufOffset && i < bufOffset + total;
              if (!inside && after[i] !== before[i]) throw new Error(`${side.core.name}: buffer byte ${i} changed (status ${st})`);
            }
          }
        }),
      { numRuns: 60 },
    );
  }, 300_000);
});
