// The demo's replay act: the runtime scenario (src/scenario) on each backend — the embedded
// default trace, recorded by synthesis from a firmware boot and a guest driving the virtio devices,
// replayed with verification on a fresh bus — with each one's summary and throughput.
import { runScenario } from '../scenario/index.js';

export async function traceDemoText(): Promise<string> {
  const lines: string[] = [];
  for (const backend of ['wasm', 'ts'] as const) {
    const { summary, seconds, recordsPerSecond } = await runScenario({ backend });
    const s = summary.replay;
    if (lines.length === 0) lines.push(`the embedded default trace (firmware boot, then 200 virtio-rng/virtio-blk requests by the guest driver kit)`);
    lines.push(`  ${backend.padEnd(4)}: ${s.records} accesses (${s.reads} reads, all ${s.verified} verified: ${s.mismatches} mismatches), ` +
      `${s.aborts} aborts, ${s.interrupts.messages} MSI-X messages, ${s.memory.writes} guest-RAM writes, config digest ${summary.digests.replay}`);
    lines.push(`        ${(recordsPerSecond / 1e6).toFixed(2)} M accesses/s (${(seconds * 1000).toFixed(1)} ms)`);
  }
  return `${lines.join('\n')}\n`;
}
