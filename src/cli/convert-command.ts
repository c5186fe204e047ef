// `vpci convert IN OUT`: reads a trace in any format vpci reads and writes it as a vpci binary or
// text trace (the formats vpci writes). The output format comes from --to or OUT's extension
// (.vtr / .bin: binary, anything else: text). The events are held in memory to write the header.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ArgumentError } from '../errors.js';
import { writeBinaryTrace, writeTextTrace } from '../trace/index.js';
import type { TraceEvent, TraceFormat } from '../trace/index.js';
import { FORMATS, readTraceFile } from './trace-input.js';

interface ConvertOptions {
  from?: TraceFormat;
  to?: 'binary' | 'text';
  keepGoing?: boolean;
}

export function convertCommand(): Command {
  return new Command('convert')
    .argument('<in>', 'trace to read')
    .argument('<out>', 'file to write')
    .description('convert a trace (vpci binary/text, QEMU qtest, KVM trace events) to vpci binary or text')
    .addOption(new Option('--from <format>', 'the input format (default: detected)').choices([...FORMATS]))
    .addOption(new Option('--to <format>', 'the output format (default: from the extension: .vtr/.bin binary, else text)').choices(['binary', 'text']))
    .option('--keep-going', 'skip bad lines or records (counted) instead of stopping at the first')
    .action(async (input: string, output: string, options: ConvertOptions) => {
      const events: TraceEvent[] = [];
      const read = await readTraceFile(input, { format: options.from, keepGoing: options.keepGoing, progress: true }, (e) => { events.push(...e); });
      const to = options.to ?? (/\.(vtr|bin)$/i.test(output) ? 'binary' : 'text');
      let data: Uint8Array | string;
      if (to === 'binary') {
        // Layout 1 holds accesses only: the other events (guest memory, clock, IRQ) stay in text traces.
        const accesses = events.filter((e) => e.op === 'read' || e.op === 'write');
        const dropped = events.length - accesses.length;
        if (dropped > 0) process.stderr.write(`vpci: convert: ${dropped} events that are not device accesses (guest memory, clock, IRQ, meta) have no binary record and were left out\n`);
        data = writeBinaryTrace(accesses);
      } else {
        data = writeTextTrace(events);
      }
      try {
        writeFileSync(output, data);
      } catch (e) {
        throw new ArgumentError(`${output}: cannot write: ${(e as Error).message}`);
      }
      process.stderr.write(`vpci: ${input} (${read.format}, ${events.length} events) -> ${output} (${to})${read.reader.warningCount ? `, ${read.reader.warningCount} warnings skipped` : ''}\n`);
    });
}
