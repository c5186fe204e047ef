// An independent checker of an allocation against the rules in src/firmware/allocate/DESIGN.md.
// It re-derives which window every BAR and bridge window belongs in from the request tree (it
// does not reuse the allocator's routing) and lists every rule an allocation breaks.
import type {
  AllocateOptions, Allocation, AllocationRoot, AssignedBar, AssignedWindow, BarRequest, BridgeRequest, FunctionRequest,
} from '../../../src/firmware/allocate/index.js';

const FOUR_GIB = 1n << 32n;
const IO16 = 0x10000n;
const GRANULE = { io: 0x1000n, mem: 0x100000n, prefetch: 0x100000n } as const;
type Kind = 'io' | 'mem' | 'prefetch';

interface Region {
  label: string;
  space: 'io' | 'memory';
  base: bigint;
  size: bigint;
  /** Labels of the bridge windows this region is inside (nearest first). */
  ancestors: string[];
}

/** Which window of bridge `b` a BAR below it belongs in (DESIGN.md "Behind a bridge"). */
function expectedKind(bar: BarRequest, b: BridgeRequest): Kind {
  if (bar.kind === 'io') return 'io';
  if (bar.kind === 'rom' || !bar.prefetchable) return 'mem';
  return b.hasPrefetchWindow ? 'prefetch' : 'mem';
}

function reserveOf(b: BridgeRequest, options: AllocateOptions, kind: Kind): bigint {
  const layers = [b.hotplug ? options.hotplugReserve : undefined, options.reserveFor?.[b.bdf]];
  const get = (k: Kind) => layers.reduce<bigint>((acc, l) => (l && l[k] !== undefined ? l[k]! : acc), 0n);
  if (kind === 'mem' && !b.hasPrefetchWindow) return get('mem') + get('prefetch');
  if (kind === 'prefetch' && !b.hasPrefetchWindow) return 0n;
  return get(kind);
}

const inside = (base: bigint, size: bigint, w: { base: bigint; size: bigint }) => base >= w.base && base + size <= w.base + w.size;

/** Every rule `a` breaks, as text (empty when it keeps them all). */
export function violations(root: AllocationRoot, options: AllocateOptions, a: Allocation): string[] {
  const out: string[] = [];
  const fnByBdf = new Map(a.functions.map((f) => [f.bdf, f]));
  const brByBdf = new Map(a.bridges.map((b) => [b.bdf, b]));
  const regions: Region[] = [];
  const order: string[] = [];
  const bridgeOrder: string[] = [];

  interface Ctx {
    /** The bridge above and its windows, nearest first. */
    chain: { req: BridgeRequest; windows: AssignedWindow[] }[];
  }

  /** The window of `chain[0]` this thing is in, then the one of chain[1] that window is in, ... */
  const windowsAbove = (ctx: Ctx, first: Kind): { req: BridgeRequest; w: AssignedWindow; kind: Kind }[] => {
    const list: { req: BridgeRequest; w: AssignedWindow; kind: Kind }[] = [];
    let kind = first;
    for (const level of ctx.chain) {
      if (kind === 'prefetch' && !level.req.hasPrefetchWindow) kind = 'mem';
      list.push({ req: level.req, w: level.windows.find((w) => w.kind === kind)!, kind });
    }
    return list;
  };

  const checkBar = (f: FunctionRequest, bar: BarRequest, got: AssignedBar | undefined, ctx: Ctx) => {
    const label = `${f.bdf} BAR ${bar.index}`;
    if (!got) { out.push(`${label}: missing`); return; }
    if (got.size !== bar.size || got.kind !== bar.kind || got.prefetchable !== bar.prefetchable) out.push(`${label}: echoes the request wrongly`);
    if (got.base % got.size !== 0n) out.push(`${label}: base ${got.base.toString(16)} not aligned to its size ${got.size.toString(16)}`);
    if (bar.kind === 'io' && got.base / IO16 !== (got.base + got.size - 1n) / IO16) out.push(`${label}: IO BAR crosses a 64 KiB line`);
    if (bar.kind === 'rom' && got.base + got.size > FOUR_GIB) out.push(`${label}: ROM above 4 GiB`);
    const parent = ctx.chain[0];
    const ancestors: string[] = [];
    if (parent) {
      const kind = expectedKind(bar, parent.req);
      if (got.window !== `bridge-${kind}`) out.push(`${label}: reports window ${got.window}, belongs in bridge-${kind}`);
      for (const { req, w, kind: k } of windowsAbove(ctx, kind)) {
        if (!inside(got.base, got.size, w)) out.push(`${label}: outside ${k} window of ${req.bdf}`);
        ancestors.push(`${req.bdf}/${k}`);
      }
      const top = windowsAbove(ctx, kind).at(-1)!;
      checkRootSpan(label, got.base, got.size, top.kind === 'io' ? 'io' : 'memory');
    } else {
      const allowed = bar.kind === 'io' ? ['io'] : bar.kind === 'mem64' && root.windows.mem64 ? ['mem32', 'mem64'] : ['mem32'];
      if (!allowed.includes(got.window)) out.push(`${label}: reports window ${got.window}, allowed ${allowed.join('/')}`);
      const w = root.windows[got.window as 'io' | 'mem32' | 'mem64'];
      if (!w || !inside(got.base, got.size, w)) out.push(`${label}: outside root window ${got.window}`);
    }
    regions.push({ label, space: bar.kind === 'io' ? 'io' : 'memory', base: got.base, size: got.size, ancestors });
  };

  /** A thing whose outermost container is a root-bus window lies in a root window of its space. */
  const checkRootSpan = (label: string, base: bigint, size: bigint, space: 'io' | 'memory') => {
    const ws = space === 'io' ? [root.windows.io] : [root.windows.mem32, root.windows.mem64].filter((w) => w !== undefined);
    if (!ws.some((w) => inside(base, size, w!))) out.push(`${label}: outside every root ${space} window`);
  };

  const visit = (children: (FunctionRequest | BridgeRequest)[], ctx: Ctx) => {
    for (const f of children) {
      order.push(f.bdf);
      const got = fnByBdf.get(f.bdf);
      if (!got) { out.push(`${f.bdf}: missing`); continue; }
      if (got.bars.length !== f.bars.length) out.push(`${f.bdf}: ${got.bars.length} BARs for ${f.bars.length}`);
      for (const bar of f.bars) checkBar(f, bar, got.bars.find((b) => b.index === bar.index), ctx);
      if (!('children' in f)) continue;
      bridgeOrder.push(f.bdf);
      const br = brByBdf.get(f.bdf);
      if (!br || br.windows.map((w) => w.kind).join() !== 'io,mem,prefetch') { out.push(`${f.bdf}: windows missing`); continue; }
      for (const w of br.windows) {
        const label = `${f.bdf} window ${w.kind}`;
        const reserve = reserveOf(f, options, w.kind);
        if (w.size < reserve) out.push(`${label}: size ${w.size.toString(16)} below the reserve ${reserve.toString(16)}`);
        if (w.size === 0n) { if (w.base !== 0n) out.push(`${label}: closed with a base`); continue; }
        if (w.kind === 'prefetch' && !f.hasPrefetchWindow) out.push(`${label}: open on a bridge without one`);
        const g = GRANULE[w.kind];
        if (w.base % g !== 0n || w.size % g !== 0n) out.push(`${label}: not ${g.toString(16)}-granular`);
        if (w.kind === 'io' && !f.io32 && w.base + w.size > IO16) out.push(`${label}: 16-bit IO window above 64 KiB`);
        if (w.kind === 'io' && ctx.chain.some((c) => !c.req.io32) && w.base + w.size > IO16) out.push(`${label}: below a 16-bit bridge yet above 64 KiB`);
        if (w.kind !== 'io' && w.base + w.size > FOUR_GIB && !mayGoHigh(f, ctx)) out.push(`${label}: above 4 GiB against the prefetch rule`);
        const ancestors: string[] = [];
        for (const { req, w: pw, kind } of windowsAbove(ctx, w.kind)) {
          if (!inside(w.base, w.size, pw)) out.push(`${label}: outside ${kind} window of ${req.bdf}`);
          ancestors.push(`${req.bdf}/${kind}`);
        }
        if (ctx.chain.length === 0) {
          const ok = w.kind === 'io' ? inside(w.base, w.size, root.windows.io)
            : inside(w.base, w.size, root.windows.mem32) || (w.kind === 'prefetch' && root.windows.mem64 !== undefined && inside(w.base, w.size, root.windows.mem64));
          if (!ok) out.push(`${label}: outside the root window it belongs in`);
        } else checkRootSpan(label, w.base, w.size, w.kind === 'io' ? 'io' : 'memory');
        regions.push({ label: `${f.bdf}/${w.kind}`, space: w.kind === 'io' ? 'io' : 'memory', base: w.base, size: w.size, ancestors });
      }
      const hasContent = { io: false, mem: false, prefetch: false };
      const mark = (kind: Kind) => { hasContent[kind === 'prefetch' && !f.hasPrefetchWindow ? 'mem' : kind] = true; };
      for (const c of f.children) {
        for (const bar of c.bars) mark(expectedKind(bar, f));
        if ('children' in c) for (const w of brByBdf.get(c.bdf)?.windows ?? []) if (w.size > 0n) mark(w.kind);
      }
      for (const w of br.windows) {
        if (w.size > 0n && !hasContent[w.kind] && reserveOf(f, options, w.kind) === 0n) out.push(`${f.bdf} window ${w.kind}: open with nothing behind it`);
        if (w.size === 0n && hasContent[w.kind]) out.push(`${f.bdf} window ${w.kind}: closed with something behind it`);
      }
      visit(f.children, { chain: [{ req: f, windows: br.windows }, ...ctx.chain] });
    }
  };

  /** Linux's rule: prefetch window above 4 GiB only if it and every bridge above are 64-bit and every prefetchable BAR under it is 64-bit. */
  const mayGoHigh = (b: BridgeRequest, ctx: Ctx): boolean => {
    if (!b.prefetch64 || !b.hasPrefetchWindow) return false;
    if (ctx.chain.some((c) => !c.req.prefetch64 || !c.req.hasPrefetchWindow)) return false;
    const allWide = (br: BridgeRequest): boolean => br.children.every((c) =>
      c.bars.every((bar) => expectedKind(bar, br) !== 'prefetch' || bar.kind === 'mem64') &&
      (!('children' in c) || !c.hasPrefetchWindow || (brByBdf.get(c.bdf)?.windows[2].size ?? 0n) === 0n || (c.prefetch64 && allWide(c))));
    return allWide(b);
  };

  visit(root.children, { chain: [] });
  if (order.join() !== a.functions.map((f) => f.bdf).join()) out.push('functions not in scan order');
  if (bridgeOrder.join() !== a.bridges.map((b) => b.bdf).join()) out.push('bridges not in scan order');

  // Nothing over a range already in use.
  for (const r of root.reserved ?? []) {
    for (const x of regions) {
      if (x.space === (r.space === 'io' ? 'io' : 'memory') && x.base < r.base + r.size && r.base < x.base + x.size) {
        out.push(`${x.label} overlaps reserved ${r.space} [${r.base.toString(16)}, +${r.size.toString(16)})`);
      }
    }
  }

  // No overlap in one address space, unless one region is a window the other is inside.
  for (const space of ['io', 'memory'] as const) {
    const rs = regions.filter((r) => r.space === space).sort((x, y) => (x.base < y.base ? -1 : x.base > y.base ? 1 : 0));
    for (let i = 0; i < rs.length; i++) {
      for (let j = i + 1; j < rs.length && rs[j].base < rs[i].base + rs[i].size; j++) {
        const [x, y] = [rs[i], rs[j]];
        if (!x.ancestors.includes(y.label) && !y.ancestors.includes(x.label)) out.push(`${x.label} overlaps ${y.label}`);
      }
    }
  }
  return out;
}

/** Every BAR and window of `a` with a 64-bit-wide address, for inspection. */
export function flatten(a: Allocation): { label: string; base: bigint; size: bigint }[] {
  return [
    ...a.functions.flatMap((f) => f.bars.map((b) => ({ label: `${f.bdf} BAR ${b.index}`, base: b.base, size: b.size }))),
    ...a.bridges.flatMap((b) => b.windows.map((w) => ({ label: `${b.bdf} ${w.kind}`, base: w.base, size: w.size }))),
  ];
}
