// The live throughput chart (uPlot): accesses per second, as the running average since the start
// of the current run, against how far the session has come (in runs: 2.5 is halfway through the
// third run); one line per backend. Backends replay the same trace in the same chunks, taking
// turns run by run, so their points share one x axis.
import uPlot from 'uplot';
import type { BackendKind } from '../../src/runtime/browser/index.js';

const COLORS: Record<BackendKind, string> = { wasm: '#6a3fc1', ts: '#d9731a' };
const LABELS: Record<BackendKind, string> = { wasm: 'Wasm core', ts: 'TypeScript core' };

const rate = (v: number | null | undefined) => (v == null ? '—' : `${Math.round(v).toLocaleString('en')} acc/s`);
const short = (t: number) => (t >= 1e6 ? `${+(t / 1e6).toFixed(2)}M` : t >= 1e3 ? `${Math.round(t / 1e3)}k` : `${t}`);

export class ThroughputChart {
  private plot: uPlot | undefined;
  private data: [number[], (number | null)[], (number | null)[]] = [[], [], []];
  private perRun = 1;
  private pending = false;

  constructor(private readonly root: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(root);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.root.clientWidth), height: 260 };
  }

  /** Starts an empty chart: `runs` runs of a trace of `events` events, reported every `chunk`. */
  reset(events: number, chunk: number, runs: number): void {
    this.perRun = Math.max(1, Math.ceil(events / chunk));
    const x: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < this.perRun; i++) x.push(r + Math.min((i + 1) * chunk, events) / Math.max(1, events));
    }
    this.data = [x, x.map(() => null), x.map(() => null)];
    this.plot?.destroy();
    this.plot = new uPlot({
      ...this.size(),
      scales: { x: { time: false, range: [0, runs] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { label: 'runs replayed', incrs: [0.1, 0.25, 0.5, 1, 2, 5, 10] },
        { label: 'accesses/s', size: 70, values: (_u, ticks) => ticks.map(short) },
      ],
      series: [
        { label: 'runs', value: (_u, v) => (v == null ? '—' : v.toFixed(2)) },
        { label: LABELS.wasm, stroke: COLORS.wasm, width: 2, spanGaps: true, value: (_u, v) => rate(v) },
        { label: LABELS.ts, stroke: COLORS.ts, width: 2, spanGaps: true, value: (_u, v) => rate(v) },
      ],
    }, this.data, this.root);
  }

  /** Records a progress report of run `run` (0-based) of `backend`. */
  add(backend: BackendKind, run: number, events: number, chunk: number, records: number, seconds: number): void {
    if (seconds > 0) this.set(backend, run * this.perRun + Math.ceil(events / chunk) - 1, records / seconds);
  }

  /**
   * Puts a run's final rate at its last point. The last progress report counts accesses still
   * queued for the core (they run when the replay finishes), so only the result's rate is exact.
   */
  endRun(backend: BackendKind, run: number, recordsPerSecond: number): void {
    this.set(backend, (run + 1) * this.perRun - 1, recordsPerSecond);
  }

  private set(backend: BackendKind, i: number, value: number): void {
    const series = this.data[backend === 'wasm' ? 1 : 2];
    if (i < 0 || i >= series.length) return;
    series[i] = value;
    this.redraw();
  }

  /** Redraws at most once a frame, however fast reports come. */
  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot?.setData(this.data);
    });
  }
}
