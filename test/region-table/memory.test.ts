// Memory is bounded: tables come back through free lists, so map/unmap churn does not grow what
// the table has taken from the heap; and huge regions map in time set by their edges, not size.
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXED_BYTES, RegionTable } from '../../src/core/ts/region-table.js';
import { compileRegionTable, newWasmRegionTable, type RegionTableApi } from './wasm.js';

beforeAll(async () => {
  await compileRegionTable();
}, 120_000);

const cores = (): Array<Promise<RegionTableApi> | RegionTableApi> => [new RegionTable(), newWasmRegionTable()];

/** xorshift32: a fixed pseudo-random stream, the same for both cores. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * A device-like population of 100 regions: MMIO BARs of 16 B..1 GiB, naturally aligned, below
 * 4 GiB or (a third of them) in a 64-bit window at 32 GiB and up, so some share pages and some
 * overlap; every seventh is an IO range of 1..256 ports. [id, space, base, size, priority].
 */
function population(next: () => number, round: number): Array<[number, number, number, number, number]> {
  const out: Array<[number, number, number, number, number]> = [];
  for (let id = 1; id <= 100; id++) {
    if ((id + round) % 7 === 0) {
      out.push([id, 1, Math.floor(next() * 0xff00), 1 + Math.floor(next() * 0x100), id % 3]);
      continue;
    }
    const size = 2 ** (4 + Math.floor(next() * 27));
    const window = next() < 0.3 ? 2 ** 35 + Math.floor(next() * 2 ** 12) * 2 ** 30 : 0xc0000000;
    const at = window + Math.floor(next() * 2 ** 24) * 16;
    out.push([id, 0, at - (at % size), size, id % 3]);
  }
  return out;
}

describe('region table memory', () => {
  it('stays flat under thousands of map/unmap cycles (both cores, same figures)', async () => {
    const figures: number[][] = [];
    for (const pending of cores()) {
      const core = await pending;
      const before = core.regionTableBytes();
      expect(before).toBe(FIXED_BYTES);
      let afterFirst = 0;
      const seen: number[] = [];
      for (let cycle = 0; cycle < 40; cycle++) {
        // The same populations every 4 cycles: once each has been seen the heap must not grow.
        const next = rng(1 + (cycle % 4));
        const pop = population(next, cycle % 4);
        for (const [id, space, base, size, prio] of pop) expect(core.regionMap(id, space, base, size, prio)).toBe(0);
        // moves: every region once more somewhere else, then back
        for (const [id, space, base, size, prio] of pop) {
          expect(core.regionMap(id, space, space === 0 ? base + 2 ** 40 : (base + 0x80) % 0xff00, size, prio)).toBe(0);
          expect(core.regionMap(id, space, base, size, prio)).toBe(0);
        }
        for (const [id] of pop) expect(core.regionUnmap(id)).toBe(0);
        expect(core.regionTableLiveBytes()).toBe(0);
        expect(core.regionCount()).toBe(0);
        if (cycle === 3) afterFirst = core.regionTableBytes();
        if (cycle >= 3) expect(core.regionTableBytes()).toBe(afterFirst);
        seen.push(core.regionTableBytes());
      }
      figures.push(seen);
    }
    expect(figures[1]).toEqual(figures[0]);
  }, 120_000);

  it('recycles blocks: a table freed by an unmap is the next one reused', async () => {
    for (const pending of cores()) {
      const core = await pending;
      core.regionMap(1, 0, 0xfeb00010, 0x10, 0); // levels 1..4 split: one page holds a 16-byte BAR
      const blocks = [0, 1, 2].map((c) => core.regionTableBlocks(c));
      expect(blocks).toEqual([3, 1, 0]);
      const bytes = core.regionTableBytes();
      for (let i = 0; i < 5000; i++) {
        core.regionUnmap(1);
        core.regionMap(1, 0, 0xfeb00010 + (i % 256) * 0x1000, 0x10 + (i % 3), i % 4);
      }
      // 0x11 and 0x12-byte sizes need a byte-level table too; that is one more block, once.
      expect(core.regionTableBytes()).toBe(bytes + 64);
      core.regionUnmap(1);
      expect([0, 1, 2].map((c) => core.regionTableBlocks(c))).toEqual([0, 0, 0]);
      expect(core.regionTableLiveBytes()).toBe(0);
    }
  });

  it('stays within the documented bound: root + 6 blocks of 2 KiB per mapping edge', async () => {
    const ts = new RegionTable();
    const wasm = await newWasmRegionTable();
    const next = rng(99);
    // Worst case for levels 1-3: edges in distinct 512 GiB chunks, none page aligned.
    for (let id = 1; id <= 64; id++) {
      const base = Math.floor(next() * 8000) * 2 ** 39 + 0x12345670;
      for (const core of [ts, wasm]) expect(core.regionMap(id, 0, base, 2 ** 20 + 0x13, 0)).toBe(0);
    }
    const live = ts.regionTableLiveBytes();
    expect(wasm.regionTableLiveBytes()).toBe(live);
    const edgesCount = 2 * 64;
    expect(live).toBeLessThanOrEqual(edgesCount * (3 * 2048 + 1024 + 64));
    expect(ts.regionTableBlocks(0)).toBeLessThanOrEqual(3 * edgesCount);
  });

  it('huge regions map in time proportional to their edges, not their size', async () => {
    for (const pending of cores()) {
      const core = await pending;
      // A population underneath, so the rebuild has something to sort through.
      for (let id = 10; id < 110; id++) core.regionMap(id, 0, 0xc0000000 + id * 0x11000, 0x1010, 1);
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) {
        expect(core.regionMap(1, 0, 2 ** 51, 2 ** 51, 0)).toBe(0);                       // 2^51-byte embedder region
        expect(core.regionMap(2, 0, 2 ** 36 + i * 2 ** 36, 64 * 2 ** 30, 2)).toBe(0);  // 64 GiB BAR, moving
        expect(core.regionMap(3, 0, 0xe0000000, 2 ** 28, 0)).toBe(0);                  // 256 MiB ECAM window
        expect(core.regionMap(4, 0, 0x1000 + i * 16, 2 ** 51, 0)).toBe(0);              // 2^51, unaligned, moving
        expect(core.regionUnmap(1)).toBe(0);
        expect(core.regionUnmap(4)).toBe(0);
      }
      const ms = performance.now() - t0;
      // 300 operations; each touches at most 8192 root entries plus a few tables per edge.
      expect(ms).toBeLessThan(3000);
      expect(core.regionLookup(0, 2 ** 36 + 49 * 2 ** 36 + 5)).toBe(2);
      expect(core.regionLookup(0, 0xe0000000 + 2 ** 28 - 1)).toBe(3);
      expect(core.regionLookup(0, 0xc0000000 + 10 * 0x11000)).toBe(10);
    }
  });
});
