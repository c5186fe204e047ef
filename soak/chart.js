// The soak's chart: throughput per interval over the run, and memory (RSS, live JS heap, Wasm
// linear memory) over the same time axis; rendered by the bench harness's vega-lite renderer.
import { vegaLiteSvg } from '../bench/chart.js';

const MiB = 2 ** 20;

export async function soakChart(report) {
  const rates = report.intervals.map((s) => ({ elapsed: s.elapsed, rate: s.rate / 1e6 }));
  const memory = [];
  const at = (elapsed, m) => {
    memory.push({ elapsed, series: 'RSS', MiB: m.rss / MiB });
    memory.push({ elapsed, series: report.memory.gcForced ? 'JS heap (after GC)' : 'JS heap', MiB: m.heapUsed / MiB });
    if (m.wasm !== null) memory.push({ elapsed, series: 'Wasm memory', MiB: m.wasm / MiB });
  };
  at(0, report.memory.start);
  for (const s of report.intervals) at(s.elapsed, s);
  const o = report.options;
  const x = { field: 'elapsed', type: 'quantitative', title: 'seconds' };
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `vpci soak: ${report.accesses.toExponential(2)} accesses, ${o.backend} backend, seed ${o.seed}`,
      subtitle: `${report.date} · ${report.machine.cpus} × ${report.machine.model} · Node ${report.node} · memory ${report.memory.verdict.flat ? 'flat' : 'NOT flat'} after warm-up`,
    },
    vconcat: [
      {
        width: 640, height: 180, title: 'throughput per interval (M accesses/s)',
        data: { values: rates },
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'rate', type: 'quantitative', title: 'M accesses/s', scale: { zero: true } } },
      },
      {
        width: 640, height: 180, title: 'memory (MiB)',
        data: { values: memory },
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'MiB', type: 'quantitative', title: 'MiB', scale: { zero: true } }, color: { field: 'series', type: 'nominal', title: null } },
      },
    ],
    config: { font: 'sans-serif' },
  });
}
