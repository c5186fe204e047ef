// AssemblyScript entry of the DMA benchmark (bench/dma/run.js compiles it with the release
// options). Not named .ts: tsconfig.json type-checks bench/**/*.ts as TypeScript, which this is
// not; run.js hands it to asc under a .ts name.
//
// The loops run inside Wasm so that what is measured is the translation and the copy, not the
// JS-to-Wasm call (run.js measures the per-call path separately).
export * from "../../assembly/dma/index";
export { addFunction, loadPlanes } from "../../assembly/config/store";
import { staging } from "../../assembly/config/store";
import { dmaRead, dmaTranslate, buffer } from "../../assembly/dma/transfer";

export function stagingAddress(): u32 {
  return <u32>staging;
}

let addrs: usize = 0;
let offs: usize = 0;
let count: i32 = 0;

/** Room for `n` request addresses (f64 IOVAs) and their host offsets (u32, for the plain copy). */
export function addressBuffer(n: i32): usize {
  addrs = heap.alloc(<usize>n << 3);
  offs = heap.alloc(<usize>n << 2);
  count = n;
  return addrs;
}

export function offsetBuffer(): usize {
  return offs;
}

/** `passes` x `count` dmaTranslate calls of `len` bytes; the sum of statuses keeps them alive. */
export function runTranslate(passes: i32, len: u32): i32 {
  let sum = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < count; i++) sum += dmaTranslate(0, load<f64>(addrs + (<usize>i << 3)), len, 0);
  }
  return sum;
}

/** `passes` x `count` dmaRead calls of `len` bytes into the transfer buffer. */
export function runRead(passes: i32, len: u32): i32 {
  let sum = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < count; i++) sum += dmaRead(0, load<f64>(addrs + (<usize>i << 3)), len, 0);
  }
  return sum;
}

/** The limit: the same copies as plain memory.copy from `ram` + host offset. */
export function runPlain(passes: i32, len: u32, ram: usize): i32 {
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < count; i++) memory.copy(buffer, ram + <usize>load<u32>(offs + (<usize>i << 2)), <usize>len);
  }
  return 0;
}
