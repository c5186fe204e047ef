// Limits (own file: the tests take every register file, doorbell and region id of the module):
// regfileCreate (size 1..4096, 4096 files, contents and mask from staging), doorbellCreate (4096),
// and region-id exhaustion: addRegion / barHandler ERR_FULL, barAttach ERR_FULL all or nothing.
//
// The tests run in order and build on each other.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, slotWrite, blockOf, staging } from "../config/store";
import { OK, ERR_FULL, PLANE_SIZE, PLANES_SIZE, HOOK_PLANE } from "../config/layout";
import { addRegion, removeRegion, barHandler as boundaryBarHandler } from "../boundary";
import { access } from "../dispatch/access";
import { barAttach, barAttached, barKind, barRegion } from "../dispatch/bar-mapper";
import { regionLookup, SPACE_MMIO, MAX_REGION_ID } from "../dispatch/region-table";
import { regionKind, KIND_FREE, KIND_BAR, KIND_REGFILE, KIND_DOORBELL, KIND_HOST } from "../dispatch/regions";
import { regfileCreate, regfileValid, regfileRead, regfileWrite, REGFILE_MAX } from "../dispatch/regfile";
import { doorbellCreate, doorbellValid } from "../dispatch/doorbell";
import { effectsDrain } from "../dispatch/effects";

/** No region length limit: the register file's own size decides. */
const NO_LIMIT: u64 = 0xffffffffffffffff;


function lowestFree(): u32 {
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) if (regionKind(id) == KIND_FREE) return id;
  return 0;
}
function freeCount(): u32 {
  let n: u32 = 0;
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) if (regionKind(id) == KIND_FREE) n++;
  return n;
}

describe("regfileCreate", () => {
  it("refuses size 0 and sizes above 4096 without using a handle", () => {
    expect<u32>(REGFILE_MAX).toBe(4096);
    expect<u32>(regfileCreate(0)).toBe(0xffffffff);
    expect<u32>(regfileCreate(4097)).toBe(0xffffffff);
    expect<u32>(regfileCreate(0xffffffff)).toBe(0xffffffff);
    expect<bool>(regfileValid(0)).toBe(false);
  });

  it("copies values from staging[0..size) and the write mask from staging[4096..4096+size)", () => {
    memory.fill(staging, 0, 8192);
    for (let i: u32 = 0; i < 4096; i++) {
      store<u8>(staging + <usize>i, <u8>(i * 7));
      store<u8>(staging + 4096 + <usize>i, <u8>(i & 1 ? 0xff : 0x00));
    }
    const h = regfileCreate(4096);
    expect<u32>(h).toBe(0, "first handle");
    expect<bool>(regfileValid(0)).toBe(true);
    expect<bool>(regfileValid(1)).toBe(false);
    // staging is reused afterwards: the file keeps its own copy
    memory.fill(staging, 0xaa, 8192);
    expect<u64>(regfileRead(h, 0, 4, NO_LIMIT)).toBe(0x150e0700);
    expect<u64>(regfileRead(h, 4092, 4, NO_LIMIT)).toBe((<u64>(<u8>(4095 * 7)) << 24) | (<u64>(<u8>(4094 * 7)) << 16) | (<u64>(<u8>(4093 * 7)) << 8) | <u64>(<u8>(4092 * 7)));
    expect<u64>(regfileRead(h, 4094, 4, NO_LIMIT)).toBe(0xffff0000 | (<u64>(<u8>(4095 * 7)) << 8) | <u64>(<u8>(4094 * 7)));
    regfileWrite(h, 0, 4, 0xffffffff, NO_LIMIT);
    expect<u64>(regfileRead(h, 0, 4, NO_LIMIT)).toBe(0xff0eff00, "odd bytes writable, even ones not");
    // a 1-byte file
    store<u8>(staging, 0x5a);
    store<u8>(staging + 4096, 0x0f);
    const one = regfileCreate(1);
    expect<u32>(one).toBe(1);
    expect<u64>(regfileRead(one, 0, 2, NO_LIMIT)).toBe(0xff5a);
    regfileWrite(one, 0, 2, 0xffff, NO_LIMIT);
    expect<u64>(regfileRead(one, 0, 1, NO_LIMIT)).toBe(0x5f);
  });

  it("hands out 4096 handles in order, then 0xffffffff", () => {
    memory.fill(staging, 0, 8192);
    for (let i: u32 = 2; i < 4096; i++) {
      const h = regfileCreate(1);
      if (h != i) {
        expect<u32>(h).toBe(i);
        return;
      }
    }
    expect<u32>(regfileCreate(1)).toBe(0xffffffff);
    expect<u32>(regfileCreate(16)).toBe(0xffffffff);
    expect<bool>(regfileValid(4095)).toBe(true);
    expect<bool>(regfileValid(4096)).toBe(false);
  });
});

describe("doorbellCreate", () => {
  it("hands out 4096 doorbells in order, then 0xffffffff", () => {
    for (let i: u32 = 0; i < 4096; i++) {
      const d = doorbellCreate();
      if (d != i) {
        expect<u32>(d).toBe(i);
        return;
      }
    }
    expect<u32>(doorbellCreate()).toBe(0xffffffff);
    expect<bool>(doorbellValid(4095)).toBe(true);
    expect<bool>(doorbellValid(4096)).toBe(false);
  });
});

// A function with two implemented BARs and decode on (BAR0 at 0x80000000, BAR1 at 0x80010000).
let slot: i32 = -1;

describe("region ids run out", () => {
  it("addRegion takes ids up to 4095, then ERR_FULL", () => {
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u32>(staging + 0x04, 2);
    store<u32>(staging + 0x10, 0x80000000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x10), 0xfffff000);
    store<u32>(staging + 0x14, 0x80010000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x14), 0xfffff000);
    slot = addFunction(0, 1, 0, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<u32>(lowestFree()).toBe(3);
    for (let id: u32 = 3; id <= MAX_REGION_ID; id++) {
      const got = addRegion(SPACE_MMIO, <f64>((<u64>0x10000000) + (<u64>id << 12)), 0x1000, 100, KIND_HOST, id);
      if (got != <i32>id) {
        expect<i32>(got).toBe(<i32>id);
        return;
      }
    }
    expect<u32>(freeCount()).toBe(0);
    expect<i32>(addRegion(SPACE_MMIO, 0x20000000, 16, 100, KIND_HOST, 0)).toBe(ERR_FULL);
    expect<i32>(regionLookup(SPACE_MMIO, 0x20000000)).toBe(0);
  });

  it("barAttach with no id left: ERR_FULL, nothing attached, no hooks", () => {
    expect<i32>(barAttach(slot)).toBe(ERR_FULL);
    expect<bool>(barAttached(slot)).toBe(false);
    expect<u32>(barKind(slot, 0)).toBe(0);
    expect<u32>(load<u8>(blockOf(slot) + <usize>HOOK_PLANE + 1)).toBe(0);
    expect<u32>(load<u8>(blockOf(slot) + <usize>HOOK_PLANE + 4)).toBe(0);
  });

  it("barAttach with fewer free ids than BARs: ERR_FULL, and the ids it took are free again", () => {
    expect<i32>(removeRegion(100)).toBe(OK);
    expect<u32>(freeCount()).toBe(1);
    while (effectsDrain(0xffffffff) != 0) {}
    expect<i32>(barAttach(slot)).toBe(ERR_FULL);
    expect<u32>(freeCount()).toBe(1, "all or nothing");
    expect<u32>(regionKind(100)).toBe(KIND_FREE);
    expect<bool>(barAttached(slot)).toBe(false);
    expect<i32>(regionLookup(SPACE_MMIO, 0x80000000)).toBe(0);
    expect<u32>(load<u8>(blockOf(slot) + <usize>HOOK_PLANE + 4)).toBe(0);
    expect<u32>(effectsDrain(100)).toBe(0, "nothing was mapped");
    // a BAR write now moves nothing
    slotWrite(slot, 0x10, 4, 0x90000000);
    expect<i32>(regionLookup(SPACE_MMIO, 0x90000000)).toBe(0);
  });

  it("with enough ids barAttach then succeeds (ids in BAR order); barHandler runs out with ERR_FULL", () => {
    expect<i32>(removeRegion(200)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<u32>(barRegion(slot, 0)).toBe(100);
    expect<u32>(barRegion(slot, 1)).toBe(200);
    expect<u32>(regionKind(100)).toBe(KIND_BAR);
    expect<i32>(regionLookup(SPACE_MMIO, 0x90000000)).toBe(100);
    expect<i32>(regionLookup(SPACE_MMIO, 0x80010000)).toBe(200);
    expect<i32>(boundaryBarHandler(slot, 0, 0, 16, KIND_HOST, 0)).toBe(ERR_FULL);
    expect<i32>(boundaryBarHandler(slot, 1, 0, 16, KIND_REGFILE, 0)).toBe(ERR_FULL);
    expect<i32>(boundaryBarHandler(slot, 1, 0, 16, KIND_DOORBELL, 4095)).toBe(ERR_FULL);
    expect<i32>(regionLookup(SPACE_MMIO, 0x90000000)).toBe(100);
    expect<i32>(removeRegion(300)).toBe(OK);
    expect<i32>(boundaryBarHandler(slot, 0, 0x10, 16, KIND_REGFILE, 1)).toBe(300);
    expect<u64>(access(SPACE_MMIO, 0x90000010, 1, false, 0)).toBe(0x5f);
    while (effectsDrain(0xffffffff) != 0) {}
  });
});
