// The resource map as an SVG chart (`vpci enumerate --svg FILE`): one panel per root aperture
// (IO, 32-bit MMIO, 64-bit MMIO, and anything kept outside them), a bar per bridge window and BAR
// at its offset in the aperture. vega-lite compiles the spec and vega renders SVG headlessly; both
// load only when a chart is asked for.
import type { ResourceMap, RootWindows, Window } from '../firmware/index.js';

interface Row {
  panel: string;
  label: string;
  what: string;
  start: number;
  end: number;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Rows for the chart: every window and BAR, placed in the aperture that holds it. */
export function addressMapRows(map: ResourceMap, windows: RootWindows): Row[] {
  const apertures: { name: string; space: 'io' | 'mem'; w: Window }[] = [
    { name: 'IO ports', space: 'io', w: windows.io },
    { name: '32-bit MMIO', space: 'mem', w: windows.mem32 },
    ...(windows.mem64 ? [{ name: '64-bit MMIO', space: 'mem' as const, w: windows.mem64 }] : []),
  ];
  const rows: Row[] = [];
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

/** SVG text of the address map. */
export async function addressMapSvg(map: ResourceMap, windows: RootWindows, title: string): Promise<string> {
  const rows = addressMapRows(map, windows);
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const panels = [...new Set(rows.map((r) => r.panel))];
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: `policy ${map.policy}; each bar is a BAR or a bridge window at its offset in the aperture` },
    vconcat: panels.map((panel) => ({
      title: panel,
      width: 720,
      height: { step: 16 },
      transform: [{ filter: { field: 'panel', equal: panel } }],
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'label', type: 'nominal', sort: { field: 'start' }, title: null, axis: { labelLimit: 320 } },
        x: { field: 'start', type: 'quantitative', title: 'offset (KiB)' },
        x2: { field: 'end' },
        color: { field: 'what', type: 'nominal', title: 'kind' },
      },
    })),
    data: { values: rows },
    resolve: { scale: { x: 'independent', color: 'shared' } },
    config: { font: 'sans-serif' },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
