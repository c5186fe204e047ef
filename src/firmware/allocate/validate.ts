// Input checks, all done before anything is laid out (validate before use): a malformed request
// is an ArgumentError naming the field (`children[2].children[0].bars[1].size: ...`), never a
// wrong layout.
import { ArgumentError } from '../../errors.js';
import { hex } from '../../util/hex.js';
import { isBridge } from './types.js';
import type { AllocateOptions, AllocationRoot, BarRequest, FunctionRequest, Reserves, Window } from './types.js';

const FOUR_GIB = 1n << 32n;
const TWO_POW_64 = 1n << 64n;
const IO_BAR_MAX = 0x10000n;
const KINDS = new Set(['io', 'mem32', 'mem64', 'rom']);

function fail(path: string, problem: string): never {
  throw new ArgumentError(`allocate: ${path}: ${problem}`);
}

function isBigint(v: unknown): v is bigint {
  return typeof v === 'bigint';
}

function checkWindow(path: string, w: Window | undefined, end: bigint, minBase = 0n): void {
  if (w === null || typeof w !== 'object') fail(path, 'missing');
  if (!isBigint(w.base) || !isBigint(w.size)) fail(path, 'base and size must be bigints');
  if (w.base < minBase) fail(`${path}.base`, `${hex(w.base)} is below ${hex(minBase)}`);
  if (w.size < 0n) fail(`${path}.size`, 'negative');
  if (w.base + w.size > end) fail(path, `ends at ${hex(w.base + w.size)}, past ${hex(end)}`);
}

function checkReserves(path: string, r: Reserves | undefined): void {
  if (r === undefined) return;
  if (r === null || typeof r !== 'object') fail(path, 'must be an object');
  for (const key of ['io', 'mem', 'prefetch'] as const) {
    const v = r[key];
    if (v !== undefined && (!isBigint(v) || v < 0n)) fail(`${path}.${key}`, 'must be a non-negative bigint');
  }
}

function checkBar(path: string, bar: BarRequest, bridge: boolean): void {
  if (bar === null || typeof bar !== 'object') fail(path, 'must be an object');
  if (!Number.isInteger(bar.index) || bar.index < 0 || bar.index > 6) fail(`${path}.index`, `${bar.index} is not 0-6`);
  if (!KINDS.has(bar.kind)) fail(`${path}.kind`, `"${String(bar.kind)}" is not io, mem32, mem64 or rom`);
  if ((bar.kind === 'rom') !== (bar.index === 6)) fail(path, 'index 6 is the expansion ROM, and only it');
  if (bridge && bar.index > 1 && bar.index < 6) fail(`${path}.index`, `a bridge (type 1 header) has BARs 0-1 only, not ${bar.index}`);
  if (bar.kind === 'mem64' && bar.index > (bridge ? 0 : 4)) fail(`${path}.index`, `a 64-bit BAR at ${bar.index} has no upper half`);
  if (typeof bar.prefetchable !== 'boolean') fail(`${path}.prefetchable`, 'must be a boolean');
  if (bar.prefetchable && (bar.kind === 'io' || bar.kind === 'rom')) fail(`${path}.prefetchable`, `a${bar.kind === 'io' ? 'n IO BAR' : ' ROM'} is never prefetchable`);
  if (!isBigint(bar.size) || bar.size <= 0n || (bar.size & (bar.size - 1n)) !== 0n) {
    fail(`${path}.size`, `${String(bar.size)} is not a power of two`);
  }
  // Natural alignment keeps an IO BAR of at most 64 KiB from crossing a 64 KiB line; a larger one would.
  if (bar.kind === 'io' && bar.size > IO_BAR_MAX) fail(`${path}.size`, `an IO BAR larger than 64 KiB (${hex(bar.size)}) would cross a 64 KiB boundary`);
}

function checkFunction(path: string, f: FunctionRequest, seen: Set<string>): void {
  if (f === null || typeof f !== 'object') fail(path, 'must be an object');
  if (typeof f.bdf !== 'string' || f.bdf === '') fail(`${path}.bdf`, 'must be a non-empty string');
  if (seen.has(f.bdf)) fail(`${path}.bdf`, `"${f.bdf}" appears twice`);
  seen.add(f.bdf);
  if (!Array.isArray(f.bars)) fail(`${path}.bars`, 'must be an array');
  const bridge = isBridge(f);
  const used = new Set<number>();
  f.bars.forEach((bar, i) => {
    const p = `${path}.bars[${i}]`;
    checkBar(p, bar, bridge);
    const slots = bar.kind === 'mem64' ? [bar.index, bar.index + 1] : [bar.index];
    for (const s of slots) {
      if (used.has(s)) fail(`${p}.index`, `BAR slot ${s} is used twice`);
      used.add(s);
    }
  });
  if (bridge) {
    for (const key of ['io32', 'prefetch64', 'hasPrefetchWindow'] as const) {
      if (typeof f[key] !== 'boolean') fail(`${path}.${key}`, 'must be a boolean');
    }
    if (f.hotplug !== undefined && typeof f.hotplug !== 'boolean') fail(`${path}.hotplug`, 'must be a boolean');
    f.children.forEach((c, i) => checkFunction(`${path}.children[${i}]`, c, seen));
  }
}

/** Throws an ArgumentError at the first malformed field. */
export function validate(root: AllocationRoot, options: AllocateOptions): void {
  if (root === null || typeof root !== 'object') fail('root', 'must be an object');
  if (options === null || typeof options !== 'object') fail('options', 'must be an object');
  if (options.policy !== 'scan-order' && options.policy !== 'largest-first') {
    fail('options.policy', `"${String(options.policy)}" is not scan-order or largest-first`);
  }
  checkReserves('options.hotplugReserve', options.hotplugReserve);
  if (options.reserveFor !== undefined) {
    if (options.reserveFor === null || typeof options.reserveFor !== 'object') fail('options.reserveFor', 'must be an object');
    for (const [bdf, r] of Object.entries(options.reserveFor)) checkReserves(`options.reserveFor["${bdf}"]`, r);
  }
  const w = root.windows;
  if (w === null || typeof w !== 'object') fail('windows', 'missing');
  checkWindow('windows.io', w.io, FOUR_GIB);
  checkWindow('windows.mem32', w.mem32, FOUR_GIB);
  if (w.mem64 !== undefined) checkWindow('windows.mem64', w.mem64, TWO_POW_64, FOUR_GIB);
  if (root.reserved !== undefined) {
    if (!Array.isArray(root.reserved)) fail('reserved', 'must be an array');
    root.reserved.forEach((r, i) => {
      if (r === null || typeof r !== 'object') fail(`reserved[${i}]`, 'must be an object');
      if (r.space !== 'io' && r.space !== 'mem') fail(`reserved[${i}].space`, `"${String(r.space)}" is not io or mem`);
      if (!isBigint(r.base) || !isBigint(r.size) || r.base < 0n || r.size < 0n) fail(`reserved[${i}]`, 'base and size must be non-negative bigints');
    });
  }
  if (!Array.isArray(root.children)) fail('children', 'must be an array');
  const seen = new Set<string>();
  root.children.forEach((c, i) => checkFunction(`children[${i}]`, c, seen));
}
