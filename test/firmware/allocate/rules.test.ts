// The placement rules of DESIGN.md, one behaviour per test, under both policies unless a test is
// about one of them.
import { describe, expect, it } from 'vitest';
import { allocate, isBridge, type AllocateOptions, type Allocation, type AllocationRoot, type PolicyName } from '../../../src/firmware/allocate/index.js';
import { violations } from './check.js';
import { GiB, KiB, MiB, bridge, fn, io, mem32, mem64, rom, windows } from './build.js';

const POLICIES: PolicyName[] = ['scan-order', 'largest-first'];
const FOUR_GIB = 1n << 32n;

/** Allocates with each policy, checks every rule, and hands each result to `look`. */
function eachPolicy(root: AllocationRoot, look: (a: Allocation, policy: PolicyName) => void, extra: Omit<AllocateOptions, 'policy'> = {}) {
  for (const policy of POLICIES) {
    const options = { policy, ...extra };
    const a = allocate(root, options);
    expect(violations(root, options, a), policy).toEqual([]);
    look(a, policy);
  }
}
const barOf = (a: Allocation, bdf: string, index: number) => a.functions.find((f) => f.bdf === bdf)!.bars.find((b) => b.index === index)!;
const windowOf = (a: Allocation, bdf: string, kind: 'io' | 'mem' | 'prefetch') => a.bridges.find((b) => b.bdf === bdf)!.windows.find((w) => w.kind === kind)!;

describe('natural alignment', () => {
  it('every BAR base is a multiple of its size, even after odd-sized neighbours', () => {
    const root: AllocationRoot = { windows: windows(), children: [fn('00:01.0', mem32(0, 16n), mem32(1, 4n * KiB), mem32(2, 32n), io(3, 4n), io(4, 128n), mem32(5, MiB))] };
    eachPolicy(root, (a) => {
      for (const b of a.functions[0].bars) expect(b.base % b.size).toBe(0n);
    });
  });
});

describe('IO space', () => {
  it('a 16-bit bridge IO window stays below 64 KiB even when the root IO window goes higher', () => {
    // Root IO [0xf000, 0x20000): the 32-bit bridge and the IO BAR may go above 64 KiB, the
    // 16-bit bridge's window only in [0xf000, 0x10000).
    const root: AllocationRoot = {
      windows: windows({ io: { base: 0xf000n, size: 0x11000n } }),
      children: [
        bridge('00:01.0', { io32: false }, [fn('01:00.0', io(0, 256n))]),
        bridge('00:02.0', { io32: true }, [fn('02:00.0', io(0, 256n))]),
        fn('00:03.0', io(0, 4n)),
      ],
    };
    eachPolicy(root, (a) => {
      expect(windowOf(a, '00:01.0', 'io')).toEqual({ kind: 'io', base: 0xf000n, size: 0x1000n });
      expect(windowOf(a, '00:02.0', 'io').base).toBe(0x10000n);
      expect(barOf(a, '00:03.0', 0).base).toBe(0x11000n);
    });
  });

  it('a 16-bit bridge nested in a 32-bit one pulls the outer IO window below 64 KiB', () => {
    const root: AllocationRoot = {
      windows: windows({ io: { base: 0xf000n, size: 0x11000n } }),
      children: [
        fn('00:01.0', io(0, 0x100n)), // takes 0xf000 first in scan order
        bridge('00:02.0', { io32: true }, [bridge('01:00.0', { io32: false }, [fn('02:00.0', io(0, 16n))])]),
      ],
    };
    // scan-order: the BAR got the only 4 KiB below 64 KiB first, so the window has nowhere to go.
    expect(() => allocate(root, { policy: 'scan-order' })).toThrow(/bridge window io of 00:02.0.*below 0x10000/);
    // largest-first places the constrained window first.
    const a = allocate(root, { policy: 'largest-first' });
    expect(violations(root, { policy: 'largest-first' }, a)).toEqual([]);
    expect(windowOf(a, '00:02.0', 'io')).toEqual({ kind: 'io', base: 0xf000n, size: 0x1000n });
    expect(windowOf(a, '01:00.0', 'io')).toEqual({ kind: 'io', base: 0xf000n, size: 0x1000n });
    expect(barOf(a, '00:01.0', 0).base).toBe(0x10000n);
  });

  it('with the usual 64 KiB IO window every IO BAR and window ends at or below 64 KiB', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { io32: true }, [fn('01:00.0', io(0, 256n), io(1, 4n))]), fn('00:02.0', io(0, 64n))],
    };
    eachPolicy(root, (a) => {
      for (const f of a.functions) for (const b of f.bars) expect(b.base + b.size <= 0x10000n).toBe(true);
      expect(windowOf(a, '00:01.0', 'io').base + windowOf(a, '00:01.0', 'io').size <= 0x10000n).toBe(true);
    });
  });

  it('IO windows are 4 KiB-granular and hold every IO BAR behind them', () => {
    const root: AllocationRoot = { windows: windows(), children: [bridge('00:01.0', {}, [fn('01:00.0', io(0, 4n)), fn('01:01.0', io(0, 256n))])] };
    eachPolicy(root, (a) => {
      const w = windowOf(a, '00:01.0', 'io');
      expect(w.size).toBe(0x1000n);
      expect(w.base % 0x1000n).toBe(0n);
      expect(barOf(a, '01:00.0', 0).window).toBe('bridge-io');
    });
  });
});

describe('ROMs', () => {
  it('go to 32-bit non-prefetchable memory: mem32 at the root, the mem window behind a bridge', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [fn('00:01.0', rom(128n * KiB)), bridge('00:02.0', {}, [fn('01:00.0', mem64(0, MiB, true), rom(64n * KiB))])],
    };
    eachPolicy(root, (a) => {
      expect(barOf(a, '00:01.0', 6)).toMatchObject({ kind: 'rom', window: 'mem32', prefetchable: false });
      expect(barOf(a, '01:00.0', 6).window).toBe('bridge-mem');
      expect(barOf(a, '01:00.0', 6).base + 64n * KiB <= FOUR_GIB).toBe(true);
      expect(barOf(a, '01:00.0', 0).window).toBe('bridge-prefetch');
    });
  });
});

describe('bridge windows', () => {
  it('memory windows are 1 MiB-granular, aligned to the largest BAR inside, closed when empty', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', {}, [fn('01:00.0', mem32(0, 16n), mem32(1, 4n * MiB), mem32(2, 4n * KiB))])],
    };
    eachPolicy(root, (a, policy) => {
      const w = windowOf(a, '00:01.0', 'mem');
      // scan-order: 16 B at +0 pushes the 4 MiB BAR to +4 MiB (the 4 KiB one fills the gap): 8 MiB.
      // largest-first: 4 MiB + 4 KiB + 16 B in a row, rounded up to the next MiB: 5 MiB.
      expect(w.size).toBe(policy === 'scan-order' ? 8n * MiB : 5n * MiB);
      expect(w.base % (4n * MiB)).toBe(0n);
      expect(windowOf(a, '00:01.0', 'io')).toEqual({ kind: 'io', base: 0n, size: 0n });
      expect(windowOf(a, '00:01.0', 'prefetch')).toEqual({ kind: 'prefetch', base: 0n, size: 0n });
    });
  });

  it("a bridge's own BARs are placed in its parent's space, not in its windows", () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { bars: [mem32(0, 64n * KiB)] }, [bridge('01:00.0', { bars: [mem64(0, MiB), rom(2n * KiB)] }, [fn('02:00.0', mem32(0, MiB))])])],
    };
    eachPolicy(root, (a) => {
      expect(barOf(a, '00:01.0', 0).window).toBe('mem32');
      expect(barOf(a, '01:00.0', 0).window).toBe('bridge-mem'); // inside 00:01.0's mem window
      expect(barOf(a, '01:00.0', 6).window).toBe('bridge-mem');
      const outer = windowOf(a, '00:01.0', 'mem');
      const inner = windowOf(a, '01:00.0', 'mem');
      expect(outer.size).toBe(3n * MiB); // the inner bridge's 1 MiB BAR + 2 KiB ROM + its 1 MiB window
      expect(inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size).toBe(true);
    });
  });

  it('a bridge without a prefetchable window takes prefetchable BARs and child prefetch windows in its mem window', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { hasPrefetchWindow: false, prefetch64: false }, [
        fn('01:00.0', mem64(0, 2n * MiB, true)),
        bridge('01:01.0', {}, [fn('02:00.0', mem32(0, MiB, true))]),
      ])],
    };
    eachPolicy(root, (a) => {
      expect(barOf(a, '01:00.0', 0).window).toBe('bridge-mem');
      expect(windowOf(a, '00:01.0', 'prefetch').size).toBe(0n);
      const mem = windowOf(a, '00:01.0', 'mem');
      const childPref = windowOf(a, '01:01.0', 'prefetch');
      expect(childPref.base >= mem.base && childPref.base + childPref.size <= mem.base + mem.size).toBe(true);
      expect(mem.base + mem.size <= FOUR_GIB).toBe(true);
    });
  });
});

describe('prefetchable windows above 4 GiB (Linux\'s rule)', () => {
  const only64 = () => fn('01:00.0', mem64(0, 8n * MiB, true), mem64(2, MiB, true));

  it('go to mem64 when the bridge is prefetch64 and everything prefetchable below is 64-bit', () => {
    eachPolicy({ windows: windows(), children: [bridge('00:01.0', {}, [only64()])] }, (a) => {
      const w = windowOf(a, '00:01.0', 'prefetch');
      expect(w.base >= FOUR_GIB).toBe(true);
      expect(barOf(a, '01:00.0', 0).base >= FOUR_GIB).toBe(true);
    });
  });

  it('a single 32-bit prefetchable BAR below forces the window below 4 GiB', () => {
    const root: AllocationRoot = { windows: windows(), children: [bridge('00:01.0', {}, [only64(), fn('01:01.0', mem32(0, 64n * KiB, true))])] };
    eachPolicy(root, (a) => {
      const w = windowOf(a, '00:01.0', 'prefetch');
      expect(w.size > 0n && w.base + w.size <= FOUR_GIB).toBe(true);
      expect(barOf(a, '01:00.0', 0).base < FOUR_GIB).toBe(true);
      expect(barOf(a, '01:01.0', 0).window).toBe('bridge-prefetch'); // it stays in the prefetchable window
    });
  });

  it('a 32-bit prefetchable BAR two bridges down forces both windows below 4 GiB', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', {}, [only64(), bridge('01:01.0', {}, [fn('02:00.0', mem32(0, MiB, true))])])],
    };
    eachPolicy(root, (a) => {
      expect(windowOf(a, '00:01.0', 'prefetch').base < FOUR_GIB).toBe(true);
      expect(windowOf(a, '01:01.0', 'prefetch').base < FOUR_GIB).toBe(true);
    });
  });

  it('a bridge that is not prefetch64 keeps its window below 4 GiB, and so every bridge above it', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', {}, [bridge('01:00.0', { prefetch64: false }, [fn('02:00.0', mem64(0, MiB, true))])])],
    };
    eachPolicy(root, (a) => {
      expect(windowOf(a, '01:00.0', 'prefetch').base < FOUR_GIB).toBe(true);
      expect(windowOf(a, '00:01.0', 'prefetch').base < FOUR_GIB).toBe(true);
    });
  });

  it('a prefetch64 bridge below a 32-bit prefetch bridge stays below 4 GiB (every bridge above must be 64-bit)', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { prefetch64: false }, [bridge('01:00.0', {}, [fn('02:00.0', mem64(0, MiB, true))])])],
    };
    eachPolicy(root, (a) => {
      expect(windowOf(a, '01:00.0', 'prefetch').base < FOUR_GIB).toBe(true);
      expect(barOf(a, '02:00.0', 0).base < FOUR_GIB).toBe(true);
    });
  });

  it('fall back to mem32 when there is no mem64 window, or it is full', () => {
    const children = [fn('00:01.0', mem64(0, 64n * MiB, true)), bridge('00:02.0', {}, [only64()])];
    eachPolicy({ windows: windows({ mem64: null }), children }, (a) => {
      expect(windowOf(a, '00:02.0', 'prefetch').base < FOUR_GIB).toBe(true);
      expect(barOf(a, '00:01.0', 0).window).toBe('mem32');
    });
    eachPolicy({ windows: windows({ mem64: { base: FOUR_GIB, size: 64n * MiB } }), children }, (a) => {
      expect(barOf(a, '00:01.0', 0)).toMatchObject({ window: 'mem64', base: FOUR_GIB });
      expect(windowOf(a, '00:02.0', 'prefetch').base < FOUR_GIB).toBe(true);
    });
  });
});

describe('root fallbacks for 64-bit BARs', () => {
  it('64-bit non-prefetchable: mem32 first, mem64 when mem32 is full', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB } }),
      children: [fn('00:01.0', mem64(0, 8n * MiB)), fn('00:02.0', mem64(0, 16n * MiB))],
    };
    eachPolicy(root, (a, policy) => {
      // scan-order: the first one met takes mem32; largest-first: the larger one packs it.
      const [inMem32, inMem64] = policy === 'scan-order' ? ['00:01.0', '00:02.0'] : ['00:02.0', '00:01.0'];
      expect(barOf(a, inMem32, 0)).toMatchObject({ window: 'mem32', base: 0xc0000000n });
      expect(barOf(a, inMem64, 0)).toMatchObject({ window: 'mem64', base: 0x800000000n });
    });
  });

  it('64-bit prefetchable: mem64 first even when mem32 has room', () => {
    eachPolicy({ windows: windows(), children: [fn('00:01.0', mem64(0, 4n * KiB, true))] }, (a) => {
      expect(barOf(a, '00:01.0', 0).window).toBe('mem64');
    });
  });

  it('32-bit BARs, prefetchable or not, never go to mem64', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 2n * MiB } }),
      children: [fn('00:01.0', mem32(0, MiB, true), mem32(1, MiB))],
    };
    eachPolicy(root, (a) => {
      expect(a.functions[0].bars.map((b) => b.window)).toEqual(['mem32', 'mem32']);
    });
  });
});

describe('hotplug reserves', () => {
  const hp = { io: 8n * KiB, mem: 8n * MiB, prefetch: 32n * MiB };

  it('an empty hotplug port gets the reserves; a non-hotplug one stays closed', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { hotplug: true }, []), bridge('00:02.0', {}, [])],
    };
    eachPolicy(root, (a) => {
      expect(a.bridges[0].windows.map((w) => w.size)).toEqual([8n * KiB, 8n * MiB, 32n * MiB]);
      expect(a.bridges[1].windows.map((w) => w.size)).toEqual([0n, 0n, 0n]);
      expect(windowOf(a, '00:01.0', 'prefetch').base >= FOUR_GIB).toBe(true); // 64-bit, nothing 32-bit in it
    }, { hotplugReserve: hp });
  });

  it('the reserve is a minimum: contents larger than it win, and it is rounded to the granularity', () => {
    const root: AllocationRoot = { windows: windows(), children: [bridge('00:01.0', { hotplug: true }, [fn('01:00.0', mem32(0, 16n * MiB))])] };
    eachPolicy(root, (a) => {
      expect(a.bridges[0].windows.map((w) => w.size)).toEqual([4n * KiB, 16n * MiB, 2n * MiB]);
    }, { hotplugReserve: { io: 1n, mem: 8n * MiB, prefetch: MiB + 1n } });
  });

  it('reserveFor overrides the hotplug reserve field by field, and applies to any bridge it names', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [bridge('00:01.0', { hotplug: true }, []), bridge('00:02.0', {}, [])],
    };
    eachPolicy(root, (a) => {
      expect(a.bridges[0].windows.map((w) => w.size)).toEqual([8n * KiB, 2n * MiB, 32n * MiB]);
      expect(a.bridges[1].windows.map((w) => w.size)).toEqual([4n * KiB, 0n, 0n]);
    }, { hotplugReserve: hp, reserveFor: { '00:01.0': { mem: 2n * MiB }, '00:02.0': { io: 4n * KiB } } });
  });

  it('without a prefetchable window the prefetch reserve adds to the mem window', () => {
    const root: AllocationRoot = { windows: windows(), children: [bridge('00:01.0', { hotplug: true, hasPrefetchWindow: false }, [])] };
    eachPolicy(root, (a) => {
      expect(a.bridges[0].windows.map((w) => w.size)).toEqual([8n * KiB, 40n * MiB, 0n]);
    }, { hotplugReserve: hp });
  });
});

describe('output shape', () => {
  it('lists every function once in scan order (bridges before their children) and every bridge with io, mem, prefetch', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [fn('a'), bridge('b', {}, [bridge('c', {}, [fn('d')]), fn('e')]), fn('f')],
    };
    eachPolicy(root, (a) => {
      expect(a.functions.map((f) => f.bdf)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(a.bridges.map((b) => [b.bdf, b.windows.map((w) => w.kind).join()])).toEqual([['b', 'io,mem,prefetch'], ['c', 'io,mem,prefetch']]);
    });
    expect(isBridge(root.children[1])).toBe(true);
    expect(isBridge(root.children[0])).toBe(false);
  });

  it('BARs come back in index order whatever order they were given in', () => {
    const root: AllocationRoot = { windows: windows(), children: [fn('00:01.0', rom(2n * KiB), io(4, 8n), mem64(0, GiB, true), mem32(2, 16n))] };
    eachPolicy(root, (a) => {
      expect(a.functions[0].bars.map((b) => b.index)).toEqual([0, 2, 4, 6]);
    });
  });
});

describe('ranges already in use', () => {
  it('nothing is placed over a reserved range; mem ranges count in mem32 and mem64, parts outside are ignored', () => {
    const root: AllocationRoot = {
      windows: windows(),
      children: [fn('00:01.0', mem32(0, MiB), io(1, 256n), mem64(2, 16n * MiB, true)), bridge('00:02.0', {}, [fn('01:00.0', mem32(0, MiB))])],
      reserved: [
        { space: 'mem', base: 0xbff00000n, size: 2n * MiB }, // straddles mem32's base: [0xc0000000, 0xc0100000) is in use
        { space: 'io', base: 0x1000n, size: 0x1000n },
        { space: 'mem', base: 0x800000000n, size: 4n * KiB },
      ],
    };
    eachPolicy(root, (a) => {
      expect(barOf(a, '00:01.0', 0).base).toBeGreaterThanOrEqual(0xc0100000n);
      expect(barOf(a, '00:01.0', 1).base).toBeGreaterThanOrEqual(0x2000n);
      expect(barOf(a, '00:01.0', 2).base).toBe(0x801000000n);
      expect(windowOf(a, '00:02.0', 'mem').base).toBeGreaterThanOrEqual(0xc0100000n);
    });
  });
});
