// The slot limit (MAX_FUNCTIONS): the store fills up, refuses with ERR_FULL, and a removed
// slot is the one the next add gets. Its own file: it takes every slot of the module.
import { addFunction, removeFunction, findSlot, configRead, sizeOf } from "../config/store";
import { ERR_FULL, ERR_EXISTS, OK, MAX_FUNCTIONS } from "../config/layout";

describe("slot limit", () => {
  it("holds exactly MAX_FUNCTIONS functions, then ERR_FULL", () => {
    for (let i: u32 = 0; i < MAX_FUNCTIONS; i++) {
      // 16 segments x 256 device/functions on bus i % 7
      const seg = i >> 8, devfn = i & 0xff;
      const slot = addFunction(seg, i % 7, devfn >> 3, devfn & 7, (i & 1) ? 4096 : 256);
      if (slot != <i32>i) {
        expect<i32>(slot).toBe(<i32>i);
        return;
      }
    }
    expect<i32>(addFunction(0, 200, 0, 0, 256)).toBe(ERR_FULL);
    expect<i32>(addFunction(15, 255, 31, 7, 4096)).toBe(ERR_FULL);
    // A duplicate is still reported as such.
    expect<i32>(addFunction(0, 0, 0, 0, 256)).toBe(ERR_EXISTS);
    expect<i32>(findSlot(0, 200, 0, 0)).toBe(-1);
  });

  it("a removed slot is reused by the next add", () => {
    expect<i32>(removeFunction(1234)).toBe(OK);
    const slot = addFunction(0, 200, 0, 0, 256);
    expect<i32>(slot).toBe(1234);
    expect<u32>(sizeOf(slot)).toBe(256);
    expect<u32>(configRead(0, 200, 0, 0, 0, 4)).toBe(0);
    expect<i32>(addFunction(0, 201, 0, 0, 256)).toBe(ERR_FULL);
  });
});
