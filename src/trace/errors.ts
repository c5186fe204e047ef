// The trace layer's error: it names the source (a file name the caller gives), the place inside
// it (a line of a text format, a record of the binary format) and the field that is wrong.
import { VpciError } from '../errors.js';

/** Where in a trace a problem is: the source, a line (text formats) or record (binary), and the field. */
export interface TracePlace {
  /** The file name (or any label) the caller gave; default "trace". */
  source: string;
  /** 1-based line of a line format. */
  line?: number;
  /** 0-based record index of the binary format (the header is not a record). */
  record?: number;
  /** The field: "magic", "version", "addr", "size", "value", "command", ... */
  field: string;
}

/** A trace cannot be read or written: `FILE:LINE: field: problem` or `FILE: record N: field: problem`. */
export class TraceFormatError extends VpciError {
  override name = 'TraceFormatError';
  readonly source: string;
  readonly line?: number;
  readonly record?: number;
  readonly field: string;
  constructor(place: TracePlace, readonly problem: string) {
    super(`${describePlace(place)}: ${place.field}: ${problem}`);
    this.source = place.source;
    this.field = place.field;
    if (place.line !== undefined) this.line = place.line;
    if (place.record !== undefined) this.record = place.record;
  }
}

function describePlace(p: TracePlace): string {
  if (p.line !== undefined) return `${p.source}:${p.line}`;
  if (p.record !== undefined) return `${p.source}: record ${p.record}`;
  return p.source;
}

/** What `keepGoing` mode collects instead of throwing. */
export interface TraceWarning {
  source: string;
  line?: number;
  record?: number;
  field: string;
  problem: string;
  message: string;
}

/**
 * How a reader reports problems: the source it names, and whether to skip bad lines or records as
 * warnings instead of throwing.
 */
export interface DiagnosticOptions {
  /** Named in every error; default "trace". */
  source?: string;
  /** Count problems as warnings (the bad line or record is skipped) instead of throwing. */
  keepGoing?: boolean;
  /** How many warnings to keep in `warnings` (all are counted); default 100. */
  maxWarnings?: number;
}

/** Throws or, in keepGoing mode, records a warning. Shared by every reader. */
export class Diagnostics {
  readonly source: string;
  readonly keepGoing: boolean;
  readonly warnings: TraceWarning[] = [];
  warningCount = 0;
  private readonly maxWarnings: number;

  constructor(options: DiagnosticOptions = {}) {
    this.source = options.source ?? 'trace';
    this.keepGoing = options.keepGoing ?? false;
    this.maxWarnings = options.maxWarnings ?? 100;
  }

  error(place: Omit<TracePlace, 'source'>, problem: string): TraceFormatError {
    return new TraceFormatError({ source: this.source, ...place }, problem);
  }

  /** Throws, or (keepGoing) counts the problem; the caller then skips the bad item. */
  report(err: TraceFormatError): void {
    if (!this.keepGoing) throw err;
    this.warningCount++;
    if (this.warnings.length < this.maxWarnings) {
      const w: TraceWarning = { source: err.source, field: err.field, problem: err.problem, message: err.message };
      if (err.line !== undefined) w.line = err.line;
      if (err.record !== undefined) w.record = err.record;
      this.warnings.push(w);
    }
  }
}
