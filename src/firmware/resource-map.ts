// The result of a firmware run as data (JSON with hex strings) and as text in the layout of
// Linux's /proc/iomem and /proc/ioports: ranges sorted by address, nested under the bridge window
// that contains them, two spaces per level, "start-end : owner".
import type { BarKind, PolicyName } from './allocate/index.js';

/** A BAR in the resource map: index (6 = ROM), kind, address and size as hex strings. */
export interface MapBar {
  index: number;
  kind: BarKind;
  prefetchable: boolean;
  /** "0x…" (hex strings: 64-bit addresses exceed 2^53). */
  base: string;
  size: string;
  /** True when the BAR kept the address it held (the seed allocates only BARs at address 0). */
  kept?: boolean;
}

/** An open bridge window in the resource map, as hex strings. */
export interface MapWindow {
  kind: 'io' | 'mem' | 'prefetch';
  base: string;
  size: string;
}

/**
 * The result of a firmware run as data (JSON-ready, hex strings): every BAR and every bridge with
 * its bus numbers and windows; `formatResourceMap` prints it.
 */
export interface ResourceMap {
  policy: PolicyName;
  /** The segments enumerated. */
  segments: number[];
  /** Every function with at least one BAR, in scan order, at the address it answers now. */
  functions: { bdf: string; bars: MapBar[] }[];
  /** Every bridge, with its bus numbers and its open windows. */
  bridges: { bdf: string; secondary: number; subordinate: number; windows: MapWindow[] }[];
}

interface Range {
  start: bigint;
  end: bigint;
  label: string;
  /** Windows sort before BARs at the same start so they become the parents. */
  window: boolean;
  children: Range[];
}

const hexDigits = (v: bigint, width: number) => v.toString(16).padStart(width, '0');

function nest(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) =>
    (a.start < b.start ? -1 : a.start > b.start ? 1 : 0) || (a.end > b.end ? -1 : a.end < b.end ? 1 : 0) || Number(b.window) - Number(a.window));
  const top: Range[] = [];
  const stack: Range[] = [];
  for (const r of sorted) {
    while (stack.length > 0 && !(stack[stack.length - 1].window && r.start >= stack[stack.length - 1].start && r.end <= stack[stack.length - 1].end)) stack.pop();
    (stack.length > 0 ? stack[stack.length - 1].children : top).push(r);
    stack.push(r);
  }
  return top;
}

function render(ranges: Range[], width: number, depth = 0, out: string[] = []): string[] {
  for (const r of ranges) {
    out.push(`${'  '.repeat(depth)}${hexDigits(r.start, width)}-${hexDigits(r.end, width)} : ${r.label}`);
    render(r.children, width, depth + 1, out);
  }
  return out;
}

/** "PCI Bus SSSS:BB" for the secondary bus of the bridge at `bdf` ("SSSS:BB:DD.F"). */
const busName = (bdf: string, bus: number) => `PCI Bus ${bdf.slice(0, 4)}:${bus.toString(16).padStart(2, '0')}`;

/** The map as /proc/iomem and /proc/ioports text. */
export function formatResourceMap(map: ResourceMap): { iomem: string; ioports: string } {
  const mem: Range[] = [];
  const io: Range[] = [];
  for (const b of map.bridges) {
    for (const w of b.windows) {
      const start = BigInt(w.base);
      const label = `${busName(b.bdf, b.secondary)}${w.kind === 'prefetch' ? ' (prefetchable)' : ''}`;
      (w.kind === 'io' ? io : mem).push({ start, end: start + BigInt(w.size) - 1n, label, window: true, children: [] });
    }
  }
  for (const f of map.functions) {
    for (const bar of f.bars) {
      const start = BigInt(bar.base);
      const what = bar.index === 6 ? 'ROM' : `BAR ${bar.index}`;
      const traits = [bar.kind === 'mem64' ? '64-bit' : '', bar.prefetchable ? 'prefetchable' : '', bar.kept ? 'kept' : ''].filter(Boolean);
      const label = `${f.bdf} ${what}${traits.length ? ` (${traits.join(', ')})` : ''}`;
      (bar.kind === 'io' ? io : mem).push({ start, end: start + BigInt(bar.size) - 1n, label, window: false, children: [] });
    }
  }
  const memWidth = mem.some((r) => r.end > 0xffffffffn) ? 16 : 8;
  return { iomem: render(nest(mem), memWidth).join('\n'), ioports: render(nest(io), 4).join('\n') };
}
