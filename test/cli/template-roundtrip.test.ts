// Template round trip through the CLI: topology files that clone every function of the QEMU
// pc-full recording (initial and final phase, via lspciFile + function, BAR sizes from
// pc-full.json) and every Firecracker sysfs capture (configFile + resourceFile); then
// `vpci lspci -xxxx --topology FILE` prints the source bytes unchanged, both backends agree, and
// the real `lspci -F` decodes our output into the same text as it decodes the source dumps.
//
// First the functions of pc-full's buses 1 and 2 are cloned onto bus 0 at free device numbers and
// compared function by function; then the final phase is rebuilt as it was, the functions behind
// the bridges cloned behind them (the bridges' dumps carry the bus numbers firmware wrote), so
// every function answers at its original slot and real lspci draws the same tree.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, vpci } from '../helpers/cli.js';
import { SHARED_DATA } from '../helpers/shared-data.js';

const DATA = SHARED_DATA;
const QEMU = join(DATA, 'qemu');
const FIRECRACKER = join(DATA, 'firecracker');
const LSPCI = '/usr/bin/lspci';

const h2 = (v: number) => v.toString(16).padStart(2, '0');

/** A minimal, independent reader of lspci -x... text: slot -> bytes. */
function parseDump(text: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const section of text.split('\n\n')) {
    const lines = section.split('\n').filter((l) => l !== '');
    if (!lines.length) continue;
    const slot = lines[0].split(' ')[0];
    const bytes: number[] = [];
    for (const row of lines.slice(1)) {
      const [off, rest] = row.split(': ');
      expect(parseInt(off, 16), `${slot} row ${off}`).toBe(bytes.length);
      bytes.push(...rest.split(' ').map((x) => parseInt(x, 16)));
    }
    expect(out.has(slot), `${slot} listed twice`).toBe(false);
    out.set(slot, Uint8Array.from(bytes));
  }
  return out;
}

/** lspci -xxxx style text of raw bytes (independent of vpci's formatter). */
function formatDump(entries: [string, Uint8Array][]): string {
  return entries.map(([slot, b]) => {
    let s = `${slot} Device\n`;
    for (let r = 0; r < b.length; r += 16) s += `${h2(r)}: ${Array.from(b.slice(r, r + 16), h2).join(' ')}\n`;
    return s;
  }).join('\n');
}

let scratch: string;
/** `lspci -F FILE -vvv -nn`, split into blocks keyed by slot, the slot removed from the title. */
function lspciBlocks(text: string): Map<string, string> {
  const file = join(scratch, `lspci-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, text);
  const out = execFileSync(LSPCI, ['-O', 'hwdb.disable=1', '-F', file, '-vvv', '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return blocksOf(out);
}
function blocksOf(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const block of out.split('\n\n')) {
    const t = block.replace(/^\n+|\n+$/g, '');
    if (!t) continue;
    const slot = t.split(' ')[0];
    m.set(slot, t.slice(slot.length));
  }
  return m;
}

/**
 * Compares our bytes with the source's, function by function. A difference in bit 7 of function
 * 0's Header Type is accepted only when the function's siblings differ between the two listings
 * (`sourceListing`: every function of the source dump) and is reported; any other difference fails.
 */
function compareFunctions(
  ours: Map<string, Uint8Array>, source: Map<string, Uint8Array>, map: (slot: string) => string, notes: string[],
  sourceListing: Map<string, Uint8Array> = source,
): void {
  const device = (slot: string) => slot.slice(0, slot.lastIndexOf('.'));
  for (const [slot, want] of source) {
    const got = ours.get(map(slot));
    expect(got, `${slot} (as ${map(slot)}) is listed`).toBeDefined();
    expect(got!.length, `${slot} length`).toBe(want.length);
    const diffs: string[] = [];
    for (let i = 0; i < want.length; i++) if (got![i] !== want[i]) diffs.push(`0x${i.toString(16)}: ${h2(want[i])} -> ${h2(got![i])}`);
    if (diffs.length === 1 && diffs[0].startsWith('0xe:') && (got![0x0e] ^ want[0x0e]) === 0x80 && map(slot).endsWith('.0')) {
      const srcSiblings = [...sourceListing.keys()].filter((s) => s !== slot && device(s) === device(slot)).length;
      const ourSiblings = [...ours.keys()].filter((s) => s !== map(slot) && device(s) === device(map(slot))).length;
      // Our function 0's bit must say whether it has siblings here ...
      expect((got![0x0e] & 0x80) !== 0, `${map(slot)}: multi-function bit vs its ${ourSiblings} sibling(s)`).toBe(ourSiblings > 0);
      // ... and for a source function 0 the difference must come from a change of siblings.
      if (slot.endsWith('.0')) expect(srcSiblings > 0, `${slot}: multi-function bit changed although siblings did not`).not.toBe(ourSiblings > 0);
      notes.push(`${slot} -> ${map(slot)}: multi-function bit ${want[0x0e] & 0x80 ? 'cleared' : 'set'} (siblings ${srcSiblings} -> ${ourSiblings})`);
      continue;
    }
    expect(diffs, `${slot} (as ${map(slot)}) bytes`).toEqual([]);
  }
  expect(ours.size, 'no extra functions').toBe(source.size);
}

interface QemuFunction {
  bdf: string;
  bars: { index: number; type: string; size?: number }[];
  rom: { size?: number };
}
const pcFull = JSON.parse(readFileSync(join(QEMU, 'pc-full.json'), 'utf8')) as { functions: QemuFunction[] };
const MOVED: Record<string, string> = { '01:01.0': '00:13.0', '01:02.0': '00:14.0', '01:03.0': '00:15.0', '02:01.0': '00:16.0' };
const mapSlot = (slot: string) => MOVED[slot] ?? slot;
function barSizes(bdf: string): { index: number; size: number }[] {
  const f = pcFull.functions.find((x) => x.bdf === bdf)!;
  const s = f.bars.filter((b) => b.type !== 'unimplemented').map((b) => ({ index: b.index, size: b.size! }));
  if (f.rom.size) s.push({ index: 6, size: f.rom.size });
  return s;
}

const notes: string[] = [];
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vpci-cli-roundtrip-'));
  await buildOnce();
}, 300_000);
afterAll(() => {
  if (notes.length) console.log(`multi-function bit differences:\n  ${notes.join('\n  ')}`);
  rmSync(scratch, { recursive: true, force: true });
});

describe.each(['initial', 'final'] as const)('pc-full.%s: every function cloned via lspciFile + function', (phase) => {
  const dumpPath = join(QEMU, `pc-full.${phase}.lspci-dump.txt`);
  const source = parseDump(readFileSync(dumpPath, 'utf8'));
  let topologyFile: string;
  let wasm: ReturnType<typeof vpci>;

  beforeAll(() => {
    topologyFile = join(scratch, `pc-full-${phase}.json`);
    // initial: a path relative to the topology file; final: an absolute one
    const lspciFile = phase === 'initial' ? relative(scratch, dumpPath) : dumpPath;
    const devices = [...source.keys()].map((slot) => ({
      bdf: mapSlot(slot), name: `pc-full ${slot}`, template: { lspciFile, function: slot, barSizes: barSizes(slot) },
    }));
    writeFileSync(topologyFile, JSON.stringify({ name: `pc-full-${phase}`, devices }, null, 2));
    wasm = vpci(['lspci', '-xxxx', '--topology', topologyFile]);
  });

  it('has 19 source functions, 4 of them behind bridges', () => {
    expect(source.size).toBe(19);
    expect([...source.keys()].filter((s) => !s.startsWith('00:'))).toEqual(Object.keys(MOVED));
  });

  it('vpci lspci -xxxx --topology prints byte-identical config rows', () => {
    expect(wasm.stderr).toBe('');
    expect(wasm.status).toBe(0);
    compareFunctions(parseDump(wasm.stdout), source, mapSlot, notes);
  });

  it('--backend ts prints the same text as --backend wasm (the default)', () => {
    const ts = vpci(['lspci', '-xxxx', '--topology', topologyFile, '--backend', 'ts']);
    const explicit = vpci(['lspci', '-xxxx', '--topology', topologyFile, '--backend', 'wasm']);
    expect(ts.status).toBe(0);
    expect(ts.stdout).toBe(wasm.stdout);
    expect(explicit.stdout).toBe(wasm.stdout);
  });

  it('real lspci decodes our output exactly as the reference decode of the source', () => {
    const reference = blocksOf(readFileSync(join(QEMU, `pc-full.${phase}.lspci-F-vvv-nn.txt`), 'utf8'));
    const ours = lspciBlocks(wasm.stdout);
    expect(reference.size).toBe(19);
    for (const [slot, text] of reference) {
      expect(ours.get(mapSlot(slot)), `lspci -F of ${slot} (as ${mapSlot(slot)})`).toBe(text);
    }
    expect(ours.size).toBe(19);
  });
});

describe('pc-full.final rebuilt with its bridges: functions behind them cloned behind them', () => {
  const dumpPath = join(QEMU, 'pc-full.final.lspci-dump.txt');
  const source = parseDump(readFileSync(dumpPath, 'utf8'));
  const bus = (slot: string) => parseInt(slot.slice(0, 2), 16);
  /** The bridge whose secondary bus a slot is on (pc-full's bridges: 00:12.0 -> 01, 01:03.0 -> 02). */
  const parentOf = (slot: string) => [...source].find(([, b]) => (b[0x0e] & 0x7f) === 1 && b[0x19] !== 0 && b[0x19] === bus(slot))?.[0];
  let topologyFile: string;
  let wasm: ReturnType<typeof vpci>;

  beforeAll(() => {
    const devices = [...source.keys()].map((slot) => {
      const parent = parentOf(slot);
      const place = parent === undefined ? { bdf: slot } : { behind: `bridge ${parent}`, addr: slot.slice(3) };
      const id = (source.get(slot)![0x0e] & 0x7f) === 1 ? { id: `bridge ${slot}` } : {};
      return { ...id, ...place, template: { lspciFile: dumpPath, function: slot, barSizes: barSizes(slot) } };
    });
    expect(devices.filter((d) => 'behind' in d)).toHaveLength(4);
    topologyFile = join(scratch, 'pc-full-final-bridges.json');
    writeFileSync(topologyFile, JSON.stringify({ name: 'pc-full-final-bridges', devices }, null, 2));
    wasm = vpci(['lspci', '-xxxx', '--topology', topologyFile]);
  });

  it('every function answers at its original slot with byte-identical config rows, on both backends', () => {
    expect(wasm.stderr).toBe('');
    expect(wasm.status).toBe(0);
    compareFunctions(parseDump(wasm.stdout), source, (slot) => slot, notes);
    expect(vpci(['lspci', '-xxxx', '--topology', topologyFile, '--backend', 'ts']).stdout).toBe(wasm.stdout);
  });

  it('vpci lspci -t is the tree real lspci draws from the source dump and from ours', () => {
    const file = join(scratch, 'pc-full-final-ours.txt');
    writeFileSync(file, wasm.stdout);
    const fromSource = execFileSync(LSPCI, ['-O', 'hwdb.disable=1', '-F', dumpPath, '-t'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const fromOurs = execFileSync(LSPCI, ['-O', 'hwdb.disable=1', '-F', file, '-t'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(fromSource).toContain('\\-12.0-[01-02]--+-01.0');
    expect(fromOurs).toBe(fromSource);
    expect(vpci(['lspci', '-t', '--topology', topologyFile]).stdout).toBe(fromSource);
  });
});

describe('Firecracker: every function cloned via configFile + resourceFile', () => {
  const captures = readdirSync(FIRECRACKER).filter((f) => f.endsWith('.config')).sort().map((f) => f.slice(0, -'.config'.length));
  const source = new Map(captures.map((bdf) => [bdf.slice(5), new Uint8Array(readFileSync(join(FIRECRACKER, `${bdf}.config`)))]));
  let topologyFile: string;
  let wasm: ReturnType<typeof vpci>;

  beforeAll(() => {
    const dir = join(scratch, 'firecracker');
    mkdirSync(dir);
    const devices = captures.map((bdf) => {
      // The .info file minus its header line is the sysfs `resource` file.
      const info = readFileSync(join(FIRECRACKER, `${bdf}.info`), 'utf8');
      const resource = `${bdf.replace(/:/g, '_')}.resource`;
      writeFileSync(join(dir, resource), info.slice(info.indexOf('\n') + 1));
      return { bdf, template: { configFile: join(FIRECRACKER, `${bdf}.config`), resourceFile: resource } };
    });
    topologyFile = join(dir, 'firecracker.json');
    writeFileSync(topologyFile, JSON.stringify({ devices }));
    wasm = vpci(['lspci', '-xxxx', '--topology', topologyFile]);
  });

  it('has the six captures, the host bridge with 4096 bytes', () => {
    expect([...source.keys()]).toEqual(['00:00.0', '00:01.0', '00:02.0', '00:03.0', '00:04.0', '00:05.0']);
    expect(source.get('00:00.0')!.length).toBe(4096);
  });

  it('vpci lspci -xxxx --topology prints byte-identical config rows (4096 bytes for the host bridge)', () => {
    expect(wasm.stderr).toBe('');
    expect(wasm.status).toBe(0);
    compareFunctions(parseDump(wasm.stdout), source, (s) => s, notes);
  });

  it('--backend ts prints the same text', () => {
    const ts = vpci(['lspci', '-xxxx', '--topology', topologyFile, '--backend', 'ts']);
    expect(ts.status).toBe(0);
    expect(ts.stdout).toBe(wasm.stdout);
  });

  it('real lspci decodes our output as it decodes the raw sysfs bytes', () => {
    const reference = lspciBlocks(formatDump([...source.entries()]));
    const ours = lspciBlocks(wasm.stdout);
    expect([...ours.keys()]).toEqual([...reference.keys()]);
    for (const [slot, text] of reference) expect(ours.get(slot), `lspci -F of ${slot}`).toBe(text);
    // sanity: the decode names the virtio functions and their MSI-X
    expect(reference.get('00:02.0')).toContain('[1af4:1042]');
    expect(reference.get('00:02.0')).toContain('MSI-X: Enable');
  });
});

describe('the multi-function bit follows the siblings the topology gives', () => {
  it('a clone loses bit 7 without its siblings and gains it with new ones (reported as allowed differences)', () => {
    const dumpPath = join(QEMU, 'pc-full.initial.lspci-dump.txt');
    const all = parseDump(readFileSync(dumpPath, 'utf8'));
    // 00:0a.0 (multi-function in QEMU) alone; 00:01.1 (IDE, single) as 00:09.0 with 00:01.3 as 00:09.2.
    const picked: Record<string, string> = { '00:0a.0': '00:0a.0', '00:01.1': '00:09.0', '00:01.3': '00:09.2' };
    const file = join(scratch, 'multifunction.json');
    writeFileSync(file, JSON.stringify({ devices: Object.entries(picked).map(([from, to]) => ({
      bdf: to, template: { lspciFile: dumpPath, function: from, barSizes: barSizes(from) },
    })) }));
    const r = vpci(['lspci', '-xxx', '--topology', file]);
    expect(r.status).toBe(0);
    const ours = parseDump(r.stdout);
    expect(all.get('00:0a.0')![0x0e]).toBe(0x80);
    expect(ours.get('00:0a.0')![0x0e]).toBe(0x00);
    expect(all.get('00:01.1')![0x0e]).toBe(0x00);
    expect(ours.get('00:09.0')![0x0e]).toBe(0x80);
    expect(ours.get('00:09.2')![0x0e]).toBe(0x00);
    const local: string[] = [];
    compareFunctions(ours, new Map(Object.keys(picked).map((k) => [k, all.get(k)!])), (s) => picked[s], local, all);
    expect(local).toEqual([
      '00:0a.0 -> 00:0a.0: multi-function bit cleared (siblings 2 -> 0)',
      '00:01.1 -> 00:09.0: multi-function bit set (siblings 2 -> 1)',
    ]);
  });
});
