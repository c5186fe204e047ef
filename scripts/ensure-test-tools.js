// Installs the system tools the tests run (Debian packages), so that `npm test` works on a fresh
// machine: pciutils, whose real `lspci -F` decodes vpci's dumps, and chromium, the real browser
// playwright-core drives against the demo page (no browser download: Debian's build). Idempotent;
// quiet when present.
import { execFileSync, spawnSync } from 'node:child_process';

const needed = [{ command: 'lspci', pkg: 'pciutils' }, { command: 'chromium', pkg: 'chromium' }];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = needed.filter((t) => !has(t.command));
if (missing.length > 0) {
  const pkgs = missing.map((t) => t.pkg);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    console.error(`ensure-test-tools: missing ${pkgs.join(', ')}; install them (Debian: sudo apt-get install ${pkgs.join(' ')})`);
    process.exit(1);
  }
  console.log(`ensure-test-tools: installing ${pkgs.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
}
