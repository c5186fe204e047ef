import {
  regionMap, regionUnmap, regionLookup, regionBase, regionSize, regionCount, regionReset,
  regionTableBytes, regionTableLiveBytes, regionTableBlocks, regionProbe,
  leafEntry, isTerminal, entryId, ENTRY_EMPTY, FIXED_BYTES, MMIO_LIMIT, SPACE_MMIO, SPACE_IO,
} from "../dispatch/region-table";
import { OK, ERR_RANGE, ERR_NOT_FOUND } from "../config/layout";

const GiB: u64 = 1 << 30;
const MiB: u64 = 1 << 20;

// Probe results: an id for a terminal entry, -1 for a pointer, -2 for "path ended above".
const PTR: i32 = -1;
const ABOVE: i32 = -2;

function blocks(): string {
  return regionTableBlocks(0).toString() + "," + regionTableBlocks(1).toString() + "," + regionTableBlocks(2).toString();
}

describe("entry encoding", () => {
  it("terminals are odd and carry the id; 0 is nothing mapped", () => {
    expect<u32>(ENTRY_EMPTY).toBe(leafEntry(0));
    expect<bool>(isTerminal(ENTRY_EMPTY)).toBe(true);
    expect<u32>(entryId(ENTRY_EMPTY)).toBe(0);
    expect<u32>(leafEntry(4095)).toBe(8191);
    expect<u32>(entryId(leafEntry(4095))).toBe(4095);
    expect<bool>(isTerminal(leafEntry(1))).toBe(true);
  });
  it("table addresses are even, so they read as pointers", () => {
    const t = heap.alloc(64);
    expect<bool>(isTerminal(<u32>t)).toBe(false);
    expect<u32>(<u32>t & 15).toBe(0);
  });
});

describe("level splits", () => {
  beforeEach(() => { regionReset(); });

  it("a 1 GiB aligned region is a level-1 terminal", () => {
    expect<i32>(regionMap(1, SPACE_MMIO, 4 * GiB, GiB, 0)).toBe(OK);
    expect<i32>(regionProbe(4 * GiB, 0)).toBe(PTR);
    expect<i32>(regionProbe(4 * GiB, 1)).toBe(1);
    expect<i32>(regionProbe(4 * GiB, 2)).toBe(ABOVE);
    expect<i32>(regionProbe(5 * GiB, 1)).toBe(0);
    expect<string>(blocks()).toBe("1,0,0");
  });

  it("a 512 GiB aligned region is a root terminal and needs no table", () => {
    const big: u64 = <u64>1 << 39;
    expect<i32>(regionMap(1, SPACE_MMIO, 3 * big, 2 * big, 0)).toBe(OK);
    expect<i32>(regionProbe(3 * big, 0)).toBe(1);
    expect<i32>(regionProbe(5 * big - 1, 0)).toBe(1);
    expect<i32>(regionProbe(5 * big, 0)).toBe(0);
    expect<string>(blocks()).toBe("0,0,0");
  });

  it("an unaligned range splits only at its two edges", () => {
    // [4 GiB + 2 MiB + 4 KiB, 6 GiB + 16): interior chunks are terminals at the highest level.
    const base = 4 * GiB + 2 * MiB + 4096;
    expect<i32>(regionMap(7, SPACE_MMIO, base, 2 * GiB - 2 * MiB - 4096 + 16, 0)).toBe(OK);
    expect<i32>(regionProbe(base - 1, 3)).toBe(0);
    expect<i32>(regionProbe(base, 3)).toBe(7);
    expect<i32>(regionProbe(4 * GiB + 4 * MiB, 2)).toBe(7);
    expect<i32>(regionProbe(5 * GiB, 1)).toBe(7);
    expect<i32>(regionProbe(6 * GiB, 3)).toBe(PTR);
    expect<i32>(regionProbe(6 * GiB, 4)).toBe(7);
    expect<i32>(regionProbe(6 * GiB + 16, 4)).toBe(0);
    // root + level 1 (one), start edge: levels 2 and 3; end edge: levels 2, 3 and one granule table.
    expect<string>(blocks()).toBe("5,1,0");
    expect<i32>(regionLookup(SPACE_MMIO, base - 1)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, base)).toBe(7);
    expect<i32>(regionLookup(SPACE_MMIO, 6 * GiB + 15)).toBe(7);
    expect<i32>(regionLookup(SPACE_MMIO, 6 * GiB + 16)).toBe(0);
  });

  it("tables collapse back into terminals when the variation goes", () => {
    expect<i32>(regionMap(1, SPACE_MMIO, 0, 4 * GiB, 0)).toBe(OK);
    expect<i32>(regionMap(2, SPACE_MMIO, 0xfeb00000, 0x10, 1)).toBe(OK);
    expect<string>(blocks()).toBe("3,1,0");
    expect<i32>(regionUnmap(2)).toBe(OK);
    expect<i32>(regionProbe(0xfeb00000, 1)).toBe(1);
    expect<string>(blocks()).toBe("1,0,0");
    // The same 16 bytes under region 1 (lower priority): hidden, so no table at all.
    expect<i32>(regionMap(2, SPACE_MMIO, 0xfeb00000, 0x10, 0)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0xfeb00000)).toBe(1);
    expect<string>(blocks()).toBe("1,0,0");
  });
});

describe("sub-page regions", () => {
  beforeEach(() => { regionReset(); });

  it("several 16-byte BARs share a page through one granule table", () => {
    for (let i: u32 = 0; i < 8; i++) {
      expect<i32>(regionMap(10 + i, SPACE_MMIO, 0xfebf0000 + <u64>i * 32, 16, 0)).toBe(OK);
    }
    expect<string>(blocks()).toBe("3,1,0");
    for (let i: u32 = 0; i < 8; i++) {
      const b = 0xfebf0000 + <u64>i * 32;
      expect<i32>(regionLookup(SPACE_MMIO, b)).toBe(10 + i);
      expect<i32>(regionLookup(SPACE_MMIO, b + 15)).toBe(10 + i);
      expect<i32>(regionLookup(SPACE_MMIO, b + 16)).toBe(0);
      expect<i32>(regionProbe(b, 4)).toBe(10 + i);
    }
  });

  it("odd sizes and 1-byte regions go down to a byte table", () => {
    expect<i32>(regionMap(1, SPACE_MMIO, 0x1000, 0x1000, 0)).toBe(OK);
    expect<i32>(regionMap(2, SPACE_MMIO, 0x1003, 1, 1)).toBe(OK);
    expect<i32>(regionMap(3, SPACE_MMIO, 0x1005, 3, 1)).toBe(OK);
    expect<string>(blocks()).toBe("3,1,1");
    expect<i32>(regionProbe(0x1003, 4)).toBe(PTR);
    expect<i32>(regionProbe(0x1003, 5)).toBe(2);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1002)).toBe(1);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1003)).toBe(2);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1004)).toBe(1);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1005)).toBe(3);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1007)).toBe(3);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1008)).toBe(1);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1fff)).toBe(1);
    expect<i32>(regionLookup(SPACE_MMIO, 0x2000)).toBe(0);
  });

  it("IO ports resolve to the byte, overlaps by priority then id", () => {
    expect<i32>(regionMap(5, SPACE_IO, 0xcf8, 8, 0)).toBe(OK);
    expect<i32>(regionMap(4, SPACE_IO, 0xcfc, 1, 0)).toBe(OK);
    expect<i32>(regionMap(6, SPACE_IO, 0xcfd, 2, 0)).toBe(OK);
    expect<i32>(regionLookup(SPACE_IO, 0xcf7)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0xcf8)).toBe(5);
    expect<i32>(regionLookup(SPACE_IO, 0xcfc)).toBe(4);
    expect<i32>(regionLookup(SPACE_IO, 0xcfd)).toBe(5);
    expect<i32>(regionLookup(SPACE_IO, 0xcff)).toBe(5);
    expect<i32>(regionLookup(SPACE_IO, 0xd00)).toBe(0);
    expect<i32>(regionMap(6, SPACE_IO, 0xcfd, 2, 1)).toBe(OK);
    expect<i32>(regionLookup(SPACE_IO, 0xcfd)).toBe(6);
    expect<i32>(regionLookup(SPACE_IO, 0xcfe)).toBe(6);
    expect<i32>(regionUnmap(5)).toBe(OK);
    expect<i32>(regionLookup(SPACE_IO, 0xcf8)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0xcfc)).toBe(4);
    expect<i32>(regionLookup(SPACE_IO, 0xcfd)).toBe(6);
  });
});

let firstPassBytes: u32 = 0;

describe("free lists", () => {
  beforeEach(() => { regionReset(); });

  it("recycle tables: repeating a churn pattern never grows the heap again", () => {
    // 50 regions, each moved through 100 places (some straddling a page); 5000 map/unmap pairs.
    for (let pass = 0; pass < 3; pass++) {
      for (let round = 0; round < 100; round++) {
        for (let id: u32 = 1; id <= 50; id++) {
          regionMap(id, SPACE_MMIO, <u64>id * 0x10_0000_0000 + 0x1230 + <u64>round * 64, 0x44, 0);
        }
        for (let id: u32 = 1; id <= 50; id++) regionUnmap(id);
      }
      expect<u32>(regionTableLiveBytes()).toBe(0);
      if (pass == 0) firstPassBytes = regionTableBytes();
      else expect<u32>(regionTableBytes()).toBe(firstPassBytes);
    }
    expect<string>(blocks()).toBe("0,0,0");
  });

  it("reset returns every table to the free lists", () => {
    regionMap(1, SPACE_MMIO, 0x1001, 3, 0);
    expect<u32>(regionTableLiveBytes()).toBe(3 * 2048 + 1024 + 64);
    const bytes = regionTableBytes();
    regionReset();
    expect<u32>(regionTableLiveBytes()).toBe(0);
    expect<i32>(regionCount()).toBe(0);
    regionMap(1, SPACE_MMIO, 0x7001, 3, 0);
    expect<u32>(regionTableBytes()).toBe(bytes);
    expect<bool>(bytes >= FIXED_BYTES).toBe(true);
  });
});

describe("bounds and bad arguments", () => {
  beforeEach(() => { regionReset(); });

  it("rejects bad ids, spaces, priorities, sizes and ranges without changing anything", () => {
    expect<i32>(regionMap(0, SPACE_MMIO, 0, 16, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(4096, SPACE_MMIO, 0, 16, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(0xffffffff, SPACE_MMIO, 0, 16, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, 2, 0, 16, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, 0, 16, 256)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, 0, 0, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, MMIO_LIMIT, 1, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, MMIO_LIMIT - 1, 2, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, 1, u64.MAX_VALUE, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_MMIO, u64.MAX_VALUE, 1, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_IO, 0xffff, 2, 0)).toBe(ERR_RANGE);
    expect<i32>(regionMap(1, SPACE_IO, 0x10000, 1, 0)).toBe(ERR_RANGE);
    expect<i32>(regionCount()).toBe(0);
    expect<u32>(regionTableLiveBytes()).toBe(0);
    // A rejected move leaves the old mapping in place.
    expect<i32>(regionMap(1, SPACE_MMIO, 0x1000, 0x1000, 0)).toBe(OK);
    expect<i32>(regionMap(1, SPACE_MMIO, 0x1000, 0, 0)).toBe(ERR_RANGE);
    expect<i32>(regionLookup(SPACE_MMIO, 0x1000)).toBe(1);
    expect<i32>(regionUnmap(0)).toBe(ERR_RANGE);
    expect<i32>(regionUnmap(4096)).toBe(ERR_RANGE);
    expect<i32>(regionUnmap(2)).toBe(ERR_NOT_FOUND);
    expect<i32>(regionUnmap(1)).toBe(OK);
    expect<i32>(regionUnmap(1)).toBe(ERR_NOT_FOUND);
  });

  it("the whole space maps; the ceiling and everything above stay unmapped", () => {
    expect<i32>(regionMap(4095, SPACE_MMIO, 0, MMIO_LIMIT, 255)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0)).toBe(4095);
    expect<i32>(regionLookup(SPACE_MMIO, MMIO_LIMIT - 1)).toBe(4095);
    expect<i32>(regionLookup(SPACE_MMIO, MMIO_LIMIT)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, u64.MAX_VALUE)).toBe(0);
    expect<i32>(regionLookup(2, 0)).toBe(0);
    expect<i32>(regionLookup(0xffffffff, 0)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0x10000)).toBe(0);
    expect<u64>(regionBase(4095)).toBe(0);
    expect<u64>(regionSize(4095)).toBe(MMIO_LIMIT);
    expect<u64>(regionSize(4096)).toBe(0);
    expect<u64>(regionBase(0xffffffff)).toBe(0);
    expect<i32>(regionProbe(MMIO_LIMIT, 0)).toBe(ABOVE);
    expect<i32>(regionProbe(0, 6)).toBe(ABOVE);
    expect<i32>(regionProbe(0, -1)).toBe(ABOVE);
    expect<string>(blocks()).toBe("0,0,0");
    expect<i32>(regionTableBlocks(3)).toBe(-1);
  });

  it("moves an id: unmap then map, the count unchanged", () => {
    expect<i32>(regionMap(9, SPACE_MMIO, 0x8000, 0x100, 0)).toBe(OK);
    expect<i32>(regionMap(9, SPACE_IO, 0x8000, 0x100, 0)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0x8000)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0x8000)).toBe(9);
    expect<i32>(regionCount()).toBe(1);
    expect<u64>(regionBase(9)).toBe(0x8000);
    expect<u32>(regionTableLiveBytes()).toBe(0);
  });
});
