// The config-space store (assembly/config/store.ts): slot allocation, the per-segment direct
// slot table, the multi-function bit, loadPlanes from the staging area, and the one read/write
// path (mask semantics, W1C, dword-crossing and invalid sizes, the 256-byte conventional limit).
//
// Module state persists across the tests of this file: every test uses its own segment/bus so
// that nothing one test adds is visible to another. The allocation-order test runs first.
import {
  addFunction, removeFunction, loadPlanes, findSlot, blockOf, sizeOf, slotRead, slotWrite,
  configRead, configWrite, planeByte, staging,
} from "../config/store";
import {
  OK, ERR_RANGE, ERR_EXISTS, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE, MAX_FUNCTIONS, onesFor,
} from "../config/layout";

// ---- staging helpers ----------------------------------------------------------------------
function clearStaging(): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
}
function stage8(plane: u32, off: u32, v: u32): void {
  store<u8>(staging + <usize>(plane * PLANE_SIZE + off), <u8>v);
}
function stage16(plane: u32, off: u32, v: u32): void {
  stage8(plane, off, v & 0xff);
  stage8(plane, off + 1, (v >> 8) & 0xff);
}
function stage32(plane: u32, off: u32, v: u32): void {
  stage16(plane, off, v & 0xffff);
  stage16(plane, off + 2, v >> 16);
}
/** Adds a function with vendor/device IDs and returns its slot (expects success). */
function addWithIds(seg: u32, bus: u32, dev: u32, fn: u32, size: u32, vendor: u32, device: u32): i32 {
  const slot = addFunction(seg, bus, dev, fn, size);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction failed");
  clearStaging();
  stage16(0, 0, vendor);
  stage16(0, 2, device);
  expect<i32>(loadPlanes(slot)).toBe(OK);
  return slot;
}
function headerType(slot: i32): u32 {
  return planeByte(slot, 0, 0x0e);
}

describe("slot allocation", () => {
  it("hands out the lowest free slots in order, starting at 0", () => {
    expect<i32>(addFunction(15, 0xf0, 0, 0, 256)).toBe(0);
    expect<i32>(addFunction(15, 0xf0, 1, 0, 4096)).toBe(1);
    expect<i32>(addFunction(15, 0xf0, 2, 0, 256)).toBe(2);
    expect<u32>(sizeOf(0)).toBe(256);
    expect<u32>(sizeOf(1)).toBe(4096);
    expect<i32>(findSlot(15, 0xf0, 1, 0)).toBe(1);
  });

  it("reuses a removed slot and its block, with all three planes zeroed", () => {
    // Dirty slot 1's three planes first.
    clearStaging();
    for (let p: u32 = 0; p < 3; p++) {
      stage8(p, 0x10, 0xaa);
      stage8(p, 0xfff, 0x55);
    }
    expect<i32>(loadPlanes(1)).toBe(OK);
    expect<u32>(planeByte(1, 2, 0xfff)).toBe(0x55);
    const oldBlock = blockOf(1);
    expect<i32>(removeFunction(1)).toBe(OK);
    expect<i32>(findSlot(15, 0xf0, 1, 0)).toBe(-1);
    expect<u32>(configRead(15, 0xf0, 1, 0, 0, 4)).toBe(0xffffffff);
    // The next add takes slot 1 again (the lowest free), at a different address.
    const again = addFunction(15, 0xf0, 7, 3, 256);
    expect<i32>(again).toBe(1);
    expect<usize>(blockOf(again)).toBe(oldBlock, "block reused, never freed");
    expect<u32>(sizeOf(again)).toBe(256);
    for (let p: u32 = 0; p < 3; p++) {
      expect<u32>(planeByte(again, p, 0x10)).toBe(0);
      expect<u32>(planeByte(again, p, 0xfff)).toBe(0);
    }
    expect<i32>(findSlot(15, 0xf0, 7, 3)).toBe(1);
    // The next new slot after the reused one is 3.
    expect<i32>(addFunction(15, 0xf0, 8, 0, 256)).toBe(3);
  });

  it("a removed slot is no longer valid", () => {
    const s = addFunction(15, 0xf1, 0, 0, 256);
    expect<i32>(removeFunction(s)).toBe(OK);
    expect<i32>(removeFunction(s)).toBe(ERR_NOT_FOUND);
    expect<i32>(loadPlanes(s)).toBe(ERR_NOT_FOUND);
    expect<u32>(planeByte(s, 0, 0)).toBe(0);
  });
});

describe("ERR_* codes", () => {
  it("ERR_RANGE for a segment, bus, device or function out of range", () => {
    expect<i32>(addFunction(16, 0, 0, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(addFunction(0xffffffff, 0, 0, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 256, 0, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 32, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 8, 256)).toBe(ERR_RANGE);
  });

  it("ERR_RANGE for a config space size other than 256 or 4096", () => {
    expect<i32>(addFunction(14, 0, 0, 0, 0)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 0, 64)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 0, 512)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 0, 4095)).toBe(ERR_RANGE);
    expect<i32>(addFunction(14, 0, 0, 0, 8192)).toBe(ERR_RANGE);
    // None of the refused adds created anything.
    expect<i32>(findSlot(14, 0, 0, 0)).toBe(-1);
  });

  it("ERR_EXISTS for a function added twice (whatever the size), and the first one is kept", () => {
    const s = addWithIds(14, 1, 2, 3, 256, 0x1234, 0x5678);
    expect<i32>(addFunction(14, 1, 2, 3, 256)).toBe(ERR_EXISTS);
    expect<i32>(addFunction(14, 1, 2, 3, 4096)).toBe(ERR_EXISTS);
    expect<i32>(findSlot(14, 1, 2, 3)).toBe(s);
    expect<u32>(configRead(14, 1, 2, 3, 0, 4)).toBe(0x56781234);
    expect<u32>(sizeOf(s)).toBe(256);
  });

  it("ERR_NOT_FOUND for removeFunction / loadPlanes of a slot that is not in use", () => {
    expect<i32>(removeFunction(-1)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeFunction(<i32>MAX_FUNCTIONS)).toBe(ERR_NOT_FOUND);
    expect<i32>(removeFunction(4000)).toBe(ERR_NOT_FOUND);
    expect<i32>(loadPlanes(-5)).toBe(ERR_NOT_FOUND);
    expect<i32>(loadPlanes(<i32>MAX_FUNCTIONS + 10)).toBe(ERR_NOT_FOUND);
    expect<i32>(loadPlanes(4000)).toBe(ERR_NOT_FOUND);
  });

  it("findSlot range-checks its arguments", () => {
    expect<i32>(findSlot(16, 0, 0, 0)).toBe(-1);
    expect<i32>(findSlot(14, 256, 0, 0)).toBe(-1);
    expect<i32>(findSlot(14, 1, 34, 3)).toBe(-1); // 34 & 31 == 2: must not alias dev 2
    expect<i32>(findSlot(14, 1, 2, 11)).toBe(-1); // 11 & 7 == 3: must not alias fn 3
    expect<i32>(findSlot(14, 257, 2, 3)).toBe(-1); // 257 & 255 == 1
    expect<u32>(configRead(14, 1, 34, 3, 0, 4)).toBe(0xffffffff);
    expect<u32>(configRead(30, 1, 2, 3, 0, 4)).toBe(0xffffffff); // 30 & 15 == 14
  });
});

describe("direct slot table", () => {
  it("finds functions on many buses and segments, and nothing next to them", () => {
    const segs: u32[] = [0, 1, 2, 13];
    const buses: u32[] = [0, 1, 0x7f, 0x80, 0xff];
    const devs: u32[] = [0, 0x10, 0x1f];
    const fns: u32[] = [0, 5, 7];
    let n: u32 = 0;
    for (let a = 0; a < segs.length; a++) for (let b = 0; b < buses.length; b++)
      for (let d = 0; d < devs.length; d++) for (let f = 0; f < fns.length; f++) {
        // vendor = running number, device = low 16 bits of the address
        const addr = (segs[a] << 16) | (buses[b] << 8) | (devs[d] << 3) | fns[f];
        addWithIds(segs[a], buses[b], devs[d], fns[f], (n & 1) == 0 ? 256 : 4096, 0x1000 + n, addr & 0xffff);
        n++;
      }
    n = 0;
    const absentSegs: u32[] = [3, 4, 12];
    const absentBuses: u32[] = [2, 0x7e, 0xfe];
    const absentDevs: u32[] = [1, 0x0f, 0x1e];
    const absentFns: u32[] = [1, 4, 6];
    for (let a = 0; a < segs.length; a++) for (let b = 0; b < buses.length; b++)
      for (let d = 0; d < devs.length; d++) for (let f = 0; f < fns.length; f++) {
        const s = segs[a], bu = buses[b], de = devs[d], fn = fns[f];
        const addr = (s << 16) | (bu << 8) | (de << 3) | fn;
        expect<u32>(configRead(s, bu, de, fn, 0, 4)).toBe(((addr & 0xffff) << 16) | (0x1000 + n));
        expect<i32>(findSlot(s, bu, de, fn)).toBeGreaterThanOrEqual(0);
        expect<u32>(sizeOf(findSlot(s, bu, de, fn))).toBe((n & 1) == 0 ? 256 : 4096);
        // Neighbours that were never added: other function, device, bus, segment.
        for (let k = 0; k < 3; k++) {
          expect<i32>(findSlot(s, bu, de, absentFns[k])).toBe(-1);
          expect<i32>(findSlot(s, bu, absentDevs[k], fn)).toBe(-1);
          expect<i32>(findSlot(s, absentBuses[k], de, fn)).toBe(-1);
          expect<i32>(findSlot(absentSegs[k], bu, de, fn)).toBe(-1);
          expect<u32>(configRead(s, bu, absentDevs[k], fn, 0, 2)).toBe(0xffff);
        }
        n++;
      }
  });

  it("segments never touched have no table and find nothing", () => {
    expect<i32>(findSlot(12, 0, 0, 0)).toBe(-1);
    expect<u32>(configRead(12, 0, 0, 0, 0, 4)).toBe(0xffffffff);
    expect<u32>(configRead(12, 0, 0, 0, 0, 1)).toBe(0xff);
    configWrite(12, 0, 0, 0, 4, 4, 0xffffffff); // must not trap
  });
});

describe("multi-function bit (function 0's Header Type bit 7)", () => {
  // Segment 11 only.
  it("is set when a sibling is added and cleared when the last sibling is removed", () => {
    const f0 = addWithIds(11, 0, 4, 0, 256, 0x1111, 1);
    expect<u32>(headerType(f0)).toBe(0x00);
    const f3 = addWithIds(11, 0, 4, 3, 256, 0x1111, 2);
    expect<u32>(headerType(f0)).toBe(0x80);
    expect<u32>(configRead(11, 0, 4, 0, 0x0e, 1)).toBe(0x80);
    const f7 = addFunction(11, 0, 4, 7, 4096);
    expect<u32>(headerType(f0)).toBe(0x80);
    expect<i32>(removeFunction(f3)).toBe(OK);
    expect<u32>(headerType(f0)).toBe(0x80, "function 7 is still there");
    expect<i32>(removeFunction(f7)).toBe(OK);
    expect<u32>(headerType(f0)).toBe(0x00);
    expect<u32>(configRead(11, 0, 4, 0, 0x0c, 4)).toBe(0x00000000);
  });

  it("is set when function 0 arrives after its siblings", () => {
    addWithIds(11, 0, 5, 6, 256, 0x2222, 1);
    const f0 = addFunction(11, 0, 5, 0, 256);
    expect<u32>(headerType(f0)).toBe(0x80);
    // Loading planes that say "single function" does not clear it while siblings exist.
    clearStaging();
    stage16(0, 0, 0x2222);
    stage8(0, 0x0e, 0x01); // a bridge header, single-function per the dump
    expect<i32>(loadPlanes(f0)).toBe(OK);
    expect<u32>(headerType(f0)).toBe(0x81);
  });

  it("loadPlanes clears a bit the staged bytes set when there is no sibling", () => {
    const f0 = addFunction(11, 0, 6, 0, 256);
    clearStaging();
    stage16(0, 0, 0x3333);
    stage8(0, 0x0e, 0x80);
    expect<i32>(loadPlanes(f0)).toBe(OK);
    expect<u32>(headerType(f0)).toBe(0x00);
    expect<u32>(planeByte(f0, 0, 0)).toBe(0x33, "the rest of the planes was loaded");
  });

  it("loadPlanes of a sibling leaves function 0's bit alone, and other devices are untouched", () => {
    const f0 = addWithIds(11, 0, 9, 0, 256, 0x4444, 0);
    const f1 = addWithIds(11, 0, 9, 1, 256, 0x4444, 1);
    expect<u32>(headerType(f0)).toBe(0x80);
    // The sibling's own header type is what was loaded (bit 7 is only kept on function 0).
    clearStaging();
    stage16(0, 0, 0x4444);
    stage8(0, 0x0e, 0x00);
    expect<i32>(loadPlanes(f1)).toBe(OK);
    expect<u32>(headerType(f0)).toBe(0x80);
    expect<u32>(headerType(f1)).toBe(0x00);
    // Device 10 and device 8 (neighbours) have no bit set.
    const other = addWithIds(11, 0, 10, 0, 256, 0x4444, 2);
    expect<u32>(headerType(other)).toBe(0x00);
    // Same device number on another bus / segment is a different device.
    const otherBus = addWithIds(11, 1, 9, 0, 256, 0x4444, 3);
    expect<u32>(headerType(otherBus)).toBe(0x00);
    const otherSeg = addWithIds(10, 0, 9, 0, 256, 0x4444, 4);
    expect<u32>(headerType(otherSeg)).toBe(0x00);
  });

  it("removing function 0 and adding it back recomputes the bit", () => {
    const f0 = findSlot(11, 0, 9, 0);
    expect<i32>(removeFunction(f0)).toBe(OK);
    const again = addFunction(11, 0, 9, 0, 256);
    expect<u32>(headerType(again)).toBe(0x80);
    expect<i32>(removeFunction(findSlot(11, 0, 9, 1))).toBe(OK);
    expect<u32>(headerType(again)).toBe(0x00);
  });
});

describe("loadPlanes from the staging area", () => {
  it("copies config, wmask and w1cmask, in that order, all 4096 bytes of each", () => {
    const s = addFunction(9, 0, 0, 0, 4096);
    clearStaging();
    for (let i: u32 = 0; i < 4096; i += 97) {
      stage8(0, i, (i * 7 + 1) & 0xff);
      stage8(1, i, (i * 13 + 2) & 0xff);
      stage8(2, i, (i * 17 + 3) & 0xff);
    }
    stage8(0, 0xfff, 0xc0);
    stage8(1, 0xfff, 0xc1);
    stage8(2, 0xfff, 0xc2);
    expect<i32>(loadPlanes(s)).toBe(OK);
    for (let i: u32 = 0; i < 4096; i += 97) {
      if (i == 0x0e) continue; // header type: bit 7 recomputed
      expect<u32>(planeByte(s, 0, i)).toBe((i * 7 + 1) & 0xff);
      expect<u32>(planeByte(s, 1, i)).toBe((i * 13 + 2) & 0xff);
      expect<u32>(planeByte(s, 2, i)).toBe((i * 17 + 3) & 0xff);
    }
    expect<u32>(planeByte(s, 0, 0xfff)).toBe(0xc0);
    expect<u32>(planeByte(s, 1, 0xfff)).toBe(0xc1);
    expect<u32>(planeByte(s, 2, 0xfff)).toBe(0xc2);
    // Untouched bytes are zero.
    expect<u32>(planeByte(s, 0, 1)).toBe(0);
    expect<u32>(planeByte(s, 2, 0xffe)).toBe(0);
  });

  it("a second loadPlanes replaces everything", () => {
    const s = findSlot(9, 0, 0, 0);
    clearStaging();
    stage32(0, 0, 0xdeadbeef);
    expect<i32>(loadPlanes(s)).toBe(OK);
    expect<u32>(configRead(9, 0, 0, 0, 0, 4)).toBe(0xdeadbeef);
    expect<u32>(planeByte(s, 0, 0xfff)).toBe(0);
    expect<u32>(planeByte(s, 1, 0xfff)).toBe(0);
    expect<u32>(planeByte(s, 2, 0xfff)).toBe(0);
  });
});

describe("planeByte", () => {
  it("reads each plane and returns 0 outside (bad slot, plane > 2, offset >= 4096)", () => {
    const s = addFunction(9, 1, 0, 0, 256);
    clearStaging();
    stage8(0, 0x44, 0x11);
    stage8(1, 0x44, 0x22);
    stage8(2, 0x44, 0x33);
    loadPlanes(s);
    expect<u32>(planeByte(s, 0, 0x44)).toBe(0x11);
    expect<u32>(planeByte(s, 1, 0x44)).toBe(0x22);
    expect<u32>(planeByte(s, 2, 0x44)).toBe(0x33);
    expect<u32>(planeByte(s, 3, 0x44)).toBe(0);
    expect<u32>(planeByte(s, 0xffffffff, 0x44)).toBe(0);
    expect<u32>(planeByte(s, 0, 4096)).toBe(0);
    expect<u32>(planeByte(s, 0, 0xffffffff)).toBe(0);
    expect<u32>(planeByte(-1, 0, 0x44)).toBe(0);
    expect<u32>(planeByte(<i32>MAX_FUNCTIONS, 0, 0x44)).toBe(0);
  });
});

// A function for the access-path tests: 4096-byte space on segment 8, with
//   0x40..0x43 config 0xa5 5a f0 0f, wmask 0x0f 0xf0 0xff 0x00, w1c 0xf0 0x0f 0x00 0xff
//   0x100..0x103 config 0x11223344, wmask all ones
function accessFunction(seg: u32, size: u32): i32 {
  const s = addFunction(seg, 0, 0, 0, size);
  clearStaging();
  stage32(0, 0, 0x0001abcd);
  stage32(0, 0x40, 0x0ff05aa5);
  stage32(1, 0x40, 0x00fff00f);
  stage32(2, 0x40, 0xff000ff0);
  stage32(0, 0x100, 0x11223344);
  stage32(1, 0x100, 0xffffffff);
  stage32(0, 0xffc, 0xcafef00d);
  stage32(1, 0xffc, 0xffffffff);
  expect<i32>(loadPlanes(s)).toBe(OK);
  return s;
}

/** The rule, one byte: ((o & ~wm) | (v & wm)) & ~(v & w1c). */
function rule(o: u32, v: u32, wm: u32, w1: u32): u32 {
  return (((o & ~wm) | (v & wm)) & ~(v & w1)) & 0xff;
}

describe("slotRead / slotWrite", () => {
  it("reads sizes 1, 2 and 4 little-endian, 2 bytes at offset 1 included", () => {
    const s = accessFunction(8, 4096);
    expect<u32>(slotRead(s, 0x40, 4)).toBe(0x0ff05aa5);
    expect<u32>(slotRead(s, 0x40, 2)).toBe(0x5aa5);
    expect<u32>(slotRead(s, 0x42, 2)).toBe(0x0ff0);
    expect<u32>(slotRead(s, 0x41, 2)).toBe(0xf05a);
    expect<u32>(slotRead(s, 0x43, 1)).toBe(0x0f);
    expect<u32>(slotRead(s, 0x41, 1)).toBe(0x5a);
  });

  it("a dword-crossing access reads all ones for its size and writes nothing", () => {
    const s = findSlot(8, 0, 0, 0);
    expect<u32>(slotRead(s, 0x43, 2)).toBe(0xffff);
    expect<u32>(slotRead(s, 0x41, 4)).toBe(0xffffffff);
    expect<u32>(slotRead(s, 0x42, 4)).toBe(0xffffffff);
    expect<u32>(slotRead(s, 0x43, 4)).toBe(0xffffffff);
    slotWrite(s, 0x43, 2, 0);
    slotWrite(s, 0x41, 4, 0);
    slotWrite(s, 0x3f, 2, 0xffff);
    slotWrite(s, 0x3e, 4, 0xffffffff);
    expect<u32>(slotRead(s, 0x40, 4)).toBe(0x0ff05aa5);
    expect<u32>(slotRead(s, 0x3c, 4)).toBe(0);
  });

  it("invalid sizes read 0xffffffff and write nothing", () => {
    const s = findSlot(8, 0, 0, 0);
    const sizes: i32[] = [0, 3, 5, 6, 7, 8, 16, -1, -4, 0x7fffffff];
    for (let i = 0; i < sizes.length; i++) {
      expect<u32>(slotRead(s, 0x40, sizes[i])).toBe(0xffffffff);
      slotWrite(s, 0x40, sizes[i], 0);
      expect<u32>(configRead(8, 0, 0, 0, 0x40, sizes[i])).toBe(0xffffffff);
      configWrite(8, 0, 0, 0, 0x40, sizes[i], 0);
    }
    expect<u32>(slotRead(s, 0x40, 4)).toBe(0x0ff05aa5);
    expect<u32>(onesFor(3)).toBe(0xffffffff);
  });

  it("a dword write follows the rule byte by byte (W1C included)", () => {
    const s = findSlot(8, 0, 0, 0);
    const v: u32 = 0x3c3cc3c3;
    slotWrite(s, 0x40, 4, v);
    const o: u32[] = [0xa5, 0x5a, 0xf0, 0x0f];
    const wm: u32[] = [0x0f, 0xf0, 0xff, 0x00];
    const w1: u32[] = [0xf0, 0x0f, 0x00, 0xff];
    let want: u32 = 0;
    for (let i = 0; i < 4; i++) want |= rule(o[i], (v >> (8 * i)) & 0xff, wm[i], w1[i]) << (8 * i);
    expect<u32>(slotRead(s, 0x40, 4)).toBe(want);
    // byte 0: (a5 & f0 | c3 & 0f) & ~(c3 & f0) = (a0|03) & ~c0 = 0x23
    expect<u32>(slotRead(s, 0x40, 1)).toBe(0x23);
    // byte 3: read-only except W1C: 0f & ~(3c & ff) = 0x03
    expect<u32>(slotRead(s, 0x43, 1)).toBe(0x03);
    // masks are not changed by writes
    expect<u32>(planeByte(s, 1, 0x40)).toBe(0x0f);
    expect<u32>(planeByte(s, 2, 0x43)).toBe(0xff);
  });

  it("W1C at size 1: writing 0 changes nothing, writing 1s clears exactly those bits", () => {
    const t = findSlot(8, 0, 0, 0);
    clearStaging();
    stage8(0, 0x50, 0xff);
    stage8(2, 0x50, 0xff); // all W1C
    stage8(0, 0x51, 0xf0);
    stage8(2, 0x51, 0x30);
    stage8(1, 0x51, 0x0f); // mixed RW / RW1C / RO
    expect<i32>(loadPlanes(t)).toBe(OK);
    slotWrite(t, 0x50, 1, 0x00);
    expect<u32>(slotRead(t, 0x50, 1)).toBe(0xff);
    slotWrite(t, 0x50, 1, 0x81);
    expect<u32>(slotRead(t, 0x50, 1)).toBe(0x7e);
    slotWrite(t, 0x50, 1, 0xff);
    expect<u32>(slotRead(t, 0x50, 1)).toBe(0x00);
    slotWrite(t, 0x50, 1, 0xff); // stays 0: W1C bits cannot be set
    expect<u32>(slotRead(t, 0x50, 1)).toBe(0x00);
    // 0x51: o=f0 wm=0f w1=30, v=0x15 -> ((f0&f0)|(15&0f)) & ~(15&30) = (f0|05) & ~10 = 0xe5
    slotWrite(t, 0x51, 1, 0x15);
    expect<u32>(slotRead(t, 0x51, 1)).toBe(0xe5);
  });

  it("W1C at size 2 and 4 touch only the addressed bytes", () => {
    const t = findSlot(8, 0, 0, 0);
    clearStaging();
    stage32(0, 0x60, 0xffffffff);
    stage32(2, 0x60, 0xf900f900);
    stage32(1, 0x60, 0x00450045);
    expect<i32>(loadPlanes(t)).toBe(OK);
    // size 2 at 0x62: o=ffff wm=0045 w1=f900 v=8100 -> (ffba | 0) & ~8100 = 0x7eba; low word untouched
    slotWrite(t, 0x62, 2, 0x8100);
    expect<u32>(slotRead(t, 0x60, 4)).toBe(0x7ebaffff);
    // o=0x7effffff wm 0x00450045 w1 0xf900f900, v=0x00000900:
    // low word: (ffff & ~0045 | 0900 & 0045) & ~(0900 & f900) = ffba & ~0900 = 0xf6ba
    slotWrite(t, 0x60, 4, 0x00000900);
    expect<u32>(slotRead(t, 0x60, 2)).toBe(0xf6ba);
    expect<u32>(slotRead(t, 0x62, 2)).toBe(0x7eba);
    // size 2 at offset 1 (inside one dword) is a transaction
    slotWrite(t, 0x61, 2, 0xffff);
    expect<u32>(slotRead(t, 0x61, 2)).toBe(rule(0xf6, 0xff, 0x00, 0xf9) | (rule(0xba, 0xff, 0x45, 0x00) << 8));
  });

  it("a conventional function has 256 bytes: offsets 256..4095 read all ones, writes dropped", () => {
    const s = accessFunction(7, 256); // same staged planes, 256-byte space
    expect<u32>(slotRead(s, 0xfc, 4)).toBe(0);
    expect<u32>(slotRead(s, 0x100, 4)).toBe(0xffffffff);
    expect<u32>(slotRead(s, 0x100, 1)).toBe(0xff);
    expect<u32>(slotRead(s, 0x102, 2)).toBe(0xffff);
    expect<u32>(slotRead(s, 0xffc, 4)).toBe(0xffffffff);
    expect<u32>(configRead(7, 0, 0, 0, 0x100, 4)).toBe(0xffffffff);
    slotWrite(s, 0x100, 4, 0);
    slotWrite(s, 0xffc, 4, 0);
    configWrite(7, 0, 0, 0, 0x101, 1, 0);
    // The bytes behind the limit exist in the block but are unreachable and unchanged.
    expect<u32>(planeByte(s, 0, 0x100)).toBe(0x44);
    expect<u32>(planeByte(s, 0, 0x101)).toBe(0x33);
    expect<u32>(planeByte(s, 0, 0xffc)).toBe(0x0d);
  });

  it("a PCIe (4096-byte) function reaches 0x100..0xfff, and nothing at or past 4096", () => {
    const s = findSlot(8, 0, 0, 0);
    accessFunction(6, 4096);
    const e = findSlot(6, 0, 0, 0);
    expect<u32>(slotRead(e, 0x100, 4)).toBe(0x11223344);
    expect<u32>(slotRead(e, 0xffc, 4)).toBe(0xcafef00d);
    expect<u32>(slotRead(e, 0xfff, 1)).toBe(0xca);
    slotWrite(e, 0xffc, 4, 0x01020304);
    expect<u32>(configRead(6, 0, 0, 0, 0xffc, 4)).toBe(0x01020304);
    expect<u32>(slotRead(e, 0x1000, 4)).toBe(0xffffffff);
    expect<u32>(slotRead(e, 0x1000, 1)).toBe(0xff);
    expect<u32>(slotRead(e, 0xfffffffc, 4)).toBe(0xffffffff);
    expect<u32>(slotRead(e, 0xffffffff, 1)).toBe(0xff);
    slotWrite(e, 0x1000, 4, 0);
    slotWrite(e, 0xfffffffc, 4, 0);
    expect<i32>(s).toBeGreaterThanOrEqual(0);
  });

  it("writes to an absent function change nothing anywhere", () => {
    const e = findSlot(6, 0, 0, 0);
    const before = slotRead(e, 0x40, 4);
    configWrite(6, 0, 0, 1, 0x40, 4, 0);
    configWrite(6, 0, 1, 0, 0x40, 4, 0);
    configWrite(6, 1, 0, 0, 0x40, 4, 0);
    configWrite(5, 0, 0, 0, 0x40, 4, 0);
    expect<u32>(slotRead(e, 0x40, 4)).toBe(before);
    expect<u32>(configRead(6, 0, 0, 1, 0x40, 4)).toBe(0xffffffff);
    expect<u32>(configRead(6, 0, 0, 1, 0x40, 2)).toBe(0xffff);
    expect<u32>(configRead(6, 0, 0, 1, 0x40, 1)).toBe(0xff);
  });
});
