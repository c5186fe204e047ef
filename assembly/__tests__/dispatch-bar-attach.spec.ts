// barAttach (assembly/dispatch/bar-mapper.ts): the BAR layout read from a function's planes (types
// from the registers, sizes from the write masks), region ids in BAR order, the hook bytes, the
// initial mapping, ERR_EXISTS / ERR_NOT_FOUND, and barDetach / removeFunction freeing everything.
//
// Module state persists across the tests of this file: every test adds its own functions on its
// own bus, and region ids are checked against the lowest free id at the time of the call.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import {
  addFunction, removeFunction, loadPlanes, slotWrite, blockOf, staging,
} from "../config/store";
import {
  OK, ERR_EXISTS, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE, HOOK_PLANE, MAX_FUNCTIONS,
} from "../config/layout";
import {
  barAttach, barDetach, barAttached, barKind, barMapped, barRegion, barSize, barBase, barHandler,
  BAR_NONE, BAR_IO, BAR_MEM32, BAR_MEM64, BAR_ROM, BAR_UPPER, HOOK_BARS,
} from "../dispatch/bar-mapper";
import { regionLookup, regionBase, regionSize, SPACE_MMIO, SPACE_IO, MAX_REGION_ID } from "../dispatch/region-table";
import { regionKind, regionSlot, regionBar, KIND_BAR, KIND_FREE, KIND_DOORBELL } from "../dispatch/regions";
import { effectsDrain } from "../dispatch/effects";
import { HOOK_BRIDGE } from "../config/layout";
import { access } from "../dispatch/access";


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
/** Adds a function on segment 0 with the staged planes; returns its slot. */
function commit(bus: u32, dev: u32, fn: u32): i32 {
  const slot = addFunction(0, bus, dev, fn, 256);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction");
  expect<i32>(loadPlanes(slot)).toBe(OK, "loadPlanes");
  return slot;
}
/** The lowest free region id now (what the next allocation gets). */
function lowestFree(): u32 {
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) if (regionKind(id) == KIND_FREE) return id;
  return 0;
}
function hook(slot: i32, dword: u32): u32 {
  return <u32>load<u8>(blockOf(slot) + <usize>HOOK_PLANE + <usize>dword);
}
function drainAll(): u32 {
  let n: u32 = 0;
  let k = effectsDrain(0xffffffff);
  while (k != 0) {
    n += k;
    k = effectsDrain(0xffffffff);
  }
  return n;
}
function kinds(slot: i32): string {
  let s = "";
  for (let b: u32 = 0; b < 7; b++) s += (b > 0 ? "," : "") + barKind(slot, b).toString();
  return s;
}
function effectAt(i: u32): string {
  const e = staging + <usize>i * 40;
  return load<u32>(e).toString() + " " + load<u32>(e, 4).toString() + " " + load<u32>(e, 8).toString() + " " +
    load<u32>(e, 12).toString() + " " + load<u64>(e, 16).toString(16) + " " + load<u64>(e, 24).toString(16) + " " +
    load<u64>(e, 32).toString(16);
}
function E(slot: i32, bar: u32, kind: u32, flags: u32, oldBase: u64, newBase: u64, size: u64): string {
  return slot.toString() + " " + bar.toString() + " " + kind.toString() + " " + flags.toString() + " " +
    oldBase.toString(16) + " " + newBase.toString(16) + " " + size.toString(16);
}

/**
 * The standard type-0 layout: BAR0 IO 256 B, BAR1 mem32 4 KiB, BAR2-3 mem64 16 KiB (prefetchable),
 * BAR4 unimplemented, BAR5 mem32 prefetchable 1 MiB, ROM 64 KiB. Command bits 0-2 writable.
 */
function stageStandard(): void {
  clearStaging();
  cfg(0x00, 0x11118086);
  wm(0x04, 0x00000007);
  cfg(0x10, 0x00000001); wm(0x10, 0xffffff00);
  cfg(0x14, 0x00000000); wm(0x14, 0xfffff000);
  cfg(0x18, 0x0000000c); wm(0x18, 0xffffc000);
  cfg(0x1c, 0x00000000); wm(0x1c, 0xffffffff);
  cfg(0x20, 0x00000000); wm(0x20, 0x00000000);
  cfg(0x24, 0x00000008); wm(0x24, 0xfff00000);
  cfg(0x30, 0x00000000); wm(0x30, 0xffff0001);
}

// ---- layout ---------------------------------------------------------------------------------
describe("barAttach: layout from the planes", () => {
  it("type 0: IO, mem32, mem64 (+ upper half), unimplemented, mem32, ROM; sizes from the masks", () => {
    stageStandard();
    const slot = commit(1, 0, 0);
    expect<bool>(barAttached(slot)).toBe(false, "not attached before barAttach");
    expect<string>(kinds(slot)).toBe("0,0,0,0,0,0,0");
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<bool>(barAttached(slot)).toBe(true);
    expect<string>(kinds(slot)).toBe(
      BAR_IO.toString() + "," + BAR_MEM32.toString() + "," + BAR_MEM64.toString() + "," + BAR_UPPER.toString() + "," +
      BAR_NONE.toString() + "," + BAR_MEM32.toString() + "," + BAR_ROM.toString());
    expect<u64>(barSize(slot, 0)).toBe(0x100);
    expect<u64>(barSize(slot, 1)).toBe(0x1000);
    expect<u64>(barSize(slot, 2)).toBe(0x4000);
    expect<u64>(barSize(slot, 3)).toBe(0);
    expect<u64>(barSize(slot, 4)).toBe(0);
    expect<u64>(barSize(slot, 5)).toBe(0x100000);
    expect<u64>(barSize(slot, 6)).toBe(0x10000);
    // Command is 0: nothing mapped yet.
    for (let b: u32 = 0; b < 7; b++) {
      expect<u32>(barMapped(slot, b)).toBe(0);
      expect<u64>(barBase(slot, b)).toBe(0);
    }
    // Out-of-range BAR indexes answer 0.
    expect<u32>(barKind(slot, 7)).toBe(0);
    expect<u32>(barRegion(slot, 0xffffffff)).toBe(0);
    expect<u64>(barSize(slot, 7)).toBe(0);
  });

  it("IO, mem32, mem64 and ROM sizes at their extremes (4 B IO, 16 B mem32, 2 GiB mem32, 2 KiB ROM, 1 GiB mem64)", () => {
    clearStaging();
    cfg(0x10, 0x00000001); wm(0x10, 0xfffffffc); // IO 4 B
    cfg(0x14, 0x00000000); wm(0x14, 0xfffffff0); // mem32 16 B
    cfg(0x18, 0x00000000); wm(0x18, 0x80000000); // mem32 2 GiB
    cfg(0x1c, 0x00000004); wm(0x1c, 0xc0000000); // mem64 1 GiB
    wm(0x20, 0xffffffff);
    cfg(0x24, 0x00000001); wm(0x24, 0xfffffffc); // IO 4 B again
    wm(0x30, 0xfffff801); // ROM 2 KiB
    const slot = commit(2, 0, 0);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<string>(kinds(slot)).toBe("1,2,2,3,5,1,4");
    expect<u64>(barSize(slot, 0)).toBe(4);
    expect<u64>(barSize(slot, 1)).toBe(16);
    expect<u64>(barSize(slot, 2)).toBe(0x80000000);
    expect<u64>(barSize(slot, 3)).toBe(0x40000000);
    expect<u64>(barSize(slot, 5)).toBe(4);
    expect<u64>(barSize(slot, 6)).toBe(0x800);
  });

  it("the ROM enable bit and bits 10:1 of the ROM mask do not count toward its size", () => {
    clearStaging();
    wm(0x04, 0x00000007);
    wm(0x30, 0xffffe7ff); // bits 10:0 writable (nonsense) and a hole at bits 11-12: only 31:11 count
    const slot = commit(3, 0, 0);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<u32>(barKind(slot, 6)).toBe(BAR_ROM);
    // mask 0xffffe000 & 0xfffff800 = 0xffffe000 -> size 0x2000
    expect<u64>(barSize(slot, 6)).toBe(<u64>(~(<u32>0xffffe7ff & 0xfffff800)) + 1);
    // writable bits 10:1 are not part of the ROM's address either
    slotWrite(slot, 0x04, 2, 2);
    slotWrite(slot, 0x30, 4, 0xd00007ff);
    expect<u32>(barMapped(slot, 6)).toBe(1);
    expect<u64>(barBase(slot, 6)).toBe(0xd0000000);
    slotWrite(slot, 0x04, 2, 0);
    drainAll();
    // A ROM mask with only the enable bit (or bits below 11) is no ROM.
    clearStaging();
    wm(0x30, 0x000007ff);
    const none = commit(3, 1, 0);
    expect<i32>(barAttach(none)).toBe(OK);
    expect<u32>(barKind(none, 6)).toBe(BAR_NONE);
    expect<u32>(barRegion(none, 6)).toBe(0);
  });

  it("a 64-bit BAR whose upper mask lacks bit 31 is unimplemented (both dwords), the next BAR is not affected", () => {
    clearStaging();
    cfg(0x10, 0x00000004); wm(0x10, 0xfffff000);
    cfg(0x14, 0x00000000); wm(0x14, 0x7fffffff);
    cfg(0x18, 0x00000000); wm(0x18, 0xffff0000);
    const slot = commit(4, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<string>(kinds(slot)).toBe("0,0,2,0,0,0,0");
    expect<u32>(barRegion(slot, 0)).toBe(0);
    expect<u32>(barRegion(slot, 1)).toBe(0);
    expect<u32>(barRegion(slot, 2)).toBe(first, "the mem32 BAR takes the first free id");
    expect<u64>(barSize(slot, 2)).toBe(0x10000);
    // Writing the unimplemented registers with decode on maps nothing.
    slotWrite(slot, 0x04, 2, 2);
    slotWrite(slot, 0x10, 4, 0xd0000000);
    slotWrite(slot, 0x14, 4, 0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xd0000000)).toBe(0);
    expect<u32>(barMapped(slot, 0)).toBe(0);
    drainAll();
  });

  it("a 64-bit BAR of 4 GiB or more (no address bits in the low dword) is one mem64 BAR, not a 16-byte mem32 at the upper index", () => {
    // PCI 3.0 §6.2.5.1: a 64-bit BAR of 2^32 bytes or more has no writable bits in its low dword;
    // its size comes from the upper mask. (src/config/bars.ts builds exactly these masks.)
    clearStaging();
    cfg(0x10, 0x0000000c); wm(0x10, 0x00000000); // mem64 prefetchable, 4 GiB
    cfg(0x14, 0x00000000); wm(0x14, 0xffffffff);
    cfg(0x18, 0x0000000c); wm(0x18, 0x00000000); // mem64 prefetchable, 8 GiB
    cfg(0x1c, 0x00000001); wm(0x1c, 0xfffffffe); // (the upper dword of an address at 4 GiB has bit 0 set)
    cfg(0x20, 0x00000004); wm(0x20, 0x00000000); // mem64, 2^40
    cfg(0x24, 0x00000000); wm(0x24, 0xffffff00);
    const slot = commit(5, 0, 0);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<string>(kinds(slot)).toBe("3,5,3,5,3,5,0", "kinds of BAR0..ROM");
    expect<u32>(barKind(slot, 0)).toBe(BAR_MEM64, "BAR0 is a 64-bit BAR");
    expect<u32>(barKind(slot, 1)).toBe(BAR_UPPER, "BAR1 is BAR0's upper half");
    expect<u64>(barSize(slot, 0)).toBe(<u64>1 << 32);
    expect<u32>(barKind(slot, 2)).toBe(BAR_MEM64, "BAR2 is a 64-bit BAR");
    expect<u32>(barKind(slot, 3)).toBe(BAR_UPPER, "BAR3 is BAR2's upper half");
    expect<u64>(barSize(slot, 2)).toBe(<u64>1 << 33);
    expect<u32>(barKind(slot, 4)).toBe(BAR_MEM64, "BAR4 is a 64-bit BAR");
    expect<u64>(barSize(slot, 4)).toBe(<u64>1 << 40);
  });

  it("type 1 (bridge): two BARs, ROM at 0x38; dwords 6.. and 0x30 are not BARs", () => {
    clearStaging();
    cfg(0x0c, 0x00010000); // header type 1
    wm(0x04, 0x00000007);
    cfg(0x10, 0x00000000); wm(0x10, 0xffffff00); // mem32 256 B
    cfg(0x14, 0x00000001); wm(0x14, 0xfffffff0); // IO 16 B
    cfg(0x18, 0x00000000); wm(0x18, 0x00ffffff); // bus numbers: writable, not a BAR
    cfg(0x1c, 0x00000000); wm(0x1c, 0x0000f0f0); // IO base/limit
    wm(0x30, 0xffffffff); // IO base/limit upper 16: not the ROM of a bridge
    wm(0x38, 0xfffff001); // ROM 4 KiB
    const slot = commit(6, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<string>(kinds(slot)).toBe("2,1,0,0,0,0,4");
    expect<u64>(barSize(slot, 0)).toBe(0x100);
    expect<u64>(barSize(slot, 1)).toBe(0x10);
    expect<u64>(barSize(slot, 6)).toBe(0x1000);
    expect<u32>(barRegion(slot, 0)).toBe(first);
    expect<u32>(barRegion(slot, 1)).toBe(first + 1);
    expect<u32>(barRegion(slot, 6)).toBe(first + 2);
    // hooks: the two BARs and the ROM at 0x38 follow the BAR mapper; Command, the bus numbers
    // and the windows (dwords 6-12) follow the bridge mechanism, which also re-applies the BARs.
    expect<u32>(hook(slot, 1)).toBe(HOOK_BRIDGE);
    expect<u32>(hook(slot, 4)).toBe(HOOK_BARS);
    expect<u32>(hook(slot, 5)).toBe(HOOK_BARS);
    expect<u32>(hook(slot, 14)).toBe(HOOK_BARS);
    for (let d: u32 = 6; d <= 12; d++) expect<u32>(hook(slot, d)).toBe(HOOK_BRIDGE);
    expect<u32>(hook(slot, 13)).toBe(0);
    expect<u32>(hook(slot, 15)).toBe(0);
    expect<u32>(hook(slot, 0)).toBe(0);
    // the bridge's ROM follows 0x38, not 0x30
    drainAll();
    slotWrite(slot, 0x04, 2, 2);
    slotWrite(slot, 0x30, 4, 0xffffffff);
    expect<u32>(barMapped(slot, 6)).toBe(0);
    slotWrite(slot, 0x38, 4, 0xc7001001);
    expect<u32>(barMapped(slot, 6)).toBe(1);
    expect<u64>(barBase(slot, 6)).toBe(0xc7001000);
    slotWrite(slot, 0x04, 2, 0);
    drainAll();
  });

  it("the multi-function bit in Header Type does not hide a bridge's layout", () => {
    clearStaging();
    commit(7, 0, 1); // another function of device 7.0: the store sets bit 7 of function 0's Header Type
    clearStaging();
    cfg(0x0c, 0x00010000); // header type 1
    wm(0x10, 0xfffff000);
    wm(0x38, 0xfffff801);
    const slot = commit(7, 0, 0);
    expect<u8>(load<u8>(blockOf(slot) + 0x0e)).toBe(0x81, "multi-function bit set by the store");
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<string>(kinds(slot)).toBe("2,0,0,0,0,0,4");
    expect<u64>(barSize(slot, 6)).toBe(0x800);
  });
});

describe("barAttach: region ids, hooks, status codes", () => {
  it("gives the implemented BARs and the ROM consecutive lowest-free ids in BAR order, as KIND_BAR records", () => {
    stageStandard();
    const slot = commit(10, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<u32>(barRegion(slot, 0)).toBe(first);
    expect<u32>(barRegion(slot, 1)).toBe(first + 1);
    expect<u32>(barRegion(slot, 2)).toBe(first + 2);
    expect<u32>(barRegion(slot, 3)).toBe(0, "upper half: no region");
    expect<u32>(barRegion(slot, 4)).toBe(0, "unimplemented: no region");
    expect<u32>(barRegion(slot, 5)).toBe(first + 3);
    expect<u32>(barRegion(slot, 6)).toBe(first + 4);
    const bars: u32[] = [0, 1, 2, 5, 6];
    for (let i = 0; i < bars.length; i++) {
      const id = barRegion(slot, bars[i]);
      expect<u32>(regionKind(id)).toBe(KIND_BAR);
      expect<i32>(regionSlot(id)).toBe(slot);
      expect<u32>(regionBar(id)).toBe(bars[i]);
      expect<u64>(regionSize(id)).toBe(0, "not mapped while Command is 0");
    }
    expect<u32>(lowestFree()).toBe(first + 5);
  });

  it("functions attached in order get ids in that order (a pure function of configuration)", () => {
    stageStandard();
    const a = commit(11, 0, 0);
    stageStandard();
    const b = commit(11, 1, 0);
    const first = lowestFree();
    expect<i32>(barAttach(a)).toBe(OK);
    expect<i32>(barAttach(b)).toBe(OK);
    expect<u32>(barRegion(a, 0)).toBe(first);
    expect<u32>(barRegion(a, 6)).toBe(first + 4);
    expect<u32>(barRegion(b, 0)).toBe(first + 5);
    expect<u32>(barRegion(b, 6)).toBe(first + 9);
  });

  it("a second barAttach is ERR_EXISTS and changes nothing", () => {
    stageStandard();
    const slot = commit(12, 0, 0);
    expect<i32>(barAttach(slot)).toBe(OK);
    const r0 = barRegion(slot, 0);
    const free = lowestFree();
    expect<i32>(barAttach(slot)).toBe(ERR_EXISTS);
    expect<i32>(barAttach(slot)).toBe(ERR_EXISTS);
    expect<u32>(barRegion(slot, 0)).toBe(r0);
    expect<u32>(lowestFree()).toBe(free, "no id taken by the refused attach");
    expect<u64>(barSize(slot, 1)).toBe(0x1000);
  });

  it("ERR_NOT_FOUND for a slot out of range or not in use", () => {
    expect<i32>(barAttach(-1)).toBe(ERR_NOT_FOUND);
    expect<i32>(barAttach(<i32>MAX_FUNCTIONS)).toBe(ERR_NOT_FOUND);
    expect<i32>(barAttach(0x7fffffff)).toBe(ERR_NOT_FOUND);
    expect<i32>(barAttach(4000)).toBe(ERR_NOT_FOUND);
    expect<bool>(barAttached(4000)).toBe(false);
    expect<bool>(barAttached(-1)).toBe(false);
    expect<u32>(barKind(-1, 0)).toBe(0);
    expect<u64>(barSize(4000, 0)).toBe(0);
  });

  it("sets the hook byte of Command, every BAR dword (implemented or not) and the ROM, and nothing else", () => {
    stageStandard();
    const slot = commit(13, 0, 0);
    for (let d: u32 = 0; d < 64; d++) expect<u32>(hook(slot, d)).toBe(0, "no hooks before attach");
    expect<i32>(barAttach(slot)).toBe(OK);
    for (let d: u32 = 0; d < 1024; d++) {
      const want: u32 = d == 1 || (d >= 4 && d <= 9) || d == 12 ? HOOK_BARS : 0;
      if (hook(slot, d) != want) {
        expect<u32>(hook(slot, d)).toBe(want, "hook of dword " + d.toString());
        return;
      }
    }
  });
});

describe("barAttach: initial mapping", () => {
  it("maps at once what Command and the registers already enable, one effect per BAR in BAR order", () => {
    drainAll();
    stageStandard();
    cfg(0x04, 0x00000003);
    cfg(0x10, 0x0000c001);
    cfg(0x14, 0xc0000000);
    cfg(0x18, 0x0000000c); cfg(0x1c, 0x00000001); // 0x1_00000000
    cfg(0x24, 0xc0100008);
    cfg(0x30, 0xc0200001);
    const slot = commit(14, 0, 0);
    expect<i32>(barAttach(slot)).toBe(OK);
    for (let b: u32 = 0; b < 7; b++) {
      expect<u32>(barMapped(slot, b)).toBe(b == 3 || b == 4 ? 0 : 1, "BAR " + b.toString());
    }
    expect<u64>(barBase(slot, 0)).toBe(0xc000);
    expect<u64>(barBase(slot, 1)).toBe(0xc0000000);
    expect<u64>(barBase(slot, 2)).toBe(0x100000000);
    expect<u64>(barBase(slot, 5)).toBe(0xc0100000);
    expect<u64>(barBase(slot, 6)).toBe(0xc0200000);
    expect<i32>(regionLookup(SPACE_IO, 0xc0ff)).toBe(<i32>barRegion(slot, 0));
    expect<i32>(regionLookup(SPACE_IO, 0xc100)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc0000fff)).toBe(<i32>barRegion(slot, 1));
    expect<i32>(regionLookup(SPACE_MMIO, 0x100003fff)).toBe(<i32>barRegion(slot, 2));
    expect<i32>(regionLookup(SPACE_MMIO, 0xc01fffff)).toBe(<i32>barRegion(slot, 5));
    expect<i32>(regionLookup(SPACE_MMIO, 0xc020ffff)).toBe(<i32>barRegion(slot, 6));
    expect<u32>(effectsDrain(100)).toBe(5);
    expect<string>(effectAt(0)).toBe(E(slot, 0, 1, 2, 0, 0xc000, 0x100));
    expect<string>(effectAt(1)).toBe(E(slot, 1, 2, 2, 0, 0xc0000000, 0x1000));
    expect<string>(effectAt(2)).toBe(E(slot, 2, 3, 2, 0, 0x100000000, 0x4000));
    expect<string>(effectAt(3)).toBe(E(slot, 5, 2, 2, 0, 0xc0100000, 0x100000));
    expect<string>(effectAt(4)).toBe(E(slot, 6, 4, 2, 0, 0xc0200000, 0x10000));
  });
});

describe("barDetach / removeFunction", () => {
  it("removeFunction unmaps and frees every BAR region and handler region, and clears the hooks", () => {
    drainAll();
    stageStandard();
    cfg(0x04, 0x00000002);
    cfg(0x14, 0xc1000000);
    const slot = commit(20, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    const h = barHandler(slot, 1, 0x100, 0x10, KIND_DOORBELL, 0);
    expect<i32>(h).toBe(<i32>(first + 5), "handler takes the next id");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1000100)).toBe(h);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1000000)).toBe(<i32>(first + 1));
    expect<i32>(removeFunction(slot)).toBe(OK);
    for (let id = first; id <= first + 5; id++) expect<u32>(regionKind(id)).toBe(KIND_FREE, "id " + id.toString());
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1000100)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1000000)).toBe(0);
    expect<u64>(access(SPACE_MMIO, 0xc1000000, 4, false, 0)).toBe(0xffffffff);
    expect<bool>(barAttached(slot)).toBe(false);
    expect<u32>(barKind(slot, 1)).toBe(0);
    expect<u32>(lowestFree()).toBe(first, "freed ids are the lowest free again");
    drainAll();
  });

  it("a function added into the freed slot starts clean: no hooks, not attached, and re-attaching reuses the lowest ids", () => {
    stageStandard();
    const slot = commit(21, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<i32>(removeFunction(slot)).toBe(OK);
    clearStaging();
    wm(0x14, 0xffff0000);
    const again = commit(21, 1, 0);
    expect<i32>(again).toBe(slot, "the slot is reused");
    expect<bool>(barAttached(again)).toBe(false);
    expect<u32>(hook(again, 1)).toBe(0);
    expect<u32>(hook(again, 5)).toBe(0);
    expect<i32>(barAttach(again)).toBe(OK);
    expect<string>(kinds(again)).toBe("0,2,0,0,0,0,0");
    expect<u32>(barRegion(again, 1)).toBe(first);
    expect<u64>(barSize(again, 1)).toBe(0x10000);
  });

  it("barDetach frees the regions and hooks; BAR writes then move nothing; barAttach works again", () => {
    drainAll();
    stageStandard();
    cfg(0x04, 0x00000002);
    cfg(0x14, 0xc2000000);
    const slot = commit(22, 0, 0);
    const first = lowestFree();
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc2000000)).toBe(<i32>(first + 1));
    drainAll();
    barDetach(slot);
    expect<bool>(barAttached(slot)).toBe(false);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc2000000)).toBe(0);
    for (let id = first; id < first + 5; id++) expect<u32>(regionKind(id)).toBe(KIND_FREE);
    expect<u32>(hook(slot, 1)).toBe(0);
    expect<u32>(hook(slot, 5)).toBe(0);
    expect<u32>(hook(slot, 12)).toBe(0);
    slotWrite(slot, 0x14, 4, 0xc3000000);
    slotWrite(slot, 0x04, 2, 0);
    slotWrite(slot, 0x04, 2, 2);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc3000000)).toBe(0);
    expect<u32>(effectsDrain(100)).toBe(0, "no effects from a detached function");
    // barDetach of an unattached or invalid slot is harmless
    barDetach(slot);
    barDetach(-1);
    barDetach(<i32>MAX_FUNCTIONS);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<u32>(barRegion(slot, 0)).toBe(first);
    expect<u64>(barBase(slot, 1)).toBe(0xc3000000);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc3000000)).toBe(<i32>(first + 1));
    drainAll();
  });
});
