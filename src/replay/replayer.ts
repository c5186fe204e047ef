// Streaming trace replay against a bus: accesses go through the core in batches (the Wasm core
// runs a whole batch without coming back to JavaScript); guest-memory writes and reads of qtest
// traces go to a guest RAM the replayer owns, in order with the accesses around them; every read
// with a recorded value is checked. Events arrive in any number of pushes, so a trace larger
// than memory replays chunk by chunk. No runtime APIs: the CLI feeds it from files.
//
// Raw binary records (pushRecords) go to the core as they are, except memory records (op 5, with
// header flag bit 1): the core's batch layout has ops 1-4 only, so the records are cut around
// them and their bytes go to the RAM here, as the memwrite events a reader would have made of them.
import type { Bus } from '../bus.js';
import type { InterruptSink } from '../interrupts/types.js';
import {
  BINARY_OP_MEMWRITE, MemoryRunBuilder, TraceFormatError, encodeBatch, isAccess, memoryRecordProblem,
} from '../trace/index.js';
import type { TraceAccess, TraceEvent } from '../trace/index.js';
import { accessMeaning } from './decode.js';

/** Records per batch: the core's batch capacity. */
const BATCH = 16384;

/** Options of a trace replay: verification, the guest RAM for qtest memory commands, how many mismatches to keep. */
export interface ReplayOptions {
  /** Check every read that has a recorded value (default true). */
  verify?: boolean;
  /** Guest RAM for qtest `write`/`memset`/`read` commands: bytes at guest-physical 0 (default 64 MiB). */
  ramBytes?: number;
  /** How many mismatches to keep with details (default 100; all are counted). */
  keepMismatches?: number;
  /** Named in errors about raw records (a bad memory record), like a reader's `source`; default "trace". */
  source?: string;
}

/** A read whose value differed from the one the trace recorded, with where it was and what the address meant. */
export interface ReplayMismatch {
  /** 0-based index of the access among the trace's accesses. */
  record: number;
  /** The trace line (text formats) or record number (binary), when the reader knew it. */
  line?: number;
  access: string;
  /** What the address meant when the access happened: a config register, a BAR, unclaimed. */
  meaning: string;
  expected: bigint;
  actual: bigint;
}

/**
 * What a replay did: access counts, verified reads and mismatches, aborts, invalid accesses, model
 * errors, guest-memory commands, interrupts, DMA faults, per-device counts and throughput.
 */
export interface ReplaySummary {
  /**
   * Accesses replayed. A binary trace's memory records are not accesses: they count in
   * `memory.writes` (one per run of contiguous records, as the reader joins them), so a trace
   * sums up the same replayed raw, as events, or converted to text.
   */
  records: number;
  reads: number;
  writes: number;
  verified: number;
  mismatches: number;
  aborts: number;
  invalid: number;
  modelErrors: number;
  memory: { writes: number; reads: number; mismatches: number; outside: number };
  /** Interrupts vpci raised during the replay, and the ones the trace recorded (qtest IRQ lines). */
  interrupts: { lineChanges: number; messages: number; recorded: number };
  dmaFaults: number;
  /** Events of the trace that are not accesses and need nothing from the bus (clock, meta). */
  ignored: number;
  /** Per function, accesses that reached it (config and BARs). */
  devices: { bdf: string; reads: number; writes: number }[];
  seconds: number;
  recordsPerSecond: number;
  mismatchList: ReplayMismatch[];
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Whether the record at `at` addresses port 0xCF8 (its u64 address, without a BigInt). */
function isCf8(view: DataView, at: number): boolean {
  return view.getUint32(at + 8, true) === 0xcf8 && view.getUint32(at + 12, true) === 0;
}

/**
 * Streaming trace replay against a bus: accesses run through the core in batches, qtest
 * guest-memory commands go to a RAM the replayer owns (in order with the accesses around them), and
 * every read with a recorded value is checked. Push events (or raw batch records) in any number of
 * calls, then `finish` for the summary.
 */
export class TraceReplayer {
  private readonly verify: boolean;
  private readonly keep: number;
  private readonly source: string;
  private readonly ram: Uint8Array;
  private readonly batch = new Uint8Array(BATCH * 24);
  private readonly pending: TraceAccess[] = [];
  /** CONFIG_ADDRESS as the trace had set it before each pending access (for reports). */
  private readonly latches: number[] = [];
  private latch = 0;
  /** Raw records taken so far (accesses and memory records): the record number errors name. */
  private rawRecords = 0;
  /** Memory records gathered into one memwrite, applied before anything after them. */
  private readonly run = new MemoryRunBuilder();
  private readonly started = performance.now();
  private readonly statsBefore;
  private readonly faultsBefore: number;
  private readonly summary: ReplaySummary;

  constructor(private readonly bus: Bus, options: ReplayOptions = {}) {
    this.verify = options.verify ?? true;
    this.keep = options.keepMismatches ?? 100;
    this.source = options.source ?? 'trace';
    this.ram = new Uint8Array(options.ramBytes ?? 64 << 20);
    bus.dma.addRam({ base: 0, size: this.ram.length, buffer: this.ram });
    this.statsBefore = bus.stats();
    this.faultsBefore = bus.dma.stats().faults;
    this.summary = {
      records: 0, reads: 0, writes: 0, verified: 0, mismatches: 0, aborts: 0, invalid: 0, modelErrors: 0,
      memory: { writes: 0, reads: 0, mismatches: 0, outside: 0 },
      interrupts: { lineChanges: 0, messages: 0, recorded: 0 }, dmaFaults: 0, ignored: 0, devices: [],
      seconds: 0, recordsPerSecond: 0, mismatchList: [],
    };
    // Count what vpci raises, unless the embedder already listens.
    if (bus.interrupts.sink === undefined) {
      const counter: InterruptSink = {
        line: () => { this.summary.interrupts.lineChanges++; },
        message: () => { this.summary.interrupts.messages++; },
      };
      bus.interrupts.setSink(counter);
    }
  }

  /** Takes the next events of the trace, in order. */
  push(events: readonly TraceEvent[]): void {
    this.applyRun();
    for (const e of events) {
      if (isAccess(e)) {
        if (e.space === 'io' && e.addr === 0xcf8n && e.op === 'write' && e.size === 4) this.latch = Number(e.value ?? 0n) >>> 0;
        this.pending.push(this.verify ? e : { ...e, expected: undefined });
        this.latches.push(this.latch);
        if (this.pending.length === BATCH) this.flush();
        continue;
      }
      // Guest memory is touched in order with the accesses around it.
      if (e.op === 'memwrite' || e.op === 'memread') this.flush();
      if (e.op === 'memwrite') this.memWrite(e.addr, e.data);
      else if (e.op === 'memread') this.memRead(e.addr, e.size, e.expected);
      else if (e.op === 'irq') this.summary.interrupts.recorded++;
      else this.summary.ignored++;
    }
  }

  private inRam(addr: bigint, size: number): boolean {
    return addr >= 0n && addr + BigInt(size) <= BigInt(this.ram.length);
  }

  private memWrite(addr: bigint, data: Uint8Array): void {
    this.summary.memory.writes++;
    if (!this.inRam(addr, data.length)) {
      this.summary.memory.outside++;
      return;
    }
    this.ram.set(data, Number(addr));
  }

  private memRead(addr: bigint, size: number, expected: Uint8Array | undefined): void {
    this.summary.memory.reads++;
    if (!this.inRam(addr, size)) {
      this.summary.memory.outside++;
      return;
    }
    if (!this.verify || expected === undefined) return;
    const got = this.ram.subarray(Number(addr), Number(addr) + size);
    if (got.some((b, i) => b !== expected[i])) this.summary.memory.mismatches++;
  }

  /** Accesses the core has replayed so far (a batch at a time: those still being batched are not counted). */
  get replayed(): number {
    return this.summary.records;
  }

  /** Runs the pending accesses through the core. */
  private flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    const records = encodeBatch(this.pending);
    const result = this.bus.replay(records);
    const s = this.summary;
    const first = s.records;
    for (const a of this.pending) {
      if (a.op === 'read') {
        s.reads++;
        if (a.expected !== undefined) s.verified++;
      } else {
        s.writes++;
      }
    }
    s.records += n;
    s.mismatches += result.mismatches.length;
    for (const i of result.mismatches) {
      if (s.mismatchList.length >= this.keep) break;
      const a = this.pending[i];
      s.mismatchList.push({
        record: first + i,
        line: a.source?.line ?? a.source?.record,
        access: `read ${a.space} ${hex(a.addr)} size ${a.size}`,
        meaning: accessMeaning(this.bus, a.space, a.addr, this.latches[i]),
        expected: a.expected!,
        actual: result.results[i],
      });
    }
    this.pending.length = 0;
    this.latches.length = 0;
  }

  /**
   * Takes batch records as they are (a vpci binary trace's body, layout 1, whole records): they go
   * to the core without being decoded, which is what makes replay from disk run near the speed
   * of in-memory batches. Only a mismatched record is decoded, for its report. With
   * `memoryRecords`, op-5 records are applied to the RAM here instead (see the file comment); a
   * bad one throws a TraceFormatError naming its record (counted over every pushRecords call).
   */
  pushRecords(bytes: Uint8Array): void {
    this.flush();
    const n = Math.floor(bytes.length / 24);
    if (n === 0) return;
    const records = bytes.subarray(0, n * 24);
    const first = this.rawRecords;
    this.rawRecords += n;
    if (!this.memoryRecords) {
      this.replayRecords(records);
      return;
    }
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    let start = 0;
    for (let i = 0; i < n; i++) {
      const at = i * 24;
      if (records[at] !== BINARY_OP_MEMWRITE) continue;
      if (start < i) {
        this.applyRun();
        this.replayRecords(records.subarray(start * 24, at));
      }
      start = i + 1;
      const problem = memoryRecordProblem(view, at, this.lineTags);
      if (problem !== undefined) throw new TraceFormatError({ source: this.source, record: first + i, field: problem[0] }, problem[1]);
      const ended = this.run.add(view, at, first + i);
      if (ended !== undefined) this.memWrite(ended.addr, ended.data);
    }
    // A run still open at the end may continue in the next call: applied when it ends.
    if (start < n) {
      this.applyRun();
      this.replayRecords(records.subarray(start * 24));
    }
  }

  /** Whether raw records carry source line numbers in their reserved word (binary flag bit 0). */
  lineTags = false;

  /** Whether raw records may be memory records (binary flag bit 1); without it op 5 goes to the core, which counts it invalid. */
  memoryRecords = false;

  /** Applies the gathered run of memory records, if any, as the memwrite event it stands for. */
  private applyRun(): void {
    const e = this.run.take();
    if (e !== undefined) this.memWrite(e.addr, e.data);
  }

  /**
   * Replays access records (ops 1-4; anything but op 5) through the core. `mismatchList[].record`
   * counts accesses only, as for events, so memory records do not shift it; `line` is the
   * record's source line when the trace has them.
   */
  private replayRecords(input: Uint8Array): void {
    const n = input.length / 24;
    let records = input;
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const s = this.summary;
    if (!this.verify) {
      records = records.slice();
      const w = new DataView(records.buffer);
      for (let i = 0; i < n; i++) w.setUint16(i * 24 + 2, 0, true);
    }
    const latchBefore = this.latch;
    const first = s.records;
    // One pass over the bytes (no BigInt: this runs for every record): counts, and the last
    // CONFIG_ADDRESS write of the batch.
    let reads = 0;
    let writes = 0;
    let verified = 0;
    for (let at = 0; at < n * 24; at += 24) {
      const op = records[at];
      if (op === 1 || op === 3) {
        reads++;
        verified += records[at + 2] & 1;
      } else if (op === 2 || op === 4) {
        writes++;
        if (op === 4 && records[at + 1] === 4 && isCf8(view, at)) this.latch = view.getUint32(at + 16, true);
      }
    }
    s.reads += reads;
    s.writes += writes;
    if (this.verify) s.verified += verified;
    const result = this.bus.replay(records);
    s.records += n;
    s.mismatches += result.mismatches.length;
    for (const i of result.mismatches) {
      if (s.mismatchList.length >= this.keep) break;
      const at = i * 24;
      const space = view.getUint8(at) === 1 ? 'mmio' : 'io';
      const addr = view.getBigUint64(at + 8, true);
      // CONFIG_ADDRESS as it was when this record ran: the last CF8 write before it.
      let latch = latchBefore;
      for (let k = 0; k < i; k++) {
        const o = k * 24;
        if (records[o] === 4 && records[o + 1] === 4 && isCf8(view, o)) latch = view.getUint32(o + 16, true);
      }
      s.mismatchList.push({
        record: first + i,
        line: this.lineTags ? view.getUint32(at + 4, true) : undefined,
        access: `read ${space} ${hex(addr)} size ${view.getUint8(at + 1)}`,
        meaning: accessMeaning(this.bus, space, addr, latch),
        expected: view.getBigUint64(at + 16, true),
        actual: result.results[i],
      });
    }
  }

  /** Replays what is left and returns the summary. */
  finish(): ReplaySummary {
    this.applyRun();
    this.flush();
    const s = this.summary;
    const now = this.bus.stats();
    const b = this.statsBefore;
    s.aborts = now.aborts.mmio.reads + now.aborts.mmio.writes + now.aborts.io.reads + now.aborts.io.writes -
      (b.aborts.mmio.reads + b.aborts.mmio.writes + b.aborts.io.reads + b.aborts.io.writes);
    s.invalid = now.invalid - b.invalid;
    s.modelErrors = now.hostErrors - b.hostErrors;
    s.dmaFaults = this.bus.dma.stats().faults - this.faultsBefore;
    const before = new Map(b.devices.map((d) => [d.bdf, d]));
    s.devices = now.devices
      .map((d) => ({ bdf: d.bdf, reads: d.reads - (before.get(d.bdf)?.reads ?? 0), writes: d.writes - (before.get(d.bdf)?.writes ?? 0) }))
      .filter((d) => d.reads + d.writes > 0);
    s.seconds = (performance.now() - this.started) / 1000;
    s.recordsPerSecond = s.seconds > 0 ? s.records / s.seconds : 0;
    return s;
  }
}

/** Replays a whole trace held in memory (tests, the demo). */
export function replayEvents(bus: Bus, events: readonly TraceEvent[], options: ReplayOptions = {}): ReplaySummary {
  const r = new TraceReplayer(bus, options);
  r.push(events);
  return r.finish();
}
