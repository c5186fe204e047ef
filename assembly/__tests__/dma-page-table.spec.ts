// DMA translator internals: the IOMMU page tables (assembly/dma/page-table.ts) and domains.
// Page sizes by alignment, splits of 2 MiB pages, freeing of empty tables, the free list, and
// the table bound used to refuse oversized maps before they change anything.
import {
  tableAlloc, tableFree, tablesLive, tablesObtained, anyMapped, mapRange, unmapRange, walk, walkLeaf, walkLarge,
  leafGpa, leafPerms, tablesForMap, tablesForUnmap,
} from "../dma/page-table";
import { domainCreate, domainDestroy, domainMap, domainUnmap, domainLookup, lookupGpa, lookupPerms, rootOf, domainsReset } from "../dma/domains";
import { OK, ERR_EXISTS, ERR_RANGE, ERR_FULL, DOMAIN_TRANSLATED, IOVA_LIMIT, MAX_TABLES } from "../dma/layout";

const KiB: u64 = 1024;
const MiB: u64 = 1024 * 1024;
const GiB: u64 = 1024 * MiB;

describe("page sizes", () => {
  it("a 2 MiB aligned, 2 MiB congruent range uses 2 MiB leaves", () => {
    const root = tableAlloc();
    const live = tablesLive();
    mapRange(root, 4 * GiB, 2 * MiB, 4 * MiB, 3);
    expect<u32>(tablesLive() - live).toBe(2); // L1 + L2, no L3
    expect<bool>(walk(root, 4 * GiB + 3 * MiB + 5)).toBe(true);
    expect<u32>(walkLarge).toBe(1);
    expect<u64>(leafGpa(walkLeaf)).toBe(4 * MiB);
    expect<u32>(leafPerms(walkLeaf)).toBe(3);
    tableFree(root, 0);
    expect<u32>(tablesLive()).toBe(live - 1);
  });

  it("an unaligned head and tail get 4 KiB pages, the middle 2 MiB pages", () => {
    const root = tableAlloc();
    const live = tablesLive();
    // [2 MiB - 8 KiB, 6 MiB + 4 KiB) → head 2 pages, two 2 MiB pages, tail 1 page.
    mapRange(root, 2 * MiB - 8 * KiB, 2 * MiB - 8 * KiB, 4 * MiB + 12 * KiB, 1);
    expect<u32>(tablesLive() - live).toBe(4); // L1, L2, L3 head, L3 tail
    expect<u64>(tablesForMap(2 * MiB - 8 * KiB, 2 * MiB - 8 * KiB, 4 * MiB + 12 * KiB)).toBe(4);
    expect<bool>(walk(root, 2 * MiB - 4 * KiB)).toBe(true);
    expect<u32>(walkLarge).toBe(0);
    expect<bool>(walk(root, 5 * MiB)).toBe(true);
    expect<u32>(walkLarge).toBe(1);
    expect<bool>(walk(root, 6 * MiB)).toBe(true);
    expect<u32>(walkLarge).toBe(0);
    expect<bool>(walk(root, 6 * MiB + 4 * KiB)).toBe(false);
    tableFree(root, 0);
  });

  it("the map bound never undercounts", () => {
    const cases: u64[] = [
      0, 0, 4 * KiB, 4 * KiB, 0, 2 * MiB, 0, 4 * KiB, 2 * MiB, 512 * GiB - 4 * KiB, 512 * GiB - 4 * KiB, 8 * KiB,
      1 * GiB - 2 * MiB, 0, 4 * MiB, 3 * MiB, 5 * MiB, 3 * MiB + 4 * KiB,
    ];
    for (let i = 0; i < cases.length; i += 3) {
      const root = tableAlloc();
      const live = tablesLive();
      mapRange(root, cases[i], cases[i + 1], cases[i + 2], 3);
      expect<bool>(<u64>(tablesLive() - live) <= tablesForMap(cases[i], cases[i + 1], cases[i + 2])).toBe(true);
      tableFree(root, 0);
    }
  });
});

describe("unmap", () => {
  it("splits a 2 MiB page only partly covered, keeping the rest of it", () => {
    const root = tableAlloc();
    mapRange(root, 0, 8 * MiB, 2 * MiB, 2);
    const live = tablesLive();
    expect<u64>(tablesForUnmap(root, 64 * KiB, 72 * KiB)).toBe(1);
    expect<u64>(unmapRange(root, 0, 0, 64 * KiB, 72 * KiB)).toBe(8 * KiB);
    expect<u32>(tablesLive() - live).toBe(1);
    expect<bool>(walk(root, 64 * KiB)).toBe(false);
    expect<bool>(walk(root, 68 * KiB)).toBe(false);
    expect<bool>(walk(root, 72 * KiB)).toBe(true);
    expect<u64>(leafGpa(walkLeaf)).toBe(8 * MiB + 72 * KiB);
    expect<u32>(leafPerms(walkLeaf)).toBe(2);
    expect<bool>(walk(root, 60 * KiB)).toBe(true);
    tableFree(root, 0);
  });

  it("frees tables left empty, down to the root, and reuses them", () => {
    const root = tableAlloc();
    const live = tablesLive();
    mapRange(root, 100 * GiB, 0, 12 * KiB, 3);
    expect<u32>(tablesLive() - live).toBe(3);
    const obtained = tablesObtained();
    expect<u64>(unmapRange(root, 0, 0, 100 * GiB + 4 * KiB, 100 * GiB + 8 * KiB)).toBe(4 * KiB);
    expect<u32>(tablesLive() - live).toBe(3);
    expect<u64>(unmapRange(root, 0, 0, 0, IOVA_LIMIT)).toBe(8 * KiB);
    expect<u32>(tablesLive()).toBe(live);
    mapRange(root, 300 * GiB, 0, 4 * KiB, 3);
    expect<u32>(tablesObtained()).toBe(obtained); // from the free list
    tableFree(root, 0);
  });

  it("anyMapped sees a page at either edge of a range", () => {
    const root = tableAlloc();
    mapRange(root, 10 * MiB, 0, 4 * KiB, 3);
    expect<bool>(anyMapped(root, 0, 0, 0, 10 * MiB)).toBe(false);
    expect<bool>(anyMapped(root, 0, 0, 0, 10 * MiB + 4 * KiB)).toBe(true);
    expect<bool>(anyMapped(root, 0, 0, 10 * MiB, 11 * MiB)).toBe(true);
    expect<bool>(anyMapped(root, 0, 0, 10 * MiB + 4 * KiB, IOVA_LIMIT)).toBe(false);
    tableFree(root, 0);
  });
});

describe("domains", () => {
  beforeEach(() => { domainsReset(); });

  it("map refuses overlap and bad arguments without changing anything", () => {
    const d = <u32>domainCreate(DOMAIN_TRANSLATED);
    expect<i32>(domainMap(d, 2 * MiB, 0, 2 * MiB, 3)).toBe(OK);
    const live = tablesLive();
    expect<i32>(domainMap(d, 4 * MiB - 4 * KiB, 0, 8 * KiB, 3)).toBe(ERR_EXISTS);
    expect<i32>(domainMap(d, 6 * MiB, 0, 4 * KiB, 0)).toBe(ERR_RANGE);
    expect<i32>(domainMap(d, 6 * MiB, 0, 1 << 40, 3)).toBe(OK); // 2 MiB pages: 512 L2 tables
    expect<i32>(domainMap(d, 2 << 40, 4 * KiB, 1 << 40, 3)).toBe(ERR_FULL);
    expect<bool>(tablesLive() <= MAX_TABLES).toBe(true);
    expect<i32>(domainLookup(d, 3 * MiB + 12)).toBe(OK);
    expect<u64>(lookupGpa).toBe(1 * MiB + 12);
    expect<u32>(lookupPerms).toBe(3);
    expect<i64>(domainUnmap(d, 6 * MiB, 1 << 40)).toBe(1 << 40);
    expect<u32>(tablesLive()).toBe(live);
  });

  it("destroy frees every table of the domain", () => {
    const before = tablesLive();
    const d = <u32>domainCreate(DOMAIN_TRANSLATED);
    expect<i32>(domainMap(d, 0, 4 * KiB, 16 * MiB, 1)).toBe(OK);
    expect<bool>(rootOf(d) != 0).toBe(true);
    expect<i32>(domainDestroy(d)).toBe(OK);
    expect<u32>(tablesLive()).toBe(before);
  });
});
