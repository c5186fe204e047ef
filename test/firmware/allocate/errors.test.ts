// What the allocator says when something does not fit (AllocationError: the device, the BAR or
// bridge window, the size and alignment, every window tried and what was left in it) and when a
// request is malformed (ArgumentError naming the field). Nothing is returned in either case.
import { describe, expect, it } from 'vitest';
import { ArgumentError, VpciError } from '../../../src/errors.js';
import { allocate, AllocationError, type AllocationRoot, type PolicyName } from '../../../src/firmware/allocate/index.js';
import { GiB, KiB, MiB, bar, bridge, fn, io, mem32, mem64, rom, windows } from './build.js';

const POLICIES: PolicyName[] = ['scan-order', 'largest-first'];

function errorOf(root: AllocationRoot, policy: PolicyName): AllocationError {
  try {
    allocate(root, { policy });
  } catch (e) {
    expect(e).toBeInstanceOf(AllocationError);
    return e as AllocationError;
  }
  throw new Error('allocate returned instead of throwing');
}

describe('AllocationError', () => {
  it('names the device, BAR, size, alignment, window and its free space', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB } }),
      children: [fn('00:01.0', mem32(0, 4n * MiB)), fn('00:02.0', mem32(0, 4n * KiB), mem32(1, 32n * MiB))],
    };
    for (const policy of POLICIES) {
      const e = errorOf(root, policy);
      expect(e).toBeInstanceOf(VpciError);
      expect(e.name).toBe('AllocationError');
      expect(e).toMatchObject({ bdf: '00:02.0', bar: 1, resource: 'BAR 1', size: 32n * MiB, alignment: 32n * MiB });
      // scan-order met 4 MiB and 4 KiB first: one gap left, with no 32 MiB boundary in it.
      // largest-first tried the 32 MiB BAR first, in the empty window.
      const free = policy === 'scan-order'
        ? { largestFree: 12n * MiB - 4n * KiB, largestFreeAligned: 0n, totalFree: 12n * MiB - 4n * KiB }
        : { largestFree: 16n * MiB, largestFreeAligned: 16n * MiB, totalFree: 16n * MiB };
      expect(e.window).toEqual({ name: 'mem32', base: 0xc0000000n, size: 16n * MiB, ...free });
      expect(e.message).toContain('00:02.0 BAR 1 (size 0x2000000, alignment 0x2000000) does not fit');
      expect(e.message).toContain('mem32 window 0xc0000000 size 0x1000000');
      if (policy === 'scan-order') expect(e.message).toContain('largest free gap 0xbff000 (0x0 from a 0x2000000-aligned start), 0xbff000 free in all');
    }
  });

  it('tells fragmentation from lack of room: 10 KiB free, 6 KiB in one piece, no 8 KiB slot', () => {
    // mem32 = [0xc0001000, 0xc0005800): the first 8 KiB BAR takes the only 8 KiB boundary that
    // fits (0xc0002000), leaving 4 KiB below it and 6 KiB above.
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0001000n, size: 0x4800n }, mem64: null }),
      children: [fn('00:01.0', mem32(0, 8n * KiB)), fn('00:02.0', mem32(0, 8n * KiB))],
    };
    for (const policy of POLICIES) {
      const e = errorOf(root, policy);
      expect(e).toMatchObject({ bdf: '00:02.0', bar: 0, size: 8n * KiB });
      expect(e.window).toMatchObject({ totalFree: 10n * KiB, largestFree: 6n * KiB, largestFreeAligned: 6n * KiB });
    }
    // Alignment alone: 18 KiB free in one piece, but the only 16 KiB boundary leaves 6 KiB after it.
    const aligned = errorOf({ ...root, children: [fn('00:01.0', mem32(0, 16n * KiB))] }, 'scan-order');
    expect(aligned.window).toMatchObject({ totalFree: 0x4800n, largestFree: 0x4800n, largestFreeAligned: 0x1800n });
  });

  it('a 64-bit prefetchable BAR lists both windows it tried, mem64 then mem32', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB }, mem64: { base: 0x100000000n, size: 64n * MiB } }),
      children: [fn('00:01.0', mem64(0, 128n * MiB, true))],
    };
    for (const policy of POLICIES) {
      const e = errorOf(root, policy);
      expect(e.attempts.map((a) => [a.name, a.base, a.size, a.totalFree])).toEqual([
        ['mem64', 0x100000000n, 64n * MiB, 64n * MiB],
        ['mem32', 0xc0000000n, 16n * MiB, 16n * MiB],
      ]);
      expect(e.window.name).toBe('mem32');
      expect(e.message).toMatch(/mem64 window 0x100000000 size 0x4000000.*; mem32 window 0xc0000000/);
    }
  });

  it('a 64-bit non-prefetchable BAR lists mem32 then mem64', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB }, mem64: { base: 0x100000000n, size: 64n * MiB } }),
      children: [fn('00:01.0', mem64(0, 128n * MiB))],
    };
    for (const policy of POLICIES) expect(errorOf(root, policy).attempts.map((a) => a.name)).toEqual(['mem32', 'mem64']);
  });

  it('a bridge window that does not fit is named as such', () => {
    const root: AllocationRoot = {
      windows: windows({ mem32: { base: 0xc0000000n, size: 16n * MiB }, mem64: null }),
      children: [bridge('00:1c.0', {}, [fn('01:00.0', mem32(0, 16n * MiB), mem32(1, 4n * KiB))])],
    };
    for (const policy of POLICIES) {
      const e = errorOf(root, policy);
      expect(e).toMatchObject({ bdf: '00:1c.0', bridgeWindow: 'mem', resource: 'bridge window mem of 00:1c.0', size: 17n * MiB, alignment: 16n * MiB });
      expect(e.bar).toBeUndefined();
      expect(e.message.startsWith('bridge window mem of 00:1c.0 (size 0x1100000, alignment 0x1000000) does not fit')).toBe(true);
    }
  });

  it('a ROM is named ROM, and a 16-bit IO window reports the 64 KiB limit it had to respect', () => {
    const romRoot: AllocationRoot = { windows: windows({ mem32: { base: 0xc0000000n, size: MiB } }), children: [fn('00:01.0', rom(2n * MiB))] };
    expect(errorOf(romRoot, 'scan-order')).toMatchObject({ bar: 6, resource: 'ROM' });
    expect(errorOf(romRoot, 'scan-order').message).toContain('00:01.0 ROM');
    const ioRoot: AllocationRoot = {
      windows: windows({ io: { base: 0x10000n, size: 0x10000n } }),
      children: [bridge('00:01.0', { io32: false }, [fn('01:00.0', io(0, 16n))])],
    };
    for (const policy of POLICIES) {
      const e = errorOf(ioRoot, policy);
      expect(e.window).toMatchObject({ name: 'io', limit: 0x10000n, largestFree: 0n, largestFreeAligned: 0n, totalFree: 0n });
      expect(e.message).toContain('below 0x10000');
    }
  });

  it('nothing is returned and the input is not touched when allocation fails', () => {
    const root: AllocationRoot = { windows: windows({ mem32: { base: 0xc0000000n, size: MiB } }), children: [fn('00:01.0', mem32(0, 4n * KiB), mem32(1, 2n * MiB))] };
    const before = structuredClone(root);
    let result: unknown = 'unset';
    expect(() => { result = allocate(root, { policy: 'largest-first' }); }).toThrow(AllocationError);
    expect(result).toBe('unset');
    expect(root).toEqual(before);
  });
});

describe('malformed requests (ArgumentError naming the field)', () => {
  const ok = (children: AllocationRoot['children']): AllocationRoot => ({ windows: windows(), children });
  const cases: [string, AllocationRoot, RegExp][] = [
    ['size not a power of two', ok([fn('a', mem32(0, 3000n))]), /children\[0\]\.bars\[0\]\.size: 3000 is not a power of two/],
    ['zero size', ok([fn('a', mem32(0, 0n))]), /bars\[0\]\.size/],
    ['size as a number', ok([fn('a', { index: 0, kind: 'mem32', prefetchable: false, size: 4096 as unknown as bigint })]), /bars\[0\]\.size/],
    ['IO BAR over 64 KiB', ok([fn('a', io(0, 0x20000n))]), /cross a 64 KiB boundary/],
    ['prefetchable IO', ok([fn('a', bar(0, 'io', 16n, true))]), /never prefetchable/],
    ['prefetchable ROM', ok([fn('a', bar(6, 'rom', 2048n, true))]), /never prefetchable/],
    ['ROM not at index 6', ok([fn('a', bar(2, 'rom', 2048n))]), /index 6 is the expansion ROM/],
    ['index out of range', ok([fn('a', mem32(7, 16n))]), /index: 7 is not 0-6/],
    ['64-bit BAR at 5', ok([fn('a', mem64(5, 16n))]), /64-bit BAR at 5 has no upper half/],
    ['slot used twice', ok([fn('a', mem64(0, 16n), mem32(1, 16n))]), /bars\[1\]\.index: BAR slot 1 is used twice/],
    ['bridge BAR 2', ok([bridge('b', { bars: [mem32(2, 16n)] }, [])]), /bridge \(type 1 header\) has BARs 0-1 only/],
    ['duplicate bdf', ok([fn('a'), bridge('b', {}, [fn('a')])]), /children\[1\]\.children\[0\]\.bdf: "a" appears twice/],
    ['unknown kind', ok([fn('a', bar(0, 'mem16' as never, 16n))]), /kind: "mem16"/],
    ['mem32 past 4 GiB', { windows: windows({ mem32: { base: 0xf0000000n, size: GiB } }), children: [] }, /windows\.mem32: ends at 0x130000000/],
    ['reserved space', { windows: windows(), children: [], reserved: [{ space: 'port' as 'io', base: 0n, size: 1n }] }, /reserved\[0\]\.space: "port"/],
    ['mem64 below 4 GiB', { windows: windows({ mem64: { base: 0x80000000n, size: GiB } }), children: [] }, /windows\.mem64\.base/],
  ];
  for (const [what, root, message] of cases) {
    it(what, () => {
      expect(() => allocate(root, { policy: 'scan-order' })).toThrow(ArgumentError);
      expect(() => allocate(root, { policy: 'scan-order' })).toThrow(message);
    });
  }

  it('bad options', () => {
    const root = ok([]);
    expect(() => allocate(root, { policy: 'best-fit' as PolicyName })).toThrow(/options\.policy: "best-fit"/);
    expect(() => allocate(root, { policy: 'scan-order', hotplugReserve: { mem: -1n } })).toThrow(/options\.hotplugReserve\.mem/);
    expect(() => allocate(root, { policy: 'scan-order', reserveFor: { x: { io: 5 as unknown as bigint } } })).toThrow(/options\.reserveFor\["x"\]\.io/);
  });
});
