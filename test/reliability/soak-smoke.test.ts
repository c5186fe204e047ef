// The soak (`npm run soak`, soak/run.js over dist/) on a small run: it replays exactly the accesses
// asked for, its counts add up and agree with the bus's own counters, and it reports memory at the
// start, after warm-up and at the end with a flat verdict: the Wasm linear memory never grows after
// warm-up (exactly equal), the live JS heap (after a forced GC) stays within the soak's bound. No
// timing is asserted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/shared-data.js';

const out = mkdtempSync(join(tmpdir(), 'vpci-soak-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist/index.js')), 'the soak runs over dist/: npm run build first').toBe(true);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = any;

function soak(args: string[], nodeFlags: string[] = ['--expose-gc']): { status: number | null; stdout: string; stderr: string; report: Report; dir: string } {
  const dir = mkdtempSync(join(out, 'run-'));
  const r = spawnSync(process.execPath, [...nodeFlags, join(ROOT, 'soak/run.js'), ...args, '--out', dir], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 });
  const file = join(dir, 'latest.json');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, report: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined, dir };
}

const MEMORY_FIELDS = ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'wasm'];

describe('npm run soak (small runs)', () => {
  test('wasm, 2e6 accesses: exact counts, memory at start/warm-up/end, Wasm memory unchanged after warm-up, heap within bound', () => {
    const r = soak(['--accesses', '2e6', '--seed', '3', '--backend', 'wasm']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const rep = r.report;
    expect(rep.options).toMatchObject({ accesses: 2e6, seed: 3, backend: 'wasm', barMoves: 1, chunk: 16384, exposeGc: true });
    expect(rep.accesses).toBe(2e6);
    const c = rep.counts;
    expect(c.reads + c.writes).toBe(2e6);
    expect(c.ok + c.aborts + c.invalid + c.modelErrors).toBe(2e6);
    // The profile's mix: about 60% reads, some master aborts (addresses anywhere), BARs moved and put back.
    expect(c.reads / 2e6).toBeGreaterThan(0.55);
    expect(c.reads / 2e6).toBeLessThan(0.65);
    expect(c.aborts).toBeGreaterThan(0);
    expect(c.barMoves).toBe(2 * Math.ceil(2e6 / 16384));
    expect(c.effects).toBeGreaterThan(0);
    expect(c.statsAgree).toEqual({ aborts: true, invalid: true, modelErrors: true });
    // Intervals cover the run exactly.
    expect(rep.intervals.length).toBeGreaterThan(10);
    expect(rep.intervals.reduce((n: number, s: { accesses: number }) => n + s.accesses, 0)).toBe(2e6);
    expect(rep.intervals.at(-1).done).toBe(2e6);
    for (const s of rep.intervals) expect(s.rate).toBeGreaterThan(0);
    expect(rep.throughput.medianInterval).toBeGreaterThan(0);
    // Memory: every field at start, after warm-up and at the end, and the drift.
    const m = rep.memory;
    for (const at of ['start', 'warm', 'end']) {
      for (const k of MEMORY_FIELDS) expect(typeof m[at][k], `${at}.${k}`).toBe('number');
    }
    for (const k of MEMORY_FIELDS) expect(m.drift[k].afterWarmup).toBe(m.end[k] - m.warm[k]);
    expect(m.gcForced).toBe(true);
    expect(m.end.wasm).toBe(m.warm.wasm);
    for (const s of rep.intervals) expect(s.wasm, `interval ${s.index}`).toBe(m.warm.wasm);
    expect(m.drift.heapUsed.afterWarmup).toBeLessThanOrEqual(m.heapBound);
    expect(m.verdict).toEqual({ wasm: 'flat', heap: 'flat', flat: true, reasons: [] });
    expect(r.stdout).toContain('soak: memory flat after warm-up');
    expect(readFileSync(join(r.dir, 'latest.svg'), 'utf8').startsWith('<svg')).toBe(true);
  }, 120_000);

  test('ts backend: no Wasm memory to report (null, verdict n/a), the heap still checked', () => {
    const r = soak(['--accesses', '300000', '--backend', 'ts', '--intervals', '10']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.report.accesses).toBe(300000);
    expect(r.report.memory.end.wasm).toBeNull();
    expect(r.report.memory.verdict).toMatchObject({ wasm: 'n/a', heap: 'flat', flat: true });
  }, 120_000);

  test('without --expose-gc the heap is not judged, and the report says why', () => {
    const r = soak(['--accesses', '100000', '--intervals', '4'], []);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.report.memory.gcForced).toBe(false);
    expect(r.report.memory.verdict.heap).toBe('unchecked');
    expect(r.report.memory.verdict.reasons).toEqual(['the JS heap was not checked: run node with --expose-gc to measure it after a full GC']);
    expect(r.stdout).toContain('--expose-gc');
  }, 120_000);

  test('bad options exit 2 with the option named', () => {
    for (const args of [['--accesses', 'lots'], ['--backend', 'rust'], ['--frobnicate']]) {
      const r = soak(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^soak: /);
    }
  });
});

