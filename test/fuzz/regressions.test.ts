// Every reproducer the fuzzer ever found (test/fixtures/fuzz/: vpci text traces and JSON step
// lists, each with its story in its header) reruns with every check after every step and passes:
// both backends agree, the reference model agrees, nothing throws. Trace reproducers also replay
// through `vpci replay`'s path (TraceReplayer, batches inside the core) with their recorded reads
// verified, on both backends.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import { replayEvents } from '../../src/replay/index.js';
import { TextTraceReader, readAll } from '../../src/trace/index.js';
import { fuzzTarget, replaySteps } from '../../fuzz/campaign.js';
import { parseReproducer } from '../../fuzz/reproducer.js';
import { ROOT } from '../helpers/shared-data.js';

const DIR = join(ROOT, 'test', 'fixtures', 'fuzz');
const files = readdirSync(DIR).filter((f) => f.endsWith('.trace') || f.endsWith('.json')).sort();

describe('fuzz reproducers (test/fixtures/fuzz)', () => {
  test('the directory holds reproducers', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)('%s passes every check', async (file) => {
    const steps = parseReproducer(readFileSync(join(DIR, file), 'utf8'), file);
    const { failure } = await replaySteps(steps, await fuzzTarget());
    expect(failure, failure && `${failure.kind} after step ${failure.step + 1}: ${failure.message}`).toBeUndefined();
  });

  test.each(files.filter((f) => f.endsWith('.trace')))('%s replays with its reads verified (vpci replay --verify)', async (file) => {
    const events = readAll(new TextTraceReader({ source: file }), readFileSync(join(DIR, file), 'utf8'));
    for (const backend of ['wasm', 'ts'] as const) {
      const summary = replayEvents(await createBus({ backend }), events, { verify: true, ramBytes: 1 << 20 });
      expect(summary.mismatchList, backend).toEqual([]);
      expect(summary.mismatches, backend).toBe(0);
    }
  });
});
