// Batch replay: the embedder (or the trace layer) writes records into the batch buffer in linear
// memory and makes one call; every record runs through the same `access` as a per-access call,
// with no crossing of the JS boundary unless a TypeScript model owns the region.
// Record layout v1 (docs/batch-records.md), 24 bytes, little-endian:
//   +0 op u8 (1 mmio read, 2 mmio write, 3 io read, 4 io write) | +1 size u8 | +2 flags u16
//   (bit 0: value is the expected read value) | +4 reserved u32 | +8 address u64 | +16 value u64
// Per record the core writes a result u64 (the value read; 0 for writes) and a status u8.
import { access, lastStatus, STATUS_INVALID } from "./access";
import { SPACE_MMIO, SPACE_IO } from "./region-table";
import { bump, C_INVALID } from "./regions";

export const RECORD_BYTES: u32 = 24;
export const BATCH_CAPACITY: u32 = 16384;
export const OP_MMIO_READ: u8 = 1;
export const OP_MMIO_WRITE: u8 = 2;
export const OP_IO_READ: u8 = 3;
export const OP_IO_WRITE: u8 = 4;
const FLAG_EXPECT: u16 = 1;

const records: usize = heap.alloc(<usize>BATCH_CAPACITY * RECORD_BYTES);
const results: usize = heap.alloc(<usize>BATCH_CAPACITY << 3);
const statuses: usize = heap.alloc(<usize>BATCH_CAPACITY);
const mismatches: usize = heap.alloc(<usize>BATCH_CAPACITY << 2);

export function batchAddress(): u32 { return <u32>records; }
export function resultsAddress(): u32 { return <u32>results; }
export function statusAddress(): u32 { return <u32>statuses; }
export function mismatchAddress(): u32 { return <u32>mismatches; }
export function batchCapacity(): u32 { return BATCH_CAPACITY; }

/**
 * Runs `count` records (at most the capacity); returns the number of reads whose expected value
 * differed, their record indices in the mismatch buffer.
 */
export function replayBatch(count: u32): u32 {
  const n = count < BATCH_CAPACITY ? count : BATCH_CAPACITY;
  let bad: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = records + <usize>i * RECORD_BYTES;
    const op = load<u8>(r);
    const size = <i32>load<u8>(r, 1);
    const addr = load<u64>(r, 8);
    const value = load<u64>(r, 16);
    let result: u64 = 0;
    let status: u8;
    if (op == OP_MMIO_READ || op == OP_IO_READ) {
      result = access(op == OP_MMIO_READ ? SPACE_MMIO : SPACE_IO, addr, size, false, 0);
      status = lastStatus;
      if ((load<u16>(r, 2) & FLAG_EXPECT) != 0 && result != value) {
        store<u32>(mismatches + (<usize>bad << 2), i);
        bad++;
      }
    } else if (op == OP_MMIO_WRITE || op == OP_IO_WRITE) {
      access(op == OP_MMIO_WRITE ? SPACE_MMIO : SPACE_IO, addr, size, true, value);
      status = lastStatus;
    } else {
      bump(C_INVALID);
      result = 0xffffffffffffffff;
      status = STATUS_INVALID;
    }
    store<u64>(results + (<usize>i << 3), result);
    store<u8>(statuses + <usize>i, status);
  }
  return bad;
}
