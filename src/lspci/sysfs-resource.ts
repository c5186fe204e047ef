// Linux sysfs `resource` files: one `0xSTART 0xEND 0xFLAGS` line per resource, in the order
// BAR0-5, expansion ROM, then bridge windows / SR-IOV BARs that we report only as flags.
import { DumpFormatError } from './errors.js';
import type { BarSize } from './types.js';

/** What a sysfs `resource` file says about a function's BARs. */
export interface SysfsResources {
  /** Sizes of the BARs (0-5) and ROM (6) that are implemented, i.e. whose end is non-zero. */
  bars: BarSize[];
  /** Linux IORESOURCE_* flags of every line, in file order. */
  flags: bigint[];
}

const FIELD = /^0x[0-9a-fA-F]{1,16}$/;
const LAST_BAR_LINE = 6;

/** A size as a plain number when exact, a bigint for the few BARs beyond 2^53 bytes. */
function toSize(size: bigint): number | bigint {
  return size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : size;
}

/**
 * Parse resource lines starting at `firstLineNo` (1-based, for messages). Shared with the
 * Firecracker `.info` reader, whose resource lines follow a header line.
 */
export function parseResourceLines(lines: readonly string[], source: string, firstLineNo: number): SysfsResources {
  const bars: BarSize[] = [];
  const flags: bigint[] = [];
  lines.forEach((raw, i) => {
    const lineNo = firstLineNo + i;
    if (raw.trim() === '') throw new DumpFormatError(source, lineNo, 'empty line (line N describes resource N, so none may be skipped)');
    const fields = raw.trim().split(/\s+/);
    if (fields.length !== 3) {
      throw new DumpFormatError(source, lineNo, `expected "0xSTART 0xEND 0xFLAGS", found ${fields.length} field(s)`);
    }
    fields.forEach((f, col) => {
      if (!FIELD.test(f)) throw new DumpFormatError(source, lineNo, `bad hex number "${f}" in field ${col + 1}`);
    });
    const [start, end, flag] = fields.map((f) => BigInt(f)) as [bigint, bigint, bigint];
    if (end !== 0n && end < start) {
      throw new DumpFormatError(source, lineNo, `resource ends (0x${end.toString(16)}) before it starts (0x${start.toString(16)})`);
    }
    flags.push(flag);
    if (i <= LAST_BAR_LINE && end !== 0n) bars.push({ index: i, size: toSize(end - start + 1n) });
  });
  return { bars, flags };
}

/** Split text into lines without CRs, dropping blank lines at the end of the text. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

/**
 * Parse a sysfs `resource` file. Line N describes BAR N (N = 0-5) and line 6 the expansion
 * ROM; a resource whose end is 0 is not implemented. Later lines contribute only flags.
 *
 * @param source label used in error messages, usually the file name
 * @throws DumpFormatError naming `source` and the line for a malformed line
 */
export function parseSysfsResource(text: string, source: string): SysfsResources {
  return parseResourceLines(splitLines(text), source, 1);
}
