// Topologies to fuzz: the built-in one, or (--topology random) a fresh random one per episode,
// drawn from the differential suites' fast-check arbitrary (random descriptors with odd BAR sizes
// and addresses, ROMs, MSI/MSI-X placements, PCIe ports, cloned dumps, several segments and ECAM
// windows), then given functions below its bridges (nested bridges too) and devices with
// behaviour (test device, virtio-rng, virtio-blk), so that DMA and interrupts have a source.
import fc from 'fast-check';
import type { Topology, TopologyDevice } from '../src/topology/index.js';
import { Rng } from './rng.js';

/** A random topology for an episode (deterministic for the seed). */
export async function randomTopology(seed: number): Promise<Topology> {
  // The arbitrary reads shared reference dumps when loaded: only load it when asked for.
  const { topologyArb } = await import('../test/helpers/arbitraries.js');
  const [g] = fc.sample(topologyArb, { seed: seed % 0x7fffffff, numRuns: 1 });
  const r = new Rng(seed);
  const t: Topology = { ...g.topology, name: `random ${seed}`, devices: [...g.topology.devices] };
  const devices = t.devices as TopologyDevice[];
  const root = g.functions[0];
  const used = new Set(g.functions.map((f) => `${f.seg}:${f.bus}:${f.dev}`));
  const behaviour = (): Omit<TopologyDevice, 'bdf'> => r.weighted<() => Omit<TopologyDevice, 'bdf'>>([
    [3, () => ({ model: 'test-device' })],
    [3, () => ({ model: 'virtio-rng', options: { seed: r.int(1000) } })],
    [1, () => ({ model: 'virtio-blk', options: { sizeMiB: 1 } })],
    [2, () => ({ model: 'test-endpoint' })],
    [1, () => ({ model: 'pci-bridge' })],
  ])();
  // Devices with behaviour on the first root bus.
  for (let k = r.int(3); k > 0; k--) {
    let dev = r.int(32);
    for (let tries = 0; tries < 32 && used.has(`${root.seg}:${root.bus}:${dev}`); tries++) dev = (dev + 1) % 32;
    if (used.has(`${root.seg}:${root.bus}:${dev}`)) break;
    used.add(`${root.seg}:${root.bus}:${dev}`);
    const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
    devices.push({ bdf: `${h(root.seg, 4)}:${h(root.bus, 2)}:${h(dev, 2)}.0`, ...behaviour() });
  }
  // Functions below bridges, and bridges below those.
  const isBridge = (d: TopologyDevice) => d.model === 'pci-bridge' || d.model === 'root-port' || d.descriptor?.headerType === 1;
  let ids = 0;
  for (let i = 0; i < devices.length && devices.length < 24; i++) {
    const d = devices[i];
    if (!isBridge(d) || !r.chance(0.7)) continue;
    d.id ??= `bridge${ids++}`;
    const taken = new Set<number>();
    for (let k = 1 + r.int(2); k > 0; k--) {
      const dev = d.model === 'root-port' ? 0 : r.int(32);
      if (taken.has(dev)) continue;
      taken.add(dev);
      devices.push({ behind: d.id, addr: `${dev.toString(16).padStart(2, '0')}.0`, ...behaviour() });
    }
  }
  return t;
}
