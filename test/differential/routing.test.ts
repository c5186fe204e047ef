// Differential: random bridge trees and random guest writes to bridges' and endpoints' routing
// registers (Command, BARs, bus numbers, windows) give both cores the same config routing, the
// same BAR mappings and the same DMA gating, after every write.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadWasmCore } from '../../bindings/load.js';
import type { CoreBackend } from '../../src/core/backend.js';
import { TsCore } from '../../src/core/ts/ts-core.js';
import { buildPlanes } from '../../src/config/index.js';
import type { ConfigPlanes } from '../../src/config/index.js';
import { pciBridge } from '../../src/devices/pci-bridge.js';
import { rootPort } from '../../src/devices/root-port.js';

const ENDPOINT = buildPlanes({
  vendorId: 0x1234, deviceId: 0x0042, classCode: 0xff0000,
  bars: [
    { index: 0, kind: 'mem32', size: 0x1000 },
    { index: 1, kind: 'io', size: 0x10 },
    { index: 2, kind: 'mem64', size: 0x100000, prefetchable: true },
  ],
  rom: { size: 0x800 },
});
const BRIDGES: ConfigPlanes[] = [buildPlanes(pciBridge()), buildPlanes(pciBridge({ io32: true })), buildPlanes(rootPort())];

/** A node of the generated tree: a bridge (kind 0-2) or an endpoint (-1), with children. */
interface Node { kind: number; dev: number; fn: number; children: Node[] }

const nodeArb: fc.Memo<Node> = fc.memo((depth) =>
  fc.record({
    kind: depth > 1 ? fc.integer({ min: -1, max: 2 }) : fc.constant(-1),
    dev: fc.nat(3),
    fn: fc.constantFrom(0, 0, 0, 1),
    children: depth > 1 ? fc.array(nodeArb(depth - 1), { maxLength: 3 }) : fc.constant<Node[]>([]),
  }).map((n): Node => ({ ...n, children: n.kind < 0 ? [] : [...n.children] })));

// Registers that decide routing, with values biased towards meaningful ones.
const writeArb = fc.record({
  target: fc.nat(40),
  reg: fc.constantFrom(0x04, 0x10, 0x14, 0x18, 0x19, 0x1a, 0x1c, 0x1d, 0x20, 0x22, 0x24, 0x26, 0x28, 0x2c, 0x30, 0x32, 0x38, 0x3c),
  size: fc.constantFrom(1, 2, 4, 4, 4),
  value: fc.oneof(
    fc.nat(0xffffffff),
    fc.constantFrom(0, 7, 0xffffffff, 0x00010100, 0x00020201, 0x00ff0100, 0x00030302, 0xc000c000, 0xc0ffc000, 0x1ff00000, 0x10001000, 0xc0000000, 0x1001),
    fc.nat(8).map((b) => (b | ((b + 1) << 8) | ((b + 3) << 16)) >>> 0),
  ),
});

function build(core: CoreBackend, roots: Node[]): number[] {
  const slots: number[] = [];
  const add = (n: Node, parent: number) => {
    const planes = n.kind < 0 ? ENDPOINT : BRIDGES[n.kind];
    const slot = parent < 0 ? core.addFunction(0, 0, n.dev, n.fn, planes.size) : core.addFunctionBelow(parent, n.dev, n.fn, planes.size);
    if (slot < 0) return; // a duplicate dev.fn: both cores refuse it alike (checked below)
    core.loadPlanes(slot, planes.config, planes.wmask, planes.w1cmask);
    slots.push(slot);
    for (const c of n.children) add(c, slot);
  };
  for (const r of roots) add(r, -1);
  for (const s of slots) core.barAttach(s);
  return slots;
}

/** Everything routing decides: who answers each bus/devfn, where each slot is, BAR mappings, DMA gating. */
function observe(core: CoreBackend, slots: number[]): unknown {
  const buses: number[] = [];
  for (let bus = 0; bus < 256; bus++) {
    for (let devfn = 0; devfn < 32; devfn++) {
      const s = core.slotAt(0, bus, devfn >> 3, devfn & 7);
      if (s >= 0) buses.push(bus, devfn, s);
    }
  }
  const perSlot = slots.map((s) => ({
    address: core.slotAddress(s),
    parent: core.slotParent(s),
    bars: [0, 1, 2, 6].map((b) => core.barInfo(s, b)),
    dma: core.dma.dmaTranslate(s, 0x1000, 16, 0),
  }));
  return { buses, perSlot, effects: core.effectsDrain() };
}

/**
 * Programs the tree as firmware would (depth-first bus numbers, windows open over everything,
 * decode and bus mastering on, endpoint BARs at distinct addresses), so that the random writes
 * afterwards start from a routed state and take it apart.
 */
function program(core: CoreBackend, slots: number[]): void {
  let next = 1;
  let addr = 0x80000000;
  let io = 0x1000;
  const w = (slot: number, reg: number, size: number, value: number) => {
    const a = core.slotAddress(slot);
    if (a >= 0) core.configWrite(0, (a >> 8) & 0xff, (a >> 3) & 0x1f, a & 7, reg, size, value);
  };
  const visit = (slot: number, primary: number) => {
    if (core.barInfo(slot, 0).kind === 2 && core.barInfo(slot, 1).kind === 1) {
      w(slot, 0x10, 4, addr); addr += 0x1000;
      w(slot, 0x14, 4, io); io += 0x10;
      w(slot, 0x18, 4, 0); w(slot, 0x1c, 4, 1);
      w(slot, 0x04, 2, 7);
      return;
    }
    const secondary = next++;
    w(slot, 0x18, 4, primary | (secondary << 8) | (0xff << 16));
    for (const child of slots.filter((s) => core.slotParent(s) === slot)) visit(child, secondary);
    w(slot, 0x1a, 1, next - 1);
    w(slot, 0x1c, 2, 0xf000);      // IO window 0x0000-0xFFFF
    w(slot, 0x20, 4, 0xfff00000);  // memory window 0x0000_0000-0xFFFF_FFFF
    w(slot, 0x04, 2, 7);
  };
  for (const s of slots.filter((x) => core.slotParent(x) < 0)) visit(s, 0);
}

describe('routing differential', () => {
  test('random bridge trees under random guest writes: identical routing in both cores', async () => {
    // The generator must reach the interesting states, or the comparison proves little.
    let reachedBelow = 0;
    let mappedBelow = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(nodeArb(4), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.array(writeArb, { maxLength: 60 }), async (roots, firmware, writes) => {
        const cores: CoreBackend[] = [await loadWasmCore(), new TsCore()];
        const slotLists = cores.map((c) => build(c, roots));
        expect(slotLists[0]).toEqual(slotLists[1]);
        const slots = slotLists[0];
        for (const c of cores) {
          c.dma.ramAdd(0, 0x10000, 1);
          if (firmware) program(c, slots);
        }
        expect(observe(cores[0], slots)).toEqual(observe(cores[1], slots));
        for (const w of writes) {
          if (slots.length === 0) break;
          const slot = slots[w.target % slots.length];
          for (const c of cores) {
            // Write where the guest can reach the function now; unreachable ones are skipped alike.
            const a = c.slotAddress(slot);
            if (a >= 0) c.configWrite(0, (a >> 8) & 0xff, (a >> 3) & 0x1f, a & 7, w.reg, w.size, w.value);
          }
          expect(observe(cores[0], slots)).toEqual(observe(cores[1], slots));
          for (const s of slots) {
            if (cores[1].slotParent(s) < 0) continue;
            if (cores[1].slotAddress(s) >= 0) reachedBelow++;
            if ([0, 1, 2, 6].some((b) => cores[1].barInfo(s, b).mapped)) mappedBelow++;
          }
        }
      }),
      { numRuns: 150, seed: 0x5eed5 },
    );
    expect(reachedBelow).toBeGreaterThan(500);
    expect(mappedBelow).toBeGreaterThan(200);
  });
});
