// The common record model every reader yields and every writer takes, its validation, and the
// encoder to the core's 24-byte batch records (docs/batch-records.md, layout 1).

/** The address space of an access: memory (MMIO) or port I/O. */
export type TraceSpace = 'mmio' | 'io';
/** Bytes in an access. */
export type AccessSize = 1 | 2 | 4 | 8;

/** Where a record came from: a line of a line format, a record of the binary format. */
export interface TraceSourceRef {
  line?: number;
  record?: number;
  /** qtest: the command word the record came from ("inl", "writeq", "clock_step"). */
  command?: string;
}

/** One MMIO or port IO access. */
export interface TraceAccess {
  op: 'read' | 'write';
  space: TraceSpace;
  addr: bigint;
  size: AccessSize;
  /** Writes: the data (low `size` bytes). */
  value?: bigint;
  /** Reads: the value the recording saw, when it has one. */
  expected?: bigint;
  source?: TraceSourceRef;
}

/** Bytes written to guest RAM (qtest write/memset/b64write). */
export interface TraceMemWrite {
  op: 'memwrite';
  addr: bigint;
  data: Uint8Array;
  source?: TraceSourceRef;
}

/** Bytes read from guest RAM (qtest read/b64read); `expected` is what the recording returned. */
export interface TraceMemRead {
  op: 'memread';
  addr: bigint;
  size: number;
  expected?: Uint8Array;
  source?: TraceSourceRef;
}

/** The virtual clock: advanced by `ns` (step; no ns = to the next deadline) or set to `ns`. */
export interface TraceClock {
  op: 'clock';
  mode: 'step' | 'set';
  ns?: bigint;
  /** The clock value after the command, when the recording has it (qtest's reply). */
  expected?: bigint;
  source?: TraceSourceRef;
}

/**
 * An interrupt line changing level. Without `inject` it is an observed output (qtest's
 * `IRQ raise N`); with it, an input the trace drives (qtest `set_irq_in PATH NAME N LEVEL`).
 */
export interface TraceIrq {
  op: 'irq';
  line: number;
  level: number;
  inject?: { path: string; name: string };
  source?: TraceSourceRef;
}

/** A command that sets up the recording but touches no device (irq_intercept_in, endianness). */
export interface TraceMeta {
  op: 'meta';
  command: string;
  args: string[];
  /** The recorded reply after "OK", when there is one ("little"). */
  reply?: string;
  source?: TraceSourceRef;
}

/**
 * One record of a trace: an access, a guest-RAM write or read, a clock step, an interrupt line
 * change, or a setup command.
 */
export type TraceEvent = TraceAccess | TraceMemWrite | TraceMemRead | TraceClock | TraceIrq | TraceMeta;

export const MAX_U64 = (1n << 64n) - 1n;

/** Whether an event is an MMIO or port-IO access (a read or a write). */
export function isAccess(e: TraceEvent): e is TraceAccess {
  return e.op === 'read' || e.op === 'write';
}

/** All ones of `size` bytes. */
export function maskFor(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

export function isAccessSize(space: TraceSpace, size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4 || (size === 8 && space === 'mmio');
}

/** The first problem of an access as [field, problem], or undefined when it is valid. */
export function accessProblem(a: TraceAccess): [string, string] | undefined {
  if (a.op !== 'read' && a.op !== 'write') return ['op', `"${String(a.op)}" is not read or write`];
  if (a.space !== 'mmio' && a.space !== 'io') return ['space', `"${String(a.space)}" is not mmio or io`];
  if (!isAccessSize(a.space, a.size)) {
    return ['size', `${String(a.size)} is not ${a.space === 'io' ? '1, 2 or 4 (IO)' : '1, 2, 4 or 8'}`];
  }
  if (typeof a.addr !== 'bigint' || a.addr < 0n || a.addr > MAX_U64) return ['addr', `${String(a.addr)} is not in 0..2^64-1`];
  if (a.space === 'io' && a.addr > 0xffffn) return ['addr', `IO port 0x${a.addr.toString(16)} is above 0xffff`];
  const limit = maskFor(a.size);
  if (a.op === 'write') {
    if (a.value === undefined) return ['value', 'a write has no value'];
    if (a.expected !== undefined) return ['expected', 'a write has no expected value'];
    if (a.value < 0n || a.value > limit) return ['value', `0x${a.value.toString(16)} is wider than ${a.size} bytes`];
  } else {
    if (a.value !== undefined) return ['value', 'a read has no value (use expected)'];
    if (a.expected !== undefined && (a.expected < 0n || a.expected > limit)) {
      return ['expected', `0x${a.expected.toString(16)} is wider than ${a.size} bytes`];
    }
  }
  return undefined;
}

// ---- Batch records, layout 1 --------------------------------------------------------------
//
//   0      1      2       4          8                16                24
//   +------+------+-------+----------+----------------+-----------------+
//   | op   | size | flags | reserved | address (u64)  | value (u64)     |
//   +------+------+-------+----------+----------------+-----------------+
//   all little-endian; op 1 MMIO read, 2 MMIO write, 3 IO read, 4 IO write;
//   flags bit 0: value is the expected result of a read.

/** Bytes per batch record: op, size, flags, reserved u32, address u64, value u64 (docs/batch-records.md). */
export const BATCH_RECORD_SIZE = 24;
/** The batch record layout these functions read and write. */
export const BATCH_LAYOUT = 1;
export const BATCH_FLAG_EXPECTED = 1;

export function batchOp(a: Pick<TraceAccess, 'op' | 'space'>): number {
  return (a.space === 'io' ? 3 : 1) + (a.op === 'write' ? 1 : 0);
}

/** Writes one access as a batch record at `offset`; `tag` goes to the reserved u32 (default 0). */
export function writeBatchRecord(view: DataView, offset: number, a: TraceAccess, tag = 0): void {
  const problem = accessProblem(a);
  if (problem !== undefined) throw new RangeError(`${problem[0]}: ${problem[1]}`);
  view.setUint8(offset, batchOp(a));
  view.setUint8(offset + 1, a.size);
  const hasExpected = a.op === 'read' && a.expected !== undefined;
  view.setUint16(offset + 2, hasExpected ? BATCH_FLAG_EXPECTED : 0, true);
  view.setUint32(offset + 4, tag >>> 0, true);
  view.setBigUint64(offset + 8, a.addr, true);
  view.setBigUint64(offset + 16, (a.op === 'write' ? a.value : a.expected) ?? 0n, true);
}

/**
 * Encodes accesses as batch records, ready for `bus.replay()`. Non-access events are not
 * representable in layout 1: they throw unless `skipOthers` is set.
 */
export function encodeBatch(events: Iterable<TraceEvent>, options: { skipOthers?: boolean } = {}): Uint8Array {
  const list: TraceAccess[] = [];
  for (const e of events) {
    if (isAccess(e)) list.push(e);
    else if (!options.skipOthers) throw new RangeError(`op: a "${e.op}" event has no batch record (layout 1 holds accesses only)`);
  }
  const out = new Uint8Array(list.length * BATCH_RECORD_SIZE);
  const view = new DataView(out.buffer);
  list.forEach((a, i) => writeBatchRecord(view, i * BATCH_RECORD_SIZE, a));
  return out;
}

/** A decoded batch record before validation. */
export interface RawBatchRecord {
  op: number;
  size: number;
  flags: number;
  reserved: number;
  addr: bigint;
  value: bigint;
}

/** Decodes the batch record at `offset` of `view`, unchecked (`accessFromBatch` validates). */
export function readBatchRecord(view: DataView, offset: number): RawBatchRecord {
  return {
    op: view.getUint8(offset),
    size: view.getUint8(offset + 1),
    flags: view.getUint16(offset + 2, true),
    reserved: view.getUint32(offset + 4, true),
    addr: view.getBigUint64(offset + 8, true),
    value: view.getBigUint64(offset + 16, true),
  };
}

/** A raw record as an access, or [field, problem]. */
export function accessFromBatch(r: RawBatchRecord): TraceAccess | [string, string] {
  if (r.op < 1 || r.op > 4) return ['op', `${r.op} is not 1..4`];
  if ((r.flags & ~BATCH_FLAG_EXPECTED) !== 0) return ['flags', `0x${r.flags.toString(16)} has bits other than bit 0`];
  const space: TraceSpace = r.op >= 3 ? 'io' : 'mmio';
  const op = r.op % 2 === 1 ? 'read' : 'write';
  if (op === 'write' && r.flags !== 0) return ['flags', 'bit 0 (expected value) is set on a write'];
  const a = { op, space, addr: r.addr, size: r.size } as TraceAccess;
  if (op === 'write') a.value = r.value;
  else if (r.flags & BATCH_FLAG_EXPECTED) a.expected = r.value;
  else if (r.value !== 0n) return ['value', 'a read without an expected value has a nonzero value'];
  const problem = accessProblem(a);
  return problem ?? a;
}
