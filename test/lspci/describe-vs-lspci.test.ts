// describeFunctions speaks lspci's language: on the reference machines and on synthetic
// functions it finds the same capabilities at the same offsets under the same names, and its
// lines are lspci's lines wherever it prints the same thing.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FunctionDump, describeFunctions, formatHexDump, parseLspciHexDump } from '../../src/lspci/index.js';
import { QEMU, firecrackerCaptures, readText } from './helpers/data.js';
import { classesOnlyIds, cleanupLspciScratch, lspciOnDump } from './helpers/lspci.js';
import { type FunctionBlock, capName, parseVerbose, sameCapHeader } from './helpers/lspci-text.js';
import { syntheticFunctions } from './helpers/synthetic.js';

afterAll(cleanupLspciScratch);

function qemu(phase: string): FunctionDump[] {
  const path = join(QEMU, `pc-full.${phase}.lspci-dump.txt`);
  return parseLspciHexDump(readText(path), path);
}

function firecracker(): FunctionDump[] {
  return firecrackerCaptures().map((c, i) => ({ seg: 0, bus: 0, dev: i, fn: 0, config: c.config }));
}

const sets: Array<[string, () => FunctionDump[]]> = [
  ['QEMU pc-full initial', () => qemu('initial')],
  ['QEMU pc-full final', () => qemu('final')],
  ['Firecracker', firecracker],
  ['synthetic', syntheticFunctions],
];

/** lspci's -vv output for `fns`, with class names but no vendor names (like ours). */
function lspciVV(fns: FunctionDump[]): string {
  return lspciOnDump(formatHexDump(fns, { level: 4 }), ['-i', classesOnlyIds(), '-vv', '-nn']);
}

/**
 * Remove what lspci 3.9 gets wrong when reading a dump: it shows the upper half of a 64-bit BAR
 * as a region of its own (`Region 5` after a 64-bit `Region 4`).
 */
function withoutPhantomRegions(text: string): string {
  return text.replace(/^(\tRegion (\d): Memory at .* \(64-bit, .*\n)\tRegion (\d): .*\n/gm, (all, keep: string, a: string, b: string) =>
    Number(b) === Number(a) + 1 ? keep : all,
  );
}

/** Our text in lspci -vv's notation where we deliberately say more. */
function asLspciWouldSay(text: string): string {
  return text
    .replace(/VirtIO: (?:PCICfg|SharedMemory|VendorCfg)$/gm, 'VirtIO: <unknown>')
    .replace(/^(\t(?:I\/O|Memory|Prefetchable memory) behind bridge: )[0-9a-f]+-[0-9a-f]+ \[disabled\]/gm, '$1[disabled]');
}

describe.each(sets)('%s', (_name, load) => {
  const fns = load();
  const ours = parseVerbose(describeFunctions(fns, { verbose: 2 }));
  // Run lspci inside the tests (not at collection) so a missing lspci fails them with its hint.
  let theirsCache: Map<string, FunctionBlock> | undefined;
  const lspciBlocks = (): Map<string, FunctionBlock> => (theirsCache ??= parseVerbose(lspciVV(fns)));

  it('lists the same functions', () => {
    const theirs = lspciBlocks();
    expect([...ours.keys()]).toEqual([...theirs.keys()]);
    expect(ours.size).toBe(fns.length);
  });

  it('names every capability lspci names, at the same offsets', () => {
    const theirs = lspciBlocks();
    for (const [slot, block] of theirs) {
      const mine = ours.get(slot)!;
      const names = (b: FunctionBlock): Array<[number, string]> => b.caps.map((c) => [c.offset, capName(c.header)]);
      expect(names(mine), slot).toEqual(names(block));
      mine.caps.forEach((c, i) => expect(sameCapHeader(c.header, block.caps[i]!.header), `${slot} [${c.offset.toString(16)}] ${c.header}`).toBe(true));
    }
  });

  it('prints only detail lines that lspci prints for the same capability', () => {
    const theirs = lspciBlocks();
    for (const [slot, block] of ours) {
      const other = theirs.get(slot)!;
      for (const cap of block.caps) {
        const lspciDetails = other.caps.find((c) => c.offset === cap.offset)!.details;
        for (const line of cap.details) expect(lspciDetails, `${slot} [${cap.offset.toString(16)}]`).toContain(line);
      }
    }
  });

  it('prints the header lines lspci prints (except the phantom 64-bit upper-half regions)', () => {
    const theirs = lspciBlocks();
    for (const [slot, block] of ours) {
      const top = (b: FunctionBlock, text: string[]): string[] => text.filter((l) => !l.startsWith('\t\t'));
      const mine = asLspciWouldSay(top(block, block.lines).join('\n'));
      const other = withoutPhantomRegions(top(theirs.get(slot)!, theirs.get(slot)!.lines).join('\n') + '\n').trimEnd();
      expect(`${block.title}\n${mine}`, slot).toBe(`${theirs.get(slot)!.title}\n${other}`);
    }
  });
});

describe('reference machines in full', () => {
  it.each([
    ['initial', () => qemu('initial')],
    ['final', () => qemu('final')],
    ['firecracker', firecracker],
  ] as const)('%s: our -vv text is lspci -vv text, up to the phantom regions', (_n, load) => {
    const fns = load();
    expect(asLspciWouldSay(describeFunctions(fns, { verbose: 2 }))).toBe(withoutPhantomRegions(lspciVV(fns)));
  });

  it('verbose 1 carries lspci -v flags lines and unversioned capability headers', () => {
    const fns = qemu('final');
    const ours = parseVerbose(describeFunctions(fns, { verbose: 1 }));
    const theirs = parseVerbose(lspciOnDump(formatHexDump(fns, { level: 4 }), ['-i', classesOnlyIds(), '-v', '-nn']));
    for (const [slot, block] of theirs) {
      const mine = ours.get(slot)!;
      expect(mine.title).toBe(block.title);
      expect(mine.lines.find((l) => l.startsWith('\tFlags: '))).toBe(block.lines.find((l) => l.startsWith('\tFlags: ')));
      expect(mine.caps.map((c) => [c.offset, c.header]).map(([o, h]) => [o, String(h).replace(/PCICfg$/, '<unknown>')])).toEqual(
        block.caps.map((c) => [c.offset, c.header]),
      );
      expect(mine.caps.every((c) => c.details.length === 0)).toBe(true);
    }
  });
});
