// Properties over random topologies (arbitraries.ts: up to six BARs per function, ROMs, 64-bit and
// prefetchable mixes, bridges three deep with every flag mix, hotplug reserves, root windows from
// roomy to tight): every allocation keeps every rule (check.ts, which re-derives the rules from
// the request tree), every failure is a well-formed AllocationError about a real request that
// really did not fit, the allocator is pure, and largest-first fits whatever scan-order fits.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocate, AllocationError, isBridge, type AllocateOptions, type Allocation, type AllocationRoot, type BridgeRequest, type FunctionRequest } from '../../../src/firmware/allocate/index.js';
import { optionsArb, rootArb } from './arbitraries.js';
import { violations } from './check.js';

const RUNS = 400;
const IO16 = 0x10000n;

function attempt(root: AllocationRoot, options: AllocateOptions): Allocation | AllocationError {
  try {
    return allocate(root, options);
  } catch (e) {
    if (e instanceof AllocationError) return e;
    throw e;
  }
}

function* walk(children: (FunctionRequest | BridgeRequest)[], above: BridgeRequest[] = []): Generator<[FunctionRequest | BridgeRequest, BridgeRequest[]]> {
  for (const c of children) {
    yield [c, above];
    if (isBridge(c)) yield* walk(c.children, [...above, c]);
  }
}

describe('allocation properties', () => {
  it('every allocation keeps every rule; every failure names a real request that did not fit', () => {
    let fits = 0;
    let fails = 0;
    fc.assert(fc.property(rootArb, optionsArb, (root, options) => {
      const r = attempt(root, options);
      if (r instanceof AllocationError) {
        fails++;
        const found = [...walk(root.children)].find(([f]) => f.bdf === r.bdf);
        expect(found, r.message).toBeDefined();
        const [f] = found!;
        if (r.bar !== undefined) {
          const bar = f.bars.find((b) => b.index === r.bar)!;
          expect(r.size).toBe(bar.size);
          expect(r.alignment).toBe(bar.size);
        } else {
          expect(isBridge(f)).toBe(true);
          expect(r.size % (r.bridgeWindow === 'io' ? 0x1000n : 0x100000n)).toBe(0n);
        }
        expect(r.attempts.length).toBeGreaterThan(0);
        for (const a of r.attempts) {
          // It really did not fit there: no free run from an aligned start was big enough.
          expect(a.largestFreeAligned < r.size, r.message).toBe(true);
          expect(a.largestFreeAligned <= a.largestFree && a.largestFree <= a.totalFree && a.totalFree <= a.size).toBe(true);
          expect(r.message).toContain(`${a.name} window 0x${a.base.toString(16)}`);
        }
        expect(r.message).toContain(r.bdf);
        return;
      }
      fits++;
      expect(violations(root, options, r)).toEqual([]);
      // IO below 64 KiB wherever a 16-bit bridge decodes it.
      const windowsBy = new Map(r.bridges.map((b) => [b.bdf, b.windows]));
      const barsBy = new Map(r.functions.map((fn) => [fn.bdf, fn.bars]));
      for (const [f, above] of walk(root.children)) {
        const sixteen = above.some((b) => !b.io32);
        if (sixteen) for (const b of barsBy.get(f.bdf)!) if (b.kind === 'io') expect(b.base + b.size <= IO16).toBe(true);
        if (isBridge(f) && (sixteen || !f.io32)) {
          const w = windowsBy.get(f.bdf)![0];
          expect(w.base + w.size <= IO16).toBe(true);
        }
      }
    }), { numRuns: RUNS, seed: 0x5eed });
    // The generator must exercise both outcomes to mean anything.
    expect(fits).toBeGreaterThan(RUNS / 4);
    expect(fails).toBeGreaterThan(RUNS / 20);
  });

  it('is pure: the same input gives the same output, and the input is never modified', () => {
    fc.assert(fc.property(rootArb, optionsArb, (root, options) => {
      const before = structuredClone(root);
      const optionsBefore = structuredClone(options);
      const first = attempt(root, options);
      const second = attempt(root, options);
      if (first instanceof AllocationError) expect(second instanceof AllocationError && second.message === first.message).toBe(true);
      else expect(second).toEqual(first);
      expect(root).toEqual(before);
      expect(options).toEqual(optionsBefore);
    }), { numRuns: RUNS / 2, seed: 0xfeed });
  });

  it('largest-first fits every topology scan-order fits', () => {
    let both = 0;
    let onlyLargest = 0;
    fc.assert(fc.property(rootArb, optionsArb, (root, options) => {
      const scan = attempt(root, { ...options, policy: 'scan-order' });
      const largest = attempt(root, { ...options, policy: 'largest-first' });
      if (!(scan instanceof AllocationError)) {
        expect(largest instanceof AllocationError ? largest.message : 'fits').toBe('fits');
        both++;
      } else if (!(largest instanceof AllocationError)) onlyLargest++;
    }), { numRuns: 3 * RUNS, seed: 0xa110c });
    expect(both).toBeGreaterThan(RUNS);
    expect(onlyLargest).toBeGreaterThan(0); // and it fits some that scan-order does not
  });
});
