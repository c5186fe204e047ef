// The TypeScript twin's saveState and loadState (src/core/state.ts): the functions and the trap
// dispatcher here, the interrupt and DMA parts in irq.ts and dma/state.ts. The same content, the
// same checks in the same order and the same statuses as the Wasm core (assembly/state/).
import type { RawEffect, RawEvent } from '../backend.js';
import { Limits, Status } from '../backend.js';
import type { CoreState, DispatchCounters, DispatchState, FunctionState } from '../state.js';
import { CORE_STATE_VERSION, stateShapeFits } from '../state.js';
import { ROOT_NODE } from './config-store.js';
import type { ConfigStore } from './config-store.js';
import type { ConfigMechanisms } from './config-mechanisms.js';
import type { RegionTable } from './region-table.js';
import { MAX_REGION_ID } from './region-table.js';
import type { Regions } from './regions.js';
import { Kind, PRIORITY_BAR, PRIORITY_BAR_HANDLER } from './regions.js';
import type { BarMapper } from './bar-mapper.js';
import { BarKind } from './bar-mapper.js';
import type { Regfiles } from './regfile.js';
import type { Doorbells } from './doorbell.js';
import { EVENT_CAPACITY } from './doorbell.js';
import type { Effects } from './effects.js';
import { EFFECT_CAPACITY } from './effects.js';
import type { Interrupts } from './irq.js';
import type { DmaTranslator } from './dma/index.js';
import { intIn, isU32, isU64 } from './state-values.js';

const PLANE = Limits.planeSize;
const F = Limits.functions;
const BARS = 7;
const MMIO_LIMIT = 2 ** 52;
const TWO32 = 4294967296;
const COUNTER_NAMES: readonly (keyof DispatchCounters)[] = [
  'abortMmioRead', 'abortMmioWrite', 'abortIoRead', 'abortIoWrite', 'invalid', 'hostErrors', 'droppedEvents', 'droppedEffects', 'droppedIrqs',
];

/** What TsCore hands over: its parts, and the high half of the last 8-byte MMIO read. */
export interface TsCoreParts {
  store: ConfigStore;
  table: RegionTable;
  regions: Regions;
  mech: ConfigMechanisms;
  bars: BarMapper;
  regfiles: Regfiles;
  doorbells: Doorbells;
  effects: Effects;
  irq: Interrupts;
  dma: DmaTranslator;
  readHigh(): number;
  setReadHigh(v: number): void;
}

// ---- Save -------------------------------------------------------------------------------------

function saveFunctions(p: TsCoreParts): FunctionState[] {
  const out: FunctionState[] = [];
  for (let slot = 0; slot < F; slot++) {
    const size = p.store.sizeOf(slot);
    if (size === 0) continue;
    const home = p.store.slotHome(slot);
    const node = (home >>> 8) & 0xffff;
    const block = p.store.block(slot);
    out.push({
      slot, seg: home >>> 24, bus: node >= ROOT_NODE ? (node - ROOT_NODE) & 255 : -1, parent: node < ROOT_NODE ? node - 1 : -1,
      dev: (home >>> 3) & 31, fn: home & 7, size, barsAttached: p.bars.attached(slot),
      config: block.slice(0, PLANE), wmask: block.slice(PLANE, PLANE * 2), w1cmask: block.slice(PLANE * 2, PLANE * 3),
    });
  }
  return out;
}

function saveDispatch(p: TsCoreParts): DispatchState {
  const r = p.regions;
  const counters = {} as DispatchCounters;
  COUNTER_NAMES.forEach((name, i) => { counters[name] = r.counters[i]; });
  const bars = [];
  for (let slot = 0; slot < F; slot++) {
    if (!p.bars.attached(slot)) continue;
    for (let bar = 0; bar < BARS; bar++) {
      const e = p.bars.entry(slot, bar)!;
      if (e.kind === BarKind.NONE) continue;
      const handlers: number[] = [];
      for (let id = e.firstHandler; id !== 0; id = r.next[id]) handlers.push(id);
      bars.push({ slot, bar, kind: e.kind, size: e.size, region: e.region, handlers, mapped: e.mapped, base: e.base, staged: e.pending !== 0 });
    }
  }
  const regions = [];
  for (let id = 1; id <= MAX_REGION_ID; id++) {
    if (r.kind[id] === Kind.FREE) continue;
    const info = p.table.regionInfoOf(id);
    regions.push({
      id, kind: r.kind[id], datum: r.datum[id], slot: r.slot[id], bar: r.bar[id], offset: r.subOffset[id], length: r.length[id],
      reads: r.reads[id], writes: r.writes[id], mapped: info !== 0, space: info !== 0 ? (info >>> 8) & 1 : 0,
      base: p.table.regionBase(id), size: p.table.regionSize(id), priority: info !== 0 ? info & 0xff : 0,
    });
  }
  const regfiles = [];
  for (let h = 0; h < p.regfiles.count(); h++) {
    const f = p.regfiles.file(h);
    regfiles.push({ values: f.values.slice(), mask: f.mask.slice() });
  }
  const bells = p.doorbells.saveState();
  return {
    configAddress: p.mech.address(), mmioReadHigh: p.readHigh(), counters, bars, regions, regfiles,
    doorbells: bells.counts, events: bells.events, effects: p.effects.saveState(),
  };
}

/** The whole core as plain data. */
export function saveTsState(p: TsCoreParts): CoreState {
  return {
    version: CORE_STATE_VERSION,
    functions: saveFunctions(p),
    dispatch: saveDispatch(p),
    interrupts: p.irq.saveState(),
    dma: p.dma.saveState(),
  };
}

// ---- Check (nothing changes) ------------------------------------------------------------------

function checkFunctions(p: TsCoreParts, list: readonly FunctionState[]): number {
  if (list.length > F) return Status.RANGE;
  const s = p.store;
  let prev = -1;
  for (const f of list) {
    if (!intIn(f.slot, 0, F - 1) || !intIn(f.seg, 0, Limits.segments - 1) || !intIn(f.bus, -1, 255) || !intIn(f.parent, -1, F - 1) ||
      !intIn(f.dev, 0, 31) || !intIn(f.fn, 0, 7) || !intIn(f.size, 256, 4096)) return Status.RANGE;
    if (f.config.length !== PLANE || f.wmask.length !== PLANE || f.w1cmask.length !== PLANE) return Status.RANGE;
    if (f.slot <= prev) return Status.RANGE;
    for (let x = prev + 1; x < f.slot; x++) if (s.sizeOf(x) !== 0) return Status.MISMATCH;
    if (s.sizeOf(f.slot) === 0) return Status.MISMATCH;
    const home = s.slotHome(f.slot);
    const node = (home >>> 8) & 0xffff;
    const where = f.bus >= 0 ? f.parent === -1 && node === ROOT_NODE + f.seg * 256 + f.bus : node === f.parent + 1;
    if (!where || home >>> 24 !== f.seg || (home & 0xff) !== ((f.dev << 3) | f.fn) || s.sizeOf(f.slot) !== f.size) return Status.MISMATCH;
    if (f.barsAttached !== p.bars.attached(f.slot)) return Status.MISMATCH;
    // The header type decides the BAR layout, the bridge hooks and routing: it cannot change.
    if ((f.config[0x0e] & 0x7f) !== (s.block(f.slot)[0x0e] & 0x7f)) return Status.MISMATCH;
    prev = f.slot;
  }
  for (let x = prev + 1; x < F; x++) if (s.sizeOf(x) !== 0) return Status.MISMATCH;
  return Status.OK;
}

/** Whether a BAR of `kind` and `size` can decode at `base` (computeTarget in bar-mapper.ts). */
function barFits(kind: number, base: number, size: number): boolean {
  if (base === 0) return false;
  if (kind === BarKind.IO) return base < 0x10000 && size <= 0x10000 - base;
  if (kind === BarKind.MEM32 || kind === BarKind.ROM) return base < TWO32 && size < TWO32 - base;
  if (kind === BarKind.MEM64) return base < MMIO_LIMIT && size <= MMIO_LIMIT - base;
  return false;
}

function checkDispatch(p: TsCoreParts, d: DispatchState): number {
  if (!isU32(d.configAddress) || !isU32(d.mmioReadHigh)) return Status.RANGE;
  if ((d.configAddress & ~0x80fffffc) !== 0) return Status.RANGE;
  for (const name of COUNTER_NAMES) if (!isU64(d.counters[name])) return Status.RANGE;
  // BARs: this core's implemented BARs, in order, with the state's mapping.
  if (d.bars.length > F * BARS) return Status.RANGE;
  const core: [number, number][] = [];
  for (let slot = 0; slot < F; slot++) {
    if (!p.bars.attached(slot)) continue;
    for (let bar = 0; bar < BARS; bar++) if (p.bars.entry(slot, bar)!.kind !== BarKind.NONE) core.push([slot, bar]);
  }
  const pend = new Map<number, { mapped: boolean; base: number }>();
  for (let k = 0; k < d.bars.length; k++) {
    const b = d.bars[k];
    if (!intIn(b.slot, 0, F - 1) || !intIn(b.bar, 0, 6) || !intIn(b.kind, 1, 5) || !isU64(b.size) || !intIn(b.region, 0, MAX_REGION_ID) ||
      b.handlers.length > MAX_REGION_ID) return Status.RANGE;
    if (k >= core.length) return Status.MISMATCH;
    const [slot, bar] = core[k];
    const e = p.bars.entry(slot, bar)!;
    if (b.slot !== slot || b.bar !== bar || b.kind !== e.kind || b.size !== e.size || b.region !== e.region) return Status.MISMATCH;
    let h = e.firstHandler;
    for (const id of b.handlers) {
      if (!intIn(id, 1, MAX_REGION_ID)) return Status.RANGE;
      if (id !== h) return Status.MISMATCH;
      h = p.regions.next[h];
    }
    if (h !== 0) return Status.MISMATCH;
    if (!isU64(b.base)) return Status.RANGE;
    if (b.kind === BarKind.UPPER ? b.mapped || b.staged : b.staged && b.kind !== BarKind.MEM64) return Status.RANGE;
    if (b.mapped ? !barFits(b.kind, b.base, b.size) : b.base !== 0) return Status.RANGE;
    pend.set(slot * BARS + bar, { mapped: b.mapped, base: b.base });
  }
  if (d.bars.length < core.length) return Status.MISMATCH;
  // Regions: this core's ids with the same records; their mappings as this core (fixed) or the state's BARs say.
  if (d.regions.length > MAX_REGION_ID) return Status.RANGE;
  const r = p.regions;
  let prev = 0;
  for (const g of d.regions) {
    if (!intIn(g.id, 1, MAX_REGION_ID) || !isU32(g.kind) || !isU32(g.datum) || !intIn(g.slot, -1, F - 1) || !isU32(g.bar) ||
      !isU64(g.offset) || !isU64(g.length) || !isU64(g.reads) || !isU64(g.writes) || !intIn(g.space, 0, 1) || !isU64(g.base) ||
      !isU64(g.size) || !intIn(g.priority, 0, 255)) return Status.RANGE;
    if (g.id <= prev) return Status.RANGE;
    for (let i = prev + 1; i < g.id; i++) if (r.kind[i] !== Kind.FREE) return Status.MISMATCH;
    prev = g.id;
    const id = g.id;
    if (r.kind[id] === Kind.FREE || g.kind !== r.kind[id] || g.datum !== r.datum[id] || g.slot !== r.slot[id] || g.bar !== r.bar[id] ||
      g.offset !== r.subOffset[id] || g.length !== r.length[id]) return Status.MISMATCH;
    if (!g.mapped && (g.space !== 0 || g.priority !== 0 || g.base !== 0 || g.size !== 0)) return Status.RANGE;
    if (g.slot < 0) {
      const info = p.table.regionInfoOf(id);
      if (g.mapped !== (info !== 0) || (g.mapped && (g.space !== ((info >>> 8) & 1) || g.priority !== (info & 0xff) ||
        g.base !== p.table.regionBase(id) || g.size !== p.table.regionSize(id)))) return Status.MISMATCH;
    } else {
      const b = pend.get(g.slot * BARS + g.bar)!;
      const io = p.bars.entry(g.slot, g.bar)!.kind === BarKind.IO;
      if (g.mapped !== b.mapped || (g.mapped && (g.space !== (io ? 1 : 0) ||
        g.priority !== (g.kind === Kind.BAR ? PRIORITY_BAR : PRIORITY_BAR_HANDLER) || g.base !== b.base + g.offset || g.size !== g.length))) {
        return Status.RANGE;
      }
    }
  }
  for (let i = prev + 1; i <= MAX_REGION_ID; i++) if (r.kind[i] !== Kind.FREE) return Status.MISMATCH;
  if (d.regfiles.length > 4096) return Status.RANGE;
  if (d.regfiles.length !== p.regfiles.count()) return Status.MISMATCH;
  for (let h = 0; h < d.regfiles.length; h++) {
    const f = d.regfiles[h];
    const mine = p.regfiles.file(h);
    if (f.values.length > 4096 || f.mask.length > 4096) return Status.RANGE;
    if (f.values.length !== mine.values.length || f.mask.length !== mine.mask.length || f.mask.some((m, i) => m !== mine.mask[i])) return Status.MISMATCH;
  }
  if (d.doorbells.length > 4096) return Status.RANGE;
  if (d.doorbells.length !== p.doorbells.total()) return Status.MISMATCH;
  for (const c of d.doorbells) if (!isU64(c)) return Status.RANGE;
  if (d.events.length > EVENT_CAPACITY) return Status.RANGE;
  for (const e of d.events) {
    if (!isU32(e.region) || !isU32(e.size) || !isU64(e.offset) || !isU32(e.lo) || !isU32(e.hi)) return Status.RANGE;
  }
  if (d.effects.length > EFFECT_CAPACITY) return Status.RANGE;
  for (const e of d.effects) {
    if (!isU32(e.slot) || !isU32(e.bar) || !isU32(e.kind) || !isU64(e.oldBase) || !isU64(e.newBase) || !isU64(e.size)) return Status.RANGE;
    if ((!e.oldMapped && e.oldBase !== 0) || (!e.newMapped && e.newBase !== 0)) return Status.RANGE;
  }
  return Status.OK;
}

// ---- Load -------------------------------------------------------------------------------------

function loadFunctions(p: TsCoreParts, list: readonly FunctionState[]): void {
  let segments = 0;
  for (const f of list) {
    const block = p.store.block(f.slot);
    block.set(f.config, 0);
    block.set(f.wmask, PLANE);
    block.set(f.w1cmask, PLANE * 2);
    segments |= 1 << f.seg;
  }
  // Config routing is a function of the planes (assembly/config/DESIGN.md): rebuild it.
  for (let seg = 0; seg < Limits.segments; seg++) if ((segments >>> seg) & 1) p.store.route(seg);
}

function loadDispatch(p: TsCoreParts, d: DispatchState): void {
  p.mech.setAddress(d.configAddress);
  p.setReadHigh(d.mmioReadHigh);
  for (const b of d.bars) if (b.kind !== BarKind.UPPER) p.bars.restore(b.slot, b.bar, b.mapped, b.base, b.staged);
  for (const g of d.regions) {
    p.regions.reads[g.id] = g.reads;
    p.regions.writes[g.id] = g.writes;
  }
  d.regfiles.forEach((f, h) => p.regfiles.file(h).values.set(f.values));
  p.doorbells.loadState(d.doorbells, d.events as RawEvent[]);
  p.effects.loadState(d.effects as RawEffect[]);
}

/**
 * Loads a state saved by either core: shape and version, then every part checked (nothing
 * changes), memory taken (FULL), and only then applied. OK, or RANGE / MISMATCH / FULL.
 */
export function loadTsState(p: TsCoreParts, state: CoreState): number {
  if (!stateShapeFits(state)) return Status.RANGE;
  if (state.version !== CORE_STATE_VERSION) return Status.RANGE;
  let st = checkFunctions(p, state.functions);
  if (st === Status.OK) st = checkDispatch(p, state.dispatch);
  if (st === Status.OK) st = p.irq.checkState(state.interrupts);
  if (st === Status.OK) st = p.dma.checkState(state.dma);
  if (st === Status.OK) st = p.dma.prepareState(state.dma);
  if (st !== Status.OK) return st;
  loadFunctions(p, state.functions);
  loadDispatch(p, state.dispatch);
  p.irq.loadState(state.interrupts);
  p.dma.loadState(state.dma);
  // Counters last: nothing the loading did may count.
  COUNTER_NAMES.forEach((name, i) => { p.regions.counters[i] = state.dispatch.counters[name]; });
  return Status.OK;
}
