// AssemblyScript entry of the dispatch benchmark's memory limit (bench/dispatch.js compiles it
// with the release options into a temporary directory). Not named .ts: tsconfig.json type-checks
// bench/**/*.ts as TypeScript, which this is not; dispatch.js hands it to asc under a .ts name.
//
// It reads what replayBatch reads from each record of layout v1 (op, size, address, value) and
// does nothing else, so its rate is the ceiling any replay loop over the same buffer can reach.
const RECORD_BYTES: usize = 24;

let records: usize = 0;

/** Room for `count` records; the caller fills it through the exported memory. */
export function recordBuffer(count: i32): usize {
  records = heap.alloc(<usize>count * RECORD_BYTES);
  return records;
}

/**
 * Reads `count` records; the sum (op + size + address + value's two halves, below 2^53 for the
 * benchmark's traces, so exact as f64) keeps the loads alive and lets the caller check them.
 */
export function streamRecords(count: i32): f64 {
  let sum: u64 = 0;
  for (let i = 0; i < count; i++) {
    const r = records + <usize>i * RECORD_BYTES;
    const value = load<u64>(r, 16);
    sum += <u64>load<u8>(r) + <u64>load<u8>(r, 1) + load<u64>(r, 8) + (value & 0xffffffff) + (value >> 32);
  }
  return <f64>sum;
}
