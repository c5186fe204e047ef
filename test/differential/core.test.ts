// Property tests on the two cores directly (below the topology layer):
//  - the write rule: for random planes loaded with addFunction + loadPlanes (wmask & w1c
//    disjoint), every write gives exactly ((o & ~w) | (v & w)) & ~(v & c) on each byte it
//    covers, and nothing else changes — in both cores;
//  - random sequences of every core entry point (including adding/removing functions, ECAM
//    windows anywhere below 2^64 and hostile numbers) give identical results in both cores.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadWasmCore } from '../../bindings/load.js';
import type { CoreBackend, RawIrqEvent } from '../../src/core/backend.js';
import { TsCore } from '../../src/core/ts/ts-core.js';

async function cores(): Promise<CoreBackend[]> {
  return [await loadWasmCore(), new TsCore()];
}

const planesArb = fc.record({
  size: fc.constantFrom(256, 4096),
  seed: fc.nat(),
  density: fc.constantFrom(0, 0x0f, 0x55, 0xff, -1),
}).map(({ size, seed, density }) => {
  // Deterministic pseudo-random planes (generating 3 x 4096 bytes through fast-check is slow).
  let x = seed | 1;
  const next = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
  const config = new Uint8Array(size);
  const wmask = new Uint8Array(size);
  const w1c = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    config[i] = next() & 0xff;
    const w = density < 0 ? next() & 0xff : density;
    wmask[i] = w === 0x55 ? next() & 0xff : w;
    w1c[i] = next() & 0xff & ~wmask[i];
  }
  return { size, config, wmask, w1c };
});

const writeArb = fc.record({
  reg: fc.oneof({ weight: 6, arbitrary: fc.nat(0xff) }, { weight: 2, arbitrary: fc.nat(0x1007) }),
  size: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 4) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 8, -1) }),
  value: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 0xffffffff)),
});

describe('core write rule', () => {
  test('each byte of a write becomes ((o & ~w) | (v & w)) & ~(v & c); nothing else changes (both cores)', async () => {
    await fc.assert(
      fc.asyncProperty(
        planesArb,
        fc.record({ seg: fc.nat(15), bus: fc.nat(255), dev: fc.nat(31), fn: fc.nat(7) }),
        fc.array(writeArb, { minLength: 1, maxLength: 200, size: 'max' }),
        async (p, at, writes) => {
          for (const core of await cores()) {
            const slot = core.addFunction(at.seg, at.bus, at.dev, at.fn, p.size);
            expect(slot, core.kind).toBe(0);
            expect(core.loadPlanes(slot, p.config, p.wmask, p.w1c)).toBe(0);
            const model = new Uint8Array(p.config);
            // A lone function 0 is single-function: the core clears Header Type bit 7.
            if (at.fn === 0) model[0x0e] &= 0x7f;
            for (const { reg, size, value } of writes) {
              core.configWrite(at.seg, at.bus, at.dev, at.fn, reg, size, value);
              if ((size === 1 || size === 2 || size === 4) && (reg & 3) + size <= 4 && reg < p.size) {
                for (let i = 0; i < size; i++) {
                  const o = model[reg + i];
                  const v = (value >>> (8 * i)) & 0xff;
                  model[reg + i] = ((o & ~p.wmask[reg + i]) | (v & p.wmask[reg + i])) & ~(v & p.w1c[reg + i]) & 0xff;
                }
              }
              const lane = reg & ~3;
              if (lane < p.size) {
                const want = (model[lane] | (model[lane + 1] << 8) | (model[lane + 2] << 16) | (model[lane + 3] << 24)) >>> 0;
                const got = core.configRead(at.seg, at.bus, at.dev, at.fn, lane, 4);
                if (got !== want) {
                  throw new Error(`${core.kind}: after write ${size}@0x${reg.toString(16)} = 0x${value.toString(16)}: dword 0x${lane.toString(16)} is 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
                }
              }
            }
            for (let i = 0; i < p.size; i++) {
              const got = core.planeByte(slot, 0, i);
              if (got !== model[i]) throw new Error(`${core.kind}: final byte 0x${i.toString(16)} is 0x${got.toString(16)}, expected 0x${model[i].toString(16)}`);
              if (core.configRead(at.seg, at.bus, at.dev, at.fn, i, 1) !== model[i]) throw new Error(`${core.kind}: configRead byte 0x${i.toString(16)}`);
              if (core.planeByte(slot, 1, i) !== p.wmask[i] || core.planeByte(slot, 2, i) !== p.w1c[i]) {
                throw new Error(`${core.kind}: masks changed at 0x${i.toString(16)}`);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

type CoreOp =
  | { op: 'add'; seg: number; bus: number; dev: number; fn: number; size: number }
  | { op: 'remove'; slot: number }
  | { op: 'load'; slot: number; planes: number; len: number }
  | { op: 'planeByte'; slot: number; plane: number; offset: number }
  | { op: 'setEcam'; seg: number; base: number; busStart: number; busEnd: number }
  | { op: 'configRead'; seg: number; bus: number; dev: number; fn: number; reg: number; size: number }
  | { op: 'configWrite'; seg: number; bus: number; dev: number; fn: number; reg: number; size: number; value: number }
  | { op: 'configPoke'; slot: number; reg: number; size: number; value: number }
  | { op: 'mmioRead'; addr: number; size: number }
  | { op: 'mmioWrite'; addr: number; size: number; value: number; high: number }
  | { op: 'ioRead'; port: number; size: number }
  | { op: 'ioWrite'; port: number; size: number; value: number }
  | { op: 'addBelow'; bridge: number; dev: number; fn: number; size: number }
  | { op: 'where'; slot: number }
  | { op: 'barAttach'; slot: number }
  | { op: 'irqAttach'; slot: number }
  | { op: 'intxSet'; slot: number; level: number }
  | { op: 'intxRoute'; seg: number; device: number; pin: number; gsi: number }
  | { op: 'signal'; msix: boolean; slot: number; vector: number }
  | { op: 'lineLevel'; gsi: number }
  | { op: 'irqDrain' };

const HOSTILE = [NaN, Infinity, -Infinity, -1, -0.5, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 64, -(2 ** 31), 1e300];
const small = (max: number) => fc.oneof({ weight: 12, arbitrary: fc.nat(max) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) });
const anySize = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(1, 2, 4, 8) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, -1, ...HOSTILE) });
const u32 = fc.oneof({ weight: 8, arbitrary: fc.nat(0xffffffff) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) });
// Window bases: 1 MiB multiples low and high in the 64-bit space (up to its very top), and junk.
const baseArb = fc.oneof(
  fc.nat(0xfff).map((k) => k * 0x100000),
  fc.bigInt({ min: 0n, max: 2n ** 44n - 1n }).map((k) => Number(k << 20n)),
  fc.nat(255).map((k) => 2 ** 64 - (k + 1) * 0x100000),
  fc.constantFrom(0x80000, 2 ** 64, ...HOSTILE),
);

function coreOpsArb(): fc.Arbitrary<CoreOp[]> {
  const op: fc.Arbitrary<CoreOp> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), seg: small(17), bus: fc.constantFrom(0, 1, 7, 0xff), dev: small(31), fn: small(7), size: fc.constantFrom(256, 4096, 256, 4096, 0, 100, 8192, ...HOSTILE) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), slot: small(8) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('load' as const), slot: small(8), planes: fc.nat(), len: fc.constantFrom(0, 16, 256, 4096, 5000) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('planeByte' as const), slot: small(8), plane: small(3), offset: small(4200) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('setEcam' as const), seg: small(17), base: baseArb, busStart: small(255), busEnd: small(256) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('configRead' as const), seg: small(3), bus: fc.constantFrom(0, 1, 7, 0xff), dev: small(31), fn: small(7), reg: small(0x1003), size: anySize }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('configWrite' as const), seg: small(3), bus: fc.constantFrom(0, 1, 7, 0xff), dev: small(31), fn: small(7), reg: small(0x1003), size: anySize, value: u32 }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('configPoke' as const), slot: small(8), reg: small(0x1003), size: anySize, value: u32 }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('mmioRead' as const), addr: fc.oneof(baseArb, fc.tuple(baseArb, fc.nat(0x1ffffff)).map(([b, o]) => b + o)), size: anySize }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('mmioWrite' as const), addr: fc.oneof(baseArb, fc.tuple(baseArb, fc.nat(0x1ffffff)).map(([b, o]) => b + o)), size: anySize, value: u32, high: u32 }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('ioRead' as const), port: fc.oneof(fc.integer({ min: 0xcf6, max: 0xd01 }), fc.constantFrom(...HOSTILE)), size: anySize }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('ioWrite' as const), port: fc.oneof(fc.integer({ min: 0xcf6, max: 0xd01 }), fc.constantFrom(...HOSTILE)), size: anySize, value: u32 }) },
    // Bridges and interrupts: random planes make random headers and capability chains.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('addBelow' as const), bridge: small(8), dev: small(31), fn: small(7), size: fc.constantFrom(256, 4096, 0, ...HOSTILE) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('where' as const), slot: small(8) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('barAttach' as const), slot: small(8) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('irqAttach' as const), slot: small(8) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('intxSet' as const), slot: small(8), level: small(2) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('intxRoute' as const), seg: small(17), device: small(33), pin: small(5), gsi: fc.oneof(small(1100), fc.constant(0xffff)) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('signal' as const), msix: fc.boolean(), slot: small(8), vector: small(2100) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('lineLevel' as const), gsi: small(1100) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('irqDrain' as const) }) },
  );
  return fc.array(op, { maxLength: 300, size: 'max' });
}

/** Planes derived from a seed (same bytes for both cores). */
function seededPlanes(seed: number, len: number): [Uint8Array, Uint8Array, Uint8Array] {
  let x = seed | 1;
  const next = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x & 0xff;
  };
  const c = new Uint8Array(len);
  const w = new Uint8Array(len);
  const k = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    c[i] = next();
    w[i] = next();
    k[i] = next() & ~w[i];
  }
  return [c, w, k];
}

function applyCore(core: CoreBackend, o: CoreOp): number | undefined {
  switch (o.op) {
    case 'add': return core.addFunction(o.seg, o.bus, o.dev, o.fn, o.size);
    case 'remove': return core.removeFunction(o.slot);
    case 'load': {
      const [c, w, k] = seededPlanes(o.planes, o.len);
      return core.loadPlanes(o.slot, c, w, k);
    }
    case 'planeByte': return core.planeByte(o.slot, o.plane, o.offset);
    case 'setEcam': return core.setEcam(o.seg, o.base, o.busStart, o.busEnd);
    case 'configRead': return core.configRead(o.seg, o.bus, o.dev, o.fn, o.reg, o.size);
    case 'configWrite': return core.configWrite(o.seg, o.bus, o.dev, o.fn, o.reg, o.size, o.value);
    case 'configPoke': return core.configPoke(o.slot, o.reg, o.size, o.value);
    case 'mmioRead': return core.mmioRead(o.addr, o.size) * 2 ** 32 + core.mmioReadHigh();
    case 'mmioWrite': return core.mmioWrite(o.addr, o.size, o.value, o.high);
    case 'ioRead': return core.ioRead(o.port, o.size);
    case 'ioWrite': return core.ioWrite(o.port, o.size, o.value);
    case 'addBelow': return core.addFunctionBelow(o.bridge, o.dev, o.fn, o.size);
    case 'where': return core.slotAddress(o.slot) * 8192 + (core.slotParent(o.slot) + 1);
    case 'barAttach': return core.barAttach(o.slot);
    case 'irqAttach': return core.irqAttach(o.slot);
    case 'intxSet': return core.intxSet(o.slot, o.level);
    case 'intxRoute': return core.intxRoute(o.seg, o.device, o.pin, o.gsi) * 65536 + core.intxRouteOf(o.seg, o.device, o.pin);
    case 'signal': return o.msix ? core.msixSignal(o.slot, o.vector) : core.msiSignal(o.slot, o.vector);
    case 'lineLevel': return core.lineLevel(o.gsi);
    case 'irqDrain': return hashEvents(core.irqDrain());
  }
}

/** A number standing for a drained event list, so results compare with Object.is. */
function hashEvents(events: RawIrqEvent[]): number {
  let h = events.length;
  for (const e of events) {
    for (const v of [e.kind, e.slot, e.gsi, e.level, e.address, e.addressHigh, e.data]) h = (Math.imul(h, 31) + (v | 0)) | 0;
  }
  return h;
}

describe('core entry points', () => {
  test('random sequences of every core call give identical results in the Wasm and TypeScript cores', async () => {
    await fc.assert(
      fc.asyncProperty(coreOpsArb(), async (ops) => {
        const [wasm, ts] = await cores();
        // Some state to hit: a window and a function that accesses can reach.
        for (const core of [wasm, ts]) {
          core.setEcam(0, 0xb0000000, 0, 255);
          const slot = core.addFunction(0, 0, 1, 0, 4096);
          const [c, w, k] = seededPlanes(7, 4096);
          core.loadPlanes(slot, c, w, k);
        }
        const slots = new Set<number>([0]);
        for (let i = 0; i < ops.length; i++) {
          const a = applyCore(wasm, ops[i]);
          const b = applyCore(ts, ops[i]);
          if (!Object.is(a, b)) {
            throw new Error(`op ${i} ${JSON.stringify(ops[i], (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}: wasm ${a} vs ts ${b}`);
          }
          if (ops[i].op === 'add' && typeof a === 'number' && a >= 0) slots.add(a);
        }
        for (const slot of slots) {
          for (let plane = 0; plane < 3; plane++) {
            for (let off = 0; off < 4096; off += plane === 0 ? 1 : 5) {
              const a = wasm.planeByte(slot, plane, off);
              const b = ts.planeByte(slot, plane, off);
              if (a !== b) throw new Error(`final plane ${plane} byte 0x${off.toString(16)} of slot ${slot}: wasm ${a} vs ts ${b}`);
            }
          }
        }
        if (wasm.ioRead(0xcf8, 4) !== ts.ioRead(0xcf8, 4)) throw new Error('final 0xCF8 latch differs');
      }),
      { numRuns: 300 },
    );
  });

  test('ECAM windows up to the top of the decodable MMIO space (2^52) decode the same in both cores', async () => {
    const [wasm, ts] = await cores();
    const top = 2 ** 52 - 0x100000; // the last 1 MiB below 2^52
    for (const core of [wasm, ts]) {
      expect(core.setEcam(3, top, 9, 9), `${core.kind}: a window ending exactly at 2^52`).toBe(0);
      expect(core.setEcam(4, top, 9, 10), `${core.kind}: a window past 2^52`).toBe(-1);
      expect(core.setEcam(5, 2 ** 64 - 0x100000, 0, 0), `${core.kind}: a window near 2^64`).toBe(-1);
      const slot = core.addFunction(3, 9, 31, 7, 256);
      const cfg = new Uint8Array(256);
      cfg.set([0x11, 0x22, 0x33, 0x44]);
      core.loadPlanes(slot, cfg, new Uint8Array(256), new Uint8Array(256));
    }
    for (const addr of [top + 31 * 0x8000 + 7 * 0x1000, top + 31 * 0x8000 + 7 * 0x1000 + 2048, top - 2048, 2 ** 52, 2 ** 64]) {
      expect(wasm.mmioRead(addr, 4), `0x${addr.toString(16)}`).toBe(ts.mmioRead(addr, 4));
    }
    expect(wasm.mmioRead(top + 31 * 0x8000 + 7 * 0x1000, 4)).toBe(0x44332211);
  });
});
