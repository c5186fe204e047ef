// The bus the page shows: built from the topology text, enumerated by the firmware, drawn as the
// lspci tree, a table of functions, the address map and /proc/iomem. BAR moves made later (pokes)
// are folded into the firmware's resource map, so the map keeps showing where BARs decode now.
import {
  DEFAULT_WINDOWS, addressMapRows, createBus, firmwareDefaults, formatResourceMap, formatSize, formatTree, runFirmware,
} from '../../src/runtime/browser/index.js';
import type { BackendKind, BarEffect, Bus, PolicyName, ResourceMap } from '../../src/runtime/browser/index.js';
import { drawAddressMap } from './address-map.js';
import { byId, el, hex } from './dom.js';
import type { TopologySource } from './messages.js';
import { resolveSource } from './topology-source.js';

export interface BusView {
  bus: Bus;
  /** The firmware's resource map, with later BAR moves applied. */
  map: ResourceMap;
  /**
   * The address each function (by path) has in the map: where it answered when the firmware ran.
   * A bus renumbered later by a poke moves functions, not the map's names for them.
   */
  mapAddress: Map<string, string>;
  source: TopologySource;
}

/**
 * Resolves the topology, builds the bus and runs the firmware. Throws what they throw
 * (TopologyError naming the field, AllocationError naming what did not fit): the caller shows it.
 */
export async function buildView(source: TopologySource, options: { backend: BackendKind; policy: PolicyName }): Promise<BusView> {
  const bus = await createBus({ backend: options.backend, topology: await resolveSource(source) });
  const { map } = runFirmware(bus, firmwareDefaults(bus, { policy: options.policy }));
  // The firmware's own BAR programming is what the map already says: not news for the poke log.
  bus.effects();
  const mapAddress = new Map<string, string>();
  for (const f of bus.functions()) {
    const address = bus.addressOf(f.path);
    if (address !== undefined) mapAddress.set(f.path, address);
  }
  return { bus, map, mapAddress, source };
}

/** Applies BAR moves (from bus.effects()) to the map: a BAR that stops decoding leaves it. */
export function applyEffects(view: BusView, effects: BarEffect[]): void {
  for (const e of effects) {
    // Effects name functions by path (the same as the BDF on a root bus); the map by address.
    const address = view.mapAddress.get(e.bdf) ?? view.bus.addressOf(e.bdf) ?? e.bdf;
    let fn = view.map.functions.find((f) => f.bdf === address);
    if (fn === undefined) {
      fn = { bdf: address, bars: [] };
      view.map.functions.push(fn);
    }
    const at = fn.bars.findIndex((b) => b.index === e.bar);
    if (e.newBase === null) {
      if (at >= 0) fn.bars.splice(at, 1);
      continue;
    }
    const bar = { index: e.bar, kind: e.kind, prefetchable: at >= 0 ? fn.bars[at].prefetchable : false, base: hex(e.newBase), size: hex(e.size) };
    if (at >= 0) fn.bars[at] = bar;
    else fn.bars.push(bar);
  }
}

function renderFunctions(view: BusView): void {
  const body = byId<HTMLTableSectionElement>('functions-body');
  body.replaceChildren();
  for (const f of view.bus.functions()) {
    const address = view.bus.addressOf(f.path);
    const bars = view.map.functions.find((m) => m.bdf === view.mapAddress.get(f.path))?.bars ?? [];
    const tr = el('tr');
    tr.append(
      el('td', f.path, 'mono'),
      el('td', address ?? 'not reachable', address ? 'mono' : 'muted'),
      el('td', f.name),
      el('td', f.kind, 'muted'),
      el('td', bars.map((b) => `${b.index === 6 ? 'ROM' : `BAR${b.index}`} ${formatSize(BigInt(b.size))} @ ${b.base}`).join('\n'), 'mono bars'),
    );
    body.appendChild(tr);
  }
}

/** Redraws everything that shows the bus. */
export function renderView(view: BusView): void {
  byId('tree').textContent = formatTree(view.bus.tree(), { verbose: true });
  byId('bus-caption').textContent = `${view.bus.topology.name}: ${view.bus.functions().length} functions, ${view.bus.backend} backend, ${view.map.policy} allocation`;
  renderFunctions(view);
  drawAddressMap(byId('map'), addressMapRows(view.map, DEFAULT_WINDOWS));
  const text = formatResourceMap(view.map);
  byId('iomem').textContent = `/proc/iomem\n${text.iomem}\n\n/proc/ioports\n${text.ioports}`;
}
