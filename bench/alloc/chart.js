// The allocation bench's chart: grouped bars, the fraction of topologies that fit per root-window
// configuration, one bar per policy (rendered by bench/chart.js vegaLiteSvg).
import { vegaLiteSvg } from '../chart.js';

/** SVG text for `rows`: [{ config, policy, fit }] with fit in [0, 1]. */
export async function fitChart(rows, { title, subtitle }) {
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: { step: 34 },
    height: 260,
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'config', type: 'nominal', sort: null, title: 'root windows (mem32 size, with or without mem64; IO 0x1000-0xffff)', axis: { labelAngle: -20 } },
      xOffset: { field: 'policy', type: 'nominal', sort: ['scan-order', 'largest-first'] },
      y: { field: 'fit', type: 'quantitative', title: 'fraction of topologies that fit', scale: { domain: [0, 1] }, axis: { format: '%' } },
      color: { field: 'policy', type: 'nominal', title: 'policy', sort: ['scan-order', 'largest-first'] },
    },
    config: { font: 'sans-serif' },
  });
}
