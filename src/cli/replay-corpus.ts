// `vpci replay DIR --jobs N`: every trace file of a directory (a fuzzer's reproducer corpus, a
// day of recordings) replayed over N worker threads, one core each; the summaries are merged and
// a failing trace is reported without stopping the others.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { ArgumentError } from '../errors.js';
import type { ReplaySummary } from '../replay/index.js';
import type { TraceFormat } from '../trace/index.js';
import type { BusCliOptions } from './load-bus.js';

export interface CorpusOptions extends BusCliOptions {
  verify: boolean;
  format?: TraceFormat;
  keepGoing?: boolean;
  ramMib: number;
  jobs: number;
}

/** The counts a corpus adds up, as each trace's summary has them. */
type Counts = Pick<ReplaySummary, 'records' | 'reads' | 'writes' | 'verified' | 'mismatches' | 'aborts' | 'seconds'>;

interface TraceOutcome {
  file: string;
  /** The worker's summary (JSON: bigints as strings; only these fields are read here). */
  summary?: Counts & { memory: ReplaySummary['memory'] };
  error?: string;
}

export interface CorpusReport extends Counts {
  traces: number;
  failed: number;
  outcomes: TraceOutcome[];
}

/** The regular files of `dir`, sorted (hidden files left out). */
export function traceFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ArgumentError(`${dir}: cannot list the corpus: ${(e as Error).message}`);
  }
  return names.filter((n) => !n.startsWith('.')).map((n) => join(dir, n)).filter((p) => statSync(p).isFile()).sort();
}

export async function replayCorpus(dir: string, o: CorpusOptions): Promise<CorpusReport> {
  const files = traceFiles(dir);
  const started = performance.now();
  const outcomes: TraceOutcome[] = [];
  const workerUrl = new URL('./replay-worker.js', import.meta.url);
  const setup = { topology: o.topology, backend: o.backend, verify: o.verify, format: o.format, keepGoing: o.keepGoing, ramMib: o.ramMib };
  const bar = process.stderr.isTTY && files.length > 1
    ? new cliProgress.SingleBar({ format: 'corpus [{bar}] {value}/{total} traces | {eta}s', stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(files.length, 0);
  let next = 0;
  const jobs = Math.max(1, Math.min(o.jobs, files.length));
  await Promise.all(Array.from({ length: jobs }, () => new Promise<void>((resolve) => {
    const worker = new Worker(workerUrl, { workerData: setup });
    const feed = () => worker.postMessage(next < files.length ? files[next++] : null);
    worker.on('message', (m: TraceOutcome) => {
      outcomes.push(m);
      bar?.increment();
      feed();
    });
    worker.on('error', (e) => {
      outcomes.push({ file: '(worker)', error: String(e) });
      resolve();
    });
    worker.on('exit', () => resolve());
    feed();
  })));
  bar?.stop();
  outcomes.sort((a, b) => (a.file < b.file ? -1 : 1));
  const ok = outcomes.filter((x) => x.summary);
  const sum = (k: 'records' | 'reads' | 'writes' | 'verified' | 'mismatches' | 'aborts') => ok.reduce((t, x) => t + x.summary![k], 0);
  return {
    traces: files.length, failed: outcomes.filter((x) => x.error).length,
    records: sum('records'), reads: sum('reads'), writes: sum('writes'), verified: sum('verified'),
    mismatches: sum('mismatches') + ok.reduce((t, x) => t + x.summary!.memory.mismatches, 0), aborts: sum('aborts'),
    seconds: (performance.now() - started) / 1000, outcomes,
  };
}
