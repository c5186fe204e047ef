// The `vpci` command line as a user runs it (node bin/vpci.js after `npm run build`): both
// backends print the same thing, --json is JSON holding the library's bytes, bad topology files
// give one `vpci: FILE: field: problem` line on stderr and exit status 1, --help works for every
// command, and `vpci` alone runs the demo.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';
import { createBus } from '../../src/bus.js';
import { resolveTopology } from '../../src/topology/index.js';

/** The demo without its timing lines (replay throughput differs from run to run). */
const untimed = (text: string) => text.replace(/^ +[\d.]+ M accesses\/s \([\d.]+ ms\)\n/gm, '');

let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-cli-'));
  await buildOnce();
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('--backend ts and --backend wasm print identical output', () => {
  const cases = [['lspci', '-x'], ['lspci', '-xxx'], ['lspci', '-xxxx'], ['lspci', '-v'], ['lspci', '-vv'], ['lspci', '-vv', '-xxx'], ['lspci'], ['lspci', '-t'], ['lspci', '-tv']];
  it.each(cases.map((c) => [c.join(' '), c] as const))('vpci %s', (_, args) => {
    const wasm = vpci([...args, '--backend', 'wasm']);
    const ts = vpci([...args, '--backend', 'ts']);
    const dflt = vpci([...args]);
    expect(wasm.status).toBe(0);
    expect(ts.status).toBe(0);
    expect(wasm.stderr).toBe('');
    expect(ts.stderr).toBe('');
    expect(wasm.stdout.length).toBeGreaterThan(args.includes('-t') ? 50 : 100);
    expect(ts.stdout).toBe(wasm.stdout);
    expect(dflt.stdout).toBe(wasm.stdout);
  });

  it('vpci demo: identical apart from the backend it names', () => {
    const wasm = vpci(['demo', '--backend', 'wasm']);
    const ts = vpci(['demo', '--backend', 'ts']);
    expect(wasm.status).toBe(0);
    expect(wasm.stdout.split('\n')[0]).toBe('vpci: topology "default" on the wasm backend, 13 functions');
    expect(ts.stdout.split('\n')[0]).toBe('vpci: topology "default" on the ts backend, 13 functions');
    expect(untimed(ts.stdout).split('\n').slice(1)).toEqual(untimed(wasm.stdout).split('\n').slice(1));
  });

  it('a bad --backend is refused', () => {
    const r = vpci(['lspci', '--backend', 'js']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("argument 'js' is invalid");
  });
});

describe('--json', () => {
  it.each(['wasm', 'ts'] as const)('is valid JSON with every reachable function and its config bytes (%s)', async (backend) => {
    const r = vpci(['lspci', '--json', '--backend', backend]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { backend: string; functions: { bdf: string; path: string; name: string; kind: string; config: string }[] };
    expect(parsed.backend).toBe(backend);
    const bus = await createBus({ backend });
    // before enumeration the two functions behind bridges answer no config cycle
    const reachable = bus.functions().filter((f) => f.parent < 0);
    expect(reachable).toHaveLength(11);
    expect(parsed.functions.map((f) => f.bdf)).toEqual(reachable.map((f) => f.bdf));
    expect(parsed.functions.map((f) => f.path)).toEqual(reachable.map((f) => f.path));
    expect(parsed.functions.map((f) => f.name)).toEqual(reachable.map((f) => f.name));
    expect(parsed.functions.map((f) => f.kind)).toEqual(reachable.map((f) => f.kind));
    bus.dump().forEach((d, i) => {
      expect(parsed.functions[i].config).toMatch(/^([0-9a-f]{2})+$/);
      expect(parsed.functions[i].config).toBe(Buffer.from(d.config).toString('hex'));
    });
    expect(parsed.functions.find((f) => f.bdf === '0000:00:05.0')!.config).toHaveLength(8192);
  });

  it('with a topology file', () => {
    const file = join(scratch, 'json-topology.json');
    writeFileSync(file, JSON.stringify({ name: 'two', devices: [{ bdf: '00:00.0', model: 'host-bridge', name: 'hb' }, { bdf: '0000:00:1f.0', model: 'test-endpoint' }] }));
    const r = vpci(['lspci', '--json', '--topology', file]);
    expect(r.status).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.functions.map((f: { bdf: string; name: string }) => [f.bdf, f.name])).toEqual([['0000:00:00.0', 'hb'], ['0000:00:1f.0', '0000:00:1f.0']]);
  });

  it('a function behind a bridge is listed at the BDF it answers at, with its path; -tv shows it below the bridge', async () => {
    // A bridge cloned from a dump whose bus numbers firmware already wrote: secondary 3, subordinate 3.
    const planes = (await resolveTopology({ devices: [{ bdf: '00:00.0', model: 'pci-bridge' }] })).functions[0].planes.config.slice(0, 256);
    planes.set([0, 3, 3], 0x18);
    const devices = [
      { id: 'br', bdf: '00:04.0', template: { configHex: Buffer.from(planes).toString('hex') } },
      { behind: 'br', addr: '00.0', model: 'test-endpoint', name: 'ep' },
      { id: 'unnumbered', bdf: '00:05.0', model: 'pci-bridge' },
      { behind: 'unnumbered', addr: '00.0', model: 'test-endpoint' },
    ];
    const file = join(scratch, 'json-bridge.json');
    writeFileSync(file, JSON.stringify({ devices }));
    const r = vpci(['lspci', '--json', '--topology', file]);
    expect(r.status).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.functions.map((f: { bdf: string; path: string; name: string }) => [f.bdf, f.path, f.name])).toEqual([
      ['0000:00:04.0', '0000:00:04.0', '0000:00:04.0'], ['0000:03:00.0', '0000:00:04.0/00.0', 'ep'], ['0000:00:05.0', '0000:00:05.0', '0000:00:05.0'],
    ]);
    expect(vpci(['lspci', '-tv', '--topology', file]).stdout).toBe('-[0000:00]-+-04.0-[03]----00.0  Device 1b36:0005\n           \\-05.0--\n');
    const demo = vpci(['demo', '--no-firmware', '--topology', file]).stdout;
    expect(demo).toContain('  0000:00:04.0/00.0  ep [test-endpoint] (at 0000:03:00.0)\n');
    expect(demo).toContain('  0000:00:05.0/00.0  0000:00:05.0/00.0 [test-endpoint] (not reachable)\n');
    expect(demo).toContain('  1 function behind bridges answers no config cycle until bus numbers are written (vpci enumerate)\n');
    // The firmware renumbers: the first bridge gets bus 1.
    expect(vpci(['demo', '--topology', file]).stdout).toContain('  0000:00:04.0/00.0  ep [test-endpoint] (at 0000:01:00.0)\n');
    expect(vpci(['lspci', '--topology', file]).stdout.split('\n').map((l) => l.split(' ')[0])).toEqual(['00:04.0', '00:05.0', '03:00.0', '']);
  });
});

describe('bad topology files', () => {
  const write = (name: string, content: string) => {
    const file = join(scratch, name);
    writeFileSync(file, content);
    return file;
  };
  const bad = JSON.stringify({ devices: [
    { bdf: '00:00.0', model: 'host-bridge' },
    { bdf: '00:01.0', descriptor: { vendorId: 0x1234, deviceId: 1, classCode: 0xff0000, bars: [{ index: 0, kind: 'mem32', size: 3000 }] } },
  ] });

  it.each([['lspci', '-xxx'], ['demo'], []])('vpci %j --topology FILE: one line on stderr, exit status 1', (...args) => {
    const file = write('bad.json', bad);
    const r = vpci([...args, '--topology', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`vpci: ${file}: devices[1].descriptor.bars[0].size: 3000 is not a power of two\n`);
  });

  it('names the file as given on the command line (relative path)', () => {
    const dir = join(scratch, 'rel');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bad.json'), bad);
    const r = vpci(['lspci', '--topology', 'bad.json'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('vpci: bad.json: devices[1].descriptor.bars[0].size: 3000 is not a power of two\n');
  });

  it('other errors: bad JSON, BDF, duplicate, unknown model, missing template file, missing topology file', () => {
    const cases: [string, string, RegExp | string][] = [
      ['json.json', '{ "devices": [', /^not valid JSON: .+$/],
      ['bdf.json', JSON.stringify({ devices: [{ bdf: '00:20.0', model: 'host-bridge' }] }), 'devices[0].bdf: "00:20.0": device 0x20 is above 0x1f'],
      ['dup.json', JSON.stringify({ devices: [{ bdf: '00:00.0', model: 'host-bridge' }, { bdf: '0000:00:00.0', model: 'host-bridge' }] }),
        'devices[1].bdf: 0000:00:00.0 is already devices[0]'],
      ['model.json', JSON.stringify({ devices: [{ bdf: '00:00.0', model: 'gpu' }] }), /^devices\[0\]\.model: "gpu" is not a model/],
      ['tpl.json', JSON.stringify({ devices: [{ bdf: '00:00.0', template: { lspciFile: 'missing-dump.txt' } }] }),
        /^devices\[0\]\.template\.lspciFile: cannot read "missing-dump\.txt": ENOENT/],
      ['msix.json', JSON.stringify({ devices: [{ bdf: '00:00.0', descriptor: { vendorId: 1, deviceId: 1, classCode: 0,
        capabilities: [{ id: 'msix', tableSize: 2049, tableBar: 0, tableOffset: 0, pbaBar: 0, pbaOffset: 0 }] } }] }),
      'devices[0].descriptor.capabilities[0].tableSize: 2049 is not in 1..2048'],
    ];
    for (const [name, content, problem] of cases) {
      const file = write(name, content);
      const r = vpci(['lspci', '--topology', file]);
      expect(r.status, name).toBe(1);
      expect(r.stdout, name).toBe('');
      const lines = r.stderr.split('\n');
      expect(lines, name).toHaveLength(2);
      expect(lines[1]).toBe('');
      expect(lines[0].startsWith(`vpci: ${file}: `), r.stderr).toBe(true);
      const rest = lines[0].slice(`vpci: ${file}: `.length);
      if (typeof problem === 'string') expect(rest, name).toBe(problem);
      else expect(rest, name).toMatch(problem);
    }
    const missing = join(scratch, 'does-not-exist.json');
    const r = vpci(['lspci', '--topology', missing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^vpci: ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot read the file: ENOENT`));
  });
});

describe('--help and the default command', () => {
  it('vpci --help lists the commands', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = vpci(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vpci \[options\] \[command\]/);
      expect(r.stdout).toMatch(/\n\s+demo \[options\]/);
      expect(r.stdout).toMatch(/\n\s+lspci \[options\]/);
    }
  });
  it('vpci lspci --help shows its options', () => {
    for (const args of [['lspci', '--help'], ['help', 'lspci']]) {
      const r = vpci(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vpci lspci \[options\]/);
      for (const opt of ['--topology <file>', '--backend <kind>', '-x', '-v, --verbose', '-t, --tree', '--json']) expect(r.stdout).toContain(opt);
    }
  });
  it('vpci demo --help shows its options', () => {
    const r = vpci(['demo', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: vpci demo \[options\]/);
    expect(r.stdout).toContain('--topology <file>');
    expect(r.stdout).toContain('--backend <kind>');
  });
  it('vpci with no command runs the demo', () => {
    const none = vpci([]);
    const demo = vpci(['demo']);
    expect(none.status).toBe(0);
    expect(none.stderr).toBe('');
    expect(untimed(none.stdout)).toBe(untimed(demo.stdout));
    expect(none.stdout).toContain('== lspci -vv ==');
    expect(none.stdout).toContain('== lspci -xxx (feed this to `lspci -F FILE -vvv`) ==');
    // and its options reach the demo
    expect(untimed(vpci(['--backend', 'ts']).stdout)).toBe(untimed(vpci(['demo', '--backend', 'ts']).stdout));
  });
  it('the demo lists the topology, runs the firmware (its part is vpci enumerate), drives the virtio devices as a guest, then lists the bus', () => {
    const demo = vpci(['demo']).stdout;
    const enumerated = vpci(['enumerate']).stdout;
    const xxx = vpci(['lspci', '--enumerate', '-xxx']).stdout;
    expect(demo).toContain('  segment 0: ECAM at 0xb0000000 for buses 0-255, and ports 0xCF8/0xCFC\n');
    expect(demo).toContain('  0000:00:03.1  multi-function device, function 1 [test-endpoint]\n');
    expect(demo).toContain('  0000:00:04.0/00.0  endpoint behind the PCI-to-PCI bridge [test-endpoint] (at 0000:01:00.0)\n');
    expect(demo).toContain('  0000:00:05.0/00.0  virtio-rng behind the root port [virtio-rng] (at 0000:02:00.0)\n');
    expect(demo).toContain(`== firmware run: vpci enumerate --policy largest-first ==\n\n${enumerated}\n== a guest drives the virtio devices`);
    // The guest's results: seeded entropy (the same every run), a disk write read back, IOERR past the end.
    expect(demo).toMatch(/^0000:02:00\.0 virtio-rng: asked 16 bytes, used len 16, completion by MSI-X: ([0-9a-f]{2} ){15}[0-9a-f]{2}$/m);
    expect(demo).toMatch(/^0000:00:06\.0 virtio-rng: asked 16 bytes, used len 16, completion by MSI-X: ([0-9a-f]{2} ){15}[0-9a-f]{2}$/m);
    expect(demo).toContain('0000:00:07.0 virtio-blk: id "vpci-blk", 2048 sectors; write 2 sectors: status 0, read back: status 0, same bytes; read past the end: status 1 (IOERR)\n');
    expect(demo).toContain('0000:00:02.0 virtio device 1042: config space only (a clone, no device model): not driven\n');
    expect(untimed(vpci(['demo']).stdout)).toBe(untimed(demo));
    // The embedded default trace replays with every read verified, on both backends.
    const replayed = (backend: string) => new RegExp(`^ {2}${backend}: \\d+ accesses \\((\\d+) reads, all \\1 verified: 0 mismatches\\), 0 aborts, 200 MSI-X messages, \\d+ guest-RAM writes, config digest ([0-9a-f]{8})$`, 'm');
    const wasmLine = replayed('wasm').exec(demo);
    const tsLine = replayed('ts  ').exec(demo);
    expect(wasmLine).not.toBeNull();
    expect(tsLine).not.toBeNull();
    // Both backends end in the same config space.
    expect(wasmLine![2]).toBe(tsLine![2]);
    // Then the bus as the guest left it: the same functions as lspci --enumerate lists, at the same addresses.
    const titles = (text: string) => text.split('\n').filter((l) => /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)).map((l) => l.slice(0, 7));
    const tail = demo.slice(demo.indexOf('== lspci -xxx'));
    expect(titles(tail)).toEqual(titles(xxx));
    expect(titles(tail)).toContain('01:00.0');
    expect(titles(tail)).toContain('02:00.0');
  });
  it('vpci demo --no-firmware shows the bus as built: functions behind bridges unreachable', () => {
    const raw = vpci(['demo', '--no-firmware']).stdout;
    expect(raw).toContain('  2 functions behind bridges answer no config cycle until bus numbers are written (vpci enumerate)\n');
    expect(raw.endsWith(vpci(['lspci', '-xxx']).stdout)).toBe(true);
  });
  it('vpci lspci -t / -tv: the bus tree as lspci prints it; before enumeration the bridges show no bus', () => {
    expect(vpci(['lspci', '-tv']).stdout).toBe([
      '-[0000:00]-+-00.0  Device 1b36:0008',
      '           +-01.0  Device 1b36:0005',
      '           +-02.0  Device 1af4:1042',
      '           +-03.0  Device 1b36:0005',
      '           +-03.1  Device 1b36:0005',
      '           +-04.0--',
      '           +-05.0--',
      '           +-06.0  Device 1af4:1044',
      '           +-07.0  Device 1af4:1042',
      '           +-08.0  Device 1b36:00fe',
      '           \\-09.0--',
      '',
    ].join('\n'));
    expect(vpci(['lspci', '-t']).stdout.split('\n')[0]).toBe('-[0000:00]-+-00.0');
  });
  it('an unknown command is an error, not a silent demo', () => {
    const r = vpci(['lsusb']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('vpci: unknown command "lsusb" (commands: demo, lspci, enumerate, replay, convert, trace, bench; see vpci --help)\n');
  });
});

describe('several segments', () => {
  it('slots carry the domain and real lspci decodes every function', () => {
    const file = join(scratch, 'segments.json');
    writeFileSync(file, JSON.stringify({
      // buses 0-1: the root bus and the root port's secondary bus
      segments: [{ segment: 0, ecam: false }, { segment: 1, ecam: { base: '0xc0000000', buses: [0, 1] } }],
      devices: [{ bdf: '00:00.0', model: 'host-bridge' }, { bdf: '0001:00:00.0', model: 'test-endpoint' }, { bdf: '0001:00:01.0', model: 'root-port' }],
    }));
    const r = vpci(['lspci', '-xxxx', '--topology', file]);
    expect(r.status).toBe(0);
    const titles = r.stdout.split('\n').filter((l) => /^[0-9a-f]{4}:/.test(l)).map((l) => l.split(' ')[0]);
    expect(titles).toEqual(['0000:00:00.0', '0001:00:00.0', '0001:00:01.0']);
    const dump = join(scratch, 'segments.txt');
    writeFileSync(dump, r.stdout);
    const out = execFileSync('/usr/bin/lspci', ['-F', dump, '-vvv', '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(out.split('\n').filter((l) => /^[0-9a-f]{4}:/.test(l)).map((l) => l.replace(/ .*\[([0-9a-f]{4}:[0-9a-f]{4})\].*/, ' $1'))).toEqual([
      '0000:00:00.0 1b36:0008', '0001:00:00.0 1b36:0005', '0001:00:01.0 1b36:000c',
    ]);
    expect(out).toContain('Capabilities: [100 v1] Device Serial Number');
    const demo = vpci(['demo', '--topology', file]);
    expect(demo.stdout).toContain('  segment 0: ports 0xCF8/0xCFC only\n');
    expect(demo.stdout).toContain('  segment 1: ECAM at 0xc0000000 for buses 0-1\n');
  });
});
