// DMA translator internals: the IOTLB (assembly/dma/iotlb.ts). 4 KiB and 2 MiB entries, spans
// clipped to a RAM region, and every way an entry is dropped.
import {
  iotlbLookup, iotlbFill, iotlbInvalidate, iotlbDropDomain, iotlbFlush, iotlbValid, hitRegion, hitOffset, hitAvail, hitPerms,
} from "../dma/iotlb";
import { counterOf } from "../dma/faults";
import { C_IOTLB_HITS, C_IOTLB_MISSES } from "../dma/layout";

const KiB: u64 = 1024;
const MiB: u64 = 1024 * 1024;

describe("IOTLB", () => {
  beforeEach(() => { iotlbFlush(); });

  it("a 4 KiB entry answers for its page only, with the region offset and what is left of the page", () => {
    iotlbFill(3, 0x12345, 0, 0, 4096, 7, 0x9000, 1);
    expect<bool>(iotlbLookup(3, 0x12345010)).toBe(true);
    expect<u32>(hitRegion).toBe(7);
    expect<u64>(hitOffset).toBe(0x9010);
    expect<u64>(hitAvail).toBe(4096 - 0x10);
    expect<u32>(hitPerms).toBe(1);
    expect<bool>(iotlbLookup(3, 0x12346000)).toBe(false);
    expect<bool>(iotlbLookup(4, 0x12345010)).toBe(false); // another domain
  });

  it("a 2 MiB entry answers inside its span only (a page over a RAM region's edge)", () => {
    // Page 5 (10 MiB): RAM only from offset 64 KiB to 1 MiB.
    iotlbFill(1, 5, 1, <u32>(64 * KiB), <u32>MiB, 2, 0, 3);
    expect<bool>(iotlbLookup(1, 10 * MiB + 64 * KiB)).toBe(true);
    expect<u64>(hitOffset).toBe(0);
    expect<u64>(hitAvail).toBe(MiB - 64 * KiB);
    expect<bool>(iotlbLookup(1, 10 * MiB + 100 * KiB + 3)).toBe(true);
    expect<u64>(hitOffset).toBe(36 * KiB + 3);
    expect<bool>(iotlbLookup(1, 10 * MiB + 4 * KiB)).toBe(false);
    expect<bool>(iotlbLookup(1, 11 * MiB)).toBe(false);
  });

  it("counts hits and misses", () => {
    const h = counterOf(C_IOTLB_HITS);
    const m = counterOf(C_IOTLB_MISSES);
    iotlbFill(1, 1, 0, 0, 4096, 0, 0, 3);
    iotlbLookup(1, 0x1000);
    iotlbLookup(1, 0x2000);
    expect<u64>(counterOf(C_IOTLB_HITS) - h).toBe(1);
    expect<u64>(counterOf(C_IOTLB_MISSES) - m).toBe(1);
  });

  it("invalidation of a small range probes its pages, and drops 2 MiB entries it meets", () => {
    iotlbFill(1, 0x100, 0, 0, 4096, 0, 0, 3);
    iotlbFill(1, 0x101, 0, 0, 4096, 0, 0, 3);
    iotlbFill(2, 0x100, 0, 0, 4096, 0, 0, 3);
    iotlbFill(1, 0, 1, 0, <u32>(2 * MiB), 0, 0, 3);
    expect<u32>(iotlbValid()).toBe(4);
    iotlbInvalidate(1, 0x100000, 0x101000);
    expect<bool>(iotlbLookup(1, 0x100000)).toBe(false); // its 4 KiB entry and the 2 MiB one are gone
    expect<bool>(iotlbLookup(1, 0x101000)).toBe(true);
    expect<bool>(iotlbLookup(2, 0x100000)).toBe(true);
    expect<u32>(iotlbValid()).toBe(2);
  });

  it("invalidation of a large range scans every entry", () => {
    for (let p: u64 = 0; p < 40; p++) iotlbFill(1, 0x1000 + p, 0, 0, 4096, 0, 0, 3);
    iotlbFill(1, 0x1000 >> 9, 1, 0, <u32>(2 * MiB), 0, 0, 3); // the 2 MiB page holding them
    iotlbFill(1, 0x5000 >> 9, 1, 0, <u32>(2 * MiB), 0, 0, 3); // elsewhere
    iotlbInvalidate(1, 0x1000000 + 8 * 4096, 0x1000000 + 30 * 4096);
    expect<u32>(iotlbValid()).toBe(40 - 22 + 1);
    expect<bool>(iotlbLookup(1, 0x1000000 + 7 * 4096)).toBe(true);
    expect<bool>(iotlbLookup(1, 0x1000000 + 8 * 4096)).toBe(false);
    expect<bool>(iotlbLookup(1, 0x1000000 + 29 * 4096)).toBe(false);
    expect<bool>(iotlbLookup(1, 0x1000000 + 30 * 4096)).toBe(true);
    expect<bool>(iotlbLookup(1, 0x5000000)).toBe(true);
  });

  it("dropping a domain keeps the others; flush drops all", () => {
    iotlbFill(1, 9, 0, 0, 4096, 0, 0, 3);
    iotlbFill(2, 9, 0, 0, 4096, 0, 0, 3);
    iotlbFill(2, 9, 1, 0, <u32>(2 * MiB), 0, 0, 3);
    iotlbDropDomain(2);
    expect<u32>(iotlbValid()).toBe(1);
    expect<bool>(iotlbLookup(1, 0x9000)).toBe(true);
    iotlbFlush();
    expect<u32>(iotlbValid()).toBe(0);
  });

  it("direct-mapped: a page that shares an index evicts the older entry", () => {
    iotlbFill(1, 0x10, 0, 0, 4096, 0, 0, 3);
    iotlbFill(1, 0x10 + 1024, 0, 0, 4096, 0, 0x5000, 3);
    expect<bool>(iotlbLookup(1, 0x10000)).toBe(false);
    expect<bool>(iotlbLookup(1, (0x10 + 1024) << 12)).toBe(true);
    expect<u64>(hitOffset).toBe(0x5000);
  });
});
