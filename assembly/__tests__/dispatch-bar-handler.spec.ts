// BAR sub-range handlers (barHandler in assembly/dispatch/bar-mapper.ts and its boundary adapter in
// assembly/boundary.ts): offset/length validation, handler datum validation, regions that move with
// their BAR, priority 20 over any whole BAR, the lower id among equals, and what removeRegion may do.
//
// Module state persists across the tests of this file: every test adds its own function on its own
// bus at its own addresses.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, slotWrite, staging } from "../config/store";
import { OK, ERR_RANGE, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE, MAX_FUNCTIONS } from "../config/layout";
import { barHandler as boundaryBarHandler, addRegion, removeRegion } from "../boundary";
import {
  barAttach, barHandler, barRegion, barMapped, barBase,
} from "../dispatch/bar-mapper";
import { regionLookup, regionBase, regionSize, SPACE_MMIO, SPACE_IO, MAX_REGION_ID } from "../dispatch/region-table";
import {
  regionKind, regionSlot, regionBar, KIND_FREE, KIND_ECAM, KIND_CF8, KIND_CFC, KIND_BAR,
  KIND_REGFILE, KIND_DOORBELL, KIND_HOST,
} from "../dispatch/regions";
import { regfileCreate } from "../dispatch/regfile";
import { doorbellCreate, doorbellCount, eventsDrain } from "../dispatch/doorbell";
import { effectsDrain } from "../dispatch/effects";
import { access } from "../dispatch/access";


const TWO64: f64 = 18446744073709551616.0;

// ---- helpers ----------------------------------------------------------------------------------
function clearStaging(): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
}
function cfg(off: u32, v: u32): void {
  store<u32>(staging + <usize>off, v);
}
function wm(off: u32, v: u32): void {
  store<u32>(staging + <usize>(PLANE_SIZE + off), v);
}
/** BAR0 IO 256 B, BAR1 mem32 64 KiB, BAR2-3 mem64 16 KiB, BAR4 none, BAR5 none, ROM 64 KiB; attached. */
function standard(bus: u32, dev: u32): i32 {
  clearStaging();
  wm(0x04, 0x00000007);
  cfg(0x10, 0x00000001); wm(0x10, 0xffffff00);
  cfg(0x14, 0x00000000); wm(0x14, 0xffff0000);
  cfg(0x18, 0x0000000c); wm(0x18, 0xffffc000);
  cfg(0x1c, 0x00000000); wm(0x1c, 0xffffffff);
  wm(0x30, 0xffff0001);
  const slot = addFunction(0, bus, dev, 0, 256);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction");
  expect<i32>(loadPlanes(slot)).toBe(OK);
  expect<i32>(barAttach(slot)).toBe(OK);
  return slot;
}
function w32(slot: i32, reg: u32, v: u32): void {
  slotWrite(slot, reg, 4, v);
}
function command(slot: i32, v: u32): void {
  slotWrite(slot, 0x04, 2, v);
}
function lowestFree(): u32 {
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) if (regionKind(id) == KIND_FREE) return id;
  return 0;
}
/** A register file of `size` bytes whose byte i is (first + i) & 0xff, all bits writable. */
function regfile(size: u32, first: u32): u32 {
  memory.fill(staging, 0, 8192);
  for (let i: u32 = 0; i < size; i++) {
    store<u8>(staging + <usize>i, <u8>(first + i));
    store<u8>(staging + 4096 + <usize>i, 0xff);
  }
  const h = regfileCreate(size);
  expect<u32>(h).not.toBe(0xffffffff, "regfileCreate");
  return h;
}
function drainEffects(): void {
  while (effectsDrain(0xffffffff) != 0) {}
}
function mmio32(addr: u64): u64 {
  return access(SPACE_MMIO, addr, 4, false, 0);
}

const doorbell0 = doorbellCreate();
const rf0 = regfile(16, 0x40);

describe("barHandler validation", () => {
  it("ERR_NOT_FOUND: slot out of range, not in use or not attached; BAR index past 6; unimplemented BAR or upper half", () => {
    const s = standard(1, 0);
    const free = lowestFree();
    expect<i32>(barHandler(-1, 1, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(barHandler(<i32>MAX_FUNCTIONS, 1, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(barHandler(4000, 1, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    // a function that exists but was never attached
    clearStaging();
    wm(0x14, 0xfffff000);
    const unattached = addFunction(0, 1, 1, 0, 256);
    expect<i32>(loadPlanes(unattached)).toBe(OK);
    expect<i32>(barHandler(unattached, 1, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(barHandler(s, 7, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(barHandler(s, 0xffffffff, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(barHandler(s, 3, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND, "upper half");
    expect<i32>(barHandler(s, 4, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND, "unimplemented");
    expect<i32>(barHandler(s, 5, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND, "unimplemented");
    expect<u32>(lowestFree()).toBe(free, "no id taken");
  });

  it("ERR_RANGE: length 0, offset at or past the end, offset + length past the end (no overflow)", () => {
    const s = standard(2, 0);
    const free = lowestFree();
    expect<i32>(barHandler(s, 1, 0, 0, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 1, 0x10000, 1, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 1, 0xfff0, 0x11, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 1, 0, 0x10001, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 1, 0x10, 0xffffffffffffffff, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 1, 0xffffffffffffffff, 2, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(barHandler(s, 0, 0xf0, 0x11, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE, "IO BAR of 256 B");
    expect<i32>(barHandler(s, 6, 0, 0x10001, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE, "ROM of 64 KiB");
    expect<u32>(lowestFree()).toBe(free, "no id taken");
    // the edges are accepted
    expect<i32>(barHandler(s, 1, 0xfff0, 0x10, KIND_DOORBELL, doorbell0)).toBe(<i32>free);
    expect<i32>(barHandler(s, 1, 0, 0x10000, KIND_DOORBELL, doorbell0)).toBe(<i32>(free + 1));
    expect<i32>(barHandler(s, 1, 0xffff, 1, KIND_DOORBELL, doorbell0)).toBe(<i32>(free + 2));
    expect<i32>(barHandler(s, 2, 0x3fff, 1, KIND_DOORBELL, doorbell0)).toBe(<i32>(free + 3));
    expect<i32>(barHandler(s, 6, 0, 0x10000, KIND_DOORBELL, doorbell0)).toBe(<i32>(free + 4));
  });

  it("the boundary refuses a handler datum that names nothing, a kind that is not an embedder handler, and bad f64s", () => {
    const s = standard(3, 0);
    const free = lowestFree();
    const noRegfile = regfile(4, 0) + 1; // one past the last created
    const noDoorbell = doorbellCreate() + 1;
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_REGFILE, noRegfile)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_REGFILE, 0xffffffff)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_DOORBELL, noDoorbell)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_DOORBELL, 0x80000000)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_FREE, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_ECAM, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_CF8, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_CFC, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_BAR, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, 8, 0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, 0xffffffff, 0)).toBe(ERR_RANGE);
    const bad: f64[] = [NaN, -1.0, 0.5, Infinity, -Infinity, TWO64, 1e300];
    for (let i = 0; i < bad.length; i++) {
      expect<i32>(boundaryBarHandler(s, 1, bad[i], 16, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
      expect<i32>(boundaryBarHandler(s, 1, 0, bad[i], KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    }
    expect<u32>(lowestFree()).toBe(free, "no id taken by a refused call");
    // the boundary passes range errors through, and accepts any datum for a host model
    expect<i32>(boundaryBarHandler(s, 1, 0, 0x10001, KIND_DOORBELL, doorbell0)).toBe(ERR_RANGE);
    expect<i32>(boundaryBarHandler(s, 4, 0, 16, KIND_DOORBELL, doorbell0)).toBe(ERR_NOT_FOUND);
    expect<i32>(boundaryBarHandler(s, 1, 0, 16, KIND_HOST, 12345)).toBe(<i32>free);
    expect<i32>(boundaryBarHandler(s, 1, 16, 16, KIND_REGFILE, noRegfile - 1)).toBe(<i32>(free + 1));
    expect<i32>(boundaryBarHandler(s, 1, 32, 16, KIND_DOORBELL, noDoorbell - 1)).toBe(<i32>(free + 2));
    expect<u32>(regionKind(free)).toBe(KIND_HOST);
    expect<u32>(regionKind(free + 1)).toBe(KIND_REGFILE);
    expect<u32>(regionKind(free + 2)).toBe(KIND_DOORBELL);
  });
});

describe("handler regions move with their BAR", () => {
  it("registered on a mapped BAR: mapped at once at BAR base + offset, length long, with slot and bar recorded", () => {
    const s = standard(4, 0);
    command(s, 2);
    w32(s, 0x14, 0xc0000000);
    const h = barHandler(s, 1, 0x100, 0x20, KIND_REGFILE, rf0);
    expect<i32>(h).toBeGreaterThan(0);
    expect<u64>(regionBase(<u32>h)).toBe(0xc0000100);
    expect<u64>(regionSize(<u32>h)).toBe(0x20);
    expect<i32>(regionSlot(<u32>h)).toBe(s);
    expect<u32>(regionBar(<u32>h)).toBe(1);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc00000ff)).toBe(<i32>barRegion(s, 1));
    expect<i32>(regionLookup(SPACE_MMIO, 0xc0000100)).toBe(h);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc000011f)).toBe(h);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc0000120)).toBe(<i32>barRegion(s, 1));
    // the register file is addressed from the handler's start
    expect<u64>(mmio32(0xc0000100)).toBe(0x43424140);
    expect<u64>(mmio32(0xc000010c)).toBe(0x4f4e4d4c);
    expect<u64>(mmio32(0xc0000110)).toBe(0xffffffff, "past the 16-byte register file");
    expect<u64>(mmio32(0xc00000fc)).toBe(0, "the whole BAR around it reads 0");
    command(s, 0);
    drainEffects();
  });

  it("registered on an unmapped BAR: not mapped; mapped, moved and unmapped together with the BAR", () => {
    const s = standard(5, 0);
    const h1 = barHandler(s, 1, 0x1000, 0x100, KIND_DOORBELL, doorbell0);
    const h2 = barHandler(s, 1, 0x2000, 0x10, KIND_REGFILE, rf0);
    expect<u64>(regionSize(<u32>h1)).toBe(0, "not mapped while the BAR is not");
    expect<u64>(regionSize(<u32>h2)).toBe(0);
    w32(s, 0x14, 0xc1000000);
    expect<u64>(regionSize(<u32>h1)).toBe(0, "Command still 0");
    command(s, 2);
    expect<u64>(regionBase(<u32>h1)).toBe(0xc1001000);
    expect<u64>(regionBase(<u32>h2)).toBe(0xc1002000);
    w32(s, 0x14, 0xc2000000);
    expect<u64>(regionBase(<u32>h1)).toBe(0xc2001000);
    expect<u64>(regionBase(<u32>h2)).toBe(0xc2002000);
    expect<u64>(regionSize(<u32>h1)).toBe(0x100);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1001000)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc2001000)).toBe(h1);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc2002000)).toBe(h2);
    w32(s, 0x14, 0);
    expect<u64>(regionSize(<u32>h1)).toBe(0);
    expect<u64>(regionSize(<u32>h2)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc2001000)).toBe(0);
    // a handler added to a 64-bit BAR follows the staged/upper rule
    const h3 = barHandler(s, 2, 0x10, 0x10, KIND_REGFILE, rf0);
    w32(s, 0x18, 0x0);
    w32(s, 0x1c, 0x2);
    expect<u64>(regionBase(<u32>h3)).toBe(0x200000010);
    w32(s, 0x18, 0x40000000);
    expect<u64>(regionBase(<u32>h3)).toBe(0x200000010, "the lower dword is staged");
    w32(s, 0x1c, 0x3);
    expect<u64>(regionBase(<u32>h3)).toBe(0x340000010);
    expect<u64>(access(SPACE_MMIO, 0x340000010, 8, false, 0)).toBe(0x4746454443424140);
    command(s, 0);
    drainEffects();
  });

  it("on an IO BAR the handler is in IO space; on the ROM it needs the enable bit", () => {
    const s = standard(6, 0);
    const hio = barHandler(s, 0, 0x80, 0x10, KIND_REGFILE, rf0);
    const hrom = barHandler(s, 6, 0x0, 0x10, KIND_REGFILE, rf0);
    command(s, 3);
    w32(s, 0x10, 0xd000);
    expect<i32>(regionLookup(SPACE_IO, 0xd080)).toBe(hio);
    expect<i32>(regionLookup(SPACE_MMIO, 0xd080)).toBe(0);
    expect<u64>(access(SPACE_IO, 0xd080, 4, false, 0)).toBe(0x43424140);
    w32(s, 0x30, 0xc3000000);
    expect<u64>(regionSize(<u32>hrom)).toBe(0);
    w32(s, 0x30, 0xc3000001);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc3000000)).toBe(hrom);
    expect<u64>(mmio32(0xc3000004)).toBe(0x47464544);
    command(s, 0);
    drainEffects();
  });
});

describe("register file handlers cut by the BAR's end", () => {
  it("a register file longer than the rest of the BAR: region = BAR size - offset; bytes past the region's end read 0xff and are not written", () => {
    // spec: a regfile BAR handler without an explicit length is min(size, BAR size - offset) long,
    // and "bytes of an access past the region's end read 0xff and are not written (regfile)".
    const s = standard(13, 0);
    command(s, 2);
    w32(s, 0x14, 0xce000000);
    const rf32 = regfile(32, 0xa0); // a0..bf
    const h = barHandler(s, 1, 0xfff0, 0x10, KIND_REGFILE, rf32); // min(32, 0x10000 - 0xfff0)
    expect<u64>(regionSize(<u32>h)).toBe(0x10);
    expect<u64>(access(SPACE_MMIO, 0xce00fff8, 8, false, 0)).toBe(0xafaeadacabaaa9a8);
    expect<u64>(access(SPACE_MMIO, 0xce00fffc, 8, false, 0)).toBe(0xffffffffafaeadac, "4 bytes in the region, 4 past the BAR's end");
    access(SPACE_MMIO, 0xce00fffc, 8, true, 0);
    expect<u64>(access(SPACE_MMIO, 0xce00fff8, 8, false, 0)).toBe(0x00000000abaaa9a8);
    // register file bytes 16..19 lie outside the region: unwritten (check through a second region)
    const whole = addRegion(SPACE_MMIO, 0xcf000000, 32, 100, KIND_REGFILE, rf32);
    expect<u64>(access(SPACE_MMIO, 0xcf000010, 4, false, 0)).toBe(0xb3b2b1b0, "bytes 16..19 of the register file not written");
    expect<i32>(removeRegion(<u32>whole)).toBe(OK);
    command(s, 0);
    drainEffects();
  });
});

describe("priority", () => {
  it("a handler wins over another function's whole BAR even when that BAR has the lower id; whole BARs: lower id wins", () => {
    const a = standard(7, 0);
    const b = standard(7, 1);
    expect<u32>(barRegion(a, 1)).toBeLessThan(barRegion(b, 1));
    command(a, 2);
    command(b, 2);
    w32(a, 0x14, 0xc4000000);
    w32(b, 0x14, 0xc4000000);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc4000000)).toBe(<i32>barRegion(a, 1), "equal priority: lower id");
    const h = barHandler(b, 1, 0x40, 0x10, KIND_REGFILE, rf0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc4000040)).toBe(h);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc4000050)).toBe(<i32>barRegion(a, 1));
    expect<u64>(mmio32(0xc4000040)).toBe(0x43424140);
    // the handler keeps winning when function a's BAR moves over it again
    w32(a, 0x14, 0xc5000000);
    w32(a, 0x14, 0xc4000000);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc4000040)).toBe(h);
    command(a, 0);
    command(b, 0);
    drainEffects();
  });

  it("overlapping handlers: the lower id (registered first) wins; an embedder region above 20 wins, below 20 loses", () => {
    const s = standard(8, 0);
    command(s, 2);
    w32(s, 0x14, 0xc6000000);
    const h1 = barHandler(s, 1, 0x0, 0x100, KIND_DOORBELL, doorbell0);
    const h2 = barHandler(s, 1, 0x80, 0x100, KIND_REGFILE, rf0);
    expect<i32>(h2).toBeGreaterThan(h1);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc60000ff)).toBe(h1);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000100)).toBe(h2);
    const low = addRegion(SPACE_MMIO, 0xc6000000, 0x400, 19, KIND_REGFILE, rf0);
    const high = addRegion(SPACE_MMIO, 0xc6000300, 0x40, 21, KIND_DOORBELL, doorbell0);
    expect<i32>(low).toBeGreaterThan(0);
    expect<i32>(high).toBeGreaterThan(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000000)).toBe(h1, "handler (20) over embedder (19)");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000200)).toBe(low, "embedder (19) over whole BAR (10)");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000400)).toBe(<i32>barRegion(s, 1));
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000300)).toBe(high, "embedder (21) over handler (20)");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000340)).toBe(low);
    // when the BAR moves, the handlers follow it and the fixed embedder regions stay
    w32(s, 0x14, 0xc6010000);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000000)).toBe(low);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000300)).toBe(high);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6010000)).toBe(h1);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6010100)).toBe(h2);
    expect<i32>(removeRegion(<u32>low)).toBe(OK);
    expect<i32>(removeRegion(<u32>high)).toBe(OK);
    command(s, 0);
    drainEffects();
  });
});

describe("removeRegion and BAR handlers", () => {
  it("a BAR handler's id, once handed to removeRegion, never drags another region along with the BAR", () => {
    // removeRegion only refuses by kind (regfile/doorbell/host are removable), so it frees a BAR
    // handler region while the BAR's handler list still links that id. When the id is reused by a
    // new embedder region (lowest free first), moving or unmapping the BAR must not touch it.
    const s = standard(9, 0);
    command(s, 2);
    w32(s, 0x14, 0xc7000000);
    const h = barHandler(s, 1, 0x100, 0x10, KIND_DOORBELL, doorbell0);
    expect<i32>(h).toBeGreaterThan(0);
    const status = removeRegion(<u32>h);
    if (status == ERR_RANGE) return; // refused as "not an embedder region": nothing dangles
    expect<i32>(status).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc7000100)).toBe(<i32>barRegion(s, 1), "the handler is gone");
    const e = addRegion(SPACE_MMIO, 0xd8000000, 0x10, 100, KIND_REGFILE, rf0);
    expect<i32>(e).toBe(h, "the freed id is the lowest free one");
    expect<u64>(regionBase(<u32>e)).toBe(0xd8000000);
    // The guest moves the BAR, then turns memory decode off.
    w32(s, 0x14, 0xc8000000);
    expect<u64>(regionBase(<u32>e)).toBe(0xd8000000, "embedder region stays at its fixed address after the BAR moved");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc8000100)).toBe(<i32>barRegion(s, 1), "nothing but the BAR at BAR+0x100");
    command(s, 0);
    expect<u64>(regionSize(<u32>e)).toBe(0x10, "embedder region still mapped after the BAR was unmapped");
    expect<u64>(mmio32(0xd8000000)).toBe(0x43424140);
    drainEffects();
  });
});

describe("removeRegion and BAR handlers (2)", () => {
  it("a freed BAR handler id reused by another function's BAR handler stays on that function's BAR", () => {
    const a = standard(12, 0);
    const b = standard(12, 1);
    command(a, 2);
    command(b, 2);
    w32(a, 0x14, 0xcb000000);
    w32(b, 0x14, 0xcc000000);
    const ha = barHandler(a, 1, 0x100, 0x10, KIND_DOORBELL, doorbell0);
    const status = removeRegion(<u32>ha);
    if (status == ERR_RANGE) return; // refused: nothing dangles
    expect<i32>(status).toBe(OK);
    const hb = barHandler(b, 1, 0x20, 0x10, KIND_REGFILE, rf0);
    expect<i32>(hb).toBe(ha, "the freed id is the lowest free one");
    expect<u64>(regionBase(<u32>hb)).toBe(0xcc000020);
    w32(a, 0x14, 0xcd000000); // function a's BAR moves
    expect<u64>(regionBase(<u32>hb)).toBe(0xcc000020, "b's handler stays on b's BAR when a's BAR moves");
    expect<i32>(regionLookup(SPACE_MMIO, 0xcd000020)).toBe(<i32>barRegion(a, 1), "a's BAR holds no handler at +0x20");
    command(a, 0);
    command(b, 0);
    drainEffects();
  });
});

describe("doorbell and host handlers on a BAR", () => {
  it("a doorbell handler counts writes and queues events naming its region and the offset in the region", () => {
    while (eventsDrain(0xffffffff) != 0) {}
    const s = standard(10, 0);
    command(s, 2);
    w32(s, 0x14, 0xc9000000);
    const db = doorbellCreate();
    const h = barHandler(s, 1, 0x200, 0x10, KIND_DOORBELL, db);
    access(SPACE_MMIO, 0xc9000208, 4, true, 0xabcd);
    access(SPACE_MMIO, 0xc9000200, 2, true, 0x12345);
    expect<u64>(doorbellCount(db)).toBe(2);
    expect<u64>(mmio32(0xc9000200)).toBe(2);
    expect<u32>(eventsDrain(10)).toBe(2);
    expect<u32>(load<u32>(staging)).toBe(<u32>h);
    expect<u32>(load<u32>(staging, 4)).toBe(4);
    expect<u64>(load<u64>(staging, 8)).toBe(8);
    expect<u64>(load<u64>(staging, 16)).toBe(0xabcd);
    expect<u32>(load<u32>(staging, 32 + 4)).toBe(2);
    expect<u64>(load<u64>(staging, 32 + 8)).toBe(0);
    expect<u64>(load<u64>(staging, 32 + 16)).toBe(0x2345, "value truncated to the access size");
    command(s, 0);
    drainEffects();
  });

  it("a host handler on a BAR sees the mailbox (the suite's host.access does nothing): reads all ones for the size", () => {
    const s = standard(11, 0);
    command(s, 2);
    w32(s, 0x14, 0xca000000);
    const h = barHandler(s, 1, 0x0, 0x100, KIND_HOST, 7);
    expect<i32>(regionLookup(SPACE_MMIO, 0xca000000)).toBe(h);
    expect<u64>(access(SPACE_MMIO, 0xca000000, 1, false, 0)).toBe(0xff);
    expect<u64>(access(SPACE_MMIO, 0xca000000, 2, false, 0)).toBe(0xffff);
    expect<u64>(access(SPACE_MMIO, 0xca000000, 8, false, 0)).toBe(0xffffffffffffffff);
    expect<u64>(access(SPACE_MMIO, 0xca000000, 4, true, 0)).toBe(0);
    command(s, 0);
    drainEffects();
  });
});
