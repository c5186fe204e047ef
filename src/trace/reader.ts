// The streaming reader interface every format implements, and the base of the line formats.
import { Diagnostics, TraceFormatError, type DiagnosticOptions, type TraceWarning } from './errors.js';
import { LineSplitter } from './lines.js';
import type { TraceEvent } from './model.js';

/** Options every trace reader takes. */
export type ReaderOptions = DiagnosticOptions;

/** Chunks in (text or bytes, any sizes), records out, in order. */
export interface TraceReader {
  /** Feeds a chunk; returns the records it completed. */
  push(chunk: string | Uint8Array): TraceEvent[];
  /** Ends the input; returns the last records, or throws when the input is truncated. */
  end(): TraceEvent[];
  /** keepGoing mode: how many problems were skipped, and the first of them. */
  readonly warningCount: number;
  /** The problems skipped in keepGoing mode, up to `maxWarnings` of them. */
  readonly warnings: readonly TraceWarning[];
}

/** A line format: subclasses turn one line into records. */
export abstract class LineReader implements TraceReader {
  protected readonly diag: Diagnostics;
  private readonly splitter = new LineSplitter();

  constructor(options: ReaderOptions = {}) {
    this.diag = new Diagnostics(options);
  }

  get warningCount(): number {
    return this.diag.warningCount;
  }

  get warnings(): readonly TraceWarning[] {
    return this.diag.warnings;
  }

  push(chunk: string | Uint8Array): TraceEvent[] {
    const out: TraceEvent[] = [];
    try {
      this.splitter.push(chunk, (text, line) => this.guard(() => this.line(text, line, out)));
    } catch (e) {
      if (e instanceof RangeError) throw this.diag.error({ line: this.splitter.line, field: 'line' }, e.message);
      throw e;
    }
    return out;
  }

  end(): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.splitter.end((text, line) => this.guard(() => this.line(text, line, out)));
    this.guard(() => this.finish(out, this.splitter.line));
    return out;
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof TraceFormatError) this.diag.report(e);
      else throw e;
    }
  }

  protected fail(line: number, field: string, problem: string): never {
    throw this.diag.error({ line, field }, problem);
  }

  /** Parses one line (without its newline) and appends its records to `out`. */
  protected abstract line(text: string, line: number, out: TraceEvent[]): void;

  /** Called once at the end; `nextLine` is one past the last line. */
  protected finish(_out: TraceEvent[], _nextLine: number): void {}
}

/** Reads a whole input (one string or byte array, or a list of chunks) with `reader`. */
export function readAll(reader: TraceReader, input: string | Uint8Array | Iterable<string | Uint8Array>): TraceEvent[] {
  const out: TraceEvent[] = [];
  const chunks = typeof input === 'string' || input instanceof Uint8Array ? [input] : input;
  for (const c of chunks) for (const e of reader.push(c)) out.push(e);
  for (const e of reader.end()) out.push(e);
  return out;
}

/** Streams records from async chunks (a fetch body, a file stream) without holding the whole input. */
export async function* readStream(
  reader: TraceReader,
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<TraceEvent> {
  for await (const c of chunks) yield* reader.push(c);
  yield* reader.end();
}
