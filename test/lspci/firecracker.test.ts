// The Firecracker sysfs captures: our hex dump of the raw config files is decoded by real
// lspci into the identity, regions and capabilities that the .info files and the bytes state.
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BarSize,
  type FunctionDump,
  describeFunctions,
  formatHexDump,
  parseFirecrackerInfo,
} from '../../src/lspci/index.js';
import { firecrackerCaptures } from './helpers/data.js';
import { cleanupLspciScratch, lspciOnDump } from './helpers/lspci.js';
import { parseVerbose } from './helpers/lspci-text.js';

afterAll(cleanupLspciScratch);

/** Linux IORESOURCE_* flag bits used in sysfs `resource` files. */
const IORESOURCE_IO = 0x100n;
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;

const captures = firecrackerCaptures().map((c) => ({ ...c, parsed: parseFirecrackerInfo(c.info, `${c.bdf}.info`) }));
const fns: FunctionDump[] = captures.map(({ parsed, config }) => ({ seg: parsed.seg, bus: parsed.bus, dev: parsed.dev, fn: parsed.fn, config }));

const hex4 = (v: number): string => v.toString(16).padStart(4, '0');

/** Standard capability list walked straight from the bytes, independently of the module. */
function rawCapabilities(config: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (((config[6] ?? 0) & 0x10) === 0) return out;
  for (let p = config[0x34]! & 0xfc; p !== 0 && out.length < 48; p = config[p + 1]! & 0xfc) out.push([p, config[p]!]);
  return out;
}

describe('Firecracker captures', () => {
  it('are six functions whose .info matches their config bytes', () => {
    expect(captures.map((c) => c.bdf)).toEqual(['0000:00:00.0', '0000:00:01.0', '0000:00:02.0', '0000:00:03.0', '0000:00:04.0', '0000:00:05.0']);
    for (const { config, parsed } of captures) {
      const dv = new DataView(config.buffer, config.byteOffset, config.byteLength);
      expect(dv.getUint16(0, true)).toBe(parsed.vendor);
      expect(dv.getUint16(2, true)).toBe(parsed.device);
      expect(dv.getUint32(8, true) >>> 8).toBe(parsed.classCode);
    }
    expect(captures[0]!.config).toHaveLength(4096);
    expect(captures[1]!.config).toHaveLength(256);
  });

  // Run lspci inside the tests (not at collection) so a missing lspci fails them with its hint.
  let decodedCache: ReturnType<typeof parseVerbose> | undefined;
  const decoded = (): ReturnType<typeof parseVerbose> =>
    (decodedCache ??= parseVerbose(lspciOnDump(formatHexDump(fns, { level: 4 }), ['-vvv', '-nn'])));

  it.each(captures.map((c) => [c.bdf, c] as const))('%s decodes to the .info identity, regions and capabilities', (_bdf, c) => {
    const { parsed, config } = c;
    const block = decoded().get(c.bdf.slice(5));
    expect(block, `lspci lists ${c.bdf}`).toBeDefined();

    // Identity: "[cccc]: ... [vvvv:dddd] (rev rr)".
    const id = /\[([0-9a-f]{4})\]: .*\[([0-9a-f]{4}):([0-9a-f]{4})\](?: \(rev ([0-9a-f]{2})\))?/.exec(block!.title);
    expect(id, block!.title).not.toBeNull();
    expect(parseInt(id![1]!, 16)).toBe(parsed.classCode >> 8);
    expect(parseInt(id![2]!, 16)).toBe(parsed.vendor);
    expect(parseInt(id![3]!, 16)).toBe(parsed.device);
    expect(parseInt(id![4] ?? '0', 16)).toBe(config[8]);
    const subsystem = block!.lines.find((l) => l.startsWith('\tSubsystem: '));
    if (parsed.subsystemVendor === 0) expect(subsystem).toBeUndefined();
    else expect(subsystem).toMatch(new RegExp(`\\[${hex4(parsed.subsystemVendor)}:${hex4(parsed.subsystemDevice)}\\]$`));

    // Every BAR that sysfs sizes shows up at the sysfs address with the sysfs type.
    const regions = new Map(
      block!.lines.flatMap((l) => {
        const m = /^\tRegion (\d): (.*)$/.exec(l);
        return m === null ? [] : [[Number(m[1]), m[2]!] as const];
      }),
    );
    for (const bar of parsed.bars.filter((b) => b.index < 6)) {
      const flags = parsed.flags[bar.index]!;
      const start = BigInt(`0x${c.info.split('\n')[bar.index + 1]!.split(' ')[0]!.slice(2)}`);
      const text = regions.get(bar.index);
      expect(text, `Region ${bar.index}`).toBeDefined();
      if (flags & IORESOURCE_IO) expect(text).toBe(`I/O ports at ${start.toString(16).padStart(4, '0')}`);
      else {
        expect(flags & IORESOURCE_MEM).not.toBe(0n);
        const width = flags & IORESOURCE_MEM_64 ? '64-bit' : '32-bit';
        const pref = flags & IORESOURCE_PREFETCH ? 'prefetchable' : 'non-prefetchable';
        expect(text).toBe(`Memory at ${start.toString(16).padStart(8, '0')} (${width}, ${pref})`);
      }
    }

    // The capability list is the one in the bytes, in order.
    const raw = rawCapabilities(config);
    expect(block!.caps.map((k) => k.offset)).toEqual(raw.map(([off]) => off));
    const names: Record<number, string> = { 0x09: 'Vendor Specific Information', 0x11: 'MSI-X' };
    block!.caps.forEach((k, i) => expect(k.header.startsWith(names[raw[i]![1]]!), k.header).toBe(true));
    const msix = raw.find(([, capId]) => capId === 0x11);
    if (msix !== undefined) {
      const count = ((config[msix[0] + 2]! | (config[msix[0] + 3]! << 8)) & 0x7ff) + 1;
      expect(block!.caps.find((k) => k.offset === msix[0])!.header).toMatch(new RegExp(`^MSI-X: Enable[+-] Count=${count} `));
    }
  });

  it('describeFunctions shows the sysfs BAR sizes', () => {
    const barSizes = new Map<string, BarSize[]>(captures.map((c) => [c.bdf, c.parsed.bars]));
    const text = describeFunctions(fns, { verbose: 2, barSizes });
    const ours = parseVerbose(text);
    expect(ours.get('00:01.0')!.lines).toContain('\tRegion 0: Memory at 4000000000 (64-bit, non-prefetchable) [size=512K]');
    expect(ours.get('00:05.0')!.lines).toContain('\tRegion 0: Memory at 4000200000 (64-bit, non-prefetchable) [size=512K]');
    // No phantom region for the upper half of the 64-bit BAR (lspci 3.9 prints one in dump mode).
    expect(text).not.toMatch(/Region 1:/);
    expect(ours.get('00:00.0')!.lines.some((l) => l.includes('Region'))).toBe(false);
  });
});
