// The replay Web Worker: gets (topology, trace choice, backends), prepares the trace, then runs the
// runtime scenario on each backend in turn, posting progress after every chunk and each summary
// as JSON text. Replays run here so the page stays responsive while they take seconds.
import { defaultTrace, runScenario, synthesizeTrace, traceFromFile } from '../../src/runtime/browser/index.js';
import type { ResolvedTopology, trace } from '../../src/runtime/browser/index.js';

type TraceEvent = trace.TraceEvent;
import type { ReplayRequest, TraceChoice, WorkerMessage } from './messages.js';
import { resolveSource } from './topology-source.js';

/** The slice of DedicatedWorkerGlobalScope used here (the repo's tsconfig has no WebWorker lib). */
interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<ReplayRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Traces that cost time to make (synthesis), kept for the next replay of the same choice. */
const cache = new Map<string, TraceEvent[]>();

async function cached(key: string, make: () => Promise<TraceEvent[]>): Promise<TraceEvent[]> {
  let events = cache.get(key);
  if (events === undefined) {
    events = await make();
    cache.set(key, events);
  }
  return events;
}

async function loadTrace(choice: TraceChoice, topology: ResolvedTopology, topologyText: string): Promise<{ events: TraceEvent[]; label: string }> {
  switch (choice.kind) {
    case 'default':
      scope.postMessage({ type: 'status', text: 'synthesizing the embedded default trace…' });
      return { events: await cached('default', () => defaultTrace()), label: 'the embedded default trace' };
    case 'random': {
      // Synthesis records every access on a live bus (~0.1 ms each): say so while it runs.
      scope.postMessage({ type: 'status', text: `synthesizing a random trace of ${choice.count.toLocaleString('en')} accesses (seed ${choice.seed})…` });
      const key = `random:${choice.count}:${choice.seed}:${topologyText}`;
      const events = await cached(key, () => synthesizeTrace({ profile: 'random', count: choice.count, seed: choice.seed, topology }));
      return { events, label: `a random trace (${choice.count.toLocaleString('en')} accesses after boot, seed ${choice.seed})` };
    }
    case 'file':
      scope.postMessage({ type: 'status', text: `reading ${choice.file.name}…` });
      return { events: await traceFromFile(choice.file), label: choice.file.name };
  }
}

/**
 * Accesses per core batch in TraceReplayer (BATCH in src/replay/replayer.ts). Accesses reach the
 * core a batch at a time (or earlier, at a guest-memory event), so progress taken in smaller
 * chunks would time the queueing between batches, not the core.
 */
const CORE_BATCH = 16384;

/** Events between progress reports: whole batches (up to ~50 a run); a short trace reports once. */
function chunkFor(events: number): number {
  if (events >= 2 * CORE_BATCH) return CORE_BATCH * Math.max(1, Math.floor(events / (CORE_BATCH * 50)));
  return Math.max(1, events);
}

async function replay(request: ReplayRequest): Promise<void> {
  const topology = await resolveSource(request.topology);
  const { events, label } = await loadTrace(request.trace, topology, request.topology.text);
  const chunk = chunkFor(events.length);
  scope.postMessage({ type: 'trace', events: events.length, chunk, label });
  // Backends take turns run by run, so neither gets all the warm (or all the cold) runs.
  for (let run = 0; run < request.runs; run++) {
    for (const backend of request.backends) {
      scope.postMessage({ type: 'status', text: `replaying on ${backend}, run ${run + 1} of ${request.runs}…` });
      const result = await runScenario({
        backend,
        // A resolved topology: one resolution serves every run (templates picked as files need
        // no reader again).
        topology,
        trace: events,
        chunk,
        onProgress: (p) => scope.postMessage({ type: 'progress', run, ...p }),
      });
      scope.postMessage({ type: 'result', backend, run, summary: JSON.stringify(result.summary), seconds: result.seconds, recordsPerSecond: result.recordsPerSecond });
    }
  }
  scope.postMessage({ type: 'done' });
}

scope.onmessage = (event) => {
  replay(event.data).catch((err: unknown) => {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  });
};
