// Synthesized access traces: recorded from a vpci bus driven by firmware, the guest driver kit or a
// seeded generator, with an expected value on every read; and a replayer that checks them.
// Runtime-neutral: ES2022 only.
export { synthesizeTrace, firmwareOptions, PROFILES, SYNTH_RAM } from './synthesize.js';
export type { SynthesizeOptions, SynthProfile } from './synthesize.js';
export { RecordingBus, recordingBus } from './recording-bus.js';
export type { RecordingOptions, WatchedRam } from './recording-bus.js';
export { replayTrace } from './replay.js';
export type { TraceReplayOptions, TraceReplayResult, TraceReplayMismatch } from './replay.js';
export { Prng } from './prng.js';
