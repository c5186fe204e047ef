// `vpci enumerate` as a user runs it: the lspci -tv tree and /proc/iomem, /proc/ioports text,
// --json with the documented schema, policies, resource options, both backends identical, and
// errors that name what did not fit with exit status 1.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-enumerate-'));
  await buildOnce();
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const NESTED = {
  name: 'nested',
  devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { id: 'b1', bdf: '00:02.0', model: 'pci-bridge' },
    { id: 'b2', behind: 'b1', addr: '01.0', model: 'pci-bridge' },
    { behind: 'b2', addr: '00.0', model: 'test-endpoint' },
    { behind: 'b1', addr: '03.0', model: 'test-endpoint' },
    { id: 'rp', bdf: '00:03.0', model: 'root-port' },
    { behind: 'rp', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
  ],
};

describe('vpci enumerate', () => {
  it('prints the tree with bus ranges and the resource maps', () => {
    const file = join(scratch, 'nested.json');
    writeFileSync(file, JSON.stringify(NESTED));
    const r = vpci(['enumerate', '--topology', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('-[0000:00]-+-00.0  Device 1b36:0008\n');
    expect(r.stdout).toContain('+-02.0-[01-02]--+-01.0-[02]----00.0  Device 1b36:0005\n');
    expect(r.stdout).toContain('\\-03.0-[03]----00.0  Device 1b36:0005\n');
    expect(r.stdout).toMatch(/== \/proc\/iomem ==\n\n[0-9a-f]+-[0-9a-f]+ : PCI Bus 0000:01\n/);
    expect(r.stdout).toMatch(/== \/proc\/ioports ==\n\n[0-9a-f]{4}-[0-9a-f]{4} : PCI Bus 0000:01\n {2}[0-9a-f]{4}-[0-9a-f]{4} : PCI Bus 0000:02\n/);
  });

  it('--json: functions with bars, bridges with bus numbers and windows, hex strings', () => {
    const r = vpci(['enumerate', '--json']);
    expect(r.status).toBe(0);
    const map = JSON.parse(r.stdout);
    expect(map.policy).toBe('largest-first');
    expect(map.bridges.map((b: { bdf: string; secondary: number; subordinate: number }) => [b.bdf, b.secondary, b.subordinate]))
      .toEqual([['0000:00:04.0', 1, 1], ['0000:00:05.0', 2, 2], ['0000:00:09.0', 3, 3]]);
    for (const f of map.functions) {
      for (const b of f.bars) {
        expect(['io', 'mem32', 'mem64', 'rom']).toContain(b.kind);
        expect(b.base).toMatch(/^0x[0-9a-f]+$/);
        expect(b.size).toMatch(/^0x[0-9a-f]+$/);
        expect(BigInt(b.base) % BigInt(b.size)).toBe(0n);
      }
    }
    for (const b of map.bridges) for (const w of b.windows) expect(['io', 'mem', 'prefetch']).toContain(w.kind);
  });

  it('both backends and the same policy print the same; the policies differ', () => {
    const wasm = vpci(['enumerate', '--json', '--policy', 'scan-order']).stdout;
    expect(vpci(['enumerate', '--json', '--policy', 'scan-order', '--backend', 'ts']).stdout).toBe(wasm);
    expect(JSON.parse(wasm).policy).toBe('scan-order');
    expect(vpci(['enumerate', '--json']).stdout).not.toBe(wasm);
  });

  it('errors name what did not fit, or the bad option, and exit with status 1', () => {
    const small = vpci(['enumerate', '--mem32', '0xc0000000:1M']);
    expect(small.status).toBe(1);
    expect(small.stdout).toBe('');
    expect(small.stderr).toMatch(/^vpci: .*0000:00:0[0-9a-f]\.[0-7].*does not fit: mem32 window 0xc0000000 size 0x100000: .*free/);
    const bad = vpci(['enumerate', '--io', 'lots']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('vpci: --io: "lots" is not BASE:SIZE (for example 0xc0000000:1G)\n');
    const policy = vpci(['enumerate', '--policy', 'best']);
    expect(policy.status).not.toBe(0);
    expect(policy.stderr).toMatch(/--policy <policy>.*best.*scan-order, largest-first/);
  });

  it('--svg writes the address map as an SVG chart with a bar per BAR and window', () => {
    const file = join(scratch, 'map.svg');
    const r = vpci(['enumerate', '--svg', file]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`vpci: wrote the address map to ${file}\n`);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['0000:01:00.0 BAR 0', '0000:02:00.0 BAR 4', '0000:00:04.0 mem window (bus 01)', '32-bit MMIO 0xc0000000-0xfebfffff', '64-bit MMIO']) {
      expect(svg).toContain(label);
    }
  });

  it('--hotplug-reserve grows a hotplug bridge window; --help lists the options', () => {
    const r = vpci(['enumerate', '--json', '--hotplug-bridges', 'all', '--hotplug-reserve', 'mem=64M']);
    expect(r.status).toBe(0);
    for (const b of JSON.parse(r.stdout).bridges) {
      const mem = b.windows.find((w: { kind: string }) => w.kind === 'mem');
      expect(BigInt(mem.size) >= 64n << 20n).toBe(true);
    }
    const help = vpci(['enumerate', '--help']).stdout;
    for (const opt of ['--topology <file>', '--backend <kind>', '--policy <policy>', '--json', '--mem32 <base:size>', '--hotplug-reserve', '--no-keep']) {
      expect(help).toContain(opt);
    }
  });
});
