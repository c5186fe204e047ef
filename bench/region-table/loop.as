// AssemblyScript entry of the region-table benchmark (bench/region-table/run.js compiles it with
// the release options). Not named .ts: tsconfig.json type-checks bench/**/*.ts as TypeScript,
// which this is not; run.js hands it to asc under a .ts name.
//
// The loops run inside Wasm so that what is measured is the lookup, not the JS-to-Wasm call.
import { regionLookup } from "../../assembly/dispatch/region-table";
export {
  regionMap, regionUnmap, regionLookup, regionReset, regionTableBytes, regionTableLiveBytes,
} from "../../assembly/dispatch/region-table";

let addrs: usize = 0;
let addrCount: i32 = 0;

/** Room for `count` u64 addresses; the caller fills it through the exported memory. */
export function addressBuffer(count: i32): usize {
  addrs = heap.alloc(<usize>count << 3);
  addrCount = count;
  return addrs;
}

/** `passes` times over the buffer through the region table; the sum keeps the work alive. */
export function runTable(passes: i32): u32 {
  let sum: u32 = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < addrCount; i++) sum += <u32>regionLookup(0, load<u64>(addrs + (<usize>i << 3)));
  }
  return sum;
}

// The alternative: binary search over non-overlapping ranges sorted by base.
let bsBase: usize = 0;
let bsEnd: usize = 0;
let bsId: usize = 0;
let bsCount: i32 = 0;

export function sortedAlloc(count: i32): void {
  bsBase = heap.alloc(<usize>count << 3);
  bsEnd = heap.alloc(<usize>count << 3);
  bsId = heap.alloc(<usize>count << 2);
  bsCount = count;
}

export function sortedSet(i: i32, base: u64, end: u64, id: i32): void {
  store<u64>(bsBase + (<usize>i << 3), base);
  store<u64>(bsEnd + (<usize>i << 3), end);
  store<i32>(bsId + (<usize>i << 2), id);
}

/** Last range whose base is <= addr, if addr is below its end. */
export function sortedLookup(addr: u64): i32 {
  let lo = 0;
  let hi = bsCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<u64>(bsBase + (<usize>mid << 3)) <= addr) lo = mid + 1;
    else hi = mid;
  }
  const k = lo - 1;
  if (k >= 0 && addr < load<u64>(bsEnd + (<usize>k << 3))) return load<i32>(bsId + (<usize>k << 2));
  return 0;
}

export function runSorted(passes: i32): u32 {
  let sum: u32 = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < addrCount; i++) sum += <u32>sortedLookup(load<u64>(addrs + (<usize>i << 3)));
  }
  return sum;
}
