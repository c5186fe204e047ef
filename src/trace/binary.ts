// vpci's binary trace: a 64-byte header, then records exactly in batch layout 1
// (docs/trace-format.md has the byte map; docs/batch-records.md the record layout). With header
// flag bit 1 the body may also hold memory records (op 5): guest-RAM bytes a replay needs, which
// the core never sees (its batch layout has ops 1-4 only).
//
//   0        8         10       12        14      16             24                56        64
//   +--------+---------+--------+---------+-------+--------------+-----------------+---------+
//   | magic  | version | layout | hdrsize | flags | record count | fingerprint[32] | reserved|
//   +--------+---------+--------+---------+-------+--------------+-----------------+---------+
//   "VPCITRC\0"  u16=1    u16=1    u16=64    u16     u64 (0=to end)  zero = none       zero
import { Diagnostics, TraceFormatError, type TraceWarning } from './errors.js';
import type { ReaderOptions, TraceReader } from './reader.js';
import {
  BINARY_OP_MEMWRITE, MemoryRunBuilder, memoryRecordCount, memoryRecordProblem, writeMemoryRecords,
} from './binary-memory.js';
import {
  BATCH_LAYOUT, BATCH_RECORD_SIZE, accessFromBatch, isAccess, readBatchRecord, writeBatchRecord,
  type TraceAccess, type TraceEvent, type TraceMemWrite,
} from './model.js';

/** The first 8 bytes of a vpci binary trace: "VPCITRC\0". */
export const BINARY_MAGIC = new Uint8Array([0x56, 0x50, 0x43, 0x49, 0x54, 0x52, 0x43, 0x00]); // "VPCITRC\0"
/** The binary format version this code reads and writes. */
export const BINARY_VERSION = 1;
/** Bytes in the binary header; records follow it. */
export const BINARY_HEADER_SIZE = 64;
/** Header flag bit 0: each record's reserved u32 holds the source line it came from (0 = none). */
export const BINARY_FLAG_LINES = 1;
/** Header flag bit 1: the body may hold memory records (`BINARY_OP_MEMWRITE`). */
export const BINARY_FLAG_MEMORY = 2;
const KNOWN_FLAGS = BINARY_FLAG_LINES | BINARY_FLAG_MEMORY;

/** A binary trace's header, decoded: version, record layout, flags, record count, topology fingerprint. */
export interface BinaryHeader {
  version: number;
  layout: number;
  flags: number;
  /** 0 = records run to the end of the file. */
  count: bigint;
  /** 32 bytes, or undefined when the header's are all zero. */
  fingerprint?: Uint8Array;
}

/** Options of `writeBinaryTrace`: the fingerprint, line numbers in the records, memory records, what to do with other events. */
export interface BinaryWriteOptions {
  /** The topology fingerprint (32 bytes) the trace was recorded against. */
  fingerprint?: Uint8Array;
  /** Store `source.line` of each access (and memwrite) in the record's reserved field. */
  lines?: boolean;
  /** Write memwrite events as memory records (op 5) and set header flag bit 1. */
  memory?: boolean;
  /** Events with no record (clock, irq, memread, memwrite without `memory`): 'error' (default) or 'skip'. */
  others?: 'error' | 'skip';
}

/** The header bytes; `count` 0 means "until the end" (a writer that streams). */
export function encodeBinaryHeader(options: BinaryWriteOptions & { count?: number | bigint } = {}): Uint8Array {
  const out = new Uint8Array(BINARY_HEADER_SIZE);
  const view = new DataView(out.buffer);
  out.set(BINARY_MAGIC, 0);
  view.setUint16(8, BINARY_VERSION, true);
  view.setUint16(10, BATCH_LAYOUT, true);
  view.setUint16(12, BINARY_HEADER_SIZE, true);
  view.setUint16(14, (options.lines ? BINARY_FLAG_LINES : 0) | (options.memory ? BINARY_FLAG_MEMORY : 0), true);
  view.setBigUint64(16, BigInt(options.count ?? 0), true);
  if (options.fingerprint !== undefined) {
    if (options.fingerprint.length !== 32) throw new RangeError(`fingerprint: ${options.fingerprint.length} bytes, not 32`);
    out.set(options.fingerprint, 24);
  }
  return out;
}

/** Accesses (and with `memory`, memwrites) as records (no header); see BinaryWriteOptions. */
export function encodeBinaryRecords(events: Iterable<TraceEvent>, options: BinaryWriteOptions = {}): Uint8Array {
  const list: (TraceAccess | TraceMemWrite)[] = [];
  let count = 0;
  for (const e of events) {
    if (isAccess(e)) {
      list.push(e);
      count++;
    } else if (e.op === 'memwrite' && options.memory) {
      count += memoryRecordCount(e);
      list.push(e);
    } else if (options.others !== 'skip') {
      const hint = e.op === 'memwrite' ? ' without the memory option' : '';
      throw new RangeError(`op: a "${e.op}" event has no record in the binary trace (layout 1${hint})`);
    }
  }
  const out = new Uint8Array(count * BATCH_RECORD_SIZE);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of list) {
    const line = options.lines ? e.source?.line ?? 0 : 0;
    if (e.op === 'memwrite') {
      at = writeMemoryRecords(view, at, e, line);
    } else {
      writeBatchRecord(view, at, e, line);
      at += BATCH_RECORD_SIZE;
    }
  }
  return out;
}

/** A whole binary trace with its record count in the header. */
export function writeBinaryTrace(events: Iterable<TraceEvent>, options: BinaryWriteOptions = {}): Uint8Array {
  const body = encodeBinaryRecords(events, options);
  const header = encodeBinaryHeader({ ...options, count: body.length / BATCH_RECORD_SIZE });
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/**
 * Streams a binary trace: bytes in any chunk sizes, accesses (and memwrites, with flag bit 1) out;
 * `source.record` is the index of the (first) record. A memwrite is returned once the record after
 * its run (or the end) shows the run is over.
 */
export class BinaryTraceReader implements TraceReader {
  private readonly diag: Diagnostics;
  private readonly run = new MemoryRunBuilder();
  private buf = new Uint8Array(0);
  private headerValue: BinaryHeader | undefined;
  private headerSize = 0;
  private index = 0;
  private failed = false;

  constructor(options: ReaderOptions = {}) {
    this.diag = new Diagnostics(options);
  }

  get warningCount(): number {
    return this.diag.warningCount;
  }

  get warnings(): readonly TraceWarning[] {
    return this.diag.warnings;
  }

  /** The header, once its bytes have arrived. */
  get header(): BinaryHeader | undefined {
    return this.headerValue;
  }

  push(chunk: string | Uint8Array): TraceEvent[] {
    if (typeof chunk === 'string') throw this.diag.error({ field: 'input' }, 'the binary trace takes bytes, not text');
    this.append(chunk);
    const out: TraceEvent[] = [];
    if (this.failed) return out;
    if (this.headerValue === undefined && !this.readHeader()) return out;
    const h = this.headerValue!;
    let pos = 0;
    while (this.buf.length - pos >= BATCH_RECORD_SIZE) {
      if (h.count !== 0n && BigInt(this.index) >= h.count) {
        this.endRun(out);
        this.fatal({ record: this.index, field: 'count' }, `data after the ${h.count} records the header announces`);
        return out;
      }
      this.record(new DataView(this.buf.buffer, this.buf.byteOffset + pos, BATCH_RECORD_SIZE), out);
      pos += BATCH_RECORD_SIZE;
    }
    this.buf = this.buf.slice(pos);
    return out;
  }

  end(): TraceEvent[] {
    if (this.failed) return [];
    if (this.headerValue === undefined) {
      this.fatal({ field: 'header' }, `truncated: ${this.buf.length} bytes, the header needs ${this.headerSize || BINARY_HEADER_SIZE}`);
      return [];
    }
    const out: TraceEvent[] = [];
    this.endRun(out);
    if (this.buf.length > 0) {
      this.fatal({ record: this.index, field: 'record' }, `truncated: ${this.buf.length} of ${BATCH_RECORD_SIZE} bytes`);
      return out;
    }
    const count = this.headerValue.count;
    if (count !== 0n && BigInt(this.index) < count) {
      this.fatal({ record: this.index, field: 'count' }, `truncated: the header announces ${count} records, the file has ${this.index}`);
    }
    return out;
  }

  /** Emits the memwrite being gathered, if any. */
  private endRun(out: TraceEvent[]): void {
    const e = this.run.take();
    if (e !== undefined) out.push(e);
  }

  private append(chunk: Uint8Array): void {
    if (this.buf.length === 0) {
      this.buf = chunk.slice();
      return;
    }
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.length);
    this.buf = next;
  }

  /** A problem that makes the rest of the file unreadable: thrown, or one warning and stop. */
  private fatal(place: { record?: number; field: string }, problem: string): void {
    this.failed = true;
    this.diag.report(this.diag.error(place, problem));
  }

  private readHeader(): boolean {
    const b = this.buf;
    const magicLen = Math.min(b.length, 8);
    for (let i = 0; i < magicLen; i++) {
      if (b[i] !== BINARY_MAGIC[i]) {
        this.fatal({ field: 'magic' }, 'not a vpci binary trace (the first 8 bytes are not "VPCITRC\\0")');
        return false;
      }
    }
    if (b.length < 16) return false;
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    const version = view.getUint16(8, true);
    if (version !== BINARY_VERSION) {
      this.fatal({ field: 'version' }, `${version} is not a version this reader knows (${BINARY_VERSION})`);
      return false;
    }
    const layout = view.getUint16(10, true);
    if (layout !== BATCH_LAYOUT) {
      this.fatal({ field: 'layout' }, `record layout ${layout} is not ${BATCH_LAYOUT}`);
      return false;
    }
    const size = view.getUint16(12, true);
    if (size < BINARY_HEADER_SIZE || size % 8 !== 0) {
      this.fatal({ field: 'headerSize' }, `${size} is not a multiple of 8 of at least ${BINARY_HEADER_SIZE}`);
      return false;
    }
    this.headerSize = size;
    const flags = view.getUint16(14, true);
    if ((flags & ~KNOWN_FLAGS) !== 0) {
      this.fatal({ field: 'flags' }, `0x${flags.toString(16)} has unknown bits`);
      return false;
    }
    if (b.length < size) return false;
    const fp = b.slice(24, 56);
    this.headerValue = { version, layout, flags, count: view.getBigUint64(16, true) };
    if (fp.some((x) => x !== 0)) this.headerValue.fingerprint = fp;
    this.buf = b.slice(size);
    return true;
  }

  private record(view: DataView, out: TraceEvent[]): void {
    const index = this.index++;
    const flags = this.headerValue!.flags;
    const lines = (flags & BINARY_FLAG_LINES) !== 0;
    // Without flag bit 1, op 5 is an unknown op like any other (below: "op: 5 is not 1..4").
    if ((flags & BINARY_FLAG_MEMORY) !== 0 && view.getUint8(0) === BINARY_OP_MEMWRITE) {
      const problem = memoryRecordProblem(view, 0, lines);
      if (problem === undefined) {
        const ended = this.run.add(view, 0, index, lines ? view.getUint32(4, true) : 0);
        if (ended !== undefined) out.push(ended);
        return;
      }
      // A bad record ends the run: the records around it are not consecutive.
      this.endRun(out);
      this.diag.report(this.diag.error({ record: index, field: problem[0] }, problem[1]));
      return;
    }
    this.endRun(out);
    const raw = readBatchRecord(view, 0);
    const a = accessFromBatch(raw);
    try {
      if (Array.isArray(a)) throw this.diag.error({ record: index, field: a[0] }, a[1]);
      if (!lines && raw.reserved !== 0) throw this.diag.error({ record: index, field: 'reserved' }, `0x${raw.reserved.toString(16)} is not 0`);
      a.source = lines && raw.reserved !== 0 ? { record: index, line: raw.reserved } : { record: index };
      out.push(a);
    } catch (e) {
      if (e instanceof TraceFormatError) this.diag.report(e);
      else throw e;
    }
  }
}
