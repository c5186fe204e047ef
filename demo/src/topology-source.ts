// One way to turn the page's topology (textarea text + picked template files) into a resolved
// topology, used by the page and by the worker alike, so both build the same bus and a bad field
// is reported the same way (TopologyError: "topology.json: devices[3].bars[0].size: ...").
import { topologyFromFiles } from '../../src/runtime/browser/index.js';
import type { ResolvedTopology } from '../../src/runtime/browser/index.js';
import type { TopologySource } from './messages.js';

export function resolveSource(source: TopologySource): Promise<ResolvedTopology> {
  return topologyFromFiles(new File([source.text], source.name, { type: 'application/json' }), source.templates);
}
