// The two ways a guest reaches config space (assembly/dispatch/config-mechanisms.ts): ECAM
// windows (setEcam validation, decoding incl. a window whose first bus is not 0, the 8-byte
// split, f64 address conversion) and configuration mechanism #1 (0xCF8 latch, 0xCFC data lanes).
//
// Module state (windows, latch, functions) persists across the tests of this file; the windows
// are registered once, in the first describe, and every later test relies on exactly them.
import { setEcam } from "../boundary";
import { mmioRead, mmioReadHigh, mmioWrite, ioRead, ioWrite } from "../dispatch/access";
import { initConfigPorts } from "../dispatch/config-mechanisms";
import { addFunction, loadPlanes, configRead, staging } from "../config/store";
import { OK, ERR_RANGE, ERR_EXISTS, PLANE_SIZE, PLANES_SIZE } from "../config/layout";

initConfigPorts();

const MiB: f64 = 1048576.0;
const TWO64: f64 = 18446744073709551616.0;
const SEG0_BASE: f64 = 2952790016.0; // 0xB0000000, buses 0..255
const SEG1_BASE: f64 = 4294967296.0; // 4 GiB, buses 0x10..0x1f (16 MiB)
const SEG2_BASE: f64 = 1099511627776.0; // 2^40, bus 0 only
const SEG3_BASE: f64 = 4503599627370496.0 - MiB; // the last MiB below 2^52 (the decodable MMIO space), bus 5 only

function clearStaging(): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
}
function stage8(plane: u32, off: u32, v: u32): void {
  store<u8>(staging + <usize>(plane * PLANE_SIZE + off), <u8>v);
}
function stage32(plane: u32, off: u32, v: u32): void {
  for (let i: u32 = 0; i < 4; i++) stage8(plane, off + i, (v >> (8 * i)) & 0xff);
}
/**
 * A function whose dword 0 is `id`, dword 0x10 is 0x11111110 (wmask 0xfffffff0), dword 0x14 is
 * 0x22222222 (wmask all ones), dword 0x40 is 0x0000ff00 with W1C on byte 1, dword 0x100 0x1000cafe.
 */
function add(seg: u32, bus: u32, dev: u32, fn: u32, size: u32, id: u32): void {
  const slot = addFunction(seg, bus, dev, fn, size);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction");
  clearStaging();
  stage32(0, 0, id);
  stage32(0, 0x08, 0x03020100);
  stage32(0, 0x10, 0x11111110);
  stage32(1, 0x10, 0xfffffff0);
  stage32(0, 0x14, 0x22222222);
  stage32(1, 0x14, 0xffffffff);
  stage32(0, 0x40, 0x0000ff00);
  stage32(2, 0x40, 0x0000ff00);
  stage32(1, 0x44, 0xffffffff);
  stage32(0, 0xfc, 0x0badf00d);
  stage32(0, 0x100, 0x1000cafe);
  stage32(1, 0x100, 0xffffffff);
  expect<i32>(loadPlanes(slot)).toBe(OK);
}
function ecam(base: f64, busOffset: u32, dev: u32, fn: u32, reg: u32): f64 {
  return base + <f64>((busOffset << 20) | (dev << 15) | (fn << 12) | reg);
}
function cf8(bus: u32, dev: u32, fn: u32, reg: u32): u32 {
  return 0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | reg;
}

describe("setEcam validation", () => {
  it("refuses a segment, bus range or base out of range with ERR_RANGE", () => {
    expect<i32>(setEcam(16, SEG0_BASE, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0xffffffff, SEG0_BASE, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, SEG0_BASE, 5, 4)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, SEG0_BASE, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, SEG0_BASE, 256, 256)).toBe(ERR_RANGE);
  });

  it("refuses a base that is not 1 MiB aligned", () => {
    expect<i32>(setEcam(0, SEG0_BASE + 4096.0, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, SEG0_BASE + 524288.0, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, 1.0, 0, 0)).toBe(ERR_RANGE);
  });

  it("refuses a base that is not an integer in 0..2^64 (NaN, negative, fractional, huge)", () => {
    expect<i32>(setEcam(0, NaN, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, -MiB, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, SEG0_BASE + 0.5, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, Infinity, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, -Infinity, 0, 255)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, TWO64, 0, 0)).toBe(ERR_RANGE);
    expect<i32>(setEcam(0, 1e300, 0, 0)).toBe(ERR_RANGE);
  });

  it("refuses a window that runs past 2^64", () => {
    expect<i32>(setEcam(3, SEG3_BASE, 5, 6)).toBe(ERR_RANGE);
    expect<i32>(setEcam(3, TWO64 - 16.0 * MiB, 0, 255)).toBe(ERR_RANGE);
  });

  it("accepts valid windows (nothing refused above was registered)", () => {
    expect<i32>(setEcam(0, SEG0_BASE, 0, 255)).toBe(OK);
    expect<i32>(setEcam(1, SEG1_BASE, 0x10, 0x1f)).toBe(OK);
    expect<i32>(setEcam(2, SEG2_BASE, 0, 0)).toBe(OK);
    // ends exactly at 2^64
    expect<i32>(setEcam(3, SEG3_BASE, 5, 5)).toBe(OK);
  });

  it("refuses a second window for the same segment with ERR_EXISTS, even a disjoint one", () => {
    expect<i32>(setEcam(0, SEG0_BASE, 0, 255)).toBe(ERR_EXISTS);
    expect<i32>(setEcam(0, 0xe0000000, 0, 0)).toBe(ERR_EXISTS);
    expect<i32>(setEcam(1, SEG1_BASE + 256.0 * MiB, 0, 0)).toBe(ERR_EXISTS);
  });
});

describe("ECAM decoding", () => {
  it("maps bus<<20 | device<<15 | function<<12 | register from the window base", () => {
    add(0, 0, 0, 0, 256, 0x00008086);
    add(0, 3, 0x1f, 7, 4096, 0x00031f07);
    add(0, 0xff, 2, 1, 256, 0x00ff0201);
    expect<u32>(mmioRead(SEG0_BASE, 4)).toBe(0x00008086);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0), 4)).toBe(0x00031f07);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0xff, 2, 1, 0), 4)).toBe(0x00ff0201);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x100), 4)).toBe(0x1000cafe);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x0a), 2)).toBe(0x0302);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x09), 1)).toBe(0x01);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x09), 2)).toBe(0x0201);
  });

  it("absent functions, registers past a conventional space and dword-crossing reads read all ones", () => {
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 6, 0), 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 1, 0, 0), 2)).toBe(0xffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 1, 0, 0), 1)).toBe(0xff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0xfc), 4)).toBe(0x0badf00d);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0x100), 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0xfff), 1)).toBe(0xff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0x0b), 2)).toBe(0xffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0x0a), 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG0_BASE, 3)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG0_BASE, 0)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG0_BASE, 16)).toBe(0xffffffff);
  });

  it("outside every window reads all ones and writes are dropped", () => {
    expect<u32>(mmioRead(SEG0_BASE - 4.0, 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG0_BASE - 1.0, 1)).toBe(0xff);
    expect<u32>(mmioRead(SEG0_BASE + 256.0 * MiB, 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(0.0, 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG1_BASE + 16.0 * MiB, 4)).toBe(0xffffffff);
    mmioWrite(SEG0_BASE - 4.0, 4, 0, 0);
    mmioWrite(SEG1_BASE + 16.0 * MiB + 0x10, 4, 0, 0);
    expect<u32>(configRead(0, 0, 0, 0, 0x10, 4)).toBe(0x11111110);
  });

  it("a window whose first bus is not 0 decodes bus = first bus + (offset >> 20)", () => {
    add(1, 0x10, 0, 0, 256, 0x10100000);
    add(1, 0x12, 3, 2, 4096, 0x10120302);
    add(1, 0x1f, 0x1f, 7, 256, 0x101f1f07);
    // Decoys: what a decoder ignoring the first bus would find.
    add(1, 0x00, 0, 0, 256, 0xdead0000);
    add(1, 0x02, 3, 2, 256, 0xdead0302);
    add(1, 0x20, 0, 0, 256, 0xdead2000);
    expect<u32>(mmioRead(SEG1_BASE, 4)).toBe(0x10100000);
    expect<u32>(mmioRead(ecam(SEG1_BASE, 2, 3, 2, 0), 4)).toBe(0x10120302);
    expect<u32>(mmioRead(ecam(SEG1_BASE, 2, 3, 2, 0x100), 4)).toBe(0x1000cafe);
    expect<u32>(mmioRead(ecam(SEG1_BASE, 0xf, 0x1f, 7, 0), 4)).toBe(0x101f1f07);
    // bus 0x20 would be at offset 16 MiB: past the window
    expect<u32>(mmioRead(ecam(SEG1_BASE, 0x10, 0, 0, 0), 4)).toBe(0xffffffff);
    // writes reach the decoded function only
    mmioWrite(ecam(SEG1_BASE, 2, 3, 2, 0x14), 4, 0x12345678, 0);
    expect<u32>(configRead(1, 0x12, 3, 2, 0x14, 4)).toBe(0x12345678);
    expect<u32>(configRead(1, 0x02, 3, 2, 0x14, 4)).toBe(0x22222222);
  });

  it("windows high in the 64-bit space decode (2^40, and the last MiB below 2^64)", () => {
    add(2, 0, 4, 0, 256, 0x20000400);
    add(3, 5, 0, 0, 256, 0x30050000);
    expect<u32>(mmioRead(ecam(SEG2_BASE, 0, 4, 0, 0), 4)).toBe(0x20000400);
    expect<u32>(mmioRead(SEG2_BASE + MiB, 4)).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG3_BASE, 4)).toBe(0x30050000);
    expect<u32>(mmioRead(SEG3_BASE - MiB, 4)).toBe(0xffffffff);
  });

  it("ECAM writes go through the masks (W1C included) at sizes 1, 2, 4", () => {
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x10), 4, 0xffffffff, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x10, 4)).toBe(0xfffffff0);
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x41), 1, 0x81, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x40, 4)).toBe(0x00007e00);
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x40), 2, 0xffff, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x40, 4)).toBe(0);
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x46), 2, 0xbeef, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x44, 4)).toBe(0xbeef0000);
    // dword-crossing and invalid sizes are dropped
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x47), 2, 0, 0);
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x44), 3, 0, 0);
    mmioWrite(ecam(SEG0_BASE, 0xff, 2, 1, 0x45), 4, 0, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x44, 4)).toBe(0xbeef0000);
  });
});

describe("8-byte ECAM accesses", () => {
  it("an aligned 8-byte read is two dwords: low returned, high in mmioReadHigh", () => {
    const lo = mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x10), 8);
    expect<u32>(lo).toBe(0x11111110);
    expect<u32>(mmioReadHigh()).toBe(0x22222222);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0), 8)).toBe(0x00031f07);
    expect<u32>(mmioReadHigh()).toBe(0x00000000); // dword 4: command/status 0
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0xf8), 8)).toBe(0);
    expect<u32>(mmioReadHigh()).toBe(0x0badf00d);
  });

  it("an unaligned 8-byte read reads all ones in both halves", () => {
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x14), 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 3, 0x1f, 7, 0x12), 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
  });

  it("8-byte reads of absent functions, past the space or outside windows: all ones", () => {
    expect<u32>(mmioRead(ecam(SEG0_BASE, 9, 9, 1, 0x10), 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
    expect<u32>(mmioRead(ecam(SEG0_BASE, 0, 0, 0, 0x100), 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
    expect<u32>(mmioRead(SEG0_BASE - 8.0, 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
    expect<u32>(mmioRead(NaN, 8)).toBe(0xffffffff);
    expect<u32>(mmioReadHigh()).toBe(0xffffffff);
  });

  it("an aligned 8-byte write writes both dwords through their masks; unaligned is dropped", () => {
    mmioWrite(ecam(SEG1_BASE, 0xf, 0x1f, 7, 0x10), 8, 0xabcdef17, 0x76543210);
    expect<u32>(configRead(1, 0x1f, 0x1f, 7, 0x10, 4)).toBe(0xabcdef10);
    expect<u32>(configRead(1, 0x1f, 0x1f, 7, 0x14, 4)).toBe(0x76543210);
    mmioWrite(ecam(SEG1_BASE, 0xf, 0x1f, 7, 0x14), 8, 0, 0);
    mmioWrite(ecam(SEG1_BASE, 0xf, 0x1f, 7, 0x0c), 8, 0, 0);
    expect<u32>(configRead(1, 0x1f, 0x1f, 7, 0x10, 4)).toBe(0xabcdef10);
    expect<u32>(configRead(1, 0x1f, 0x1f, 7, 0x14, 4)).toBe(0x76543210);
    // 8-byte read-back
    expect<u32>(mmioRead(ecam(SEG1_BASE, 0xf, 0x1f, 7, 0x10), 8)).toBe(0xabcdef10);
    expect<u32>(mmioReadHigh()).toBe(0x76543210);
  });
});

describe("mmioRead / mmioWrite address conversion", () => {
  it("NaN, negative, fractional and huge f64 addresses read all ones for the size", () => {
    const bad: f64[] = [
      NaN, -1.0, -MiB, -0.5, SEG0_BASE + 0.5, SEG0_BASE - 0.25, Infinity, -Infinity,
      TWO64, TWO64 * 2.0, 1e300, -SEG0_BASE,
    ];
    for (let i = 0; i < bad.length; i++) {
      expect<u32>(mmioRead(bad[i], 1)).toBe(0xff);
      expect<u32>(mmioRead(bad[i], 2)).toBe(0xffff);
      expect<u32>(mmioRead(bad[i], 4)).toBe(0xffffffff);
      expect<u32>(mmioRead(bad[i], 8)).toBe(0xffffffff);
      expect<u32>(mmioReadHigh()).toBe(0xffffffff);
    }
  });

  it("writes to such addresses are dropped (and do not alias a decoded address)", () => {
    // SEG0_BASE + 0x10.5 would truncate to register 0x10 of 00:00.0
    mmioWrite(SEG0_BASE + 16.5, 4, 0, 0);
    mmioWrite(NaN, 4, 0, 0);
    mmioWrite(-(SEG0_BASE + 16.0), 4, 0, 0);
    mmioWrite(TWO64 + SEG0_BASE + 16.0, 4, 0, 0); // would wrap to SEG0_BASE+0x10 modulo 2^64
    mmioWrite(Infinity, 8, 0, 0);
    expect<u32>(configRead(0, 0, 0, 0, 0x10, 4)).toBe(0x11111110);
    expect<u32>(mmioRead(SEG0_BASE + 16.0, 4)).toBe(0x11111110);
  });
});

describe("configuration mechanism #1 (0xCF8 / 0xCFC)", () => {
  it("only a dword write to 0xCF8 latches, masked with 0x80fffffc; a dword read returns it", () => {
    ioWrite(0xcf8, 4, 0xffffffff);
    expect<u32>(ioRead(0xcf8, 4)).toBe(0x80fffffc);
    ioWrite(0xcf8, 4, 0x7f000003);
    expect<u32>(ioRead(0xcf8, 4)).toBe(0);
    ioWrite(0xcf8, 4, 0x80001234);
    expect<u32>(ioRead(0xcf8, 4)).toBe(0x80001234);
    ioWrite(0xcf8, 2, 0xffff);
    ioWrite(0xcf8, 1, 0x00);
    ioWrite(0xcf8, 3, 0);
    ioWrite(0xcf8, 8, 0);
    ioWrite(0xcf9, 1, 0);
    ioWrite(0xcfa, 2, 0);
    ioWrite(0xcfb, 1, 0);
    expect<u32>(ioRead(0xcf8, 4)).toBe(0x80001234);
  });

  it("other sizes at 0xCF8 and ports 0xCF9-0xCFB read all ones", () => {
    expect<u32>(ioRead(0xcf8, 2)).toBe(0xffff);
    expect<u32>(ioRead(0xcf8, 1)).toBe(0xff);
    expect<u32>(ioRead(0xcf8, 3)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcf9, 1)).toBe(0xff);
    expect<u32>(ioRead(0xcfa, 2)).toBe(0xffff);
    expect<u32>(ioRead(0xcfb, 1)).toBe(0xff);
    expect<u32>(ioRead(0xcf9, 4)).toBe(0xffffffff);
  });

  it("data lanes: register = (latch & 0xfc) + lane, any size that stays in the dword", () => {
    ioWrite(0xcf8, 4, cf8(3, 0x1f, 7, 0x08));
    expect<u32>(ioRead(0xcfc, 4)).toBe(0x03020100);
    expect<u32>(ioRead(0xcfc, 1)).toBe(0x00);
    expect<u32>(ioRead(0xcfd, 1)).toBe(0x01);
    expect<u32>(ioRead(0xcfe, 1)).toBe(0x02);
    expect<u32>(ioRead(0xcff, 1)).toBe(0x03);
    expect<u32>(ioRead(0xcfc, 2)).toBe(0x0100);
    expect<u32>(ioRead(0xcfd, 2)).toBe(0x0201);
    expect<u32>(ioRead(0xcfe, 2)).toBe(0x0302);
    // lane + size > 4, or a size other than 1/2/4
    expect<u32>(ioRead(0xcff, 2)).toBe(0xffff);
    expect<u32>(ioRead(0xcfd, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfe, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcff, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfc, 3)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfc, 8)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfc, 0)).toBe(0xffffffff);
  });

  it("bits 1:0 written to 0xCF8 do not offset the register", () => {
    ioWrite(0xcf8, 4, cf8(3, 0x1f, 7, 0x08) | 3);
    expect<u32>(ioRead(0xcfc, 1)).toBe(0x00);
    expect<u32>(ioRead(0xcfc, 4)).toBe(0x03020100);
  });

  it("data-port writes go through the masks at the lane's register; bad lanes are dropped", () => {
    ioWrite(0xcf8, 4, cf8(0xff, 2, 1, 0x44));
    ioWrite(0xcfd, 1, 0x5a);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x44, 4)).toBe(0xbeef5a00);
    ioWrite(0xcfe, 2, 0x1234);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x44, 4)).toBe(0x12345a00);
    ioWrite(0xcff, 2, 0);
    ioWrite(0xcfd, 4, 0);
    ioWrite(0xcfc, 3, 0);
    expect<u32>(configRead(0, 0xff, 2, 1, 0x44, 4)).toBe(0x12345a00);
    ioWrite(0xcfc, 4, 0xffffffff);
    expect<u32>(ioRead(0xcfc, 4)).toBe(0xffffffff);
    ioWrite(0xcf8, 4, cf8(0xff, 2, 1, 0x40));
    ioWrite(0xcfd, 1, 0xff); // W1C byte 1 (already 0 from the ECAM test): stays 0
    expect<u32>(ioRead(0xcfc, 4)).toBe(0);
  });

  it("with the enable bit clear, data ports read all ones and writes are dropped", () => {
    ioWrite(0xcf8, 4, cf8(0, 0, 0, 0x14) & 0x7fffffff);
    expect<u32>(ioRead(0xcf8, 4)).toBe(0x00000014);
    expect<u32>(ioRead(0xcfc, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfd, 1)).toBe(0xff);
    ioWrite(0xcfc, 4, 0);
    expect<u32>(configRead(0, 0, 0, 0, 0x14, 4)).toBe(0x22222222);
  });

  it("reaches segment 0 only, and only its first 256 bytes", () => {
    // 01:12.0/03.2 exists only in segment 1
    ioWrite(0xcf8, 4, cf8(0x12, 3, 2, 0));
    expect<u32>(ioRead(0xcfc, 4)).toBe(0xffffffff);
    // Bits 27:24 (an extended-register extension on some chipsets) are reserved here.
    ioWrite(0xcf8, 4, cf8(3, 0x1f, 7, 0) | 0x01000000);
    expect<u32>(ioRead(0xcf8, 4)).toBe(cf8(3, 0x1f, 7, 0));
    expect<u32>(ioRead(0xcfc, 4)).toBe(0x00031f07);
    ioWrite(0xcf8, 4, cf8(3, 0x1f, 7, 0xfc));
    expect<u32>(ioRead(0xcfc, 4)).toBe(0x0badf00d);
  });

  it("absent functions read all ones through 0xCFC", () => {
    ioWrite(0xcf8, 4, cf8(0, 5, 0, 0));
    expect<u32>(ioRead(0xcfc, 4)).toBe(0xffffffff);
    expect<u32>(ioRead(0xcfe, 2)).toBe(0xffff);
    ioWrite(0xcfc, 4, 0);
  });

  it("any other port reads all ones", () => {
    const ports: u32[] = [0, 0x80, 0xcf4, 0xcf7, 0xd00, 0xcfc + 4, 0xffff, 0xffffffff, 0xcfc - 1];
    for (let i = 0; i < ports.length; i++) {
      expect<u32>(ioRead(ports[i], 1)).toBe(0xff);
      expect<u32>(ioRead(ports[i], 2)).toBe(0xffff);
      expect<u32>(ioRead(ports[i], 4)).toBe(0xffffffff);
      ioWrite(ports[i], 4, 0);
    }
    expect<u32>(configRead(0, 0, 0, 0, 0, 4)).toBe(0x00008086);
  });
});
