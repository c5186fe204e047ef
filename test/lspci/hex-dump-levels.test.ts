// formatHexDump is byte-identical to real `lspci -x/-xx/-xxx/-xxxx` (given an ID database
// that knows classes but no vendors), at every level, with and without PCI domains.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FunctionDump, formatHexDump, parseLspciHexDump } from '../../src/lspci/index.js';
import { ConfigBuilder } from './helpers/config-builder.js';
import { QEMU, firecrackerCaptures, readText } from './helpers/data.js';
import { classesOnlyIds, cleanupLspciScratch, lspciOnDump } from './helpers/lspci.js';

afterAll(cleanupLspciScratch);

const qemuPath = join(QEMU, 'pc-full.final.lspci-dump.txt');

/** QEMU (256-byte), Firecracker moved to bus 0x10 (4096 and 256), plus short and CardBus dumps. */
function mixedFunctions(): FunctionDump[] {
  const fns = parseLspciHexDump(readText(qemuPath), qemuPath);
  firecrackerCaptures().forEach((c, i) => fns.push({ seg: 0, bus: 0x10, dev: i, fn: 0, config: c.config }));
  fns.push({ seg: 0, bus: 0x20, dev: 0, fn: 0, config: new ConfigBuilder(64, 0x8086, 0x1234, 0x0c03).w8(0x09, 0x30).bytes });
  const cardbus = new ConfigBuilder(256, 0x104c, 0xac56, 0x0607).w8(0x0e, 0x02).w8(0x08, 0x01);
  for (let i = 0x40; i < 0x100; i++) cardbus.w8(i, i);
  fns.push({ seg: 0, bus: 0x20, dev: 1, fn: 0, config: cardbus.bytes });
  fns.push({ seg: 0, bus: 0x20, dev: 2, fn: 0, config: new ConfigBuilder(64, 0x104c, 0xac56, 0x0607).w8(0x0e, 0x82).bytes });
  return fns;
}

/** Row counts of each function in a hex dump, keyed by its slot name. */
function rowCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let current = '';
  for (const line of text.split('\n')) {
    const title = /^(\S+) /.exec(line);
    if (/^[0-9a-f]{2,3}: /.test(line)) counts.set(current, (counts.get(current) ?? 0) + 1);
    else if (title !== null) current = title[1]!;
  }
  return counts;
}

describe('formatHexDump levels', () => {
  const fns = mixedFunctions();
  const full = formatHexDump(fns, { level: 4 });

  it.each([
    [1, '-x'],
    [2, '-xx'],
    [3, '-xxx'],
    [4, '-xxxx'],
  ] as const)('level %i equals lspci %s byte for byte', (level, flag) => {
    const ids = classesOnlyIds();
    expect(formatHexDump(fns, { level })).toBe(lspciOnDump(full, ['-i', ids, flag]));
  });

  it('prints 64 bytes at levels 1 and 2 (128 for CardBus), 256 at level 3, 4096 only when captured at level 4', () => {
    const l1 = rowCounts(formatHexDump(fns, { level: 1 }));
    const l2 = rowCounts(formatHexDump(fns, { level: 2 }));
    const l3 = rowCounts(formatHexDump(fns, { level: 3 }));
    const l4 = rowCounts(formatHexDump(fns, { level: 4 }));
    expect(l1.get('00:00.0')).toBe(4);
    expect(l1.get('20:01.0')).toBe(8); // CardBus header with 256 bytes captured
    expect(l1.get('20:02.0')).toBe(4); // CardBus header, only 64 bytes captured
    expect(l2).toEqual(l1);
    expect(l3.get('00:00.0')).toBe(16);
    expect(l3.get('10:00.0')).toBe(16);
    expect(l3.get('20:00.0')).toBe(4);
    expect(l4.get('10:00.0')).toBe(256); // the 4096-byte Firecracker host bridge
    expect(l4.get('10:01.0')).toBe(16);
    expect(l4.get('00:12.0')).toBe(16);
    expect(l4.get('20:00.0')).toBe(4);
  });

  it('titles name the class, the IDs and a non-zero revision; every function ends with a blank line', () => {
    const text = formatHexDump(fns, { level: 1 });
    expect(text).toContain('00:00.0 Host bridge: Device 8086:1237 (rev 02)\n00: 86 80 37 12');
    expect(text).toContain('00:02.0 Unclassified device [00ff]: Device 1af4:1005\n');
    expect(text).toContain('10:01.0 Unassigned class [ffff]: Device 1af4:1045 (rev 01)\n');
    expect(text.endsWith('\n\n')).toBe(true);
    expect(text.split('\n\n')).toHaveLength(fns.length + 1);
  });

  it('lists functions in lspci order whatever the input order', () => {
    const shuffled = [...fns].reverse();
    expect(formatHexDump(shuffled, { level: 1 })).toBe(formatHexDump(fns, { level: 1 }));
    const titles = formatHexDump(fns, { level: 1 }).match(/^[0-9a-f:]+\.[0-7](?= )/gm) ?? [];
    expect(titles.slice(0, 3)).toEqual(['00:00.0', '00:01.0', '00:01.1']);
    expect(titles.at(-1)).toBe('20:02.0');
  });
});

describe('PCI domains', () => {
  const qemu = parseLspciHexDump(readText(qemuPath), qemuPath).slice(0, 3);
  const withDomain: FunctionDump[] = [...qemu, { ...qemu[0]!, seg: 0x0001 }, { ...qemu[1]!, seg: 0xabcd, bus: 0x7f }];

  it('prefixes every slot with the domain as soon as one function has a non-zero segment', () => {
    const text = formatHexDump(withDomain, { level: 1 });
    const titles = text.match(/^[0-9a-f:]+\.[0-7](?= )/gm) ?? [];
    expect(titles).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:00:01.1', '0001:00:00.0', 'abcd:7f:01.0']);
    expect(formatHexDump(qemu, { level: 1 })).toMatch(/^00:00\.0 /);
  });

  it('is read back by lspci, which prints the same domains and decodes the same bytes', () => {
    const ids = classesOnlyIds();
    const text = formatHexDump(withDomain, { level: 3 });
    expect(lspciOnDump(text, ['-i', ids, '-xxx'])).toBe(text);
    const decoded = lspciOnDump(text, ['-vv', '-nn']);
    expect(decoded).toContain('0001:00:00.0 Host bridge [0600]: Intel Corporation 440FX');
    expect(decoded).toContain('abcd:7f:01.0 ISA bridge [0601]');
    // The same bytes decode identically in domain 0 and domain 1.
    const block = (slot: string): string => decoded.split('\n\n').find((b) => b.startsWith(slot))!.replace(/^\S+/, '');
    expect(block('0001:00:00.0')).toBe(block('0000:00:00.0'));
  });

  it('round-trips through the parser', () => {
    const text = formatHexDump(withDomain, { level: 4 });
    const back = parseLspciHexDump(text, 'domains.txt');
    expect(back.map((f) => [f.seg, f.bus, f.dev, f.fn])).toEqual([
      [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0xabcd, 0x7f, 1, 0],
    ]);
    expect(formatHexDump(back, { level: 4 })).toBe(text);
  });
});
