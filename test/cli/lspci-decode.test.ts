// `vpci lspci -x / -xxx / -xxxx` on the default topology, decoded by the real `lspci -F FILE
// -vvv -nn` (pciutils 3.9): every function is listed with its [vendor:device] and class, its
// BARs as Region lines of the right kinds, and its capabilities by name at the right offsets.
// What lspci sees is compared with what the library builds for the same topology.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { walkCapabilities } from '../../src/config/capabilities.js';
import { walkExtendedCapabilities } from '../../src/config/extended-capabilities.js';

const LSPCI = '/usr/bin/lspci';

let scratch: string;
/** Real lspci on a dump: `lspci -F FILE -vvv -nn`, split into blocks keyed by slot. */
function lspciBlocks(dump: string): Map<string, string[]> {
  const file = join(scratch, `dump-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, dump);
  const out = execFileSync(LSPCI, ['-O', 'hwdb.disable=1', '-F', file, '-vvv', '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const blocks = new Map<string, string[]>();
  for (const block of out.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l !== '');
    if (lines.length) blocks.set(lines[0].split(' ')[0], lines);
  }
  return blocks;
}

const CAP_NAMES: Record<number, RegExp> = {
  0x01: /^Power Management version \d/,
  0x05: /^MSI: Enable[+-] Count=\d+\/\d+ Maskable[+-] 64bit[+-]/,
  0x09: /^Vendor Specific Information/,
  0x10: /^Express \(v2\) (Root Port|Endpoint)/,
  0x11: /^MSI-X: Enable[+-] Count=\d+ Masked[+-]/,
};
const h2 = (v: number) => v.toString(16).padStart(2, '0');
const h4 = (v: number) => v.toString(16).padStart(4, '0');
const le = (b: Uint8Array, o: number, n: number) => { let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + b[o + i]; return v; };

/** Checks one lspci block against the function's bytes as the library reads them. */
function checkBlock(lines: string[], slot: string, config: Uint8Array, level: 1 | 3 | 4): void {
  const vendor = le(config, 0, 2), device = le(config, 2, 2), cls = le(config, 0x0a, 2);
  const title = lines[0];
  expect(title.startsWith(`${slot} `), title).toBe(true);
  expect(title, `${slot} title`).toContain(` [${h4(cls)}]: `);
  expect(title, `${slot} title`).toContain(`[${h4(vendor)}:${h4(device)}]`);
  if (config[8] !== 0) expect(title).toContain(`(rev ${h2(config[8])})`);
  const body = lines.slice(1).map((l) => l.trim());
  const type = config[0x0e] & 0x7f;
  // Regions: every BAR whose register is non-zero, with its kind; none for zero BARs.
  const count = type === 1 ? 2 : 6;
  for (let i = 0; i < count; i++) {
    const low = le(config, 0x10 + 4 * i, 4);
    const line = body.find((l) => l.startsWith(`Region ${i}:`));
    const upperHalf = i > 0 && (le(config, 0x10 + 4 * (i - 1), 4) & 0x7) === 0x4;
    if (upperHalf) continue; // lspci 3.9 -F may print a spurious region for a non-zero upper half
    if (low === 0) {
      expect(line, `${slot} BAR${i} is zero`).toBeUndefined();
      continue;
    }
    expect(line, `${slot} Region ${i}`).toBeDefined();
    if (low & 1) expect(line).toMatch(/^Region \d: I\/O ports at /);
    else {
      const bits = (low & 0x6) === 0x4 ? '64-bit' : '32-bit';
      const pf = low & 0x8 ? 'prefetchable' : 'non-prefetchable';
      expect(line).toMatch(new RegExp(`^Region \\d: Memory at \\S+ \\(${bits}, ${pf}\\)`));
    }
  }
  // Capabilities at their offsets, in list order.
  const capLines = body.filter((l) => l.startsWith('Capabilities: '));
  const hasCaps = (le(config, 6, 2) & 0x10) !== 0;
  if (!hasCaps) {
    expect(capLines, `${slot} has no capabilities`).toEqual([]);
    return;
  }
  if (level === 1) {
    expect(capLines).toEqual(['Capabilities: <access denied>']);
    return;
  }
  const caps = walkCapabilities(config);
  const ext = level === 4 ? walkExtendedCapabilities(config) : [];
  expect(capLines.length, `${slot} capability lines: ${capLines.join(' | ')}`).toBe(caps.length + ext.length);
  caps.forEach((c, i) => {
    const m = /^Capabilities: \[([0-9a-f]+)\] (.*)$/.exec(capLines[i]);
    expect(m, capLines[i]).not.toBeNull();
    expect(parseInt(m![1], 16), `${slot} cap ${i}`).toBe(c.offset);
    expect(m![2], `${slot} cap at ${h2(c.offset)}`).toMatch(CAP_NAMES[c.id]);
  });
  ext.forEach((c, i) => {
    const line = capLines[caps.length + i];
    expect(line).toMatch(new RegExp(`^Capabilities: \\[${c.offset.toString(16)} v${c.version}\\] `));
    if (c.id === 3) expect(line).toMatch(/Device Serial Number [0-9a-f]{2}(-[0-9a-f]{2}){7}$/);
  });
}

let library: Bus;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-cli-decode-'));
  await buildOnce();
  library = await createBus();
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each([['-x', 1], ['-xxx', 3], ['-xxxx', 4]] as const)('vpci lspci %s on the default topology', (flag, level) => {
  let blocks: Map<string, string[]>;
  let stdout: string;
  beforeAll(() => {
    const r = vpci(['lspci', flag]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    stdout = r.stdout;
    blocks = lspciBlocks(stdout);
  });

  it('prints each function with the number of bytes the level asks for', () => {
    const titles = stdout.split('\n').filter((l) => /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)).map((l) => l.slice(0, 7));
    expect(titles).toEqual(['00:00.0', '00:01.0', '00:02.0', '00:03.0', '00:03.1', '00:04.0', '00:05.0', '00:06.0', '00:07.0', '00:08.0', '00:09.0']);
    // functions behind bridges answer no config cycle before enumeration: lspci does not see them
    for (const f of library.functions().filter((x) => x.parent < 0)) {
      const slot = f.bdf.slice(5);
      const section = stdout.split('\n\n').find((s) => s.startsWith(`${slot} `))!;
      const rows = section.split('\n').slice(1).filter((l) => l !== '');
      const want = level === 1 ? 64 : level === 3 ? 256 : f.planes.size;
      expect(rows.length * 16, `${slot}`).toBe(want);
    }
  });

  it('the hex rows are the bytes the library reads (bus.dump())', () => {
    for (const d of library.dump()) {
      const slot = `${h2(d.bus)}:${h2(d.dev)}.${d.fn}`;
      const section = stdout.split('\n\n').find((s) => s.startsWith(`${slot} `))!;
      const rows = section.split('\n').slice(1).filter((l) => l !== '');
      rows.forEach((row, r) => {
        expect(row, `${slot} row ${r}`).toBe(`${h2(r * 16)}: ${Array.from(d.config.slice(r * 16, r * 16 + 16), h2).join(' ')}`);
      });
    }
  });

  it('real lspci lists every function with its IDs, class, regions and capabilities', () => {
    expect([...blocks.keys()]).toEqual(['00:00.0', '00:01.0', '00:02.0', '00:03.0', '00:03.1', '00:04.0', '00:05.0', '00:06.0', '00:07.0', '00:08.0', '00:09.0']);
    for (const d of library.dump()) {
      const slot = `${h2(d.bus)}:${h2(d.dev)}.${d.fn}`;
      checkBlock(blocks.get(slot)!, slot, d.config, level);
    }
  });

  it('shows the models as the specification lays them out', () => {
    const body = (slot: string) => blocks.get(slot)!.slice(1).map((l) => l.trim());
    const caps = (slot: string) => body(slot).filter((l) => l.startsWith('Capabilities: '));
    expect(blocks.get('00:00.0')![0]).toMatch(/^00:00\.0 Host bridge \[0600\]: .*\[1b36:0008\]/);
    expect(blocks.get('00:01.0')![0]).toMatch(/^00:01\.0 Unclassified device \[00ff\]: .*\[1b36:0005\] \(rev 01\)$/);
    expect(blocks.get('00:04.0')![0]).toMatch(/^00:04\.0 PCI bridge \[0604\]: .*\[1b36:0001\]/);
    expect(blocks.get('00:05.0')![0]).toMatch(/^00:05\.0 PCI bridge \[0604\]: .*\[1b36:000c\]/);
    expect(blocks.get('00:02.0')![0]).toMatch(/^00:02\.0 .*\[0180\]: .*\[1af4:1042\]/);
    // test endpoint: I/O BAR1, 64-bit prefetchable BAR2, 64-bit BAR4 (BAR0 reads 0 until assigned)
    for (const slot of ['00:01.0', '00:03.0', '00:03.1']) {
      expect(body(slot)).toContain('Region 1: I/O ports at <unassigned> [disabled]');
      expect(body(slot)).toContain('Region 2: Memory at <unassigned> (64-bit, prefetchable) [disabled]');
      expect(body(slot)).toContain('Region 4: Memory at <unassigned> (64-bit, non-prefetchable) [disabled]');
      expect(body(slot).find((l) => l.startsWith('Interrupt: pin '))).toBe(`Interrupt: pin ${slot === '00:03.1' ? 'B' : 'A'} routed to IRQ 0`);
    }
    if (level === 1) {
      expect(caps('00:01.0')).toEqual(['Capabilities: <access denied>']);
      return;
    }
    expect(caps('00:01.0')).toEqual([
      'Capabilities: [40] Power Management version 3',
      'Capabilities: [48] MSI: Enable- Count=1/4 Maskable+ 64bit+',
    ]);
    expect(caps('00:04.0')[0]).toBe('Capabilities: [40] Power Management version 3');
    expect(caps('00:04.0')[1]).toMatch(/^Capabilities: \[[0-9a-f]+\] MSI: Enable- Count=1\/1 Maskable\+ 64bit\+$/);
    expect(caps('00:05.0')[0]).toMatch(/^Capabilities: \[40\] Express \(v2\) Root Port \(Slot\+\), MSI 00$/);
    expect(caps('00:02.0')).toContain('Capabilities: [40] Vendor Specific Information: VirtIO: CommonCfg');
    expect(caps('00:02.0')).toContain('Capabilities: [98] MSI-X: Enable+ Count=2 Masked-');
    if (level === 4) expect(caps('00:05.0')).toContain('Capabilities: [100 v1] Device Serial Number 00-00-00-00-00-00-00-00');
    else expect(caps('00:05.0').some((l) => l.startsWith('Capabilities: [100'))).toBe(false);
  });
});
