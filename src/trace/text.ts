// vpci's line text format: one record per line, for people to read and write.
//
//   R mmio 0xfe000000 4 = 0x12345678     a read; "= VALUE" is the expected result (optional)
//   W io 0xcf8 4 0x80000000               a write
//   MW 0x10000 0102030405                 guest RAM write (hex bytes)
//   MR 0x11000 32 = 0102...               guest RAM read, expected bytes optional
//   CLOCK step 150000000 = 150000000      virtual clock step (or set); "= NOW" optional
//   IRQ 11 1                              interrupt line 11 went to level 1 (observed)
//   IRQ 3 1 /machine/ioapic unnamed-gpio-in   an injected input (path, name)
//   META irq_intercept_in ioapic = OK     a setup command, its reply optional
//   # comment (a whole line, or after a record)
import { LineReader, type ReaderOptions } from './reader.js';
import { accessProblem, type TraceAccess, type TraceEvent, type TraceSpace } from './model.js';
import { bytesToHex, hexToBytes, parseUint } from './lines.js';

/** The first line `writeTextTrace` writes, by which `detectFormat` knows the format. */
export const TEXT_HEADER = '# vpci trace text 1';

/** Reads vpci's line text format: one record per line (R, W, MW, MR, CLOCK, IRQ, META), `#` comments. */
export class TextTraceReader extends LineReader {
  constructor(options: ReaderOptions = {}) {
    super(options);
  }

  protected line(raw: string, line: number, out: TraceEvent[]): void {
    const hash = raw.indexOf('#');
    const text = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (text === '') return;
    const eq = text.indexOf(' = ');
    const head = (eq === -1 ? text : text.slice(0, eq)).split(/\s+/);
    const tail = eq === -1 ? undefined : text.slice(eq + 3).trim();
    const source = { line };
    const num = (s: string | undefined, field: string): bigint => {
      const v = s === undefined ? undefined : parseUint(s);
      if (v === undefined) this.fail(line, field, s === undefined ? 'missing' : `"${s}" is not a number`);
      return v;
    };
    const arity = (min: number, max: number): void => {
      if (head.length < min) this.fail(line, 'line', `"${head[0]}" needs ${min - 1} fields, has ${head.length - 1}`);
      if (head.length > max) this.fail(line, 'line', `unexpected "${head[max]}"`);
    };
    switch (head[0]) {
      case 'R':
      case 'W': {
        const write = head[0] === 'W';
        arity(write ? 5 : 4, write ? 5 : 4);
        if (write && tail !== undefined) this.fail(line, 'expected', 'a write has no "= value"');
        const space = head[1];
        if (space !== 'mmio' && space !== 'io') this.fail(line, 'space', `"${space}" is not mmio or io`);
        const addr = num(head[2], 'addr');
        const size = Number(num(head[3], 'size'));
        const a = { op: write ? 'write' : 'read', space: space as TraceSpace, addr, size, source } as TraceAccess;
        if (write) a.value = num(head[4], 'value');
        else if (tail !== undefined) a.expected = num(tail, 'expected');
        const problem = accessProblem(a);
        if (problem) this.fail(line, problem[0], problem[1]);
        out.push(a);
        return;
      }
      case 'MW': {
        arity(3, 3);
        const addr = num(head[1], 'addr');
        const data = hexToBytes(head[2]!);
        if (data === undefined || data.length === 0) this.fail(line, 'data', 'not an even number of hex digits');
        out.push({ op: 'memwrite', addr, data, source });
        return;
      }
      case 'MR': {
        arity(3, 3);
        const addr = num(head[1], 'addr');
        const size = Number(num(head[2], 'size'));
        const e: TraceEvent = { op: 'memread', addr, size, source };
        if (tail !== undefined) {
          const data = hexToBytes(tail);
          if (data === undefined || data.length !== size) this.fail(line, 'expected', `not ${size} hex bytes`);
          e.expected = data;
        }
        out.push(e);
        return;
      }
      case 'CLOCK': {
        arity(2, 3);
        const mode = head[1];
        if (mode !== 'step' && mode !== 'set') this.fail(line, 'mode', `"${mode}" is not step or set`);
        const e: TraceEvent = { op: 'clock', mode, source };
        if (head[2] !== undefined) e.ns = num(head[2], 'ns');
        if (mode === 'set' && e.ns === undefined) this.fail(line, 'ns', 'CLOCK set needs a value');
        if (tail !== undefined) e.expected = num(tail, 'expected');
        out.push(e);
        return;
      }
      case 'IRQ': {
        if (head.length !== 3 && head.length !== 5) this.fail(line, 'line', 'IRQ takes LINE LEVEL [PATH NAME]');
        if (tail !== undefined) this.fail(line, 'line', 'IRQ has no "= value"');
        const irqLine = num(head[1], 'irq');
        if (irqLine > 0xffffffffn) this.fail(line, 'irq', 'above 2^32-1');
        const lv = head[2]!;
        if (!/^-?[0-9]+$/.test(lv) || !Number.isSafeInteger(Number(lv))) this.fail(line, 'level', `"${lv}" is not an integer`);
        const e: TraceEvent = { op: 'irq', line: Number(irqLine), level: Number(lv), source };
        if (head.length === 5) e.inject = { path: head[3]!, name: head[4]! };
        out.push(e);
        return;
      }
      case 'META': {
        arity(2, Infinity);
        const e: TraceEvent = { op: 'meta', command: head[1]!, args: head.slice(2), source };
        if (tail !== undefined) e.reply = tail;
        out.push(e);
        return;
      }
      default:
        this.fail(line, 'op', `"${head[0]}" is not R, W, MW, MR, CLOCK, IRQ or META`);
    }
  }
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function word(s: string, field: string): string {
  if (s === '' || /[\s#]/.test(s) || s === '=') throw new RangeError(`${field}: "${s}" cannot be written as one word`);
  return s;
}

/** One record as a line (no newline). Throws RangeError for a record the format cannot hold. */
export function formatTextRecord(e: TraceEvent): string {
  switch (e.op) {
    case 'read':
    case 'write': {
      const problem = accessProblem(e);
      if (problem) throw new RangeError(`${problem[0]}: ${problem[1]}`);
      const head = `${e.op === 'read' ? 'R' : 'W'} ${e.space} ${hex(e.addr)} ${e.size}`;
      if (e.op === 'write') return `${head} ${hex(e.value!)}`;
      return e.expected === undefined ? head : `${head} = ${hex(e.expected)}`;
    }
    case 'memwrite':
      if (e.data.length === 0) throw new RangeError('data: empty');
      return `MW ${hex(e.addr)} ${bytesToHex(e.data)}`;
    case 'memread':
      if (e.expected !== undefined && e.expected.length !== e.size) throw new RangeError('expected: length differs from size');
      return `MR ${hex(e.addr)} ${e.size}${e.expected === undefined ? '' : ` = ${bytesToHex(e.expected)}`}`;
    case 'clock':
      return `CLOCK ${e.mode}${e.ns === undefined ? '' : ` ${e.ns}`}${e.expected === undefined ? '' : ` = ${e.expected}`}`;
    case 'irq':
      return `IRQ ${e.line} ${e.level}${e.inject ? ` ${word(e.inject.path, 'path')} ${word(e.inject.name, 'name')}` : ''}`;
    case 'meta': {
      const args = [word(e.command, 'command'), ...e.args.map((a) => word(a, 'args'))].join(' ');
      if (e.reply !== undefined && (e.reply.trim() !== e.reply || e.reply === '' || /[#\n]/.test(e.reply))) {
        throw new RangeError(`reply: "${e.reply}" cannot be written`);
      }
      return `META ${args}${e.reply === undefined ? '' : ` = ${e.reply}`}`;
    }
  }
}

/** Records to text: the header line, then one line per record, each ending in "\n". */
export function writeTextTrace(events: Iterable<TraceEvent>, options: { header?: boolean } = {}): string {
  const lines = options.header === false ? [] : [TEXT_HEADER];
  for (const e of events) lines.push(formatTextRecord(e));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
