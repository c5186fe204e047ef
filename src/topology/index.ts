export { resolveTopology, resolveDevice } from './resolve.js';
export type { ResolveOptions, ResolvedDevice } from './resolve.js';
export { defaultTopology } from './default.js';
export { parseBdf, formatBdf } from './bdf.js';
export type { FunctionAddress } from './bdf.js';
export type {
  Topology, TopologyDevice, TemplateSpec, SegmentSpec, ResolvedTopology, ResolvedFunction, ResolvedSegment, FileReader,
  InterruptsSpec, InterruptRouteSpec, ResolvedInterrupts,
} from './types.js';
