// The command line takes the topology's interrupt routing: `vpci enumerate`, `vpci lspci
// --enumerate` and the demo write Interrupt Line from it; a bad routing entry is one error line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';

let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-irq-cli-'));
  await buildOnce();
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, topology: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(topology));
  return path;
}

describe('vpci and the topology\'s interrupt routing', () => {
  it('Interrupt Line comes from the routing table (0xFF above 254), in lspci --enumerate and the demo', () => {
    const topo = file('routed.json', {
      devices: [
        { bdf: '00:01.0', model: 'test-endpoint' },
        { bdf: '00:02.0', model: 'test-endpoint', options: { interruptPin: 2 } },
        { id: 'br', bdf: '00:04.0', model: 'pci-bridge' },
        { behind: 'br', addr: '01.0', model: 'test-endpoint' },
      ],
      interrupts: { routing: [{ device: 1, pin: 1, gsi: 16 }, { device: 2, pin: 2, gsi: 300 }, { device: 4, pin: 2, gsi: '0x17' }] },
    });
    for (const backend of ['wasm', 'ts']) {
      const r = vpci(['lspci', '-xxx', '--enumerate', '--topology', topo, '--backend', backend]);
      expect(r.status).toBe(0);
      const line = (bdf: string) => {
        const block = r.stdout.split('\n\n').find((b) => b.startsWith(bdf))!;
        return block.split('\n').find((l) => l.startsWith('30:'))!.split(' ')[13];
      };
      expect([line('00:01.0'), line('00:02.0'), line('01:01.0')]).toEqual(['10', 'ff', '17']);
    }
    const demo = vpci(['demo', '--topology', topo]);
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('  INTx routing: a table of 3 entries (GSI 16, 23, 300)\n');
    expect(demo.stdout).toContain('\tInterrupt: pin A routed to IRQ 16\n');
    expect(vpci(['demo']).stdout).toContain('  INTx routing: piix (root device d, pin p -> GSI 10, 10, 11, 11 for (d - 1 + p - 1) mod 4)\n');
  });

  it('a bad routing entry: one line on stderr naming the file and the entry, exit status 1', () => {
    const topo = file('bad.json', { devices: [{ bdf: '00:01.0', model: 'test-endpoint' }], interrupts: { routing: [{ device: 1, pin: 5, gsi: 3 }] } });
    const r = vpci(['enumerate', '--topology', topo]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`vpci: ${topo}: interrupts.routing[0].pin: 5 is not 1..4\n`);
  });
});
