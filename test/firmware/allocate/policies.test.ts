// The two policies on hand-written trees with every address worked out by hand: scan-order is the
// seed's loop (each request as met, lowest aligned free address), largest-first packs by
// alignment; plus where they differ, and the known case where scan order's luck beats every
// largest-first packing (DESIGN.md "Does largest-first fit whenever scan-order does?").
import { describe, expect, it } from 'vitest';
import { allocate, AllocationError, type Allocation, type AllocationRoot } from '../../../src/firmware/allocate/index.js';
import { violations } from './check.js';
import { GiB, KiB, MiB, bridge, fn, io, mem32, mem64, rom, windows } from './build.js';

/** `bdf BARn` / `bdf rom` -> base, and `bdf io|mem|prefetch` -> [base, size], for exact comparisons. */
function addresses(a: Allocation): Record<string, bigint | [bigint, bigint]> {
  const out: Record<string, bigint | [bigint, bigint]> = {};
  for (const f of a.functions) for (const b of f.bars) out[`${f.bdf} ${b.index === 6 ? 'rom' : `BAR${b.index}`}`] = b.base;
  for (const b of a.bridges) for (const w of b.windows) out[`${b.bdf} ${w.kind}`] = [w.base, w.size];
  return out;
}

/** An endpoint, a 16-bit-IO bridge with two functions behind it, another endpoint. */
const example: AllocationRoot = {
  windows: windows(),
  children: [
    fn('00:01.0', mem32(0, 4n * KiB), io(1, 32n), mem64(2, 16n * MiB, true), rom(64n * KiB)),
    bridge('00:02.0', { io32: false, bars: [mem32(0, 16n * KiB)] }, [
      fn('01:00.0', mem32(0, MiB), mem64(2, 8n * MiB, true), io(4, 256n)),
      fn('01:01.0', mem32(0, 64n * KiB), rom(32n * KiB)),
    ]),
    fn('00:03.0', mem32(0, 2n * MiB), io(1, 16n)),
  ],
};

describe('scan-order (the seed\'s loop)', () => {
  it('places each request as met at the lowest aligned free address of its window', () => {
    const a = allocate(example, { policy: 'scan-order' });
    expect(violations(example, { policy: 'scan-order' }, a)).toEqual([]);
    expect(addresses(a)).toEqual({
      '00:01.0 BAR0': 0xc0000000n, // first memory request: the window's base
      '00:01.0 BAR1': 0x1000n, // first IO request
      '00:01.0 BAR2': 0x800000000n, // 64-bit prefetchable: mem64 first
      '00:01.0 rom': 0xc0010000n, // 64 KiB-aligned, above BAR0
      '00:02.0 BAR0': 0xc0004000n, // the gap BAR0 and the ROM left (first-fit, not a bump pointer)
      '00:02.0 io': [0x2000n, 0x1000n], // one 256 B BAR -> one 4 KiB granule, 4 KiB-aligned
      '00:02.0 mem': [0xc0100000n, 2n * MiB], // 1 MiB + 64 KiB + 32 KiB -> 2 MiB, 1 MiB-aligned
      '00:02.0 prefetch': [0x801000000n, 8n * MiB], // 64-bit only below it: mem64, after 00:01.0 BAR2
      '01:00.0 BAR0': 0xc0100000n,
      '01:00.0 BAR2': 0x801000000n,
      '01:00.0 BAR4': 0x2000n,
      '01:01.0 BAR0': 0xc0200000n,
      '01:01.0 rom': 0xc0210000n,
      '00:03.0 BAR0': 0xc0400000n, // next 2 MiB boundary past the bridge's window
      '00:03.0 BAR1': 0x1020n, // back in the gap below the bridge's IO window
    });
    expect(a.functions.map((f) => f.bdf)).toEqual(['00:01.0', '00:02.0', '01:00.0', '01:01.0', '00:03.0']);
    expect(a.functions[2].bars.map((b) => b.window)).toEqual(['bridge-mem', 'bridge-prefetch', 'bridge-io']);
    expect(a.functions[0].bars.map((b) => b.window)).toEqual(['mem32', 'io', 'mem64', 'mem32']);
  });
});

describe('largest-first', () => {
  it('packs each window by alignment, largest first, with no gap for power-of-two BARs', () => {
    const a = allocate(example, { policy: 'largest-first' });
    expect(violations(example, { policy: 'largest-first' }, a)).toEqual([]);
    expect(addresses(a)).toEqual({
      '00:03.0 BAR0': 0xc0000000n, // 2 MiB alignment first
      '00:02.0 mem': [0xc0200000n, 2n * MiB], // then the 1 MiB-aligned window
      '00:01.0 rom': 0xc0400000n, // then 64 KiB, 16 KiB, 4 KiB: one contiguous run
      '00:02.0 BAR0': 0xc0410000n,
      '00:01.0 BAR0': 0xc0414000n,
      '00:02.0 io': [0x1000n, 0x1000n], // the 16-bit window goes first in IO (it must stay below 64 KiB)
      '00:01.0 BAR1': 0x2000n,
      '00:03.0 BAR1': 0x2020n,
      '00:01.0 BAR2': 0x800000000n,
      '00:02.0 prefetch': [0x801000000n, 8n * MiB],
      '01:00.0 BAR0': 0xc0200000n,
      '01:00.0 BAR2': 0x801000000n,
      '01:00.0 BAR4': 0x1000n,
      '01:01.0 BAR0': 0xc0300000n,
      '01:01.0 rom': 0xc0310000n,
    });
  });

  it('fits what scan order fragments: small BARs first strand a large one', () => {
    // scan-order: 4 KiB at +0, so the first 8 MiB BAR goes to +8 MiB, the 4 MiB one to +4 MiB,
    // and the second 8 MiB BAR would end at +24 MiB. Sorted, 8+8+4 MiB+4 KiB end at +20 MiB+4 KiB.
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 21n * MiB }, mem64: null }),
      children: [fn('00:01.0', mem32(0, 4n * KiB)), fn('00:02.0', mem32(0, 8n * MiB)), fn('00:03.0', mem32(0, 4n * MiB)), fn('00:04.0', mem32(0, 8n * MiB))],
    };
    expect(() => allocate(root, { policy: 'scan-order' })).toThrow(AllocationError);
    const a = allocate(root, { policy: 'largest-first' });
    expect(violations(root, { policy: 'largest-first' }, a)).toEqual([]);
    expect(a.functions.map((f) => f.bars[0].base)).toEqual([0xc1400000n, 0xc0000000n, 0xc1000000n, 0xc0800000n]);
  });

  it('keeps ragged bridge windows from pushing the rest of their class to the next boundary', () => {
    // A 3 MiB window aligned to 2 MiB and a 2 MiB BAR in 5 MiB: the BAR first (size a multiple
    // of its alignment), then the window right after it.
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 5n * MiB }, mem64: null }),
      children: [bridge('00:01.0', {}, [fn('01:00.0', mem32(0, 2n * MiB), mem32(1, MiB))]), fn('00:02.0', mem32(0, 2n * MiB))],
    };
    const a = allocate(root, { policy: 'largest-first' });
    expect(a.bridges[0].windows[1]).toEqual({ kind: 'mem', base: 0xc0200000n, size: 3n * MiB });
    expect(a.functions.at(-1)!.bars[0].base).toBe(0xc0000000n);
  });

  it('tries the packing from the top when an unaligned base strands a big low-alignment window', () => {
    // mem32 = [+1 MiB, +8 MiB): a 2 MiB BAR goes to +2 MiB from the bottom and splits the space;
    // from the top it takes [+6, +8) and the 5 MiB window (1 MiB-aligned) fits below it.
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0100000n, size: 7n * MiB }, mem64: null }),
      children: [
        fn('00:01.0', mem32(0, 2n * MiB)),
        bridge('00:02.0', {}, [1, 2, 3, 4, 5].map((d) => fn(`01:0${d}.0`, mem32(0, MiB)))),
      ],
    };
    expect(() => allocate(root, { policy: 'scan-order' })).toThrow(AllocationError);
    const a = allocate(root, { policy: 'largest-first' });
    expect(a.functions[0].bars[0].base).toBe(0xc0600000n);
    expect(a.bridges[0].windows[1]).toEqual({ kind: 'mem', base: 0xc0100000n, size: 5n * MiB });
  });

  it('promotes a large 64-bit non-prefetchable BAR to mem64 before small prefetchable ones fill it', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB }, mem64: { base: 0x100000000n, size: 256n * MiB } }),
      children: [
        fn('00:01.0', mem64(0, 4n * KiB, true), rom(MiB)),
        fn('00:02.0', mem64(0, 256n * MiB)), // fits only in mem64, and fills it
        fn('00:03.0', mem64(0, 64n, true)),
      ],
    };
    const a = allocate(root, { policy: 'largest-first' });
    expect(violations(root, { policy: 'largest-first' }, a)).toEqual([]);
    expect(a.functions[1].bars[0]).toMatchObject({ base: 0x100000000n, window: 'mem64' });
    expect(a.functions[0].bars[0].window).toBe('mem32');
    expect(a.functions[2].bars[0].window).toBe('mem32');
  });

  it('gives requests with no other window mem32 first, then 64-bit ones that could go elsewhere', () => {
    // The 16 MiB non-prefetchable 64-bit BAR would fill mem32 by itself; it has mem64 to go to.
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xe0000000n, size: 16n * MiB }, mem64: { base: 0x800000000n, size: 64n * MiB } }),
      children: [fn('00:01.0', mem64(0, 16n * MiB), mem32(2, 512n), rom(16n * KiB))],
    };
    const a = allocate(root, { policy: 'largest-first' });
    expect(a.functions[0].bars.map((b) => b.window)).toEqual(['mem64', 'mem32', 'mem32']);
  });
});

describe('largest-first fits whatever scan-order fits, even where its packing alone cannot', () => {
  it('a brim-full window that only a lucky scan order fills: largest-first falls back to that layout', () => {
    // DESIGN.md gives this case. 41 MiB from 0xc0000000; a 10 MiB window (8 MiB-aligned), an
    // 8 MiB BAR, a 17 MiB window (8 MiB-aligned) in scan order end exactly at +41 MiB. If
    // largest-first packing places the 17 MiB window first and has no room left for A, so it
    // falls back to the scan-order layout (DESIGN.md).
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 41n * MiB }, mem64: null }),
      children: [
        bridge('00:01.0', {}, [fn('01:00.0', mem32(0, 8n * MiB), mem32(1, MiB), mem32(2, MiB))]),
        fn('00:02.0', mem32(0, 8n * MiB)),
        bridge('00:03.0', {}, [fn('02:00.0', mem32(0, 8n * MiB), mem32(1, 8n * MiB), mem32(2, MiB))]),
      ],
    };
    const a = allocate(root, { policy: 'scan-order' });
    expect(a.bridges.map((b) => b.windows[1])).toEqual([
      { kind: 'mem', base: 0xc0000000n, size: 10n * MiB },
      { kind: 'mem', base: 0xc1800000n, size: 17n * MiB },
    ]);
    expect(a.functions[2].bars[0].base).toBe(0xc1000000n);
    expect(allocate(root, { policy: 'largest-first' })).toEqual(a);
    // One MiB less and neither fits: the error is largest-first's own.
    const smaller = { ...root, windows: windows({ mem32: { base: 0xc0000000n, size: 40n * MiB }, mem64: null }) };
    expect(() => allocate(smaller, { policy: 'scan-order' })).toThrow(AllocationError);
    expect(() => allocate(smaller, { policy: 'largest-first' })).toThrow(/bridge window mem of 00:01.0/);
  });
});

describe('both policies', () => {
  it('are deterministic and leave the input untouched', () => {
    const before = structuredClone(example);
    for (const policy of ['scan-order', 'largest-first'] as const) {
      expect(allocate(example, { policy })).toEqual(allocate(example, { policy }));
    }
    expect(example).toEqual(before);
  });

  it('place a huge 64-bit prefetchable BAR above 4 GiB and nothing else there', () => {
    const root: AllocationRoot = { windows: windows({ mem64: { base: 0x1000000000n, size: 64n * GiB } }), children: [fn('00:01.0', mem64(0, 32n * GiB, true), mem32(2, MiB))] };
    for (const policy of ['scan-order', 'largest-first'] as const) {
      const a = allocate(root, { policy });
      expect(a.functions[0].bars.map((b) => [b.base, b.window])).toEqual([[0x1000000000n, 'mem64'], [0xc0000000n, 'mem32']]);
    }
  });
});
