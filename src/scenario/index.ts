// The runtime scenario: one deterministic piece of work every runtime (Node, browsers, Deno,
// workerd) runs the same way — the default topology enumerated by the firmware, then the embedded
// default trace replayed with verification on a fresh bus — and a JSON summary with nothing in it
// that depends on the runtime or the clock, so summaries from two runtimes compare byte for byte.
export { defaultTrace, runScenario, configDigest, SCENARIO_VERSION } from './scenario.js';
export type { ScenarioOptions, ScenarioResult, ScenarioSummary, ScenarioProgress } from './scenario.js';
