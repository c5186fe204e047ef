// The replay panel: picks a trace, hands it to the replay worker with the page's topology, and
// shows the runs as they go (a progress bar per backend, the throughput chart) and when they end
// (each backend's summary JSON, the median figures, whether Wasm and TypeScript agree). The
// section's data-state (idle, running, done, error) tells a test driving the page where it is.
import type { BackendKind } from '../../src/runtime/browser/index.js';
import { byId, el } from './dom.js';
import type { ReplayRequest, TopologySource, TraceChoice, WorkerMessage } from './messages.js';
import { ThroughputChart } from './throughput-chart.js';

const BACKENDS: readonly BackendKind[] = ['wasm', 'ts'];
const NAMES: Record<BackendKind, string> = { wasm: 'Wasm', ts: 'TypeScript' };

interface RunResult {
  summary: string;
  seconds: number;
  recordsPerSecond: number;
}

interface Session {
  runs: number;
  chunk: number;
  results: Record<BackendKind, RunResult[]>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const perSecond = (v: number) => Math.round(v).toLocaleString('en');

/** A summary without its backend field: what must match between the two backends. */
const comparable = (summary: string) => JSON.stringify({ ...JSON.parse(summary), backend: undefined });

export class ReplayPanel {
  private worker: Worker | undefined;
  private session: Session | undefined;
  private readonly chart = new ThroughputChart(byId('chart'));
  private readonly section = byId('replay');

  constructor(private readonly topology: () => TopologySource | undefined) {
    byId('replay-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.start();
    });
    byId('replay-stop').addEventListener('click', () => this.stop());
    byId('trace-kind').addEventListener('change', () => this.showTraceFields());
    this.showTraceFields();
  }

  private showTraceFields(): void {
    const kind = byId<HTMLSelectElement>('trace-kind').value;
    for (const e of Array.from(document.querySelectorAll<HTMLElement>('[data-trace]'))) e.hidden = e.dataset.trace !== kind;
  }

  private traceChoice(): TraceChoice {
    const kind = byId<HTMLSelectElement>('trace-kind').value;
    if (kind === 'random') {
      return { kind, count: Number(byId<HTMLSelectElement>('trace-count').value), seed: Math.trunc(Number(byId<HTMLInputElement>('trace-seed').value) || 1) };
    }
    if (kind === 'file') {
      const file = byId<HTMLInputElement>('trace-file').files?.[0];
      if (file === undefined) throw new Error('trace file: pick a trace file first (vpci binary or text, qtest, KVM trace events)');
      return { kind, file };
    }
    return { kind: 'default' };
  }

  private setState(state: 'idle' | 'running' | 'done' | 'error', status: string): void {
    this.section.dataset.state = state;
    const line = byId('replay-status');
    line.textContent = status;
    line.className = state === 'error' ? 'error' : '';
    byId<HTMLButtonElement>('replay-start').disabled = state === 'running';
    byId<HTMLButtonElement>('replay-stop').disabled = state !== 'running';
  }

  private start(): void {
    const source = this.topology();
    const backends = BACKENDS.filter((b) => byId<HTMLInputElement>(`backend-${b}`).checked);
    const runs = Number(byId<HTMLSelectElement>('replay-runs').value);
    let trace: TraceChoice;
    try {
      if (source === undefined) throw new Error('topology: build a topology first');
      if (backends.length === 0) throw new Error('backends: tick Wasm, TypeScript or both');
      trace = this.traceChoice();
    } catch (err) {
      this.setState('error', (err as Error).message);
      return;
    }
    for (const b of BACKENDS) {
      byId<HTMLProgressElement>(`progress-${b}`).value = 0;
      byId(`rate-${b}`).textContent = backends.includes(b) ? 'waiting' : 'not selected';
      byId(`summary-${b}`).textContent = '';
    }
    byId('figures-body').replaceChildren();
    byId('summary-equal').textContent = '';
    byId('trace-label').textContent = '';
    this.session = undefined;
    this.setState('running', 'starting the worker…');
    // The worker keeps synthesized traces between replays; it is replaced only after a Stop.
    this.worker ??= this.spawn();
    const request: ReplayRequest = { type: 'replay', topology: source!, trace: trace!, backends, runs };
    this.worker.postMessage(request);
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./replay-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => this.receive(ev.data);
    worker.onerror = (ev) => this.setState('error', `replay worker: ${ev.message || 'failed to start'}`);
    return worker;
  }

  private stop(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.setState('idle', 'stopped');
  }

  private receive(m: WorkerMessage): void {
    switch (m.type) {
      case 'status':
        byId('replay-status').textContent = m.text;
        return;
      case 'trace': {
        const runs = Number(byId<HTMLSelectElement>('replay-runs').value);
        this.session = { runs, chunk: m.chunk, results: { wasm: [], ts: [] } };
        byId('trace-label').textContent = `${m.label}: ${m.events.toLocaleString('en')} events`;
        this.chart.reset(m.events, m.chunk, runs);
        return;
      }
      case 'progress': {
        const s = this.session!;
        byId<HTMLProgressElement>(`progress-${m.backend}`).value = (m.run + m.events / m.totalEvents) / s.runs;
        byId(`rate-${m.backend}`).textContent = `run ${m.run + 1}/${s.runs}: ${m.events.toLocaleString('en')} / ${m.totalEvents.toLocaleString('en')} events`;
        this.chart.add(m.backend, m.run, m.events, s.chunk, m.records, m.seconds);
        return;
      }
      case 'result': {
        const results = this.session!.results[m.backend];
        results.push(m);
        this.chart.endRun(m.backend, m.run, m.recordsPerSecond);
        byId(`summary-${m.backend}`).textContent = m.summary;
        byId(`rate-${m.backend}`).textContent = `median ${perSecond(median(results.map((r) => r.recordsPerSecond)))} accesses/s`;
        return;
      }
      case 'done':
        this.finish();
        return;
      case 'error':
        this.setState('error', m.message);
        return;
    }
  }

  private addFigures(backend: BackendKind, results: RunResult[]): void {
    const replay = (JSON.parse(results[0].summary) as { replay: { records: number; mismatches: number } }).replay;
    const rates = results.map((r) => r.recordsPerSecond);
    const tr = el('tr');
    tr.append(
      el('td', NAMES[backend]),
      el('td', replay.records.toLocaleString('en'), 'num'),
      el('td', replay.mismatches.toLocaleString('en'), replay.mismatches ? 'num error' : 'num'),
      el('td', String(results.length), 'num'),
      el('td', `${(median(results.map((r) => r.seconds)) * 1000).toFixed(1)} ms`, 'num'),
      el('td', perSecond(median(rates)), 'num'),
      el('td', results.length > 1 ? `${perSecond(Math.min(...rates))} – ${perSecond(Math.max(...rates))}` : '', 'num muted'),
    );
    byId('figures-body').appendChild(tr);
  }

  private finish(): void {
    const s = this.session!;
    const lines: { text: string; ok: boolean }[] = [];
    for (const b of BACKENDS) {
      const results = s.results[b];
      if (results.length === 0) continue;
      this.addFigures(b, results);
      // A replay is deterministic: every run of a backend must say the same.
      if (results.some((r) => r.summary !== results[0].summary)) lines.push({ text: `${NAMES[b]}: the runs' summaries differ.`, ok: false });
    }
    const [wasm, ts] = [s.results.wasm[0], s.results.ts[0]];
    if (wasm && ts) {
      const same = comparable(wasm.summary) === comparable(ts.summary);
      const speed = median(s.results.wasm.map((r) => r.recordsPerSecond)) / median(s.results.ts.map((r) => r.recordsPerSecond));
      lines.push(same
        ? { text: `Wasm and TypeScript summaries are identical (apart from the backend name); Wasm's median rate is ${speed.toFixed(2)}× TypeScript's.`, ok: true }
        : { text: 'Wasm and TypeScript summaries differ: the two cores disagree on this trace.', ok: false });
    }
    const verdict = byId('summary-equal');
    verdict.textContent = lines.map((l) => l.text).join(' ');
    verdict.className = lines.every((l) => l.ok) ? 'ok' : 'error';
    this.setState('done', 'done');
  }
}
