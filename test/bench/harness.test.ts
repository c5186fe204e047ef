// The benchmark harness runs (quick mode, a few suites) and writes its report in the documented
// shape. No timing is asserted: this is a smoke check that the bench works.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';
import { ROOT } from '../helpers/shared-data.js';

beforeAll(async () => {
  await buildOnce();
}, 300_000);

describe('vpci bench --quick', () => {
  it('runs the named suites and writes latest.json ({ suite, backend, unit, median, min, max, runs }) and latest.svg', () => {
    const r = vpci(['bench', 'config', 'enumerate', 'irq', '--quick']);
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'));
    expect(report.quick).toBe(true);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.node).toBe(process.version);
    const suites = new Set(report.results.map((x: { suite: string }) => x.suite));
    for (const s of ['config-cf8-write-cfc-read-pair', 'firmware-enumerate-200', 'irq-msi-x-table-dword-write-guest']) expect(suites.has(s), s).toBe(true);
    for (const x of report.results) {
      expect(Object.keys(x).sort()).toEqual(['backend', 'max', 'median', 'min', 'runs', 'suite', 'unit']);
      expect(['wasm', 'ts']).toContain(x.backend);
      expect(x.min).toBeLessThanOrEqual(x.median);
      expect(x.median).toBeLessThanOrEqual(x.max);
    }
    expect(readFileSync(join(ROOT, 'bench/results/latest.svg'), 'utf8').startsWith('<svg')).toBe(true);
    expect(vpci(['bench', 'nonsense']).status).toBe(2);
  }, 120_000);
});
