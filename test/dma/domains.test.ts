// Domains and translation, on both cores: identity, blocked and translated domains, page-crossing
// transfers, 2 MiB pages, permissions, bus-master gating, attach/detach, and IOTLB invalidation
// (a stale translation is never used).
import { beforeAll, describe, expect, it } from 'vitest';
import { Counter, FAULT_STATUS, Reason, DomainType } from '../../src/core/ts/dma/index.js';
import { compileDma } from './wasm.js';
import { KiB, MiB, drainFaults, makeWorld, patternAt, ramOf, runDma, type Side, type World } from './world.js';

beforeAll(async () => {
  await compileDma();
}, 120_000);

const PAGE = 4096;
const fault = (reason: number) => FAULT_STATUS - reason;

/** Runs `body` once per core, each with a fresh world. */
async function eachCore(body: (side: Side, w: World) => void): Promise<void> {
  const w = await makeWorld();
  for (const side of w.sides) body(side, w);
}

function bytesAt(gpa: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => patternAt(gpa + i));
}

describe('identity domain (the default)', () => {
  it('every slot starts in domain 0 and reads guest RAM at IOVA = GPA', () => eachCore((side, w) => {
    const c = side.core;
    expect(c.dmaDomainOf(w.slots[0])).toBe(0);
    expect(c.domainType(0)).toBe(DomainType.IDENTITY);
    expect(runDma(side, w.slots[0], 0, [[0x1234, 100]], 0)).toBe(0);
    expect([...c.dmaBuffer().subarray(0, 100)]).toEqual(bytesAt(0x1234, 100));
  }));

  it('a transfer over two adjacent regions is split at the region edge (internal → external)', () => eachCore((side, w) => {
    const c = side.core;
    const at = 64 * KiB - 10;
    expect(runDma(side, w.slots[0], 0, [[at, 30]], 0)).toBe(1); // one external segment left to TS
    expect([...c.dmaBuffer().subarray(0, 30)]).toEqual(bytesAt(at, 30));
    c.dmaBuffer().set(new Uint8Array(30).fill(0xab), 100);
    expect(runDma(side, w.slots[0], 1, [[at, 30]], 100)).toBe(1);
    expect([...ramOf(side, 0).subarray(at, 64 * KiB)]).toEqual(new Array(10).fill(0xab));
    expect([...ramOf(side, 1).subarray(0, 20)]).toEqual(new Array(20).fill(0xab));
  }));

  it('an address outside RAM faults and nothing lands', () => eachCore((side, w) => {
    const c = side.core;
    const before = ramOf(side, 1).slice();
    c.dmaBuffer().fill(0xee, 0, 64);
    // [128 KiB - 16, +32): the first 16 bytes are RAM, the rest is not: nothing is written.
    expect(runDma(side, w.slots[0], 1, [[128 * KiB - 16, 32]], 0)).toBe(fault(Reason.OUTSIDE_RAM));
    expect(Buffer.compare(ramOf(side, 1), before)).toBe(0);
    expect(drainFaults(c)).toEqual([{ slot: w.slots[0], iova: 128 * KiB, length: 16, dir: 1, reason: Reason.OUTSIDE_RAM }]);
  }));

  it('an identity domain created by the embedder behaves like domain 0', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.IDENTITY);
    expect(c.dmaAttach(w.slots[0], d)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[2 * MiB - 100, 200]], 0)).toBe(0);
    expect([...c.dmaBuffer().subarray(0, 200)]).toEqual(bytesAt(2 * MiB - 100, 200));
    expect(c.domainTranslate(d, 0x1234)).toBe(0x1234);
    expect(c.domainPerms(d, 0x1234)).toBe(3);
  }));
});

describe('blocked domain', () => {
  it('blocks every DMA of an attached slot, logged with the first non-empty element', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.BLOCKED);
    expect(c.dmaAttach(w.slots[1], d)).toBe(0);
    const before = ramOf(side, 0).slice();
    expect(runDma(side, w.slots[1], 1, [[0x100, 0], [0x200, 8], [0x300, 8]], 0)).toBe(fault(Reason.BLOCKED));
    expect(Buffer.compare(ramOf(side, 0), before)).toBe(0);
    expect(drainFaults(c)).toEqual([{ slot: w.slots[1], iova: 0x200, length: 8, dir: 1, reason: Reason.BLOCKED }]);
    // The other slot is not affected.
    expect(runDma(side, w.slots[0], 0, [[0x200, 8]], 0)).toBe(0);
  }));
});

describe('translated domain', () => {
  it('a transfer crossing 4 KiB pages mapped to scattered guest pages is split and lands right', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    const iova = 0x4000_0000;
    // IOVA pages 0,1,2 → guest pages 5, 2, and 16+1 (the external region), in that order.
    expect(c.domainMap(d, iova, 5 * PAGE, PAGE, 3)).toBe(0);
    expect(c.domainMap(d, iova + PAGE, 2 * PAGE, PAGE, 3)).toBe(0);
    expect(c.domainMap(d, iova + 2 * PAGE, 17 * PAGE, PAGE, 3)).toBe(0);
    expect(c.dmaAttach(w.slots[0], d)).toBe(0);
    const at = iova + PAGE - 100;
    const st = c.dmaTranslate(w.slots[0], at, PAGE + 200, 0);
    expect(st).toBe(3);
    const seg = new DataView(c.dmaSegments().buffer, c.dmaSegments().byteOffset);
    const rows = [0, 1, 2].map((k) => [seg.getFloat64(k * 24, true), seg.getUint32(k * 24 + 8, true), seg.getUint32(k * 24 + 12, true), seg.getUint32(k * 24 + 16, true), seg.getUint32(k * 24 + 20, true)]);
    expect(rows).toEqual([
      [6 * PAGE - 100, 0, 100, 0, 1],
      [2 * PAGE, 0, PAGE, 100, 1],
      [PAGE, 1, 100, PAGE + 100, 0], // region 1 starts at guest page 16
    ]);
    expect(runDma(side, w.slots[0], 0, [[at, PAGE + 200]], 0)).toBe(1);
    const want = [...bytesAt(6 * PAGE - 100, 100), ...bytesAt(2 * PAGE, PAGE), ...bytesAt(17 * PAGE, 100)];
    expect([...c.dmaBuffer().subarray(0, PAGE + 200)]).toEqual(want);
  }));

  it('contiguous pages into one region give one segment', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    expect(c.domainMap(d, 0x10000, 0x3000, 4 * PAGE, 3)).toBe(0);
    c.dmaAttach(w.slots[0], d);
    expect(c.dmaTranslate(w.slots[0], 0x10010, 3 * PAGE, 1)).toBe(1);
  }));

  it('2 MiB pages: aligned ranges use them, a transfer crosses them, a 4 KiB unmap splits one', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    expect(c.dmaTableCount()).toBe(1); // the root
    // 4 MiB at IOVA 1 GiB → GPA 0: two 2 MiB leaves, tables root + L1 + L2.
    expect(c.domainMap(d, 2 ** 30, 0, 4 * MiB, 3)).toBe(0);
    expect(c.dmaTableCount()).toBe(3);
    c.dmaAttach(w.slots[0], d);
    // Across the 2 MiB page edge, into RAM region 2 ([2 MiB - 32 KiB, +128 KiB)).
    const at = 2 ** 30 + 2 * MiB - 50;
    expect(runDma(side, w.slots[0], 0, [[at, 100]], 0)).toBe(0);
    expect([...c.dmaBuffer().subarray(0, 100)]).toEqual(bytesAt(2 * MiB - 50, 100));
    // Unmapping one 4 KiB page in the second 2 MiB page splits it: a level-3 table appears.
    expect(c.domainUnmap(d, 2 ** 30 + 2 * MiB + PAGE, PAGE)).toBe(PAGE);
    expect(c.dmaTableCount()).toBe(4);
    expect(c.domainPerms(d, 2 ** 30 + 2 * MiB + PAGE)).toBe(0);
    expect(c.domainTranslate(d, 2 ** 30 + 2 * MiB + 2 * PAGE + 5)).toBe(2 * MiB + 2 * PAGE + 5);
    expect(runDma(side, w.slots[0], 0, [[at, 100]], 0)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[2 ** 30 + 2 * MiB + PAGE - 2, 4]], 0)).toBe(fault(Reason.UNMAPPED));
    expect(drainFaults(c)).toEqual([{ slot: w.slots[0], iova: 2 ** 30 + 2 * MiB + PAGE, length: 2, dir: 0, reason: Reason.UNMAPPED }]);
    // Unmapping everything frees every table but the root.
    expect(c.domainUnmap(d, 2 ** 30, 4 * MiB)).toBe(4 * MiB - PAGE);
    expect(c.dmaTableCount()).toBe(1);
  }));

  it('unaligned GPA or size falls back to 4 KiB pages', () => eachCore((side) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    expect(c.domainMap(d, 0, PAGE, 2 * MiB, 1)).toBe(0); // GPA not 2 MiB aligned: 512 4 KiB pages
    expect(c.dmaTableCount()).toBe(4);
    expect(c.domainTranslate(d, 2 * MiB - 1)).toBe(2 * MiB + PAGE - 1);
  }));

  it('read-only pages refuse DMA writes and write-only pages refuse reads; nothing lands', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    expect(c.domainMap(d, 0x100000, 0, PAGE, 1)).toBe(0);          // read
    expect(c.domainMap(d, 0x101000, PAGE, PAGE, 2)).toBe(0);       // write
    c.dmaAttach(w.slots[0], d);
    const before = ramOf(side, 0).slice();
    c.dmaBuffer().fill(0x5a, 0, 2 * PAGE);
    expect(runDma(side, w.slots[0], 1, [[0x100ff0, 32]], 0)).toBe(fault(Reason.PERMISSION)); // starts in the RO page
    expect(runDma(side, w.slots[0], 1, [[0x101000, 16], [0x100000, 16]], 0)).toBe(fault(Reason.PERMISSION));
    expect(Buffer.compare(ramOf(side, 0), before)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x101000, 4]], 0)).toBe(fault(Reason.PERMISSION));
    expect(runDma(side, w.slots[0], 0, [[0x100000, 4]], 0)).toBe(0);
    expect(runDma(side, w.slots[0], 1, [[0x101000, 4]], 0)).toBe(0);
    expect(drainFaults(c).map((f) => [f.iova, f.length, f.dir, f.reason])).toEqual([
      [0x100ff0, 32, 1, Reason.PERMISSION], [0x100000, 16, 1, Reason.PERMISSION], [0x101000, 4, 0, Reason.PERMISSION],
    ]);
  }));
});

describe('bus master enable', () => {
  it('Command bit 2 clear blocks all DMA of the function; setting it allows it again', () => eachCore((side, w) => {
    const c = side.core;
    const before = ramOf(side, 0).slice();
    c.configWrite(0, 0, 3, 0, 4, 2, 0x0002); // memory space on, bus master off
    expect(runDma(side, w.slots[0], 1, [[0x40, 8]], 0)).toBe(fault(Reason.BUS_MASTER));
    expect(runDma(side, w.slots[0], 0, [[0x40, 8]], 0)).toBe(fault(Reason.BUS_MASTER));
    expect(c.dmaTranslate(w.slots[0], 0x40, 8, 0)).toBe(fault(Reason.BUS_MASTER));
    expect(Buffer.compare(ramOf(side, 0), before)).toBe(0);
    expect(runDma(side, w.slots[1], 0, [[0x40, 8]], 0)).toBe(0); // the other function still masters
    c.configWrite(0, 0, 3, 0, 4, 2, 0x0006);
    expect(runDma(side, w.slots[0], 1, [[0x40, 8]], 0)).toBe(0);
    expect(drainFaults(c).map((f) => f.reason)).toEqual([1, 1, 1]);
  }));

  it('a zero-length request does nothing and reports nothing', () => eachCore((side, w) => {
    const c = side.core;
    c.configWrite(0, 0, 3, 0, 4, 2, 0);
    expect(runDma(side, w.slots[0], 0, [[0x40, 0]], 0)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x40, 0], [0x50, 0]], 0)).toBe(0);
    expect(c.dmaFaultsQueued()).toBe(0);
  }));
});

describe('attach and detach', () => {
  it('detach returns a slot to the identity domain; a removed function\'s slot starts there again', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.BLOCKED);
    expect(c.dmaAttach(w.slots[0], d)).toBe(0);
    expect(c.domainDestroy(d)).toBe(-5); // busy
    expect(c.dmaDetach(w.slots[0])).toBe(0);
    expect(c.dmaDomainOf(w.slots[0])).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x40, 8]], 0)).toBe(0);
    expect(c.dmaAttach(w.slots[1], d)).toBe(0);
    expect(c.removeFunction(w.slots[1])).toBe(0);
    expect(c.dmaDomainOf(w.slots[1])).toBe(-4);
    expect(c.domainDestroy(d)).toBe(0); // the removed function no longer holds it
    const again = c.addFunction(0, 0, 9, 0, 256);
    expect(again).toBe(w.slots[1]);
    expect(c.dmaDomainOf(again)).toBe(0);
  }));

  it('attach checks the slot and the domain', () => eachCore((side, w) => {
    const c = side.core;
    expect(c.dmaAttach(w.slots[0], 77)).toBe(-4);
    expect(c.dmaAttach(w.slots[0], 256)).toBe(-1);
    expect(c.dmaAttach(4095, 0)).toBe(-4);
    expect(c.dmaAttach(-1, 0)).toBe(-4);
    expect(c.dmaDetach(4096)).toBe(-4);
  }));
});

describe('IOTLB invalidation: a stale translation is never used', () => {
  it('map, DMA (fills the IOTLB), DMA (hits), unmap, DMA faults; remap elsewhere reads the new target', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 0x200000, 0x3000, PAGE, 3)).toBe(0);
    const miss0 = c.dmaCounter(Counter.IOTLB_MISSES);
    expect(runDma(side, w.slots[0], 0, [[0x200010, 8]], 0)).toBe(0);
    expect(c.dmaCounter(Counter.IOTLB_MISSES)).toBe(miss0 + 1);
    expect(c.dmaIotlbValid()).toBe(1);
    const hits0 = c.dmaCounter(Counter.IOTLB_HITS);
    expect(runDma(side, w.slots[0], 0, [[0x200020, 8]], 0)).toBe(0);
    expect(c.dmaCounter(Counter.IOTLB_HITS)).toBe(hits0 + 1);
    expect(c.domainUnmap(d, 0x200000, PAGE)).toBe(PAGE);
    expect(c.dmaIotlbValid()).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x200020, 8]], 0)).toBe(fault(Reason.UNMAPPED));
    expect(c.domainMap(d, 0x200000, 0x9000, PAGE, 1)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x200020, 8]], 0)).toBe(0);
    expect([...c.dmaBuffer().subarray(0, 8)]).toEqual(bytesAt(0x9020, 8));
    expect(runDma(side, w.slots[0], 1, [[0x200020, 8]], 0)).toBe(fault(Reason.PERMISSION));
  }));

  it('a 2 MiB entry is dropped when a 4 KiB page inside it is unmapped (probe path) or a large range is (scan path)', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 4 * MiB, 0, 2 * MiB, 3)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[4 * MiB + 0x5000, 8]], 0)).toBe(0);
    expect(c.domainUnmap(d, 4 * MiB + 0x5000, PAGE)).toBe(PAGE);
    expect(runDma(side, w.slots[0], 0, [[4 * MiB + 0x5000, 8]], 0)).toBe(fault(Reason.UNMAPPED));
    expect(runDma(side, w.slots[0], 0, [[4 * MiB + 0x6000, 8]], 0)).toBe(0);
    // Fill many entries, then unmap a range larger than 16 pages: the whole-IOTLB scan.
    // (The 2 MiB page is split now, so each 4 KiB page gets its own entry.)
    for (let p = 0; p < 20; p++) expect(runDma(side, w.slots[0], 0, [[4 * MiB + 0x8000 + p * PAGE, 4]], 0)).toBeGreaterThanOrEqual(0);
    expect(c.dmaIotlbValid()).toBe(21);
    expect(c.domainUnmap(d, 4 * MiB + 0x8000, 20 * PAGE)).toBe(20 * PAGE);
    expect(c.dmaIotlbValid()).toBe(1);
    for (let p = 0; p < 20; p += 3) {
      expect(runDma(side, w.slots[0], 0, [[4 * MiB + 0x8000 + p * PAGE, 4]], 0)).toBe(fault(Reason.UNMAPPED));
    }
  }));

  it('a destroyed domain\'s entries are dropped before its id is reused', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 0x200000, 0x3000, PAGE, 3)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x200000, 8]], 0)).toBe(0);
    expect(c.dmaDetach(w.slots[0])).toBe(0);
    expect(c.domainDestroy(d)).toBe(0);
    expect(c.dmaTableCount()).toBe(0);
    const again = c.domainCreate(DomainType.TRANSLATED);
    expect(again).toBe(d);
    c.dmaAttach(w.slots[0], again);
    expect(runDma(side, w.slots[0], 0, [[0x200000, 8]], 0)).toBe(fault(Reason.UNMAPPED));
  }));

  it('detach takes effect on the next DMA (entries belong to domains, not slots)', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 0x300000, 0x5000, PAGE, 3)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x300000, 8]], 0)).toBe(0);
    c.dmaDetach(w.slots[0]);
    // Identity now: IOVA 0x300000 is guest-physical 3 MiB, not RAM.
    expect(runDma(side, w.slots[0], 0, [[0x300000, 8]], 0)).toBe(fault(Reason.OUTSIDE_RAM));
  }));

  it('removing RAM flushes cached translations into it', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 0x300000, 4 * MiB, PAGE, 3)).toBe(0); // region 3
    expect(runDma(side, w.slots[0], 0, [[0x300000, 8]], 0)).toBe(1);
    expect(c.ramRemove(3)).toBe(0);
    expect(runDma(side, w.slots[0], 0, [[0x300000, 8]], 0)).toBe(fault(Reason.OUTSIDE_RAM));
  }));
});
