// A fuzz run: episodes of generated steps, each on a fresh pair of buses (Wasm and TypeScript)
// with the reference model, until the time or step budget is spent. An episode starts from the
// firmware's enumeration (most of the time) or from reset, then takes generator actions. The
// first failure of an episode ends it; the run records the episode's steps for shrinking.
import { defaultTopology, resolveTopology } from '../src/topology/index.js';
import type { ResolvedTopology, Topology } from '../src/topology/index.js';
import { randomTopology } from './topologies.js';
import { Generator, firmwareSteps } from './generate.js';
import { layoutOf } from './layout.js';
import type { Layout } from './layout.js';
import { Rng } from './rng.js';
import type { Step } from './steps.js';
import { stepKind } from './steps.js';
import { Twin } from './twin.js';
import type { Failure } from './twin.js';
import { describe } from './env.js';

export interface CampaignOptions {
  seed: number;
  /** Stop after this many seconds (default: no limit). */
  seconds?: number;
  /** Stop after this many steps (default: no limit; one of the two must be given). */
  steps?: number;
  /** Full checks every this many steps (default 32). */
  checkEvery?: number;
  /** Go on with the next episode after a failure (default: stop at the first). */
  keepGoing?: boolean;
  /** Called now and then with the run so far. */
  onProgress?: (p: Progress) => void;
  /** 'random': a fresh random topology per episode; a resolved topology; default: the built-in one. */
  topology?: ResolvedTopology | 'random';
}

export interface Progress {
  seconds: number;
  episodes: number;
  steps: number;
  accesses: number;
  failures: number;
}

/** A failure and the episode that led to it. */
export interface Found {
  failure: Failure;
  episode: number;
  episodeSeed: number;
  /** The episode's steps up to and including the failing one. */
  steps: Step[];
  /** The episode's topology when it was not the run's fixed one (random topologies). */
  topology?: Topology;
}

export interface CampaignResult extends Progress {
  seed: number;
  /** Steps by kind (what the generator meant them to be). */
  kinds: Map<string, number>;
  /** What the steps made happen: interrupts, BAR effects, DMA transfers and faults, aborts... */
  happened: Map<string, number>;
  found: Found[];
}

export interface Target {
  topology: ResolvedTopology;
  layout: Layout;
  /** The firmware's enumeration as steps (empty when the firmware cannot allocate everything). */
  prologue: Step[];
}

/** The topology and its layout, resolved once (default: the built-in topology). */
export async function fuzzTarget(topology?: ResolvedTopology | Topology): Promise<Target> {
  const t = topology === undefined ? await resolveTopology(defaultTopology)
    : 'functions' in topology && Array.isArray(topology.functions) ? topology as ResolvedTopology : await resolveTopology(topology as Topology);
  const layout = layoutOf(t);
  let prologue: Step[] = [];
  try {
    prologue = await firmwareSteps(t, layout);
  } catch {
    // An AllocationError: the episodes start from reset.
  }
  return { topology: t, layout, prologue };
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  if (o.seconds === undefined && o.steps === undefined) throw new RangeError('runCampaign: give seconds or steps');
  const fixed = o.topology === 'random' ? undefined : await fuzzTarget(o.topology);
  const rng = new Rng(o.seed);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const result: CampaignResult = { seed: o.seed, seconds: 0, episodes: 0, steps: 0, accesses: 0, failures: 0, kinds: new Map(), happened: new Map(), found: [] };
  const out = (): boolean => (o.seconds !== undefined && elapsed() >= o.seconds) || (o.steps !== undefined && result.steps >= o.steps);
  let lastProgress = 0;
  while (!out()) {
    const episodeSeed = rng.fork();
    const er = new Rng(episodeSeed);
    let source: Topology | undefined;
    let target = fixed;
    if (target === undefined) {
      source = await randomTopology(episodeSeed);
      try {
        target = await fuzzTarget(source);
      } catch {
        result.happened.set('random topologies refused by resolveTopology', (result.happened.get('random topologies refused by resolveTopology') ?? 0) + 1);
        continue;
      }
    }
    const { topology, layout, prologue } = target;
    const length = er.chance(0.2) ? er.range(100, 1000) : er.range(1000, 6000);
    let twin: Twin;
    try {
      twin = await Twin.create(topology, layout, { checkEvery: o.checkEvery });
    } catch (error) {
      result.found.push({ failure: { kind: 'setup', step: -1, message: describe(error) }, episode: result.episodes, episodeSeed, steps: [], topology: source });
      result.failures++;
      break;
    }
    const gen = new Generator(er.fork(), layout, twin.model);
    const steps: Step[] = er.chance(0.9) ? [...prologue] : [];
    let failure: Failure | undefined;
    let done = 0;
    const run = (s: Step): boolean => {
      if (steps.length === done) steps.push(s);
      done++;
      result.kinds.set(stepKind(s), (result.kinds.get(stepKind(s)) ?? 0) + 1);
      failure = twin.step(s);
      return failure === undefined;
    };
    for (const s of [...steps]) if (!run(s)) break;
    while (failure === undefined && done < length && !out()) {
      for (const s of gen.next()) {
        if (!run(s)) break;
      }
      if (o.onProgress && performance.now() - lastProgress > 250) {
        lastProgress = performance.now();
        o.onProgress({ ...result, seconds: elapsed(), steps: result.steps + twin.steps, accesses: result.accesses + twin.accesses });
      }
    }
    failure ??= twin.final();
    const add = (k: string, n: number) => { if (n) result.happened.set(k, (result.happened.get(k) ?? 0) + n); };
    for (const [k, n] of twin.happened) add(k, n);
    const ds = twin.wasm.bus.dma.stats();
    add('dma transfers done', ds.transfers);
    add('dma bytes moved', ds.bytes);
    const bs = twin.wasm.bus.stats();
    add('master aborts', bs.aborts.mmio.reads + bs.aborts.mmio.writes + bs.aborts.io.reads + bs.aborts.io.writes);
    add('invalid accesses', bs.invalid);
    for (const p of layout.functions) {
      const dev = twin.wasm.bus.device(p.path) as { transport?: { status: number; needsResetReason?: string }; bytesServed?: number } | undefined;
      const t = dev?.transport;
      if (t && (t.status & 4) !== 0 && (t.status & 0x40) === 0) add('virtio devices live (DRIVER_OK) at episode end', 1);
      if (t?.needsResetReason !== undefined) add('virtio devices needing reset at episode end', 1);
      if (dev?.bytesServed) add('virtio-rng bytes served', dev.bytesServed);
    }
    result.steps += twin.steps;
    result.accesses += twin.accesses;
    result.episodes++;
    if (failure) {
      result.failures++;
      result.found.push({ failure, episode: result.episodes - 1, episodeSeed, steps: steps.slice(0, failure.step + 1), topology: source });
      if (!o.keepGoing) break;
    }
  }
  result.seconds = elapsed();
  return result;
}

/**
 * Reruns steps on a fresh pair of buses with every check after every step; returns the first
 * failure, or undefined. What shrinking and reproducers run.
 */
export async function replaySteps(steps: readonly Step[], target?: Target): Promise<{ failure?: Failure; twin: Twin }> {
  const t = target ?? await fuzzTarget();
  const twin = await Twin.create(t.topology, t.layout, { checkEvery: 1 });
  for (const s of steps) {
    const f = twin.step(s);
    if (f) return { failure: f, twin };
  }
  const f = twin.final();
  return { failure: f, twin };
}
