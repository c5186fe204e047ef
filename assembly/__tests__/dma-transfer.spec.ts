// DMA translator internals: the memory map (assembly/dma/ram.ts), the fault ring, and transfers
// through the config store's Command register (assembly/dma/transfer.ts), including the entry
// for Wasm-native device models.
import { addFunction, loadPlanes, staging, blockOf } from "../config/store";
import { PLANES_SIZE } from "../config/layout";
import { ramAdd, ramRemove, ramFind, found, ramPtrOf, ramReset } from "../dma/ram";
import { faultRecord, faultsQueued, faultsDrain, faultOut, faultsReset, counterOf } from "../dma/faults";
import { dmaRead, dmaWrite, dmaCopyLinear, buffer, segments } from "../dma/transfer";
import { domainCreate, domainMap, dmaAttach, domainsReset } from "../dma/domains";
import { iotlbFlush } from "../dma/iotlb";
import {
  ERR_EXISTS, ERR_RANGE, FAULT_STATUS, REASON_BUS_MASTER, REASON_OUTSIDE_RAM, FAULT_CAPACITY, C_FAULTS_DROPPED,
  DOMAIN_TRANSLATED, C_TRANSFERS,
} from "../dma/layout";

const KiB: u64 = 1024;
const MiB: u64 = 1024 * 1024;

let slot: i32 = -1;

/** A function with Bus Master Enable set (Command = 0x0004). */
function master(): i32 {
  if (slot < 0) {
    slot = addFunction(0, 0, 5, 0, 256);
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u8>(staging + 4, 4);
    loadPlanes(slot);
  }
  return slot;
}

describe("memory map", () => {
  beforeEach(() => { ramReset(); iotlbFlush(); });

  it("finds regions by binary search, whatever their insertion order", () => {
    expect<i32>(ramAdd(8 * MiB, 64 * KiB, false)).toBe(0);
    expect<i32>(ramAdd(0, 64 * KiB, false)).toBe(1);
    expect<i32>(ramAdd(4 * MiB, 64 * KiB, false)).toBe(2);
    expect<i32>(ramAdd(4 * MiB + 32 * KiB, 4 * KiB, false)).toBe(ERR_EXISTS);
    expect<i32>(ramAdd(4 * MiB + 1, 4 * KiB, false)).toBe(ERR_RANGE);
    expect<bool>(ramFind(4 * MiB + 5)).toBe(true);
    expect<u32>(found).toBe(2);
    expect<bool>(ramFind(10)).toBe(true);
    expect<u32>(found).toBe(1);
    expect<bool>(ramFind(8 * MiB + 64 * KiB - 1)).toBe(true);
    expect<u32>(found).toBe(0);
    expect<bool>(ramFind(8 * MiB + 64 * KiB)).toBe(false);
    expect<bool>(ramFind(64 * KiB)).toBe(false);
    expect<i32>(ramRemove(1)).toBe(0);
    expect<bool>(ramFind(10)).toBe(false);
  });

  it("internal RAM lives in linear memory and is zeroed", () => {
    const i = ramAdd(0, 64 * KiB, true);
    const p = ramPtrOf(<u32>i);
    expect<bool>(p != 0).toBe(true);
    expect<u8>(load<u8>(p + 100)).toBe(0);
  });
});

describe("fault ring", () => {
  beforeEach(() => { while (faultsDrain(1000) != 0) {} faultsReset(); });

  it("keeps the oldest records when full and counts the rest", () => {
    for (let i: u32 = 0; i < FAULT_CAPACITY + 5; i++) faultRecord(3, <u64>i << 12, 16, 1, 4);
    expect<u32>(faultsQueued()).toBe(FAULT_CAPACITY);
    expect<u64>(counterOf(C_FAULTS_DROPPED)).toBe(5);
    expect<u32>(faultsDrain(2)).toBe(2);
    expect<f64>(load<f64>(faultOut)).toBe(0);
    expect<f64>(load<f64>(faultOut + 24)).toBe(4096);
    expect<i32>(load<i32>(faultOut + 24, 8)).toBe(3);
    expect<u32>(load<u32>(faultOut + 24, 12)).toBe(16);
    expect<u32>(load<u32>(faultOut + 24, 16)).toBe(1);
    expect<u32>(load<u32>(faultOut + 24, 20)).toBe(4);
  });
});

describe("transfers", () => {
  beforeEach(() => { ramReset(); iotlbFlush(); domainsReset(); });

  it("Bus Master Enable gates the function's DMA", () => {
    const s = master();
    ramAdd(0, 64 * KiB, true);
    store<u8>(blockOf(s) + 4, 0);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(FAULT_STATUS - <i32>REASON_BUS_MASTER);
    store<u8>(blockOf(s) + 4, 4);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(0);
  });

  it("copies internal RAM with memory.copy and lists external pieces", () => {
    const s = master();
    const a = ramAdd(0, 64 * KiB, true);
    ramAdd(64 * KiB, 64 * KiB, false);
    const p = ramPtrOf(<u32>a);
    for (let i: usize = 0; i < 64; i++) store<u8>(p + 64 * 1024 - 32 + i, <u8>i);
    const at: u64 = 64 * KiB - 32;
    expect<i32>(dmaRead(s, <f64>at, 64, 16)).toBe(1);
    expect<u8>(load<u8>(buffer + 16 + 31)).toBe(31);
    expect<f64>(load<f64>(segments)).toBe(0);
    expect<u32>(load<u32>(segments, 8)).toBe(1);
    expect<u32>(load<u32>(segments, 12)).toBe(32);
    expect<u32>(load<u32>(segments, 16)).toBe(32);
  });

  it("a Wasm-native model copies to and from its own memory, internal RAM only", () => {
    const s = master();
    ramAdd(0, 64 * KiB, true);
    ramAdd(64 * KiB, 64 * KiB, false);
    const d = <u32>domainCreate(DOMAIN_TRANSLATED);
    domainMap(d, 1 << 30, 8 * KiB, 8 * KiB, 3);
    domainMap(d, (1 << 30) + 8 * KiB, 64 * KiB, 4 * KiB, 3);
    dmaAttach(s, d);
    const data = heap.alloc(64);
    for (let i: usize = 0; i < 64; i++) store<u8>(data + i, <u8>(i + 100));
    const before = counterOf(C_TRANSFERS);
    expect<i32>(dmaCopyLinear(s, 1, (1 << 30) + 4096 - 8, 16, data)).toBe(0);
    expect<i32>(dmaCopyLinear(s, 1, (1 << 30) + 8 * KiB - 8, 16, data)).toBe(ERR_RANGE); // reaches external RAM
    expect<u64>(counterOf(C_TRANSFERS) - before).toBe(1);
    expect<i32>(dmaCopyLinear(s, 1, (1 << 30) + 12 * KiB, 16, data)).toBe(FAULT_STATUS - 3);
    memory.fill(data, 0, 64);
    expect<i32>(dmaCopyLinear(s, 0, (1 << 30) + 4096 - 8, 16, data)).toBe(0);
    expect<u8>(load<u8>(data + 15)).toBe(115);
    expect<i32>(dmaWrite(s, 1e30, 4, 0)).toBe(ERR_RANGE);
    expect<i32>(dmaRead(s, <f64>(1 << 40), 4, 0)).toBe(FAULT_STATUS - 3);
    expect<i32>(dmaAttach(s, 0)).toBe(0);
    expect<i32>(dmaRead(s, <f64>(1 << 40), 4, 0)).toBe(FAULT_STATUS - <i32>REASON_OUTSIDE_RAM);
  });
});
