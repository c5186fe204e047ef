// Deno (the npm package `deno`) runs the README's Deno examples: the runtime scenario prints the
// same JSON as Node's reference run, byte for byte, and `vpci/deno` reads a topology file and the
// dump its template names (relative to the file) as `vpci/node` does. Deno runs offline: a fresh
// DENO_DIR, --no-remote and --no-npm, and the import map points at the local bundles.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { loadTopologyFile } from '../../src/runtime/node/index.js';
import { ROOT } from '../helpers/shared-data.js';

const DENO = join(ROOT, 'node_modules/.bin/deno');
const CONFIG = join(ROOT, 'examples/deno/deno.json');

let denoDir: string;
let work: string;

/** `deno run` offline with the examples' import map; only the permissions given. */
function deno(args: string[], cwd = ROOT) {
  const r = spawnSync(DENO, ['run', '--no-remote', '--no-npm', '--config', CONFIG, ...args], {
    cwd, encoding: 'utf8', timeout: 110_000,
    env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

beforeAll(() => {
  denoDir = mkdtempSync(join(tmpdir(), 'vpci-deno-dir-'));
  work = mkdtempSync(join(tmpdir(), 'vpci-deno-work-'));
});
afterAll(() => {
  for (const dir of [denoDir, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Deno', () => {
  it("prints the runtime scenario's summary byte for byte as Node does", () => {
    const node = spawnSync(process.execPath, [join(ROOT, 'examples/node/smoke.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
    expect(node.stderr).toBe('');
    expect(node.status).toBe(0);
    // No permissions at all: the scenario reads nothing, the Wasm travels inline in the bundle.
    const run = deno([join(ROOT, 'examples/deno/smoke.ts')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).replay.mismatches).toBe(0);
    expect(run.stdout).toBe(node.stdout);
  }, 120_000);

  it('vpci/deno reads a topology file and the dump its template names, relative to the file', async () => {
    // A dump of the default topology's test endpoint, cloned at 00:03.0 by a topology in conf/.
    const source = await createBus();
    const endpoint = source.dump().find((d) => d.bus === 0 && d.dev === 1 && d.fn === 0)!;
    mkdirSync(join(work, 'conf/dumps'), { recursive: true });
    writeFileSync(join(work, 'conf/dumps/endpoint.config'), endpoint.config);
    writeFileSync(join(work, 'conf/topo.json'), JSON.stringify({
      name: 'files', devices: [
        { bdf: '00:00.0', model: 'host-bridge' },
        { bdf: '00:03.0', name: 'cloned endpoint', template: { configFile: 'dumps/endpoint.config', barSizes: [
          { index: 0, size: 4096 }, { index: 1, size: 32 }, { index: 2, size: 1 << 20 }, { index: 4, size: 16384 }, { index: 6, size: 65536 },
        ] } },
      ],
    }));
    // The path is relative to the working directory, the dump's to the topology file.
    const run = deno([`--allow-read=${work}`, join(ROOT, 'examples/deno/topology.ts'), 'conf/topo.json'], work);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const bus = await createBus({ topology: await loadTopologyFile(join(work, 'conf/topo.json')) });
    const expected = bus.functions().map((f) => `${f.path} ${bus.configRead(f.path, 0, 4).toString(16).padStart(8, '0')} ${f.name}\n`).join('');
    expect(expected).toContain('0000:00:03.0 00051b36 cloned endpoint');
    expect(run.stdout).toBe(expected);
  }, 120_000);

  it('vpci/deno names a topology file it cannot read', () => {
    const run = deno([`--allow-read=${work}`, join(ROOT, 'examples/deno/topology.ts'), 'conf/missing.json'], work);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/TopologyError: conf\/missing\.json: cannot read the file: No such file/);
  }, 120_000);
});
