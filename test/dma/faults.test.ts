// The fault log and whole-transfer validation, on both cores: bounded log with a dropped counter,
// record fields, and scatter-gather transfers where a late element faults (nothing lands).
import { beforeAll, describe, expect, it } from 'vitest';
import { Counter, FAULT_CAPACITY, FAULT_STATUS, Reason, DomainType } from '../../src/core/ts/dma/index.js';
import { compileDma } from './wasm.js';
import { KiB, drainFaults, makeWorld, ramOf, runDma, type Side, type World } from './world.js';

beforeAll(async () => {
  await compileDma();
}, 120_000);

const PAGE = 4096;

async function eachCore(body: (side: Side, w: World) => void): Promise<void> {
  const w = await makeWorld();
  for (const side of w.sides) body(side, w);
}

describe('fault log', () => {
  it('keeps the oldest 256 records, counts the dropped ones, and records again once drained', () => eachCore((side, w) => {
    const c = side.core;
    for (let i = 0; i < 300; i++) expect(runDma(side, w.slots[0], i & 1, [[0x10_0000_0000 + i * 16, 8]], 0)).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
    expect(c.dmaFaultsQueued()).toBe(FAULT_CAPACITY);
    expect(c.dmaCounter(Counter.FAULTS)).toBe(300);
    expect(c.dmaCounter(Counter.FAULTS_DROPPED)).toBe(300 - FAULT_CAPACITY);
    expect(c.dmaFaultsDrain(10)).toBe(10);
    expect(c.dmaFaultsQueued()).toBe(FAULT_CAPACITY - 10);
    const rest = drainFaults(c);
    expect(rest.length).toBe(FAULT_CAPACITY - 10);
    expect(rest[0]).toEqual({ slot: w.slots[0], iova: 0x10_0000_0000 + 10 * 16, length: 8, dir: 0, reason: Reason.OUTSIDE_RAM });
    expect(rest[rest.length - 1].iova).toBe(0x10_0000_0000 + 255 * 16);
    expect(runDma(side, w.slots[1], 1, [[0x20_0000_0000, 3]], 0)).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
    expect(drainFaults(c)).toEqual([{ slot: w.slots[1], iova: 0x20_0000_0000, length: 3, dir: 1, reason: Reason.OUTSIDE_RAM }]);
    expect(c.dmaCounter(Counter.FAULTS_DROPPED)).toBe(44);
  }));

  it('a record names the first byte that could not be accessed and the rest of its element', () => eachCore((side, w) => {
    const c = side.core;
    const d = c.domainCreate(DomainType.TRANSLATED);
    c.dmaAttach(w.slots[0], d);
    expect(c.domainMap(d, 0x1000_0000, 0, 2 * PAGE, 3)).toBe(0);
    // Element 3 runs from a mapped page into an unmapped one.
    const st = runDma(side, w.slots[0], 0, [[0x1000_0000, 16], [0x1000_0100, 0], [0x1000_1ff0, 40]], 0);
    expect(st).toBe(FAULT_STATUS - Reason.UNMAPPED);
    expect(drainFaults(c)).toEqual([{ slot: w.slots[0], iova: 0x1000_2000, length: 24, dir: 0, reason: Reason.UNMAPPED }]);
  }));
});

describe('a transfer is validated whole before anything is copied', () => {
  it('a scatter-gather write whose last element faults leaves internal and external RAM untouched', () => eachCore((side, w) => {
    const c = side.core;
    const before = [0, 1, 2, 3].map((i) => ramOf(side, i).slice());
    c.dmaBuffer().fill(0x77, 0, 64 * KiB);
    // Identity: internal RAM, external RAM, internal RAM across the 2 MiB edge, then a gap.
    const st = runDma(side, w.slots[0], 1, [[0x100, 300], [70 * KiB, 5000], [2 * 1024 * 1024 - 100, 200], [3 * 1024 * 1024, 1]], 0);
    expect(st).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
    for (const i of [0, 1, 2, 3]) expect(Buffer.compare(ramOf(side, i), before[i])).toBe(0);
    // The same without the bad element lands everywhere (one external segment listed).
    expect(runDma(side, w.slots[0], 1, [[0x100, 300], [70 * KiB, 5000], [2 * 1024 * 1024 - 100, 200]], 0)).toBe(1);
    expect(ramOf(side, 0)[0x100]).toBe(0x77);
    expect(ramOf(side, 1)[6 * KiB]).toBe(0x77);
    expect(ramOf(side, 2)[32 * KiB - 100]).toBe(0x77);
  }));

  it('a read that faults leaves the transfer buffer as it was', () => eachCore((side, w) => {
    const c = side.core;
    c.dmaBuffer().fill(0x11, 0, 16 * KiB);
    expect(runDma(side, w.slots[0], 0, [[0, 8 * KiB], [200 * KiB, 16]], 0)).toBe(FAULT_STATUS - Reason.OUTSIDE_RAM);
    expect(c.dmaBuffer().subarray(0, 16 * KiB).every((v) => v === 0x11)).toBe(true);
  }));
});
