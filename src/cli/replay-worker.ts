// A worker thread of `vpci replay DIR --jobs N`: replays the trace files it is sent, one at a
// time, each on a fresh bus (its own core), and posts each summary or error back.
import { parentPort, workerData } from 'node:worker_threads';
import { VpciError } from '../errors.js';
import { TraceReplayer } from '../replay/index.js';
import { busFromOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';
import { summaryJson } from './replay-command.js';
import { readTraceFile } from './trace-input.js';
import type { TraceFormat } from '../trace/index.js';

interface WorkerSetup extends BusCliOptions {
  verify: boolean;
  format?: TraceFormat;
  keepGoing?: boolean;
  ramMib: number;
}

const setup = workerData as WorkerSetup;

parentPort!.on('message', async (file: string | null) => {
  if (file === null) {
    process.exit(0);
  }
  try {
    const bus = await busFromOptions(setup);
    const replayer = new TraceReplayer(bus, { verify: setup.verify, ramBytes: setup.ramMib << 20, source: file });
    const input = await readTraceFile(file, {
      format: setup.format, keepGoing: setup.keepGoing, progress: false,
      rawRecords: (records, flags) => {
        replayer.lineTags = flags.lines;
        replayer.memoryRecords = flags.memory;
        replayer.pushRecords(records);
      },
    }, (e) => replayer.push(e));
    parentPort!.postMessage({ file, summary: summaryJson(replayer.finish(), { format: input.format, warnings: input.reader.warningCount }) });
  } catch (e) {
    parentPort!.postMessage({ file, error: e instanceof VpciError ? e.message : `${(e as Error).name}: ${(e as Error).message}` });
  }
});
