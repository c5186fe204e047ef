// Installable as a package: `npm pack` the built tree, install the tarball into a fresh project
// outside the repository, and run the README's Node embedding example and `npx vpci` from there.
// Catches what only an install shows: files missing from "files", a wrong "exports" map, a
// devDependency imported at run time, a bin that points into the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared-data.js';

// The system's npm and npx, as an embedder has them: a dependency of as-pect installs an old npm 6
// into node_modules/.bin, which npm scripts and npx put first on PATH.
const env = {
  ...process.env,
  PATH: (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes(`node_modules${sep}.bin`)).join(delimiter),
  npm_config_update_notifier: 'false',
};

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });

const run = (command: string, args: string[], cwd: string) => {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
};

describe('the packed tarball, installed into a fresh project', () => {
  let work: string;
  let project: string;
  let files: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vpci-pack-'));
    // --ignore-scripts: the tree is built already (npm test builds first); `prepare` would rebuild.
    const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string; files: { path: string }[] }[];
    files = packed[0].files.map((f) => f.path);
    project = join(work, 'app');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'vpci-embedder', private: true, type: 'module' }, null, 2));
    // The dependencies come from npm's cache when `npm ci` filled it (no network needed then).
    npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)], project);
    copyFileSync(join(ROOT, 'examples/node/embed.mjs'), join(project, 'embed.mjs'));
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('carries every file its "exports", "types" and "bin" name', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const targets = new Set<string>([pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>)]);
    for (const entry of Object.values(pkg.exports as Record<string, string | Record<string, string>>)) {
      for (const t of typeof entry === 'string' ? [entry] : Object.values(entry)) targets.add(t);
    }
    for (const t of targets) expect(files, `${t} is in the tarball`).toContain(t.replace(/^\.\//, ''));
    // Nothing of the repository's own that an embedder must not get.
    expect(files.filter((f) => /^(src|test|bench|assembly|node_modules)\//.test(f))).toEqual([]);
  });

  it("runs the README's Node embedding example as in the repository", () => {
    const installed = run(process.execPath, ['embed.mjs'], project);
    expect(installed.stderr).toBe('');
    expect(installed.status).toBe(0);
    const inRepo = run(process.execPath, [join(ROOT, 'examples/node/embed.mjs')], ROOT);
    expect(installed.stdout).toBe(inRepo.stdout);
    expect(installed.stdout.length).toBeGreaterThan(0);
  });

  it('resolves every subpath export from the installed package', () => {
    const script = "const m = await import('vpci'); const s = await import('vpci/slim'); const n = await import('vpci/node');" +
      " const fs = await import('node:fs'); const { createRequire } = await import('node:module');" +
      " const wasm = fs.readFileSync(createRequire(import.meta.url).resolve('vpci/vpci.wasm'));" +
      " const a = await m.runScenario(); const b = await s.runScenario({ wasm: new WebAssembly.Module(wasm) });" +
      // vpci/node imports vpci rather than carrying a copy: its errors are vpci's classes.
      " const e = await n.loadTopologyFile('missing.json').catch((x) => x);" +
      " console.log(typeof n.loadTopologyFile, JSON.stringify(a.summary) === JSON.stringify(b.summary), e instanceof m.TopologyError);";
    const r = run(process.execPath, ['--input-type=module', '-e', script], project);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function true true');
  });

  it('runs `npx vpci` from the installed package like the repository\'s bin', () => {
    const installed = run('npx', ['--no-install', 'vpci', 'lspci', '-tv', '--enumerate'], project);
    expect(installed.status).toBe(0);
    const inRepo = run(process.execPath, [join(ROOT, 'bin/vpci.js'), 'lspci', '-tv', '--enumerate'], ROOT);
    expect(installed.stdout).toBe(inRepo.stdout);
    expect(installed.stdout).toContain('1af4:1044'); // the virtio-rng devices
    expect(existsSync(join(project, 'node_modules/.bin/vpci'))).toBe(true);
  });
});
