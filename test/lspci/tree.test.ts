// formatTree draws the bus tree exactly as `lspci -t` / `lspci -tv` (pciutils 3.9) does: checked
// against hand-written text for each layout rule, and against the real lspci reading the same
// functions from a dump (the QEMU pc-full recording before and after firmware numbered its
// bridges, and the buses of a vpci topology after enumeration).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { formatHexDump, formatTree, parseLspciHexDump, treeName } from '../../src/lspci/index.js';
import type { FunctionDump, TreeFunction } from '../../src/lspci/index.js';
import { SHARED_DATA } from '../helpers/shared-data.js';
import { classesOnlyIds, cleanupLspciScratch, lspciOnDump } from './helpers/lspci.js';

afterAll(cleanupLspciScratch);

const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');
const ep = (dev: number, fn: number, name?: string, bus = 0, seg = 0): TreeFunction => ({ seg, bus, dev, fn, name });
const bridge = (dev: number, fn: number, secondary: number, subordinate: number, children: TreeFunction[], bus = 0): TreeFunction => (
  { seg: 0, bus, dev, fn, name: 'a bridge', secondary, subordinate, children });

describe('layout rules (hand-written expectations)', () => {
  it('one root bus: "-[SSSS:BB]-", then "+-" per function and "\\-" for the last; names only with verbose', () => {
    const roots = [ep(1, 0, 'Device 1b36:0005'), ep(0, 0, 'Device 1b36:0008'), ep(3, 1, 'fn 1'), ep(3, 0, 'fn 0')];
    expect(formatTree(roots, { verbose: true })).toBe(lines(
      '-[0000:00]-+-00.0  Device 1b36:0008',
      '           +-01.0  Device 1b36:0005',
      '           +-03.0  fn 0',
      '           \\-03.1  fn 1',
    ));
    expect(formatTree(roots)).toBe(lines('-[0000:00]-+-00.0', '           +-01.0', '           +-03.0', '           \\-03.1'));
  });

  it('a bus with one function joins it with "--"; an empty root bus ends the line', () => {
    expect(formatTree([ep(0x1f, 7, 'only')], { verbose: true })).toBe(lines('-[0000:00]---1f.7  only'));
    expect(formatTree([])).toBe(lines('-[0000:00]-'));
  });

  it('bridges: "-[01]-" for one bus, "-[02-03]-" for a range, "-" while the secondary bus is 0; never a name', () => {
    const roots = [
      ep(0, 0, 'host'),
      bridge(4, 0, 2, 3, [bridge(1, 0, 3, 3, [ep(0, 0, 'deep', 3)], 2), ep(2, 0, 'beside', 2)]),
      bridge(5, 0, 1, 1, [ep(0, 0, 'alone', 1)]),
      bridge(6, 0, 0, 0, []),
      bridge(7, 0, 4, 4, []),
    ];
    expect(formatTree(roots, { verbose: true })).toBe(lines(
      '-[0000:00]-+-00.0  host',
      '           +-04.0-[02-03]--+-01.0-[03]----00.0  deep',
      '           |               \\-02.0  beside',
      '           +-05.0-[01]----00.0  alone',
      '           +-06.0--',
      '           \\-07.0-[04]--',
    ));
  });

  it('"|" continues below every "+" of the line above, blanks below everything else', () => {
    const roots = [
      bridge(1, 0, 1, 2, [bridge(0, 0, 2, 2, [ep(0, 0, 'a', 2), ep(0, 1, 'b', 2)], 1), ep(1, 0, 'c', 1)]),
      ep(2, 0, 'd'),
    ];
    expect(formatTree(roots, { verbose: true })).toBe(lines(
      '-[0000:00]-+-01.0-[01-02]--+-00.0-[02]--+-00.0  a',
      '           |               |            \\-00.1  b',
      '           |               \\-01.0  c',
      '           \\-02.0  d',
    ));
  });

  it('several root buses: "+-[SSSS:BB]-" each, "\\-" for the last, bus 0000:00 always first (even empty), as lspci lists them', () => {
    const roots = [ep(0, 0, 'x', 2), ep(1, 0, 'y', 1), ep(2, 0, 'z', 1), ep(0, 0, 'w', 0, 1)];
    expect(formatTree(roots, { verbose: true })).toBe(lines(
      '-+-[0000:00]-',
      ' +-[0000:01]-+-01.0  y',
      ' |           \\-02.0  z',
      ' +-[0000:02]---00.0  x',
      ' \\-[0001:00]---00.0  w',
    ));
  });

  it('functions below a bridge on a bus other than its secondary bus are listed as buses of their own', () => {
    const roots = [bridge(1, 0, 1, 4, [ep(0, 0, 'on 01', 1), ep(0, 0, 'on 03', 3)])];
    expect(formatTree(roots, { verbose: true })).toBe(lines(
      '-[0000:00]---01.0-[01-04]--+-[0000:01]---00.0  on 01',
      '                           \\-[0000:03]---00.0  on 03',
    ));
  });

  it('treeName is what lspci -tv prints without an ID database', () => {
    expect(treeName(Uint8Array.of(0x36, 0x1b, 0x0c, 0x00))).toBe('Device 1b36:000c');
  });
});

/** The tree lspci builds from a dump: a function sits below the bridge whose secondary bus it is on. */
function treeOf(fns: FunctionDump[]): TreeFunction[] {
  const nodes = fns.map((f): TreeFunction => {
    const node: TreeFunction = { seg: f.seg, bus: f.bus, dev: f.dev, fn: f.fn, name: treeName(f.config) };
    if ((f.config[0x0e] & 0x7f) === 1) Object.assign(node, { secondary: f.config[0x19], subordinate: f.config[0x1a], children: [] });
    return node;
  });
  const roots: TreeFunction[] = [];
  for (const n of nodes) {
    const parent = nodes.find((b) => b.secondary !== undefined && b.secondary !== 0 && b.seg === n.seg && b.secondary === n.bus);
    if (parent) parent.children!.push(n);
    else roots.push(n);
  }
  return roots;
}

describe('the same text as the real lspci -t / -tv reading a dump', () => {
  for (const phase of ['initial', 'final'] as const) {
    it(`QEMU pc-full, ${phase} (${phase === 'initial' ? 'bridges without bus numbers' : 'bridges numbered by firmware'})`, () => {
      const text = readFileSync(join(SHARED_DATA, 'qemu', `pc-full.${phase}.lspci-dump.txt`), 'utf8');
      const fns = parseLspciHexDump(text, phase);
      const ids = classesOnlyIds();
      expect(formatTree(treeOf(fns), { verbose: true })).toBe(lspciOnDump(text, ['-tv', '-i', ids]));
      expect(formatTree(treeOf(fns))).toBe(lspciOnDump(text, ['-t', '-i', ids]));
    });
  }

  it.each(['wasm', 'ts'] as const)('a vpci bus with nested bridges and a second root bus, after enumeration (%s)', async (backend) => {
    const bus = await createBus({ backend, topology: { devices: [
      { bdf: '00:00.0', model: 'host-bridge' },
      { id: 'br0', bdf: '00:1c.0', model: 'pci-bridge' },
      { id: 'br1', behind: 'br0', addr: '02.0', model: 'pci-bridge' },
      { behind: 'br1', addr: '00.0', model: 'test-endpoint' },
      { behind: 'br1', addr: '00.3', model: 'test-endpoint' },
      { behind: 'br1', addr: '00.0', model: 'test-endpoint' },
      { behind: 'br0', addr: '00.0', model: 'firecracker-virtio-blk' },
      { bdf: '40:00.0', model: 'host-bridge' },
      { id: 'rp', bdf: '40:01.0', model: 'root-port' },
      { behind: 'rp', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
    ].filter((d, i) => i !== 5) } });
    const set = (b: string, p: number, s: number, u: number) => {
      bus.configWrite(b, 0x18, 1, p);
      bus.configWrite(b, 0x19, 1, s);
      bus.configWrite(b, 0x1a, 1, u);
    };
    set('00:1c.0', 0, 1, 2);
    set('01:02.0', 1, 2, 2);
    set('40:01.0', 0x40, 0x41, 0x41);
    const dump = formatHexDump(bus.dump(), { level: 3 });
    const ids = classesOnlyIds();
    const ours = formatTree(bus.tree(), { verbose: true });
    expect(ours).toBe(lspciOnDump(dump, ['-tv', '-i', ids]));
    expect(ours).toBe(lines(
      '-+-[0000:00]-+-00.0  Device 1b36:0008',
      ' |           \\-1c.0-[01-02]--+-00.0  Device 1af4:1042',
      ' |                           \\-02.0-[02]--+-00.0  Device 1b36:0005',
      ' |                                        \\-00.3  Device 1b36:0005',
      ' \\-[0000:40]-+-00.0  Device 1b36:0008',
      '             \\-01.0-[41]----00.0  Device 1b36:0005',
    ));
  });
});
