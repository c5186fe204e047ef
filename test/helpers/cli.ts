// Running the built `vpci` command from tests: one `npm run build` per vitest run, shared by the
// CLI test files (which vitest may run in parallel), and a spawn helper.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './shared-data.js';

/**
 * `npm run build` once per vitest run: a lock directory serialises the files, a stamp naming the
 * run lets the later ones skip.
 */
export async function buildOnce(): Promise<void> {
  const lock = join(tmpdir(), 'vpci-cli-test-build.lock');
  const stamp = join(tmpdir(), 'vpci-cli-test-build.stamp');
  const runId = `${process.ppid}`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 300_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const built = existsSync(stamp) && existsSync(join(ROOT, 'dist/cli.js')) && readFileSync(stamp, 'utf8') === runId;
    if (!built) {
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      writeFileSync(stamp, runId);
    }
  } finally {
    rmdirSync(lock);
  }
}

/** Runs `node bin/vpci.js ARGS` and returns its output and exit status. */
export function vpci(args: string[], cwd = ROOT): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/vpci.js'), ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
