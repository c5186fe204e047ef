// The table is a pure function of the set of mappings: the same set, mapped in any order after
// any history of maps, moves and unmaps, gives the same lookups and the very same tables (the
// same entry at every level on every probed path, the same live blocks per class).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegionTable } from '../../src/core/ts/region-table.js';
import { edges, RegionModel } from './model.js';
import { compileRegionTable, newWasmRegionTable, type RegionTableApi } from './wasm.js';
import { mappingArb } from './arbitraries.js';

beforeAll(async () => {
  await compileRegionTable();
}, 120_000);

interface M { id: number; space: number; base: number; size: number; priority: number }

/** A set of valid mappings with distinct ids (ids from a small range so ties are common). */
const setArb = fc.uniqueArray(mappingArb(fc.integer({ min: 1, max: 40 })), { selector: (m) => m.id, maxLength: 24 })
  .map((ms) => ms.filter((m) => new RegionModel().regionMap(m.id, m.space, m.base, m.size, m.priority) === 0));

/** Everything observable about a table at the given points. */
function snapshot(core: RegionTableApi, points: Array<[number, number]>): unknown {
  const lookups = points.map(([s, a]) => core.regionLookup(s, a));
  const probes = points.filter(([s]) => s === 0).map(([, a]) => [0, 1, 2, 3, 4, 5].map((l) => core.regionProbe(a, l)));
  return {
    lookups, probes, count: core.regionCount(), live: core.regionTableLiveBytes(),
    blocks: [0, 1, 2].map((c) => core.regionTableBlocks(c)),
  };
}

function pointsOf(ms: M[]): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (const m of ms) for (const a of edges(m.base, m.base + m.size)) pts.push([m.space, a], [m.space, a + 7]);
  return pts;
}

function mapAll(core: RegionTableApi, ms: M[]): void {
  for (const m of ms) expect(core.regionMap(m.id, m.space, m.base, m.size, m.priority)).toBe(0);
}

describe('region table: a pure function of the mapping set', () => {
  it('any order, any history: same lookups, same tables (both cores)', async () => {
    await fc.assert(
      fc.asyncProperty(
        setArb,
        fc.array(mappingArb(fc.integer({ min: 1, max: 60 })), { maxLength: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (set, noise, seed) => {
          const order2 = fc.sample(fc.shuffledSubarray(set, { minLength: set.length, maxLength: set.length }), { seed, numRuns: 1 })[0];
          const model = new RegionModel();
          for (const m of set) model.regionMap(m.id, m.space, m.base, m.size, m.priority);
          const points = pointsOf([...set, ...noise]);
          const expected = points.map(([s, a]) => model.regionLookup(s, a));
          const finalIds = new Set(set.map((m) => m.id));
          for (const make of [() => new RegionTable() as RegionTableApi, newWasmRegionTable]) {
            const a = await make();
            mapAll(a, set);
            const b = await make();
            // History: noise mappings (some reuse ids of the set: those are moves), then the set in
            // another order, then the noise that is not in the set goes away.
            for (const m of noise) b.regionMap(m.id, m.space, m.base, m.size, m.priority);
            mapAll(b, order2);
            for (const m of noise) if (!finalIds.has(m.id)) b.regionUnmap(m.id);
            const sa = snapshot(a, points);
            expect((sa as { lookups: number[] }).lookups).toEqual(expected);
            expect(snapshot(b, points)).toEqual(sa);
            // Unmapping everything leaves no table behind.
            for (const m of set) a.regionUnmap(m.id);
            expect(a.regionTableLiveBytes()).toBe(0);
            b.regionReset();
            expect(b.regionTableLiveBytes()).toBe(0);
            expect(snapshot(b, points)).toEqual(snapshot(a, points));
          }
        }),
      { numRuns: 200 },
    );
  }, 300_000);

  it('a move is an unmap then a map', async () => {
    for (const make of [() => new RegionTable() as RegionTableApi, newWasmRegionTable]) {
      const a = await make();
      const b = await make();
      a.regionMap(1, 0, 0xfe000000, 0x10000, 0);
      a.regionMap(2, 0, 0xfe008000, 0x10, 0);
      a.regionMap(2, 0, 0x8_0000_0000, 0x4000_0000, 3); // moved: 1 GiB at 32 GiB
      b.regionMap(1, 0, 0xfe000000, 0x10000, 0);
      b.regionMap(2, 0, 0x8_0000_0000, 0x4000_0000, 3);
      const pts = pointsOf([
        { id: 1, space: 0, base: 0xfe000000, size: 0x10000, priority: 0 },
        { id: 2, space: 0, base: 0xfe008000, size: 0x10, priority: 0 },
        { id: 2, space: 0, base: 0x8_0000_0000, size: 0x4000_0000, priority: 3 },
      ]);
      expect(snapshot(a, pts)).toEqual(snapshot(b, pts));
      expect(a.regionLookup(0, 0xfe008000)).toBe(1);
      expect(a.regionBase(2)).toBe(0x8_0000_0000);
      expect(a.regionSize(2)).toBe(0x4000_0000);
      expect(a.regionCount()).toBe(2);
    }
  });
});
