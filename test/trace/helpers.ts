import type { TraceEvent, TraceReader } from '../../src/trace/index.js';

/** Strips `source` so records from different formats compare. */
export function bare(events: TraceEvent[]): TraceEvent[] {
  return events.map((e) => {
    const { source: _s, ...rest } = e;
    return rest as TraceEvent;
  });
}

/** Feeds `input` split at the given cut points. */
export function readChunks(reader: TraceReader, input: Uint8Array, cuts: number[]): TraceEvent[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, input.length)))].sort((a, b) => a - b);
  const out: TraceEvent[] = [];
  let prev = 0;
  for (const p of [...points, input.length]) {
    out.push(...reader.push(input.subarray(prev, p)));
    prev = p;
  }
  out.push(...reader.end());
  return out;
}
