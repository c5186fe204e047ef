// The harness's chart: one panel per suite (each with its own unit and scale), a bar per backend,
// peer or limit at its median, a tick range from min to max. vega-lite compiles the spec, vega
// renders SVG headlessly.

// vega-lite warns that faceted independent scales share field names: true and intended here.
const quietLogger = {
  _level: 0,
  level(l) { if (l === undefined) return this._level; this._level = l; return this; },
  error(...a) { console.error(...a); return this; },
  warn() { return this; },
  info() { return this; },
  debug() { return this; },
};

/** SVG text of a vega-lite spec (vega-lite compiles it, vega renders headlessly: no canvas). */
export async function vegaLiteSvg(spec) {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const view = new vega.View(vega.parse(vl.compile(spec, { logger: quietLogger }).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function resultsChart(report) {
  const rows = report.results.map((r) => ({ ...r, label: `${r.suite} (${r.unit})` }));
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'vpci benchmarks: Wasm vs TypeScript twin vs peers and limits (median, min..max)', subtitle: `${report.date} · ${report.machine.cpus} × ${report.machine.model} · Node ${report.node}${report.quick ? ' · quick' : ''}` },
    data: { values: rows },
    facet: { row: { field: 'label', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 420 } } },
    spec: {
      width: 420,
      height: { step: 14 },
      layer: [
        { mark: { type: 'bar', tooltip: true }, encoding: { y: { field: 'backend', type: 'nominal', title: null }, x: { field: 'median', type: 'quantitative', title: null }, color: { field: 'backend', type: 'nominal' } } },
        { mark: { type: 'rule' }, encoding: { y: { field: 'backend', type: 'nominal' }, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } } },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif' },
  });
}
