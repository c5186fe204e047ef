// The demo's replay act: the embedded default trace — recorded by synthesis from a firmware boot
// and a guest driving the virtio devices (deterministic: the same trace every run) — replayed
// with verification on a fresh bus of each backend, with each one's summary and throughput.
import { createBus } from '../bus.js';
import type { Topology } from '../topology/index.js';
import { TraceReplayer } from '../replay/index.js';
import { synthesizeTrace } from '../trace-synth/index.js';
import type { TraceEvent } from '../trace/index.js';

/** The embedded default trace: a boot and 200 virtio requests on the default topology. */
export function defaultTrace(): Promise<TraceEvent[]> {
  return synthesizeTrace({ profile: 'virtio-io', count: 200, seed: 1 });
}

export async function traceDemoText(topology?: Topology): Promise<string> {
  const events = await defaultTrace();
  const lines = [`the embedded default trace: ${events.length} events (firmware boot, then 200 virtio-rng/virtio-blk requests by the guest driver kit)`];
  for (const backend of ['wasm', 'ts'] as const) {
    const bus = await createBus({ backend, topology });
    const replayer = new TraceReplayer(bus, { verify: true });
    replayer.push(events);
    const s = replayer.finish();
    lines.push(`  ${backend.padEnd(4)}: ${s.records} accesses (${s.reads} reads, all ${s.verified} verified: ${s.mismatches} mismatches), ` +
      `${s.aborts} aborts, ${s.interrupts.messages} MSI-X messages, ${s.memory.writes} guest-RAM writes`);
    lines.push(`        ${(s.recordsPerSecond / 1e6).toFixed(2)} M accesses/s (${(s.seconds * 1000).toFixed(1)} ms)`);
  }
  return `${lines.join('\n')}\n`;
}
