// The access path (assembly/dispatch/access.ts): one access -> the region that owns it -> its
// handler, per kind (ECAM, 0xCF8, 0xCFC, whole BAR, register file, doorbell, host model), master
// aborts and invalid accesses with their counters, onesOf, and the f64 address conversion of
// mmioRead / mmioWrite.
//
// Module state persists across the tests of this file: every test uses its own addresses, and
// counters are compared as differences.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, configRead, staging } from "../config/store";
import { OK, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { setEcam, addRegion } from "../boundary";
import {
  access, onesOf, lastStatus, mmioRead, mmioReadHigh, mmioWrite, ioRead, ioWrite,
  STATUS_OK, STATUS_ABORT, STATUS_INVALID,
} from "../dispatch/access";
import { barAttach, barRegion } from "../dispatch/bar-mapper";
import { regionLookup, SPACE_MMIO, SPACE_IO } from "../dispatch/region-table";
import {
  regionReads, regionWrites, regionKind, counterValue, countInvalid,
  KIND_CF8, KIND_CFC, KIND_REGFILE, KIND_DOORBELL, KIND_HOST,
  C_ABORT_MMIO_READ, C_ABORT_MMIO_WRITE, C_ABORT_IO_READ, C_ABORT_IO_WRITE, C_INVALID, C_HOST_ERROR,
} from "../dispatch/regions";
import { regfileCreate, regfileRead } from "../dispatch/regfile";
import { doorbellCreate, doorbellCount, eventsDrain, eventsQueued } from "../dispatch/doorbell";
import { slotWrite } from "../config/store";


const ECAM_BASE: u64 = 0xe0000000;
const TWO64: f64 = 18446744073709551616.0;

// ---- helpers ----------------------------------------------------------------------------------
function clearStaging(): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
}
/** A register file from byte values `first + i` and a mask from `maskOf(i)`. */
function regfileWith(size: u32, first: u32, mask: u32[]): u32 {
  memory.fill(staging, 0, 8192);
  for (let i: u32 = 0; i < size; i++) {
    store<u8>(staging + <usize>i, <u8>(first + i));
    store<u8>(staging + 4096 + <usize>i, <u8>(mask.length > 0 ? mask[i % <u32>mask.length] : 0xff));
  }
  const h = regfileCreate(size);
  expect<u32>(h).not.toBe(0xffffffff, "regfileCreate");
  return h;
}
function counters(): f64[] {
  const c: f64[] = [];
  for (let i: u32 = 0; i < 8; i++) c.push(counterValue(i));
  return c;
}
/** "mr,mw,ir,iw,inv,host" differences since `before`. */
function delta(before: f64[]): string {
  const now = counters();
  let s = "";
  for (let i = 0; i < 6; i++) s += (i > 0 ? "," : "") + (<i64>(now[i] - before[i])).toString();
  return s;
}
function drainEvents(): void {
  while (eventsDrain(0xffffffff) != 0) {}
}

const NO_MASK: u32[] = [];

describe("onesOf", () => {
  it("all ones for sizes 1, 2, 4, 8", () => {
    expect<u64>(onesOf(1)).toBe(0xff);
    expect<u64>(onesOf(2)).toBe(0xffff);
    expect<u64>(onesOf(4)).toBe(0xffffffff);
    expect<u64>(onesOf(8)).toBe(0xffffffffffffffff);
  });
});

describe("config mechanisms through access()", () => {
  it("ECAM: reads and writes reach the function, counted on the ECAM region", () => {
    expect<i32>(setEcam(0, <f64>ECAM_BASE, 0, 255)).toBe(OK);
    clearStaging();
    store<u32>(staging, 0x12341af4);
    store<u32>(staging + 0x40, 0x00000000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x40), 0xffffffff);
    const slot = addFunction(0, 0, 1, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    const id = <u32>regionLookup(SPACE_MMIO, ECAM_BASE);
    expect<u32>(id).toBeGreaterThan(2);
    const r = regionReads(id), w = regionWrites(id);
    const base = ECAM_BASE + (1 << 15);
    expect<u64>(access(SPACE_MMIO, base, 4, false, 0)).toBe(0x12341af4);
    expect<u8>(lastStatus).toBe(STATUS_OK);
    expect<u64>(access(SPACE_MMIO, base + 2, 2, false, 0)).toBe(0x1234);
    access(SPACE_MMIO, base + 0x40, 4, true, 0xcafef00d);
    expect<u32>(configRead(0, 0, 1, 0, 0x40, 4)).toBe(0xcafef00d);
    expect<u64>(access(SPACE_MMIO, base + 0x40, 8, false, 0)).toBe(0x00000000cafef00d);
    expect<f64>(regionReads(id) - r).toBe(3);
    expect<f64>(regionWrites(id) - w).toBe(1);
  });

  it("0xCF8 / 0xCFC: the latch and the data lanes, counted on their regions", () => {
    const cf8 = <u32>regionLookup(SPACE_IO, 0xcf8), cfc = <u32>regionLookup(SPACE_IO, 0xcfc);
    expect<u32>(regionKind(cf8)).toBe(KIND_CF8);
    expect<u32>(regionKind(cfc)).toBe(KIND_CFC);
    const r1 = regionReads(cf8), w1 = regionWrites(cf8), r2 = regionReads(cfc);
    access(SPACE_IO, 0xcf8, 4, true, 0x80000800); // bus 0, device 1, function 0, register 0
    expect<u64>(access(SPACE_IO, 0xcf8, 4, false, 0)).toBe(0x80000800);
    expect<u64>(access(SPACE_IO, 0xcfc, 4, false, 0)).toBe(0x12341af4);
    expect<u64>(access(SPACE_IO, 0xcfe, 2, false, 0)).toBe(0x1234);
    expect<u64>(access(SPACE_IO, 0xcf9, 1, false, 0)).toBe(0xff);
    expect<f64>(regionReads(cf8) - r1).toBe(2);
    expect<f64>(regionWrites(cf8) - w1).toBe(1);
    expect<f64>(regionReads(cfc) - r2).toBe(2);
    expect<i32>(regionLookup(SPACE_IO, 0xcfb)).toBe(<i32>cf8);
    expect<i32>(regionLookup(SPACE_IO, 0xcff)).toBe(<i32>cfc);
    expect<i32>(regionLookup(SPACE_IO, 0xcf7)).toBe(0);
    expect<i32>(regionLookup(SPACE_IO, 0xd00)).toBe(0);
  });
});

describe("whole BAR with no handler", () => {
  it("an IO BAR reads 0 at sizes 1, 2, 4 and ignores writes", () => {
    clearStaging();
    store<u32>(staging + 0x04, 1);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x04), 7);
    store<u32>(staging + 0x10, 0xe001);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x10), 0xfffffff0);
    const slot = addFunction(0, 0, 2, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    const id = barRegion(slot, 0);
    expect<i32>(regionLookup(SPACE_IO, 0xe000)).toBe(<i32>id);
    ioWrite(0xe000, 4, 0xffffffff);
    expect<u32>(ioRead(0xe000, 4)).toBe(0);
    expect<u32>(ioRead(0xe00e, 2)).toBe(0);
    expect<u32>(ioRead(0xe00f, 1)).toBe(0);
    expect<u8>(lastStatus).toBe(STATUS_OK);
    expect<u32>(ioRead(0xe010, 1)).toBe(0xff);
    expect<f64>(regionReads(id)).toBe(3);
    expect<f64>(regionWrites(id)).toBe(1);
    slotWrite(slot, 0x04, 2, 0);
  });

  it("an ECAM window (priority 250) wins over a memory BAR mapped on top of it", () => {
    clearStaging();
    store<u32>(staging + 0x04, 2);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x04), 7);
    store<u32>(staging + 0x10, <u32>ECAM_BASE);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x10), 0xfffff000);
    const slot = addFunction(0, 0, 3, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    const ecam = regionLookup(SPACE_MMIO, ECAM_BASE);
    expect<i32>(ecam).not.toBe(<i32>barRegion(slot, 0));
    expect<u64>(access(SPACE_MMIO, ECAM_BASE + (1 << 15), 4, false, 0)).toBe(0x12341af4);
    slotWrite(slot, 0x04, 2, 0);
  });
});

describe("register files", () => {
  it("reads little-endian at sizes 1, 2, 4, 8 (aligned or not)", () => {
    const rf = regfileWith(16, 0x10, NO_MASK);
    const id = addRegion(SPACE_MMIO, 0x10000000, 16, 100, KIND_REGFILE, rf);
    expect<i32>(id).toBeGreaterThan(0);
    expect<u64>(access(SPACE_MMIO, 0x10000000, 1, false, 0)).toBe(0x10);
    expect<u64>(access(SPACE_MMIO, 0x10000001, 2, false, 0)).toBe(0x1211);
    expect<u64>(access(SPACE_MMIO, 0x10000003, 4, false, 0)).toBe(0x16151413);
    expect<u64>(access(SPACE_MMIO, 0x10000008, 8, false, 0)).toBe(0x1f1e1d1c1b1a1918);
    expect<u64>(access(SPACE_MMIO, 0x10000005, 8, false, 0)).toBe(0x1c1b1a1918171615);
    expect<f64>(regionReads(<u32>id)).toBe(5);
    expect<u8>(lastStatus).toBe(STATUS_OK);
  });

  it("writes go through the per-byte write mask: (old & ~m) | (v & m); values are cut to the access size", () => {
    const mask: u32[] = [0xff, 0x0f, 0x00, 0xf0];
    const rf = regfileWith(8, 0x55, mask); // 55 56 57 58 59 5a 5b 5c
    const id = addRegion(SPACE_MMIO, 0x10001000, 8, 100, KIND_REGFILE, rf);
    expect<u64>(access(SPACE_MMIO, 0x10001000, 4, true, 0xaabbccdd)).toBe(0);
    // byte0 dd (m ff) ; byte1 (56 & f0) | (cc & 0f) = 5c ; byte2 57 (m 00) ; byte3 (58 & 0f) | (aa & f0) = a8
    expect<u64>(access(SPACE_MMIO, 0x10001000, 4, false, 0)).toBe(0xa857_5cdd);
    access(SPACE_MMIO, 0x10001004, 8, true, 0x0102030405060708); // bytes 8..11 are past the end
    // byte4 08 (ff) ; byte5 (5a & f0) | (07 & 0f) = 57 ; byte6 5b (00) ; byte7 (5c & 0f) | (05 & f0) = 0c
    expect<u64>(access(SPACE_MMIO, 0x10001000, 8, false, 0)).toBe(0x0c5b5708a8575cdd);
    access(SPACE_MMIO, 0x10001000, 1, true, 0x1ee); // cut to 0xee
    expect<u64>(access(SPACE_MMIO, 0x10001000, 2, false, 0)).toBe(0x5cee);
    expect<f64>(regionWrites(<u32>id)).toBe(3);
  });

  it("a region longer than its register file: bytes past the file read 0xff and are not written", () => {
    const rf = regfileWith(6, 0x60, NO_MASK); // 60..65
    const id = addRegion(SPACE_MMIO, 0x10002000, 16, 100, KIND_REGFILE, rf);
    expect<u64>(access(SPACE_MMIO, 0x10002004, 4, false, 0)).toBe(0xffff6564);
    expect<u64>(access(SPACE_MMIO, 0x10002000, 8, false, 0)).toBe(0xffff656463626160);
    expect<u64>(access(SPACE_MMIO, 0x10002008, 8, false, 0)).toBe(0xffffffffffffffff);
    expect<u64>(access(SPACE_MMIO, 0x1000200f, 1, false, 0)).toBe(0xff);
    expect<u8>(lastStatus).toBe(STATUS_OK, "inside the region: not an abort");
    access(SPACE_MMIO, 0x10002004, 4, true, 0xa1a2a3a4);
    expect<u64>(access(SPACE_MMIO, 0x10002000, 8, false, 0)).toBe(0xffffa3a4_63626160);
    access(SPACE_MMIO, 0x10002008, 8, true, 0);
    expect<u64>(regfileRead(rf, 0, 8, 0xffffffffffffffff)).toBe(0xffffa3a463626160);
    expect<f64>(regionReads(<u32>id)).toBe(5);
    expect<f64>(regionWrites(<u32>id)).toBe(2);
  });

  it("a region shorter than its register file: bytes of an access past the region's end read 0xff and are not written", () => {
    // spec: "Bytes of an access past the region's end read 0xff and are not written (regfile)".
    const rf = regfileWith(8, 0x70, NO_MASK); // 70..77
    const id = addRegion(SPACE_MMIO, 0x10003000, 4, 100, KIND_REGFILE, rf);
    expect<i32>(id).toBeGreaterThan(0);
    expect<u64>(access(SPACE_MMIO, 0x10003000, 4, false, 0)).toBe(0x73727170);
    expect<u64>(access(SPACE_MMIO, 0x10003002, 4, false, 0)).toBe(0xffff7372, "4 bytes at region offset 2");
    expect<u64>(access(SPACE_MMIO, 0x10003000, 8, false, 0)).toBe(0xffffffff73727170, "8 bytes at region offset 0");
    access(SPACE_MMIO, 0x10003000, 8, true, 0x0);
    expect<u64>(regfileRead(rf, 4, 4, 0xffffffffffffffff)).toBe(0x77767574, "register file bytes 4..7 (outside the region) not written");
  });

  it("a register file in IO space, and two regions sharing one register file", () => {
    const rf = regfileWith(4, 0x80, NO_MASK);
    const io = addRegion(SPACE_IO, 0x3000, 4, 100, KIND_REGFILE, rf);
    const mm = addRegion(SPACE_MMIO, 0x10004000, 4, 100, KIND_REGFILE, rf);
    expect<u64>(access(SPACE_IO, 0x3000, 4, false, 0)).toBe(0x83828180);
    access(SPACE_IO, 0x3001, 2, true, 0xbeef);
    expect<u64>(access(SPACE_MMIO, 0x10004000, 4, false, 0)).toBe(0x83beef80);
    expect<u32>(ioRead(0x3002, 2)).toBe(0x83be);
    expect<f64>(regionReads(<u32>io)).toBe(2);
    expect<f64>(regionReads(<u32>mm)).toBe(1);
  });
});

describe("doorbells", () => {
  it("a write counts and queues { region, offset, size, value }; reads return the count and do not count", () => {
    drainEvents();
    const db = doorbellCreate();
    const id = addRegion(SPACE_MMIO, 0x10010000, 0x100, 100, KIND_DOORBELL, db);
    expect<u64>(access(SPACE_MMIO, 0x10010000, 4, false, 0)).toBe(0);
    access(SPACE_MMIO, 0x10010010, 4, true, 0xdeadbeef);
    access(SPACE_MMIO, 0x10010021, 1, true, 0x1ff);
    access(SPACE_MMIO, 0x10010030, 8, true, 0x1122334455667788);
    access(SPACE_MMIO, 0x10010040, 2, true, 0xfffff00d);
    expect<u64>(doorbellCount(db)).toBe(4);
    expect<u64>(access(SPACE_MMIO, 0x10010000, 4, false, 0)).toBe(4);
    expect<u64>(access(SPACE_MMIO, 0x10010000, 8, false, 0)).toBe(4);
    expect<u64>(doorbellCount(db)).toBe(4, "reads do not count");
    expect<u32>(eventsQueued()).toBe(4);
    expect<u32>(eventsDrain(100)).toBe(4);
    const off: u64[] = [0x10, 0x21, 0x30, 0x40];
    const size: u32[] = [4, 1, 8, 2];
    const value: u64[] = [0xdeadbeef, 0xff, 0x1122334455667788, 0xf00d];
    for (let i = 0; i < 4; i++) {
      const e = staging + <usize>i * 32;
      expect<u32>(load<u32>(e)).toBe(<u32>id);
      expect<u32>(load<u32>(e, 4)).toBe(size[i]);
      expect<u64>(load<u64>(e, 8)).toBe(off[i]);
      expect<u64>(load<u64>(e, 16)).toBe(value[i]);
    }
    expect<f64>(regionWrites(<u32>id)).toBe(4);
    expect<f64>(regionReads(<u32>id)).toBe(3);
  });

  it("the count read is the low 32 bits, cut to 1- and 2-byte reads; doorbells count separately", () => {
    drainEvents();
    const a = doorbellCreate();
    const b = doorbellCreate();
    const ra = addRegion(SPACE_IO, 0x4000, 8, 100, KIND_DOORBELL, a);
    const rb = addRegion(SPACE_IO, 0x4008, 8, 100, KIND_DOORBELL, b);
    expect<i32>(rb).toBe(ra + 1);
    for (let i = 0; i < 0x1ff; i++) ioWrite(0x4000, 1, <u32>i);
    ioWrite(0x4008, 4, 1);
    expect<u32>(ioRead(0x4000, 1)).toBe(0xff);
    expect<u32>(ioRead(0x4000, 2)).toBe(0x1ff);
    expect<u32>(ioRead(0x4003, 4)).toBe(0x1ff);
    expect<u32>(ioRead(0x4008, 4)).toBe(1);
    expect<u64>(doorbellCount(b)).toBe(1);
    expect<u64>(doorbellCount(0xffffffff)).toBe(0, "an unknown doorbell counts 0");
    drainEvents();
  });
});

describe("host models", () => {
  it("reads return the mailbox value cut to the size (preset all ones: the suite's import does nothing); writes return 0", () => {
    const before = counters();
    const id = addRegion(SPACE_MMIO, 0x10020000, 0x1000, 100, KIND_HOST, 3);
    const io = addRegion(SPACE_IO, 0x5000, 0x10, 100, KIND_HOST, 4);
    expect<u64>(access(SPACE_MMIO, 0x10020000, 1, false, 0)).toBe(0xff);
    expect<u64>(access(SPACE_MMIO, 0x10020000, 2, false, 0)).toBe(0xffff);
    expect<u64>(access(SPACE_MMIO, 0x10020000, 4, false, 0)).toBe(0xffffffff);
    expect<u64>(access(SPACE_MMIO, 0x10020000, 8, false, 0)).toBe(0xffffffffffffffff);
    expect<u8>(lastStatus).toBe(STATUS_OK);
    expect<u64>(access(SPACE_MMIO, 0x10020008, 8, true, 0x1234)).toBe(0);
    expect<u8>(lastStatus).toBe(STATUS_OK);
    expect<u32>(ioRead(0x5004, 2)).toBe(0xffff);
    ioWrite(0x5004, 4, 0);
    expect<string>(delta(before)).toBe("0,0,0,0,0,0", "no abort, no invalid, no host error");
    expect<f64>(counterValue(C_HOST_ERROR)).toBe(0);
    expect<f64>(regionReads(<u32>id)).toBe(4);
    expect<f64>(regionWrites(<u32>id)).toBe(1);
    expect<f64>(regionReads(<u32>io)).toBe(1);
    expect<f64>(regionWrites(<u32>io)).toBe(1);
  });
});

describe("master aborts", () => {
  it("unclaimed addresses read all ones for the size, writes are dropped, counted per space and direction", () => {
    const before = counters();
    expect<u64>(access(SPACE_MMIO, 0x20000000, 1, false, 0)).toBe(0xff);
    expect<u8>(lastStatus).toBe(STATUS_ABORT);
    expect<u64>(access(SPACE_MMIO, 0x20000000, 2, false, 0)).toBe(0xffff);
    expect<u64>(access(SPACE_MMIO, 0x20000000, 4, false, 0)).toBe(0xffffffff);
    expect<u64>(access(SPACE_MMIO, 0x20000000, 8, false, 0)).toBe(0xffffffffffffffff);
    expect<string>(delta(before)).toBe("4,0,0,0,0,0");
    expect<u64>(access(SPACE_MMIO, 0x20000000, 4, true, 0)).toBe(0);
    expect<u8>(lastStatus).toBe(STATUS_ABORT);
    expect<string>(delta(before)).toBe("4,1,0,0,0,0");
    expect<u64>(access(SPACE_IO, 0x6000, 1, false, 0)).toBe(0xff);
    expect<u64>(access(SPACE_IO, 0x6000, 2, false, 0)).toBe(0xffff);
    expect<u64>(access(SPACE_IO, 0x6000, 4, false, 0)).toBe(0xffffffff);
    access(SPACE_IO, 0x6000, 2, true, 0);
    access(SPACE_IO, 0x6000, 1, true, 0);
    expect<string>(delta(before)).toBe("4,1,3,2,0,0");
  });

  it("MMIO at or above 2^52 and IO ports at or above 0x10000 are master aborts (not invalid)", () => {
    const before = counters();
    expect<u64>(access(SPACE_MMIO, <u64>1 << 52, 4, false, 0)).toBe(0xffffffff);
    expect<u64>(access(SPACE_MMIO, 0xffffffffffffffff, 1, false, 0)).toBe(0xff);
    expect<u32>(mmioRead(4503599627370496.0 * 2.0, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0x10000, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0x10000 + 0xcfc, 4)).toBe(0xffffffff, "does not alias 0xCFC");
    expect<u32>(ioRead(0xffffffff, 1)).toBe(0xff);
    ioWrite(0x10cf8, 4, 0);
    expect<string>(delta(before)).toBe("3,0,3,1,0,0");
  });

  it("an access that starts in an unclaimed byte aborts even if later bytes are claimed", () => {
    const rf = regfileWith(4, 0x90, NO_MASK);
    addRegion(SPACE_MMIO, 0x10030004, 4, 100, KIND_REGFILE, rf);
    const before = counters();
    expect<u64>(access(SPACE_MMIO, 0x10030000, 8, false, 0)).toBe(0xffffffffffffffff);
    expect<u64>(access(SPACE_MMIO, 0x10030004, 4, false, 0)).toBe(0x93929190);
    expect<string>(delta(before)).toBe("1,0,0,0,0,0");
  });
});

describe("invalid accesses", () => {
  it("MMIO sizes other than 1, 2, 4, 8 and IO sizes other than 1, 2, 4: all ones of a dword, counted invalid, handler untouched", () => {
    drainEvents();
    const db = doorbellCreate();
    const id = addRegion(SPACE_MMIO, 0x10040000, 0x100, 100, KIND_DOORBELL, db);
    const io = addRegion(SPACE_IO, 0x7000, 0x10, 100, KIND_DOORBELL, db);
    const before = counters();
    const bad: i32[] = [0, 3, 5, 6, 7, 9, 16, -1, -8, 0x7fffffff];
    for (let i = 0; i < bad.length; i++) {
      expect<u64>(access(SPACE_MMIO, 0x10040000, bad[i], false, 0)).toBe(0xffffffff);
      expect<u8>(lastStatus).toBe(STATUS_INVALID);
      access(SPACE_MMIO, 0x10040000, bad[i], true, 0);
      expect<u8>(lastStatus).toBe(STATUS_INVALID);
    }
    expect<u64>(access(SPACE_IO, 0x7000, 8, false, 0)).toBe(0xffffffff);
    expect<u8>(lastStatus).toBe(STATUS_INVALID);
    access(SPACE_IO, 0x7000, 8, true, 0);
    expect<u32>(ioRead(0x7000, 3)).toBe(0xffffffff);
    ioWrite(0x7000, 0, 0);
    // also at unclaimed addresses: invalid, not an abort
    expect<u64>(access(SPACE_MMIO, 0x20000000, 3, false, 0)).toBe(0xffffffff);
    expect<u64>(access(SPACE_IO, 0x6000, 8, false, 0)).toBe(0xffffffff);
    expect<string>(delta(before)).toBe("0,0,0,0," + (2 * bad.length + 6).toString() + ",0");
    expect<u64>(doorbellCount(db)).toBe(0);
    expect<u32>(eventsQueued()).toBe(0);
    expect<f64>(regionReads(<u32>id)).toBe(0);
    expect<f64>(regionWrites(<u32>id)).toBe(0);
    expect<f64>(regionReads(<u32>io)).toBe(0);
  });

  it("countInvalid counts the embedder's own rejections", () => {
    const before = counterValue(C_INVALID);
    countInvalid();
    countInvalid();
    expect<f64>(counterValue(C_INVALID) - before).toBe(2);
    expect<f64>(counterValue(8)).toBe(0, "unknown counter");
  });
});

describe("mmioRead / mmioWrite", () => {
  it("an 8-byte read returns the low half and leaves the high half in mmioReadHigh", () => {
    const rf = regfileWith(8, 0xa0, NO_MASK);
    addRegion(SPACE_MMIO, 0x10050000, 8, 100, KIND_REGFILE, rf);
    expect<u32>(mmioRead(<f64>0x10050000, 8)).toBe(0xa3a2a1a0);
    expect<u32>(mmioReadHigh()).toBe(0xa7a6a5a4);
    expect<u32>(mmioRead(<f64>0x10050000, 4)).toBe(0xa3a2a1a0);
    expect<u32>(mmioReadHigh()).toBe(0);
    mmioWrite(<f64>0x10050000, 8, 0x11111111, 0x22222222);
    expect<u64>(regfileRead(rf, 0, 8, 0xffffffffffffffff)).toBe(0x2222222211111111);
    mmioWrite(<f64>0x10050000, 4, 0x33333333, 0x44444444); // the high half is not written by a dword write
    expect<u64>(regfileRead(rf, 0, 8, 0xffffffffffffffff)).toBe(0x2222222233333333);
    expect<u32>(mmioRead(<f64>0x20000000, 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
  });

  it("NaN, negative, fractional, infinite and >= 2^64 addresses: all ones for the size, counted invalid once", () => {
    const bad: f64[] = [NaN, -1.0, -0.5, 0.5, <f64>0x10050000 + 0.5, Infinity, -Infinity, TWO64, TWO64 + <f64>0x10050000, 1e300];
    const before = counters();
    for (let i = 0; i < bad.length; i++) {
      expect<u32>(mmioRead(bad[i], 1)).toBe(0xff);
      expect<u32>(mmioReadHigh()).toBe(0);
      expect<u32>(mmioRead(bad[i], 2)).toBe(0xffff);
      expect<u32>(mmioRead(bad[i], 4)).toBe(0xffffffff);
      expect<u32>(mmioRead(bad[i], 8)).toBe(0xffffffff);
      expect<u32>(mmioReadHigh()).toBe(0xffffffff);
      expect<u32>(mmioRead(bad[i], 3)).toBe(0xffffffff);
      mmioWrite(bad[i], 4, 0, 0);
      mmioWrite(bad[i], 8, 0, 0);
    }
    expect<string>(delta(before)).toBe("0,0,0,0," + (7 * bad.length).toString() + ",0");
    // none of them reached the register file at 0x10050000
    expect<u32>(mmioRead(<f64>0x10050000, 4)).toBe(0x33333333);
  });

  it("-0.0 and 2^64 - 2048 (the largest double below 2^64) are integers in range: they decode (and abort)", () => {
    const before = counters();
    expect<u32>(mmioRead(-0.0, 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(18446744073709549568.0, 2)).toBe(0xffff);
    expect<string>(delta(before)).toBe("2,0,0,0,0,0");
  });

  it("a bad size at a good address: invalid, all ones of a dword, high half 0", () => {
    const before = counters();
    expect<u32>(mmioRead(<f64>0x10050000, 3)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0);
    mmioWrite(<f64>0x10050000, 16, 0, 0);
    expect<string>(delta(before)).toBe("0,0,0,0,2,0");
    expect<u32>(mmioRead(<f64>0x10050000, 4)).toBe(0x33333333);
  });
});
