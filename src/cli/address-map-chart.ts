// The resource map as an SVG chart (`vpci enumerate --svg FILE`): the rows of addressMapRows, a
// panel per root aperture. vega-lite compiles the spec and vega renders SVG headlessly; both
// load only when a chart is asked for.
import { addressMapRows } from '../firmware/index.js';
import type { ResourceMap, RootWindows } from '../firmware/index.js';

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
