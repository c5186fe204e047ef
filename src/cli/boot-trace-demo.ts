// The demo's real-guest act: a Linux boot recorded in v86 with vpci as its PCI bus (SeaBIOS
// enumerating and assigning BARs, Linux's virtio drivers binding vpci's virtio-rng and virtio-blk;
// `npm run demo:linux` makes a new one), replayed with every read verified on each backend.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createBus } from '../bus.js';
import { loadTopologyFile } from '../runtime/node/index.js';
import { TraceReplayer } from '../replay/index.js';
import { BinaryTraceReader, readAll } from '../trace/index.js';

/** The recorded boot and its topology, shipped in data/ (dist/cli.js sits in dist/). */
export const BOOT_TRACE = fileURLToPath(new URL('../data/v86-linux-boot.vpcitrace', import.meta.url));
export const BOOT_TOPOLOGY = fileURLToPath(new URL('../data/v86-topology.json', import.meta.url));
/** Guest RAM of the recorded boot (scripts/linux-guest/boot.js GUEST_MEMORY). */
const BOOT_RAM = 96 << 20;

export async function bootTraceDemoText(): Promise<string> {
  const events = readAll(new BinaryTraceReader({ source: BOOT_TRACE }), await readFile(BOOT_TRACE));
  const topology = await loadTopologyFile(BOOT_TOPOLOGY);
  const memwrites = events.filter((e) => e.op === 'memwrite').length;
  const lines = [`data/v86-linux-boot.vpcitrace: SeaBIOS + Linux 6.1 in v86 on topology "${topology.name}" (data/v86-topology.json); ${memwrites} guest-RAM records (what the devices read by DMA)`];
  for (const backend of ['wasm', 'ts'] as const) {
    const bus = await createBus({ backend, topology });
    const replayer = new TraceReplayer(bus, { verify: true, ramBytes: BOOT_RAM });
    replayer.push(events);
    const s = replayer.finish();
    lines.push(`  ${backend.padEnd(4)}: ${s.records} accesses (${s.reads} reads, all ${s.verified} verified: ${s.mismatches} mismatches), ` +
      `${s.aborts} aborts, ${s.interrupts.lineChanges} INTx line changes`);
    // Timing on a line of its own, as the other replay act prints it (tests drop such lines).
    lines.push(`        ${(s.recordsPerSecond / 1e6).toFixed(2)} M accesses/s (${(s.seconds * 1000).toFixed(1)} ms)`);
  }
  return `${lines.join('\n')}\n`;
}
