// `vpci convert IN OUT`: reads a trace in any format vpci reads and writes it as a vpci binary or
// text trace (the formats vpci writes). The output format comes from --to or OUT's extension
// (.vtr / .bin: binary, anything else: text). The events are held in memory to write the header.
// A binary trace gets memory records (header flag bit 1) only when the input has guest-RAM
// writes, so a trace of accesses alone stays readable by readers that predate them.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ArgumentError } from '../errors.js';
import { isAccess, writeBinaryTrace, writeTextTrace } from '../trace/index.js';
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
        // Accesses and guest-RAM writes have records; RAM reads, clock, IRQ and meta stay in text traces.
        const kept = events.filter((e) => isAccess(e) || e.op === 'memwrite');
        const dropped = events.length - kept.length;
        if (dropped > 0) process.stderr.write(`vpci: convert: ${dropped} events that are neither device accesses nor guest-RAM writes (RAM reads, clock, IRQ, meta) have no binary record and were left out\n`);
        data = writeBinaryTrace(kept, { memory: kept.some((e) => e.op === 'memwrite') });
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
