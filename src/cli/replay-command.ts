// `vpci replay TRACE`: streams a trace (vpci binary or text, QEMU qtest script or log, KVM trace
// events) through the core in batches against a topology, checks recorded reads with --verify,
// and prints the summary (or JSON). Exit status 3 when --verify found mismatches.
import { Command, Option } from 'commander';
import { statSync } from 'node:fs';
import { ArgumentError } from '../errors.js';
import { replayCorpus } from './replay-corpus.js';
import type { CorpusReport } from './replay-corpus.js';
import { TraceReplayer } from '../replay/index.js';
import type { ReplaySummary } from '../replay/index.js';
import type { TraceFormat } from '../trace/index.js';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';
import { FORMATS, readTraceFile } from './trace-input.js';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The merged report of a corpus as text: totals, then one line per trace. */
function corpusText(dir: string, r: CorpusReport): string {
  const lines = [
    `vpci replay: ${dir}: ${r.traces} traces, ${r.failed} failed; records ${r.records} (reads ${r.reads}, writes ${r.writes}), ` +
      `verified ${r.verified}, mismatches ${r.mismatches}, aborts ${r.aborts}; ${r.seconds.toFixed(3)} s`,
  ];
  for (const o of r.outcomes) {
    lines.push(o.error !== undefined ? `  ${o.file}: FAILED: ${o.error}`
      : `  ${o.file}: ${o.summary!.records} records, ${o.summary!.mismatches} mismatches, ${o.summary!.aborts} aborts`);
  }
  return `${lines.join('\n')}\n`;
}

interface ReplayCliOptions extends BusCliOptions {
  jobs: string;
  verify?: boolean;
  json?: boolean;
  format?: TraceFormat;
  keepGoing?: boolean;
  ramMib: string;
}

export const VERIFY_FAILED = 3;

const hx = (v: bigint) => `0x${v.toString(16)}`;

/** The summary as JSON-safe data (bigints as hex strings). */
export function summaryJson(s: ReplaySummary, extra: Record<string, unknown> = {}): unknown {
  return {
    ...extra,
    records: s.records, reads: s.reads, writes: s.writes, verified: s.verified, mismatches: s.mismatches,
    aborts: s.aborts, invalid: s.invalid, modelErrors: s.modelErrors, memory: s.memory, interrupts: s.interrupts,
    dmaFaults: s.dmaFaults, ignored: s.ignored, devices: s.devices, seconds: s.seconds, recordsPerSecond: s.recordsPerSecond,
    mismatchList: s.mismatchList.map((m) => ({ ...m, expected: hx(m.expected), actual: hx(m.actual) })),
  };
}

/** The summary as text. */
export function summaryText(s: ReplaySummary): string {
  const lines = [
    `  records ${s.records} (reads ${s.reads}, writes ${s.writes}), verified ${s.verified}, mismatches ${s.mismatches}, aborts ${s.aborts}, invalid ${s.invalid}, model errors ${s.modelErrors}`,
    `  guest memory: ${s.memory.writes} writes, ${s.memory.reads} reads (${s.memory.mismatches} mismatched, ${s.memory.outside} outside the replay RAM)`,
    `  interrupts raised: ${s.interrupts.lineChanges} line changes, ${s.interrupts.messages} MSI/MSI-X messages; recorded in the trace: ${s.interrupts.recorded}`,
    `  DMA faults ${s.dmaFaults}; events needing no bus (clock, meta): ${s.ignored}`,
    `  ${s.records} records in ${s.seconds.toFixed(3)} s: ${(s.recordsPerSecond / 1e6).toFixed(2)} M records/s`,
  ];
  if (s.devices.length > 0) lines.push(`  per device: ${s.devices.map((d) => `${d.bdf} ${d.reads}r/${d.writes}w`).join(', ')}`);
  if (s.mismatchList.length > 0) {
    lines.push(`mismatches${s.mismatchList.length < s.mismatches ? ` (first ${s.mismatchList.length})` : ''}:`);
    for (const m of s.mismatchList) {
      lines.push(`  record ${m.record}${m.line !== undefined ? ` (line ${m.line})` : ''}: ${m.access}: ${m.meaning}: expected ${hx(m.expected)}, got ${hx(m.actual)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function replayCommand(): Command {
  return withBusOptions(new Command('replay'))
    .argument('<trace>', 'trace file')
    .description('replay a trace (vpci binary/text, QEMU qtest script or -qtest-log, KVM trace events) against the topology')
    .option('--verify', 'compare every read that has a recorded value; exit status 3 on a mismatch')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('--format <format>', 'the trace format (default: detected from the content)').choices([...FORMATS]))
    .option('--keep-going', 'skip bad lines or records (counted as warnings) instead of stopping at the first')
    .option('--ram-mib <n>', 'guest RAM at address 0 for the trace\'s memory commands', '64')
    .option('--jobs <n>', 'TRACE is a directory: replay its files over this many worker threads', '1')
    .action(async (trace: string, options: ReplayCliOptions) => {
      const ramMib = Number(options.ramMib);
      if (!Number.isInteger(ramMib) || ramMib < 1 || ramMib > 4095) throw new ArgumentError(`--ram-mib: "${options.ramMib}" is not 1..4095`);
      const jobs = Number(options.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new ArgumentError(`--jobs: "${options.jobs}" is not 1..64`);
      if (isDirectory(trace)) {
        const report = await replayCorpus(trace, { ...options, verify: options.verify ?? false, ramMib, jobs });
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(corpusText(trace, report));
        if (report.failed > 0) process.exitCode = 1;
        else if (options.verify && report.mismatches > 0) process.exitCode = VERIFY_FAILED;
        return;
      }
      const bus = await busFromOptions(options);
      const replayer = new TraceReplayer(bus, { verify: options.verify ?? false, ramBytes: ramMib << 20, source: trace });
      const input = await readTraceFile(trace, {
        format: options.format, keepGoing: options.keepGoing, progress: !options.json,
        rawRecords: (records, flags) => {
          replayer.lineTags = flags.lines;
          replayer.memoryRecords = flags.memory;
          replayer.pushRecords(records);
        },
      }, (events) => replayer.push(events));
      const s = replayer.finish();
      const warnings = input.reader.warningCount;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summaryJson(s, { trace, format: input.format, backend: bus.backend, warnings }), null, 2)}\n`);
      } else {
        process.stdout.write(`vpci replay: ${trace} (${input.format}) on topology "${bus.topology.name}", ${bus.backend} backend${warnings ? `, ${warnings} warnings skipped` : ''}\n`);
        process.stdout.write(summaryText(s));
        for (const w of input.reader.warnings.slice(0, 10)) process.stderr.write(`vpci: warning: ${w.message}\n`);
      }
      if (options.verify && s.mismatches + s.memory.mismatches > 0) process.exitCode = VERIFY_FAILED;
    });
}
