// Embedder misuse and hostile numbers at the `bus.dma` surface, on both backends.
// - Bad embedder input (unaligned / overlapping / empty / out-of-space maps and RAM, unknown ids,
//   over-long transfers, malformed scatter-gather lists) throws an ArgumentError whose message
//   names the operation, and leaves the DMA state exactly as it was (RAM bytes, memory map,
//   domains and their translations, attachments, page tables, IOTLB, fault queue, stats).
// - Hostile numbers anywhere (NaN, infinities, negatives, fractions, 2^53.., 2^64..) never make
//   bus.dma throw anything but an ArgumentError, never trap the Wasm core, never touch bytes
//   outside guest RAM, and both backends answer every call alike.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inlineWasmBytes } from '../../bindings/load.js';
import { createBus, type Bus } from '../../src/bus.js';
import { ArgumentError } from '../../src/errors.js';
import type { MapOptions, RamOptions, SgElement } from '../../src/dma/types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const EP = '00:01.0';
const EP2 = '00:03.0';
const EP3 = '00:03.1';
const GUARD = 0xa5;
const SLOTS = 9; // the default topology's functions (two of them behind bridges)

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

interface Setup {
  bus: Bus;
  /** Domain ids: t translated (EP attached), b blocked (EP2 attached), i identity, u translated unattached. */
  t: number; b: number; i: number; u: number;
  /** The external region with guard bytes around its view. */
  whole: Uint8Array;
  view: Uint8Array;
}

/**
 * R0 internal [0, 64K) | R1 external SharedArrayBuffer [64K, 128K) | R2 external view with 8 KiB
 * of guard bytes on each side [1M, 1M+64K). Domains with 4 KiB, read-only and 2 MiB mappings; the
 * IOTLB warm; one fault queued.
 */
async function setup(backend: 'wasm' | 'ts'): Promise<Setup> {
  const bus = await createBus({ backend });
  for (const bdf of [EP, EP2, EP3]) bus.configWrite(bdf, 4, 2, 4);
  bus.dma.addRam({ base: 0, size: 64 * KiB });
  bus.dma.addRam({ base: 64 * KiB, size: 64 * KiB, buffer: new SharedArrayBuffer(64 * KiB) });
  const whole = new Uint8Array(64 * KiB + 16 * KiB).fill(GUARD);
  const view = whole.subarray(8 * KiB, 72 * KiB);
  bus.dma.addRam({ base: MiB, size: 64 * KiB, buffer: view });
  const r0 = bus.dma.ram(0);
  const r1 = bus.dma.ram(1);
  for (let k = 0; k < 64 * KiB; k++) {
    r0[k] = k & 0x7f;
    r1[k] = (k >> 3) & 0x7f;
    view[k] = (k * 7) & 0x7f;
  }
  const t = bus.dma.createDomain('translated');
  const b = bus.dma.createDomain('blocked');
  const i = bus.dma.createDomain('identity');
  const u = bus.dma.createDomain('translated');
  bus.dma.map(t, { iova: 0x100000, gpa: 0, size: 4 * PAGE });
  bus.dma.map(t, { iova: 0x200000, gpa: 64 * KiB, size: 2 * PAGE, write: false });
  bus.dma.map(t, { iova: 2 ** 30, gpa: 2 * MiB, size: 2 * MiB });
  bus.dma.map(u, { iova: 0x100000, gpa: MiB, size: PAGE });
  bus.dma.attach(EP, t);
  bus.dma.attach(EP2, b);
  expect(bus.dma.read(EP, 0x100000, new Uint8Array(4 * PAGE))).toBe('ok');
  expect(bus.dma.read(EP, 0x200000, new Uint8Array(16))).toBe('ok');
  expect(bus.dma.read(EP, 0x300000, new Uint8Array(16))).toBe('unmapped');
  return { bus, t, b, i, u, whole, view };
}

const PROBES = [
  0, PAGE, 0x100000, 0x101000, 0x102000, 0x103000, 0x104000, 0x1ff000, 0x200000, 0x201000, 0x202000,
  2 ** 30, 2 ** 30 + PAGE, 2 ** 30 + 2 * MiB - PAGE, 2 ** 30 + 2 * MiB, 2 ** 31, 2 ** 47, 2 ** 48 - PAGE,
];

/** Everything observable about the DMA state, as one string. */
function state(bus: Bus): string {
  const d = bus.core.dma;
  const parts: unknown[] = [];
  for (let i = 0; i < 64; i++) {
    const base = d.ramBase(i);
    if (base < 0) continue;
    parts.push(['ram', i, base, d.ramSize(i), sha1(bus.dma.ram(i))]);
  }
  parts.push(['ramCount', d.ramCount()]);
  for (let id = 0; id < 256; id++) {
    const type = d.domainType(id);
    if (type < 0) continue;
    parts.push(['domain', id, type]);
    if (type === 2) parts.push(PROBES.map((iova) => [d.domainPerms(id, iova), d.domainTranslate(id, iova)]));
  }
  for (let s = 0; s < SLOTS; s++) parts.push(['slot', s, d.dmaDomainOf(s)]);
  parts.push(['tables', d.dmaTableCount()], ['iotlb', d.dmaIotlbValid()], ['queued', d.dmaFaultsQueued()], bus.dma.stats());
  return JSON.stringify(parts);
}

interface BadCase {
  name: string;
  /** The operation the message must name. */
  op: string;
  call: (s: Setup) => unknown;
}

const sgOf = (n: number, length: number, iova = 0x100000): SgElement[] => Array.from({ length: n }, () => ({ iova, length }));

const BAD: BadCase[] = [
  // ---- guest memory map ----
  { name: 'addRam: unaligned base', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300800, size: PAGE }) },
  { name: 'addRam: size not a page multiple', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300000, size: 100 }) },
  { name: 'addRam: size 0', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300000, size: 0 }) },
  { name: 'addRam: inside another region', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x8000, size: PAGE }) },
  { name: 'addRam: overlapping the end of another region', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x1f000, size: 2 * PAGE }) },
  { name: 'addRam: covering another region', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0xff000, size: 0x12000, buffer: new ArrayBuffer(0x12000) }) },
  { name: 'addRam: past 2^52', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 2 ** 52 - PAGE, size: 2 * PAGE, buffer: new ArrayBuffer(2 * PAGE) }) },
  { name: 'addRam: at 2^52', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 2 ** 52, size: PAGE }) },
  { name: 'addRam: buffer shorter than size', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300000, size: 2 * PAGE, buffer: new ArrayBuffer(PAGE) }) },
  { name: 'addRam: internal region over 1 GiB - 4 KiB', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 2 ** 40, size: 2 ** 30 }) },
  { name: 'addRam: NaN base', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: NaN, size: PAGE }) },
  { name: 'addRam: negative base', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: -PAGE, size: PAGE }) },
  { name: 'addRam: fractional size', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300000, size: PAGE + 0.5 }) },
  { name: 'addRam: infinite size', op: 'addRam', call: (s) => s.bus.dma.addRam({ base: 0x300000, size: Infinity, buffer: new ArrayBuffer(PAGE) }) },
  { name: 'addRam: a 65th region', op: 'addRam', call: (s) => {
    for (let k = 0; k < 61; k++) s.bus.dma.addRam({ base: 2 ** 32 + k * 2 * PAGE, size: PAGE, buffer: new ArrayBuffer(PAGE) });
    return s.bus.dma.addRam({ base: 2 ** 33, size: PAGE, buffer: new ArrayBuffer(PAGE) });
  } },
  { name: 'removeRam: an index with no region', op: 'removeRam', call: (s) => s.bus.dma.removeRam(9) },
  { name: 'removeRam: index 64', op: 'removeRam', call: (s) => s.bus.dma.removeRam(64) },
  { name: 'removeRam: index -1', op: 'removeRam', call: (s) => s.bus.dma.removeRam(-1) },
  { name: 'removeRam: index NaN (must not remove region 0)', op: 'removeRam', call: (s) => s.bus.dma.removeRam(NaN) },
  { name: 'removeRam: index 2^32 (must not remove region 0)', op: 'removeRam', call: (s) => s.bus.dma.removeRam(2 ** 32) },
  { name: 'removeRam: index 1.5 (must not remove region 1)', op: 'removeRam', call: (s) => s.bus.dma.removeRam(1.5) },
  { name: 'ram: index NaN (must not answer with region 0)', op: 'ram', call: (s) => s.bus.dma.ram(NaN) },
  { name: 'ram: index 0.5 (must not answer with region 0)', op: 'ram', call: (s) => s.bus.dma.ram(0.5) },
  { name: 'ram: an index with no region', op: 'ram', call: (s) => s.bus.dma.ram(9) },
  // ---- domains ----
  { name: 'createDomain: unknown kind', op: 'createDomain', call: (s) => s.bus.dma.createDomain('bogus' as never) },
  { name: 'createDomain: "toString" (an Object.prototype name)', op: 'createDomain', call: (s) => s.bus.dma.createDomain('toString' as never) },
  { name: 'createDomain: "__proto__"', op: 'createDomain', call: (s) => s.bus.dma.createDomain('__proto__' as never) },
  { name: 'destroyDomain: the built-in identity domain 0', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(0) },
  { name: 'destroyDomain: a free id', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(99) },
  { name: 'destroyDomain: id 256', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(256) },
  { name: 'destroyDomain: a domain with a function attached', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(s.t) },
  { name: 'destroyDomain: id NaN', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(NaN) },
  { name: 'destroyDomain: id 2^32 + u (must not destroy u)', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(2 ** 32 + s.u) },
  { name: 'destroyDomain: id u + 0.5 (must not destroy u)', op: 'destroyDomain', call: (s) => s.bus.dma.destroyDomain(s.u + 0.5) },
  // ---- map ----
  ...([
    ['unaligned IOVA', { iova: 0x400800, gpa: 0, size: PAGE }],
    ['unaligned GPA', { iova: 0x400000, gpa: 0x10, size: PAGE }],
    ['size not a page multiple', { iova: 0x400000, gpa: 0, size: PAGE + 1 }],
    ['size 0', { iova: 0x400000, gpa: 0, size: 0 }],
    ['exactly over an existing mapping', { iova: 0x100000, gpa: 0, size: 4 * PAGE }],
    ['over the last page of a mapping', { iova: 0x103000, gpa: 0, size: 2 * PAGE }],
    ['ending on the first page of a mapping', { iova: 0xff000, gpa: 0, size: 2 * PAGE }],
    ['inside a 2 MiB page', { iova: 2 ** 30 + 5 * PAGE, gpa: 0, size: PAGE }],
    ['IOVA range past 2^48', { iova: 2 ** 48 - PAGE, gpa: 0, size: 2 * PAGE }],
    ['IOVA at 2^48', { iova: 2 ** 48, gpa: 0, size: PAGE }],
    ['GPA range past 2^52', { iova: 0x400000, gpa: 2 ** 52 - PAGE, size: 2 * PAGE }],
    ['neither read nor write', { iova: 0x400000, gpa: 0, size: PAGE, read: false, write: false }],
    ['NaN IOVA', { iova: NaN, gpa: 0, size: PAGE }],
    ['negative GPA', { iova: 0x400000, gpa: -PAGE, size: PAGE }],
    ['IOVA 2^64', { iova: 2 ** 64, gpa: 0, size: PAGE }],
  ] as Array<[string, MapOptions]>).map(([what, o]): BadCase => ({ name: `map: ${what}`, op: 'map', call: (s) => s.bus.dma.map(s.t, o) })),
  { name: 'map: into the built-in identity domain', op: 'map', call: (s) => s.bus.dma.map(0, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: into an identity domain', op: 'map', call: (s) => s.bus.dma.map(s.i, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: into a blocked domain', op: 'map', call: (s) => s.bus.dma.map(s.b, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: into a free domain id', op: 'map', call: (s) => s.bus.dma.map(99, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: domain 256', op: 'map', call: (s) => s.bus.dma.map(256, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: domain 2^32 + t (must not map into t)', op: 'map', call: (s) => s.bus.dma.map(2 ** 32 + s.t, { iova: 0x400000, gpa: 0, size: PAGE }) },
  { name: 'map: domain t + 0.5 (must not map into t)', op: 'map', call: (s) => s.bus.dma.map(s.t + 0.5, { iova: 0x400000, gpa: 0, size: PAGE }) },
  // ---- unmap ----
  { name: 'unmap: size 0', op: 'unmap', call: (s) => s.bus.dma.unmap(s.t, 0x100000, 0) },
  { name: 'unmap: unaligned IOVA', op: 'unmap', call: (s) => s.bus.dma.unmap(s.t, 0x100010, PAGE) },
  { name: 'unmap: size not a page multiple', op: 'unmap', call: (s) => s.bus.dma.unmap(s.t, 0x100000, 10) },
  { name: 'unmap: past 2^48', op: 'unmap', call: (s) => s.bus.dma.unmap(s.t, 2 ** 48 - PAGE, 2 * PAGE) },
  { name: 'unmap: NaN IOVA', op: 'unmap', call: (s) => s.bus.dma.unmap(s.t, NaN, PAGE) },
  { name: 'unmap: a blocked domain', op: 'unmap', call: (s) => s.bus.dma.unmap(s.b, 0x100000, PAGE) },
  { name: 'unmap: a free domain id', op: 'unmap', call: (s) => s.bus.dma.unmap(99, 0x100000, PAGE) },
  { name: 'unmap: domain 2^32 + t (must not unmap from t)', op: 'unmap', call: (s) => s.bus.dma.unmap(2 ** 32 + s.t, 0x100000, PAGE) },
  // ---- attach / detach ----
  { name: 'attach: a free domain id', op: 'attach', call: (s) => s.bus.dma.attach(EP, 99) },
  { name: 'attach: domain 256', op: 'attach', call: (s) => s.bus.dma.attach(EP, 256) },
  { name: 'attach: domain -1', op: 'attach', call: (s) => s.bus.dma.attach(EP, -1) },
  { name: 'attach: domain NaN (must not attach to domain 0)', op: 'attach', call: (s) => s.bus.dma.attach(EP, NaN) },
  { name: 'attach: domain 2^32 + b (must not attach to b)', op: 'attach', call: (s) => s.bus.dma.attach(EP, 2 ** 32 + s.b) },
  { name: 'attach: domain t + 0.5 (must not attach to t)', op: 'attach', call: (s) => s.bus.dma.attach(EP2, s.t + 0.5) },
  { name: 'attach: a BDF that is not in the topology', op: 'attach', call: (s) => s.bus.dma.attach('00:0a.0', s.t) },
  { name: 'detach: a malformed BDF', op: 'detach', call: (s) => s.bus.dma.detach('zz:1') },
  // ---- transfers ----
  { name: 'read: more than 1 MiB', op: 'read', call: (s) => s.bus.dma.read(EP, 0x100000, new Uint8Array(MiB + 1)) },
  ...[NaN, -1, -Infinity, Infinity, 0.5, 2 ** 64, 1e300].map((iova): BadCase => ({ name: `read: IOVA ${iova}`, op: 'read', call: (s) => s.bus.dma.read(EP, iova, new Uint8Array(4)) })),
  { name: 'read: a BDF that is not in the topology', op: 'read', call: (s) => s.bus.dma.read('01:00.0', 0, new Uint8Array(4)) },
  { name: 'write: more than 1 MiB', op: 'write', call: (s) => s.bus.dma.write(EP, 0x100000, new Uint8Array(MiB + 1)) },
  ...[NaN, -PAGE, 2 ** 64 + 2 ** 12, 4096.25].map((iova): BadCase => ({ name: `write: IOVA ${iova}`, op: 'write', call: (s) => s.bus.dma.write(EP3, iova, new Uint8Array(4).fill(0xff)) })),
  { name: 'readSg: into shorter than the list', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, sgOf(2, 8), new Uint8Array(15)) },
  { name: 'readSg: into longer than the list', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, sgOf(2, 8), new Uint8Array(17)) },
  { name: 'readSg: 1,025 elements', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, sgOf(1025, 1), new Uint8Array(1025)) },
  { name: 'readSg: an element length NaN', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, [{ iova: 0x100000, length: 4 }, { iova: 0x100000, length: NaN }], new Uint8Array(4)) },
  { name: 'readSg: an element length -1', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, [{ iova: 0x100000, length: -1 }], new Uint8Array(0)) },
  { name: 'readSg: an element length 1.5', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, [{ iova: 0x100000, length: 1.5 }], new Uint8Array(1)) },
  { name: 'readSg: a total over 1 MiB', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, sgOf(2, 600 * KiB), new Uint8Array(1200 * KiB)) },
  { name: 'readSg: an element IOVA NaN', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, [{ iova: 0x100000, length: 4 }, { iova: NaN, length: 4 }], new Uint8Array(8)) },
  { name: 'readSg: an element IOVA 2^64', op: 'readSg', call: (s) => s.bus.dma.readSg(EP, [{ iova: 2 ** 64, length: 4 }], new Uint8Array(4)) },
  { name: 'writeSg: data longer than the list', op: 'writeSg', call: (s) => s.bus.dma.writeSg(EP, sgOf(1, 8), new Uint8Array(9).fill(0xff)) },
  { name: 'writeSg: an element length over 1 MiB', op: 'writeSg', call: (s) => s.bus.dma.writeSg(EP, [{ iova: 0x100000, length: MiB + 1 }], new Uint8Array(MiB + 1)) },
  { name: 'writeSg: an element IOVA -1 after good ones', op: 'writeSg', call: (s) => s.bus.dma.writeSg(EP3, [{ iova: 0x100, length: 4 }, { iova: -1, length: 4 }], new Uint8Array(8).fill(0xff)) },
];

describe.each(['wasm', 'ts'] as const)('bad embedder input on the %s backend', (backend) => {
  it.each(BAD.map((c) => [c.name, c] as const))('%s: ArgumentError naming the operation, state unchanged', async (_name, c) => {
    const s = await setup(backend);
    const before = state(s.bus);
    let thrown: unknown;
    try {
      c.call(s);
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'no error was thrown').toBeInstanceOf(ArgumentError);
    const message = (thrown as Error).message;
    if (c.name !== 'addRam: a 65th region') expect(state(s.bus), 'the DMA state changed').toBe(before);
    expect(message).toMatch(new RegExp(`\\b${c.op}\\b`));
  });

  it('a 65th region is refused and the 64 stay as they were', async () => {
    const s = await setup(backend);
    for (let k = 0; k < 61; k++) s.bus.dma.addRam({ base: 2 ** 32 + k * 2 * PAGE, size: PAGE, buffer: new ArrayBuffer(PAGE) });
    const before = state(s.bus);
    expect(() => s.bus.dma.addRam({ base: 2 ** 33, size: PAGE })).toThrow(ArgumentError);
    expect(state(s.bus)).toBe(before);
    expect(s.bus.core.dma.ramCount()).toBe(64);
  });

  it('JavaScript callers passing non-numbers get an ArgumentError, not a TypeError', async () => {
    const s = await setup(backend);
    const cases: Array<[string, () => unknown]> = [
      ['read(EP, undefined)', () => s.bus.dma.read(EP, undefined as never, new Uint8Array(4))],
      ['read(EP, 16n)', () => s.bus.dma.read(EP, 16n as never, new Uint8Array(4))],
      ['readSg with iova 16n', () => s.bus.dma.readSg(EP, [{ iova: 16n as never, length: 4 }], new Uint8Array(4))],
      ['map with iova undefined', () => s.bus.dma.map(s.t, { gpa: 0, size: PAGE } as never)],
      ['addRam with base undefined', () => s.bus.dma.addRam({ size: PAGE } as never as RamOptions)],
    ];
    const before = state(s.bus);
    const got = cases.map(([what, f]) => {
      try {
        f();
        return `${what}: no error`;
      } catch (e) {
        return `${what}: ${(e as Error).name}`;
      }
    });
    expect(got).toEqual(cases.map(([what]) => `${what}: ArgumentError`));
    expect(state(s.bus)).toBe(before);
  });
});

// ---- a Wasm core whose linear memory cannot grow -------------------------------------------------
function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** The module with its (only) memory given a maximum of `maxPages` pages: memory.grow fails past it. */
function withMemoryMax(bytes: Uint8Array, maxPages: number): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let p = 8;
  const read = (): number => {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  let patched = false;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = read();
    const start = p;
    if (id === 5) {
      expect(read()).toBe(1); // one memory
      expect(bytes[p++]).toBe(0); // limits: a minimum only
      const min = read();
      const payload = [...leb(1), 1, ...leb(min), ...leb(maxPages)];
      parts.push(Uint8Array.from([5, ...leb(payload.length), ...payload]));
      patched = true;
    } else {
      parts.push(Uint8Array.from([id, ...leb(size)]), bytes.subarray(start, start + size));
    }
    p = start + size;
  }
  expect(patched).toBe(true);
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) { out.set(x, at); at += x.length; }
  return out;
}

describe('wasm: linear memory that cannot grow', () => {
  // The stub allocator traps when memory.grow fails; the core's allocations on behalf of refusable
  // calls go through assembly/alloc.ts coreAlloc, which grows first and fails cleanly instead.
  it('domains, maps and splits that need page tables are refused with an ArgumentError, never a trap, and change nothing', async () => {
    const bus = await createBus({ backend: 'wasm', wasm: withMemoryMax(inlineWasmBytes(), 160) });
    bus.configWrite(EP, 4, 2, 4);
    // Internal RAM until the core cannot grow its memory: refused cleanly (ramAdd grows first).
    let regions = 0;
    for (const size of [MiB, 64 * KiB, PAGE]) {
      for (;;) {
        try {
          bus.dma.addRam({ base: 2 ** 40 + regions * 2 ** 30, size });
          regions++;
        } catch (e) {
          expect(e).toBeInstanceOf(ArgumentError);
          break;
        }
      }
    }
    expect(regions).toBeGreaterThan(0);
    const outcomes: string[] = [];
    const unchanged: string[] = [];
    const attempt = (what: string, f: () => unknown): boolean => {
      const before = state(bus);
      try {
        f();
        outcomes.push(`${what}: ok`);
        return true;
      } catch (e) {
        outcomes.push(`${what}: ${(e as Error).constructor.name}${e instanceof ArgumentError ? '' : ` (${(e as Error).message})`}`);
        if (state(bus) !== before) unchanged.push(`${what} changed the state`);
        return false;
      }
    };
    // A 2 MiB page first (3 tables), to split later.
    let big = -1;
    attempt('createDomain 2 MiB', () => { big = bus.dma.createDomain('translated'); });
    if (big > 0) attempt('map 2 MiB', () => bus.dma.map(big, { iova: 0, gpa: 0, size: 2 * MiB }));
    // Each translated domain with 64 MiB of 4 KiB pages needs 34 page tables (136 KiB).
    for (let k = 0; k < 16; k++) {
      let d = -1;
      if (!attempt(`createDomain ${k}`, () => { d = bus.dma.createDomain('translated'); })) continue;
      attempt(`map ${k}`, () => bus.dma.map(d, { iova: 0, gpa: PAGE, size: 64 * MiB }));
    }
    if (big > 0) attempt('unmap 4 KiB of the 2 MiB page (a split)', () => bus.dma.unmap(big, PAGE, PAGE));
    expect(outcomes.filter((o) => !o.endsWith(': ok') && !o.endsWith(': ArgumentError'))).toEqual([]);
    expect(unchanged).toEqual([]);
    expect(outcomes.some((o) => o.endsWith(': ArgumentError')), `memory never ran out: ${outcomes.join(', ')}`).toBe(true);
    expect(bus.dma.read(EP, 2 ** 40, new Uint8Array(8))).toBe('ok');
  });
});

// ---- hostile numbers: a differential property over both backends ------------------------------
const NUM = [
  NaN, Infinity, -Infinity, -1, -0, 0, 0.5, 1, 4095, PAGE, 64 * KiB - 3, 0x100000, 0x100ffd, 0x103ffe, 0x200000,
  MiB - 1, MiB + 64 * KiB - 2, 2 ** 21, 2 ** 30, 2 ** 30 + 2 * MiB - 1, 2 ** 32, 2 ** 32 + PAGE, 2 ** 48 - PAGE,
  2 ** 48 - 1, 2 ** 48, 2 ** 52 - PAGE, 2 ** 52, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64 - 4096, 2 ** 64, 1e300,
  -(2 ** 63), Number.MAX_SAFE_INTEGER, Number.MIN_VALUE,
];
const num = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NUM) }, { weight: 1, arbitrary: fc.double() }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x210000 }) });
const LENGTHS = [0, 1, 7, PAGE, PAGE + 1, 64 * KiB, MiB, MiB + 1];
const sgLen = fc.oneof(fc.constantFrom(NaN, -1, 0, 1, 1.5, PAGE, 2 ** 32, Infinity, MiB, MiB + 1), fc.integer({ min: 0, max: 3 * PAGE }));
const domainId = fc.constantFrom(0, 1, 2, 3, 4, 5, 99, 255, 256, -1, NaN, 1.5, 2 ** 32 + 1, Infinity);
const bdf = fc.constantFrom(EP, EP2, EP3);
const sizes = fc.constantFrom(NaN, -PAGE, 0, 1, PAGE, 2 * PAGE, 2 ** 21, 2 ** 30, 2 ** 48, 2 ** 52, 2 ** 64, Infinity);

type Call =
  | { op: 'read' | 'write'; bdf: string; iova: number; len: number }
  | { op: 'readSg' | 'writeSg'; bdf: string; list: SgElement[]; extra: number }
  | { op: 'map'; dom: number; iova: number; gpa: number; size: number; read: boolean; write: boolean }
  | { op: 'unmap'; dom: number; iova: number; size: number }
  | { op: 'attach'; bdf: string; dom: number }
  | { op: 'detach'; bdf: string }
  | { op: 'createDomain'; kind: string }
  | { op: 'destroyDomain'; dom: number }
  | { op: 'addRam'; base: number; size: number; external: boolean }
  | { op: 'removeRam'; index: number }
  | { op: 'ram'; index: number }
  | { op: 'bme'; bdf: string; on: boolean };

const callArb: fc.Arbitrary<Call> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('read' as const, 'write' as const), bdf, iova: num, len: fc.constantFrom(...LENGTHS) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('readSg' as const, 'writeSg' as const), bdf, list: fc.array(fc.record({ iova: num, length: sgLen }), { maxLength: 4 }), extra: fc.constantFrom(0, 0, 0, 1, -1) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('map' as const), dom: domainId, iova: num, gpa: num, size: sizes, read: fc.boolean(), write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unmap' as const), dom: domainId, iova: num, size: sizes }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('attach' as const), bdf, dom: domainId }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('detach' as const), bdf }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('createDomain' as const), kind: fc.constantFrom('identity', 'blocked', 'translated', 'bogus', 'toString') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('destroyDomain' as const), dom: domainId }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('addRam' as const), base: num, size: sizes, external: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeRam' as const), index: fc.constantFrom(0, 1, 2, 3, 63, 64, -1, NaN, 0.5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ram' as const), index: fc.constantFrom(0, 1, 2, 3, 63, 64, -1, NaN, 0.5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bme' as const), bdf, on: fc.boolean() }) },
);

/** Runs a call; returns what came back, or the error's name and message. */
function perform(s: Setup, c: Call): string {
  const d = s.bus.dma;
  try {
    switch (c.op) {
      case 'read': {
        const into = new Uint8Array(c.len);
        const r = d.read(c.bdf, c.iova, into);
        return `${r} ${sha1(into)}`;
      }
      case 'write': return d.write(c.bdf, c.iova, new Uint8Array(c.len).fill(0xc3));
      case 'readSg': case 'writeSg': {
        const total = c.list.reduce((t, e) => t + (Number.isInteger(e.length) && e.length >= 0 && e.length <= MiB ? e.length : 0), 0);
        const bytes = new Uint8Array(Math.max(0, Math.min(total, 2 * MiB) + c.extra)).fill(0x3c);
        const r = c.op === 'readSg' ? d.readSg(c.bdf, c.list, bytes) : d.writeSg(c.bdf, c.list, bytes);
        return `${r} ${sha1(bytes)}`;
      }
      case 'map': d.map(c.dom, { iova: c.iova, gpa: c.gpa, size: c.size, read: c.read, write: c.write }); return 'mapped';
      case 'unmap': return String(d.unmap(c.dom, c.iova, c.size));
      case 'attach': d.attach(c.bdf, c.dom); return 'attached';
      case 'detach': d.detach(c.bdf); return 'detached';
      case 'createDomain': return String(d.createDomain(c.kind as never));
      case 'destroyDomain': d.destroyDomain(c.dom); return 'destroyed';
      case 'addRam': {
        // Internal RAM of a valid size is at most 2 MiB here (the sizes offer nothing between 2 MiB and 2^30).
        const buffer = c.external ? new ArrayBuffer(2 * PAGE) : undefined;
        return String(d.addRam({ base: c.base, size: c.size, buffer }));
      }
      case 'removeRam': d.removeRam(c.index); return 'removed';
      case 'ram': return sha1(d.ram(c.index));
      case 'bme': s.bus.configWrite(c.bdf, 4, 2, c.on ? 4 : 0); return 'bme';
    }
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

function guardsIntact(s: Setup): boolean {
  for (let k = 0; k < s.whole.length; k++) if ((k < 8 * KiB || k >= 72 * KiB) && s.whole[k] !== GUARD) return false;
  return true;
}

describe('hostile numbers, both backends at once', () => {
  it('only ArgumentErrors, never a trap, nothing outside guest RAM touched, both backends alike', async () => {
    await fc.assert(fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 30 }), async (calls) => {
      const sides = [await setup('wasm'), await setup('ts')];
      for (const [k, c] of calls.entries()) {
        const [w, t] = sides.map((s) => perform(s, c));
        const what = `call ${k}: ${JSON.stringify(c, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}`;
        for (const r of [w, t]) {
          if (/^[A-Za-z]*Error: /.test(r)) expect(r.split(':')[0], `${what} -> ${r}`).toBe('ArgumentError');
        }
        expect(t, what).toBe(w);
        for (const s of sides) expect(guardsIntact(s), `${what}: guard bytes around external RAM changed`).toBe(true);
      }
      // Still working: same state on both, and a fresh region serves a DMA.
      expect(state(sides[1].bus)).toBe(state(sides[0].bus));
      for (const s of sides) {
        s.bus.configWrite('00:05.0', 4, 2, 4);
        s.bus.dma.detach('00:05.0');
        const at = 2 ** 45;
        s.bus.dma.addRam({ base: at, size: PAGE });
        expect(s.bus.dma.write('00:05.0', at + 8, Uint8Array.of(1, 2, 3))).toBe('ok');
        const back = new Uint8Array(3);
        expect(s.bus.dma.read('00:05.0', at + 8, back)).toBe('ok');
        expect([...back]).toEqual([1, 2, 3]);
      }
    }), { numRuns: 60 });
  });
});
