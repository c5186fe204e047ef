// The interrupt core (assembly/irq/): INTx lines with reference counts, Interrupt Disable and
// Status, MSI with per-vector masking, MSI-X table and PBA served inside the core, the event queue.
// Module state persists across tests: each test uses its own segment and GSIs.
import { addFunction, loadPlanes, slotWrite, slotRead, staging } from "../config/store";
import { OK, ERR_RANGE, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { barAttach } from "../dispatch/bar-mapper";
import { access } from "../dispatch/access";
import { SPACE_MMIO } from "../dispatch/region-table";
import {
  irqAttach, intxSet, intxRoute, lineLevel, msiSignal, msixSignal, irqQueued, irqDrain,
} from "../irq/index";
import { PENDING, ERR_DISABLED } from "../irq/layout";

function clearStaging(): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
}
function cfg(off: u32, v: u32): void {
  store<u32>(staging + <usize>off, v);
}
function wm(off: u32, v: u32): void {
  store<u32>(staging + <usize>(PLANE_SIZE + off), v);
}
/** Drains the queue; returns "L<gsi>=<level>" / "M<addr>:<data>" joined by commas. */
function drained(): string {
  const n = irqDrain(1000);
  const parts: string[] = [];
  for (let i: u32 = 0; i < n; i++) {
    const e = staging + <usize>(i * 24);
    if (load<u32>(e) == 1) parts.push("L" + load<u32>(e, 8).toString() + "=" + load<u32>(e, 12).toString());
    else parts.push("M" + load<u32>(e, 12).toString(16) + ":" + load<u32>(e, 8).toString(16));
  }
  return parts.join(",");
}

/** A function with INTA, Command writable, a 16 KiB BAR 0 at `bar0`, MSI (64-bit, PVM, 4 vectors) at 0x40, MSI-X (8 entries, table 0x1000, PBA 0x2000 in BAR 0) at 0x60. */
function device(seg: u32, dev: u32, bar0: u32): i32 {
  clearStaging();
  cfg(0x00, 0x12341234);
  wm(0x04, 0x00000407);
  cfg(0x06 - 2, 0x00100000); // Status: capability list
  cfg(0x10, bar0); wm(0x10, 0xffffc000);
  cfg(0x34, 0x40);
  cfg(0x3c, 0x00000100); // pin INTA
  cfg(0x40, 0x01846005 & 0xffff00ff | (0x60 << 8)); // MSI: next 0x60, control 64-bit, PVM, MMC 4
  store<u16>(staging + 0x42, 0x0184);
  store<u16>(staging + PLANE_SIZE + 0x42, 0x0071);
  wm(0x44, 0xfffffffc); wm(0x48, 0xffffffff); wm(0x4c, 0x0000ffff); wm(0x50, 0x0000000f);
  cfg(0x60, 0x00070011); // MSI-X, table size 8
  store<u16>(staging + PLANE_SIZE + 0x62, 0xc000);
  cfg(0x64, 0x1000); cfg(0x68, 0x2000);
  const slot = addFunction(seg, 0, dev, 0, 256);
  expect<i32>(loadPlanes(slot)).toBe(OK);
  expect<i32>(barAttach(slot)).toBe(OK);
  expect<i32>(irqAttach(slot)).toBe(OK);
  slotWrite(slot, 0x04, 2, 2);
  return slot;
}

describe("INTx", () => {
  it("shared line: one assert, one deassert; Interrupt Disable and Status", () => {
    const a = device(1, 1, 0xd0000000);
    const b = device(1, 2, 0xd0010000);
    expect<i32>(intxRoute(1, 1, 1, 20)).toBe(OK);
    expect<i32>(intxRoute(1, 2, 1, 20)).toBe(OK);
    drained();
    expect<i32>(intxSet(a, 1)).toBe(OK);
    expect<i32>(intxSet(b, 1)).toBe(OK);
    expect<u32>(lineLevel(20)).toBe(2);
    expect<string>(drained()).toBe("L20=1");
    expect<u32>(slotRead(a, 0x06, 2) & 8).toBe(8);
    slotWrite(a, 0x04, 2, 0x402);
    expect<u32>(lineLevel(20)).toBe(1);
    expect<u32>(slotRead(a, 0x06, 2) & 8).toBe(8);
    intxSet(b, 0);
    expect<string>(drained()).toBe("L20=0");
    slotWrite(a, 0x04, 2, 0x002);
    expect<string>(drained()).toBe("L20=1");
    expect<i32>(intxRoute(1, 1, 1, 21)).toBe(OK);
    expect<string>(drained()).toBe("L20=0,L21=1");
    expect<i32>(intxRoute(1, 1, 5, 21)).toBe(ERR_RANGE);
    expect<i32>(intxSet(4095, 1)).toBe(ERR_NOT_FOUND);
  });
});

describe("MSI", () => {
  it("disabled, range, delivery with data low bits, masked -> pending -> unmask", () => {
    const s = device(2, 1, 0xd0020000);
    expect<i32>(msiSignal(s, 0)).toBe(ERR_DISABLED);
    slotWrite(s, 0x44, 4, 0xfee00000);
    slotWrite(s, 0x4c, 2, 0x4041);
    slotWrite(s, 0x42, 2, 0x0021); // enable, MME 2 (4 vectors)
    drained();
    expect<i32>(msiSignal(s, 4)).toBe(ERR_RANGE);
    expect<i32>(msiSignal(s, 2)).toBe(OK);
    expect<string>(drained()).toBe("Mfee00000:4042");
    slotWrite(s, 0x50, 4, 0x2);
    expect<i32>(msiSignal(s, 1)).toBe(PENDING);
    expect<u32>(slotRead(s, 0x54, 4)).toBe(2);
    expect<string>(drained()).toBe("");
    slotWrite(s, 0x50, 4, 0);
    expect<string>(drained()).toBe("Mfee00000:4041");
    expect<u32>(slotRead(s, 0x54, 4)).toBe(0);
  });
});

describe("MSI-X", () => {
  it("table access rules, masks, PBA, pending delivery on unmask", () => {
    const s = device(3, 1, 0xd0040000);
    const table: u64 = 0xd0041000;
    const pba: u64 = 0xd0042000;
    expect<u64>(access(SPACE_MMIO, table + 12, 4, false, 0)).toBe(1);
    expect<u64>(access(SPACE_MMIO, table + 12, 2, false, 0)).toBe(0xffff);
    expect<u64>(access(SPACE_MMIO, table + 2, 4, false, 0)).toBe(0xffffffff);
    access(SPACE_MMIO, table + 16, 8, true, 0x00000000fee01000);
    access(SPACE_MMIO, table + 24, 8, true, 0xffffffff00000055);
    expect<u64>(access(SPACE_MMIO, table + 24, 8, false, 0)).toBe(0x0000000100000055);
    expect<i32>(msixSignal(s, 1)).toBe(ERR_DISABLED);
    slotWrite(s, 0x62, 2, 0xc000); // enable + function mask
    expect<i32>(msixSignal(s, 8)).toBe(ERR_RANGE);
    drained();
    expect<i32>(msixSignal(s, 1)).toBe(PENDING);
    expect<u64>(access(SPACE_MMIO, pba, 8, false, 0)).toBe(2);
    slotWrite(s, 0x62, 2, 0x8000); // function mask off, entry 1 still masked
    expect<string>(drained()).toBe("");
    access(SPACE_MMIO, table + 28, 4, true, 0);
    expect<string>(drained()).toBe("Mfee01000:55");
    expect<u64>(access(SPACE_MMIO, pba, 8, false, 0)).toBe(0);
    expect<i32>(msixSignal(s, 1)).toBe(OK);
    expect<u32>(irqQueued()).toBe(1);
    drained();
  });
});
