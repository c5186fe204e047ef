// Topologies to fuzz: the built-in one, or (--topology random) a fresh random one per episode,
// drawn from the differential suites' fast-check arbitrary (random descriptors with odd BAR sizes
// and addresses, ROMs, MSI/MSI-X placements, PCIe ports, cloned dumps, several segments and ECAM
// windows), then given functions below its bridges (nested bridges too) and devices with
// behaviour (test device, virtio-rng, virtio-blk), so that DMA and interrupts have a source, and
// functions and bridges with the power-management capabilities the built-in descriptors do not
// make (D1 and D2 supported, a state other than D0 at power-on, odd places in the list).
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
    [1, () => pmTemplate(r, r.chance(0.3))],
  ])();
  // On the first root bus: devices with behaviour, and now and then a function or bridge with PM.
  const onRoot = (d: Omit<TopologyDevice, 'bdf'>): boolean => {
    let dev = r.int(32);
    for (let tries = 0; tries < 32 && used.has(`${root.seg}:${root.bus}:${dev}`); tries++) dev = (dev + 1) % 32;
    if (used.has(`${root.seg}:${root.bus}:${dev}`)) return false;
    used.add(`${root.seg}:${root.bus}:${dev}`);
    const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
    devices.push({ bdf: `${h(root.seg, 4)}:${h(root.bus, 2)}:${h(dev, 2)}.0`, ...d });
    return true;
  };
  for (let k = r.int(3); k > 0; k--) if (!onRoot(behaviour())) break;
  if (r.chance(0.5)) onRoot(pmTemplate(r, false));
  if (r.chance(0.4)) onRoot(pmTemplate(r, true));
  // Functions below bridges, and bridges below those.
  const isBridge = (d: TopologyDevice) => d.model === 'pci-bridge' || d.model === 'root-port' || d.descriptor?.headerType === 1 ||
    (d.template?.configHex !== undefined && (Number.parseInt(d.template.configHex.slice(0x0e * 2, 0x0e * 2 + 2), 16) & 0x7f) === 1);
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

/**
 * An endpoint or a bridge cloned from a dump made here, with a power-management capability (PCI
 * Bus PM 1.2 §3.2) the built-in descriptors do not make: PMC advertising D1 and/or D2 (or
 * neither), PMCSR starting in D0 mostly but sometimes in D3hot, D1 or D2, No_Soft_Reset set (so
 * the bus's soft-reset policy stays out of it). The capability sits at 0x40, or last in the list
 * at 0xF8, or twice (the first counts), or at 0xFC, where its PMCSR would lie past
 * byte 256 (not a PM capability to the core: the function stays in D0). An endpoint has a 32-bit, an IO and a
 * 64-bit BAR and sometimes a ROM; a bridge sometimes a 32-bit BAR.
 */
function pmTemplate(r: Rng, bridge: boolean): Omit<TopologyDevice, 'bdf'> {
  const c = new Uint8Array(256);
  const set = (off: number, width: number, v: number) => { for (let i = 0; i < width; i++) c[off + i] = (v >>> (8 * i)) & 0xff; };
  set(0x00, 2, 0x1234);
  set(0x02, 2, bridge ? 0x11e1 : 0x11e0);
  set(0x09, 3, bridge ? 0x060400 : 0xff0000);
  set(0x06, 2, 0x0010);
  c[0x0e] = bridge ? 1 : 0;
  const pmc = () => r.weighted([[3, 0x0603], [2, 0x0203], [2, 0x0403], [1, 0x0003]]) | (r.chance(0.3) ? r.int(32) << 11 : 0);
  const pmcsr = () => 0x0008 | r.weighted([[6, 0], [2, 3], [1, 1], [1, 2]]);
  const pm = (at: number, next: number) => { set(at, 2, 0x01 | (next << 8)); set(at + 2, 2, pmc()); set(at + 4, 2, pmcsr()); };
  const vendor = (at: number, next: number) => set(at, 4, 0x09 | (next << 8) | (4 << 16));
  switch (r.weighted([[5, 'plain'], [2, 'last'], [1, 'twice'], [1, 'past 256']])) {
    case 'plain': c[0x34] = 0x40; pm(0x40, 0); break;
    case 'last': c[0x34] = 0x40; vendor(0x40, 0xf8); pm(0xf8, 0); break;
    case 'twice': c[0x34] = 0x40; pm(0x40, 0x50); pm(0x50, 0); break;
    case 'past 256': c[0x34] = 0x40; vendor(0x40, 0xfc); set(0xfc, 2, 0x0001); set(0xfe, 2, pmc()); break;
  }
  const barSizes: { index: number; size: number }[] = [];
  if (bridge) {
    if (r.chance(0.5)) barSizes.push({ index: 0, size: 0x1000 });
  } else {
    set(0x14, 4, 0x1);
    set(0x18, 4, 0x4);
    barSizes.push({ index: 0, size: 0x1000 }, { index: 1, size: 0x20 }, { index: 2, size: 0x4000 });
    if (r.chance(0.5)) barSizes.push({ index: 6, size: 0x800 });
  }
  const configHex = Array.from(c, (b) => b.toString(16).padStart(2, '0')).join('');
  return { name: bridge ? 'pm-bridge' : 'pm-endpoint', template: { configHex, barSizes } };
}
