// Config routing in the store (assembly/config/store.ts route()): functions below bridges are
// reached through the bridges' secondary/subordinate bus numbers, recomputed on every write to a
// bridge's bus-number dword and on add/remove/loadPlanes. Each test uses its own segment.
import {
  addFunction, addFunctionBelow, removeFunction, loadPlanes, findSlot, slotAddress, slotParent,
  slotWrite, configRead, staging, mastering,
} from "../config/store";
import { OK, ERR_RANGE, ERR_BUSY, ERR_EXISTS, PLANES_SIZE, PLANE_SIZE } from "../config/layout";

/** Loads a function's planes: vendor 0x1234, `device`; bridges get writable bus numbers + Command. */
function load(slot: i32, device: u32, bridge: bool): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
  store<u32>(staging, 0x1234 | (device << 16));
  store<u16>(staging + PLANE_SIZE + 4, 0x0007);
  if (bridge) {
    store<u8>(staging + 0x0e, 1);
    store<u32>(staging + PLANE_SIZE + 0x18, 0x00ffffff);
  }
  expect<i32>(loadPlanes(slot)).toBe(OK);
}

function buses(slot: i32, primary: u32, secondary: u32, subordinate: u32): void {
  slotWrite(slot, 0x18, 4, primary | (secondary << 8) | (subordinate << 16));
}

describe("routing through bridges", () => {
  it("reaches a function below a bridge only at the bridge's secondary bus", () => {
    const br = addFunction(1, 0, 4, 0, 256);
    load(br, 0xb000, true);
    const ep = addFunctionBelow(br, 0, 0, 256);
    load(ep, 0xe000, false);
    expect<i32>(slotParent(ep)).toBe(br);
    expect<i32>(slotAddress(ep)).toBe(-1);
    buses(br, 0, 2, 2);
    expect<i32>(findSlot(1, 2, 0, 0)).toBe(ep);
    expect<i32>(slotAddress(ep)).toBe((1 << 16) | (2 << 8));
    expect<u32>(configRead(1, 2, 0, 0, 2, 2)).toBe(0xe000);
    buses(br, 0, 3, 2); // secondary above subordinate: nothing
    expect<i32>(findSlot(1, 2, 0, 0)).toBe(-1);
    expect<i32>(findSlot(1, 3, 0, 0)).toBe(-1);
  });

  it("nests: the lower bridge's bus must lie inside the upper range", () => {
    const a = addFunction(2, 0, 1, 0, 256);
    load(a, 0xa000, true);
    const b = addFunctionBelow(a, 3, 0, 256);
    load(b, 0xb000, true);
    const ep = addFunctionBelow(b, 0, 0, 256);
    load(ep, 0xe001, false);
    buses(a, 0, 1, 1);
    buses(b, 1, 2, 2);
    expect<i32>(slotAddress(b)).toBe((2 << 16) | (1 << 8) | (3 << 3));
    expect<i32>(slotAddress(ep)).toBe(-1);
    buses(a, 0, 1, 2);
    expect<i32>(slotAddress(ep)).toBe((2 << 16) | (2 << 8));
  });

  it("refuses bad parents and busy bridges", () => {
    const br = addFunction(3, 0, 0, 0, 256);
    load(br, 0xb001, true);
    const ep = addFunctionBelow(br, 1, 0, 256);
    load(ep, 0xe002, false);
    expect<i32>(addFunctionBelow(ep, 0, 0, 256)).toBe(ERR_RANGE);
    expect<i32>(addFunctionBelow(br, 1, 0, 256)).toBe(ERR_EXISTS);
    expect<i32>(removeFunction(br)).toBe(ERR_BUSY);
    expect<i32>(removeFunction(ep)).toBe(OK);
    expect<i32>(removeFunction(br)).toBe(OK);
  });

  it("bus mastering needs Bus Master Enable on every bridge above", () => {
    const br = addFunction(4, 0, 0, 0, 256);
    load(br, 0xb002, true);
    const ep = addFunctionBelow(br, 0, 0, 256);
    load(ep, 0xe003, false);
    slotWrite(ep, 4, 2, 4);
    expect<bool>(mastering(ep)).toBe(false);
    slotWrite(br, 4, 2, 4);
    expect<bool>(mastering(ep)).toBe(true);
  });
});
