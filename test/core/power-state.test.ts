// PCI power management and device-side config writes (configPoke) through the CoreBackend
// interface, on both cores:
//  - a function not in D0 decodes no BAR or ROM and does no DMA (the bus-master fault); back in D0
//    it decodes per Command again; a bridge in D3hot forwards nothing below it;
//  - a guest's write of an unsupported D1/D2 keeps PowerState, the write's other bits apply;
//  - a poke sets bytes exactly and the hooks follow (BARs, Command, bus numbers, PMCSR);
//  - a saved state carries the power state (it is config bytes) and decodes the same after load;
//  - a randomized differential of guest writes and pokes, PMCSR included, gives both cores the same
//    mappings, reads, effects and DMA gating after every step.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadWasmCore } from '../../bindings/load.js';
import type { CoreBackend } from '../../src/core/backend.js';
import { CounterIndex, Status } from '../../src/core/backend.js';
import { TsCore } from '../../src/core/ts/ts-core.js';
import { FAULT_STATUS, Reason, DIR_READ } from '../../src/core/ts/dma/index.js';
import { buildPlanes } from '../../src/config/index.js';
import type { ConfigPlanes, FunctionDescriptor } from '../../src/config/index.js';
import { pciBridge } from '../../src/devices/pci-bridge.js';

const BACKENDS: [string, () => Promise<CoreBackend>][] = [
  ['ts', async () => new TsCore()],
  ['wasm', async () => loadWasmCore()],
];

const PM = 0x40;
const PMC = PM + 2;
const PMCSR = PM + 4;
const BUS_MASTER_FAULT = FAULT_STATUS - Reason.BUS_MASTER;

const ENDPOINT: FunctionDescriptor = {
  vendorId: 0x1234, deviceId: 0x0042, classCode: 0xff0000,
  bars: [
    { index: 0, kind: 'mem32', size: 0x1000 },
    { index: 1, kind: 'io', size: 0x10 },
    { index: 2, kind: 'mem64', size: 0x100000, prefetchable: true },
  ],
  rom: { size: 0x800 },
  capabilities: [{ id: 'pm' }],
};

/** Endpoint planes; `d1d2` sets PMC D1_Support and D2_Support (bits 9, 10). */
function endpointPlanes(d1d2 = false): ConfigPlanes {
  const p = buildPlanes(ENDPOINT);
  if (d1d2) p.config[PMC + 1] |= 0x06;
  return p;
}

function load(core: CoreBackend, slot: number, p: ConfigPlanes): void {
  expect(core.loadPlanes(slot, p.config, p.wmask, p.w1cmask)).toBe(Status.OK);
}

/** Config write to a slot where config cycles reach it now. */
function cw(core: CoreBackend, slot: number, reg: number, size: number, value: number): number {
  const a = core.slotAddress(slot);
  if (a < 0) throw new Error(`slot ${slot} is not reachable`);
  return core.configWrite(a >>> 16, (a >>> 8) & 0xff, (a >>> 3) & 0x1f, a & 7, reg, size, value);
}

function cr(core: CoreBackend, slot: number, reg: number, size: number): number {
  const a = core.slotAddress(slot);
  if (a < 0) throw new Error(`slot ${slot} is not reachable`);
  return core.configRead(a >>> 16, (a >>> 8) & 0xff, (a >>> 3) & 0x1f, a & 7, reg, size);
}

const where = (core: CoreBackend, slot: number, bar: number): string => {
  const b = core.barInfo(slot, bar);
  return b.mapped ? b.base.toString(16) : '-';
};

/** One endpoint on bus 0 at 00:03.0 with BAR0 at 0xc0000000, BAR1 at 0xc000, ROM at 0xc0100000, decode and BME on. */
async function endpointCore(make: () => Promise<CoreBackend>, d1d2 = false): Promise<{ core: CoreBackend; ep: number }> {
  const core = await make();
  const ep = core.addFunction(0, 0, 3, 0, 256);
  load(core, ep, endpointPlanes(d1d2));
  expect(core.barAttach(ep)).toBe(Status.OK);
  cw(core, ep, 0x10, 4, 0xc0000000);
  cw(core, ep, 0x14, 4, 0xc000);
  cw(core, ep, 0x30, 4, 0xc0100001);
  cw(core, ep, 0x04, 2, 0x0007);
  core.effectsDrain();
  return { core, ep };
}

/** A PCI-to-PCI bridge (PM capability at 0x40) on bus 0 with an endpoint below at 01:00.0, programmed as firmware would. */
async function bridgeCore(make: () => Promise<CoreBackend>): Promise<{ core: CoreBackend; br: number; ep: number }> {
  const core = await make();
  const bp = buildPlanes(pciBridge());
  const br = core.addFunction(0, 0, 1, 0, bp.size);
  load(core, br, bp);
  const ep = core.addFunctionBelow(br, 0, 0, 256);
  load(core, ep, endpointPlanes());
  expect(core.barAttach(br)).toBe(Status.OK);
  expect(core.barAttach(ep)).toBe(Status.OK);
  cw(core, br, 0x18, 4, 0x00010100);
  cw(core, br, 0x1c, 2, 0xf0f0);       // IO window 0xf000-0xffff
  cw(core, br, 0x20, 4, 0xd000d000);   // memory window 0xd0000000-0xd00fffff
  cw(core, br, 0x04, 2, 0x0007);
  cw(core, ep, 0x10, 4, 0xd0001000);
  cw(core, ep, 0x14, 4, 0xf000);
  cw(core, ep, 0x04, 2, 0x0007);
  core.dma.ramAdd(0, 0x10000, 1);
  core.effectsDrain();
  return { core, br, ep };
}

describe.each(BACKENDS)('power management (%s core)', (_name, make) => {
  test('the policy layer places PM at 0x40 with PowerState writable as a whole field', () => {
    const p = endpointPlanes();
    expect(p.config[0x34]).toBe(PM);
    expect(p.config[PM]).toBe(0x01);
    expect(p.wmask[PMCSR] & 3).toBe(3);
  });

  test('a function in D3hot decodes no BAR or ROM; back in D0 it decodes per Command again', async () => {
    const { core, ep } = await endpointCore(make);
    expect([where(core, ep, 0), where(core, ep, 1), where(core, ep, 6)]).toEqual(['c0000000', 'c000', 'c0100000']);
    expect(core.mmioRead(0xc0000000, 4)).toBe(0);
    cw(core, ep, PMCSR, 2, 0x0003);
    expect(cr(core, ep, PMCSR, 2)).toBe(0x000b);
    expect([where(core, ep, 0), where(core, ep, 1), where(core, ep, 6)]).toEqual(['-', '-', '-']);
    const aborts = core.counterValue(CounterIndex.ABORT_MMIO_READ);
    expect(core.mmioRead(0xc0000000, 4)).toBe(0xffffffff);
    expect(core.counterValue(CounterIndex.ABORT_MMIO_READ)).toBe(aborts + 1);
    expect(core.ioRead(0xc000, 1)).toBe(0xff);
    // Config space still answers, and writes to BARs and Command are kept (they decode later).
    cw(core, ep, 0x10, 4, 0xc0200000);
    cw(core, ep, 0x04, 2, 0x0006);
    expect(cr(core, ep, 0x10, 4)).toBe(0xc0200000);
    expect(where(core, ep, 0)).toBe('-');
    cw(core, ep, PMCSR, 2, 0x0000);
    expect([where(core, ep, 0), where(core, ep, 1), where(core, ep, 6)]).toEqual(['c0200000', '-', 'c0100000']);
    expect(core.effectsDrain().map((e) => [e.bar, e.oldMapped, e.oldBase, e.newMapped, e.newBase])).toEqual([
      [0, true, 0xc0000000, false, 0], [1, true, 0xc000, false, 0], [6, true, 0xc0100000, false, 0],
      [0, false, 0, true, 0xc0200000], [6, false, 0, true, 0xc0100000],
    ]);
  });

  test('a write of an unsupported D1 or D2 keeps PowerState; PME_En and PME_Status still follow the write', async () => {
    const { core, ep } = await endpointCore(make);
    cw(core, ep, PMCSR, 2, 0x0101);
    expect(cr(core, ep, PMCSR, 2)).toBe(0x0108);
    cw(core, ep, PMCSR, 1, 0x02);
    expect(cr(core, ep, PMCSR, 2)).toBe(0x0108);
    expect(where(core, ep, 0)).toBe('c0000000');
    cw(core, ep, PMCSR, 1, 0x03);
    cw(core, ep, PMCSR, 1, 0x01);
    expect(cr(core, ep, PMCSR, 2) & 3).toBe(3);
    // PME_Status set by the device, cleared by the guest's write-1 next to a discarded state.
    core.configPoke(ep, PMCSR + 1, 1, 0x81);
    cw(core, ep, PMCSR, 2, 0x8002);
    expect(cr(core, ep, PMCSR, 2)).toBe(0x000b);
    expect(core.effectsDrain().length).toBe(3);
  });

  test('D1 and D2 are taken when PMC says they are supported; they decode nothing', async () => {
    const { core, ep } = await endpointCore(make, true);
    for (const state of [1, 2]) {
      cw(core, ep, PMCSR, 2, state);
      expect(cr(core, ep, PMCSR, 2) & 3).toBe(state);
      expect(where(core, ep, 0)).toBe('-');
    }
    cw(core, ep, PMCSR, 2, 0);
    expect(where(core, ep, 0)).toBe('c0000000');
  });

  test('a function not in D0 does no DMA: the bus-master fault', async () => {
    const { core, ep } = await endpointCore(make, true);
    core.dma.ramAdd(0, 0x10000, 1);
    expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(0);
    for (const state of [1, 2, 3]) {
      cw(core, ep, PMCSR, 2, state);
      expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(BUS_MASTER_FAULT);
      expect(core.dma.dmaTranslate(ep, 0x100, 16, DIR_READ)).toBe(BUS_MASTER_FAULT);
    }
    cw(core, ep, PMCSR, 2, 0);
    expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(0);
  });

  test('a bridge in D3hot forwards neither MMIO, IO nor DMA below it; config cycles still pass', async () => {
    const { core, br, ep } = await bridgeCore(make);
    expect([where(core, ep, 0), where(core, ep, 1)]).toEqual(['d0001000', 'f000']);
    expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(0);
    cw(core, br, PMCSR, 2, 3);
    expect([where(core, ep, 0), where(core, ep, 1)]).toEqual(['-', '-']);
    expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(BUS_MASTER_FAULT);
    expect(cr(core, ep, 0x00, 4)).toBe(0x00421234);
    // A BAR written meanwhile decodes where the bridge forwards once it is back in D0.
    cw(core, ep, 0x10, 4, 0xd0002000);
    expect(where(core, ep, 0)).toBe('-');
    cw(core, br, PMCSR, 2, 0);
    expect([where(core, ep, 0), where(core, ep, 1)]).toEqual(['d0002000', 'f000']);
    expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(0);
  });

  test('a saved state carries the power state and decodes the same after load, into either core', async () => {
    const { core, ep } = await endpointCore(make);
    cw(core, ep, PMCSR, 2, 3);
    const state = core.saveState();
    for (const [, makeOther] of BACKENDS) {
      const { core: other, ep: ep2 } = await endpointCore(makeOther);
      expect(where(other, ep2, 0)).toBe('c0000000');
      expect(other.loadState(state)).toBe(Status.OK);
      expect(where(other, ep2, 0)).toBe('-');
      expect(other.mmioRead(0xc0000000, 4)).toBe(0xffffffff);
      other.dma.ramAdd(0, 0x10000, 1);
      expect(other.dma.dmaRead(ep2, 0x100, 16, 0)).toBe(BUS_MASTER_FAULT);
      // The PMCSR hook works after the load: a D1 write is still refused, D0 maps again.
      cw(other, ep2, PMCSR, 2, 1);
      expect(cr(other, ep2, PMCSR, 2) & 3).toBe(3);
      cw(other, ep2, PMCSR, 2, 0);
      expect(where(other, ep2, 0)).toBe('c0000000');
    }
  });
});

describe.each(BACKENDS)('configPoke (%s core)', (_name, make) => {
  test('refuses bad slots, sizes, offsets and dword-crossing accesses without changing anything, and never throws', async () => {
    const { core, ep } = await endpointCore(make);
    const before = Array.from({ length: 64 }, (_, i) => core.planeByte(ep, 0, i * 4));
    expect(core.configPoke(-1, 0, 4, 0)).toBe(Status.NOT_FOUND);
    expect(core.configPoke(ep + 1, 0, 4, 0)).toBe(Status.NOT_FOUND);
    expect(core.configPoke(5000, 0, 4, 0)).toBe(Status.NOT_FOUND);
    for (const size of [0, 3, 8, -1]) expect(core.configPoke(ep, 0, size, 0)).toBe(Status.RANGE);
    expect(core.configPoke(ep, 3, 2, 0)).toBe(Status.RANGE);
    expect(core.configPoke(ep, 1, 4, 0)).toBe(Status.RANGE);
    expect(core.configPoke(ep, 0x100, 1, 0)).toBe(Status.RANGE);
    expect(core.configPoke(ep, 0xfff, 1, 0)).toBe(Status.RANGE);
    for (const junk of [NaN, Infinity, -Infinity, 2 ** 32, 2 ** 53, -0.5, 1e300]) {
      expect(() => core.configPoke(junk, junk, junk, junk)).not.toThrow();
    }
    expect(Array.from({ length: 64 }, (_, i) => core.planeByte(ep, 0, i * 4))).toEqual(before);
  });

  test('sets bytes exactly: read-only bytes change, write-1-to-clear bits are set, not cleared', async () => {
    const { core, ep } = await endpointCore(make);
    expect(core.configPoke(ep, 0x02, 2, 0xbeef)).toBe(0);
    expect(cr(core, ep, 0x00, 4)).toBe(0xbeef1234);
    expect(core.configPoke(ep, 0x06, 2, 0xf910)).toBe(0);
    expect(cr(core, ep, 0x06, 2)).toBe(0xf910);
    cw(core, ep, 0x06, 2, 0x8000);
    expect(cr(core, ep, 0x06, 2)).toBe(0x7910);
    expect(core.configPoke(ep, 0x07, 1, 0x12345680)).toBe(0);
    expect(cr(core, ep, 0x06, 2)).toBe(0x8010);
  });

  test('hooks follow: a poked BAR moves its region, a poked Command changes decode', async () => {
    const { core, ep } = await endpointCore(make);
    core.configPoke(ep, 0x10, 4, 0xc0400000);
    expect(where(core, ep, 0)).toBe('c0400000');
    core.configPoke(ep, 0x04, 2, 0x0001);
    expect([where(core, ep, 0), where(core, ep, 1), where(core, ep, 6)]).toEqual(['-', 'c000', '-']);
    core.configPoke(ep, 0x04, 1, 0x02);
    expect([where(core, ep, 0), where(core, ep, 1), where(core, ep, 6)]).toEqual(['c0400000', '-', 'c0100000']);
    // A 64-bit BAR: the lower dword staged, the upper moves it, as for the guest.
    core.configPoke(ep, 0x18, 4, 0xc0800000);
    expect(where(core, ep, 2)).toBe('-');
    core.configPoke(ep, 0x1c, 4, 0x1);
    expect(where(core, ep, 2)).toBe('1c0800000');
    expect(core.effectsDrain().length).toBe(7);
  });

  test('hooks follow: poked bus numbers re-route config cycles; a poked PowerState is kept even unsupported', async () => {
    const { core, br, ep } = await bridgeCore(make);
    expect(core.slotAt(0, 1, 0, 0)).toBe(ep);
    core.configPoke(br, 0x18, 4, 0x00050500);
    expect(core.slotAt(0, 1, 0, 0)).toBe(-1);
    expect(core.slotAt(0, 5, 0, 0)).toBe(ep);
    expect(core.configPoke(ep, PMCSR, 2, 0x0009)).toBe(0);
    expect(cr(core, ep, PMCSR, 2)).toBe(0x0009);
    expect(where(core, ep, 0)).toBe('-');
    core.configPoke(br, PMCSR, 1, 0x03);
    core.configPoke(ep, PMCSR, 1, 0x08);
    expect(where(core, ep, 0)).toBe('-');
    core.configPoke(br, PMCSR, 1, 0x08);
    expect(where(core, ep, 0)).toBe('d0001000');
  });

  test('returns the queued interrupt count, as configWrite does', async () => {
    const core = await make();
    const p = buildPlanes({ ...ENDPOINT, interruptPin: 1 });
    const ep = core.addFunction(0, 0, 2, 0, 256);
    load(core, ep, p);
    core.barAttach(ep);
    core.irqAttach(ep);
    core.intxRoute(0, 2, 1, 10);
    core.intxSet(ep, 1);
    core.irqDrain();
    expect(core.configPoke(ep, 0x04, 2, 0x0400)).toBe(1); // Interrupt Disable: the line drops
    expect(core.configPoke(ep, 0x04, 2, 0x0400)).toBe(1); // nothing new; the event is still queued
    expect(core.irqDrain()).toEqual([{ kind: 1, slot: -1, gsi: 10, level: 0, address: 0, addressHigh: 0, data: 0 }]);
    expect(core.configPoke(ep, 0x04, 2, 0x0000)).toBe(1);
  });
});

// ---- Differential ------------------------------------------------------------------------------

interface Node { bridge: boolean; dev: number; children: Node[] }

const nodeArb: fc.Memo<Node> = fc.memo((depth) =>
  fc.record({
    bridge: depth > 1 ? fc.boolean() : fc.constant(false),
    dev: fc.nat(3),
    children: depth > 1 ? fc.array(nodeArb(depth - 1), { maxLength: 2 }) : fc.constant<Node[]>([]),
  }).map((n): Node => ({ ...n, children: n.bridge ? [...n.children] : [] })));

const BRIDGE = buildPlanes(pciBridge());
const EP_PLANES = [endpointPlanes(false), endpointPlanes(true)];

function build(core: CoreBackend, roots: Node[]): number[] {
  const slots: number[] = [];
  const add = (n: Node, parent: number) => {
    const p = n.bridge ? BRIDGE : EP_PLANES[n.dev & 1];
    const slot = parent < 0 ? core.addFunction(0, 0, n.dev, 0, p.size) : core.addFunctionBelow(parent, n.dev, 0, p.size);
    if (slot < 0) return;
    core.loadPlanes(slot, p.config, p.wmask, p.w1cmask);
    slots.push(slot);
    for (const c of n.children) add(c, slot);
  };
  for (const r of roots) add(r, -1);
  for (const s of slots) core.barAttach(s);
  return slots;
}

/** Firmware-like start: bus numbers, open windows, decode and bus mastering, distinct BAR addresses. */
function program(core: CoreBackend, slots: number[]): void {
  let next = 1;
  let addr = 0x80000000;
  let io = 0x1000;
  const w = (slot: number, reg: number, size: number, value: number) => {
    const a = core.slotAddress(slot);
    if (a >= 0) core.configWrite(0, (a >> 8) & 0xff, (a >> 3) & 0x1f, a & 7, reg, size, value);
  };
  const visit = (slot: number, primary: number) => {
    if (core.barInfo(slot, 1).kind === 1) {
      w(slot, 0x10, 4, addr); addr += 0x1000;
      w(slot, 0x14, 4, io); io += 0x10;
      w(slot, 0x30, 4, (addr + 0x10000) | 1); addr += 0x1000;
      w(slot, 0x04, 2, 7);
      return;
    }
    const secondary = next++;
    w(slot, 0x18, 4, primary | (secondary << 8) | (0xff << 16));
    for (const child of slots.filter((s) => core.slotParent(s) === slot)) visit(child, secondary);
    w(slot, 0x1a, 1, next - 1);
    w(slot, 0x1c, 2, 0xf000);
    w(slot, 0x20, 4, 0xfff00000);
    w(slot, 0x04, 2, 7);
  };
  for (const s of slots.filter((x) => core.slotParent(x) < 0)) visit(s, 0);
}

const stepArb = fc.record({
  poke: fc.boolean(),
  target: fc.nat(20),
  reg: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(PMCSR, PMCSR + 1, PMC) },
    { weight: 4, arbitrary: fc.constantFrom(0x04, 0x06, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x30, 0x38, 0x19, 0x1a, 0x00, 0x34) },
  ),
  size: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 4) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 8, -1) }),
  value: fc.oneof(
    { weight: 2, arbitrary: fc.nat(3) },
    { weight: 1, arbitrary: fc.constantFrom(0x0008, 0x0103, 0x8003, 0x0101, 0x0102, 0x0600, 7, 0, 0xffffffff, 0x00010100, 0xfff00000, 0x80000000) },
    { weight: 1, arbitrary: fc.nat(0xffffffff) },
  ),
  // Offsets that are not where the generator aimed: dword crossings, past the space.
  skew: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2, 3, 0x100, 0x1000) }),
});

function observe(core: CoreBackend, slots: number[]): unknown {
  return slots.map((s) => ({
    address: core.slotAddress(s),
    bars: [0, 1, 2, 6].map((b) => core.barInfo(s, b)),
    pmcsr: core.planeByte(s, 0, PMCSR) | (core.planeByte(s, 0, PMCSR + 1) << 8),
    command: core.planeByte(s, 0, 4),
    dma: core.dma.dmaTranslate(s, 0x1000, 16, DIR_READ),
    bytes: Array.from({ length: 0x50 }, (_, i) => core.planeByte(s, 0, i)),
  }));
}

describe('power management differential', () => {
  test('random guest writes and pokes (PMCSR included) give both cores the same mappings, reads, effects and DMA gating', async () => {
    let lowPower = 0;
    let mappedInD0 = 0;
    let pmMoves = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(nodeArb(3), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(stepArb, { maxLength: 60, size: 'max' }), async (roots, firmware, steps) => {
        const cores: CoreBackend[] = [await loadWasmCore(), new TsCore()];
        const slotLists = cores.map((c) => build(c, roots));
        expect(slotLists[0]).toEqual(slotLists[1]);
        const slots = slotLists[0];
        for (const c of cores) {
          c.dma.ramAdd(0, 0x10000, 1);
          if (firmware) program(c, slots);
        }
        expect(observe(cores[0], slots)).toEqual(observe(cores[1], slots));
        for (const st of steps) {
          if (slots.length === 0) break;
          const slot = slots[st.target % slots.length];
          const reg = st.reg + st.skew;
          const results = cores.map((c) => {
            if (st.poke) return c.configPoke(slot, reg, st.size, st.value);
            const a = c.slotAddress(slot);
            return a >= 0 ? c.configWrite(0, (a >> 8) & 0xff, (a >> 3) & 0x1f, a & 7, reg, st.size, st.value) : -100;
          });
          expect(results[0]).toBe(results[1]);
          expect(observe(cores[0], slots)).toEqual(observe(cores[1], slots));
          const effects = cores[0].effectsDrain();
          expect(effects).toEqual(cores[1].effectsDrain());
          if (reg >= PMCSR && reg < PMCSR + 4 && effects.length > 0) pmMoves++;
          expect(cores[0].irqDrain()).toEqual(cores[1].irqDrain());
          for (const s of slots) {
            const ps = cores[1].planeByte(s, 0, PMCSR) & 3;
            if (ps !== 0) lowPower++;
            else if (cores[1].barInfo(s, 0).mapped) mappedInD0++;
          }
        }
        // A save/load round trip between the cores keeps everything observable.
        const state = cores[0].saveState();
        const fresh = new TsCore();
        build(fresh, roots); // internal RAM comes with the state
        expect(fresh.loadState(state)).toBe(Status.OK);
        expect(observe(fresh, slots)).toEqual(observe(cores[0], slots));
      }),
      { numRuns: 120, seed: 0x9e1 },
    );
    // The generator must reach the interesting states, or the comparison proves little.
    expect(lowPower).toBeGreaterThan(800);
    expect(mappedInD0).toBeGreaterThan(400);
    expect(pmMoves).toBeGreaterThan(25);
  });
});
