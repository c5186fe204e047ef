// Memory records of vpci's binary trace (header flag bit 1, docs/trace-format.md): guest-RAM
// bytes a replay needs (what devices read by DMA), carried in the batch record's 24 bytes under an
// op the core does not have. Encoding, validation, and the joining of a run of them into one
// memwrite event, which the reader and the replayer's raw path share.
import { BATCH_RECORD_SIZE, MAX_U64, type TraceMemWrite } from './model.js';

//   A memory record (op 5, only with BINARY_FLAG_MEMORY), in the batch record's 24 bytes:
//   0      1      2       4          8                16                24
//   +------+------+-------+----------+----------------+-----------------+
//   | 5    | n    | 0     | line / 0 | guest address  | data, LE        |
//   +------+------+-------+----------+----------------+-----------------+
//   n = 1..8 data bytes: byte i at bits 8i..8i+7, the bytes above n zero.

/** Record op of a memory record: up to 8 bytes written to guest RAM at `address`. */
export const BINARY_OP_MEMWRITE = 5;
/** Data bytes in one memory record. */
export const MEMORY_RECORD_BYTES = 8;
/**
 * The most bytes one memwrite event read back holds (qtest's own buffer limit): a longer run of
 * contiguous memory records continues in the next event, so a reader never buffers without bound.
 */
export const MAX_MEMORY_RUN = 1 << 24;

/** Records a memwrite takes: one per 8 bytes. Throws RangeError for one the format cannot hold. */
export function memoryRecordCount(e: TraceMemWrite): number {
  if (e.data.length === 0) throw new RangeError('data: empty');
  if (typeof e.addr !== 'bigint' || e.addr < 0n || e.addr + BigInt(e.data.length) - 1n > MAX_U64) {
    throw new RangeError(`addr: 0x${e.addr.toString(16)} + ${e.data.length} bytes is not inside 0..2^64-1`);
  }
  return Math.ceil(e.data.length / MEMORY_RECORD_BYTES);
}

/**
 * Writes a memwrite as its memory records from `offset`: 8 bytes each, contiguous addresses, the
 * last one shorter. Returns the offset after them.
 */
export function writeMemoryRecords(view: DataView, offset: number, e: TraceMemWrite, line: number): number {
  let at = offset;
  for (let from = 0; from < e.data.length; from += MEMORY_RECORD_BYTES, at += BATCH_RECORD_SIZE) {
    const size = Math.min(MEMORY_RECORD_BYTES, e.data.length - from);
    view.setUint8(at, BINARY_OP_MEMWRITE);
    view.setUint8(at + 1, size);
    view.setUint16(at + 2, 0, true);
    view.setUint32(at + 4, line >>> 0, true);
    view.setBigUint64(at + 8, e.addr + BigInt(from), true);
    for (let i = 0; i < MEMORY_RECORD_BYTES; i++) view.setUint8(at + 16 + i, i < size ? e.data[from + i]! : 0);
  }
  return at;
}

/**
 * The first problem of the memory record at `at` as [field, problem], or undefined when it is
 * valid. `lines`: header flag bit 0 (the reserved word may hold a line). Shared by the reader and
 * the replayer's raw path, which applies memory records itself.
 */
export function memoryRecordProblem(view: DataView, at: number, lines: boolean): [string, string] | undefined {
  const size = view.getUint8(at + 1);
  if (size < 1 || size > MEMORY_RECORD_BYTES) return ['size', `${size} is not 1..8 (data bytes of a memory record)`];
  const flags = view.getUint16(at + 2, true);
  if (flags !== 0) return ['flags', `0x${flags.toString(16)} is not 0 (a memory record has no flags)`];
  for (let i = size; i < MEMORY_RECORD_BYTES; i++) {
    if (view.getUint8(at + 16 + i) !== 0) return ['value', `byte ${i} is not 0 in a memory record of ${size} bytes`];
  }
  // Only an address in the last 8 bytes of the space can run past 2^64 (size <= 8).
  const lo = view.getUint32(at + 8, true);
  if (view.getUint32(at + 12, true) === 0xffffffff && lo + size > 0x1_0000_0000) {
    return ['addr', `0x${view.getBigUint64(at + 8, true).toString(16)} + ${size} bytes runs past 2^64`];
  }
  const reserved = view.getUint32(at + 4, true);
  if (!lines && reserved !== 0) return ['reserved', `0x${reserved.toString(16)} is not 0`];
  return undefined;
}

/**
 * Joins consecutive memory records with contiguous addresses into one memwrite event (at most
 * MAX_MEMORY_RUN bytes). The reader and the replayer's raw path both cut memory records into
 * events with it, so a trace's guest-RAM writes count the same whichever way it is replayed.
 */
export class MemoryRunBuilder {
  private data = new Uint8Array(256);
  private length = 0;
  private addr = 0n;
  /** Where a continuing record must start, as u32 halves (no BigInt per record); lo -1 = nowhere (the run reached 2^64). */
  private nextLo = 0;
  private nextHi = 0;
  private source: { record: number; line?: number } = { record: 0 };

  /**
   * Adds the memory record at `at` (valid: see memoryRecordProblem), from record `record` of the
   * trace and source `line` (0 = none). Returns the event it ended, when it does not continue it.
   */
  add(view: DataView, at: number, record: number, line = 0): TraceMemWrite | undefined {
    const size = view.getUint8(at + 1);
    const lo = view.getUint32(at + 8, true);
    const hi = view.getUint32(at + 12, true);
    const continues = this.length > 0 && lo === this.nextLo && hi === this.nextHi && this.length + size <= MAX_MEMORY_RUN;
    const ended = continues ? undefined : this.take();
    if (this.length === 0) {
      this.addr = view.getBigUint64(at + 8, true);
      this.source = line !== 0 ? { record, line } : { record };
    }
    if (this.length + size > this.data.length) {
      const grown = new Uint8Array(Math.min(MAX_MEMORY_RUN, this.data.length * 2));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    for (let i = 0; i < size; i++) this.data[this.length + i] = view.getUint8(at + 16 + i);
    this.length += size;
    const end = lo + size;
    if (end < 0x1_0000_0000) [this.nextLo, this.nextHi] = [end, hi];
    else if (hi < 0xffffffff) [this.nextLo, this.nextHi] = [end - 0x1_0000_0000, hi + 1];
    else this.nextLo = -1;
    return ended;
  }

  /** The event being built, if any; the next record starts a new one. */
  take(): TraceMemWrite | undefined {
    if (this.length === 0) return undefined;
    const e: TraceMemWrite = { op: 'memwrite', addr: this.addr, data: this.data.slice(0, this.length), source: this.source };
    this.length = 0;
    return e;
  }
}
