// parseLspciHexDump accepts every shape of lspci hex dump and rejects damaged ones with a
// DumpFormatError that points at the offending line.
import { describe, expect, it } from 'vitest';
import { DumpFormatError, formatHexDump, parseLspciHexDump } from '../../src/lspci/index.js';

/** `rows` rows of a dump whose bytes are their offsets modulo 256. */
function rows(count: number, from = 0): string {
  let out = '';
  for (let r = from; r < from + count; r++) {
    out += `${(r * 16).toString(16).padStart(2, '0')}:`;
    for (let i = 0; i < 16; i++) out += ` ${((r * 16 + i) & 0xff).toString(16).padStart(2, '0')}`;
    out += '\n';
  }
  return out;
}

function parseError(text: string): DumpFormatError {
  try {
    parseLspciHexDump(text, 'pc.txt');
  } catch (e) {
    expect(e).toBeInstanceOf(DumpFormatError);
    return e as DumpFormatError;
  }
  throw new Error('expected a DumpFormatError');
}

describe('parseLspciHexDump accepts', () => {
  it('titles with names, without names, with a domain and bare', () => {
    const text =
      `00:00.0 Host bridge: Intel Corporation 440FX (rev 02)\n${rows(4)}\n` +
      `00:01.0 Device 8086:7000\n${rows(4)}\n` +
      `0002:03:1f.7 Class [0601]: Device [8086:7000]\n${rows(16)}\n` +
      `04:05.6\n${rows(256)}`;
    const fns = parseLspciHexDump(text, 'mixed.txt');
    expect(fns.map((f) => [f.seg, f.bus, f.dev, f.fn, f.config.length])).toEqual([
      [0, 0, 0, 0, 64],
      [0, 0, 1, 0, 64],
      [2, 3, 0x1f, 7, 256],
      [0, 4, 5, 6, 4096],
    ]);
    expect(fns[3]!.config[0x123]).toBe(0x23);
  });

  it('CRLF line ends, -v decode lines and a missing final newline', () => {
    const text = `00:00.0 Host bridge: Device 8086:1237\r\n\tControl: I/O- Mem-\r\n${rows(4).replace(/\n/g, '\r\n')}`.trimEnd();
    const [fn] = parseLspciHexDump(text, 'crlf.txt');
    expect(fn!.config).toHaveLength(64);
    expect(fn!.config[63]).toBe(63);
  });

  it('128-byte CardBus headers as lspci -x prints them', () => {
    const cardbus = rows(8).replace(/^00: (.*)$/m, '00: 4c 10 56 ac 00 00 00 00 00 00 07 06 00 00 02 00');
    expect(parseLspciHexDump(`00:00.0 CardBus bridge\n${cardbus}`, 'cb.txt')[0]!.config).toHaveLength(128);
  });

  it('its own output at every level', () => {
    const fns = parseLspciHexDump(`00:00.0 x\n${rows(256)}\n01:00.0 y\n${rows(16)}`, 'a.txt');
    for (const level of [1, 2, 3, 4] as const) {
      const text = formatHexDump(fns, { level });
      expect(formatHexDump(parseLspciHexDump(text, 'b.txt'), { level })).toBe(text);
    }
  });
});

describe('parseLspciHexDump rejects', () => {
  it.each([
    ['a bad hex byte', `00:00.0 x\n${rows(1)}10: 00 zz${' 00'.repeat(14)}\n${rows(2, 2)}`, 3, 'bad hex byte "zz" at column 8'],
    ['a three-digit byte', `00:00.0 x\n00: 000${' 00'.repeat(15)}\n${rows(3, 1)}`, 2, 'bad hex byte "000" at column 5'],
    ['a short row', `00:00.0 x\n${rows(1)}10:${' 00'.repeat(15)}\n${rows(2, 2)}`, 3, 'row has 15 bytes, expected 16'],
    ['a long row', `00:00.0 x\n00:${' 00'.repeat(17)}\n`, 2, 'more than 16 bytes in row'],
    ['a doubled space', `00:00.0 x\n00:  00${' 00'.repeat(15)}\n`, 2, 'doubled space at column 4'],
    ['a row missing in the middle', `00:00.0 x\n${rows(2)}${rows(2, 3)}`, 4, 'row offset 30 out of order (expected 20)'],
    ['rows out of order', `00:00.0 x\n${rows(1, 1)}`, 2, 'row offset 10 out of order (expected 00)'],
    ['a dump stopping at 80 bytes', `00:00.0 x\n${rows(5)}\n01:00.0 y\n${rows(4)}`, 6, 'dump of 0000:00:00.0 stops after 80 bytes; expected 64, 256 or 4096'],
    ['a dump stopping at 512 bytes', `00:00.0 x\n${rows(32)}`, 33, 'stops after 512 bytes'],
    ['128 bytes for a non-CardBus function', `00:00.0 x\n${rows(8)}`, 9, 'stops after 128 bytes'],
    ['rows past 4096 bytes', `00:00.0 x\n${rows(256)}1000:${' 00'.repeat(16)}\n`, 258, 'row offset 1000 beyond the 4096-byte config space'],
    ['a duplicate function', `00:01.0 x\n${rows(4)}\n00:02.0 y\n${rows(4)}\n00:01.0 z\n${rows(4)}`, 13, 'duplicate function 0000:00:01.0 (first listed at line 1)'],
    ['the same function with and without domain', `00:01.0 x\n${rows(4)}\n0000:00:01.0 z\n${rows(4)}`, 7, 'duplicate function 0000:00:01.0'],
    ['a row before any title', `${rows(4)}`, 1, 'hex row outside a function'],
    ['a row after the blank line ending a function', `00:00.0 x\n${rows(4)}\n${rows(1, 4)}`, 7, 'hex row outside a function'],
    ['a title without rows', `00:00.0 x\n\n01:00.0 y\n${rows(4)}`, 1, 'function 0000:00:00.0 has no hex rows'],
    ['a title directly after another', `00:00.0 x\n01:00.0 y\n${rows(4)}`, 1, 'has no hex rows'],
    ['a device number above 1f', `00:20.0 x\n${rows(4)}`, 1, 'device number 20 out of range'],
    ['an unrecognised line', `00:00.0 x\n${rows(4)}\nhello world\n`, 7, 'unrecognised line "hello world"'],
  ])('%s', (_what, text, line, message) => {
    const e = parseError(text);
    expect(e.name).toBe('DumpFormatError');
    expect(e.source).toBe('pc.txt');
    expect(e.line).toBe(line);
    expect(e.message).toContain(`pc.txt:${line}: `);
    expect(e.message).toContain(message);
  });
});
