// What the page and the replay worker say to each other (postMessage; structured-cloneable only:
// summaries travel as the JSON text the page shows, Files as Files).
import type { BackendKind } from '../../src/runtime/browser/index.js';

/** Where the trace comes from: the embedded default, a synthesized random one, or a picked file. */
export type TraceChoice =
  | { kind: 'default' }
  | { kind: 'random'; count: number; seed: number }
  | { kind: 'file'; file: File };

/** The topology as the page built it: the JSON text, plus any template files picked with it. */
export interface TopologySource {
  text: string;
  name: string;
  templates: File[];
}

export interface ReplayRequest {
  type: 'replay';
  topology: TopologySource;
  trace: TraceChoice;
  backends: BackendKind[];
  /** Replays per backend (alternating backends), for the medians. */
  runs: number;
}

export type WorkerMessage =
  | { type: 'status'; text: string }
  /** The trace is ready: how many events, and how many go between progress reports. */
  | { type: 'trace'; events: number; chunk: number; label: string }
  /** After each chunk of run `run` (0-based). */
  | { type: 'progress'; backend: BackendKind; run: number; events: number; totalEvents: number; records: number; seconds: number }
  | { type: 'result'; backend: BackendKind; run: number; summary: string; seconds: number; recordsPerSecond: number }
  | { type: 'done' }
  | { type: 'error'; message: string };
