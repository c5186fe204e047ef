// Our class-name table agrees with the system pci.ids (what lspci prints) for every class and
// subclass it lists, and falls back the way lspci does for unknown ones.
import { afterAll, describe, expect, it } from 'vitest';
import { type FunctionDump, className, formatHexDump } from '../../src/lspci/index.js';
import { ConfigBuilder } from './helpers/config-builder.js';
import { classesOnlyIds, cleanupLspciScratch, lspciOnDump, pciIdsClasses } from './helpers/lspci.js';

afterAll(cleanupLspciScratch);

describe('class names', () => {
  it('match every class and subclass in pci.ids', () => {
    const classes = pciIdsClasses();
    expect(classes.length).toBeGreaterThan(100);
    for (const [code, name] of classes) expect(className(code), `class ${code.toString(16)}`).toBe(name);
  });

  it('fall back like lspci for unknown subclasses and base classes', () => {
    expect(className(0x00ff)).toBe('Unclassified device [00ff]');
    expect(className(0xffff)).toBe('Unassigned class [ffff]');
    expect(className(0x0677)).toBe('Bridge [0677]');
    expect(className(0x2001)).toBe('Class 2001');
  });

  it('produce the titles lspci prints for all of them', () => {
    const codes = [...pciIdsClasses().map(([c]) => c), 0x00ff, 0x06fe, 0xff00, 0x2001, 0x5a5a];
    const fns: FunctionDump[] = codes.map((code, i) => ({
      seg: 0,
      bus: i >> 5,
      dev: i & 0x1f,
      fn: 0,
      config: new ConfigBuilder(64, 0x1234, 0x4321, code).w8(0x08, i & 3).bytes,
    }));
    const ours = formatHexDump(fns, { level: 1 });
    expect(lspciOnDump(ours, ['-i', classesOnlyIds(), '-x'])).toBe(ours);
  });
});
