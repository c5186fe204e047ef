// Builds, enumerates and replays; see index.ts for why the summary holds no timings.
import { createBus } from '../bus.js';
import type { Bus } from '../bus.js';
import type { BackendKind } from '../core/backend.js';
import type { WasmSource } from '../../bindings/load.js';
import type { ResolvedTopology, Topology } from '../topology/index.js';
import { runFirmware, firmwareDefaults } from '../firmware/index.js';
import type { ResourceMap } from '../firmware/index.js';
import { TraceReplayer } from '../replay/index.js';
import type { ReplaySummary } from '../replay/index.js';
import { synthesizeTrace } from '../trace-synth/index.js';
import type { TraceEvent } from '../trace/index.js';
import { Fnv1a } from '../util/fnv1a.js';

/** Bumped whenever the summary's shape or the default trace changes. */
export const SCENARIO_VERSION = 1;

/**
 * The embedded default trace: a firmware boot, then 200 virtio-rng/virtio-blk requests by the
 * guest driver kit. Synthesized on a recording bus (its Wasm core from `wasm` when given).
 */
export function defaultTrace(wasm?: WasmSource): Promise<TraceEvent[]> {
  return synthesizeTrace({ profile: 'virtio-io', count: 200, seed: 1, wasm });
}

/** FNV-1a (32-bit) over every reachable function's address and config space, as 8 hex digits. */
export function configDigest(bus: Bus): string {
  const h = new Fnv1a();
  for (const d of bus.dump()) h.bytes([d.seg >> 8, d.seg & 0xff, d.bus, d.dev, d.fn]).bytes(d.config);
  return h.hex();
}

/** How far a replay has come: events pushed of the trace's total, and accesses the core has replayed (a batch at a time). */
export interface ScenarioProgress {
  backend: BackendKind;
  events: number;
  totalEvents: number;
  records: number;
  seconds: number;
}

/** What `runScenario` runs: the backend, the Wasm source, and optionally another topology or trace. */
export interface ScenarioOptions {
  /** Backend to replay on (default 'wasm'). */
  backend?: BackendKind;
  /** Where the Wasm core comes from (workerd passes its precompiled WebAssembly.Module). */
  wasm?: WasmSource;
  /** Topology (default: the built-in one). The default trace only fits the default topology. */
  topology?: Topology | string | ResolvedTopology;
  /** The trace to replay (default: `defaultTrace()`). */
  trace?: readonly TraceEvent[];
  /** Events pushed between progress reports (default 4096). */
  chunk?: number;
  /** Told after every chunk; a replay in a Worker posts it on. */
  onProgress?: (progress: ScenarioProgress) => void;
}

/** What every runtime must print identically (JSON.stringify of it). */
export interface ScenarioSummary {
  scenario: number;
  backend: BackendKind;
  topology: { name: string; functions: { path: string; name: string; kind: string }[] };
  /** The firmware run's resource map (bus numbers, BARs, windows). */
  firmware: ResourceMap;
  /** `configDigest` after the firmware run and after the replay. */
  digests: { firmware: string; replay: string };
  replay: Omit<ReplaySummary, 'seconds' | 'recordsPerSecond' | 'mismatchList'> & { firstMismatches: string[] };
}

/** The timing-free summary, and the replay's wall time and rate in this runtime. */
export interface ScenarioResult {
  summary: ScenarioSummary;
  /** Wall time of the replay alone, and its rate: runtime-dependent, so outside the summary. */
  seconds: number;
  recordsPerSecond: number;
}

/** Runs the scenario once on a fresh bus per part (firmware run, replay). */
export async function runScenario(options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const backend = options.backend ?? 'wasm';
  const busOptions = { backend, wasm: options.wasm, topology: options.topology };
  const booted = await createBus(busOptions);
  const fw = runFirmware(booted, firmwareDefaults(booted));
  const events = options.trace ?? await defaultTrace(options.wasm);
  const bus = await createBus(busOptions);
  const replayer = new TraceReplayer(bus, { verify: true, keepMismatches: 10 });
  const chunk = Math.max(1, Math.floor(options.chunk ?? 4096));
  const started = performance.now();
  for (let at = 0; at < events.length; at += chunk) {
    replayer.push(events.slice(at, at + chunk));
    options.onProgress?.({
      backend, events: Math.min(at + chunk, events.length), totalEvents: events.length,
      records: replayer.replayed, seconds: (performance.now() - started) / 1000,
    });
  }
  const { seconds, recordsPerSecond, mismatchList, ...counts } = replayer.finish();
  return {
    summary: {
      scenario: SCENARIO_VERSION,
      backend,
      topology: { name: bus.topology.name, functions: bus.functions().map((f) => ({ path: f.path, name: f.name, kind: f.kind })) },
      firmware: fw.map,
      digests: { firmware: configDigest(booted), replay: configDigest(bus) },
      replay: { ...counts, firstMismatches: mismatchList.map((m) => `record ${m.record}: ${m.access} (${m.meaning}) expected 0x${m.expected.toString(16)}, got 0x${m.actual.toString(16)}`) },
    },
    seconds,
    recordsPerSecond,
  };
}
