// The guest memory map and external RAM, on both cores: region rules, segments for external RAM
// (checked field by field and executed), dmaTranslate's full list, and mixed transfers.
import { beforeAll, describe, expect, it } from 'vitest';
import { DmaStatus, DomainType, GPA_LIMIT, MAX_INTERNAL_RAM, MAX_RAM, readSegments, runSegments } from '../../src/core/ts/dma/index.js';
import { compileDma, newCores } from './wasm.js';
import { KiB, MiB, makeWorld, patternAt, ramOf, runDma, type Side, type World } from './world.js';

beforeAll(async () => {
  await compileDma();
}, 120_000);

const PAGE = 4096;

async function eachCore(body: (side: Side, w: World) => void): Promise<void> {
  const w = await makeWorld();
  for (const side of w.sides) body(side, w);
}

describe('RAM regions', () => {
  it('must be 4 KiB aligned, non-empty, inside 2^52 and not overlap; indexes are reused lowest first', async () => {
    for (const c of await newCores()) {
      expect(c.ramAdd(0x1000, 0x2000, 0)).toBe(0);
      expect(c.ramAdd(0x1800, 0x1000, 0)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(0x4000, 0x800, 0)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(0x4000, 0, 0)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(GPA_LIMIT - PAGE, 2 * PAGE, 0)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(GPA_LIMIT - PAGE, PAGE, 0)).toBe(1);
      expect(c.ramAdd(0x2000, 0x1000, 0)).toBe(DmaStatus.EXISTS);
      expect(c.ramAdd(0, 0x2000, 0)).toBe(DmaStatus.EXISTS);
      expect(c.ramAdd(0, 0x1000, 0)).toBe(2); // adjacent is fine
      expect(c.ramAdd(0x1_0000_0000, MAX_INTERNAL_RAM + PAGE, 1)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(NaN, PAGE, 0)).toBe(DmaStatus.RANGE);
      expect(c.ramAdd(0x10000, -PAGE, 0)).toBe(DmaStatus.RANGE);
      expect([c.ramBase(0), c.ramSize(0), c.ramBase(1), c.ramBase(7), c.ramSize(64), c.ramCount()]).toEqual([0x1000, 0x2000, GPA_LIMIT - PAGE, -1, -1, 3]);
      expect(c.ramRemove(1)).toBe(0);
      expect(c.ramRemove(1)).toBe(DmaStatus.NOT_FOUND);
      expect(c.ramAdd(0x100000, PAGE, 1)).toBe(1);
      expect(c.ramBytes(1)!.length).toBe(PAGE);
      expect(c.ramBytes(0)).toBeUndefined();
      for (let i = 3; i < MAX_RAM; i++) expect(c.ramAdd(0x1000_0000 + i * PAGE, PAGE, 0)).toBe(i);
      expect(c.ramAdd(0x2000_0000, PAGE, 0)).toBe(DmaStatus.FULL);
      expect(c.ramCount()).toBe(MAX_RAM);
    }
  });

  it('internal RAM starts zeroed, also when an index is reused', async () => {
    for (const c of await newCores()) {
      expect(c.ramAdd(0, 64 * KiB, 1)).toBe(0);
      c.ramBytes(0)!.fill(0xff);
      expect(c.ramRemove(0)).toBe(0);
      expect(c.ramAdd(0x100000, 32 * KiB, 1)).toBe(0);
      expect(c.ramBytes(0)!.every((v) => v === 0)).toBe(true);
    }
  });
});

describe('external RAM: the core translates, TypeScript copies the listed segments', () => {
  it('a translated read across scattered external pages lists one segment per piece, in transfer order', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    // IOVA 0x8000_0000.. → region 3 page 5, page 2, then page 3 (contiguous with page 2: merged).
    expect(c.domainMap(d, 0x8000_0000, 4 * MiB + 5 * PAGE, PAGE, 3)).toBe(0);
    expect(c.domainMap(d, 0x8000_1000, 4 * MiB + 2 * PAGE, 2 * PAGE, 3)).toBe(0);
    const n = c.dmaRead(w.slots[0], 0x8000_0f00, 0x1200, 64);
    expect(n).toBe(2);
    expect(readSegments(c.dmaSegments(), n)).toEqual([
      { region: 3, offset: 5 * PAGE + 0xf00, length: 0x100, transferOffset: 0, internal: false },
      { region: 3, offset: 2 * PAGE, length: 0x1100, transferOffset: 0x100, internal: false },
    ]);
    runSegments(c.dmaSegments(), n, 0, c.dmaBuffer(), 64, side.ext);
    const want = [
      ...Array.from({ length: 0x100 }, (_, i) => patternAt(4 * MiB + 5 * PAGE + 0xf00 + i)),
      ...Array.from({ length: 0x1100 }, (_, i) => patternAt(4 * MiB + 2 * PAGE + i)),
    ];
    expect([...c.dmaBuffer().subarray(64, 64 + 0x1200)]).toEqual(want);
  }));

  it('a write lists only the external segments; the internal ones are already copied', () => eachCore((side, w) => {
    const c = side.core;
    c.dmaBuffer().set(Array.from({ length: 256 }, (_, i) => i), 1000);
    // Identity, [64 KiB - 128, +256): 128 bytes internal (region 0), 128 external (region 1).
    const n = c.dmaWrite(w.slots[0], 64 * KiB - 128, 256, 1000);
    expect(n).toBe(1);
    expect(readSegments(c.dmaSegments(), n)).toEqual([{ region: 1, offset: 0, length: 128, transferOffset: 128, internal: false }]);
    expect([...ramOf(side, 0).subarray(64 * KiB - 128)]).toEqual(Array.from({ length: 128 }, (_, i) => i));
    expect(ramOf(side, 1)[0]).toBe(patternAt(64 * KiB)); // not yet: TypeScript's part
    runSegments(c.dmaSegments(), n, 1, c.dmaBuffer(), 1000, side.ext);
    expect([...ramOf(side, 1).subarray(0, 128)]).toEqual(Array.from({ length: 128 }, (_, i) => 128 + i));
  }));

  it('dmaTranslate lists every segment with its internal flag and copies nothing', () => eachCore((side, w) => {
    const c = side.core;
    const before = c.dmaBuffer().slice(0, 1024);
    const n = c.dmaTranslate(w.slots[0], 64 * KiB - 16, 32, 0);
    expect(readSegments(c.dmaSegments(), n)).toEqual([
      { region: 0, offset: 64 * KiB - 16, length: 16, transferOffset: 0, internal: true },
      { region: 1, offset: 0, length: 16, transferOffset: 16, internal: false },
    ]);
    expect(ramOf(side, 0)[64 * KiB - 16]).toBe(patternAt(64 * KiB - 16));
    expect(Buffer.compare(c.dmaBuffer().subarray(0, 1024), before)).toBe(0);
  }));

  it('scatter-gather elements are packed in the buffer; contiguous elements share a segment', () => eachCore((side, w) => {
    const c = side.core;
    const n = runDma(side, w.slots[0], 0, [[65 * KiB, 100], [65 * KiB + 100, 50], [10, 5], [4 * MiB + 7, 9]], 16);
    expect(n).toBe(2);
    expect(readSegments(c.dmaSegments(), n)).toEqual([
      { region: 1, offset: KiB, length: 150, transferOffset: 0, internal: false },
      { region: 3, offset: 7, length: 9, transferOffset: 155, internal: false },
    ]);
    const want = [65 * KiB, 65 * KiB + 100, 10, 4 * MiB + 7].flatMap((a, k) => Array.from({ length: [100, 50, 5, 9][k] }, (_, i) => patternAt(a + i)));
    expect([...c.dmaBuffer().subarray(16, 16 + 164)]).toEqual(want);
  }));
});
