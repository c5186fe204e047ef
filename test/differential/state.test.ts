// Core state save and load (CoreBackend.saveState / loadState, src/core/state.ts): a random guest
// and embedder session runs half-way on both backends, whose saved states must be identical; the
// state then loads into a fresh core of either backend, and the rest of the session must give the
// same results there as on the core that was never interrupted: every return value, the drained
// doorbell events, BAR effects, interrupt events and DMA faults, the counters and statistics, and
// the final state. States that do not fit are refused with nothing changed.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { CoreBackend, HostAccess } from '../../src/core/backend.js';
import { Status } from '../../src/core/backend.js';
import type { CoreState } from '../../src/core/state.js';
import { readFaults, readSegments, runSegments } from '../../src/core/ts/dma/index.js';
import { defaultTopology, resolveTopology } from '../../src/topology/index.js';
import type { VpciWasmExports } from '../../bindings/wasm-core.js';
import { imageSize, writeImage } from '../../bindings/wasm-state.js';
import type { ResolvedTopology } from '../../src/topology/index.js';

type Backend = 'wasm' | 'ts';
const BACKENDS: Backend[] = ['wasm', 'ts'];

// Guest RAM of every world: the embedder's own region first (index 0, re-added before a load),
// then two regions the core holds (recreated by the load, contents included).
const EXT = { base: 0x80000000, size: 0x10000 };
const RAM = [{ base: 0, size: 0x400000 }, { base: 0x40000000, size: 0x10000 }];
const ECAM = 0xb0000000;

/** TypeScript device models, stateless so that only core state matters: some accesses fail. */
const host: HostAccess = (handle, write, offset, size, _lo, _hi, out) => {
  if (offset % 64 === 8 && handle % 3 === 1) throw new Error('model failure');
  if (!write) {
    out.lo = (Math.imul(handle + 1, 0x9e3779b1) ^ offset ^ size) >>> 0;
    out.hi = (offset * 3) >>> 0;
  }
};

interface World {
  backend: Backend;
  core: CoreBackend;
  /** The embedder's RAM (region 0). */
  ext: Uint8Array;
}

let topology: ResolvedTopology;
/** What the random session can aim at, from a fresh core's state. */
let FUNCS: number[];
let BARS: { slot: number; bar: number; kind: number; size: number }[];
let MSI: { slot: number; cap: number }[];
let MSIX: { slot: number; cap: number }[];
let BRIDGES: number[];

beforeAll(async () => {
  topology = await resolveTopology(defaultTopology);
  const s = (await world('ts', false)).core.saveState();
  FUNCS = s.functions.map((f) => f.slot);
  BARS = s.dispatch.bars.filter((b) => b.kind !== 5).map(({ slot, bar, kind, size }) => ({ slot, bar, kind, size }));
  MSI = s.interrupts.functions.filter((f) => f.msiCap !== 0).map((f) => ({ slot: f.slot, cap: f.msiCap }));
  MSIX = s.interrupts.functions.filter((f) => f.msixCap !== 0).map((f) => ({ slot: f.slot, cap: f.msixCap }));
  BRIDGES = s.functions.filter((f) => (f.config[0x0e] & 0x7f) === 1).map((f) => f.slot);
});

/**
 * A bus of the default topology with stateless host models, the embedder's handlers (a register
 * file, doorbells at fixed places and over a BAR) and the embedder's RAM; `internalRam` adds the
 * core's RAM (a fresh core that is to load a state needs none: the state brings it).
 */
async function world(backend: Backend, internalRam = true): Promise<World> {
  const bus = await createBus({ backend, topology: topology ?? defaultTopology });
  const core = bus.core;
  core.hostAccess = host;
  const mask = new Uint8Array(64).map((_, i) => (i % 3 === 0 ? 0xff : i % 3 === 1 ? 0x0f : 0));
  const file = core.regfileCreate(64, new Uint8Array(64).map((_, i) => i * 5), mask);
  expect(core.addRegion(0, 0xf0000000, 64, 100, 5, file)).toBeGreaterThan(0);
  const bell = core.doorbellCreate();
  expect(core.addRegion(0, 0xf0001000, 0x100, 100, 6, bell)).toBeGreaterThan(0);
  expect(core.addRegion(1, 0x80, 4, 100, 6, core.doorbellCreate())).toBeGreaterThan(0);
  expect(core.barHandler(1, 0, 0x100, 0x100, 6, bell)).toBeGreaterThan(0);
  expect(core.dma.ramAdd(EXT.base, EXT.size, 0)).toBe(0);
  if (internalRam) for (const r of RAM) expect(core.dma.ramAdd(r.base, r.size, 1)).toBeGreaterThan(0);
  return { backend, core, ext: new Uint8Array(EXT.size) };
}

// ---- The session --------------------------------------------------------------------------------

type Op =
  | { t: 'cfgw'; f: number; reg: number; cap: number; size: number; value: number; via: number }
  | { t: 'cfgr'; f: number; reg: number; size: number; via: number }
  | { t: 'bar'; b: number; choice: number; mode: number }
  | { t: 'cmd'; f: number; value: number }
  | { t: 'busnum'; b: number; sec: number; sub: number }
  | { t: 'window'; b: number; reg: number; value: number }
  | { t: 'mmio'; b: number; offset: number; size: number; write: boolean; value: number; high: number }
  | { t: 'fixed'; addr: number; size: number; write: boolean; value: number }
  | { t: 'io'; port: number; size: number; write: boolean; value: number }
  | { t: 'msixEntry'; f: number; entry: number; field: number; size: number; value: number }
  | { t: 'intx'; f: number; level: number }
  | { t: 'route'; device: number; pin: number; gsi: number }
  | { t: 'msi'; f: number; vector: number }
  | { t: 'msix'; f: number; vector: number }
  | { t: 'dcreate'; type: number }
  | { t: 'ddestroy'; id: number }
  | { t: 'dmap'; id: number; iova: number; gpa: number; size: number; perms: number }
  | { t: 'dunmap'; id: number; iova: number; size: number }
  | { t: 'attach'; f: number; domain: number }
  | { t: 'dma'; f: number; dir: number; iova: number; len: number; off: number }
  | { t: 'sg'; f: number; dir: number; elems: { iova: number; len: number }[] }
  | { t: 'translate'; f: number; dir: number; iova: number; len: number }
  | { t: 'drain' }
  | { t: 'invalid' }
  | { t: 'macroBars'; choice: number }
  | { t: 'macroMsix'; f: number; fmask: boolean; unmask: number }
  | { t: 'macroMsi'; f: number; mme: number; mask: number }
  | { t: 'macroDma'; f: number; split: number };

const IOVAS = [
  0, 0x1000, 0x1ff000, 0x200000, 0x201000, 0x3ff000, 0x400000, 0x600000, 0x601000, 0x800000, 0x807000, 0x40000000, 0x40100000,
  0x80000000, 0x8000f000, 0x90000000,
];
/** Functions DMA ops act for (on the root bus, so their own Bus Master Enable decides). */
const DMA_FUNCS = [1, 3, 4, 9];
const MAP_IOVAS = [0, 0x1000, 0x200000, 0x201000, 0x400000, 0x600000, 0x40000000, 0x7ff000];
const MAP_GPAS = [0, 0x1000, 0x200000, 0x3ff000, 0x40000000, 0x40100000, 0x80000000, 0x80008000, 0x90000000];
const MAP_SIZES = [0x1000, 0x2000, 0x10000, 0x200000, 0x400000];
const VALUES = [0, 1, 3, 7, 0x407, 0x8000, 0xc000, 0x4000, 0x10001, 0x71, 0x181, 0xffff, 0xffffffff, 0x80000000];

const u32 = fc.oneof(fc.constantFrom(...VALUES), fc.nat(0xffffffff));
const size4 = fc.constantFrom(1, 2, 4);

function opArb(): fc.Arbitrary<Op> {
  const f = fc.nat(63);
  const b = fc.nat(63);
  // Interrupt and DMA ops pick among a few functions, so that enabling, signalling and
  // transfers meet the same function often.
  const g = fc.nat(2);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('cfgw' as const), f, reg: fc.oneof(fc.constantFrom(4, 6, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30, 0x3c), fc.nat(0xff)), cap: fc.constantFrom(-1, 0, 2, 4, 8, 12, 16, 20), size: size4, value: u32, via: fc.nat(2) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('cfgr' as const), f, reg: fc.nat(0xff), size: size4, via: fc.nat(2) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('bar' as const), b, choice: fc.nat(3), mode: fc.nat(3) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('cmd' as const), f, value: fc.constantFrom(0, 3, 7, 0x403, 0x407, 6, 2) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('busnum' as const), b, sec: fc.integer({ min: 1, max: 3 }), sub: fc.constantFrom(1, 2, 3, 5) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('window' as const), b, reg: fc.constantFrom(0x1c, 0x20, 0x24), value: fc.constantFrom(0xf000f000, 0xfff0c000, 0x0000ffff, 0x1ff11001, 0) }) },
    { weight: 8, arbitrary: fc.record({ t: fc.constant('mmio' as const), b, offset: fc.nat(0x4000), size: fc.constantFrom(1, 2, 4, 8), write: fc.boolean(), value: u32, high: u32 }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('fixed' as const), addr: fc.constantFrom(0xf0000000, 0xf0000020, 0xf000003e, 0xf0001000, 0xf00010f8, ECAM + 0x8000, ECAM + 0x10004, 0xfee00000), size: fc.constantFrom(1, 2, 4, 8), write: fc.boolean(), value: u32 }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('io' as const), port: fc.constantFrom(0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x80, 0x82, 0x1000, 0x2000), size: fc.constantFrom(1, 2, 4, 3), write: fc.boolean(), value: fc.oneof(fc.constantFrom(0x80000000, 0x80000804, 0x80001804, 0x80002004, 0x80001810, 0x80000010, 0x80002810, 0x80010000), u32) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('msixEntry' as const), f: g, entry: fc.nat(7), field: fc.nat(3), size: fc.constantFrom(4, 8, 2), value: fc.oneof(fc.constantFrom(0, 1, 0xfee00000, 0x4021), u32) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('intx' as const), f, level: fc.nat(1) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('route' as const), device: fc.nat(8), pin: fc.integer({ min: 1, max: 4 }), gsi: fc.constantFrom(5, 9, 10, 11, 16, 0xffff) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('msi' as const), f: g, vector: fc.nat(3) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('msix' as const), f: g, vector: fc.nat(7) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('dcreate' as const), type: fc.constantFrom(0, 1, 2, 2, 2) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('ddestroy' as const), id: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('dmap' as const), id: fc.integer({ min: 1, max: 4 }), iova: fc.constantFrom(...MAP_IOVAS), gpa: fc.constantFrom(...MAP_GPAS), size: fc.constantFrom(...MAP_SIZES), perms: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('dunmap' as const), id: fc.integer({ min: 1, max: 4 }), iova: fc.constantFrom(...MAP_IOVAS), size: fc.constantFrom(...MAP_SIZES) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('attach' as const), f: g, domain: fc.nat(4) }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant('dma' as const), f: g, dir: fc.nat(1), iova: fc.constantFrom(...IOVAS), len: fc.constantFrom(1, 4, 64, 4096, 5000, 0x3000), off: fc.nat(0xfff) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('sg' as const), f: g, dir: fc.nat(1), elems: fc.array(fc.record({ iova: fc.constantFrom(...IOVAS), len: fc.constantFrom(0, 8, 4096, 0x1800) }), { minLength: 1, maxLength: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('translate' as const), f: g, dir: fc.nat(1), iova: fc.constantFrom(...IOVAS), len: fc.constantFrom(1, 4096, 0x3000) }) },
    { weight: 2, arbitrary: fc.constant({ t: 'drain' as const }) },
    { weight: 1, arbitrary: fc.constant({ t: 'invalid' as const }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('macroBars' as const), choice: fc.nat(3) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('macroMsix' as const), f: g, fmask: fc.boolean(), unmask: fc.nat(15) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('macroMsi' as const), f: g, mme: fc.nat(3), mask: fc.nat(15) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('macroDma' as const), f: g, split: fc.nat(2) }) },
  );
}

/** Where a config cycle reaches `slot` now: [seg, bus, dev, fn], or undefined. */
function where(core: CoreBackend, slot: number): [number, number, number, number] | undefined {
  const a = core.slotAddress(slot);
  return a < 0 ? undefined : [a >>> 16, (a >>> 8) & 0xff, (a >>> 3) & 0x1f, a & 7];
}

/** A config write by one of the three mechanisms (direct, ECAM, 0xCF8/0xCFC). */
function cfgWrite(core: CoreBackend, slot: number, reg: number, size: number, value: number, via = 0): unknown {
  const a = where(core, slot);
  if (a === undefined) return 'unreachable';
  const [seg, bus, dev, fn] = a;
  if (via === 1) return core.mmioWrite(ECAM + bus * 0x100000 + dev * 0x8000 + fn * 0x1000 + reg, size, value, 0);
  if (via === 2) {
    core.ioWrite(0xcf8, 4, (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
    return core.ioWrite(0xcfc + (reg & 3), size, value);
  }
  return core.configWrite(seg, bus, dev, fn, reg, size, value);
}

function cfgRead(core: CoreBackend, slot: number, reg: number, size: number, via = 0): unknown {
  const a = where(core, slot);
  if (a === undefined) return 'unreachable';
  const [seg, bus, dev, fn] = a;
  if (via === 1) return [core.mmioRead(ECAM + bus * 0x100000 + dev * 0x8000 + fn * 0x1000 + reg, size), core.mmioReadHigh()];
  if (via === 2) {
    core.ioWrite(0xcf8, 4, (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
    return core.ioRead(0xcfc + (reg & 3), size);
  }
  return core.configRead(seg, bus, dev, fn, reg, size);
}

function plane32(core: CoreBackend, slot: number, reg: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + core.planeByte(slot, 0, reg + i);
  return v;
}

function fnv(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function drain(core: CoreBackend): unknown {
  const n = core.dma.dmaFaultsDrain(0xffffffff);
  return { events: core.eventsDrain(), effects: core.effectsDrain(), irq: core.irqDrain(), faults: readFaults(core.dma.dmaFaultArea(), n) };
}

function bases(kind: number, size: number): number[] {
  const align = (x: number) => Math.floor(x / size) * size;
  if (kind === 1) return [0x1000, 0x2000, 0xc000, 0xe000].map(align);
  if (kind === 3) return [0x100000000, 0x800000000, 0x4000000000, 0xc0000000].map(align);
  return [0xc0000000, 0xd0000000, 0xe0000000, 0xfe000000].map(align);
}

function run(w: World, o: Op, index: number): unknown {
  const core = w.core;
  const dma = core.dma;
  switch (o.t) {
    case 'cfgw': {
      const slot = FUNCS[o.f % FUNCS.length];
      const caps = [...MSI, ...MSIX].filter((c) => c.slot === slot);
      const reg = o.cap >= 0 && caps.length > 0 ? caps[o.f % caps.length].cap + o.cap : o.reg;
      return cfgWrite(core, slot, reg, o.size, o.value, o.via);
    }
    case 'cfgr': return cfgRead(core, FUNCS[o.f % FUNCS.length], o.reg, o.size, o.via);
    case 'bar': {
      const b = BARS[o.b % BARS.length];
      const base = bases(b.kind, b.size)[o.choice];
      const reg = b.bar === 6 ? (BRIDGES.includes(b.slot) ? 0x38 : 0x30) : 0x10 + b.bar * 4;
      if (b.kind === 3) {
        // mode 0: lower then upper (Linux's order); 1: lower only (staged); 2: upper only; 3: upper then lower.
        const lo = base % 0x100000000;
        const hi = Math.floor(base / 0x100000000);
        if (o.mode !== 2 && o.mode !== 3) cfgWrite(core, b.slot, reg, 4, lo);
        if (o.mode !== 1) cfgWrite(core, b.slot, reg + 4, 4, hi);
        if (o.mode === 3) cfgWrite(core, b.slot, reg, 4, lo);
        return core.barInfo(b.slot, b.bar);
      }
      cfgWrite(core, b.slot, reg, 4, b.kind === 4 ? base | (o.mode & 1) : base);
      return core.barInfo(b.slot, b.bar);
    }
    case 'cmd': return cfgWrite(core, FUNCS[o.f % FUNCS.length], 4, 2, o.value);
    case 'busnum': return cfgWrite(core, BRIDGES[o.b % BRIDGES.length], 0x18, 4, (o.sub << 16) | (o.sec << 8));
    case 'window': return cfgWrite(core, BRIDGES[o.b % BRIDGES.length], o.reg, 4, o.value);
    case 'mmio': {
      const b = BARS[o.b % BARS.length];
      const info = core.barInfo(b.slot, b.bar);
      const offset = o.offset % b.size;
      if (b.kind === 1) {
        const port = info.mapped ? info.base + offset : 0x3000 + offset;
        const size = o.size === 8 ? 4 : o.size;
        return o.write ? core.ioWrite(port, size, o.value) : core.ioRead(port, size);
      }
      const addr = info.mapped ? info.base + offset : 0xf8000000 + offset;
      if (o.write) return core.mmioWrite(addr, o.size, o.value, o.high);
      return [core.mmioRead(addr, o.size), core.mmioReadHigh()];
    }
    case 'fixed':
      if (o.write) return core.mmioWrite(o.addr, o.size, o.value, o.value ^ 0x5a5a5a5a);
      return [core.mmioRead(o.addr, o.size), core.mmioReadHigh()];
    case 'io':
      return o.write ? core.ioWrite(o.port, o.size, o.value) : core.ioRead(o.port, o.size);
    case 'msixEntry': {
      const m = MSIX[o.f % MSIX.length];
      const table = plane32(core, m.slot, m.cap + 4);
      const info = core.barInfo(m.slot, table & 7);
      if (!info.mapped) return 'unmapped';
      const addr = info.base + (table & ~7) + o.entry * 16 + o.field * 4;
      return core.mmioWrite(addr, o.size, o.value, o.field === 2 ? 1 : 0xfee00000);
    }
    case 'intx': return core.intxSet(FUNCS[o.f % FUNCS.length], o.level);
    case 'route': return core.intxRoute(0, o.device, o.pin, o.gsi);
    case 'msi': return core.msiSignal(MSI[o.f % MSI.length].slot, o.vector);
    case 'msix': return core.msixSignal(MSIX[o.f % MSIX.length].slot, o.vector);
    case 'dcreate': return dma.domainCreate(o.type);
    case 'ddestroy': return dma.domainDestroy(o.id);
    case 'dmap': return dma.domainMap(o.id, o.iova, o.gpa, o.size, o.perms);
    case 'dunmap': return dma.domainUnmap(o.id, o.iova, o.size);
    case 'attach': {
      const slot = DMA_FUNCS[o.f % DMA_FUNCS.length];
      return o.domain === 0 ? dma.dmaDetach(slot) : dma.dmaAttach(slot, o.domain);
    }
    case 'dma': {
      const slot = DMA_FUNCS[o.f % DMA_FUNCS.length];
      const buf = dma.dmaBuffer();
      if (o.dir === 1) for (let i = 0; i < o.len; i++) buf[o.off + i] = (i * 7 + index) & 0xff;
      const n = o.dir === 0 ? dma.dmaRead(slot, o.iova, o.len, o.off) : dma.dmaWrite(slot, o.iova, o.len, o.off);
      if (n > 0) runSegments(dma.dmaSegments(), n, o.dir, dma.dmaBuffer(), o.off, [w.ext]);
      return o.dir === 0 && n >= 0 ? [n, fnv(dma.dmaBuffer().subarray(o.off, o.off + o.len))] : n;
    }
    case 'sg': {
      const list = new DataView(dma.dmaSgList().buffer, dma.dmaSgList().byteOffset, 16 * o.elems.length);
      let total = 0;
      o.elems.forEach((e, i) => { list.setFloat64(i * 16, e.iova, true); list.setUint32(i * 16 + 8, e.len, true); total += e.len; });
      const buf = dma.dmaBuffer();
      if (o.dir === 1) for (let i = 0; i < total; i++) buf[i] = (i * 13 + index) & 0xff;
      const n = dma.dmaSg(slot0(o.f), o.elems.length, o.dir, 0);
      if (n > 0) runSegments(dma.dmaSegments(), n, o.dir, dma.dmaBuffer(), 0, [w.ext]);
      return o.dir === 0 && n >= 0 ? [n, fnv(dma.dmaBuffer().subarray(0, total))] : n;
    }
    case 'translate': {
      const n = dma.dmaTranslate(slot0(o.f), o.iova, o.len, o.dir);
      return n > 0 ? readSegments(dma.dmaSegments(), n) : n;
    }
    case 'drain': return drain(core);
    case 'invalid': core.countInvalid(); return undefined;
    case 'macroBars': {
      // Bus numbers and wide-open windows on the bridges, every BAR at a base, decode on everywhere.
      BRIDGES.forEach((b, i) => {
        cfgWrite(core, b, 0x18, 4, ((i + 1) << 16) | ((i + 1) << 8));
        cfgWrite(core, b, 0x1c, 2, 0xf000);
        cfgWrite(core, b, 0x20, 4, 0xfff00000);
        cfgWrite(core, b, 0x24, 4, 0xfff00000);
      });
      BARS.forEach((b, i) => run(w, { t: 'bar', b: i, choice: (o.choice + i) % 4, mode: i % 2 === 0 ? 0 : 2 }, index));
      return FUNCS.map((slot) => cfgWrite(core, slot, 4, 2, 0x7));
    }
    case 'macroMsix': {
      const m = MSIX[o.f % MSIX.length];
      const out = [cfgWrite(core, m.slot, m.cap + 2, 2, o.fmask ? 0xc000 : 0x8000)];
      for (let e = 0; e < 4; e++) {
        out.push(run(w, { t: 'msixEntry', f: o.f, entry: e, field: 0, size: 8, value: 0xfee00000 + e * 0x1000 }, index));
        out.push(run(w, { t: 'msixEntry', f: o.f, entry: e, field: 2, size: 4, value: 0x40 + e }, index));
        if ((o.unmask >> e) & 1) out.push(run(w, { t: 'msixEntry', f: o.f, entry: e, field: 3, size: 4, value: 0 }, index));
      }
      return out;
    }
    case 'macroMsi': {
      const m = MSI[o.f % MSI.length];
      const control = core.planeByte(m.slot, 0, m.cap + 2) | (core.planeByte(m.slot, 0, m.cap + 3) << 8);
      const is64 = (control & 0x80) !== 0;
      const out = [cfgWrite(core, m.slot, m.cap + 4, 4, 0xfee02000), cfgWrite(core, m.slot, m.cap + (is64 ? 12 : 8), 2, 0x60)];
      if (control & 0x100) out.push(cfgWrite(core, m.slot, m.cap + (is64 ? 16 : 12), 4, o.mask));
      out.push(cfgWrite(core, m.slot, m.cap + 2, 2, 1 | (o.mme << 4)));
      return out;
    }
    case 'macroDma': {
      // A translated domain: 2 MiB pages over the first 4 MiB of RAM (split 1: one split by an
      // unmap; 2: and the hole mapped again, 512 pages of 4 KiB where a fresh map would put one
      // 2 MiB page), 4 KiB pages elsewhere; a function attached to it with Bus Master Enable set.
      const slot = DMA_FUNCS[o.f % DMA_FUNCS.length];
      const id = dma.domainCreate(2);
      if (id < 0) return id;
      const out: unknown[] = [
        dma.domainMap(id, 0, 0, 0x400000, 3), dma.domainMap(id, 0x600000, 0x40000000, 0x10000, 1),
        dma.domainMap(id, 0x800000, 0x80000000, 0x8000, 3),
      ];
      if (o.split > 0) out.push(dma.domainUnmap(id, 0x1000, 0x1000));
      if (o.split > 1) out.push(dma.domainMap(id, 0x1000, 0x1000, 0x1000, 3));
      out.push(dma.dmaAttach(slot, id), cfgWrite(core, slot, 4, 2, 0x7));
      // Traffic: IOTLB misses, then hits.
      for (const iova of [0x600000, 0x1000, 0x600010, 0x1008, 0x200000]) out.push(dma.dmaRead(slot, iova, 8, 0));
      return out;
    }
  }
}

function slot0(f: number): number {
  return DMA_FUNCS[f % DMA_FUNCS.length];
}

/** Everything observable after a session (besides the results): drained queues, counters, memory. */
function observe(w: World): unknown {
  const core = w.core;
  const regions = [];
  for (let id = 1; id < 80; id++) regions.push(core.regionInfo(id));
  const lines = [];
  for (let gsi = 0; gsi < 24; gsi++) lines.push(core.lineLevel(gsi));
  const ram = [];
  for (let i = 0; i < 3; i++) {
    const bytes = core.dma.ramBytes(i);
    ram.push(bytes === undefined ? -1 : fnv(bytes));
  }
  return {
    drained: drain(core),
    counters: Array.from({ length: 9 }, (_, i) => core.counterValue(i)),
    dma: Array.from({ length: 6 }, (_, i) => core.dma.dmaCounter(i)),
    tables: core.dma.dmaTableCount(), iotlb: core.dma.dmaIotlbValid(), regions, lines, ram, ext: fnv(w.ext),
    readHigh: core.mmioReadHigh(), irqQueued: core.irqQueued(),
    bars: BARS.map((b) => core.barInfo(b.slot, b.bar)),
    domains: [0, 1, 2, 3, 4].map((d) => core.dma.domainType(d)),
    attached: FUNCS.map((s) => core.dma.dmaDomainOf(s)),
    addresses: FUNCS.map((s) => core.slotAddress(s)),
  };
}

// ---- Comparison -------------------------------------------------------------------------------

/** The first place two plain values differ (typed arrays by content), or undefined. */
function firstDiff(a: unknown, b: unknown, path = 'state'): string | undefined {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return `${path}: ${String(a)} vs ${String(b)}`;
    if (a.length !== b.length) return `${path}: ${a.length} bytes vs ${b.length}`;
    if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) return undefined;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${path}[${i}]: ${a[i]} vs ${b[i]}`;
    return undefined;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** Runs ops on every world; the results of world i must equal those of world ref[i]. */
function runAll(worlds: World[], ref: number[], ops: Op[], from = 0): string | undefined {
  for (let k = 0; k < ops.length; k++) {
    const results = worlds.map((w) => run(w, ops[k], from + k));
    for (let i = 0; i < worlds.length; i++) {
      const d = firstDiff(results[i], results[ref[i]], `op ${from + k} ${JSON.stringify(ops[k])}: ${worlds[i].backend}#${i} vs #${ref[i]}`);
      if (d) return d;
    }
  }
  return undefined;
}

/** What a fresh world holds after loading `state` (the embedder restores its own RAM itself). */
async function restored(backend: Backend, state: CoreState, from: World): Promise<World> {
  const w = await world(backend, false);
  const status = w.core.loadState(state);
  if (status !== Status.OK) throw new Error(`loadState into ${backend}: status ${status}`);
  w.ext.set(from.ext);
  return w;
}

/**
 * The property: prefix on both backends (saved states equal), load each into a fresh core of
 * each backend (loaded state equal to the saved one), suffix everywhere: results, observations
 * and final states equal to the uninterrupted core's.
 */
async function checkSession(prefix: Op[], suffix: Op[]): Promise<CoreState> {
  const src = [await world('wasm'), await world('ts')];
  const d1 = runAll(src, [0, 0], prefix);
  if (d1) throw new Error(`prefix: ${d1}`);
  const saved = src.map((w) => w.core.saveState());
  const d2 = firstDiff(saved[0], saved[1]);
  if (d2) throw new Error(`saved states differ between wasm and ts: ${d2}`);
  // 0: wasm, 1: ts (never interrupted); then wasm→wasm, wasm→ts, ts→wasm, ts→ts.
  const worlds = [...src];
  const ref = [0, 0];
  for (let from = 0; from < 2; from++) {
    for (const to of BACKENDS) {
      const w = await restored(to, saved[from], src[from]);
      const d = firstDiff(w.core.saveState(), saved[from]);
      if (d) throw new Error(`${src[from].backend} state loaded into ${to} reads back differently: ${d}`);
      worlds.push(w);
      ref.push(from);
    }
  }
  const d3 = runAll(worlds, ref, suffix, prefix.length);
  if (d3) throw new Error(`suffix: ${d3}`);
  const seen = worlds.map(observe);
  for (let i = 1; i < worlds.length; i++) {
    const d = firstDiff(seen[i], seen[ref[i]], `observed #${i}`);
    if (d) throw new Error(d);
  }
  const final = worlds.map((w) => w.core.saveState());
  for (let i = 1; i < worlds.length; i++) {
    const d = firstDiff(final[i], final[ref[i]], `final state #${i}`);
    if (d) throw new Error(d);
  }
  return saved[0];
}

describe('core state: saved half-way, loaded into a fresh core of either backend, continues identically', () => {
  test('random guest and embedder sessions (config, BARs, MMIO/IO, 0xCF8, MSI/MSI-X, INTx, DMA domains and transfers)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb(), { minLength: 20, maxLength: 120 }), fc.array(opArb(), { minLength: 10, maxLength: 80 }), async (prefix, suffix) => {
        await checkSession(prefix, suffix);
      }),
      { numRuns: 60 },
    );
  }, 300_000);
});

// ---- A scripted session: every part of the state holds something when it is saved ----------

/** BARS index of a function's BAR (the list skips upper halves). */
function barIndex(slot: number, bar: number): number {
  return BARS.findIndex((b) => b.slot === slot && b.bar === bar);
}

describe('core state: every part is carried', () => {
  test('a session with everything in flight: staged 64-bit BAR, pending MSI and MSI-X, asserted INTx, split 2 MiB page, IOTLB, queued events, effects and faults', async () => {
    const mem64 = barIndex(1, 2);
    const prefix: Op[] = [
      { t: 'macroBars', choice: 1 },
      { t: 'macroMsix', f: 0, fmask: false, unmask: 0b0101 },
      { t: 'macroMsi', f: 0, mme: 2, mask: 0b0011 },
      { t: 'msix', f: 0, vector: 1 }, // masked entry: pending
      { t: 'msix', f: 0, vector: 0 }, // delivered: a queued message
      { t: 'msi', f: 0, vector: 0 }, // masked vector: pending
      { t: 'msi', f: 0, vector: 2 },
      { t: 'intx', f: 3, level: 1 }, // slot 3: pin A, MSI off: holds a line
      { t: 'route', device: 3, pin: 1, gsi: 16 },
      { t: 'bar', b: mem64, choice: 2, mode: 1 }, // lower dword only: staged
      { t: 'macroDma', f: 1, split: 2 },
      { t: 'dma', f: 1, dir: 1, iova: 0x800000, len: 4096, off: 16 }, // external RAM
      { t: 'dma', f: 1, dir: 0, iova: 0x90000000, len: 4, off: 0 }, // faults
      { t: 'dma', f: 2, dir: 1, iova: 0x40000000, len: 64, off: 0 }, // identity domain, internal RAM
      { t: 'io', port: 0xcf8, size: 4, write: true, value: 0x80001804 },
      { t: 'fixed', addr: 0xf0001000, size: 4, write: true, value: 0x1234 }, // doorbell: an event
      { t: 'fixed', addr: 0xf0000000, size: 4, write: true, value: 0xffffffff }, // register file
      { t: 'fixed', addr: 0xf0000000, size: 8, write: false, value: 0 }, // high half kept
      { t: 'cmd', f: 4, value: 0 }, // BARs unmapped: effects
    ];
    const suffix: Op[] = [
      { t: 'intx', f: 3, level: 0 }, // the line count must come back to 0: an event
      { t: 'msixEntry', f: 0, entry: 1, field: 3, size: 4, value: 0 }, // pending vector released
      { t: 'cfgw', f: 1, reg: 0, cap: 16, size: 4, value: 0, via: 0 }, // MSI mask bits cleared: pending sent
      { t: 'bar', b: mem64, choice: 2, mode: 2 }, // upper dword: the staged BAR moves
      { t: 'dma', f: 1, dir: 0, iova: 0x600000, len: 64, off: 0 }, // IOTLB hit
      { t: 'dma', f: 1, dir: 0, iova: 0x1008, len: 8, off: 0 }, // a 4 KiB page of the split
      { t: 'dma', f: 1, dir: 0, iova: 0x800000, len: 4096, off: 0 },
      { t: 'io', port: 0xcfc, size: 4, write: false, value: 0 }, // through the latch
      { t: 'fixed', addr: 0xf0001000, size: 4, write: false, value: 0 }, // doorbell count
      { t: 'drain' },
      { t: 'dunmap', id: 1, iova: 0, size: 0x400000 },
      { t: 'dma', f: 1, dir: 0, iova: 0x200000, len: 8, off: 0 },
      { t: 'drain' },
    ];
    const s = await checkSession(prefix, suffix);
    const d = s.dispatch;
    const irq = s.interrupts;
    expect(d.bars.some((b) => b.staged)).toBe(true);
    expect(d.bars.filter((b) => b.mapped).length).toBeGreaterThan(10);
    expect(d.bars.some((b) => b.mapped && b.handlers.length > 0)).toBe(true);
    expect(d.configAddress).toBe(0x80001804);
    expect(d.mmioReadHigh).not.toBe(0);
    expect(d.events.length).toBeGreaterThan(0);
    expect(d.effects.length).toBeGreaterThan(0);
    expect(d.doorbells.some((c) => c > 0)).toBe(true);
    expect(d.regions.some((r) => r.kind === 5 && r.writes > 0)).toBe(true);
    expect(irq.events.some((e) => e.kind === 2)).toBe(true);
    expect(irq.events.some((e) => e.kind === 1 && e.level === 1)).toBe(true);
    expect(irq.functions.filter((f) => f.asserted).map((f) => [f.slot, f.line])).toEqual([[3, 16]]);
    expect(irq.functions.some((f) => f.msixPba.some((x) => x !== 0))).toBe(true);
    expect(irq.routes.some((r) => r.device === 3 && r.pin === 1 && r.gsi === 16)).toBe(true);
    const msiPending = s.functions[1].config[0x48 + 20];
    expect(msiPending & 1).toBe(1);
    const dom = s.dma.domains.find((x) => x.type === 2)!;
    expect(dom.mappings.some((m) => m.pageSize === 0x200000)).toBe(true);
    expect(dom.mappings.some((m) => m.pageSize === 0x1000 && m.iova === 0 && m.size === 0x200000)).toBe(true);
    expect(s.dma.attachments.length).toBeGreaterThan(0);
    expect(s.dma.iotlb.some((e) => e.large)).toBe(true);
    expect(s.dma.iotlb.some((e) => !e.large)).toBe(true);
    expect(s.dma.faults.length).toBeGreaterThan(0);
    expect(s.dma.counters.iotlbHits).toBeGreaterThan(0);
    expect(s.dma.ram.map((r) => r.internal)).toEqual([false, true, true]);
    expect(s.dma.ram[2].data!.some((x) => x !== 0)).toBe(true);
  }, 60_000);

  test('a saved state is a copy: the core going on does not change it, and loading does not keep the caller\'s arrays', async () => {
    for (const backend of BACKENDS) {
      const w = await world(backend);
      run(w, { t: 'macroBars', choice: 0 }, 0);
      run(w, { t: 'macroDma', f: 1, split: 1 }, 1);
      const s = w.core.saveState();
      const copy = structuredClone(s);
      run(w, { t: 'dma', f: 1, dir: 1, iova: 0x600000, len: 64, off: 0 }, 2);
      run(w, { t: 'dma', f: 2, dir: 1, iova: 0x1000, len: 64, off: 0 }, 3);
      run(w, { t: 'cmd', f: 1, value: 0 }, 4);
      expect(firstDiff(s, copy)).toBeUndefined();
      const fresh = await world(backend, false);
      expect(fresh.core.loadState(s)).toBe(Status.OK);
      s.dma.ram[1].data!.fill(0xee);
      s.functions[1].config.fill(0xee);
      expect(firstDiff(fresh.core.saveState(), copy)).toBeUndefined();
    }
  });
});

// ---- Refusals ---------------------------------------------------------------------------------

/** A state of a session on `backend`, and a fresh target on `target` that went its own way. */
async function refusalSetup(backend: Backend): Promise<CoreState> {
  const w = await world(backend);
  for (const [i, o] of ([
    { t: 'macroBars', choice: 0 }, { t: 'macroMsix', f: 0, fmask: true, unmask: 3 }, { t: 'msix', f: 0, vector: 0 },
    { t: 'macroDma', f: 1, split: 1 }, { t: 'intx', f: 3, level: 1 }, { t: 'dma', f: 1, dir: 0, iova: 0x90000000, len: 4, off: 0 },
    { t: 'io', port: 0xcf8, size: 4, write: true, value: 0x80000010 },
  ] as Op[]).entries()) run(w, o, i);
  return w.core.saveState();
}

type Mutation = [name: string, status: number, mutate: (s: CoreState) => void];

const MUTATIONS: Mutation[] = [
  ['a future version', Status.RANGE, (s) => { s.version = 2; }],
  ['a truncated plane', Status.RANGE, (s) => { s.functions[2].config = s.functions[2].config.slice(0, 100); }],
  ['a missing field', Status.RANGE, (s) => { delete (s.dispatch.counters as Partial<typeof s.dispatch.counters>).invalid; }],
  ['not an object', Status.RANGE, (s) => { (s as unknown as { dma: unknown }).dma = 7; }],
  ['a function moved to another device number', Status.MISMATCH, (s) => { s.functions[3].dev = 17; }],
  ['a function missing', Status.MISMATCH, (s) => { s.functions.pop(); }],
  ['a bridge turned into an endpoint', Status.MISMATCH, (s) => { s.functions[5].config[0x0e] = 0; }],
  ['another register file mask', Status.MISMATCH, (s) => { s.dispatch.regfiles[0].mask[0] ^= 1; }],
  ['a region of another kind', Status.MISMATCH, (s) => { s.dispatch.regions[5].kind = 6; }],
  ['an extra doorbell', Status.MISMATCH, (s) => { s.dispatch.doorbells.push(0); }],
  ['an MSI-X table of another size', Status.MISMATCH, (s) => { const f = s.interrupts.functions.find((x) => x.msixCap !== 0)!; f.msixTable = f.msixTable.slice(16); }],
  ['no embedder RAM where the state has it', Status.MISMATCH, (s) => { s.dma.ram[0].base += 0x1000; }],
  ['reserved CONFIG_ADDRESS bits', Status.RANGE, (s) => { s.dispatch.configAddress = 0x81000000; }],
  ['a negative counter', Status.RANGE, (s) => { s.dispatch.counters.invalid = -1; }],
  ['a fractional region count', Status.RANGE, (s) => { s.dispatch.regions[0].reads = 1.5; }],
  ['a 32-bit BAR mapped past 4 GiB', Status.RANGE, (s) => { const b = s.dispatch.bars.find((x) => x.kind === 2)!; b.mapped = true; b.base = 0x100000000; }],
  ['a staged 32-bit BAR', Status.RANGE, (s) => { s.dispatch.bars.find((x) => x.kind === 2)!.staged = true; }],
  ['a region mapped elsewhere than its BAR', Status.RANGE, (s) => { const r = s.dispatch.regions.find((x) => x.slot >= 0 && x.mapped)!; r.base += 0x1000; }],
  ['too many effects', Status.RANGE, (s) => { s.dispatch.effects = Array.from({ length: 1025 }, () => ({ slot: 0, bar: 0, kind: 2, oldMapped: false, oldBase: 0, newMapped: false, newBase: 0, size: 16 })); }],
  ['a line past the last GSI', Status.RANGE, (s) => { const f = s.interrupts.functions.find((x) => x.asserted)!; f.line = 5000; }],
  ['a held line with the pin deasserted', Status.RANGE, (s) => { const f = s.interrupts.functions.find((x) => x.asserted)!; f.asserted = false; }],
  ['MSI-X Vector Control with reserved bits', Status.RANGE, (s) => { s.interrupts.functions.find((x) => x.msixCap !== 0)!.msixTable[12] = 2; }],
  ['routes out of order', Status.RANGE, (s) => { s.interrupts.routes.reverse(); }],
  ['an interrupt event of no kind', Status.RANGE, (s) => { s.interrupts.events.push({ kind: 3, slot: -1, gsi: 0, level: 0, address: 0, addressHigh: 0, data: 0 }); }],
  ['internal RAM not page aligned', Status.RANGE, (s) => { s.dma.ram[1].base += 8; }],
  ['internal RAM contents of the wrong length', Status.RANGE, (s) => { s.dma.ram[1].data = s.dma.ram[1].data!.slice(1); }],
  ['a RAM region listed twice', Status.RANGE, (s) => { s.dma.ram.push({ ...s.dma.ram[2], base: 0x50000000 }); }],
  ['overlapping RAM', Status.RANGE, (s) => { s.dma.ram[2].base = s.dma.ram[1].base; }],
  ['a mapping without permissions', Status.RANGE, (s) => { s.dma.domains.find((x) => x.mappings.length > 0)!.mappings[0].perms = 0; }],
  ['a 2 MiB mapping not 2 MiB aligned', Status.RANGE, (s) => { const m = s.dma.domains.find((x) => x.mappings.length > 0)!.mappings.find((x) => x.pageSize > 4096)!; m.iova += 0x1000; }],
  ['a page size of 8 KiB', Status.RANGE, (s) => { const m = s.dma.domains.find((x) => x.mappings.length > 0)!.mappings.find((x) => x.pageSize === 4096)!; m.pageSize = 8192; m.iova = 0x7f0000; m.gpa = 0x2000; m.size = 0x4000; }],
  ['a blocked domain with mappings', Status.RANGE, (s) => { const d = s.dma.domains.find((x) => x.mappings.length > 0)!; d.type = 1; }],
  ['an attachment to no domain', Status.RANGE, (s) => { s.dma.attachments.push({ slot: 11, domain: 200 }); }],
  ['an IOTLB entry over no RAM', Status.RANGE, (s) => { s.dma.iotlb[0].region = 40; }],
  ['an IOTLB span past its page', Status.RANGE, (s) => { s.dma.iotlb[0].spanHi = 0x300000; }],
  ['a fault of no reason (the last field checked)', Status.RANGE, (s) => { s.dma.faults[s.dma.faults.length - 1].reason = 9; }],
];

describe('core state: loadState refuses a state that does not fit, changing nothing', () => {
  for (const from of BACKENDS) {
    test(`states saved on ${from}, altered, into both backends: the same status, the core unchanged`, async () => {
      const good = await refusalSetup(from);
      const targets = await Promise.all(BACKENDS.map(async (b) => {
        const w = await world(b);
        run(w, { t: 'macroDma', f: 0, split: 0 }, 0);
        run(w, { t: 'macroMsi', f: 1, mme: 1, mask: 0 }, 1);
        return w;
      }));
      const before = targets.map((w) => w.core.saveState());
      for (const [name, status, mutate] of MUTATIONS) {
        const bad = structuredClone(good);
        mutate(bad);
        targets.forEach((w, i) => {
          expect(w.core.loadState(bad), `${name} into ${w.backend}`).toBe(status);
          const d = firstDiff(w.core.saveState(), before[i], `${name} into ${w.backend}`);
          expect(d).toBeUndefined();
        });
      }
      // And the unaltered state loads.
      for (const w of targets) expect(w.core.loadState(structuredClone(good))).toBe(Status.OK);
    }, 60_000);
  }

  test('a state from a bus of another topology is refused', async () => {
    const other = { ...defaultTopology, devices: defaultTopology.devices.slice(0, -1) };
    for (const from of BACKENDS) {
      const state = (await createBus({ backend: from, topology: other })).core.saveState();
      for (const to of BACKENDS) {
        const w = await world(to);
        const before = w.core.saveState();
        expect(w.core.loadState(state)).toBe(Status.MISMATCH);
        expect(firstDiff(w.core.saveState(), before)).toBeUndefined();
        // And the other way round.
        const small = await createBus({ backend: to, topology: other });
        const smallBefore = small.core.saveState();
        expect(small.core.loadState(before)).toBe(Status.MISMATCH);
        expect(firstDiff(small.core.saveState(), smallBefore)).toBeUndefined();
      }
    }
  });

  test('a core without the embedder\'s RAM region, or with one the state lacks, refuses', async () => {
    const state = await refusalSetup('ts');
    for (const to of BACKENDS) {
      const bus = await createBus({ backend: to, topology });
      expect(bus.core.loadState(state)).toBe(Status.MISMATCH);
      const extra = await world(to, false);
      expect(extra.core.dma.ramAdd(0x100000000, 0x1000, 0)).toBe(1);
      const before = extra.core.saveState();
      expect(extra.core.loadState(state)).toBe(Status.MISMATCH);
      expect(firstDiff(extra.core.saveState(), before)).toBeUndefined();
    }
  });
});

describe('core state: the Wasm loader on its own', () => {
  test('corrupted or truncated images never trap: refused ones change nothing, loaded ones leave a working core', async () => {
    const good = await refusalSetup('wasm');
    const image = new Uint8Array(imageSize(good));
    writeImage(good, image);
    const words = image.length / 8;
    const special = [NaN, -1, -0.5, 0.5, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, -Infinity, 4095, 4096, 65535, 0xffffffff];
    const corruption = fc.record({
      edits: fc.array(fc.record({ word: fc.nat(words - 1), value: fc.oneof(fc.constantFrom(...special), fc.nat(0xffffffff), fc.integer({ min: -5, max: 300 })) }), { minLength: 1, maxLength: 4 }),
      cut: fc.oneof(fc.constant(0), fc.nat(words)),
    });
    await fc.assert(fc.asyncProperty(corruption, async ({ edits, cut }) => {
      const w = await world('wasm', false);
      const x = (w.core as unknown as { x: VpciWasmExports }).x;
      const before = w.core.saveState();
      const bytes = image.slice(0, cut === 0 ? image.length : cut * 8);
      const view = new DataView(bytes.buffer);
      for (const e of edits) if (e.word * 8 < bytes.length) view.setFloat64(e.word * 8, e.value, true);
      const at = x.stateBuffer(bytes.length) >>> 0;
      new Uint8Array(x.memory.buffer, at, bytes.length).set(bytes);
      const status = x.stateLoad(bytes.length);
      expect([Status.OK, Status.RANGE, Status.MISMATCH, Status.FULL]).toContain(status);
      if (status !== Status.OK) {
        expect(firstDiff(w.core.saveState(), before)).toBeUndefined();
        return;
      }
      // Whatever loaded is a core that keeps working (no trap) and saves again.
      for (const [i, o] of ([
        { t: 'macroBars', choice: 2 }, { t: 'dma', f: 1, dir: 0, iova: 0x600000, len: 64, off: 0 }, { t: 'msix', f: 0, vector: 1 },
        { t: 'intx', f: 3, level: 0 }, { t: 'mmio', b: 3, offset: 0, size: 4, write: true, value: 1, high: 0 }, { t: 'drain' },
      ] as Op[]).entries()) run(w, o, i);
      w.core.saveState();
    }), { numRuns: 300 });
  }, 120_000);
});

