// Both cores against the brute-force model on random map/unmap sequences: statuses, lookups at
// every range edge (base - 1, base, base + size - 1, base + size) and elsewhere, getters, and the
// memory counters (the twin must build the very same tables, not just answer alike).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegionTable } from '../../src/core/ts/region-table.js';
import { RegionModel, edges, MMIO_LIMIT } from './model.js';
import { compileRegionTable, newWasmRegionTable, type RegionTableApi } from './wasm.js';
import { ioAddress, mappingArb, mmioAddress, oddNumber } from './arbitraries.js';

beforeAll(async () => {
  await compileRegionTable();
}, 120_000);

type Op =
  | { kind: 'map'; id: number; space: number; base: number; size: number; priority: number }
  | { kind: 'unmap'; id: number }
  | { kind: 'reset' };

const smallIds = fc.integer({ min: 1, max: 10 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 60, arbitrary: mappingArb(smallIds).map((m) => ({ kind: 'map' as const, ...m })) },
  { weight: 10, arbitrary: mappingArb(fc.constantFrom(4095, 1)).map((m) => ({ kind: 'map' as const, ...m, priority: 255 })) },
  { weight: 20, arbitrary: smallIds.map((id) => ({ kind: 'unmap' as const, id })) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('map' as const), id: oddNumber, space: fc.oneof(oddNumber, fc.constantFrom(0, 1)),
    base: fc.oneof(oddNumber, mmioAddress), size: fc.oneof(oddNumber, fc.constantFrom(1, 16, 4096)), priority: fc.oneof(oddNumber, fc.constant(0)) }) },
  { weight: 10, arbitrary: oddNumber.map((id) => ({ kind: 'unmap' as const, id })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

function apply(core: RegionTableApi | RegionModel, op: Op): number {
  switch (op.kind) {
    case 'map': return core.regionMap(op.id, op.space, op.base, op.size, op.priority);
    case 'unmap': return core.regionUnmap(op.id);
    case 'reset': core.regionReset(); return 0;
  }
}

/** Every core answers like the model at every point, and the two cores hold identical tables. */
function agree(model: RegionModel, ts: RegionTable, wasm: RegionTableApi, points: Array<[number, number]>, ids: number[]): void {
  for (const [space, addr] of points) {
    const want = model.regionLookup(space, addr);
    const t = ts.regionLookup(space, addr);
    const w = wasm.regionLookup(space, addr);
    if (t !== want || w !== want) {
      throw new Error(`lookup(${space}, 0x${addr.toString(16)}): model ${want}, ts ${t}, wasm ${w}`);
    }
  }
  for (const id of ids) {
    expect([ts.regionBase(id), ts.regionSize(id)]).toEqual([model.regionBase(id), model.regionSize(id)]);
    expect([wasm.regionBase(id), wasm.regionSize(id)]).toEqual([model.regionBase(id), model.regionSize(id)]);
  }
  expect(ts.regionCount()).toBe(model.regionCount());
  expect(wasm.regionCount()).toBe(model.regionCount());
  expect(wasm.regionTableLiveBytes()).toBe(ts.regionTableLiveBytes());
  expect(wasm.regionTableBytes()).toBe(ts.regionTableBytes());
  for (let c = 0; c < 3; c++) expect(wasm.regionTableBlocks(c)).toBe(ts.regionTableBlocks(c));
}

describe('region table: both cores against the brute-force model', () => {
  it('random map/unmap/move sequences, checked at every edge after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.constantFrom(0, 1), mmioAddress), { maxLength: 20 }),
        async (ops, extra) => {
          const model = new RegionModel();
          const ts = new RegionTable();
          const wasm = await newWasmRegionTable();
          const points: Array<[number, number]> = extra.map(([s, a]) => [s, s === 1 ? a % 0x10000 : a]);
          points.push([0, MMIO_LIMIT - 1], [0, MMIO_LIMIT], [1, 0xffff], [1, 0x10000], [2, 0], [0, 0]);
          const ids = [0, 1, 2, 3, 9, 10, 4095, 4096];
          for (const op of ops) {
            const want = apply(model, op);
            expect(apply(ts, op)).toBe(want);
            expect(apply(wasm, op)).toBe(want);
            if (op.kind === 'map' && Number.isFinite(op.base) && Number.isFinite(op.size)) {
              for (const a of edges(op.base, op.base + op.size)) {
                points.push([op.space >>> 0, a]);
                if (op.space >>> 0 === 0) points.push([0, a - 15], [0, a + 15]);
              }
            }
            agree(model, ts, wasm, points, ids);
          }
        }),
      { numRuns: 150 },
    );
  }, 300_000);

  it('many regions: dense pages of 16-byte and 1-byte regions over large BARs, lookups everywhere nearby', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mappingArb(fc.integer({ min: 1, max: 4095 })), { minLength: 20, maxLength: 120 }), fc.integer({ min: 0, max: 2 ** 31 }),
        async (maps, seed) => {
          const model = new RegionModel();
          const ts = new RegionTable();
          const wasm = await newWasmRegionTable();
          const points: Array<[number, number]> = [];
          let rnd = seed;
          for (const m of maps) {
            const op: Op = { kind: 'map', ...m };
            const want = apply(model, op);
            expect(apply(ts, op)).toBe(want);
            expect(apply(wasm, op)).toBe(want);
            for (const a of edges(m.base, m.base + m.size)) points.push([m.space, a]);
            // also a few random points inside
            for (let k = 0; k < 2; k++) {
              rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
              points.push([m.space, m.base + Math.floor((rnd / 2 ** 31) * m.size)]);
            }
          }
          agree(model, ts, wasm, points, maps.map((m) => m.id));
          // unmap half of them, in another order
          for (const m of maps.filter((_, i) => i % 2 === 0).reverse()) {
            const op: Op = { kind: 'unmap', id: m.id };
            const want = apply(model, op);
            expect(apply(ts, op)).toBe(want);
            expect(apply(wasm, op)).toBe(want);
          }
          agree(model, ts, wasm, points, maps.map((m) => m.id));
        }),
      { numRuns: 60 },
    );
  }, 300_000);
});

describe('region table: rules at the edges', () => {
  it('priority wins, then the lower id; boundaries are exact', async () => {
    for (const core of [new RegionTable(), await newWasmRegionTable()] as RegionTableApi[]) {
      expect(core.regionMap(7, 0, 0xfe000000, 0x1000000, 0)).toBe(0); // 16 MiB window
      expect(core.regionMap(5, 0, 0xfe001000, 0x20, 1)).toBe(0);      // a 32-byte register block above it
      expect(core.regionMap(3, 0, 0xfe001010, 0x20, 1)).toBe(0);      // same priority, lower id: wins the overlap
      expect(core.regionMap(9, 0, 0xfe001018, 1, 2)).toBe(0);         // one byte above all
      const at = (a: number) => core.regionLookup(0, a);
      expect([at(0xfdffffff), at(0xfe000000), at(0xfe000fff), at(0xfe001000), at(0xfe00100f)]).toEqual([0, 7, 7, 5, 5]);
      expect([at(0xfe001010), at(0xfe001017), at(0xfe001018), at(0xfe001019), at(0xfe00102f), at(0xfe001030)]).toEqual([3, 3, 9, 3, 3, 7]);
      expect([at(0xfeffffff), at(0xff000000)]).toEqual([7, 0]);
      expect(core.regionUnmap(3)).toBe(0);
      expect([at(0xfe001010), at(0xfe00101f), at(0xfe001020)]).toEqual([5, 5, 7]);
      expect(core.regionUnmap(3)).toBe(-4);
    }
  });

  it('addresses at or above 2^52 are never mapped; ranges may end exactly at 2^52', async () => {
    for (const core of [new RegionTable(), await newWasmRegionTable()] as RegionTableApi[]) {
      expect(core.regionMap(1, 0, 0, MMIO_LIMIT, 0)).toBe(0);
      expect(core.regionLookup(0, MMIO_LIMIT - 1)).toBe(1);
      expect(core.regionLookup(0, MMIO_LIMIT)).toBe(0);
      expect(core.regionLookup(0, 2 ** 53)).toBe(0);
      expect(core.regionLookup(0, 2 ** 63)).toBe(0);
      expect(core.regionMap(2, 0, MMIO_LIMIT - 16, 16, 0)).toBe(0);
      expect(core.regionMap(3, 0, MMIO_LIMIT - 16, 17, 0)).toBe(-1);
      expect(core.regionMap(3, 0, MMIO_LIMIT, 1, 0)).toBe(-1);
      expect(core.regionMap(3, 1, 0xffff, 1, 0)).toBe(0);
      expect(core.regionMap(4, 1, 0xffff, 2, 0)).toBe(-1);
      expect(core.regionLookup(1, 0xffff)).toBe(3);
      expect(core.regionLookup(1, 0x10000)).toBe(0);
    }
  });

  it('bad arguments are rejected, never thrown, identically in both cores', async () => {
    const wasm = await newWasmRegionTable();
    const ts = new RegionTable();
    const model = new RegionModel();
    fc.assert(fc.property(oddNumber, oddNumber, oddNumber, oddNumber, oddNumber, (a, b, c, d, e) => {
      for (const core of [ts, wasm, model]) {
        core.regionMap(a, b & 1, 0x1000, 16, 0);
      }
      const r = [model, ts, wasm].map((core) => [
        core.regionMap(a, b, c, d, e), core.regionMap(1, 0, c, d, 0), core.regionMap(2, 1, c, d, 0),
        core.regionMap(3, b, 0x2000, d, e), core.regionUnmap(a), core.regionUnmap(e),
        core.regionLookup(a, c), core.regionLookup(0, c), core.regionLookup(1, c), core.regionLookup(b, d),
        core.regionBase(a), core.regionSize(a), core.regionCount(),
      ]);
      expect(r[1]).toEqual(r[0]);
      expect(r[2]).toEqual(r[0]);
      expect(ts.regionTableLiveBytes()).toBe(wasm.regionTableLiveBytes());
      expect(ts.regionProbe(c, b)).toBe(wasm.regionProbe(c, b));
    }), { numRuns: 2000 });
  });

  it('an id coerces like a u32 parameter: 2^32 + 3 is id 3, -1 is out of range', async () => {
    for (const core of [new RegionTable(), await newWasmRegionTable()] as RegionTableApi[]) {
      expect(core.regionMap(2 ** 32 + 3, 0, 0x1000, 0x1000, 0)).toBe(0);
      expect(core.regionLookup(0, 0x1000)).toBe(3);
      expect(core.regionBase(3)).toBe(0x1000);
      expect(core.regionMap(-1, 0, 0x1000, 0x1000, 0)).toBe(-1);
      expect(core.regionUnmap(-1)).toBe(-1);
      expect(core.regionUnmap(0)).toBe(-1);
      expect(core.regionUnmap(4)).toBe(-4);
      expect(core.regionMap(4, 0, 0x1000, 0x1000, -1)).toBe(-1);
      expect(core.regionMap(4, 0, 0x1000, 0x1000, 256)).toBe(-1);
      expect(core.regionMap(4, 2, 0x1000, 0x1000, 0)).toBe(-1);
      expect(core.regionMap(4, 0, 0x1000, 0, 0)).toBe(-1);
      expect(core.regionCount()).toBe(1);
    }
  });

  it('the twin reads non-u64 numbers as unmapped addresses', () => {
    const ts = new RegionTable();
    expect(ts.regionMap(1, 0, 0, 0x2000, 0)).toBe(0);
    expect(ts.regionMap(2, 1, 0, 0x100, 0)).toBe(0);
    for (const a of [0.5, 1.5, -1, -0.5, NaN, Infinity, 4095.999]) {
      expect(ts.regionLookup(0, a)).toBe(0);
      expect(ts.regionLookup(1, a)).toBe(0);
    }
    expect(ts.regionLookup(0, -0)).toBe(1);
    expect(ts.regionMap(3, 0, 4096.5, 16, 1)).toBe(-1);
    expect(ts.regionMap(3, 0, 0x1000, 16.5, 1)).toBe(-1);
  });
});
