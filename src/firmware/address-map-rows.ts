// The resource map laid out for drawing: one panel per root aperture (IO, 32-bit MMIO, 64-bit
// MMIO, and anything kept outside them), a row per bridge window and BAR at its offset in the
// aperture. The CLI's SVG chart (vega-lite) and the demo page (plain SVG) both draw these rows.
import type { ResourceMap } from './resource-map.js';
import type { RootWindows, Window } from './allocate/index.js';

/** One bar of an address map: a BAR or a bridge window, in KiB from the start of its aperture's panel. */
export interface AddressMapRow {
  panel: string;
  label: string;
  what: string;
  start: number;
  end: number;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Rows for the chart: every window and BAR, placed in the aperture that holds it. */
export function addressMapRows(map: ResourceMap, windows: RootWindows): AddressMapRow[] {
  const apertures: { name: string; space: 'io' | 'mem'; w: Window }[] = [
    { name: 'IO ports', space: 'io', w: windows.io },
    { name: '32-bit MMIO', space: 'mem', w: windows.mem32 },
    ...(windows.mem64 ? [{ name: '64-bit MMIO', space: 'mem' as const, w: windows.mem64 }] : []),
  ];
  const rows: AddressMapRow[] = [];
  const place = (space: 'io' | 'mem', base: bigint, size: bigint, label: string, what: string) => {
    const a = apertures.find((x) => x.space === space && base >= x.w.base && base + size <= x.w.base + x.w.size);
    const origin = a ? a.w.base : base;
    const panel = a ? `${a.name} ${hex(a.w.base)}-${hex(a.w.base + a.w.size - 1n)} (offsets in KiB)` : `outside the apertures, from ${hex(base)} (KiB)`;
    rows.push({ panel, label, what, start: Number(base - origin) / 1024, end: Number(base - origin + size) / 1024 });
  };
  for (const b of map.bridges) {
    for (const w of b.windows) place(w.kind === 'io' ? 'io' : 'mem', BigInt(w.base), BigInt(w.size), `${b.bdf} ${w.kind} window (bus ${b.secondary.toString(16).padStart(2, '0')})`, `bridge ${w.kind} window`);
  }
  for (const f of map.functions) {
    for (const bar of f.bars) {
      const what = bar.kind === 'rom' ? 'ROM' : bar.prefetchable ? `${bar.kind} prefetchable` : bar.kind;
      place(bar.kind === 'io' ? 'io' : 'mem', BigInt(bar.base), BigInt(bar.size), `${f.bdf} ${bar.index === 6 ? 'ROM' : `BAR ${bar.index}`}${bar.kept ? ' (kept)' : ''}`, what);
    }
  }
  return rows;
}
