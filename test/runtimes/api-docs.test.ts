// The API reference (`npm run docs`): typedoc over the package's public entries (typedoc.json)
// builds without warnings — every exported name has a doc comment, every {@link} resolves, every
// type a signature names is in the reference — and writes an HTML site with a page per export.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let out: string;
let warnings: string[];
let status: number | null;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'vpci-api-docs-'));
  // Warnings are collected here rather than made fatal, so the HTML is written and the failure lists them all.
  const run = spawnSync(process.execPath,
    [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--treatValidationWarningsAsErrors', 'false'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  status = run.status;
  const text = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  warnings = text.split('\n').filter((l) => /^\[(warning|error)\]/.test(l))
    .filter((l) => !/Found \d+ errors and \d+ warnings/.test(l))
    // Source links need a GitHub remote; a checkout without one only loses the links.
    .filter((l) => !/git remote .* was not valid/.test(l));
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('typedoc', () => {
  it('runs', () => {
    expect(status, warnings.join('\n')).toBe(0);
  });

  it('every exported name has a doc comment', () => {
    const undocumented = warnings.filter((l) => l.includes('does not have any documentation'))
      .map((l) => l.replace(/^\[warning\] /, '').replace(/, does not have any documentation$/, ''));
    expect(undocumented, `undocumented:\n${undocumented.join('\n')}`).toEqual([]);
  });

  it('no other warnings (broken links, referenced but unexported types)', () => {
    const other = warnings.filter((l) => !l.includes('does not have any documentation'));
    expect(other, other.join('\n')).toEqual([]);
  });

  it('documents every public entry of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
    const entries = new Set(config.entryPoints.map((e) => e.replace(/^\.\//, '')));
    for (const [name, target] of Object.entries(pkg.exports)) {
      const types = typeof target === 'object' && target !== null ? (target as { types?: string }).types : undefined;
      if (!types) continue;
      const source = types.replace(/^\.\/dist\/types\//, '').replace(/\.d\.ts$/, '.ts');
      expect(entries.has(source), `${name} (${source}) is not in typedoc.json entryPoints`).toBe(true);
    }
  });

  it('writes the HTML reference', () => {
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    const pages = (dir: string) => (existsSync(join(out, dir)) ? readdirSync(join(out, dir)) : []);
    const page = (dir: string, name: string) => pages(dir).find((f) => f === `${name}.html` || f.endsWith(`.${name}.html`));
    expect(page('functions', 'createBus'), 'a page for createBus').toBeDefined();
    expect(page('classes', 'Bus'), 'a page for Bus').toBeDefined();
    expect(page('functions', 'loadTopologyFile'), 'a page for vpci/node loadTopologyFile').toBeDefined();
    expect(page('functions', 'topologyFromFiles'), 'a page for vpci/browser topologyFromFiles').toBeDefined();
    const html = readFileSync(join(out, 'functions', page('functions', 'createBus')!), 'utf8');
    expect(html).toContain('Creates a bus');
  });
});
