// Reading a trace file in chunks (Node): the format from the first bytes unless forced, a reader
// fed chunk by chunk, and a progress bar on a TTY for files worth waiting on.
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { ArgumentError } from '../errors.js';
import { createReader, detectFormat } from '../trace/index.js';
import type { TraceEvent, TraceFormat, TraceReader } from '../trace/index.js';

export const FORMATS: readonly TraceFormat[] = ['vpci-binary', 'vpci-text', 'qtest', 'qtest-log', 'kvm'];
const CHUNK = 1 << 20;

export interface TraceInputOptions {
  format?: TraceFormat;
  keepGoing?: boolean;
  /** Show a progress bar (stderr is a TTY and the file is large). */
  progress?: boolean;
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
  let format = options.format;
  let read = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      const bytes = chunk as Buffer;
      if (reader === undefined) {
        format ??= detectFormat(bytes);
        if (format === undefined) throw new ArgumentError(`${file}: the trace format is not recognised (force one with --format: ${FORMATS.join(', ')})`);
        reader = createReader(format, { source: file, keepGoing: options.keepGoing });
      }
      sink(reader.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
      read += bytes.byteLength;
      bar?.update(Math.floor(read / CHUNK));
    }
    if (reader === undefined) {
      format ??= 'vpci-text';
      reader = createReader(format, { source: file, keepGoing: options.keepGoing });
    }
    sink(reader.end());
  } finally {
    bar?.stop();
  }
  return { format: format!, reader, bytes: read };
}
