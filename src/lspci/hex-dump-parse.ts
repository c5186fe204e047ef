// Reader for `lspci -x`/`-xxx`/`-xxxx` text (the format `lspci -F` accepts), strict enough
// that a damaged dump is reported at the line where it goes wrong instead of being decoded
// into plausible-looking nonsense.
import { slotName } from './bdf.js';
import { DumpFormatError } from './errors.js';
import { hex } from './hex.js';
import { HeaderType, Reg } from './registers.js';
import type { FunctionDump } from './types.js';

/** Slot name at the start of a title line, with or without domain; the rest is free text. */
const TITLE = /^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-9])(?=\s|$)/;
/** Start of a hex row: its offset and the colon. */
const ROW = /^([0-9a-fA-F]+):/;
const HEX_BYTE = /^[0-9a-fA-F]{2}$/;
const BYTES_PER_ROW = 16;
const MAX_CONFIG = 4096;
const CARDBUS_HEADER_LENGTH = 128;

interface Pending {
  fn: FunctionDump;
  titleLine: number;
  lastRowLine: number;
  bytes: number[];
}

/** Parse the 16 ` hh` groups after a row's colon; `start` is the index just past the colon. */
function parseRowBytes(line: string, start: number, fail: (msg: string) => never): number[] {
  const out: number[] = [];
  let pos = start;
  while (pos < line.length) {
    if (line[pos] !== ' ') fail(`expected a space before column ${pos + 2}, found "${line[pos]}" at column ${pos + 1}`);
    const token = /^\S*/.exec(line.slice(pos + 1))?.[0] ?? '';
    if (token === '') fail(`doubled space at column ${pos + 1}`);
    if (!HEX_BYTE.test(token)) fail(`bad hex byte "${token}" at column ${pos + 2}`);
    if (out.length === BYTES_PER_ROW) fail(`more than ${BYTES_PER_ROW} bytes in row (extra "${token}" at column ${pos + 2})`);
    out.push(parseInt(token, 16));
    pos += 1 + token.length;
  }
  if (out.length !== BYTES_PER_ROW) fail(`row has ${out.length} bytes, expected ${BYTES_PER_ROW}`);
  return out;
}

/**
 * Lengths a dump may legitimately stop at: the standard header (`-x`), the PCI space (`-xxx`)
 * or the PCIe extended space (`-xxxx`); a CardBus bridge's `-x` header is 128 bytes.
 */
function isCompleteLength(bytes: number[]): boolean {
  const n = bytes.length;
  if (n === 64 || n === 256 || n === MAX_CONFIG) return true;
  return n === CARDBUS_HEADER_LENGTH && ((bytes[Reg.headerType] ?? 0) & 0x7f) === HeaderType.cardbus;
}

/**
 * Parse the text printed by `lspci -x`, `-xxx` or `-xxxx` (also accepted: titles without
 * names, with or without a domain, CRLF line ends, and tab-indented `-v` decode lines, which
 * are skipped). Functions are returned in input order.
 *
 * @param source label used in error messages, usually the file name
 * @throws DumpFormatError naming `source`, the line and the problem: bad hex, wrong number of
 *   bytes in a row, rows out of order or missing, rows outside a function, a duplicate
 *   function, or a dump that stops at a length other than 64, 256 or 4096 bytes.
 */
export function parseLspciHexDump(text: string, source: string): FunctionDump[] {
  const result: FunctionDump[] = [];
  const seen = new Map<string, number>();
  let current: Pending | undefined;

  const finish = (): void => {
    if (current === undefined) return;
    const { fn, bytes, titleLine, lastRowLine } = current;
    const name = slotName(fn, true);
    if (bytes.length === 0) throw new DumpFormatError(source, titleLine, `function ${name} has no hex rows`);
    if (!isCompleteLength(bytes)) {
      throw new DumpFormatError(
        source,
        lastRowLine,
        `dump of ${name} stops after ${bytes.length} bytes; expected 64, 256 or 4096`,
      );
    }
    fn.config = Uint8Array.from(bytes);
    result.push(fn);
    current = undefined;
  };

  const lines = text.split('\n');
  // A final newline leaves one empty string that is not a line of its own.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const fail: (msg: string) => never = (msg) => {
      throw new DumpFormatError(source, lineNo, msg);
    };
    const line = raw.replace(/\s+$/, '');
    if (line === '') {
      finish();
      return;
    }
    if (/^\s/.test(line)) return; // verbose decode lines from `lspci -v -x`

    const title = TITLE.exec(line);
    if (title !== null) {
      finish();
      const [, seg, bus = '', dev = '', fnNo = ''] = title;
      const fn: FunctionDump = {
        seg: seg === undefined ? 0 : parseInt(seg, 16),
        bus: parseInt(bus, 16),
        dev: parseInt(dev, 16),
        fn: parseInt(fnNo, 10),
        config: new Uint8Array(0),
      };
      if (fn.dev > 0x1f) fail(`device number ${dev} out of range (00-1f)`);
      if (fn.fn > 7) fail(`function number ${fnNo} out of range (0-7)`);
      const key = slotName(fn, true);
      const first = seen.get(key);
      if (first !== undefined) fail(`duplicate function ${key} (first listed at line ${first})`);
      seen.set(key, lineNo);
      current = { fn, titleLine: lineNo, lastRowLine: lineNo, bytes: [] };
      return;
    }

    const row = ROW.exec(line);
    if (row === null) return fail(`unrecognised line "${line.length > 40 ? `${line.slice(0, 40)}...` : line}"`);
    if (current === undefined) return fail('hex row outside a function (no title line before it)');
    const offsetText = row[1] ?? '';
    const expected = current.bytes.length;
    if (expected >= MAX_CONFIG) fail(`row offset ${offsetText} beyond the ${MAX_CONFIG}-byte config space`);
    if (parseInt(offsetText, 16) !== expected) fail(`row offset ${offsetText} out of order (expected ${hex(expected, 2)})`);
    current.bytes.push(...parseRowBytes(line, row[0].length, fail));
    current.lastRowLine = lineNo;
  });
  finish();
  return result;
}
