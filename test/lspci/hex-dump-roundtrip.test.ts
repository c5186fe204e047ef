// The QEMU reference dumps survive parse -> format unchanged, and real lspci decodes our
// formatted text exactly as it decoded the original.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHexDump, parseLspciHexDump } from '../../src/lspci/index.js';
import { QEMU, readText } from './helpers/data.js';
import { cleanupLspciScratch, lspciOnDump } from './helpers/lspci.js';

afterAll(cleanupLspciScratch);

const TITLE = /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7](?= |$)/;

describe.each(['initial', 'final'])('pc-full.%s', (phase) => {
  const dumpPath = join(QEMU, `pc-full.${phase}.lspci-dump.txt`);
  const original = readText(dumpPath);
  const ours = formatHexDump(parseLspciHexDump(original, dumpPath), { level: 4 });

  it('keeps every hex row and blank line byte for byte', () => {
    const a = original.split('\n');
    const b = ours.split('\n');
    expect(b).toHaveLength(a.length);
    a.forEach((line, i) => {
      const title = TITLE.exec(line);
      if (title !== null) expect(TITLE.exec(b[i]!)?.[0], `title BDF at line ${i + 1}`).toBe(title[0]);
      else expect(b[i], `line ${i + 1}`).toBe(line);
    });
  });

  it('parses all 19 functions with 256 bytes each', () => {
    const fns = parseLspciHexDump(original, dumpPath);
    expect(fns).toHaveLength(19);
    for (const fn of fns) expect(fn.config).toHaveLength(256);
    expect(fns.map((f) => `${f.bus}:${f.dev}.${f.fn}`)).toContain('2:1.0');
  });

  it('is decoded by real lspci exactly like the reference', () => {
    const reference = readText(join(QEMU, `pc-full.${phase}.lspci-F-vvv-nn.txt`));
    expect(lspciOnDump(ours, ['-vvv', '-nn'])).toBe(reference);
  });
});
