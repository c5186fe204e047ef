/**
 * Trace formats: readers and writers of vpci's binary and text traces, QEMU qtest scripts and
 * logs, and Linux KVM trace events, all yielding one record model that encodes to the core's
 * batch records. No runtime APIs: chunks of text or bytes in, records out.
 *
 * @packageDocumentation
 */
export { TraceFormatError } from './errors.js';
export type { TracePlace, TraceWarning, DiagnosticOptions } from './errors.js';
export type {
  TraceEvent, TraceAccess, TraceMemWrite, TraceMemRead, TraceClock, TraceIrq, TraceMeta,
  TraceSpace, AccessSize, TraceSourceRef, RawBatchRecord,
} from './model.js';
export {
  isAccess, accessProblem, encodeBatch, writeBatchRecord, readBatchRecord, accessFromBatch,
  BATCH_RECORD_SIZE, BATCH_LAYOUT,
} from './model.js';
export type { TraceReader, ReaderOptions } from './reader.js';
export { readAll, readStream } from './reader.js';
export {
  BinaryTraceReader, writeBinaryTrace, encodeBinaryHeader, encodeBinaryRecords,
  BINARY_MAGIC, BINARY_VERSION, BINARY_HEADER_SIZE, BINARY_FLAG_LINES, BINARY_FLAG_MEMORY,
} from './binary.js';
export { BINARY_OP_MEMWRITE, MAX_MEMORY_RUN, MemoryRunBuilder, memoryRecordProblem } from './binary-memory.js';
export type { BinaryHeader, BinaryWriteOptions } from './binary.js';
export { TextTraceReader, writeTextTrace, formatTextRecord, TEXT_HEADER } from './text.js';
export { QtestReader, MAX_QTEST_BUFFER } from './qtest.js';
export { KvmTraceReader } from './kvm.js';
export { detectFormat, createReader } from './detect.js';
export type { TraceFormat } from './detect.js';
