// Differential property of `bus.dma`: random guest-RAM layouts (internal, SharedArrayBuffer,
// ArrayBuffer and guarded Uint8Array-view regions), random domains, mappings (4 KiB and 2 MiB
// pages, all permissions), attachments, Bus Master Enable toggles, RAM removal and re-adding, and
// random DMA requests (single and scatter-gather, read and write) run on a Wasm bus, a TypeScript
// bus and a brute-force reference model. After every step:
// - the results (DmaResult strings, returned values, thrown errors) agree, and so do the bytes a
//   read returned;
// - every RAM region holds the same bytes in both buses and in the model;
// - stats agree (all counters Wasm vs TS; transfers/bytes/faults/dropped against the model);
// - no byte changed outside the pages the requesting function's domain maps with write
//   permission (identity: RAM; blocked or Bus Master Enable off: nothing; reads: nothing), and
//   the guard bytes around external views never change.
// Fault logs are compared (both buses and the model) whenever they are drained.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBus, type Bus } from '../../src/bus.js';
import type { DmaFaultRecord, DmaResult, DmaStats, DomainKind } from '../../src/dma/types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const LARGE = 2 * MiB;
const IOVA_LIMIT = 2 ** 48;
const GPA_LIMIT = 2 ** 52;
const BDFS = ['00:01.0', '00:03.0', '00:03.1'];
const IDS = ['0000:00:01.0', '0000:00:03.0', '0000:00:03.1'];
const GUARD = 0xa5;
const GUARD_BYTES = 4096;
const FAULT_CAPACITY = 256;

type Kind = 'internal' | 'sab' | 'ab' | 'view';
interface Spec { base: number; size: number; kind: Kind }

const isU64 = (v: number): boolean => v >= 0 && v < 2 ** 64 && Math.floor(v) === v;
const seeded = (n: number, seed: number): Uint8Array => {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[k] = x & 0xff;
  }
  return b;
};

// ---- the reference model -------------------------------------------------------------------------
interface MRegion { base: number; size: number; kind: Kind; bytes: Uint8Array }
interface MDomain { kind: DomainKind; pages: Map<number, { gpa: number; perms: number }> }
interface Piece { region: number; offset: number; length: number }
type Outcome = { result: DmaResult; pieces: Piece[]; total: number } | 'ArgumentError';

class Model {
  readonly regions: (MRegion | undefined)[] = new Array(64).fill(undefined);
  readonly domains = new Map<number, MDomain>([[0, { kind: 'identity', pages: new Map() }]]);
  readonly slot = [0, 0, 0];
  readonly bme = [true, true, true];
  queue: DmaFaultRecord[] = [];
  readonly stats = { faults: 0, droppedFaults: 0, transfers: 0, bytes: 0 };

  present(): number[] {
    return this.regions.flatMap((r, i) => (r ? [i] : []));
  }

  addRam(spec: Spec, bytes: Uint8Array): number | 'ArgumentError' {
    const { base, size } = spec;
    if (!isU64(base) || !isU64(size) || size === 0 || base % PAGE !== 0 || size % PAGE !== 0) return 'ArgumentError';
    if (base >= GPA_LIMIT || size > GPA_LIMIT - base) return 'ArgumentError';
    if (spec.kind === 'internal' && size > 2 ** 30 - PAGE) return 'ArgumentError';
    if (this.regions.some((r) => r && r.base < base + size && base < r.base + r.size)) return 'ArgumentError';
    const i = this.regions.findIndex((r) => r === undefined);
    if (i < 0) return 'ArgumentError';
    this.regions[i] = { ...spec, bytes };
    return i;
  }

  removeRam(i: number): 'ok' | 'ArgumentError' {
    if (!this.regions[i]) return 'ArgumentError';
    this.regions[i] = undefined;
    return 'ok';
  }

  /** The region holding guest-physical `gpa`, or -1. */
  find(gpa: number): number {
    if (gpa >= GPA_LIMIT) return -1;
    return this.regions.findIndex((r) => r !== undefined && gpa >= r.base && gpa < r.base + r.size);
  }

  ids(): number[] {
    return [...this.domains.keys()].sort((a, b) => a - b);
  }

  createDomain(kind: DomainKind): number | 'ArgumentError' {
    for (let id = 1; id < 256; id++) {
      if (!this.domains.has(id)) {
        this.domains.set(id, { kind, pages: new Map() });
        return id;
      }
    }
    return 'ArgumentError';
  }

  destroyDomain(id: number): 'ok' | 'ArgumentError' {
    if (id === 0 || !this.domains.has(id) || this.slot.includes(id)) return 'ArgumentError';
    this.domains.delete(id);
    return 'ok';
  }

  map(id: number, iova: number, gpa: number, size: number, perms: number): 'ok' | 'ArgumentError' {
    const d = this.domains.get(id);
    if (!d || d.kind !== 'translated' || perms < 1 || perms > 3) return 'ArgumentError';
    if (size === 0 || iova % PAGE !== 0 || gpa % PAGE !== 0 || size % PAGE !== 0) return 'ArgumentError';
    if (iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova || gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa) return 'ArgumentError';
    const first = iova / PAGE;
    for (let p = 0; p < size / PAGE; p++) if (d.pages.has(first + p)) return 'ArgumentError';
    for (let p = 0; p < size / PAGE; p++) d.pages.set(first + p, { gpa: gpa + p * PAGE, perms });
    return 'ok';
  }

  unmap(id: number, iova: number, size: number): number | 'ArgumentError' {
    const d = this.domains.get(id);
    if (!d || d.kind !== 'translated') return 'ArgumentError';
    if (size === 0 || iova % PAGE !== 0 || size % PAGE !== 0 || iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova) return 'ArgumentError';
    let bytes = 0;
    const first = iova / PAGE;
    for (let p = 0; p < size / PAGE; p++) if (d.pages.delete(first + p)) bytes += PAGE;
    return bytes;
  }

  attach(b: number, id: number): 'ok' | 'ArgumentError' {
    if (!this.domains.has(id)) return 'ArgumentError';
    this.slot[b] = id;
    return 'ok';
  }

  private fault(b: number, iova: number, length: number, dir: number, reason: Exclude<DmaResult, 'ok'>): Outcome {
    this.stats.faults++;
    if (this.queue.length >= FAULT_CAPACITY) this.stats.droppedFaults++;
    else this.queue.push({ bdf: IDS[b], iova, length, direction: dir === 0 ? 'read' : 'write', reason });
    return { result: reason, pieces: [], total: 0 };
  }

  /** What a DMA must do: the result, and where each byte goes (in transfer order). */
  dma(b: number, dir: number, elems: Array<[number, number]>): Outcome {
    if (elems.some(([iova]) => !isU64(iova))) return 'ArgumentError';
    const total = elems.reduce((s, [, n]) => s + n, 0);
    if (total === 0) return { result: 'ok', pieces: [], total: 0 };
    const first = elems.find(([, n]) => n > 0)!;
    if (!this.bme[b]) return this.fault(b, first[0], first[1], dir, 'bus-master-off');
    const d = this.domains.get(this.slot[b])!;
    if (d.kind === 'blocked') return this.fault(b, first[0], first[1], dir, 'blocked');
    const need = dir === 0 ? 1 : 2;
    const pieces: Piece[] = [];
    for (const [iova, len] of elems) {
      let pos = iova;
      let left = len;
      while (left > 0) {
        let gpa: number;
        let avail: number;
        if (d.kind === 'identity') {
          gpa = pos;
          const r = this.find(gpa);
          if (r < 0) return this.fault(b, pos, left, dir, 'outside-ram');
          avail = this.regions[r]!.base + this.regions[r]!.size - gpa;
        } else {
          if (pos >= IOVA_LIMIT) return this.fault(b, pos, left, dir, 'unmapped');
          const page = d.pages.get(Math.floor(pos / PAGE));
          if (!page) return this.fault(b, pos, left, dir, 'unmapped');
          if ((page.perms & need) === 0) return this.fault(b, pos, left, dir, 'permission');
          gpa = page.gpa + (pos % PAGE);
          if (this.find(gpa) < 0) return this.fault(b, pos, left, dir, 'outside-ram');
          avail = PAGE - (pos % PAGE);
        }
        const n = Math.min(avail, left);
        const r = this.find(gpa);
        pieces.push({ region: r, offset: gpa - this.regions[r]!.base, length: n });
        pos += n;
        left -= n;
      }
    }
    this.stats.transfers++;
    this.stats.bytes += total;
    return { result: 'ok', pieces, total };
  }

  /** Guest-physical pages function `b` may write now, whatever it asks for. */
  writable(b: number): (gpaPage: number) => boolean {
    const d = this.domains.get(this.slot[b])!;
    if (!this.bme[b] || d.kind === 'blocked') return () => false;
    if (d.kind === 'identity') return () => true;
    const pages = new Set<number>();
    for (const { gpa, perms } of d.pages.values()) if (perms & 2) pages.add(gpa / PAGE);
    return (p) => pages.has(p);
  }
}

// ---- the buses ----------------------------------------------------------------------------------
interface Side { bus: Bus; guards: Array<{ whole: Uint8Array; view: Uint8Array }> }

function addTo(side: Side, spec: Spec, bytes: Uint8Array): string {
  let buffer: ArrayBuffer | SharedArrayBuffer | Uint8Array | undefined;
  let fill: Uint8Array | undefined;
  let guard: { whole: Uint8Array; view: Uint8Array } | undefined;
  if (spec.kind === 'sab') buffer = new SharedArrayBuffer(spec.size);
  else if (spec.kind === 'ab') buffer = new ArrayBuffer(spec.size);
  else if (spec.kind === 'view') {
    const whole = new Uint8Array(spec.size + 2 * GUARD_BYTES).fill(GUARD);
    buffer = whole.subarray(GUARD_BYTES, GUARD_BYTES + spec.size);
    guard = { whole, view: buffer };
  }
  if (buffer) {
    fill = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    fill.set(bytes.subarray(0, spec.size));
  }
  try {
    const index = side.bus.dma.addRam({ base: spec.base, size: spec.size, buffer });
    if (!buffer) side.bus.dma.ram(index).set(bytes.subarray(0, spec.size));
    if (guard) side.guards.push(guard);
    return String(index);
  } catch (e) {
    return `${(e as Error).name}`;
  }
}

function guardsIntact(side: Side): boolean {
  for (const { whole } of side.guards) {
    for (let k = 0; k < GUARD_BYTES; k++) if (whole[k] !== GUARD || whole[whole.length - 1 - k] !== GUARD) return false;
  }
  return true;
}

// ---- operations -----------------------------------------------------------------------------------
type IovaSel = { t: 'low'; p: number } | { t: 'big'; k: number } | { t: 'top'; p: number } | { t: 'far'; p: number } | { t: 'used'; k: number };
type GpaSel = { t: 'ram'; r: number; p: number } | { t: 'big'; k: number } | { t: 'any'; p: number };
/** near: aimed at what the domain maps (or RAM); edge: ending exactly at, or one byte past, a page or region end. */
interface ElemSel { near: boolean; edge: boolean; pick: number; off: number; len: number; wild: number }

/** A domain: mostly one of the translated ones ('tr'), else any existing id or a free one. */
type DomRef = { t: 'tr' | 'any'; n: number };
type Op =
  | { op: 'map'; dom: DomRef; iova: IovaSel; gpa: GpaSel; pages: number; perms: number }
  | { op: 'unmap'; dom: DomRef; iova: IovaSel; skip: number; pages: number }
  | { op: 'attach'; b: number; dom: DomRef }
  | { op: 'detach'; b: number }
  | { op: 'create'; kind: DomainKind }
  | { op: 'destroy'; dom: number }
  | { op: 'bme'; b: number; on: boolean }
  | { op: 'dma'; b: number; dir: number; sg: boolean; elems: ElemSel[]; seed: number }
  | { op: 'burst'; b: number; n: number }
  | { op: 'removeRam'; pick: number }
  | { op: 'addRam'; pick: number; seed: number }
  | { op: 'drain' };

const WILD = [0, IOVA_LIMIT - 8, IOVA_LIMIT - PAGE - 2, GPA_LIMIT - 8, 2 ** 53, 2 ** 63, 2 ** 64 - 2048, NaN, 2 ** 64, -1, 0x40000000 + LARGE - 8, 1.5];
const LARGE_SIZES = [LARGE / PAGE, 2 * LARGE / PAGE, LARGE / PAGE + 3];

const iovaSel: fc.Arbitrary<IovaSel> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('low' as const), p: fc.integer({ min: 0, max: 63 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('big' as const), k: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('top' as const), p: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('far' as const), p: fc.integer({ min: 0, max: 1023 }) }) },
);
/** Unmaps start mostly at pages recent DMAs used. */
const unmapIova: fc.Arbitrary<IovaSel> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('used' as const), k: fc.nat() }) },
  { weight: 3, arbitrary: iovaSel },
);
const gpaSel: fc.Arbitrary<GpaSel> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('ram' as const), r: fc.nat(), p: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('big' as const), k: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('any' as const), p: fc.integer({ min: 0, max: 4095 }) }) },
);
const pagesArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 2, arbitrary: fc.constantFrom(...LARGE_SIZES) }, { weight: 1, arbitrary: fc.constant(0) });
const lenArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 * PAGE }) }, { weight: 1, arbitrary: fc.integer({ min: 3 * PAGE, max: 40 * KiB }) });
const elemArb: fc.Arbitrary<ElemSel> = fc.record({
  near: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  edge: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  pick: fc.nat(), off: fc.integer({ min: 0, max: PAGE - 1 }), len: lenArb, wild: fc.integer({ min: 0, max: WILD.length - 1 }),
});
const b = fc.integer({ min: 0, max: 2 });
const domRef: fc.Arbitrary<DomRef> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('tr' as const), n: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('any' as const), n: fc.nat() }) },
);
const perms = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('map' as const), dom: domRef, iova: iovaSel, gpa: gpaSel, pages: pagesArb, perms }) },
  // 2 MiB pages: IOVA and GPA 2 MiB aligned, at least 2 MiB.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('map' as const), dom: domRef, iova: fc.record({ t: fc.constant('big' as const), k: fc.integer({ min: 0, max: 3 }) }), gpa: fc.record({ t: fc.constant('big' as const), k: fc.integer({ min: 0, max: 3 }) }), pages: fc.constantFrom(...LARGE_SIZES), perms }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unmap' as const), dom: domRef, iova: unmapIova, skip: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 520 }) }), pages: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(...LARGE_SIZES)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('attach' as const), b, dom: domRef }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('detach' as const), b }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('create' as const), kind: fc.constantFrom<DomainKind>('identity', 'blocked', 'translated', 'translated') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('destroy' as const), dom: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bme' as const), b, on: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 2, arbitrary: fc.constant(true) }) }) },
  { weight: 16, arbitrary: fc.record({ op: fc.constant('dma' as const), b, dir: fc.integer({ min: 0, max: 1 }), sg: fc.boolean(), elems: fc.array(elemArb, { minLength: 1, maxLength: 5 }), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('burst' as const), b, n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeRam' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('addRam' as const), pick: fc.nat(), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
);

const specArb = fc.record({
  gap: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 700 }) }),
  pages: fc.integer({ min: 1, max: 48 }),
  kind: fc.constantFrom<Kind>('internal', 'sab', 'ab', 'view'),
});
const layoutArb = fc.record({
  origin: fc.constantFrom(0, 0x1f0000, 2 ** 32 - 0x20000, 2 ** 36),
  specs: fc.array(specArb, { minLength: 1, maxLength: 4 }),
}).map(({ origin, specs }) => {
  let at = origin;
  const out: Spec[] = specs.map((s) => {
    const base = at + s.gap * PAGE;
    at = base + s.pages * PAGE;
    return { base, size: s.pages * PAGE, kind: s.kind };
  });
  return { origin, specs: out };
});

/** A concrete step: the same numbers for both buses and the model. */
type Step =
  | { op: 'map'; dom: number; iova: number; gpa: number; size: number; perms: number }
  | { op: 'unmap'; dom: number; iova: number; size: number }
  | { op: 'attach'; b: number; dom: number }
  | { op: 'detach'; b: number }
  | { op: 'create'; kind: DomainKind }
  | { op: 'destroy'; dom: number }
  | { op: 'bme'; b: number; on: boolean }
  | { op: 'dma'; b: number; dir: number; sg: boolean; elems: Array<[number, number]>; data: Uint8Array | undefined }
  | { op: 'burst'; b: number; n: number }
  | { op: 'removeRam'; index: number }
  | { op: 'addRam'; spec: Spec; bytes: Uint8Array }
  | { op: 'drain' };

/**
 * A run's layout and the RAM it removed; to aim at stale translations: every IOVA page it ever
 * mapped, the pages recent DMAs used (likely in the IOTLB), and the edges of the last unmap.
 */
interface Run {
  origin: number; specs: Spec[]; removed: Spec[]; ever: Set<number>;
  used: Array<{ dom: number; page: number }>; unmapped: { dom: number; pages: number[] };
}

function pickDomain(m: Model, pick: number): number {
  const ids = m.ids();
  return pick % 11 === 10 ? 99 : ids[pick % ids.length];
}

function domainOf(m: Model, r: DomRef): number {
  const tr = m.ids().filter((id) => m.domains.get(id)!.kind === 'translated');
  return r.t === 'tr' && tr.length > 0 ? tr[r.n % tr.length] : pickDomain(m, r.n);
}

function iovaOf(s: IovaSel, run: Run): number {
  switch (s.t) {
    case 'used': return run.used.length ? run.used[s.k % run.used.length].page * PAGE : 0x100000;
    case 'low': return 0x100000 + s.p * PAGE;
    case 'big': return 0x40000000 + s.k * LARGE;
    case 'top': return IOVA_LIMIT - s.p * PAGE;
    case 'far': return 2 ** 40 + s.p * PAGE;
  }
}

function resolve(m: Model, run: Run, o: Op): Step {
  switch (o.op) {
    case 'map': {
      let gpa: number;
      if (o.gpa.t === 'ram') {
        const s = run.specs[o.gpa.r % run.specs.length];
        gpa = s.base + (o.gpa.p % (s.size / PAGE)) * PAGE;
      } else if (o.gpa.t === 'big') gpa = Math.floor(run.origin / LARGE) * LARGE + o.gpa.k * LARGE;
      else gpa = run.origin + o.gpa.p * PAGE;
      return { op: 'map', dom: domainOf(m, o.dom), iova: iovaOf(o.iova, run), gpa, size: o.pages * PAGE, perms: o.perms };
    }
    case 'unmap': {
      // An unmap of a page a DMA used goes to the domain that used it (where the IOTLB holds it).
      const dom = o.iova.t === 'used' && run.used.length ? run.used[o.iova.k % run.used.length].dom : domainOf(m, o.dom);
      return { op: 'unmap', dom, iova: iovaOf(o.iova, run) + o.skip * PAGE, size: o.pages * PAGE };
    }
    case 'attach': return { op: 'attach', b: o.b, dom: domainOf(m, o.dom) };
    case 'destroy': return { op: 'destroy', dom: pickDomain(m, o.dom) };
    case 'dma': {
      const d = m.domains.get(m.slot[o.b])!;
      const all = d.kind === 'translated' ? [...d.pages.keys()].sort((x, y) => x - y) : [];
      // Mostly pages backed by RAM, mostly with the permission the direction needs.
      const inRam = all.filter((p) => m.find(d.pages.get(p)!.gpa) >= 0);
      const fit = inRam.filter((p) => (d.pages.get(p)!.perms & (o.dir === 0 ? 1 : 2)) !== 0);
      const present = m.present();
      const elems = (o.sg ? o.elems : o.elems.slice(0, 1)).map((e): [number, number] => {
        if (!e.near) return [WILD[e.wild], e.len];
        if (d.kind === 'translated' && run.unmapped.dom === m.slot[o.b] && run.unmapped.pages.length > 0 && e.pick % 4 === 3) {
          return [run.unmapped.pages[Math.floor(e.pick / 4) % run.unmapped.pages.length] * PAGE + e.off, e.len]; // just unmapped
        }
        if (d.kind === 'translated' && e.pick % 6 === 5 && run.ever.size > 0) {
          const ever = [...run.ever];
          return [ever[Math.floor(e.pick / 6) % ever.length] * PAGE + e.off, e.len]; // maybe unmapped since
        }
        const pages = e.pick % 6 === 0 || inRam.length === 0 ? all : e.pick % 6 === 1 || fit.length === 0 ? inRam : fit;
        if (pages.length > 0) {
          // Edges mostly of pages where the mapping ends (the next page is unmapped or elsewhere),
          // mostly of pages recent DMAs used: those are in the IOTLB (its fast path).
          const endsHere = (p: number): boolean => {
            const a = d.pages.get(p);
            const n = d.pages.get(p + 1);
            return a !== undefined && (!n || n.gpa !== a.gpa + PAGE || n.perms !== a.perms);
          };
          const used = run.used.filter((u) => u.dom === m.slot[o.b] && endsHere(u.page)).map((u) => u.page);
          const ends = e.edge ? pages.filter(endsHere) : [];
          const page = !e.edge ? pages[e.pick % pages.length]
            : used.length > 0 && (e.pick & 2) === 0 ? used[(e.pick >> 2) % used.length]
              : ends.length > 0 ? ends[(e.pick >> 2) % ends.length] : pages[e.pick % pages.length];
          return [e.edge ? Math.max(0, (page + 1) * PAGE - e.len + (e.pick & 1)) : page * PAGE + e.off, e.len];
        }
        if (present.length > 0) {
          const r = m.regions[present[e.pick % present.length]]!;
          if (e.edge) return [Math.max(0, r.base + r.size - e.len + (e.pick & 1)), e.len];
          return [r.base + ((Math.floor(e.pick / 7) * PAGE + e.off) % r.size), e.len];
        }
        return [run.origin + e.off, e.len];
      });
      const total = elems.reduce((s, [, n]) => s + n, 0);
      return { op: 'dma', b: o.b, dir: o.dir, sg: o.sg, elems, data: o.dir === 1 ? seeded(total, o.seed) : undefined };
    }
    case 'removeRam': {
      const present = m.present();
      const index = present.length ? present[o.pick % present.length] : 63;
      const r = m.regions[index];
      if (r) run.removed.push({ base: r.base, size: r.size, kind: r.kind });
      return { op: 'removeRam', index };
    }
    case 'addRam': {
      const spec = run.removed.length && o.pick % 4 !== 3
        ? run.removed[o.pick % run.removed.length]
        : { base: run.origin + 24 * MiB + (o.pick % 5) * 64 * KiB, size: (1 + (o.pick % 3)) * 32 * KiB, kind: (['internal', 'sab', 'ab', 'view'] as const)[o.pick % 4] };
      return { op: 'addRam', spec, bytes: spec.kind === 'internal' ? new Uint8Array(spec.size) : seeded(spec.size, o.seed) };
    }
    default: return o;
  }
}

/** Runs a step on a bus: a comparable string, and the bytes a read returned. */
function exec(side: Side, s: Step): { out: string; bytes?: Uint8Array } {
  const d = side.bus.dma;
  try {
    switch (s.op) {
      case 'map': d.map(s.dom, { iova: s.iova, gpa: s.gpa, size: s.size, read: (s.perms & 1) !== 0, write: (s.perms & 2) !== 0 }); return { out: 'ok' };
      case 'unmap': return { out: String(d.unmap(s.dom, s.iova, s.size)) };
      case 'attach': d.attach(BDFS[s.b], s.dom); return { out: 'ok' };
      case 'detach': d.detach(BDFS[s.b]); return { out: 'ok' };
      case 'create': return { out: String(d.createDomain(s.kind)) };
      case 'destroy': d.destroyDomain(s.dom); return { out: 'ok' };
      case 'bme': side.bus.configWrite(BDFS[s.b], 4, 2, s.on ? 4 : 0); return { out: 'ok' };
      case 'dma': {
        const total = s.elems.reduce((t, [, n]) => t + n, 0);
        const bdf = BDFS[s.b];
        if (s.dir === 0) {
          const into = new Uint8Array(total);
          const r = s.sg ? d.readSg(bdf, s.elems.map(([iova, length]) => ({ iova, length })), into) : d.read(bdf, s.elems[0][0], into);
          return { out: r, bytes: into };
        }
        return { out: s.sg ? d.writeSg(bdf, s.elems.map(([iova, length]) => ({ iova, length })), s.data!) : d.write(bdf, s.elems[0][0], s.data!) };
      }
      case 'burst': {
        const rs = new Set<string>();
        for (let k = 0; k < s.n; k++) rs.add(d.read(BDFS[s.b], 2 ** 51 + k, new Uint8Array(1 + (k & 3))));
        return { out: [...rs].sort().join(',') };
      }
      case 'removeRam': d.removeRam(s.index); return { out: 'ok' };
      case 'addRam': return { out: addTo(side, s.spec, s.bytes) };
      case 'drain': return { out: JSON.stringify(d.faults()) };
    }
  } catch (e) {
    return { out: (e as Error).name === 'ArgumentError' ? 'ArgumentError' : `${(e as Error).name}: ${(e as Error).message}` };
  }
}

/** The model's answer for a step (and its effect on the model's RAM). */
function expectOf(m: Model, s: Step): { out: string; bytes?: Uint8Array } {
  switch (s.op) {
    case 'map': return { out: m.map(s.dom, s.iova, s.gpa, s.size, s.perms) };
    case 'unmap': return { out: String(m.unmap(s.dom, s.iova, s.size)) };
    case 'attach': return { out: m.attach(s.b, s.dom) };
    case 'detach': m.slot[s.b] = 0; return { out: 'ok' };
    case 'create': return { out: String(m.createDomain(s.kind)) };
    case 'destroy': return { out: m.destroyDomain(s.dom) };
    case 'bme': m.bme[s.b] = s.on; return { out: 'ok' };
    case 'dma': {
      const o = m.dma(s.b, s.dir, s.elems);
      if (o === 'ArgumentError') return { out: o };
      if (s.dir === 0) {
        const bytes = new Uint8Array(s.elems.reduce((t, [, n]) => t + n, 0));
        if (o.result === 'ok') {
          let at = 0;
          for (const p of o.pieces) {
            bytes.set(m.regions[p.region]!.bytes.subarray(p.offset, p.offset + p.length), at);
            at += p.length;
          }
        }
        return { out: o.result, bytes };
      }
      if (o.result === 'ok') {
        let at = 0;
        for (const p of o.pieces) {
          m.regions[p.region]!.bytes.set(s.data!.subarray(at, at + p.length), p.offset);
          at += p.length;
        }
      }
      return { out: o.result };
    }
    case 'burst': {
      const rs = new Set<string>();
      for (let k = 0; k < s.n; k++) rs.add((m.dma(s.b, 0, [[2 ** 51 + k, 1 + (k & 3)]]) as { result: string }).result);
      return { out: [...rs].sort().join(',') };
    }
    case 'removeRam': return { out: m.removeRam(s.index) };
    case 'addRam': return { out: String(m.addRam(s.spec, s.bytes.slice())) };
    case 'drain': {
      const q = m.queue;
      m.queue = [];
      return { out: JSON.stringify(q) };
    }
  }
}

const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.length);

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  let k = 0;
  while (k < a.length && a[k] === b[k]) k++;
  return k === a.length ? 'equal' : `first difference at ${k}: ${a[k]} vs ${b[k]}`;
}

const show = (s: Step): string => JSON.stringify(s, (k, v) => ((k === 'data' || k === 'bytes') && v ? `<${(v as Uint8Array).length} bytes>` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

async function runScenario(layout: { origin: number; specs: Spec[] }, ops: Op[]): Promise<{ seen: Set<string>; stats: Model['stats'] }> {
  const seen = new Set<string>();
  const model = new Model();
  const sides: Side[] = [];
  for (const backend of ['wasm', 'ts'] as const) {
    const bus = await createBus({ backend });
    for (const bdf of BDFS) bus.configWrite(bdf, 4, 2, 4);
    sides.push({ bus, guards: [] });
  }
  const run: Run = { origin: layout.origin, specs: layout.specs, removed: [], ever: new Set(), used: [], unmapped: { dom: -1, pages: [] } };
  layout.specs.forEach((spec, i) => {
    const bytes = seeded(spec.size, i + 1);
    expect(model.addRam(spec, bytes.slice())).toBe(i);
    for (const side of sides) expect(addTo(side, spec, bytes)).toBe(String(i));
  });
  // Two translated domains and a blocked one; functions 0 and 1 start translated.
  const prelude: Step[] = [
    { op: 'create', kind: 'translated' }, { op: 'create', kind: 'translated' }, { op: 'create', kind: 'blocked' },
    { op: 'attach', b: 0, dom: 1 }, { op: 'attach', b: 1, dom: 2 },
  ];
  const steps: Array<Step | Op> = [...prelude, ...ops, { op: 'drain' }];
  for (const [k, raw] of steps.entries()) {
    const step = k < prelude.length ? (raw as Step) : resolve(model, run, raw as Op);
    const what = `step ${k}: ${show(step)}`;
    const writable = step.op === 'dma' && step.dir === 1 ? model.writable(step.b) : () => false;
    const before = model.regions.map((r) => (r ? { base: r.base, bytes: r.bytes.slice() } : undefined));
    const got = sides.map((side) => exec(side, step));
    const want = expectOf(model, step);
    if (step.op === 'dma' || step.op === 'burst') for (const r of want.out.split(',')) seen.add(r);
    if (step.op === 'map' && want.out === 'ok') for (let p = 0; p < step.size / PAGE; p++) run.ever.add(step.iova / PAGE + p);
    if (step.op === 'unmap' && want.out !== 'ArgumentError') {
      const first = step.iova / PAGE;
      const last = first + step.size / PAGE - 1;
      run.unmapped = { dom: step.dom, pages: [first, first + 1, last - 1, last].filter((p) => p >= first && p <= last) };
    }
    if (step.op === 'dma' && want.out === 'ok' && model.domains.get(model.slot[step.b])!.kind === 'translated') {
      for (const [iova, n] of step.elems) if (n > 0) run.used.push({ dom: model.slot[step.b], page: Math.floor(iova / PAGE) });
      run.used = run.used.slice(-16);
    }
    expect(got[1].out, `${what}: ts vs wasm`).toBe(got[0].out);
    expect(got[0].out, `${what}: wasm vs model`).toBe(want.out);
    if (want.bytes) {
      for (const g of got) expect(firstDifference(g.bytes!, want.bytes), `${what}: bytes read`).toBe('equal');
    }
    // RAM: only pages writable for the function changed, and every region matches the model.
    for (const [si, side] of sides.entries()) {
      expect(side.bus.core.dma.ramCount(), `${what}: RAM count`).toBe(model.present().length);
      model.regions.forEach((r, i) => {
        if (!r) return;
        const now = side.bus.dma.ram(i);
        const old = before[i];
        if (step.op !== 'addRam' && old && !buf(now).equals(buf(old.bytes))) {
          for (let x = 0; x < now.length; x++) {
            if (now[x] !== old.bytes[x] && !writable(Math.floor((r.base + x) / PAGE))) {
              expect.fail(`${what}: side ${si} changed GPA 0x${(r.base + x).toString(16)}, outside what the function may write`);
            }
          }
        }
        if (!buf(now).equals(buf(r.bytes))) expect.fail(`${what}: side ${si} region ${i}: ${firstDifference(now, r.bytes)}`);
      });
      expect(guardsIntact(side), `${what}: guard bytes`).toBe(true);
    }
    const [ws, ts] = sides.map((s) => s.bus.dma.stats());
    expect(ts, `${what}: stats`).toEqual(ws);
    const { faults, droppedFaults, transfers, bytes } = ws as DmaStats;
    expect({ faults, droppedFaults, transfers, bytes }, `${what}: stats vs model`).toEqual(model.stats);
  }
  return { seen, stats: model.stats };
}

describe('bus.dma differential: Wasm bus, TypeScript bus and the reference model', () => {
  it('random layouts, domains, mappings and DMA requests: same results, bytes, faults and stats; no byte outside writable pages changes', async () => {
    await fc.assert(
      fc.asyncProperty(layoutArb, fc.array(opArb, { minLength: 10, maxLength: 80 }), async (layout, ops) => {
        await runScenario(layout, ops);
      }),
      { numRuns: 250 },
    );
  });

  it('a fixed scenario reaches every fault reason, both page sizes, a split, a RAM change and the log overflow', async () => {
    const specs: Spec[] = [
      { base: LARGE - 8 * PAGE, size: 16 * PAGE, kind: 'internal' }, // straddles 2 MiB
      { base: LARGE + 8 * PAGE, size: 8 * PAGE, kind: 'view' },
      { base: 3 * LARGE, size: 4 * PAGE, kind: 'sab' },
    ];
    const dma = (b: number, dir: number, near: boolean, pick: number, off: number, len: number): Op =>
      ({ op: 'dma', b, dir, sg: false, elems: [{ near, edge: false, pick, off, len, wild: 0 }], seed: pick + off });
    const ops: Op[] = [
      { op: 'map', dom: { t: 'any', n: 1 }, iova: { t: 'big', k: 0 }, gpa: { t: 'big', k: 0 }, pages: 512, perms: 3 }, // 2 MiB page
      { op: 'map', dom: { t: 'any', n: 1 }, iova: { t: 'low', p: 0 }, gpa: { t: 'ram', r: 0, p: 3 }, pages: 4, perms: 1 },
      { op: 'map', dom: { t: 'any', n: 1 }, iova: { t: 'low', p: 4 }, gpa: { t: 'ram', r: 1, p: 0 }, pages: 2, perms: 2 },
      { op: 'map', dom: { t: 'any', n: 1 }, iova: { t: 'low', p: 6 }, gpa: { t: 'any', p: 300 }, pages: 1, perms: 3 },
      ...Array.from({ length: 24 }, (_, k) => dma(0, k & 1, true, k * 37, (k * 511) % PAGE, 1 + ((k * 997) % (3 * PAGE)))),
      { op: 'unmap', dom: { t: 'any', n: 1 }, iova: { t: 'big', k: 0 }, skip: 510, pages: 1 }, // split
      ...Array.from({ length: 12 }, (_, k) => dma(0, k & 1, true, k * 91 + 5, (k * 129) % PAGE, 200)),
      { op: 'removeRam', pick: 1 },
      dma(0, 1, true, 4, 0, 100),
      { op: 'addRam', pick: 0, seed: 9 },
      dma(0, 0, true, 4, 0, 100),
      { op: 'bme', b: 0, on: false },
      dma(0, 1, true, 1, 0, 8),
      { op: 'bme', b: 0, on: true },
      dma(1, 1, true, 1, 0, 8),
      { op: 'attach', b: 1, dom: { t: 'any', n: 3 } },
      dma(1, 0, true, 1, 0, 8),
      { op: 'burst', b: 0, n: 300 },
      { op: 'drain' },
      { op: 'detach', b: 0 },
      dma(0, 1, true, 2, 5, 3 * PAGE),
    ];
    const { seen, stats } = await runScenario({ origin: 0, specs }, ops);
    expect([...seen].sort()).toEqual(['blocked', 'bus-master-off', 'ok', 'outside-ram', 'permission', 'unmapped']);
    expect(stats.droppedFaults).toBeGreaterThan(0);
  });
});
