// Trace replay against a bus: streaming, batched in the core, verified, summarised.
export { TraceReplayer, replayEvents } from './replayer.js';
export type { ReplayOptions, ReplaySummary, ReplayMismatch } from './replayer.js';
export { accessMeaning, configMeaning } from './decode.js';
