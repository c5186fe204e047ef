// Conformance of the Bus's DMA service (`bus.dma`), on both backends: guest memory (internal and
// external RAM, transfers spanning both), identity / blocked / translated domains, page-crossing
// transfers, 2 MiB pages, permissions, Bus Master Enable gating, IOTLB invalidation (unmap,
// remap, attach, detach, destroy, RAM changes), the fault log and its overflow, scatter-gather.
// Every transfer checks the bytes that must change and that no other RAM byte changed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBus, type Bus } from '../../src/bus.js';
import { ArgumentError } from '../../src/errors.js';
import type { DmaFaultRecord, SgElement } from '../../src/dma/types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const EP = '00:01.0';
const EP_ID = '0000:00:01.0';
const EP2 = '00:03.0';
const EP3 = '00:03.1';
const GUARD = 0xa5;
const GUARD_BYTES = 8192;

/** RAM bytes as the test fills them: bit 7 clear, so a written byte (bit 7 set) always differs. */
function pat(gpa: number, seed = 0): number {
  const lo = gpa % 2 ** 32;
  return ((Math.imul((lo ^ seed) >>> 0, 0x9e3779b1) >>> 24) ^ Math.floor(gpa / PAGE)) & 0x7f;
}
/** Data a device writes: bit 7 set. */
function data(n: number, seed = 1): Uint8Array {
  const d = new Uint8Array(n);
  for (let k = 0; k < n; k++) d[k] = 0x80 | ((k * 13 + seed * 7 + (k >> 8)) & 0x7f);
  return d;
}

type RamKind = 'internal' | 'sab' | 'ab' | 'view' | 'long';
interface RamSpec { base: number; size: number; kind: RamKind }
interface Region { spec: RamSpec; index: number; whole?: Uint8Array; view?: Uint8Array }
interface Machine { bus: Bus; regions: Region[] }

/**
 * R0 internal [0, 256K) | R1 external SharedArrayBuffer [256K, 512K), adjacent |
 * R2 internal [2M, 6M) (two 2 MiB pages) | R3 external ArrayBuffer [8M, 8M+64K) |
 * R4 external Uint8Array view with guard bytes around it, above 4 GiB: [2^36, 2^36+64K)
 */
const LAYOUT: RamSpec[] = [
  { base: 0, size: 256 * KiB, kind: 'internal' },
  { base: 256 * KiB, size: 256 * KiB, kind: 'sab' },
  { base: 2 * MiB, size: 4 * MiB, kind: 'internal' },
  { base: 8 * MiB, size: 64 * KiB, kind: 'ab' },
  { base: 2 ** 36, size: 64 * KiB, kind: 'view' },
];

function setBme(bus: Bus, bdf: string, on: boolean): void {
  bus.configWrite(bdf, 4, 2, on ? 4 : 0);
}

async function machine(backend: 'wasm' | 'ts', layout: RamSpec[] = LAYOUT, bdfs = [EP, EP2, EP3]): Promise<Machine> {
  const bus = await createBus({ backend });
  for (const bdf of bdfs) setBme(bus, bdf, true);
  const regions: Region[] = [];
  for (const spec of layout) regions.push(addRegion(bus, spec));
  return { bus, regions };
}

function addRegion(bus: Bus, spec: RamSpec): Region {
  const { base, size, kind } = spec;
  let whole: Uint8Array | undefined;
  let view: Uint8Array | undefined;
  let buffer: ArrayBuffer | SharedArrayBuffer | Uint8Array | undefined;
  if (kind === 'sab') buffer = new SharedArrayBuffer(size);
  else if (kind === 'ab') buffer = new ArrayBuffer(size);
  else if (kind === 'view') {
    whole = new Uint8Array(size + 2 * GUARD_BYTES).fill(GUARD);
    buffer = view = whole.subarray(GUARD_BYTES, GUARD_BYTES + size);
  } else if (kind === 'long') {
    whole = new Uint8Array(size + GUARD_BYTES).fill(GUARD);
    buffer = whole;
    view = whole.subarray(0, size);
  }
  if (buffer && !view) view = new Uint8Array(buffer instanceof Uint8Array ? buffer.buffer : buffer);
  const index = bus.dma.addRam({ base, size, buffer });
  const bytes = view ?? bus.dma.ram(index);
  for (let k = 0; k < size; k++) bytes[k] = pat(base + k);
  return { spec, index, whole, view };
}

function regionAt(m: Machine, gpa: number): Region | undefined {
  return m.regions.find((r) => gpa >= r.spec.base && gpa < r.spec.base + r.spec.size);
}

/** Guest RAM bytes [gpa, gpa + n), read through the embedder's views. */
function gpaRead(m: Machine, gpa: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n;) {
    const r = regionAt(m, gpa + k);
    if (!r) throw new Error(`test: 0x${(gpa + k).toString(16)} is not RAM`);
    const off = gpa + k - r.spec.base;
    const take = Math.min(n - k, r.spec.size - off);
    out.set(m.bus.dma.ram(r.index).subarray(off, off + take), k);
    k += take;
  }
  return out;
}

function expectedPattern(gpa: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = pat(gpa + k);
  return out;
}

/** The pattern bytes of several GPA pieces, concatenated. */
function patternOf(pieces: Array<[number, number]>): Uint8Array {
  const parts = pieces.map(([g, n]) => expectedPattern(g, n));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Byte-array equality through memcmp (vitest's deep equality is slow on MiB arrays). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.length);
  if (a.length === b.length && a.equals(b)) return;
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  expect(`${a.length} bytes, first difference at ${k}: ${a.subarray(k, k + 8).toString('hex')}`)
    .toBe(`${b.length} bytes, first difference at ${k}: ${b.subarray(k, k + 8).toString('hex')}`);
}

function snapshot(m: Machine): Uint8Array[] {
  return m.regions.map((r) => m.bus.dma.ram(r.index).slice());
}

/** GPA ranges whose bytes differ from the snapshot, merged. */
function changedRanges(m: Machine, before: Uint8Array[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  m.regions.forEach((r, i) => {
    const now = m.bus.dma.ram(r.index);
    if (Buffer.compare(Buffer.from(now.buffer, now.byteOffset, now.length), Buffer.from(before[i])) === 0) return;
    for (let k = 0; k < now.length; k++) {
      if (now[k] === before[i][k]) continue;
      const g = r.spec.base + k;
      const last = out[out.length - 1];
      if (last && last[1] === g) last[1] = g + 1;
      else out.push([g, g + 1]);
    }
  });
  return out.sort((a, b) => a[0] - b[0]);
}

function merged(ranges: Array<[number, number]>): Array<[number, number]> {
  const s = ranges.filter(([, n]) => n > 0).map(([g, n]): [number, number] => [g, g + n]).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && last[1] >= r[0]) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return out;
}

/** Only [gpa, gpa+n) pieces changed, and they hold `bytes` in order. */
function expectWritten(m: Machine, before: Uint8Array[], pieces: Array<[number, number]>, bytes: Uint8Array): void {
  expect(changedRanges(m, before)).toEqual(merged(pieces));
  let at = 0;
  for (const [g, n] of pieces) {
    expectBytes(gpaRead(m, g, n), bytes.subarray(at, at + n));
    at += n;
  }
  expect(at).toBe(bytes.length);
}

function expectNothingChanged(m: Machine, before: Uint8Array[]): void {
  expect(changedRanges(m, before)).toEqual([]);
  expect(guardsIntact(m)).toBe(true);
}

function guardsIntact(m: Machine): boolean {
  for (const r of m.regions) {
    if (!r.whole || !r.view) continue;
    const start = r.view.byteOffset - r.whole.byteOffset;
    for (let k = 0; k < r.whole.length; k++) {
      if ((k < start || k >= start + r.view.length) && r.whole[k] !== GUARD) return false;
    }
  }
  return true;
}

function fault(bdf: string, iova: number, length: number, direction: 'read' | 'write', reason: DmaFaultRecord['reason']): DmaFaultRecord {
  return { bdf, iova, length, direction, reason };
}

describe.each(['wasm', 'ts'] as const)('bus.dma on the %s backend', (backend) => {
  describe('identity domain (every function starts in it)', () => {
    it('reads and writes guest RAM at IOVA = GPA, internal and external regions alike', async () => {
      const m = await machine(backend);
      for (const [gpa, n] of [[0x1000, 64], [300 * KiB + 3, 700], [3 * MiB + 17, 4096], [8 * MiB + 60 * KiB, 4 * KiB], [2 ** 36 + 5, 333]] as const) {
        const into = new Uint8Array(n);
        expect(m.bus.dma.read(EP, gpa, into)).toBe('ok');
        expectBytes(into, expectedPattern(gpa, n));
      }
      for (const [gpa, n] of [[0x2000, 100], [400 * KiB, 4096], [5 * MiB - 7, 9], [8 * MiB, 64 * KiB], [2 ** 36 + 64 * KiB - 10, 10]] as const) {
        const before = snapshot(m);
        const d = data(n, gpa & 0xff);
        expect(m.bus.dma.write(EP, gpa, d)).toBe('ok');
        expectWritten(m, before, [[gpa, n]], d);
      }
      expect(guardsIntact(m)).toBe(true);
      expect(m.bus.dma.faults()).toEqual([]);
    });

    it('a transfer spanning an internal and an adjacent external region moves every byte', async () => {
      const m = await machine(backend);
      const into = new Uint8Array(8 * KiB);
      expect(m.bus.dma.read(EP, 256 * KiB - 3 * KiB, into)).toBe('ok');
      expectBytes(into, expectedPattern(256 * KiB - 3 * KiB, 8 * KiB));
      const before = snapshot(m);
      const d = data(10 * KiB, 3);
      expect(m.bus.dma.write(EP, 256 * KiB - 5 * KiB - 1, d)).toBe('ok');
      expectWritten(m, before, [[256 * KiB - 5 * KiB - 1, 10 * KiB]], d);
      // The external half is the embedder's own buffer.
      expect(m.regions[1].view![0]).toBe(d[5 * KiB + 1]);
    });

    it('bytes outside RAM fault as outside-ram; nothing of the transfer lands', async () => {
      const m = await machine(backend);
      const before = snapshot(m);
      // Runs off the end of R1 into the gap.
      expect(m.bus.dma.write(EP, 512 * KiB - 100, data(200))).toBe('outside-ram');
      const into = new Uint8Array(50).fill(0xee);
      expect(m.bus.dma.read(EP, 6 * MiB - 10, into)).toBe('outside-ram'); // off the end of R2
      expectBytes(into, new Uint8Array(50).fill(0xee)); // the caller's buffer is untouched
      expect(m.bus.dma.read(EP, 7 * MiB, new Uint8Array(1))).toBe('outside-ram');
      expect(m.bus.dma.write(EP, 2 ** 52 - 8, data(8))).toBe('outside-ram');
      expect(m.bus.dma.read(EP, 2 ** 63, new Uint8Array(4))).toBe('outside-ram');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 512 * KiB, 100, 'write', 'outside-ram'),
        fault(EP_ID, 6 * MiB, 40, 'read', 'outside-ram'),
        fault(EP_ID, 7 * MiB, 1, 'read', 'outside-ram'),
        fault(EP_ID, 2 ** 52 - 8, 8, 'write', 'outside-ram'),
        fault(EP_ID, 2 ** 63, 4, 'read', 'outside-ram'),
      ]);
    });

    it('an identity domain created by the embedder behaves as the built-in one', async () => {
      const m = await machine(backend);
      const id = m.bus.dma.createDomain('identity');
      expect(id).toBeGreaterThan(0);
      m.bus.dma.attach(EP, id);
      const into = new Uint8Array(6000);
      expect(m.bus.dma.read(EP, 256 * KiB - 3000, into)).toBe('ok');
      expectBytes(into, expectedPattern(256 * KiB - 3000, 6000));
      expect(m.bus.dma.write(EP, 7 * MiB, data(1))).toBe('outside-ram');
    });
  });

  describe('blocked domain', () => {
    it('every DMA faults as blocked, with the first non-empty element in the record', async () => {
      const m = await machine(backend);
      const b = m.bus.dma.createDomain('blocked');
      m.bus.dma.attach(EP, b);
      const before = snapshot(m);
      const into = new Uint8Array(16).fill(7);
      expect(m.bus.dma.read(EP, 0x1000, into)).toBe('blocked');
      expectBytes(into, new Uint8Array(16).fill(7));
      expect(m.bus.dma.write(EP, 0x2000, data(32))).toBe('blocked');
      expect(m.bus.dma.writeSg(EP, [{ iova: 0x10, length: 0 }, { iova: 0x3000, length: 5 }, { iova: 0x4000, length: 6 }], data(11))).toBe('blocked');
      expect(m.bus.dma.readSg(EP, [{ iova: 0x5000, length: 2 }], new Uint8Array(2))).toBe('blocked');
      // A transfer of nothing is done: nothing was asked.
      expect(m.bus.dma.read(EP, 0x1000, new Uint8Array(0))).toBe('ok');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 0x1000, 16, 'read', 'blocked'),
        fault(EP_ID, 0x2000, 32, 'write', 'blocked'),
        fault(EP_ID, 0x3000, 5, 'write', 'blocked'),
        fault(EP_ID, 0x5000, 2, 'read', 'blocked'),
      ]);
      // Other functions are not affected.
      expect(m.bus.dma.read(EP2, 0x1000, new Uint8Array(16))).toBe('ok');
    });
  });

  describe('translated domain', () => {
    it('reads and writes go to the mapped guest pages; unmapped IOVAs fault', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      // IOVA 1 GiB + k pages -> scattered GPAs in internal and external RAM.
      const gpas = [0x3000, 300 * KiB, 3 * MiB + 5 * PAGE, 8 * MiB + PAGE, 2 ** 36 + 2 * PAGE];
      gpas.forEach((g, k) => m.bus.dma.map(t, { iova: 2 ** 30 + k * PAGE, gpa: g, size: PAGE }));
      m.bus.dma.attach(EP, t);
      gpas.forEach((g, k) => {
        const into = new Uint8Array(100);
        expect(m.bus.dma.read(EP, 2 ** 30 + k * PAGE + 10, into)).toBe('ok');
        expectBytes(into, expectedPattern(g + 10, 100));
        const before = snapshot(m);
        const d = data(50, k);
        expect(m.bus.dma.write(EP, 2 ** 30 + k * PAGE + 4000, d)).toBe('ok');
        expectWritten(m, before, [[g + 4000, 50]], d);
      });
      const before = snapshot(m);
      // IOVA = GPA is not mapped here: identity does not leak through.
      expect(m.bus.dma.read(EP, 0x3000, new Uint8Array(4))).toBe('unmapped');
      expect(m.bus.dma.write(EP, 2 ** 30 + 5 * PAGE, data(4))).toBe('unmapped');
      expect(m.bus.dma.read(EP, 2 ** 48, new Uint8Array(4))).toBe('unmapped');
      expect(m.bus.dma.read(EP, 2 ** 64 - 4096, new Uint8Array(4))).toBe('unmapped');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 0x3000, 4, 'read', 'unmapped'),
        fault(EP_ID, 2 ** 30 + 5 * PAGE, 4, 'write', 'unmapped'),
        fault(EP_ID, 2 ** 48, 4, 'read', 'unmapped'),
        fault(EP_ID, 2 ** 64 - 4096, 4, 'read', 'unmapped'),
      ]);
    });

    it('a mapping to guest-physical addresses that are not RAM faults as outside-ram', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x10000, gpa: 7 * MiB, size: PAGE }); // the gap between R2 and R3
      m.bus.dma.map(t, { iova: 0x11000, gpa: 2 ** 52 - PAGE, size: PAGE });
      m.bus.dma.map(t, { iova: 0x12000, gpa: 512 * KiB - PAGE, size: 2 * PAGE }); // last page of R1, then the gap
      m.bus.dma.attach(EP, t);
      const before = snapshot(m);
      expect(m.bus.dma.write(EP, 0x10000, data(8))).toBe('outside-ram');
      expect(m.bus.dma.read(EP, 0x11000, new Uint8Array(8))).toBe('outside-ram');
      expect(m.bus.dma.write(EP, 0x12000 + 100, data(PAGE))).toBe('outside-ram');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 0x10000, 8, 'write', 'outside-ram'),
        fault(EP_ID, 0x11000, 8, 'read', 'outside-ram'),
        fault(EP_ID, 0x13000, 100, 'write', 'outside-ram'),
      ]);
      const into = new Uint8Array(PAGE - 100);
      expect(m.bus.dma.read(EP, 0x12000 + 100, into)).toBe('ok');
      expectBytes(into, expectedPattern(512 * KiB - PAGE + 100, PAGE - 100));
    });
  });

  describe('page-crossing transfers', () => {
    it('split at every 4 KiB page onto scattered guest pages, in order, both directions', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      // IOVA pages 0..5 of 0x40_0000 -> GPA pages out of order, across regions.
      const gpas = [5 * PAGE, 2 * PAGE, 256 * KiB + 9 * PAGE, 4 * MiB + 3 * PAGE, 8 * MiB + 7 * PAGE, 0];
      gpas.forEach((g, k) => m.bus.dma.map(t, { iova: 0x400000 + k * PAGE, gpa: g, size: PAGE }));
      m.bus.dma.attach(EP, t);
      const start = 0x400000 + 0xf00;
      const n = 5 * PAGE - 0xf00 - 0x100; // from mid page 0 to 0x100 before the end of page 4
      const pieces: Array<[number, number]> = [[gpas[0] + 0xf00, PAGE - 0xf00], [gpas[1], PAGE], [gpas[2], PAGE], [gpas[3], PAGE], [gpas[4], PAGE - 0x100]];
      const into = new Uint8Array(n);
      expect(m.bus.dma.read(EP, start, into)).toBe('ok');
      expectBytes(into, patternOf(pieces));
      const before = snapshot(m);
      const d = data(n, 9);
      expect(m.bus.dma.write(EP, start, d)).toBe('ok');
      expectWritten(m, before, pieces, d);
      // Crossing one boundary by a single byte.
      const b2 = snapshot(m);
      const two = data(2, 4);
      expect(m.bus.dma.write(EP, 0x400000 + 5 * PAGE - 1, two)).toBe('ok');
      expectWritten(m, b2, [[gpas[4] + PAGE - 1, 1], [gpas[5], 1]], two);
    });

    it('a later page that is unmapped stops the whole transfer before any byte moves', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      const x = 0x800000;
      m.bus.dma.map(t, { iova: x, gpa: 0x10000, size: 2 * PAGE });
      m.bus.dma.map(t, { iova: x + 3 * PAGE, gpa: 0x20000, size: PAGE }); // page 2 is a hole
      m.bus.dma.attach(EP, t);
      const before = snapshot(m);
      const len = 2 * PAGE + 0x400;
      expect(m.bus.dma.write(EP, x + 0x800, data(len))).toBe('unmapped');
      expect(m.bus.dma.write(EP, x + 0x800, data(4 * PAGE))).toBe('unmapped');
      const into = new Uint8Array(3 * PAGE).fill(1);
      expect(m.bus.dma.read(EP, x, into)).toBe('unmapped');
      expect(into.every((v) => v === 1)).toBe(true);
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, x + 2 * PAGE, len - (2 * PAGE - 0x800), 'write', 'unmapped'),
        fault(EP_ID, x + 2 * PAGE, 4 * PAGE - (2 * PAGE - 0x800), 'write', 'unmapped'),
        fault(EP_ID, x + 2 * PAGE, PAGE, 'read', 'unmapped'),
      ]);
    });

    it('identity transfers cross regions and stop at a gap between them', async () => {
      const layout: RamSpec[] = [
        { base: 0x10000, size: 0x3000, kind: 'internal' },
        { base: 0x13000, size: 0x1000, kind: 'ab' },
        { base: 0x14000, size: 0x2000, kind: 'internal' },
        { base: 0x17000, size: 0x1000, kind: 'sab' }, // a one-page gap before it
      ];
      const m = await machine(backend, layout);
      const into = new Uint8Array(0x5000);
      expect(m.bus.dma.read(EP, 0x11000, into)).toBe('ok');
      expectBytes(into, expectedPattern(0x11000, 0x5000));
      const before = snapshot(m);
      expect(m.bus.dma.write(EP, 0x15000, data(0x2001))).toBe('outside-ram');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([fault(EP_ID, 0x16000, 0x1001, 'write', 'outside-ram')]);
    });
  });

  describe('2 MiB pages', () => {
    it('an aligned map uses 2 MiB pages: one IOTLB miss per page, data right across the page edge', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      const big = 2 ** 30; // 2 MiB aligned IOVA and GPA: 2 MiB pages
      m.bus.dma.map(t, { iova: big, gpa: 2 * MiB, size: 4 * MiB });
      const small = 2 ** 31; // GPA not 2 MiB aligned: 4 KiB pages
      m.bus.dma.map(t, { iova: small, gpa: 2 * MiB + PAGE, size: 2 * MiB });
      m.bus.dma.attach(EP, t);
      const s0 = m.bus.dma.stats();
      const into = new Uint8Array(MiB);
      expect(m.bus.dma.read(EP, big + 2 * MiB - 512 * KiB, into)).toBe('ok');
      expectBytes(into, expectedPattern(4 * MiB - 512 * KiB, MiB));
      const s1 = m.bus.dma.stats();
      expect(s1.iotlbMisses - s0.iotlbMisses).toBe(2);
      expect(m.bus.dma.read(EP, big + 2 * MiB - 512 * KiB, into)).toBe('ok');
      const s2 = m.bus.dma.stats();
      expect(s2.iotlbMisses - s1.iotlbMisses).toBe(0);
      expect(s2.iotlbHits - s1.iotlbHits).toBe(2);
      expect(m.bus.dma.read(EP, small, into)).toBe('ok');
      expectBytes(into, expectedPattern(2 * MiB + PAGE, MiB));
      expect(m.bus.dma.stats().iotlbMisses - s2.iotlbMisses).toBe(256);
      const before = snapshot(m);
      const d = data(MiB, 5);
      expect(m.bus.dma.write(EP, big + MiB + 3, d)).toBe('ok');
      expectWritten(m, before, [[3 * MiB + 3, MiB]], d);
    });

    it('unmapping 4 KiB inside a 2 MiB page splits it: exactly that page faults afterwards', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      const big = 2 ** 30;
      m.bus.dma.map(t, { iova: big, gpa: 2 * MiB, size: 4 * MiB });
      m.bus.dma.attach(EP, t);
      const into = new Uint8Array(3 * PAGE);
      expect(m.bus.dma.read(EP, big + 100 * PAGE, into)).toBe('ok'); // warms the 2 MiB entry
      expect(m.bus.dma.unmap(t, big + 101 * PAGE, PAGE)).toBe(PAGE);
      expect(m.bus.dma.read(EP, big + 100 * PAGE, into)).toBe('unmapped');
      expect(m.bus.dma.read(EP, big + 101 * PAGE + 4095, new Uint8Array(1))).toBe('unmapped');
      const one = new Uint8Array(PAGE);
      expect(m.bus.dma.read(EP, big + 100 * PAGE, one)).toBe('ok');
      expectBytes(one, expectedPattern(2 * MiB + 100 * PAGE, PAGE));
      expect(m.bus.dma.read(EP, big + 102 * PAGE, one)).toBe('ok');
      expectBytes(one, expectedPattern(2 * MiB + 102 * PAGE, PAGE));
      // The other 2 MiB page is still whole.
      const s = m.bus.dma.stats();
      expect(m.bus.dma.read(EP, big + 2 * MiB, new Uint8Array(MiB))).toBe('ok');
      expect(m.bus.dma.stats().iotlbMisses - s.iotlbMisses).toBe(1);
      expect(m.bus.dma.faults().map((f) => [f.iova, f.reason])).toEqual([[big + 101 * PAGE, 'unmapped'], [big + 101 * PAGE + 4095, 'unmapped']]);
    });

    it('a 2 MiB page straddling internal and external RAM and a gap', async () => {
      const layout: RamSpec[] = [
        { base: 2 * MiB, size: MiB, kind: 'internal' },
        { base: 3 * MiB, size: 512 * KiB, kind: 'sab' }, // [3.5M, 4M) is not RAM
      ];
      const m = await machine(backend, layout);
      const t = m.bus.dma.createDomain('translated');
      const big = 2 ** 40;
      m.bus.dma.map(t, { iova: big, gpa: 2 * MiB, size: 4 * MiB });
      m.bus.dma.attach(EP, t);
      const into = new Uint8Array(64 * KiB);
      expect(m.bus.dma.read(EP, big + MiB - 32 * KiB, into)).toBe('ok');
      expectBytes(into, expectedPattern(3 * MiB - 32 * KiB, 64 * KiB));
      const before = snapshot(m);
      const d = data(64 * KiB, 2);
      expect(m.bus.dma.write(EP, big + MiB - 16 * KiB, d)).toBe('ok');
      expectWritten(m, before, [[3 * MiB - 16 * KiB, 64 * KiB]], d);
      const b2 = snapshot(m);
      expect(m.bus.dma.write(EP, big + MiB + 512 * KiB - 8, data(16))).toBe('outside-ram');
      expect(m.bus.dma.read(EP, big + 2 * MiB, new Uint8Array(1))).toBe('outside-ram'); // the second page: no RAM at all
      expectNothingChanged(m, b2);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, big + MiB + 512 * KiB, 8, 'write', 'outside-ram'),
        fault(EP_ID, big + 2 * MiB, 1, 'read', 'outside-ram'),
      ]);
      // And back into the internal part after the external part was used (the cached span moves).
      const back = new Uint8Array(10);
      expect(m.bus.dma.read(EP, big + 5, back)).toBe('ok');
      expectBytes(back, expectedPattern(2 * MiB + 5, 10));
    });
  });

  describe('permissions', () => {
    it('read-only pages refuse DMA writes, write-only pages refuse DMA reads', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x100000, gpa: 0x8000, size: PAGE, write: false });
      m.bus.dma.map(t, { iova: 0x101000, gpa: 300 * KiB, size: PAGE, read: false });
      m.bus.dma.map(t, { iova: 0x102000, gpa: 0x9000, size: PAGE, read: true, write: true });
      m.bus.dma.map(t, { iova: 0x103000, gpa: 0x6000, size: PAGE, write: false });
      m.bus.dma.attach(EP, t);
      const into = new Uint8Array(16);
      expect(m.bus.dma.read(EP, 0x100000, into)).toBe('ok');
      expectBytes(into, expectedPattern(0x8000, 16));
      const before = snapshot(m);
      expect(m.bus.dma.write(EP, 0x100000, data(16))).toBe('permission');
      expect(m.bus.dma.read(EP, 0x101000, new Uint8Array(16))).toBe('permission');
      // A write over a writable page into the read-only one ahead of it: nothing lands anywhere.
      expect(m.bus.dma.write(EP, 0x103000 - 8, data(16))).toBe('permission');
      // A read from the readable page into the write-only one.
      expect(m.bus.dma.read(EP, 0x100ff0, new Uint8Array(0x20))).toBe('permission');
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 0x100000, 16, 'write', 'permission'),
        fault(EP_ID, 0x101000, 16, 'read', 'permission'),
        fault(EP_ID, 0x103000, 8, 'write', 'permission'),
        fault(EP_ID, 0x101000, 0x10, 'read', 'permission'),
      ]);
      const d = data(20);
      expect(m.bus.dma.write(EP, 0x101ff0, d)).toBe('ok'); // write-only then read-write: fine
      expectWritten(m, before, [[300 * KiB + 0xff0, 0x10], [0x9000, 4]], d);
    });

    it('permissions are cached with the translation and still enforced on IOTLB hits', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x100000, gpa: 0x8000, size: 2 * PAGE, write: false });
      m.bus.dma.attach(EP, t);
      for (let i = 0; i < 3; i++) expect(m.bus.dma.read(EP, 0x100000 + i, new Uint8Array(PAGE))).toBe('ok');
      const s = m.bus.dma.stats();
      const before = snapshot(m);
      expect(m.bus.dma.write(EP, 0x100010, data(4))).toBe('permission');
      expect(m.bus.dma.write(EP, 0x100000, data(2 * PAGE))).toBe('permission');
      expectNothingChanged(m, before);
      expect(m.bus.dma.stats().iotlbMisses).toBe(s.iotlbMisses);
    });
  });

  describe('Bus Master Enable (Command bit 2)', () => {
    it('off blocks every DMA in every domain kind; toggling it back on restores DMA', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      const b = m.bus.dma.createDomain('blocked');
      m.bus.dma.map(t, { iova: 0x100000, gpa: 0x8000, size: PAGE });
      const before = snapshot(m);
      for (const [dom, iova] of [[0, 0x8000], [t, 0x100000], [b, 0x8000]] as const) {
        if (dom === 0) m.bus.dma.detach(EP);
        else m.bus.dma.attach(EP, dom);
        setBme(m.bus, EP, false);
        expect(m.bus.configRead(EP, 4, 2) & 4).toBe(0);
        expect(m.bus.dma.read(EP, iova, new Uint8Array(8))).toBe('bus-master-off');
        expect(m.bus.dma.write(EP, iova, data(8))).toBe('bus-master-off');
        expect(m.bus.dma.readSg(EP, [{ iova, length: 4 }, { iova: iova + 8, length: 4 }], new Uint8Array(8))).toBe('bus-master-off');
        expect(m.bus.dma.writeSg(EP, [{ iova: 0, length: 0 }, { iova, length: 4 }], data(4))).toBe('bus-master-off');
        // Memory and IO decode do not enable bus mastering.
        m.bus.configWrite(EP, 4, 2, 3);
        expect(m.bus.dma.write(EP, iova, data(8))).toBe('bus-master-off');
        expectNothingChanged(m, before);
        setBme(m.bus, EP, true);
        const want = dom === b ? 'blocked' : 'ok';
        expect(m.bus.dma.read(EP, iova, new Uint8Array(8))).toBe(want);
      }
      const f = m.bus.dma.faults();
      expect(f.filter((x) => x.reason === 'bus-master-off')).toHaveLength(15);
      expect(f.slice(0, 5)).toEqual([
        fault(EP_ID, 0x8000, 8, 'read', 'bus-master-off'),
        fault(EP_ID, 0x8000, 8, 'write', 'bus-master-off'),
        fault(EP_ID, 0x8000, 4, 'read', 'bus-master-off'),
        fault(EP_ID, 0x8000, 4, 'write', 'bus-master-off'),
        fault(EP_ID, 0x8000, 8, 'write', 'bus-master-off'),
      ]);
    });

    it('is per function, is checked before the domain, and an empty transfer is not a fault', async () => {
      const m = await machine(backend);
      setBme(m.bus, EP, false);
      const before = snapshot(m);
      const d = data(16);
      expect(m.bus.dma.write(EP2, 0x100, d)).toBe('ok');
      expect(m.bus.dma.write(EP, 0x200, data(16))).toBe('bus-master-off');
      expectWritten(m, before, [[0x100, 16]], d);
      const b = m.bus.dma.createDomain('blocked');
      m.bus.dma.attach(EP, b);
      expect(m.bus.dma.read(EP, 0x100, new Uint8Array(1))).toBe('bus-master-off');
      expect(m.bus.dma.read(EP, 0x100, new Uint8Array(0))).toBe('ok');
      expect(m.bus.dma.writeSg(EP, [{ iova: 0x100, length: 0 }], new Uint8Array(0))).toBe('ok');
      expect(m.bus.dma.faults().map((f) => f.reason)).toEqual(['bus-master-off', 'bus-master-off']);
      // Toggling many times: each state takes effect at once.
      for (let i = 0; i < 6; i++) {
        setBme(m.bus, EP3, i % 2 === 1);
        expect(m.bus.dma.read(EP3, 0x100, new Uint8Array(4))).toBe(i % 2 === 1 ? 'ok' : 'bus-master-off');
      }
    });
  });

  describe('IOTLB invalidation: a stale translation is never used', () => {
    it('map, DMA, unmap, DMA faults (both directions, small and large unmaps)', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.attach(EP, t);
      for (const pages of [1, 16, 17, 64]) {
        const iova = 0x1000000 * pages;
        m.bus.dma.map(t, { iova, gpa: 0x10000, size: pages * PAGE });
        for (let p = 0; p < pages; p++) expect(m.bus.dma.read(EP, iova + p * PAGE + 1, new Uint8Array(8))).toBe('ok');
        expect(m.bus.dma.write(EP, iova, data(8))).toBe('ok');
        expect(m.bus.dma.unmap(t, iova, pages * PAGE)).toBe(pages * PAGE);
        const before = snapshot(m);
        for (let p = 0; p < pages; p++) {
          expect(m.bus.dma.read(EP, iova + p * PAGE + 1, new Uint8Array(8))).toBe('unmapped');
          expect(m.bus.dma.write(EP, iova + p * PAGE + 2, data(8))).toBe('unmapped');
        }
        expectNothingChanged(m, before);
      }
      expect(m.bus.dma.stats().faults).toBe(2 * (1 + 16 + 17 + 64));
    });

    it('remapping an IOVA to another page is seen at once (no stale target, no stale permission)', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.attach(EP, t);
      const x = 0x2000000;
      m.bus.dma.map(t, { iova: x, gpa: 0x4000, size: 20 * PAGE });
      const into = new Uint8Array(20 * PAGE);
      expect(m.bus.dma.read(EP, x, into)).toBe('ok');
      expect(m.bus.dma.unmap(t, x + 3 * PAGE, PAGE)).toBe(PAGE);
      m.bus.dma.map(t, { iova: x + 3 * PAGE, gpa: 8 * MiB, size: PAGE, write: false });
      expect(m.bus.dma.read(EP, x, into)).toBe('ok');
      expectBytes(into, patternOf([[0x4000, 3 * PAGE], [8 * MiB, PAGE], [0x4000 + 4 * PAGE, 16 * PAGE]]));
      const before = snapshot(m);
      expect(m.bus.dma.write(EP, x + 3 * PAGE + 8, data(8))).toBe('permission');
      expectNothingChanged(m, before);
      // A large unmap (the scan path) and a remap with different pages.
      expect(m.bus.dma.unmap(t, x, 20 * PAGE)).toBe(20 * PAGE);
      m.bus.dma.map(t, { iova: x, gpa: 3 * MiB, size: 20 * PAGE });
      expect(m.bus.dma.read(EP, x, into)).toBe('ok');
      expectBytes(into, expectedPattern(3 * MiB, 20 * PAGE));
    });

    it('attach another domain, detach back to identity, share a domain, destroy and recreate', async () => {
      const m = await machine(backend);
      const d1 = m.bus.dma.createDomain('translated');
      const d2 = m.bus.dma.createDomain('translated');
      const x = 0x8000; // also RAM as a GPA, so identity reads pattern(x)
      m.bus.dma.map(d1, { iova: x, gpa: 0x20000, size: PAGE });
      m.bus.dma.map(d2, { iova: x, gpa: 300 * KiB, size: PAGE });
      const r = (bdf: string) => { const b = new Uint8Array(64); const s = m.bus.dma.read(bdf, x, b); return s === 'ok' ? b : s; };
      m.bus.dma.attach(EP, d1);
      expect(r(EP)).toEqual(expectedPattern(0x20000, 64));
      m.bus.dma.attach(EP, d2);
      expect(r(EP)).toEqual(expectedPattern(300 * KiB, 64));
      m.bus.dma.attach(EP, d1);
      expect(r(EP)).toEqual(expectedPattern(0x20000, 64));
      m.bus.dma.detach(EP);
      expect(r(EP)).toEqual(expectedPattern(x, 64));
      // Two functions in one domain share its mappings; an unmap reaches both.
      m.bus.dma.attach(EP, d2);
      m.bus.dma.attach(EP2, d2);
      expect(r(EP)).toEqual(expectedPattern(300 * KiB, 64));
      expect(r(EP2)).toEqual(expectedPattern(300 * KiB, 64));
      m.bus.dma.unmap(d2, x, PAGE);
      expect(r(EP)).toBe('unmapped');
      expect(r(EP2)).toBe('unmapped');
      // A domain in use cannot be destroyed; once free it can, and its id's next domain starts empty.
      expect(() => m.bus.dma.destroyDomain(d2)).toThrow(ArgumentError);
      expect(r(EP)).toBe('unmapped');
      m.bus.dma.detach(EP);
      m.bus.dma.detach(EP2);
      expect(r(EP)).toEqual(expectedPattern(x, 64));
      m.bus.dma.attach(EP3, d1);
      expect(r(EP3)).toEqual(expectedPattern(0x20000, 64));
      m.bus.dma.detach(EP3);
      m.bus.dma.destroyDomain(d1);
      expect(() => m.bus.dma.attach(EP, d1)).toThrow(ArgumentError);
      const again = m.bus.dma.createDomain('translated');
      expect(again).toBe(d1);
      m.bus.dma.attach(EP, again);
      expect(r(EP)).toBe('unmapped'); // the old mapping (and its IOTLB entry) is gone
      m.bus.dma.map(again, { iova: x, gpa: 8 * MiB, size: PAGE });
      expect(r(EP)).toEqual(expectedPattern(8 * MiB, 64));
    });

    it('removing and re-adding RAM drops translations that cached the old region', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.attach(EP, t);
      m.bus.dma.map(t, { iova: 0x100000, gpa: 8 * MiB, size: PAGE }); // R3, external
      m.bus.dma.map(t, { iova: 0x101000, gpa: 0x5000, size: PAGE }); // R0, internal
      expect(m.bus.dma.read(EP, 0x100000, new Uint8Array(8))).toBe('ok');
      m.bus.dma.removeRam(m.regions[3].index);
      const gone = m.regions.splice(3, 1)[0];
      expect(() => m.bus.dma.ram(gone.index)).toThrow(ArgumentError);
      expect(m.bus.dma.read(EP, 0x100000, new Uint8Array(8))).toBe('outside-ram');
      expect(m.bus.dma.read(EP, 8 * MiB, new Uint8Array(8))).toBe('unmapped');
      m.bus.dma.detach(EP);
      expect(m.bus.dma.read(EP, 8 * MiB, new Uint8Array(8))).toBe('outside-ram');
      m.bus.dma.attach(EP, t);
      // New internal RAM at the same place: zeroes, not the old external bytes.
      const idx = m.bus.dma.addRam({ base: 8 * MiB, size: 64 * KiB });
      const into = new Uint8Array(8).fill(9);
      expect(m.bus.dma.read(EP, 0x100000, into)).toBe('ok');
      expectBytes(into, new Uint8Array(8));
      const d = data(8);
      expect(m.bus.dma.write(EP, 0x100000, d)).toBe('ok');
      expect(m.bus.dma.ram(idx).subarray(0, 8)).toEqual(d);
      expect(gone.view!.subarray(0, 8)).toEqual(expectedPattern(8 * MiB, 8)); // the old buffer is not touched
      // Remove internal R0 while a translation into it is cached; re-add it elsewhere.
      expect(m.bus.dma.read(EP, 0x101000, new Uint8Array(8))).toBe('ok');
      m.bus.dma.removeRam(m.regions[0].index);
      expect(m.bus.dma.write(EP, 0x101000, data(8))).toBe('outside-ram');
      const moved = m.bus.dma.addRam({ base: 0x4000, size: 2 * PAGE });
      const back = new Uint8Array(8).fill(9);
      expect(m.bus.dma.read(EP, 0x101000, back)).toBe('ok');
      expectBytes(back, new Uint8Array(8));
      m.bus.dma.write(EP, 0x101000 + 8, d);
      expect(m.bus.dma.ram(moved).subarray(PAGE + 8, PAGE + 16)).toEqual(d);
    });
  });

  describe('fault log', () => {
    it('records bdf, first failing IOVA, what was left of the element, direction and reason; drains once', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x10000, gpa: 0x30000, size: PAGE, write: false });
      m.bus.dma.attach(EP2, t);
      setBme(m.bus, EP3, false);
      expect(m.bus.dma.read(EP, 7 * MiB + 5, new Uint8Array(3))).toBe('outside-ram');
      expect(m.bus.dma.write(EP2, 0x10000 + 4000, data(200))).toBe('permission');
      expect(m.bus.dma.read(EP2, 0x10000 + 4000, new Uint8Array(200))).toBe('unmapped');
      expect(m.bus.dma.writeSg(EP3, [{ iova: 0x10, length: 0 }, { iova: 0x20, length: 7 }], data(7))).toBe('bus-master-off');
      expect(m.bus.dma.readSg(EP2, [{ iova: 0x10000, length: 10 }, { iova: 0x11000 + 5, length: 9 }], new Uint8Array(19))).toBe('unmapped');
      const s = m.bus.dma.stats();
      expect(s.faults).toBe(5);
      expect(s.droppedFaults).toBe(0);
      expect(m.bus.dma.faults()).toEqual([
        fault(EP_ID, 7 * MiB + 5, 3, 'read', 'outside-ram'),
        fault('0000:00:03.0', 0x10000 + 4000, 200, 'write', 'permission'),
        fault('0000:00:03.0', 0x11000, 104, 'read', 'unmapped'),
        fault('0000:00:03.1', 0x20, 7, 'write', 'bus-master-off'),
        fault('0000:00:03.0', 0x11005, 9, 'read', 'unmapped'),
      ]);
      expect(m.bus.dma.faults()).toEqual([]);
      expect(m.bus.dma.stats().faults).toBe(5); // counters survive draining
    });

    it('is bounded: the oldest 256 are kept, the rest dropped and counted; draining makes room', async () => {
      const m = await machine(backend);
      for (let i = 0; i < 300; i++) expect(m.bus.dma.read(EP, 7 * MiB + i, new Uint8Array(1 + (i % 5)))).toBe('outside-ram');
      let s = m.bus.dma.stats();
      expect([s.faults, s.droppedFaults]).toEqual([300, 44]);
      const log = m.bus.dma.faults();
      expect(log).toHaveLength(256);
      log.forEach((f, i) => expect(f).toEqual(fault(EP_ID, 7 * MiB + i, 1 + (i % 5), 'read', 'outside-ram')));
      expect(m.bus.dma.write(EP, 7 * MiB, data(2))).toBe('outside-ram');
      s = m.bus.dma.stats();
      expect([s.faults, s.droppedFaults]).toEqual([301, 44]);
      expect(m.bus.dma.faults()).toEqual([fault(EP_ID, 7 * MiB, 2, 'write', 'outside-ram')]);
      // Partly drained: exactly the free room is recorded.
      for (let i = 0; i < 256; i++) m.bus.dma.read(EP, 7 * MiB, new Uint8Array(1));
      expect(m.bus.dma.faults()).toHaveLength(256);
      for (let i = 0; i < 257; i++) m.bus.dma.read(EP, 7 * MiB + i, new Uint8Array(1));
      expect(m.bus.dma.stats().droppedFaults).toBe(45);
      const again = m.bus.dma.faults();
      expect(again).toHaveLength(256);
      expect(again[255].iova).toBe(7 * MiB + 255);
    });

    it('stats count done transfers and their bytes only', async () => {
      const m = await machine(backend);
      const s0 = m.bus.dma.stats();
      expect(s0).toEqual({ iotlbHits: 0, iotlbMisses: 0, faults: 0, droppedFaults: 0, transfers: 0, bytes: 0 });
      m.bus.dma.read(EP, 0, new Uint8Array(100));
      m.bus.dma.write(EP, 0, data(28));
      m.bus.dma.readSg(EP, [{ iova: 0, length: 5 }, { iova: 300 * KiB, length: 7 }], new Uint8Array(12));
      m.bus.dma.read(EP, 7 * MiB, new Uint8Array(50)); // faults
      m.bus.dma.read(EP, 0, new Uint8Array(0)); // nothing to do
      const s = m.bus.dma.stats();
      expect([s.transfers, s.bytes, s.faults]).toEqual([3, 140, 1]);
      expect(s.iotlbHits + s.iotlbMisses).toBe(0); // identity: no IOTLB
    });
  });

  describe('internal and external RAM', () => {
    it('internal RAM starts zeroed; the embedder and DMA see each other\'s bytes in both kinds', async () => {
      const bus = await createBus({ backend });
      setBme(bus, EP, true);
      const i0 = bus.dma.addRam({ base: 0, size: 64 * KiB });
      expect(bus.dma.ram(i0).length).toBe(64 * KiB);
      expect(bus.dma.ram(i0).every((v) => v === 0)).toBe(true);
      const sab = new SharedArrayBuffer(64 * KiB);
      const i1 = bus.dma.addRam({ base: 64 * KiB, size: 64 * KiB, buffer: sab });
      expect(bus.dma.ram(i1).buffer).toBe(sab);
      bus.dma.ram(i0)[100] = 0x42;
      new Uint8Array(sab)[200] = 0x43;
      const into = new Uint8Array(64 * KiB + 101);
      expect(bus.dma.read(EP, 100, into)).toBe('ok');
      expect([into[0], into[64 * KiB + 100]]).toEqual([0x42, 0x43]);
      expect(bus.dma.write(EP, 64 * KiB - 1, Uint8Array.of(1, 2))).toBe('ok');
      expect([bus.dma.ram(i0)[64 * KiB - 1], new Uint8Array(sab)[0]]).toEqual([1, 2]);
      // Adding more internal RAM (the Wasm memory may grow) keeps earlier regions' bytes.
      const i2 = bus.dma.addRam({ base: 16 * MiB, size: 8 * MiB });
      expect(bus.dma.ram(i0)[64 * KiB - 1]).toBe(1);
      expect(bus.dma.write(EP, 16 * MiB + 8 * MiB - 1, Uint8Array.of(7))).toBe('ok');
      expect(bus.dma.ram(i2)[8 * MiB - 1]).toBe(7);
    });

    it('external buffers of every kind; bytes around a view or past `size` are never touched', async () => {
      const layout: RamSpec[] = [
        { base: 0x100000, size: 0x4000, kind: 'view' },
        { base: 0x104000, size: 0x4000, kind: 'long' }, // the buffer is longer than the region
        { base: 0x108000, size: 0x4000, kind: 'ab' },
        { base: 0x10c000, size: 0x4000, kind: 'internal' },
      ];
      const m = await machine(backend, layout);
      const into = new Uint8Array(0x10000);
      expect(m.bus.dma.read(EP, 0x100000, into)).toBe('ok');
      expectBytes(into, expectedPattern(0x100000, 0x10000));
      const before = snapshot(m);
      const d = data(0x10000, 8);
      expect(m.bus.dma.write(EP, 0x100000, d)).toBe('ok');
      expectWritten(m, before, [[0x100000, 0x10000]], d);
      expect(guardsIntact(m)).toBe(true);
      // Just outside each end of the RAM, and the bytes of the long buffer past its size.
      const b2 = snapshot(m);
      expect(m.bus.dma.write(EP, 0x100000 - 1, data(2))).toBe('outside-ram');
      expect(m.bus.dma.write(EP, 0x110000 - 1, data(2))).toBe('outside-ram');
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0, gpa: 0x104000, size: 0x8000 });
      m.bus.dma.map(t, { iova: 0x10000, gpa: 0xfe000, size: 0x2000 });
      m.bus.dma.attach(EP, t);
      expect(m.bus.dma.write(EP, 0x10000, data(0x3000))).toBe('outside-ram');
      expectNothingChanged(m, b2);
    });

    it('translated transfers spanning internal and external RAM, read and write', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      // IOVA-contiguous pages alternating internal / external / internal / external-above-4G.
      const gpas = [0x7000, 400 * KiB, 5 * MiB, 2 ** 36 + PAGE, 256 * KiB - PAGE, 256 * KiB];
      gpas.forEach((g, k) => m.bus.dma.map(t, { iova: 0x300000 + k * PAGE, gpa: g, size: PAGE }));
      m.bus.dma.attach(EP, t);
      const pieces: Array<[number, number]> = gpas.map((g, k) => (k === 0 ? [g + 10, PAGE - 10] : [g, k === 5 ? 20 : PAGE]));
      const n = pieces.reduce((s, [, l]) => s + l, 0);
      const into = new Uint8Array(n);
      expect(m.bus.dma.read(EP, 0x300000 + 10, into)).toBe('ok');
      expectBytes(into, patternOf(pieces));
      const before = snapshot(m);
      const d = data(n, 12);
      expect(m.bus.dma.write(EP, 0x300000 + 10, d)).toBe('ok');
      expectWritten(m, before, pieces, d);
      expect(guardsIntact(m)).toBe(true);
    });
  });

  describe('scatter-gather', () => {
    it('readSg gathers elements across pages and regions in list order; writeSg scatters them', async () => {
      const m = await machine(backend);
      const list: SgElement[] = [
        { iova: 256 * KiB - 100, length: 200 }, // internal -> external
        { iova: 0x10, length: 0 },
        { iova: 8 * MiB + 5, length: 3 },
        { iova: 2 * MiB + 4093, length: 10 }, // across a page
        { iova: 2 ** 36 + 100, length: 1 },
        { iova: 0x100, length: 17 },
      ];
      const total = list.reduce((s, e) => s + e.length, 0);
      const into = new Uint8Array(total);
      expect(m.bus.dma.readSg(EP, list, into)).toBe('ok');
      expectBytes(into, patternOf(list.map((e) => [e.iova, e.length])));
      const before = snapshot(m);
      const d = data(total, 4);
      expect(m.bus.dma.writeSg(EP, list, d)).toBe('ok');
      expectWritten(m, before, list.map((e) => [e.iova, e.length]), d);
      // Contiguous elements, in and out of order, in a translated domain.
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x500000, gpa: 300 * KiB, size: 2 * PAGE });
      m.bus.dma.map(t, { iova: 0x502000, gpa: 0x2000, size: PAGE });
      m.bus.dma.attach(EP, t);
      const tl: SgElement[] = [{ iova: 0x501ff0, length: 0x20 }, { iova: 0x500000, length: 8 }, { iova: 0x500008, length: 8 }, { iova: 0x502000 + 0xff0, length: 0x10 }];
      const tp: Array<[number, number]> = [[300 * KiB + 0x1ff0, 0x10], [0x2000, 0x10], [300 * KiB, 8], [300 * KiB + 8, 8], [0x2ff0, 0x10]];
      const b2 = snapshot(m);
      const d2 = data(0x40, 6);
      expect(m.bus.dma.writeSg(EP, tl, d2)).toBe('ok');
      expectWritten(m, b2, tp, d2);
      const back = new Uint8Array(0x40);
      expect(m.bus.dma.readSg(EP, tl, back)).toBe('ok');
      expectBytes(back, d2);
    });

    it('one bad element anywhere in the list: nothing lands, and the record names that element', async () => {
      const m = await machine(backend);
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 0x600000, gpa: 0x3000, size: 4 * PAGE });
      m.bus.dma.map(t, { iova: 0x700000, gpa: 0x9000, size: PAGE, write: false });
      m.bus.dma.map(t, { iova: 0x800000, gpa: 7 * MiB, size: PAGE });
      m.bus.dma.attach(EP, t);
      const good: SgElement[] = [{ iova: 0x600000, length: 100 }, { iova: 0x601ff0, length: 0x20 }, { iova: 0x603000, length: PAGE }];
      const bad: Array<[SgElement, DmaFaultRecord['reason'], number]> = [
        [{ iova: 0x604000 - 8, length: 16 }, 'unmapped', 0x604000],
        [{ iova: 0x700010, length: 4 }, 'permission', 0x700010],
        [{ iova: 0x800000, length: 1 }, 'outside-ram', 0x800000],
        [{ iova: 2 ** 50, length: 1 }, 'unmapped', 2 ** 50],
      ];
      const before = snapshot(m);
      const expected: DmaFaultRecord[] = [];
      for (const [e, reason, at] of bad) {
        for (const pos of [0, 1, 3]) {
          const list = [...good.slice(0, pos), e, ...good.slice(pos)];
          const total = list.reduce((s, x) => s + x.length, 0);
          expect(m.bus.dma.writeSg(EP, list, data(total)), `${reason} at ${pos}`).toBe(reason);
          expected.push(fault(EP_ID, at, e.length - (at - e.iova), 'write', reason));
        }
      }
      expectNothingChanged(m, before);
      expect(m.bus.dma.faults()).toEqual(expected);
      const into = new Uint8Array(100 + 8 + 100).fill(3);
      expect(m.bus.dma.readSg(EP, [good[0], { iova: 0x604000 - 8, length: 8 }, { iova: 0x604000, length: 100 }], into)).toBe('unmapped');
      expect(into.every((v) => v === 3)).toBe(true);
    });

    it('element lengths and list sizes at the limits: 1,024 elements, 1 MiB in total', async () => {
      const m = await machine(backend);
      const list: SgElement[] = Array.from({ length: 1024 }, (_, k) => ({ iova: 2 * MiB + k * PAGE + (k % 7), length: 1024 }));
      const into = new Uint8Array(MiB);
      expect(m.bus.dma.readSg(EP, list, into)).toBe('ok');
      expectBytes(into, patternOf(list.map((e) => [e.iova, e.length])));
      expect(m.bus.dma.readSg(EP, [{ iova: 2 * MiB, length: MiB }], into)).toBe('ok');
      expectBytes(into, expectedPattern(2 * MiB, MiB));
      const before = snapshot(m);
      const d = data(MiB, 3);
      expect(m.bus.dma.writeSg(EP, list, d)).toBe('ok');
      expectWritten(m, before, list.map((e) => [e.iova, e.length]), d);
      expect(m.bus.dma.read(EP, 2 * MiB, new Uint8Array(MiB))).toBe('ok');
    });
  });
});

describe('both backends agree on a scripted session', () => {
  it('same results, RAM, fault log and stats (hash-compared)', async () => {
    const run = async (backend: 'wasm' | 'ts') => {
      const m = await machine(backend);
      const out: unknown[] = [];
      const t = m.bus.dma.createDomain('translated');
      m.bus.dma.map(t, { iova: 2 ** 30, gpa: 2 * MiB, size: 4 * MiB });
      m.bus.dma.map(t, { iova: 0x1000, gpa: 256 * KiB - PAGE, size: 2 * PAGE, write: false });
      m.bus.dma.attach(EP, t);
      for (let i = 0; i < 200; i++) {
        const iova = [2 ** 30 + i * 9999, 0x1000 + i * 37, i * 777, 2 ** 48 - i][i % 4];
        const into = new Uint8Array(1 + ((i * 131) % 9000));
        out.push(i % 3 === 0 ? m.bus.dma.write(EP, iova, data(into.length, i)) : m.bus.dma.read(EP, iova, into));
        out.push(createHash('sha1').update(into).digest('hex'));
        if (i === 100) m.bus.dma.unmap(t, 2 ** 30 + MiB, PAGE);
      }
      out.push(m.bus.dma.faults(), m.bus.dma.stats());
      for (const r of m.regions) out.push(createHash('sha1').update(m.bus.dma.ram(r.index)).digest('hex'));
      return out;
    };
    expect(await run('wasm')).toEqual(await run('ts'));
  });
});
