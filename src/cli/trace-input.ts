// Reading a trace file in chunks (Node): the format from the first bytes unless forced, a reader
// fed chunk by chunk, and a progress bar on a TTY for files worth waiting on.
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { ArgumentError } from '../errors.js';
import { BINARY_FLAG_LINES, BINARY_FLAG_MEMORY, BINARY_HEADER_SIZE, TraceFormatError, createReader, detectFormat } from '../trace/index.js';
import type { BinaryTraceReader, TraceEvent, TraceFormat, TraceReader } from '../trace/index.js';

export const FORMATS: readonly TraceFormat[] = ['vpci-binary', 'vpci-text', 'qtest', 'qtest-log', 'kvm'];
const CHUNK = 1 << 20;

export interface TraceInputOptions {
  format?: TraceFormat;
  keepGoing?: boolean;
  /** Show a progress bar (stderr is a TTY and the file is large). */
  progress?: boolean;
  /**
   * For a vpci binary trace: takes the records as raw batch-record bytes instead of decoded
   * events (the header is still read and checked by the reader), with the header's flags. Not
   * with keepGoing: raw records are not checked one by one (the core counts bad accesses as
   * invalid; the consumer checks the memory records it applies, and throws).
   */
  rawRecords?: (records: Uint8Array, flags: RawRecordFlags) => void;
}

/** What a binary trace's header flags say about its records. */
export interface RawRecordFlags {
  /** Bit 0: the reserved word holds the source line. */
  lines: boolean;
  /** Bit 1: op-5 records are guest-RAM bytes (memory records), not accesses. */
  memory: boolean;
}

/** Splits a binary trace's body into whole records for a raw consumer; checks the end. */
class RawBody {
  private rest = new Uint8Array(0);
  private seen = 0n;

  constructor(private readonly file: string, private readonly count: bigint, private readonly sink: (r: Uint8Array) => void) {}

  push(bytes: Uint8Array): void {
    let data = bytes;
    if (this.rest.length > 0) {
      data = new Uint8Array(this.rest.length + bytes.length);
      data.set(this.rest);
      data.set(bytes, this.rest.length);
    }
    const whole = data.length - (data.length % 24);
    this.rest = data.slice(whole);
    if (whole > 0) {
      this.seen += BigInt(whole / 24);
      if (this.count !== 0n && this.seen > this.count) throw new TraceFormatError({ source: this.file, record: Number(this.count), field: 'count' }, `data after the ${this.count} records the header announces`);
      this.sink(data.subarray(0, whole));
    }
  }

  end(): void {
    if (this.rest.length > 0) throw new TraceFormatError({ source: this.file, record: Number(this.seen), field: 'record' }, `truncated: ${this.rest.length} of 24 bytes`);
    if (this.count !== 0n && this.seen < this.count) throw new TraceFormatError({ source: this.file, record: Number(this.seen), field: 'count' }, `the header announces ${this.count} records, the file holds ${this.seen}`);
  }
}

/**
 * Streams `file` through a reader, handing each chunk's events to `sink`. Returns the format and
 * the reader (its warnings). Errors (unreadable file, unknown format, bad content) name the file.
 */
export async function readTraceFile(
  file: string, options: TraceInputOptions, sink: (events: TraceEvent[]) => void,
): Promise<{ format: TraceFormat; reader: TraceReader; bytes: number }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new ArgumentError(`${file}: cannot read the trace: ${(e as Error).message}`);
  }
  const bar = options.progress && process.stderr.isTTY && size > 4 * CHUNK
    ? new cliProgress.SingleBar({ format: `${basename(file)} [{bar}] {percentage}% | {value}/{total} MiB | {eta}s`, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(Math.ceil(size / CHUNK), 0);
  let reader: TraceReader | undefined;
  let raw: RawBody | undefined;
  let format = options.format;
  let read = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      const bytes = new Uint8Array((chunk as Buffer).buffer, (chunk as Buffer).byteOffset, (chunk as Buffer).byteLength);
      read += bytes.byteLength;
      bar?.update(Math.floor(read / CHUNK));
      if (raw) {
        raw.push(bytes);
        continue;
      }
      if (reader === undefined) {
        format ??= detectFormat(bytes);
        if (format === undefined) throw new ArgumentError(`${file}: the trace format is not recognised (force one with --format: ${FORMATS.join(', ')})`);
        reader = createReader(format, { source: file, keepGoing: options.keepGoing });
      }
      if (format === 'vpci-binary' && options.rawRecords && !options.keepGoing) {
        // The header through the reader (it checks magic, version, layout), the body raw.
        const header = (reader as BinaryTraceReader);
        const take = Math.min(bytes.length, BINARY_HEADER_SIZE);
        sink(header.push(bytes.subarray(0, take)));
        if (header.header === undefined) continue;
        const h = header.header;
        const rawSink = options.rawRecords;
        const flags = { lines: (h.flags & BINARY_FLAG_LINES) !== 0, memory: (h.flags & BINARY_FLAG_MEMORY) !== 0 };
        raw = new RawBody(file, h.count, (records) => rawSink(records, flags));
        raw.push(bytes.subarray(take));
        continue;
      }
      sink(reader.push(bytes));
    }
    if (reader === undefined) {
      format ??= 'vpci-text';
      reader = createReader(format, { source: file, keepGoing: options.keepGoing });
    }
    if (raw) raw.end();
    else sink(reader.end());
  } finally {
    bar?.stop();
  }
  return { format: format!, reader, bytes: read };
}
