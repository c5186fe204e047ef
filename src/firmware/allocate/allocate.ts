// The BAR and bridge-window allocator: a pure function from the sized tree to addresses.
// Two passes (DESIGN.md beside this file says why):
//   1. bottom-up, every bridge's windows are laid out relative to their own base (offset 0 is
//      aligned to the largest alignment inside, so relative alignment is absolute alignment) and
//      sized;
//   2. the root bus's BARs and bridge windows are placed in the root windows, then every window's
//      contents are shifted by the base its window got.
// Nothing outside this module's own objects is written: the input is never mutated.
import { AllocationError, type WindowAttempt } from './errors.js';
import { FreeSpace, alignUp } from './free-space.js';
import { isBridge } from './types.js';
import { validate } from './validate.js';
import type {
  AllocateOptions, Allocation, AllocationRoot, AssignedBar, BarRequest, BridgeRequest, FunctionRequest,
  PlacedIn, PolicyName, Reserves,
} from './types.js';

const KiB = 1024n;
const MiB = 1024n * KiB;
/** 16-bit IO decoders see only the first 64 KiB of IO space. */
const IO16_LIMIT = 0x10000n;
/** Inside a bridge, layout is relative and unbounded: the root windows bound it when placed. */
const UNBOUNDED = 1n << 80n;

type WindowKind = 'io' | 'mem' | 'prefetch';
type RootSpace = 'io' | 'mem32' | 'mem64';

/** PCI-to-PCI Bridge spec 1.2 §3.2.5.6 / §3.2.5.8 / §3.2.5.9: IO windows move in 4 KiB steps, memory windows in 1 MiB. */
const GRANULE: Record<WindowKind, bigint> = { io: 4n * KiB, mem: MiB, prefetch: MiB };
const WINDOW_KINDS: WindowKind[] = ['io', 'mem', 'prefetch'];

interface FnNode {
  req: FunctionRequest;
  /** Pre-order position: the scan order. */
  scan: number;
  /** The BARs in index order (the order the seed's loop reads them). */
  bars: BarRequest[];
  /** Set when placed: base and aperture per BAR index. */
  placed: Map<number, { base: bigint; window: PlacedIn }>;
  bridge?: BridgeInfo;
}

interface BridgeInfo {
  req: BridgeRequest;
  children: FnNode[];
  windows: Record<WindowKind, WindowLayout>;
}

/** One bridge window: what goes in it (relative offsets), its size and alignment, where it may go. */
interface WindowLayout {
  owner: FnNode;
  kind: WindowKind;
  items: Item[];
  /** 0n = closed. */
  size: bigint;
  align: bigint;
  /** IO only: this window, or one nested in it, decodes 16 bits, so it must end at or below 64 KiB. */
  low16: boolean;
  /** Prefetch only: this window and every prefetchable thing in it are 64-bit, so it may go above 4 GiB. */
  high: boolean;
  base: bigint;
}

/** A request to place: a BAR, or a child bridge's (open) window. */
interface Item {
  size: bigint;
  align: bigint;
  /** Scan order among all requests: function, then BAR index, then window io/mem/prefetch. */
  order: number;
  node: FnNode;
  bar?: BarRequest;
  window?: WindowLayout;
  /** Relative to the enclosing bridge window, or absolute at the root. */
  offset: bigint;
}

interface Target {
  space: RootSpace;
  limit?: bigint;
}

function barItem(node: FnNode, bar: BarRequest): Item {
  return { size: bar.size, align: bar.size, order: node.scan * 10 + bar.index, node, bar, offset: 0n };
}

function windowItem(w: WindowLayout): Item {
  return { size: w.size, align: w.align, order: w.owner.scan * 10 + 7 + WINDOW_KINDS.indexOf(w.kind), node: w.owner, window: w, offset: 0n };
}

/**
 * The order requests are placed in. scan-order: as met. largest-first: alignment descending; in one
 * alignment class, requests whose size is a multiple of the alignment before "ragged" ones (a bridge
 * window of 3 MiB aligned to 2 MiB), so the ragged tail does not push the next request of the class
 * to the next boundary; then size descending, then scan order. With `raggedLast`, all ragged
 * requests come after all others. Either way a total order, so the result is deterministic.
 */
function ordered(items: Item[], policy: PolicyName, raggedLast = false): Item[] {
  const copy = [...items];
  if (policy === 'scan-order') return copy.sort((a, b) => a.order - b.order);
  const ragged = (i: Item) => (i.size % i.align === 0n ? 0 : 1);
  return copy.sort((a, b) =>
    raggedLast && ragged(a) !== ragged(b) ? ragged(a) - ragged(b)
    : a.align !== b.align ? (a.align > b.align ? -1 : 1)
      : ragged(a) !== ragged(b) ? ragged(a) - ragged(b)
        : a.size !== b.size ? (a.size > b.size ? -1 : 1)
          : a.order - b.order);
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The minimum sizes for a bridge: hotplugReserve when hotplug, then reserveFor[bdf] field by field. */
function reservesOf(req: BridgeRequest, options: AllocateOptions): Required<Reserves> {
  const out: Required<Reserves> = { io: 0n, mem: 0n, prefetch: 0n };
  const layers = [req.hotplug ? options.hotplugReserve : undefined, options.reserveFor?.[req.bdf]];
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of WINDOW_KINDS) if (layer[key] !== undefined) out[key] = layer[key]!;
  }
  // Without a prefetchable window, a hotplugged device's prefetchable BARs land in the mem window.
  if (!req.hasPrefetchWindow) out.mem += out.prefetch;
  return out;
}

/** Which window of bridge `b` a BAR below it goes to. */
function windowForBar(bar: BarRequest, b: BridgeRequest): WindowKind {
  if (bar.kind === 'io') return 'io';
  // ROMs are 32-bit non-prefetchable memory; prefetchable BARs need a prefetchable window.
  if (bar.kind !== 'rom' && bar.prefetchable && b.hasPrefetchWindow) return 'prefetch';
  return 'mem';
}

/** Which window of bridge `b` a child bridge's window goes to. */
function windowForWindow(kind: WindowKind, b: BridgeRequest): WindowKind {
  return kind === 'prefetch' && !b.hasPrefetchWindow ? 'mem' : kind;
}

/** Builds the private tree, numbering functions in scan (pre-) order. */
function buildNode(req: FunctionRequest | BridgeRequest, counter: { next: number }): FnNode {
  const node: FnNode = {
    req,
    scan: counter.next++,
    bars: [...req.bars].sort((a, b) => a.index - b.index),
    placed: new Map(),
  };
  if (isBridge(req)) {
    node.bridge = { req, children: req.children.map((c) => buildNode(c, counter)), windows: undefined as unknown as BridgeInfo['windows'] };
  }
  return node;
}

/** Pass 1 for one bridge (children first): lays out and sizes its three windows. */
function sizeBridge(node: FnNode, options: AllocateOptions): void {
  const info = node.bridge!;
  const b = info.req;
  const lists: Record<WindowKind, Item[]> = { io: [], mem: [], prefetch: [] };
  for (const child of info.children) {
    if (child.bridge) sizeBridge(child, options);
    for (const bar of child.bars) lists[windowForBar(bar, b)].push(barItem(child, bar));
    if (child.bridge) {
      for (const kind of WINDOW_KINDS) {
        const w = child.bridge.windows[kind];
        if (w.size > 0n) lists[windowForWindow(kind, b)].push(windowItem(w));
      }
    }
  }
  const reserves = reservesOf(b, options);
  const windows = {} as Record<WindowKind, WindowLayout>;
  for (const kind of WINDOW_KINDS) {
    const items = kind === 'prefetch' && !b.hasPrefetchWindow ? [] : lists[kind];
    const end = layoutRelative(items, options.policy);
    const granule = GRANULE[kind];
    const wanted = kind === 'prefetch' && !b.hasPrefetchWindow ? 0n : bigMax(end, reserves[kind]);
    const size = alignUp(wanted, granule);
    const align = items.reduce((m, i) => bigMax(m, i.align), granule);
    windows[kind] = {
      owner: node,
      kind,
      items,
      size,
      align: size > 0n ? align : 0n,
      low16: kind === 'io' && (!b.io32 || items.some((i) => i.window?.low16 === true)),
      high: kind === 'prefetch' && b.prefetch64 && b.hasPrefetchWindow &&
        items.every((i) => (i.bar ? i.bar.kind === 'mem64' : i.window!.high)),
      base: 0n,
    };
  }
  info.windows = windows;
}

/**
 * Lays `items` out from offset 0 in unbounded space, each at the lowest aligned free offset; sets
 * their offsets and returns the end. scan-order: as met. largest-first: the smallest window of
 * three orders (its own order, ragged last, scan order; the first on a tie): the content is fixed,
 * so a smaller window only leaves more room to the windows above.
 */
function layoutRelative(items: Item[], policy: PolicyName): bigint {
  const run = (order: Item[]): { end: bigint; offsets: bigint[] } => {
    const space = new FreeSpace(0n, UNBOUNDED);
    let end = 0n;
    const offsets = order.map((item) => {
      const offset = space.allocate(item.size, item.align)!;
      end = bigMax(end, offset + item.size);
      return offset;
    });
    return { end, offsets };
  };
  const orders = policy === 'scan-order' ? [ordered(items, policy)] : [ordered(items, policy, false), ordered(items, policy, true), ordered(items, 'scan-order')];
  let best: { order: Item[]; end: bigint; offsets: bigint[] } | undefined;
  for (const order of orders) {
    const r = run(order);
    if (!best || r.end < best.end) best = { order, ...r };
  }
  best?.order.forEach((item, i) => { item.offset = best!.offsets[i]; });
  return best?.end ?? 0n;
}

/**
 * Where a root-bus request may go, in the order tried. These are the fallback rules, exactly:
 * - IO BAR: io. A bridge IO window: io, ending at or below 64 KiB when it (or a window nested in it) is 16-bit.
 * - 32-bit memory BAR (prefetchable or not), ROM, bridge mem window, bridge prefetch window that
 *   must stay below 4 GiB: mem32.
 * - 64-bit prefetchable BAR, prefetch window allowed above 4 GiB: mem64, then mem32 (mem32 only when there is no mem64).
 * - 64-bit non-prefetchable BAR: mem32, then mem64 (Linux gives non-prefetchable windows of root-bus
 *   bridges 32 bits anyway, and keeps 64-bit space for prefetchable memory first).
 */
function targetsAtRoot(item: Item, hasMem64: boolean): Target[] {
  const mem32: Target = { space: 'mem32' };
  const mem64: Target = { space: 'mem64' };
  if (item.bar) {
    const bar = item.bar;
    if (bar.kind === 'io') return [{ space: 'io' }];
    if (bar.kind !== 'mem64' || !hasMem64) return [mem32];
    return bar.prefetchable ? [mem64, mem32] : [mem32, mem64];
  }
  const w = item.window!;
  if (w.kind === 'io') return [w.low16 ? { space: 'io', limit: IO16_LIMIT } : { space: 'io' }];
  if (w.kind === 'prefetch' && w.high && hasMem64) return [mem64, mem32];
  return [mem32];
}

function attemptReport(space: FreeSpace, name: RootSpace, target: Target, align: bigint): WindowAttempt {
  return {
    name,
    base: space.base,
    size: space.size,
    ...(target.limit !== undefined ? { limit: target.limit } : {}),
    largestFree: space.largestAligned(1n, target.limit),
    largestFreeAligned: space.largestAligned(align, target.limit),
    totalFree: space.totalFree(target.limit),
  };
}

function failure(item: Item, attempts: WindowAttempt[]): AllocationError {
  return new AllocationError({
    bdf: item.node.req.bdf,
    ...(item.bar ? { bar: item.bar.index } : { bridgeWindow: item.window!.kind }),
    size: item.size,
    alignment: item.align,
    attempts,
  });
}

/** Where each root-bus request went: root window and absolute base (in `item.offset`). */
type RootPlacement = Map<Item, RootSpace>;

/** Pass 2 at the root: places every root-bus request in the root windows with the policy. */
function placeAtRoot(items: Item[], root: AllocationRoot, policy: PolicyName): RootPlacement {
  if (policy === 'scan-order') return placeScanOrder(items, root);
  let firstError: AllocationError | undefined;
  for (const packing of PACKINGS) {
    try {
      return placeLargestFirst(items, root, packing);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      firstError ??= e;
    }
  }
  throw firstError!;
}

/** The root windows' free space: the windows less the ranges already in use. */
function freeSpaces(root: AllocationRoot): Record<RootSpace, FreeSpace | undefined> {
  const { io, mem32, mem64 } = root.windows;
  const spaces = {
    io: new FreeSpace(io.base, io.size),
    mem32: new FreeSpace(mem32.base, mem32.size),
    mem64: mem64 ? new FreeSpace(mem64.base, mem64.size) : undefined,
  };
  for (const r of root.reserved ?? []) {
    if (r.space === 'io') spaces.io.remove(r.base, r.size);
    else {
      spaces.mem32.remove(r.base, r.size);
      spaces.mem64?.remove(r.base, r.size);
    }
  }
  return spaces;
}

/** Places `item` at `target` (lowest aligned free address); on failure records the window's state. */
function tryPlace(item: Item, target: Target, spaces: Record<RootSpace, FreeSpace | undefined>,
  where: RootPlacement, attempts: WindowAttempt[], fromTop = false): boolean {
  const space = spaces[target.space]!;
  const base = space.allocate(item.size, item.align, target.limit, fromTop);
  if (base === undefined) {
    attempts.push(attemptReport(space, target.space, target, item.align));
    return false;
  }
  item.offset = base;
  where.set(item, target.space);
  return true;
}

/** The seed's loop: each request, as met, at the lowest aligned free address of the first window with room. */
function placeScanOrder(items: Item[], root: AllocationRoot): RootPlacement {
  const spaces = freeSpaces(root);
  const where: RootPlacement = new Map();
  for (const item of ordered(items, 'scan-order')) {
    const attempts: WindowAttempt[] = [];
    if (!targetsAtRoot(item, spaces.mem64 !== undefined).some((t) => tryPlace(item, t, spaces, where, attempts))) {
      throw failure(item, attempts);
    }
  }
  return where;
}

/** One way to pack the root windows: from the bottom or the top, ragged requests in their class or last. */
interface Packing {
  fromTop: boolean;
  raggedLast: boolean;
}
/** Tried in turn by largest-first until one fits (DESIGN.md "largest-first"). */
const PACKINGS: Packing[] = [
  { fromTop: false, raggedLast: false },
  { fromTop: true, raggedLast: false },
  { fromTop: false, raggedLast: true },
];

/**
 * largest-first at the root. Every window is packed largest alignment first, the most constrained
 * requests before the others: those that must end below a limit (16-bit IO windows), then those
 * with nowhere else to go, then those that could still fall back. Which memory window a 64-bit
 * request gets is settled by repacking:
 *   - mem64 takes the 64-bit non-prefetchable requests promoted to it (none at first), then the
 *     64-bit prefetchable requests; prefetchable ones it cannot hold fall back to mem32;
 *   - mem32 takes everything 32-bit and those fallbacks, then the 64-bit non-prefetchable requests;
 *   - a 64-bit non-prefetchable request that mem32 cannot hold is promoted, and both windows are
 *     packed again from empty. The promoted set only grows, so this ends.
 * This keeps small prefetchable requests from filling mem64 before a large non-prefetchable one
 * that only fits there, and a large fallback-capable request from filling mem32 before requests
 * that have no other window.
 */
function placeLargestFirst(items: Item[], root: AllocationRoot, { fromTop, raggedLast }: Packing): RootPlacement {
  const hasMem64 = root.windows.mem64 !== undefined;
  const targets = new Map(items.map((item) => [item, targetsAtRoot(item, hasMem64)]));
  const first = (item: Item) => targets.get(item)![0];
  const io = items.filter((i) => first(i).space === 'io');
  const prefer64 = items.filter((i) => first(i).space === 'mem64');
  const fallback64 = items.filter((i) => first(i).space === 'mem32' && targets.get(i)!.length > 1);
  const only32 = items.filter((i) => first(i).space === 'mem32' && targets.get(i)!.length === 1);
  const promoted = new Set<Item>();
  /** Why a promoted request left mem32: that window's state when it did not fit. */
  const mem32Report = new Map<Item, WindowAttempt>();
  for (;;) {
    const spaces = freeSpaces(root);
    const where: RootPlacement = new Map();
    const report = new Map<Item, WindowAttempt>();
    /** Packs one window with `groups` in turn, each largest-first; returns what did not fit. */
    const pack = (space: RootSpace, groups: Item[][]): Item[] => {
      const missed: Item[] = [];
      for (const group of groups) {
        for (const item of ordered(group, 'largest-first', raggedLast)) {
          const target = space === 'io' ? first(item) : { space };
          const attempts: WindowAttempt[] = [];
          if (!tryPlace(item, target, spaces, where, attempts, fromTop)) {
            missed.push(item);
            report.set(item, attempts[0]);
          }
        }
      }
      return missed;
    };

    const limited = io.filter((i) => first(i).limit !== undefined);
    const ioMissed = pack('io', [limited, io.filter((i) => first(i).limit === undefined)]);
    if (ioMissed.length > 0) throw failure(ioMissed[0], [report.get(ioMissed[0])!]);

    const spilled = hasMem64 ? pack('mem64', [fallback64.filter((i) => promoted.has(i)), prefer64]) : prefer64;
    const lostPromoted = spilled.find((i) => promoted.has(i));
    if (lostPromoted) throw failure(lostPromoted, [mem32Report.get(lostPromoted)!, report.get(lostPromoted)!]);
    /** mem64's reports for the prefetchable requests it could not hold, before mem32 overwrites them. */
    const mem64Report = new Map(spilled.map((i) => [i, report.get(i)]));

    const missed32 = pack('mem32', [[...only32, ...spilled], fallback64.filter((i) => !promoted.has(i))]);
    const lost = missed32.find((i) => !fallback64.includes(i));
    if (lost) {
      const before = mem64Report.get(lost);
      throw failure(lost, before ? [before, report.get(lost)!] : [report.get(lost)!]);
    }
    if (missed32.length === 0) return where;
    for (const item of missed32) {
      promoted.add(item);
      mem32Report.set(item, report.get(item)!);
    }
  }
}

/** Gives every item in a placed window its absolute base, down the tree. */
function settle(window: WindowLayout): void {
  const placedIn = `bridge-${window.kind}` as PlacedIn;
  for (const item of window.items) {
    const base = window.base + item.offset;
    if (item.bar) item.node.placed.set(item.bar.index, { base, window: placedIn });
    else {
      item.window!.base = base;
      settle(item.window!);
    }
  }
}

function collect(nodes: FnNode[], out: Allocation): void {
  for (const node of nodes) {
    const bars: AssignedBar[] = node.bars.map((bar) => {
      const p = node.placed.get(bar.index)!;
      return { index: bar.index, kind: bar.kind, prefetchable: bar.prefetchable, base: p.base, size: bar.size, window: p.window };
    });
    out.functions.push({ bdf: node.req.bdf, bars });
    if (node.bridge) {
      out.bridges.push({
        bdf: node.req.bdf,
        windows: WINDOW_KINDS.map((kind) => {
          const w = node.bridge!.windows[kind];
          return { kind, base: w.size > 0n ? w.base : 0n, size: w.size };
        }),
      });
      collect(node.bridge.children, out);
    }
  }
}

/**
 * Assigns every BAR and bridge window of the tree an address (rules in DESIGN.md). Pure: the
 * same input gives the same output, and the input is not touched. Throws ArgumentError for a
 * malformed request and AllocationError when something does not fit (nothing is returned then).
 *
 * `largest-first` packs by alignment; packing is a heuristic, and a brim-full window can exist
 * where a lucky scan order fits and no largest-first packing does (DESIGN.md "Known limit"). So
 * when its own packing fails, largest-first also tries the scan-order layout and returns that if
 * it fits: largest-first fits every topology scan-order fits. The error thrown when both fail is
 * largest-first's own.
 */
export function allocate(root: AllocationRoot, options: AllocateOptions): Allocation {
  validate(root, options);
  if (options.policy !== 'largest-first') return layout(root, options);
  try {
    return layout(root, options);
  } catch (e) {
    if (!(e instanceof AllocationError)) throw e;
    try {
      return layout(root, { ...options, policy: 'scan-order' });
    } catch {
      throw e;
    }
  }
}

/** One layout with one policy (the input is validated). */
function layout(root: AllocationRoot, options: AllocateOptions): Allocation {
  const counter = { next: 0 };
  const nodes = root.children.map((c) => buildNode(c, counter));
  const items: Item[] = [];
  for (const node of nodes) {
    if (node.bridge) sizeBridge(node, options);
    for (const bar of node.bars) items.push(barItem(node, bar));
    if (node.bridge) {
      for (const kind of WINDOW_KINDS) {
        const w = node.bridge.windows[kind];
        if (w.size > 0n) items.push(windowItem(w));
      }
    }
  }
  const where = placeAtRoot(items, root, options.policy);
  for (const item of items) {
    if (item.bar) item.node.placed.set(item.bar.index, { base: item.offset, window: where.get(item)! });
    else {
      item.window!.base = item.offset;
      settle(item.window!);
    }
  }
  const out: Allocation = { functions: [], bridges: [] };
  collect(nodes, out);
  return out;
}
