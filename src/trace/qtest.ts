// QEMU qtest: command scripts (the protocol's request lines, one per line) and `-qtest-log`
// logs (`[R +t] command`, `[S +t] reply`, `[I +t] OPENED|CLOSED`). In a log, each command's
// reply fills in what a read returned (`expected`); `IRQ raise|lower N` lines become irq events,
// placed after the access whose reply they preceded (they are its effect).
import { LineReader, type ReaderOptions } from './reader.js';
import { accessProblem, maskFor, type AccessSize, type TraceAccess, type TraceEvent, type TraceSpace } from './model.js';
import { base64ToBytes, hexToBytes, parseUint } from './lines.js';

/** Guest RAM commands (read/write/memset/b64*) larger than this are refused. */
export const MAX_QTEST_BUFFER = 1 << 24;

const IO_SIZES: Record<string, AccessSize> = { b: 1, w: 2, l: 4, q: 8 };

/** A command waiting for its reply: turns the reply (undefined in a script) into records. */
interface Pending {
  line: number;
  command: string;
  build(reply: string | undefined): TraceEvent[];
}

/**
 * Reads QEMU qtest command scripts and `-qtest-log` logs; in a log each reply fills in what a read
 * returned, and `IRQ raise|lower` lines become irq events.
 */
export class QtestReader extends LineReader {
  /** How many lines of each command word were read (plus "IRQ", "OPENED", "CLOSED"). */
  readonly commandCounts: Record<string, number> = {};
  /** 'log' or 'script', once the first meaningful line has decided it. */
  mode: 'log' | 'script' | undefined;
  private pending: Pending | undefined;
  private held: TraceEvent[] = [];
  /** The line of the reply being applied (reply errors name it, not the command's line). */
  private replyLine = 0;

  constructor(options: ReaderOptions = {}) {
    super(options);
  }

  private count(word: string): void {
    this.commandCounts[word] = (this.commandCounts[word] ?? 0) + 1;
  }

  protected line(raw: string, line: number, out: TraceEvent[]): void {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const m = /^\[([RSI]) \+?([0-9]+(?:\.[0-9]*)?)\] ?(.*)$/.exec(text);
    const mode = m ? 'log' : 'script';
    this.mode ??= mode;
    if (mode !== this.mode) this.fail(line, 'line', `a ${mode} line in a qtest ${this.mode}`);
    if (!m) {
      this.parse(text, line).build(undefined).forEach((e) => out.push(e));
      return;
    }
    const body = m[3]!.trim();
    switch (m[1]) {
      case 'I':
        if (body !== 'OPENED' && body !== 'CLOSED') this.fail(line, 'line', `"${body}" is not OPENED or CLOSED`);
        this.count(body);
        return;
      case 'R': {
        let lost: unknown;
        if (this.pending) {
          try {
            this.orphan(out);
          } catch (e) {
            lost = e;
          }
        }
        this.pending = this.parse(body, line);
        if (lost !== undefined) throw lost;
        return;
      }
      case 'S': {
        const irq = /^IRQ (raise|lower) ([0-9]+)$/.exec(body);
        if (irq) {
          this.count('IRQ');
          const e: TraceEvent = { op: 'irq', line: Number(irq[2]), level: irq[1] === 'raise' ? 1 : 0, source: { line, command: 'IRQ' } };
          if (this.pending) this.held.push(e);
          else out.push(e);
          return;
        }
        if (body.startsWith('IRQ')) this.fail(line, 'reply', `"${body}" is not IRQ raise|lower N`);
        const p = this.pending;
        if (!p) this.fail(line, 'reply', `"${body}" answers no command`);
        this.pending = undefined;
        const held = this.held;
        this.held = [];
        this.replyLine = line;
        try {
          p.build(body).forEach((e) => out.push(e));
        } finally {
          held.forEach((e) => out.push(e));
        }
        return;
      }
    }
  }

  protected override finish(out: TraceEvent[]): void {
    if (this.pending) this.orphan(out);
  }

  /** A logged command that never got its reply: the log is truncated (or the command hung). */
  private orphan(out: TraceEvent[]): void {
    const p = this.pending!;
    this.pending = undefined;
    const held = this.held;
    this.held = [];
    held.forEach((e) => out.push(e));
    this.fail(p.line, 'reply', `"${p.command}" has no reply (truncated log?)`);
  }

  /** Parses one request line. */
  private parse(text: string, line: number): Pending {
    const w = text.split(/\s+/);
    const cmd = w[0]!;
    const args = w.slice(1);
    const src = { line, command: cmd };
    const want = (n: number, usage: string): void => {
      if (args.length !== n) this.fail(line, 'args', `${cmd} takes ${usage}, got ${args.length} arguments`);
    };
    const num = (i: number, field: string): bigint => {
      const v = parseUint(args[i]!);
      if (v === undefined) this.fail(line, field, `"${args[i]}" is not a number`);
      return v;
    };
    const checked = (a: TraceAccess): TraceAccess => {
      const problem = accessProblem(a);
      if (problem) this.fail(line, problem[0], problem[1]);
      return a;
    };
    const replyNumber = (reply: string, size: number): bigint => {
      const m = /^OK (0x[0-9a-fA-F]+)$/.exec(reply);
      if (!m) this.fail(this.replyLine, 'reply', `"${reply}" is not OK 0x...`);
      const v = BigInt(m[1]!);
      if (v > maskFor(size)) this.fail(this.replyLine, 'reply', `${m[1]} is wider than ${size} bytes`);
      return v;
    };
    const ok = (reply: string | undefined): void => {
      if (reply !== undefined && reply !== 'OK') this.fail(this.replyLine, 'reply', `"${reply}" is not OK`);
    };
    const bufSize = (i: number): number => {
      const n = num(i, 'size');
      if (n > BigInt(MAX_QTEST_BUFFER)) this.fail(line, 'size', `${n} is above ${MAX_QTEST_BUFFER}`);
      return Number(n);
    };
    this.count(cmd);
    const accessCmd = /^(out|in)([bwl])$|^(write|read)([bwlq])$/.exec(cmd);
    if (accessCmd) {
      const space: TraceSpace = accessCmd[1] ? 'io' : 'mmio';
      const write = (accessCmd[1] ?? accessCmd[3]) === 'out' || accessCmd[3] === 'write';
      const size = IO_SIZES[accessCmd[2] ?? accessCmd[4]!]!;
      want(write ? 2 : 1, write ? 'ADDR VALUE' : 'ADDR');
      const base = { space, addr: num(0, 'addr'), size, source: src };
      if (write) {
        const a = checked({ op: 'write', ...base, value: num(1, 'value') });
        return { line, command: cmd, build: (reply) => (ok(reply), [a]) };
      }
      const a = checked({ op: 'read', ...base });
      return {
        line, command: cmd,
        build: (reply) => (reply === undefined ? [a] : [{ ...a, expected: replyNumber(reply, size) }]),
      };
    }
    switch (cmd) {
      case 'read':
      case 'b64read': {
        want(2, 'ADDR SIZE');
        const addr = num(0, 'addr');
        const size = bufSize(1);
        return {
          line, command: cmd,
          build: (reply) => {
            const e: TraceEvent = { op: 'memread', addr, size, source: src };
            if (reply !== undefined) {
              const m = /^OK (\S*)$/.exec(reply);
              const data = m ? (cmd === 'read' ? hexToBytes(m[1]!) : base64ToBytes(m[1]!)) : undefined;
              if (data === undefined || data.length !== size) this.fail(this.replyLine, 'reply', `"${reply.slice(0, 40)}" is not OK and ${size} bytes`);
              e.expected = data;
            }
            return [e];
          },
        };
      }
      case 'write':
      case 'b64write':
      case 'memset': {
        want(3, cmd === 'memset' ? 'ADDR SIZE VALUE' : 'ADDR SIZE DATA');
        const addr = num(0, 'addr');
        const size = bufSize(1);
        const data = new Uint8Array(size);
        if (cmd === 'memset') {
          const v = num(2, 'value');
          if (v > 0xffn) this.fail(line, 'value', `0x${v.toString(16)} is wider than 1 byte`);
          data.fill(Number(v));
        } else {
          const given = cmd === 'write' ? (args[2]!.startsWith('0x') ? hexToBytes(args[2]!) : undefined) : base64ToBytes(args[2]!);
          if (given === undefined) this.fail(line, 'data', `not ${cmd === 'write' ? '0x and hex bytes' : 'base64'}`);
          if (given.length > size) this.fail(line, 'data', `${given.length} bytes, more than the size ${size}`);
          data.set(given); // qtest zero-fills what the data does not cover
        }
        const e: TraceEvent = { op: 'memwrite', addr, data, source: src };
        return { line, command: cmd, build: (reply) => (ok(reply), [e]) };
      }
      case 'clock_step':
      case 'clock_set': {
        if (cmd === 'clock_set') want(1, 'NS');
        else if (args.length > 1) this.fail(line, 'args', 'clock_step takes [NS]');
        const e: TraceEvent = { op: 'clock', mode: cmd === 'clock_set' ? 'set' : 'step', source: src };
        if (args.length === 1) e.ns = num(0, 'ns');
        return {
          line, command: cmd,
          build: (reply) => {
            if (reply === undefined) return [e];
            const m = /^OK ([0-9]+)$/.exec(reply);
            if (!m) this.fail(this.replyLine, 'reply', `"${reply}" is not OK <ns>`);
            return [{ ...e, expected: BigInt(m[1]!) }];
          },
        };
      }
      case 'set_irq_in': {
        want(4, 'PATH NAME NUM LEVEL');
        const n = num(2, 'irq');
        const lv = args[3]!;
        if (!/^-?[0-9]+$/.test(lv)) this.fail(line, 'level', `"${lv}" is not an integer`);
        const e: TraceEvent = { op: 'irq', line: Number(n), level: Number(lv), inject: { path: args[0]!, name: args[1]! }, source: src };
        return { line, command: cmd, build: (reply) => (ok(reply), [e]) };
      }
      case 'irq_intercept_in':
      case 'irq_intercept_out':
      case 'endianness': {
        if (cmd === 'endianness') want(0, 'no arguments');
        else want(1, 'PATH');
        return {
          line, command: cmd,
          build: (reply) => {
            const e: TraceEvent = { op: 'meta', command: cmd, args, source: src };
            if (reply !== undefined) {
              if (!reply.startsWith('OK')) this.fail(this.replyLine, 'reply', `"${reply}" is not OK`);
              const rest = reply.slice(2).trim();
              if (rest !== '') e.reply = rest;
            }
            return [e];
          },
        };
      }
      default:
        this.commandCounts[cmd]!--;
        this.fail(line, 'command', `"${cmd}" is not a qtest command this reader knows`);
    }
  }
}
