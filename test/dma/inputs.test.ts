// Bad input: embedder calls with wrong numbers get a status and change nothing; guest-programmed
// addresses, however wild, never trap the instance or reach memory outside guest RAM; and both
// cores answer every call, with any numbers, the same way.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUFFER_SIZE, DmaStatus, DomainType, FAULT_STATUS, IOVA_LIMIT, MAX_SG, Reason } from '../../src/core/ts/dma/index.js';
import { MAX_TABLES } from '../../src/core/ts/dma/layout.js';
import { compileDma } from './wasm.js';
import { MiB, drainFaults, makeWorld, runDma, type Side, type World } from './world.js';

beforeAll(async () => {
  await compileDma();
}, 120_000);

const PAGE = 4096;

async function eachCore(body: (side: Side, w: World) => void): Promise<void> {
  const w = await makeWorld();
  for (const side of w.sides) body(side, w);
}

describe('embedder mistakes: a status, and nothing changes', () => {
  it('domainMap refuses unaligned, empty, overlapping, out-of-space and wrong-domain requests', () => eachCore((side) => {
    const c = side.core;
    const t = c.domainCreate(DomainType.TRANSLATED);
    const b = c.domainCreate(DomainType.BLOCKED);
    expect(c.domainMap(t, 0x200000, 0x200000, 0x400000, 3)).toBe(0);
    const tables = c.dmaTableCount();
    const cases: Array<[number, number, number, number, number, number]> = [
      [t, 0x1000_0800, 0, PAGE, 3, DmaStatus.RANGE],          // unaligned IOVA
      [t, 0x1000_0000, 0x800, PAGE, 3, DmaStatus.RANGE],      // unaligned GPA
      [t, 0x1000_0000, 0, 0x1800, 3, DmaStatus.RANGE],        // size not a page multiple
      [t, 0x1000_0000, 0, 0, 3, DmaStatus.RANGE],             // size 0
      [t, 0x1000_0000, 0, PAGE, 0, DmaStatus.RANGE],          // no permission
      [t, 0x1000_0000, 0, PAGE, 4, DmaStatus.RANGE],          // unknown permission bit
      [t, IOVA_LIMIT - PAGE, 0, 2 * PAGE, 3, DmaStatus.RANGE], // past 2^48
      [t, IOVA_LIMIT, 0, PAGE, 3, DmaStatus.RANGE],
      [t, 0, 2 ** 52 - PAGE, 2 * PAGE, 3, DmaStatus.RANGE],  // GPA past 2^52
      [t, 2 ** 64, 0, PAGE, 3, DmaStatus.RANGE],
      [t, NaN, 0, PAGE, 3, DmaStatus.RANGE],
      [t, 0.5, 0, PAGE, 3, DmaStatus.RANGE],
      [t, -PAGE, 0, PAGE, 3, DmaStatus.RANGE],
      [t, 0x5ff000, 0, 2 * PAGE, 3, DmaStatus.EXISTS],       // overlaps the last page of the mapping
      [t, 0x100000, 0, 0x101000, 3, DmaStatus.EXISTS],       // overlaps its first page
      [b, 0, 0, PAGE, 3, DmaStatus.RANGE],                    // not a translated domain
      [0, 0, 0, PAGE, 3, DmaStatus.RANGE],
      [200, 0, 0, PAGE, 3, DmaStatus.NOT_FOUND],
      [256, 0, 0, PAGE, 3, DmaStatus.RANGE],
    ];
    for (const [id, iova, gpa, size, perms, want] of cases) {
      expect(c.domainMap(id, iova, gpa, size, perms), JSON.stringify([id, iova, gpa, size, perms])).toBe(want);
    }
    expect(c.dmaTableCount()).toBe(tables);
    expect(c.domainTranslate(t, 0x100000)).toBe(-1);
    expect(c.domainTranslate(t, 0x5ff000)).toBe(0x5ff000);
    expect(c.domainPerms(t, 0x600000)).toBe(0);
  }));

  it('domainUnmap refuses bad ranges; unmapping holes returns 0', () => eachCore((side) => {
    const c = side.core;
    const t = c.domainCreate(DomainType.TRANSLATED);
    expect(c.domainMap(t, 0, 0, 2 * MiB, 3)).toBe(0);
    expect(c.domainUnmap(t, 0x800, PAGE)).toBe(DmaStatus.RANGE);
    expect(c.domainUnmap(t, 0, 0)).toBe(DmaStatus.RANGE);
    expect(c.domainUnmap(t, 0, 100)).toBe(DmaStatus.RANGE);
    expect(c.domainUnmap(t, IOVA_LIMIT - PAGE, 2 * PAGE)).toBe(DmaStatus.RANGE);
    expect(c.domainUnmap(0, 0, PAGE)).toBe(DmaStatus.RANGE);
    expect(c.domainUnmap(99, 0, PAGE)).toBe(DmaStatus.NOT_FOUND);
    expect(c.domainUnmap(t, 4 * MiB, 8 * MiB)).toBe(0);
    expect(c.domainPerms(t, 0x1000)).toBe(3);
    expect(c.domainUnmap(t, 0, IOVA_LIMIT)).toBe(2 * MiB);
  }));

  it('page tables are bounded: a map or split that could pass MAX_TABLES is refused and changes nothing', () => eachCore((side) => {
    const c = side.core;
    const t = c.domainCreate(DomainType.TRANSLATED);
    // 1 TiB in 4 KiB pages (GPA not congruent modulo 2 MiB): far more than 16384 tables.
    expect(c.domainMap(t, 0, PAGE, 2 ** 40, 3)).toBe(DmaStatus.FULL);
    expect(c.dmaTableCount()).toBe(1);
    expect(c.domainPerms(t, 0)).toBe(0);
    // One 2 MiB page per GiB: one new table each (two at each 512 GiB), until the bound says no.
    let k = 0;
    while (c.domainMap(t, k * 2 ** 30, 0, 2 * MiB, 3) === 0) k++;
    expect(c.domainMap(t, k * 2 ** 30, 0, 2 * MiB, 3)).toBe(DmaStatus.FULL);
    expect(c.dmaTableCount()).toBe(MAX_TABLES - 1);
    expect(c.domainUnmap(t, PAGE, PAGE)).toBe(PAGE); // a split: the last table
    expect(c.dmaTableCount()).toBe(MAX_TABLES);
    expect(c.domainUnmap(t, 2 ** 30 + PAGE, PAGE)).toBe(DmaStatus.FULL);
    expect(c.domainPerms(t, 2 ** 30 + PAGE)).toBe(3);
    expect(c.domainUnmap(t, 2 ** 30, 2 * MiB)).toBe(2 * MiB); // whole pages need no split
    expect(c.domainCreate(DomainType.TRANSLATED)).toBeGreaterThan(0);
    expect(c.domainCreate(DomainType.TRANSLATED)).toBe(DmaStatus.FULL);
    expect(c.domainCreate(DomainType.BLOCKED)).toBeGreaterThan(0);
  }));

  it('domain lifecycle statuses', () => eachCore((side) => {
    const c = side.core;
    expect(c.domainCreate(3)).toBe(DmaStatus.RANGE);
    for (let i = 1; i < 256; i++) expect(c.domainCreate(i % 3)).toBe(i);
    expect(c.domainCreate(0)).toBe(DmaStatus.FULL);
    expect(c.domainDestroy(0)).toBe(DmaStatus.RANGE);
    expect(c.domainDestroy(256)).toBe(DmaStatus.RANGE);
    expect(c.domainDestroy(5)).toBe(0);
    expect(c.domainDestroy(5)).toBe(DmaStatus.NOT_FOUND);
    expect(c.domainType(5)).toBe(DmaStatus.NOT_FOUND);
    expect(c.domainType(2)).toBe(DomainType.TRANSLATED);
    expect(c.domainCreate(1)).toBe(5);
  }));

  it('DMA argument errors are statuses, not faults', () => eachCore((side, w) => {
    const c = side.core;
    const s = w.slots[0];
    expect(c.dmaRead(s, 0, 16, BUFFER_SIZE - 8)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(s, 0, 0, BUFFER_SIZE + 1)).toBe(DmaStatus.RANGE);
    expect(c.dmaWrite(s, 0, BUFFER_SIZE + 1, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(s, NaN, 16, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(s, -1, 16, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(s, 1.5, 16, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(s, 2 ** 64, 16, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaSg(s, MAX_SG + 1, 0, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaSg(s, 1, 2, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaTranslate(s, 0, 16, 2)).toBe(DmaStatus.RANGE);
    expect(c.dmaRead(4000, 0, 16, 0)).toBe(DmaStatus.NOT_FOUND);
    expect(c.dmaRead(-1, 0, 16, 0)).toBe(DmaStatus.NOT_FOUND);
    const list = new DataView(c.dmaSgList().buffer, c.dmaSgList().byteOffset);
    list.setFloat64(0, 0, true); list.setUint32(8, BUFFER_SIZE / 2, true);
    list.setFloat64(16, 0, true); list.setUint32(24, BUFFER_SIZE / 2 + 1, true);
    expect(c.dmaSg(s, 2, 0, 0)).toBe(DmaStatus.RANGE);     // total past the buffer
    list.setFloat64(16, NaN, true); list.setUint32(24, 1, true);
    expect(c.dmaSg(s, 2, 0, 0)).toBe(DmaStatus.RANGE);
    expect(c.dmaFaultsQueued()).toBe(0);
  }));
});

describe('guest-programmed addresses cannot trap the instance or escape guest RAM', () => {
  it('addresses at the top of the spaces fault instead of wrapping', () => eachCore((side, w) => {
    const c = side.core;
    const s = w.slots[0];
    const wild = [2 ** 64 - 2048, 2 ** 63, 2 ** 60, 2 ** 53, 2 ** 52 - 16, 2 ** 52];
    for (const iova of wild) {
      expect(runDma(side, s, 1, [[iova, 4096]], 0)).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
      expect(runDma(side, s, 0, [[0, 16], [iova, 100]], 0)).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
    }
    const faults = drainFaults(c);
    expect(faults[0]).toEqual({ slot: s, iova: 2 ** 64 - 2048, length: 4096, dir: 1, reason: Reason.OUTSIDE_RAM });
    expect(faults[faults.length - 1]).toEqual({ slot: s, iova: 2 ** 52, length: 100, dir: 0, reason: Reason.OUTSIDE_RAM });
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(s, d);
    expect(c.domainMap(d, IOVA_LIMIT - PAGE, 0, PAGE, 3)).toBe(0);
    expect(runDma(side, s, 0, [[IOVA_LIMIT - 8, 8]], 0)).toBe(0);
    expect(runDma(side, s, 0, [[IOVA_LIMIT - 8, 16]], 0)).toBe(FAULT_STATUS - Reason.UNMAPPED);
    expect(runDma(side, s, 0, [[2 ** 64 - 2048, 4096]], 0)).toBe(FAULT_STATUS - Reason.UNMAPPED);
    expect(drainFaults(c).map((f) => [f.iova, f.length])).toEqual([[IOVA_LIMIT, 8], [2 ** 64 - 2048, 4096]]);
  }));

  it('any numbers to any call: no exception, and both cores answer alike', async () => {
    const odd = fc.oneof(
      fc.constantFrom(-1, 0, 1, 2, 3, 4, 255, 256, 4095, 4096, 2 ** 31, 2 ** 32, 2 ** 32 + 3, 0.5, NaN, Infinity, -Infinity,
        2 ** 48, 2 ** 48 - 4096, 2 ** 52, 2 ** 53, 2 ** 64, 2 ** 64 - 2048, -0, BUFFER_SIZE, MAX_SG),
      fc.integer({ min: 0, max: 64 }).map((k) => k * 4096),
      fc.integer({ min: -4, max: 70000 }),
    );
    const calls = ['ramAdd', 'ramRemove', 'ramBase', 'ramSize', 'domainCreate', 'domainDestroy', 'domainType', 'domainMap',
      'domainUnmap', 'domainTranslate', 'domainPerms', 'dmaAttach', 'dmaDetach', 'dmaDomainOf', 'dmaSlotReleased',
      'dmaRead', 'dmaWrite', 'dmaSg', 'dmaTranslate', 'dmaFaultsDrain', 'dmaCounter'] as const;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom(...calls), fc.array(odd, { minLength: 5, maxLength: 5 })), { minLength: 1, maxLength: 40 }),
      async (ops) => {
        const w = await makeWorld();
        for (const [name, args] of ops) {
          const got = w.sides.map((side) => {
            const fn = (side.core as unknown as Record<string, (...a: number[]) => number | undefined>)[name];
            return fn(...args) ?? 0;
          });
          expect(got[0], `${name}(${args.join(', ')})`).toBe(got[1]);
        }
        const faults = w.sides.map((s) => drainFaults(s.core));
        expect(faults[0]).toEqual(faults[1]);
        expect(w.sides[0].core.dmaTableCount()).toBe(w.sides[1].core.dmaTableCount());
      }), { numRuns: Number(process.env.RUNS ?? 150) });
  }, 300_000);
});
