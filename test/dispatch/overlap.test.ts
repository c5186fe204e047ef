// Conformance: who owns an address where regions overlap. Highest priority wins (ECAM and
// CF8/CFC 250, embedder regions 100 by default, BAR handlers 20, whole BARs 10); among equal
// priorities the lower region id wins, and ids follow call order (BARs: topology order). Taking
// the winner away reveals the next one.
import { describe, expect, test } from 'vitest';
import { BACKENDS, cf8, ecam } from '../helpers/vpci.js';
import {
  CMD_IO, CMD_MEM, EARLY, EP, LATE, TOPOLOGY, addRegion, barRegionStats, makeDBus, regionStats, setBarHandler,
} from './helpers.js';
import type { DBus } from './helpers.js';

const A = 0xc0000000;

function reads(bus: DBus, id: number): number {
  return regionStats(bus, id).reads;
}

const bytes = (n: number, first: number) => Uint8Array.from({ length: n }, (_, i) => (first + i) & 0xff);

async function twoAtA(backend: 'wasm' | 'ts'): Promise<DBus> {
  const bus = await makeDBus(backend, TOPOLOGY);
  for (const bdf of [EARLY, LATE]) {
    bus.configWrite(bdf, 0x10, 4, A);
    bus.configWrite(bdf, 0x14, 4, 0xc000);
    bus.configWrite(bdf, 0x04, 2, CMD_IO | CMD_MEM);
  }
  return bus;
}

describe.each(BACKENDS)('overlapping regions (%s backend)', (backend) => {
  test('two BARs of different functions at one address: the earlier function in topology order wins (not the lower BDF)', async () => {
    const bus = await twoAtA(backend);
    const early = barRegionStats(bus, EARLY, 0).id;
    const late = barRegionStats(bus, LATE, 0).id;
    expect(early, '00:05.0 comes before 00:02.0 in the topology').toBeLessThan(late);
    bus.mmioRead(A + 0x10, 4);
    bus.mmioWrite(A + 0xffc, 4, 1);
    expect([reads(bus, early), reads(bus, late)]).toEqual([1, 0]);
    expect([regionStats(bus, early).writes, regionStats(bus, late).writes]).toEqual([1, 0]);
    // Unmapping the winner reveals the other.
    bus.configWrite(EARLY, 0x04, 2, CMD_IO);
    bus.mmioRead(A + 0x10, 4);
    expect([reads(bus, early), reads(bus, late)]).toEqual([1, 1]);
    // Moving it back makes it win again.
    bus.configWrite(EARLY, 0x04, 2, CMD_IO | CMD_MEM);
    bus.mmioRead(A, 1);
    expect([reads(bus, early), reads(bus, late)]).toEqual([2, 1]);
  });

  test('two IO BARs at one port: the earlier function wins; unmapping it reveals the other', async () => {
    const bus = await twoAtA(backend);
    const early = barRegionStats(bus, EARLY, 1).id;
    const late = barRegionStats(bus, LATE, 1).id;
    bus.ioRead(0xc080, 2);
    expect([reads(bus, early), reads(bus, late)]).toEqual([1, 0]);
    bus.configWrite(EARLY, 0x14, 4, 0xd000);
    bus.ioRead(0xc080, 2);
    expect([reads(bus, early), reads(bus, late)]).toEqual([1, 1]);
  });

  test('BAR handlers of equal priority on the same address: the one registered first wins', async () => {
    const bus = await twoAtA(backend);
    const lateH = setBarHandler(bus, LATE, 0, { kind: 'regfile', size: 16, initial: bytes(16, 0x20) });
    const earlyH = setBarHandler(bus, EARLY, 0, { kind: 'regfile', size: 16, initial: bytes(16, 0x10) });
    expect(lateH).toBeLessThan(earlyH);
    expect(bus.mmioRead(A, 4)).toBe(0x23222120);
    // Disabling the later function's decode takes its handler away with its BAR.
    bus.configWrite(LATE, 0x04, 2, CMD_IO);
    expect(bus.mmioRead(A, 4)).toBe(0x13121110);
    bus.configWrite(EARLY, 0x04, 2, CMD_IO);
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);
  });

  test('a BAR sub-range handler wins over its whole BAR and over another function\'s whole BAR; the rest stays unbacked', async () => {
    const bus = await twoAtA(backend);
    const early = barRegionStats(bus, EARLY, 0).id;
    const sub = setBarHandler(bus, LATE, 0, { kind: 'regfile', size: 16, initial: bytes(16, 0x40) }, { offset: 0x100, length: 0x10 });
    expect(bus.mmioRead(A + 0x100, 4)).toBe(0x43424140);
    expect(bus.mmioRead(A + 0x10c, 4)).toBe(0x4f4e4d4c);
    expect(reads(bus, sub)).toBe(2);
    expect(bus.mmioRead(A + 0xfc, 4), 'below the sub-range').toBe(0);
    expect(bus.mmioRead(A + 0x110, 4), 'above the sub-range').toBe(0);
    expect(reads(bus, early)).toBe(2);
    const region = bus.regions().find((r) => r.id === sub);
    expect(region && [region.base, region.size]).toEqual([BigInt(A + 0x100), 0x10n]);
  });

  test('a sub-range handler alone on its BAR: the rest of the BAR is the unbacked whole BAR (reads 0)', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const whole = barRegionStats(bus, EP, 1).id;
    const sub = setBarHandler(bus, EP, 1, { kind: 'regfile', size: 8, initial: bytes(8, 1) }, { offset: 0x800 });
    expect(bus.mmioRead(A + 0x800, 8)).toBe(0x0807060504030201n);
    expect(bus.mmioRead(A + 0x808, 4)).toBe(0);
    expect(bus.mmioRead(A + 0x7f8, 8)).toBe(0n);
    expect([reads(bus, sub), reads(bus, whole)]).toEqual([1, 2]);
    const region = bus.regions().find((r) => r.id === sub);
    expect(region && [region.base, region.size], 'regfile of 8 bytes: region length min(8, 0x800)').toEqual([BigInt(A + 0x800), 8n]);
  });

  test('an embedder region (default priority 100) wins over BARs and BAR handlers; priority 5 loses to a whole BAR', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    setBarHandler(bus, EP, 1, { kind: 'regfile', size: 16, initial: bytes(16, 0x60) });
    const emb = addRegion(bus, 'mmio', A + 8, 8, { kind: 'regfile', size: 8, initial: bytes(8, 0x90) });
    expect(bus.mmioRead(A, 8)).toBe(0x6766656463626160n);
    expect(bus.mmioRead(A + 8, 8)).toBe(0x9796959493929190n);
    expect(reads(bus, emb)).toBe(1);
    const low = addRegion(bus, 'mmio', A + 0xf00, 0x200, { kind: 'regfile', size: 0x200, initial: bytes(0x200, 0) }, 5);
    expect(bus.mmioRead(A + 0xf00, 1), 'the whole BAR wins over priority 5').toBe(0);
    expect(bus.mmioRead(A + 0x1000, 1), 'past the BAR the low-priority region answers').toBe(0x00);
    expect(bus.mmioRead(A + 0x1001, 1)).toBe(0x01);
    expect(reads(bus, low)).toBe(2);
    expect(bus.mmioRead(A + 0x1101, 1), 'past the region: unmapped').toBe(0xff);
    // Unmapping the BAR reveals the priority-5 region below it.
    bus.configWrite(EP, 0x04, 2, 0);
    expect(bus.mmioRead(A + 0xf01, 1)).toBe(0x01);
    expect(bus.mmioRead(A, 1), 'where only the BAR was: unmapped').toBe(0xff);
    expect(bus.mmioRead(A + 8, 1), 'the embedder region does not move with the BAR').toBe(0x90);
  });

  test('equal-priority embedder regions: the one added first wins', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const first = addRegion(bus, 'io', 0x4000, 0x10, { kind: 'regfile', size: 0x10, initial: bytes(0x10, 0xa0) });
    const second = addRegion(bus, 'io', 0x4008, 0x10, { kind: 'regfile', size: 0x10, initial: bytes(0x10, 0xb0) });
    expect(first).toBeLessThan(second);
    expect(bus.ioRead(0x4008, 1)).toBe(0xa8);
    expect(bus.ioRead(0x4010, 1)).toBe(0xb8);
    const higher = addRegion(bus, 'io', 0x4000, 0x20, { kind: 'regfile', size: 0x20, initial: bytes(0x20, 0) }, 101);
    expect(bus.ioRead(0x4008, 1)).toBe(0x08);
    expect(reads(bus, higher)).toBe(1);
  });

  test('ECAM wins over a BAR and an embedder region placed in its window', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const window = 0xb0008000; // 00:01.0's config space
    bus.configWrite(EP, 0x14, 4, window);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    setBarHandler(bus, EP, 1, { kind: 'regfile', size: 16 });
    addRegion(bus, 'mmio', window, 0x1000, { kind: 'regfile', size: 16 }, 200);
    expect(bus.mmioRead(window, 4)).toBe(0x00011234);
    expect(bus.mmioRead(ecam(0, 1, 0, 0x14), 4)).toBe(window);
    bus.mmioWrite(ecam(0, 1, 0, 0x3c), 1, 0x5a);
    expect(bus.configRead(EP, 0x3c, 1), 'an ECAM write reaches config space').toBe(0x5a);
  });

  test('CF8/CFC win over an IO BAR covering them; the BAR\'s other ports reach the BAR', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x10, 4, 0xc00);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    const bar = barRegionStats(bus, EP, 0).id;
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0));
    expect(bus.ioRead(0xcf8, 4)).toBe(cf8(0, 1, 0, 0));
    expect(bus.ioRead(0xcfc, 4)).toBe(0x00011234);
    expect(bus.ioRead(0xcf4, 4)).toBe(0);
    expect(bus.ioRead(0xc00, 1)).toBe(0);
    expect(reads(bus, bar)).toBe(2);
  });

  test('regions() lists the mapped regions sorted by id, with bigint bases and sizes: ECAM, CF8, CFC always', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const list = bus.regions();
    expect(list.map((r) => r.id)).toEqual([...list.map((r) => r.id)].sort((a, b) => a - b));
    const fixed = list.map((r) => [r.kind, r.space, r.base, r.size]);
    expect(fixed).toEqual(expect.arrayContaining([
      ['ecam', 'mmio', 0xb0000000n, 0x10000000n],
      ['cf8', 'io', 0xcf8n, 4n],
      ['cfc', 'io', 0xcfcn, 4n],
    ]));
    expect(list, 'nothing else is mapped before the guest enables decode').toHaveLength(3);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const bar = bus.regions().find((r) => r.bdf !== undefined);
    expect(bar && [bar.kind, bar.space, bar.base, bar.size, bar.bar]).toEqual(['bar', 'mmio', BigInt(A), 0x1000n, 1]);
  });
});
