// sysfs `resource` files and Firecracker `.info` files.
import { describe, expect, it } from 'vitest';
import { DumpFormatError, parseFirecrackerInfo, parseSysfsResource } from '../../src/lspci/index.js';
import { firecrackerCaptures } from './helpers/data.js';
import { thrown } from '../helpers/thrown.js';

const zero = '0x0000000000000000 0x0000000000000000 0x0000000000000000';

const errorOf = (f: () => unknown): DumpFormatError => thrown(DumpFormatError, f);

describe('parseSysfsResource', () => {
  it('sizes BARs 0-5 and the ROM, skips unimplemented ones and keeps all flags', () => {
    const text = [
      '0x00000000fe000000 0x00000000fe000fff 0x0000000000040200', // BAR0 4K memory
      zero,
      '0x000000000000c000 0x000000000000c01f 0x0000000000040101', // BAR2 32 I/O ports
      '0x0000008000000000 0x00000083ffffffff 0x000000000014220c', // BAR3 16G 64-bit prefetchable
      zero,
      zero,
      '0x00000000feb80000 0x00000000febbffff 0x0000000000046200', // ROM 256K
      '0x0000000000001000 0x0000000000001fff 0x0000000000000101', // bridge window: flags only
    ].join('\n');
    const { bars, flags } = parseSysfsResource(`${text}\n`, 'resource');
    expect(bars).toEqual([
      { index: 0, size: 4096 },
      { index: 2, size: 32 },
      { index: 3, size: 16 * 2 ** 30 },
      { index: 6, size: 256 * 1024 },
    ]);
    expect(flags).toHaveLength(8);
    expect(flags[3]).toBe(0x14220cn);
    expect(flags[7]).toBe(0x101n);
  });

  it('tolerates CRLF and trailing blank lines', () => {
    expect(parseSysfsResource(`0x1000 0x1fff 0x200\r\n${zero}\r\n\n\n`, 'r')).toEqual({ bars: [{ index: 0, size: 4096 }], flags: [0x200n, 0n] });
  });

  it('returns sizes beyond 2^53 as bigint', () => {
    const { bars } = parseSysfsResource('0x0000000000000000 0xffffffffffffffff 0x0000000000000200', 'r');
    expect(bars).toEqual([{ index: 0, size: 2n ** 64n }]);
  });

  it.each([
    ['a blank line between resources', `${zero}\n\n${zero}\n`, 2, 'empty line (line N describes resource N, so none may be skipped)'],
    ['a missing field', `${zero}\n0x0 0x1\n`, 2, 'expected "0xSTART 0xEND 0xFLAGS", found 2 field(s)'],
    ['a non-hex field', `0x0 0xfg 0x0\n`, 1, 'bad hex number "0xfg" in field 2'],
    ['a decimal field', `0 0x0 0x0\n`, 1, 'bad hex number "0" in field 1'],
    ['an end before the start', `${zero}\n${zero}\n0x2000 0x1000 0x200\n`, 3, 'resource ends (0x1000) before it starts (0x2000)'],
  ])('rejects %s', (_what, text, line, message) => {
    const e = errorOf(() => parseSysfsResource(text, 'dev/resource'));
    expect(e.message).toBe(`dev/resource:${line}: ${message}`);
    expect(e.line).toBe(line);
  });
});

describe('parseFirecrackerInfo', () => {
  it('reads every reference .info file', () => {
    const infos = firecrackerCaptures().map((c) => parseFirecrackerInfo(c.info, `${c.bdf}.info`));
    expect(infos[1]).toEqual({
      seg: 0, bus: 0, dev: 1, fn: 0,
      vendor: 0x1af4, device: 0x1045, classCode: 0xffff00, irq: 0,
      subsystemVendor: 0x1af4, subsystemDevice: 0x1045,
      bars: [{ index: 0, size: 512 * 1024 }],
      flags: [0x140204n, 0n, 0n, 0n, 0n, 0n, 0n],
    });
    expect(infos[0]!.bars).toEqual([]);
    expect(infos.map((i) => i.device)).toEqual([0x0d57, 0x1045, 0x1042, 0x1041, 0x1053, 0x1044]);
  });

  const header = 'bdf=0000:00:02.0 vendor=0x1af4 device=0x1042 class=0x018000 irq=0 subsystem_vendor=0x1af4 subsystem_device=0x1042';
  it.each([
    ['an empty file', '', 1, 'missing "bdf=... vendor=..." header line'],
    ['a blank line between resources', `${header}\n${zero}\n\n${zero}\n`, 3, 'empty line'],
    ['a missing field', header.replace(' irq=0', ''), 1, 'missing irq= field'],
    ['a bad bdf', header.replace('0000:00:02.0', '00:02.0'), 1, 'bad bdf "00:02.0"'],
    ['a bad number', header.replace('0x1042 class', '0xzz class'), 1, 'bad number "0xzz" for device'],
    ['a token without =', `${header} junk`, 1, 'expected key=value, found "junk"'],
    ['a bad resource line', `${header}\n${zero}\n0x0 0x0\n`, 3, 'found 2 field(s)'],
  ])('rejects %s', (_what, text, line, message) => {
    const e = errorOf(() => parseFirecrackerInfo(text, 'fc.info'));
    expect(e.message.startsWith(`fc.info:${line}: `)).toBe(true);
    expect(e.message).toContain(message);
  });
});
