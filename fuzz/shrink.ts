// Shrinking: delta debugging over the failing episode's steps (Zeller's ddmin, simplified). A
// candidate is kept when it still fails with the same kind of failure, checked after every step,
// and is cut right after the step where it fails. Passes: whole categories of steps at once
// (embedder DMA, interrupts, RAM writes, reads), then chunks from half the list down to single
// steps, until nothing more goes or the time budget is spent.
import { replaySteps } from './campaign.js';
import type { Target } from './campaign.js';
import type { Step } from './steps.js';
import type { Failure } from './twin.js';

export interface ShrinkResult {
  steps: Step[];
  failure: Failure;
  /** Candidates tried. */
  tries: number;
  seconds: number;
  /** Whether the steps failed again when rerun with every check after every step. */
  reproduced: boolean;
}

export async function shrink(
  steps: readonly Step[], failure: Failure, target: Target,
  options: { seconds?: number; onTry?: (tries: number, length: number) => void } = {},
): Promise<ShrinkResult> {
  const started = performance.now();
  const budget = (options.seconds ?? 120) * 1000;
  let tries = 0;
  let best = { steps: [...steps], failure };
  const test = async (candidate: Step[]): Promise<boolean> => {
    tries++;
    options.onTry?.(tries, best.steps.length);
    const { failure: f } = await replaySteps(candidate, target);
    if (f === undefined || f.kind !== failure.kind) return false;
    best = { steps: candidate.slice(0, f.step + 1), failure: f };
    return true;
  };
  const timeLeft = () => performance.now() - started < budget;
  // Checked after every step, the failure may show earlier than where the run saw it.
  const reproduced = await test(best.steps);
  if (reproduced) {
    // Categories first: each removed whole.
    const categories: ((s: Step) => boolean)[] = [
      (s) => s.k === 'dma' && s.op !== 'create' && s.op !== 'map' && s.op !== 'attach',
      (s) => s.k === 'dma',
      (s) => s.k === 'irq',
      (s) => s.k === 'mem',
      (s) => s.k === 'batch',
      (s) => s.k === 'access' && s.op === 'read',
      (s) => s.k === 'access' && s.why === 'firmware',
    ];
    for (const drop of categories) {
      if (!timeLeft()) break;
      const candidate = best.steps.filter((s, i) => i === best.steps.length - 1 || !drop(s));
      if (candidate.length < best.steps.length) await test(candidate);
    }
    // Then chunks, halving.
    let chunk = Math.max(1, best.steps.length >> 1);
    while (timeLeft()) {
      let progress = false;
      for (let i = best.steps.length - 1 - chunk; i >= 0 && timeLeft(); ) {
        const start = Math.max(0, i);
        const candidate = [...best.steps.slice(0, start), ...best.steps.slice(start + chunk)];
        if (candidate.length > 0 && await test(candidate)) {
          progress = true;
          i = Math.min(i, best.steps.length - 1) - chunk;
        } else {
          i -= chunk;
        }
      }
      if (chunk === 1 && !progress) break;
      if (!progress) chunk = Math.max(1, chunk >> 1);
    }
  }
  return { steps: best.steps, failure: best.failure, tries, seconds: (performance.now() - started) / 1000, reproduced };
}
