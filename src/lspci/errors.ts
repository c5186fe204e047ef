/**
 * Raised by every parser in this module when its input does not have the expected shape.
 * The message always starts with `source:line:` so a user can find the offending line.
 */
export class DumpFormatError extends Error {
  /** Where the bad input came from (file name or other label given by the caller). */
  readonly source: string;
  /** 1-based line number of the offending line. */
  readonly line: number;

  constructor(source: string, line: number, problem: string) {
    super(`${source}:${line}: ${problem}`);
    this.name = 'DumpFormatError';
    this.source = source;
    this.line = line;
  }
}
