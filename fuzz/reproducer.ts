// Reproducers: a failing step list, shrunk, saved so that it reruns. Guest accesses and guest-RAM
// writes only (the usual case): a vpci text trace, which `vpci replay FILE --ram-mib 1 --verify`
// runs against the core alone and `node fuzz/run.js --replay FILE` reruns with every check. With
// embedder calls (DMA domains, interrupt signals) or accesses a trace cannot hold (invalid sizes,
// hostile numbers): a JSON step list that only `--replay` runs.
import { TextTraceReader, TEXT_HEADER, readAll, writeTextTrace } from '../src/trace/index.js';
import type { Topology } from '../src/topology/index.js';
import type { Step } from './steps.js';
import { eventsToSteps, stepsFromJson, stepsToEvents, stepsToJson, traceable } from './steps.js';
import type { Failure } from './twin.js';

export const JSON_FORMAT = 'vpci-fuzz-steps';

/** Where a reproducer came from, for its header. */
export interface ReproducerInfo {
  failure: Failure;
  seed?: number;
  episodeSeed?: number;
  /** Steps of the failing episode before shrinking. */
  originalLength?: number;
  /**
   * The values reads returned on the Wasm core, in order (they become the trace's expected
   * values), and the model's value for the read that failed, if one did.
   */
  reads?: readonly bigint[];
  expectedRead?: { index: number; value: bigint };
  /** The topology, when it is not the built-in one (then the reproducer is a JSON step list holding it). */
  topology?: Topology;
  /** The topology file the run was given (--topology FILE): the reproducer reruns with it. */
  topologyFile?: string;
}

function headerLines(info: ReproducerInfo, steps: number, file: string): string[] {
  const f = info.failure;
  const lines = [
    `vpci fuzz reproducer: ${f.kind} after step ${f.step + 1} of ${steps}`,
    ...f.message.split('\n').map((l) => `  ${l}`),
  ];
  if (info.seed !== undefined) {
    lines.push(`found by: node fuzz/run.js --seed ${info.seed} (episode seed ${info.episodeSeed})${info.originalLength ? `; shrunk from ${info.originalLength} steps` : ''}`);
  }
  const t = info.topologyFile ? ` --topology ${info.topologyFile}` : '';
  lines.push(`rerun with every check: node fuzz/run.js --replay ${file}${t}`);
  return lines;
}

/** The reproducer's text and its file extension. */
export function formatReproducer(steps: readonly Step[], info: ReproducerInfo, file = 'FILE'): { text: string; ext: 'trace' | 'json' } {
  if (info.topology === undefined && traceable(steps)) {
    const reads = [...(info.reads ?? [])];
    if (info.expectedRead) reads[info.expectedRead.index] = info.expectedRead.value;
    const lines = headerLines(info, steps.length, file);
    lines.push(
      `on the core alone: vpci replay ${file}${info.topologyFile ? ` --topology ${info.topologyFile}` : ''} --ram-mib 1 --verify  (expected values: what the Wasm core read` +
        `${info.expectedRead ? ', except the failing read: the reference model\'s value' : ''}; --backend ts runs the twin)`,
    );
    const body = writeTextTrace(stepsToEvents(steps, reads), { header: false });
    return { text: `${TEXT_HEADER}\n${lines.map((l) => `# ${l}`).join('\n')}\n${body}`, ext: 'trace' };
  }
  const doc = {
    format: JSON_FORMAT,
    version: 1,
    topology: info.topology === undefined ? 'default' : stepsToJson([info.topology as never])[0],
    about: headerLines(info, steps.length, file),
    failure: info.failure,
    steps: stepsToJson(steps),
  };
  return { text: `${JSON.stringify(doc, null, 1)}\n`, ext: 'json' };
}

/** The steps of a reproducer file's text (a vpci text trace or a JSON step list). */
export function parseReproducer(text: string, source = 'reproducer'): Step[] {
  return readReproducer(text, source).steps;
}

/** A reproducer's steps and its topology (undefined: the built-in one). */
export function readReproducer(text: string, source = 'reproducer'): { steps: Step[]; topology?: Topology } {
  if (text.trimStart().startsWith('{')) {
    const doc = JSON.parse(text) as { format?: string; steps?: unknown; topology?: unknown };
    if (doc.format !== JSON_FORMAT) throw new TypeError(`${source}: not a ${JSON_FORMAT} document`);
    const topology = doc.topology === undefined || doc.topology === 'default' ? undefined : stepsFromJson([doc.topology])[0] as unknown as Topology;
    return { steps: stepsFromJson(doc.steps), topology };
  }
  return { steps: eventsToSteps(readAll(new TextTraceReader({ source }), text)) };
}
