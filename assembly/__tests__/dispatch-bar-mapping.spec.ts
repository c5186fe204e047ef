// The mapping rules (assembly/dispatch/bar-mapper.ts): BARs follow the guest's Command, BAR and ROM
// writes inside the core. Decode bits, invalid addresses (0, past IO 0x10000 / 2^32 / 2^52), the
// ROM enable bit, 64-bit BARs (lower dword staged, upper dword moves, Command applies), and the
// effect reported for each change (and none when nothing changes).
//
// Module state persists across the tests of this file: every test adds its own function on its
// own bus and uses its own addresses, and drains the effects before it starts.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, slotWrite, slotRead, staging } from "../config/store";
import { OK, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { setEcam } from "../boundary";
import {
  barAttach, barMapped, barRegion, barBase, BAR_IO, BAR_MEM32, BAR_MEM64, BAR_ROM,
} from "../dispatch/bar-mapper";
import { regionLookup, regionBase, regionSize, SPACE_MMIO, SPACE_IO, MMIO_LIMIT } from "../dispatch/region-table";
import { regionReads, regionWrites } from "../dispatch/regions";
import { effectsDrain } from "../dispatch/effects";
import { access } from "../dispatch/access";


const ECAM_BASE: u64 = 0xe0000000; // segment 0, buses 0..255
const IO_FLAG: u32 = 1 << 0;
const MEM_FLAG: u32 = 1 << 1;
const OLD: u32 = 1;
const NEW: u32 = 2;

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
/**
 * A function with BAR0 IO 256 B, BAR1 mem32 4 KiB, BAR2-3 mem64 16 KiB, BAR4 none, BAR5 mem32
 * 1 MiB, ROM 64 KiB, all at 0 with Command 0; attached. Returns its slot.
 */
function standard(bus: u32): i32 {
  clearStaging();
  cfg(0x00, 0x22228086);
  wm(0x04, 0x00000007);
  cfg(0x10, 0x00000001); wm(0x10, 0xffffff00);
  cfg(0x14, 0x00000000); wm(0x14, 0xfffff000);
  cfg(0x18, 0x0000000c); wm(0x18, 0xffffc000);
  cfg(0x1c, 0x00000000); wm(0x1c, 0xffffffff);
  cfg(0x24, 0x00000008); wm(0x24, 0xfff00000);
  wm(0x30, 0xffff0001);
  const slot = addFunction(0, bus, 0, 0, 256);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction");
  expect<i32>(loadPlanes(slot)).toBe(OK);
  expect<i32>(barAttach(slot)).toBe(OK);
  effects(); // a test that failed midway may have left effects behind
  return slot;
}
function w32(slot: i32, reg: u32, v: u32): void {
  slotWrite(slot, reg, 4, v);
}
function command(slot: i32, v: u32): void {
  slotWrite(slot, 0x04, 2, v);
}
/** Writes a 64-bit BAR low dword first, then high. */
function put64(slot: i32, reg: u32, addr: u64): void {
  w32(slot, reg, <u32>addr);
  w32(slot, reg + 4, <u32>(addr >> 32));
}
function where(slot: i32, bar: u32): string {
  return barMapped(slot, bar) ? barBase(slot, bar).toString(16) : "-";
}
function E(slot: i32, bar: u32, kind: u32, flags: u32, oldBase: u64, newBase: u64, size: u64): string {
  return slot.toString() + " " + bar.toString() + " " + kind.toString() + " " + flags.toString() + " " +
    oldBase.toString(16) + " " + newBase.toString(16) + " " + size.toString(16);
}
/** Drains every queued effect; returns them as E() strings joined by "|". */
function effects(): string {
  let s = "";
  let n = effectsDrain(0xffffffff);
  while (n != 0) {
    for (let i: u32 = 0; i < n; i++) {
      const e = staging + <usize>i * 40;
      const one = E(load<i32>(e), load<u32>(e, 4), load<u32>(e, 8), load<u32>(e, 12), load<u64>(e, 16), load<u64>(e, 24), load<u64>(e, 32));
      s += (s.length > 0 ? "|" : "") + one;
    }
    n = effectsDrain(0xffffffff);
  }
  return s;
}
function ecam(bus: u32, reg: u32): u64 {
  return ECAM_BASE + (<u64>bus << 20) + <u64>reg;
}

describe("decode bits in Command", () => {
  it("IO BARs follow bit 0, memory BARs bit 1, the ROM bit 1 and its enable bit; one effect per change in BAR order", () => {
    const s = standard(1);
    effects();
    w32(s, 0x10, 0xc000);
    w32(s, 0x14, 0xc0000000);
    put64(s, 0x18, 0x100000000);
    w32(s, 0x24, 0xc0100000);
    w32(s, 0x30, 0xc0200000); // enable bit clear
    expect<string>(effects()).toBe("", "Command 0: register writes map nothing");
    for (let b: u32 = 0; b < 7; b++) expect<string>(where(s, b)).toBe("-");

    command(s, IO_FLAG);
    expect<string>(where(s, 0)).toBe("c000");
    expect<string>(where(s, 1)).toBe("-");
    expect<string>(effects()).toBe(E(s, 0, BAR_IO, NEW, 0, 0xc000, 0x100));

    command(s, MEM_FLAG);
    expect<string>(where(s, 0)).toBe("-");
    expect<string>(where(s, 1)).toBe("c0000000");
    expect<string>(where(s, 2)).toBe("100000000");
    expect<string>(where(s, 5)).toBe("c0100000");
    expect<string>(where(s, 6)).toBe("-", "ROM needs its enable bit");
    expect<string>(effects()).toBe(
      E(s, 0, BAR_IO, OLD, 0xc000, 0, 0x100) + "|" +
      E(s, 1, BAR_MEM32, NEW, 0, 0xc0000000, 0x1000) + "|" +
      E(s, 2, BAR_MEM64, NEW, 0, 0x100000000, 0x4000) + "|" +
      E(s, 5, BAR_MEM32, NEW, 0, 0xc0100000, 0x100000));

    w32(s, 0x30, 0xc0200001);
    expect<string>(where(s, 6)).toBe("c0200000");
    expect<string>(effects()).toBe(E(s, 6, BAR_ROM, NEW, 0, 0xc0200000, 0x10000));

    command(s, IO_FLAG | MEM_FLAG);
    expect<string>(effects()).toBe(E(s, 0, BAR_IO, NEW, 0, 0xc000, 0x100));

    command(s, 4); // bus master only
    expect<string>(effects()).toBe(
      E(s, 0, BAR_IO, OLD, 0xc000, 0, 0x100) + "|" +
      E(s, 1, BAR_MEM32, OLD, 0xc0000000, 0, 0x1000) + "|" +
      E(s, 2, BAR_MEM64, OLD, 0x100000000, 0, 0x4000) + "|" +
      E(s, 5, BAR_MEM32, OLD, 0xc0100000, 0, 0x100000) + "|" +
      E(s, 6, BAR_ROM, OLD, 0xc0200000, 0, 0x10000));
    for (let b: u32 = 0; b < 7; b++) expect<string>(where(s, b)).toBe("-");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc0000000)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0xc000)).toBe(0);
  });

  it("a byte write to Command's low byte decodes like a word write", () => {
    const s = standard(2);
    w32(s, 0x14, 0xc1000000);
    effects();
    slotWrite(s, 0x04, 1, MEM_FLAG);
    expect<string>(where(s, 1)).toBe("c1000000");
    expect<string>(effects()).toBe(E(s, 1, BAR_MEM32, NEW, 0, 0xc1000000, 0x1000));
  });
});

describe("valid addresses", () => {
  it("address 0 is never mapped (IO, mem32, mem64, ROM with its enable bit)", () => {
    const s = standard(3);
    command(s, IO_FLAG | MEM_FLAG);
    w32(s, 0x30, 0x00000001);
    expect<string>(effects()).toBe("");
    for (let b: u32 = 0; b < 7; b++) expect<string>(where(s, b)).toBe("-");
    expect<i32>(regionLookup(SPACE_MMIO, 0)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0)).toBe(0);
    // A 64-bit address with only its upper half set is not 0.
    w32(s, 0x1c, 0x00000003);
    expect<string>(where(s, 2)).toBe("300000000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, NEW, 0, 0x300000000, 0x4000));
  });

  it("IO: the whole range must lie below 0x10000", () => {
    const s = standard(4);
    command(s, IO_FLAG);
    effects();
    w32(s, 0x10, 0xff00);
    expect<string>(where(s, 0)).toBe("ff00", "0xff00 + 0x100 ends exactly at 0x10000");
    expect<u64>(access(SPACE_IO, 0xffff, 1, false, 0)).toBe(0, "a BAR with no handler reads 0");
    w32(s, 0x10, 0x10000);
    expect<string>(where(s, 0)).toBe("-", "0x10000");
    w32(s, 0x10, 0xffffff00);
    expect<string>(where(s, 0)).toBe("-", "0xffffff00");
    w32(s, 0x10, 0x1ff00);
    expect<string>(where(s, 0)).toBe("-", "0x1ff00 (would alias 0xff00 modulo 64 KiB)");
    expect<i32>(regionLookup(SPACE_IO, 0xff00)).toBe(0);
    expect<string>(effects()).toBe(
      E(s, 0, BAR_IO, NEW, 0, 0xff00, 0x100) + "|" + E(s, 0, BAR_IO, OLD, 0xff00, 0, 0x100));
  });

  it("mem32 and ROM: a range ending exactly at 2^32 (where the all-ones probe puts it) is not mapped; one ending below is", () => {
    const s = standard(5);
    command(s, MEM_FLAG);
    effects();
    w32(s, 0x14, 0xfffff000);
    w32(s, 0x24, 0xfff00000);
    w32(s, 0x30, 0xffff0001);
    expect<string>(where(s, 1)).toBe("-", "4 KiB BAR at 0xfffff000 ends at 2^32");
    expect<string>(where(s, 5)).toBe("-", "1 MiB BAR at 0xfff00000 ends at 2^32");
    expect<string>(where(s, 6)).toBe("-", "64 KiB ROM at 0xffff0000 ends at 2^32");
    w32(s, 0x14, 0xffffe000);
    w32(s, 0x24, 0xffe00000);
    w32(s, 0x30, 0xfffe0001);
    expect<string>(where(s, 1)).toBe("ffffe000");
    expect<string>(where(s, 5)).toBe("ffe00000");
    expect<string>(where(s, 6)).toBe("fffe0000");
    expect<i32>(regionLookup(SPACE_MMIO, 0xffffefff)).toBe(<i32>barRegion(s, 1));
    expect<i32>(regionLookup(SPACE_MMIO, 0xfffeffff)).toBe(<i32>barRegion(s, 6));
    // restore so that later tests do not see these regions
    command(s, 0);
    effects();
  });

  it("64-bit: the whole range must lie below 2^52", () => {
    const s = standard(6);
    command(s, MEM_FLAG);
    effects();
    put64(s, 0x18, MMIO_LIMIT - 0x4000);
    expect<string>(where(s, 2)).toBe((MMIO_LIMIT - 0x4000).toString(16), "ends exactly at 2^52");
    expect<u64>(access(SPACE_MMIO, MMIO_LIMIT - 8, 8, false, 0)).toBe(0);
    put64(s, 0x18, MMIO_LIMIT);
    expect<string>(where(s, 2)).toBe("-", "at 2^52");
    put64(s, 0x18, 0xffffffffffffc000);
    expect<string>(where(s, 2)).toBe("-", "upper half all ones");
    put64(s, 0x18, <u64>1 << 40);
    expect<string>(where(s, 2)).toBe("10000000000");
    expect<string>(effects()).toBe(
      E(s, 2, BAR_MEM64, NEW, 0, MMIO_LIMIT - 0x4000, 0x4000) + "|" +
      E(s, 2, BAR_MEM64, OLD, MMIO_LIMIT - 0x4000, 0, 0x4000) + "|" +
      E(s, 2, BAR_MEM64, NEW, 0, <u64>1 << 40, 0x4000));
    command(s, 0);
    effects();
  });

  it("the ROM enable bit: set maps, clear unmaps, and memory decode off unmaps even with it set", () => {
    const s = standard(7);
    command(s, MEM_FLAG);
    effects();
    w32(s, 0x30, 0xc2000001);
    expect<string>(where(s, 6)).toBe("c2000000");
    w32(s, 0x30, 0xc2000000);
    expect<string>(where(s, 6)).toBe("-");
    w32(s, 0x30, 0xc3000001);
    expect<string>(where(s, 6)).toBe("c3000000");
    command(s, IO_FLAG);
    expect<string>(where(s, 6)).toBe("-");
    expect<string>(effects()).toBe(
      E(s, 6, BAR_ROM, NEW, 0, 0xc2000000, 0x10000) + "|" +
      E(s, 6, BAR_ROM, OLD, 0xc2000000, 0, 0x10000) + "|" +
      E(s, 6, BAR_ROM, NEW, 0, 0xc3000000, 0x10000) + "|" +
      E(s, 6, BAR_ROM, OLD, 0xc3000000, 0, 0x10000));
  });
});

describe("32-bit, IO and ROM BARs follow every register write", () => {
  it("a dword, word or byte write to the register moves the BAR at once", () => {
    const s = standard(8);
    command(s, IO_FLAG | MEM_FLAG);
    w32(s, 0x14, 0xc4000000);
    effects();
    slotWrite(s, 0x17, 1, 0xc5);
    expect<string>(where(s, 1)).toBe("c5000000");
    slotWrite(s, 0x16, 2, 0xc600);
    expect<string>(where(s, 1)).toBe("c6000000");
    slotWrite(s, 0x11, 1, 0xd1);
    expect<string>(where(s, 0)).toBe("d100");
    expect<string>(effects()).toBe(
      E(s, 1, BAR_MEM32, OLD | NEW, 0xc4000000, 0xc5000000, 0x1000) + "|" +
      E(s, 1, BAR_MEM32, OLD | NEW, 0xc5000000, 0xc6000000, 0x1000) + "|" +
      E(s, 0, BAR_IO, NEW, 0, 0xd100, 0x100));
    // the whole-BAR region moved: old address unclaimed, new one claimed
    expect<i32>(regionLookup(SPACE_MMIO, 0xc4000000)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc5000000)).toBe(0);
    expect<i32>(regionLookup(SPACE_MMIO, 0xc6000fff)).toBe(<i32>barRegion(s, 1));
    expect<u64>(regionBase(barRegion(s, 1))).toBe(0xc6000000);
    expect<u64>(regionSize(barRegion(s, 1))).toBe(0x1000);
    command(s, 0);
    effects();
  });

  it("no effect when nothing changes: same value again, Command rewritten, Status and other registers written", () => {
    const s = standard(9);
    command(s, IO_FLAG | MEM_FLAG);
    w32(s, 0x14, 0xc7000000);
    w32(s, 0x10, 0xd200);
    put64(s, 0x18, 0x400000000);
    effects();
    w32(s, 0x14, 0xc7000000);
    w32(s, 0x10, 0xd200);
    put64(s, 0x18, 0x400000000);
    command(s, IO_FLAG | MEM_FLAG);
    slotWrite(s, 0x06, 2, 0xffff);
    slotWrite(s, 0x05, 1, 0);
    w32(s, 0x20, 0xffffffff); // unimplemented BAR4
    w32(s, 0x30, 0xc8000000); // ROM without enable: stays unmapped
    w32(s, 0x0c, 0xffffffff);
    w32(s, 0x3c, 0xffffffff);
    expect<string>(effects()).toBe("");
    expect<string>(where(s, 1)).toBe("c7000000");
    command(s, 0);
    effects();
  });

  it("the whole-BAR region reads 0 at every size and ignores writes, and counts them", () => {
    const s = standard(10);
    command(s, MEM_FLAG);
    w32(s, 0x14, 0xc9000000);
    effects();
    const id = barRegion(s, 1);
    const r0 = regionReads(id), w0 = regionWrites(id);
    expect<u64>(access(SPACE_MMIO, 0xc9000000, 4, false, 0)).toBe(0);
    access(SPACE_MMIO, 0xc9000000, 8, true, 0xffffffffffffffff);
    expect<u64>(access(SPACE_MMIO, 0xc9000000, 8, false, 0)).toBe(0);
    expect<u64>(access(SPACE_MMIO, 0xc9000ffe, 2, false, 0)).toBe(0);
    expect<u64>(access(SPACE_MMIO, 0xc9000fff, 1, false, 0)).toBe(0);
    expect<u64>(access(SPACE_MMIO, 0xc9001000, 1, false, 0)).toBe(0xff, "past the BAR: master abort");
    expect<f64>(regionReads(id) - r0).toBe(4);
    expect<f64>(regionWrites(id) - w0).toBe(1);
    command(s, 0);
    effects();
  });
});

describe("64-bit BARs", () => {
  it("a lower-dword write is staged (no move, no effect); the upper-dword write moves to both halves' address", () => {
    const s = standard(11);
    command(s, MEM_FLAG);
    put64(s, 0x18, 0x500000000);
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, NEW, 0, 0x500000000, 0x4000));
    w32(s, 0x18, 0x80000000);
    expect<string>(where(s, 2)).toBe("500000000", "staged: still at the old address");
    expect<string>(effects()).toBe("");
    expect<i32>(regionLookup(SPACE_MMIO, 0x500000000)).toBe(<i32>barRegion(s, 2));
    expect<i32>(regionLookup(SPACE_MMIO, 0x580000000)).toBe(0);
    w32(s, 0x1c, 0x6);
    expect<string>(where(s, 2)).toBe("680000000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0x500000000, 0x680000000, 0x4000));
    // the usual low-then-high update: one move, never to a half-new address
    put64(s, 0x18, 0x7c0000000);
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0x680000000, 0x7c0000000, 0x4000));
    // an upper-dword write alone moves with the current lower dword
    w32(s, 0x1c, 0x8);
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0x7c0000000, 0x8c0000000, 0x4000));
    // a byte write into the upper dword moves too; one into the lower dword is staged
    slotWrite(s, 0x19, 1, 0x40);
    expect<string>(effects()).toBe("");
    slotWrite(s, 0x1f, 1, 0x00);
    expect<string>(where(s, 2)).toBe("8c0004000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0x8c0000000, 0x8c0004000, 0x4000));
    command(s, 0);
    effects();
  });

  it("the sizing probe with decode on: probing/restoring the low half changes nothing; probing the high half unmaps, restoring maps back", () => {
    const s = standard(12);
    command(s, MEM_FLAG);
    put64(s, 0x18, 0x9c0000000);
    effects();
    w32(s, 0x18, 0xffffffff);
    expect<u32>(slotRead(s, 0x18, 4)).toBe(0xffffc00c);
    expect<string>(where(s, 2)).toBe("9c0000000");
    w32(s, 0x18, 0xc0000000);
    expect<string>(where(s, 2)).toBe("9c0000000");
    expect<string>(effects()).toBe("");
    w32(s, 0x1c, 0xffffffff);
    expect<u32>(slotRead(s, 0x1c, 4)).toBe(0xffffffff);
    expect<string>(where(s, 2)).toBe("-");
    w32(s, 0x1c, 0x9);
    expect<string>(where(s, 2)).toBe("9c0000000");
    expect<string>(effects()).toBe(
      E(s, 2, BAR_MEM64, OLD, 0x9c0000000, 0, 0x4000) + "|" + E(s, 2, BAR_MEM64, NEW, 0, 0x9c0000000, 0x4000));
    // both halves probed, then both restored low then high: back where it was
    w32(s, 0x18, 0xffffffff);
    w32(s, 0x1c, 0xffffffff);
    expect<string>(where(s, 2)).toBe("-");
    w32(s, 0x18, 0xc0000000);
    expect<string>(where(s, 2)).toBe("-", "the low restore is staged");
    w32(s, 0x1c, 0x9);
    expect<string>(where(s, 2)).toBe("9c0000000");
    expect<string>(effects()).toBe(
      E(s, 2, BAR_MEM64, OLD, 0x9c0000000, 0, 0x4000) + "|" + E(s, 2, BAR_MEM64, NEW, 0, 0x9c0000000, 0x4000));
    command(s, 0);
    effects();
  });

  it("a Command write applies the current registers, a staged lower dword included", () => {
    const s = standard(13);
    command(s, MEM_FLAG);
    put64(s, 0x18, 0xa00000000);
    effects();
    w32(s, 0x18, 0x40000000); // staged
    expect<string>(where(s, 2)).toBe("a00000000");
    command(s, MEM_FLAG);
    expect<string>(where(s, 2)).toBe("a40000000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0xa00000000, 0xa40000000, 0x4000));
    // with decode off, register writes map nothing; turning it on maps at the registers' address
    command(s, 0);
    put64(s, 0x18, 0xb00000000);
    w32(s, 0x18, 0x80000000);
    command(s, MEM_FLAG);
    expect<string>(where(s, 2)).toBe("b80000000");
    expect<string>(effects()).toBe(
      E(s, 2, BAR_MEM64, OLD, 0xa40000000, 0, 0x4000) + "|" + E(s, 2, BAR_MEM64, NEW, 0, 0xb80000000, 0x4000));
    command(s, 0);
    effects();
  });

  it("a write to Status only (not Command) does not apply a staged lower dword", () => {
    // Spec: the lower dword is staged, the BAR stays where it was; the upper dword or a Command
    // write moves it. A guest clearing Status bits (W1C) in between writes no Command byte.
    const s = standard(16);
    command(s, MEM_FLAG);
    put64(s, 0x18, 0xf00000000);
    effects();
    w32(s, 0x18, 0x40000000); // staged
    slotWrite(s, 0x06, 2, 0xffff); // Status only
    slotWrite(s, 0x07, 1, 0x80); // Status high byte only
    expect<string>(where(s, 2)).toBe("f00000000", "still at the old address after Status writes");
    expect<string>(effects()).toBe("");
    w32(s, 0x1c, 0xf);
    expect<string>(where(s, 2)).toBe("f40000000");
    command(s, 0);
    effects();
  });

  it("an 8-byte ECAM write (low dword first) moves a 64-bit BAR once; CF8/CFC dword writes low then high too", () => {
    expect<i32>(setEcam(0, <f64>ECAM_BASE, 0, 255)).toBe(OK);
    const s = standard(14);
    access(SPACE_MMIO, ecam(14, 0x04), 2, true, MEM_FLAG);
    expect<string>(effects()).toBe("");
    access(SPACE_MMIO, ecam(14, 0x18), 8, true, 0xc00000000);
    expect<string>(where(s, 2)).toBe("c00000000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, NEW, 0, 0xc00000000, 0x4000));
    access(SPACE_MMIO, ecam(14, 0x18), 8, true, 0xd40000000);
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0xc00000000, 0xd40000000, 0x4000));
    expect<u64>(access(SPACE_MMIO, ecam(14, 0x18), 8, false, 0)).toBe(0x0000000d4000000c);
    // mechanism #1: bus 14, device 0, function 0, register 0x18 then 0x1c
    access(SPACE_IO, 0xcf8, 4, true, 0x800e0018);
    access(SPACE_IO, 0xcfc, 4, true, 0x00004000);
    expect<string>(effects()).toBe("");
    access(SPACE_IO, 0xcf8, 4, true, 0x800e001c);
    access(SPACE_IO, 0xcfc, 4, true, 0xe);
    expect<string>(where(s, 2)).toBe("e00004000");
    expect<string>(effects()).toBe(E(s, 2, BAR_MEM64, OLD | NEW, 0xd40000000, 0xe00004000, 0x4000));
    command(s, 0);
    effects();
  });
});

describe("32-bit sizing probe", () => {
  it("probe and restore of a 32-bit BAR with decode on ends where it started", () => {
    const s = standard(15);
    command(s, MEM_FLAG);
    w32(s, 0x14, 0xca000000);
    effects();
    w32(s, 0x14, 0xffffffff);
    expect<u32>(slotRead(s, 0x14, 4)).toBe(0xfffff000);
    w32(s, 0x14, 0xca000000);
    expect<string>(where(s, 1)).toBe("ca000000");
    expect<i32>(regionLookup(SPACE_MMIO, 0xfffff000)).toBe(0);
    command(s, 0);
    effects();
  });
});
