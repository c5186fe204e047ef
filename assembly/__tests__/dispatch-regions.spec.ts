// Embedder regions through the boundary (assembly/boundary.ts): addRegion's validation (handler
// datum, kind, priority, space, f64 base/size, the space's limits), lowest-free ids, the overlap
// rule, and removeRegion (only register file, doorbell and host regions; never config mechanisms or
// whole BARs).
//
// Module state persists across the tests of this file: every test uses its own addresses.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, staging } from "../config/store";
import { OK, ERR_RANGE, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { setEcam, addRegion, removeRegion, regionBaseOf, regionSizeOf, barSizeOf, barBaseOf } from "../boundary";
import { access } from "../dispatch/access";
import { barAttach, barRegion } from "../dispatch/bar-mapper";
import { regionLookup, SPACE_MMIO, SPACE_IO, MAX_REGION_ID } from "../dispatch/region-table";
import {
  regionKind, regionSlot, regionBar, regionReads, KIND_FREE, KIND_ECAM, KIND_CF8, KIND_CFC, KIND_BAR,
  KIND_REGFILE, KIND_DOORBELL, KIND_HOST,
} from "../dispatch/regions";
import { regfileCreate } from "../dispatch/regfile";
import { doorbellCreate } from "../dispatch/doorbell";


const TWO52: f64 = 4503599627370496.0;
const TWO64: f64 = 18446744073709551616.0;

function lowestFree(): u32 {
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) if (regionKind(id) == KIND_FREE) return id;
  return 0;
}
function regfile(size: u32, first: u32): u32 {
  memory.fill(staging, 0, 8192);
  for (let i: u32 = 0; i < size; i++) {
    store<u8>(staging + <usize>i, <u8>(first + i));
    store<u8>(staging + 4096 + <usize>i, 0xff);
  }
  return regfileCreate(size);
}

const rf = regfile(16, 0x20);
const db = doorbellCreate();

describe("addRegion validation", () => {
  it("refuses a handler datum that names nothing and kinds an embedder cannot attach", () => {
    const free = lowestFree();
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 100, KIND_REGFILE, rf + 1)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 100, KIND_REGFILE, 0xffffffff)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 100, KIND_DOORBELL, db + 1)).toBe(ERR_RANGE);
    const kinds: u32[] = [KIND_FREE, KIND_ECAM, KIND_CF8, KIND_CFC, KIND_BAR, 8, 100, 0xffffffff];
    for (let i = 0; i < kinds.length; i++) {
      expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 100, kinds[i], 0)).toBe(ERR_RANGE, "kind " + kinds[i].toString());
    }
    expect<u32>(lowestFree()).toBe(free);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30000000)).toBe(0);
  });

  it("refuses priority > 255, a space other than MMIO/IO, and bad f64 base or size", () => {
    const free = lowestFree();
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 256, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 16, 0xffffffff, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(2, 0x30000000, 16, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(0xffffffff, 0x30000000, 16, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    const bad: f64[] = [NaN, -1.0, 0.5, Infinity, -Infinity, TWO64, 1e300, -0.25];
    for (let i = 0; i < bad.length; i++) {
      expect<i32>(addRegion(SPACE_MMIO, bad[i], 16, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
      expect<i32>(addRegion(SPACE_MMIO, 0x30000000, bad[i], 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    }
    expect<u32>(lowestFree()).toBe(free);
  });

  it("refuses size 0 and ranges past the space's end, freeing the id it tried", () => {
    const free = lowestFree();
    expect<i32>(addRegion(SPACE_MMIO, 0x30000000, 0, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, TWO52 - 16, 17, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, TWO52, 1, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_MMIO, 0, TWO52 + 1, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_IO, 0xfff0, 0x11, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<i32>(addRegion(SPACE_IO, 0x10000, 1, 100, KIND_HOST, 0)).toBe(ERR_RANGE);
    expect<u32>(lowestFree()).toBe(free, "the id is free again");
    expect<u32>(regionKind(free)).toBe(KIND_FREE);
    // the edges are accepted
    const a = addRegion(SPACE_MMIO, TWO52 - 16, 16, 100, KIND_HOST, 0);
    expect<i32>(a).toBe(<i32>free);
    const b = addRegion(SPACE_IO, 0xfff0, 0x10, 100, KIND_HOST, 0);
    expect<i32>(b).toBe(<i32>free + 1);
    expect<i32>(regionLookup(SPACE_IO, 0xffff)).toBe(b);
    expect<i32>(removeRegion(<u32>a)).toBe(OK);
    expect<i32>(removeRegion(<u32>b)).toBe(OK);
  });
});

describe("addRegion", () => {
  it("takes the lowest free id, records the kind and no slot, maps at base/size, handles accesses", () => {
    const free = lowestFree();
    const id = addRegion(SPACE_MMIO, 0x30001000, 0x10, 100, KIND_REGFILE, rf);
    expect<i32>(id).toBe(<i32>free);
    expect<u32>(regionKind(<u32>id)).toBe(KIND_REGFILE);
    expect<i32>(regionSlot(<u32>id)).toBe(-1);
    expect<u32>(regionBar(<u32>id)).toBe(0);
    expect<f64>(regionBaseOf(<u32>id)).toBe(<f64>0x30001000);
    expect<f64>(regionSizeOf(<u32>id)).toBe(16);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30000fff)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30001010)).toBe(0);
    expect<u64>(access(SPACE_MMIO, 0x30001000, 4, false, 0)).toBe(0x23222120);
    expect<u32>(lowestFree()).toBe(free + 1);
  });

  it("overlap: the higher priority wins, then the lower id; removing the winner uncovers the other", () => {
    const a = addRegion(SPACE_MMIO, 0x30002000, 0x100, 50, KIND_HOST, 1);
    const b = addRegion(SPACE_MMIO, 0x30002080, 0x100, 50, KIND_DOORBELL, db);
    const c = addRegion(SPACE_MMIO, 0x300020c0, 0x10, 51, KIND_REGFILE, rf);
    const d = addRegion(SPACE_MMIO, 0x300020f0, 0x10, 49, KIND_REGFILE, rf);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30002080)).toBe(a, "equal priority: the lower id");
    expect<i32>(regionLookup(SPACE_MMIO, 0x300020c0)).toBe(c, "higher priority");
    expect<i32>(regionLookup(SPACE_MMIO, 0x300020f0)).toBe(a, "lower priority loses");
    expect<i32>(regionLookup(SPACE_MMIO, 0x30002100)).toBe(b);
    expect<i32>(removeRegion(<u32>a)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30002080)).toBe(b);
    expect<i32>(regionLookup(SPACE_MMIO, 0x300020f0)).toBe(b);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30002000)).toBe(0);
    expect<i32>(removeRegion(<u32>b)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0x300020f0)).toBe(d);
    expect<i32>(removeRegion(<u32>c)).toBe(OK);
    expect<i32>(removeRegion(<u32>d)).toBe(OK);
  });

  it("priority 255 beats an ECAM window (250); the window wins over 249", () => {
    expect<i32>(setEcam(0, <f64>0xe0000000, 0, 0)).toBe(OK);
    const ecam = regionLookup(SPACE_MMIO, 0xe0000000);
    expect<u32>(regionKind(<u32>ecam)).toBe(KIND_ECAM);
    const hi = addRegion(SPACE_MMIO, 0xe0000000, 0x10, 255, KIND_REGFILE, rf);
    const lo = addRegion(SPACE_MMIO, 0xe0000010, 0x10, 249, KIND_REGFILE, rf);
    expect<i32>(regionLookup(SPACE_MMIO, 0xe0000000)).toBe(hi);
    expect<i32>(regionLookup(SPACE_MMIO, 0xe0000010)).toBe(ecam);
    expect<i32>(removeRegion(<u32>hi)).toBe(OK);
    expect<i32>(removeRegion(<u32>lo)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0xe0000000)).toBe(ecam);
  });
});

describe("removeRegion", () => {
  it("ERR_NOT_FOUND for id 0, ids past 4095 and free ids", () => {
    expect<i32>(removeRegion(0)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeRegion(MAX_REGION_ID + 1)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeRegion(0xffffffff)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeRegion(lowestFree())).toBe(ERR_NOT_FOUND);
    expect<i32>(removeRegion(MAX_REGION_ID)).toBe(ERR_NOT_FOUND);
  });

  it("ERR_RANGE for 0xCF8, 0xCFC, an ECAM window and a whole BAR; they stay mapped", () => {
    const cf8 = <u32>regionLookup(SPACE_IO, 0xcf8), cfc = <u32>regionLookup(SPACE_IO, 0xcfc);
    expect<i32>(removeRegion(cf8)).toBe(ERR_RANGE);
    expect<i32>(removeRegion(cfc)).toBe(ERR_RANGE);
    expect<u32>(regionKind(cf8)).toBe(KIND_CF8);
    expect<u32>(regionKind(cfc)).toBe(KIND_CFC);
    expect<i32>(regionLookup(SPACE_IO, 0xcf8)).toBe(<i32>cf8);
    const ecam = <u32>regionLookup(SPACE_MMIO, 0xe0000000);
    expect<i32>(removeRegion(ecam)).toBe(ERR_RANGE);
    expect<i32>(regionLookup(SPACE_MMIO, 0xe0000000)).toBe(<i32>ecam);
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u32>(staging + 0x04, 2);
    store<u32>(staging + 0x10, 0x30100000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x10), 0xfffff000);
    const slot = addFunction(0, 1, 0, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    const bar = barRegion(slot, 0);
    expect<f64>(barSizeOf(slot, 0)).toBe(4096);
    expect<f64>(barBaseOf(slot, 0)).toBe(<f64>0x30100000);
    expect<i32>(removeRegion(bar)).toBe(ERR_RANGE);
    expect<u32>(regionKind(bar)).toBe(KIND_BAR);
    expect<i32>(regionLookup(SPACE_MMIO, 0x30100000)).toBe(<i32>bar);
  });

  it("OK for register file, doorbell and host regions: unmapped, freed, reused lowest-first; a second remove is ERR_NOT_FOUND", () => {
    const a = addRegion(SPACE_MMIO, 0x30003000, 0x10, 100, KIND_REGFILE, rf);
    const b = addRegion(SPACE_IO, 0x3000, 0x10, 100, KIND_DOORBELL, db);
    const c = addRegion(SPACE_MMIO, 0x30004000, 0x10, 100, KIND_HOST, 0);
    expect<u64>(access(SPACE_MMIO, 0x30003000, 4, false, 0)).toBe(0x23222120);
    expect<f64>(regionReads(<u32>a)).toBe(1);
    expect<i32>(removeRegion(<u32>b)).toBe(OK);
    expect<u32>(regionKind(<u32>b)).toBe(KIND_FREE);
    expect<i32>(regionLookup(SPACE_IO, 0x3000)).toBe(0);
    expect<u64>(access(SPACE_IO, 0x3000, 4, false, 0)).toBe(0xffffffff);
    expect<i32>(removeRegion(<u32>b)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeRegion(<u32>a)).toBe(OK);
    expect<i32>(removeRegion(<u32>c)).toBe(OK);
    expect<u64>(access(SPACE_MMIO, 0x30003000, 4, false, 0)).toBe(0xffffffff);
    expect<u64>(access(SPACE_MMIO, 0x30004000, 4, false, 0)).toBe(0xffffffff);
    expect<u32>(lowestFree()).toBe(<u32>a);
    const again = addRegion(SPACE_MMIO, 0x30005000, 0x10, 100, KIND_REGFILE, rf);
    expect<i32>(again).toBe(a, "lowest free id first");
    expect<f64>(regionReads(<u32>again)).toBe(0, "a reused id starts with fresh counters");
    expect<i32>(removeRegion(<u32>again)).toBe(OK);
  });
});
