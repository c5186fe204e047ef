// PCI power management in the core (assembly/dispatch/power.ts) and device-side config writes
// (config/store.ts slotPoke, boundary.ts configPoke):
//  - a function not in D0 decodes no BAR or ROM, and does no DMA; back in D0 it decodes again;
//  - a guest's write of an unsupported D1/D2 keeps PowerState, the other bits of the write apply;
//  - a bridge in D3hot forwards neither MMIO nor DMA for the functions below it;
//  - a poke sets bytes exactly (no masks, no RW1C) and the hooks follow: BARs, Command, routing.
//
// Module state persists across the tests of this file: every test adds its own functions on its
// own bus (or segment) and uses its own addresses, and drains the effects before it starts.
import {
  addFunction, addFunctionBelow, loadPlanes, slotWrite, slotRead, slotPoke, staging, findSlot, powerState, pmCapOf,
  mastering,
} from "../config/store";
import { OK, ERR_RANGE, ERR_NOT_FOUND, PLANE_SIZE, PLANES_SIZE, HOOK_PLANE } from "../config/layout";
import { blockOf } from "../config/store";
import { configPoke } from "../boundary";
import { barAttach, barMapped, barBase, BAR_MEM32, BAR_ROM } from "../dispatch/bar-mapper";
import { regionLookup, SPACE_MMIO } from "../dispatch/region-table";
import { effectsDrain } from "../dispatch/effects";
import { ramAdd, ramReset } from "../dma/ram";
import { iotlbFlush } from "../dma/iotlb";
import { dmaRead } from "../dma/transfer";
import { FAULT_STATUS, REASON_BUS_MASTER } from "../dma/layout";

const PM: u32 = 0x40;
const PMCSR: u32 = PM + 4;
const MEM_BME: u32 = 0x6;
const OLD: u32 = 1;
const NEW: u32 = 2;
const KiB: u64 = 1024;

// ---- helpers ----------------------------------------------------------------------------------
function cfg(off: u32, v: u32): void {
  store<u32>(staging + <usize>off, v);
}
function wm(off: u32, v: u32): void {
  store<u32>(staging + <usize>(PLANE_SIZE + off), v);
}
function w1c(off: u32, v: u32): void {
  store<u32>(staging + <usize>(PLANE_SIZE * 2 + off), v);
}
/**
 * Staging for a function with a PM capability at 0x40 (PMC `pmc`, PMCSR D0 + No_Soft_Reset, masks
 * as src/config/capabilities.ts writes them: PowerState and PME_En RW, PME_Status RW1C), writable
 * Command, and BAR0 mem32 4 KiB plus a 2 KiB ROM (type 0) or bus numbers and a memory window
 * (type 1).
 */
function stagePm(pmc: u32, bridge: bool): void {
  memory.fill(staging, 0, <usize>PLANES_SIZE);
  cfg(0x00, 0x11118086);
  cfg(0x04, 0x00100000); // Status: Capabilities List
  wm(0x04, 0x00000007);
  cfg(0x34, PM);
  cfg(PM, (pmc << 16) | 0x01);
  cfg(PMCSR, 0x0008);
  wm(PMCSR, 0x0103);
  w1c(PMCSR, 0x8000);
  wm(0x10, 0xfffff000);
  if (bridge) {
    cfg(0x0c, 0x00010000); // header type 1
    wm(0x18, 0x00ffffff);
    wm(0x20, 0xfff0fff0);
  } else {
    wm(0x30, 0xfffff801);
  }
}
function addPm(seg: u32, bus: u32, pmc: u32): i32 {
  stagePm(pmc, false);
  const slot = addFunction(seg, bus, 0, 0, 256);
  expect<i32>(slot).toBeGreaterThanOrEqual(0, "addFunction");
  expect<i32>(loadPlanes(slot)).toBe(OK);
  expect<i32>(barAttach(slot)).toBe(OK);
  effects();
  return slot;
}
function pmcsr(slot: i32, v: u32): void {
  slotWrite(slot, PMCSR, 2, v);
}
function where(slot: i32, bar: u32): string {
  return barMapped(slot, bar) ? barBase(slot, bar).toString(16) : "-";
}
function E(slot: i32, bar: u32, kind: u32, flags: u32, oldBase: u64, newBase: u64, size: u64): string {
  return slot.toString() + " " + bar.toString() + " " + kind.toString() + " " + flags.toString() + " " +
    oldBase.toString(16) + " " + newBase.toString(16) + " " + size.toString(16);
}
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

describe("power state gates decode", () => {
  it("the store finds the PM capability and hooks its PMCSR dword", () => {
    const s = addPm(0, 1, 0x0003);
    expect<u32>(pmCapOf(s)).toBe(PM);
    expect<u8>(load<u8>(blockOf(s) + <usize>HOOK_PLANE + <usize>(PMCSR >> 2))).toBe(5);
    expect<u32>(powerState(s)).toBe(0);
  });

  it("a memory BAR is mapped in D0, unmapped in D3hot, mapped again back in D0", () => {
    const s = addPm(0, 2, 0x0003);
    slotWrite(s, 0x10, 4, 0xc1000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    expect<string>(where(s, 0)).toBe("c1000000");
    expect<bool>(regionLookup(SPACE_MMIO, 0xc1000010) > 0).toBe(true);
    effects();

    pmcsr(s, 3);
    expect<u32>(powerState(s)).toBe(3);
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x000b);
    expect<string>(where(s, 0)).toBe("-");
    expect<i32>(regionLookup(SPACE_MMIO, 0xc1000010)).toBe(0, "MMIO to a function in D3hot is a master abort");
    expect<string>(effects()).toBe(E(s, 0, BAR_MEM32, OLD, 0xc1000000, 0, 0x1000));

    // Command and BAR writes in D3hot are kept but decode nothing.
    slotWrite(s, 0x10, 4, 0xc1100000);
    slotWrite(s, 0x04, 2, MEM_BME);
    expect<string>(where(s, 0)).toBe("-");
    expect<string>(effects()).toBe("");

    pmcsr(s, 0);
    expect<string>(where(s, 0)).toBe("c1100000");
    expect<string>(effects()).toBe(E(s, 0, BAR_MEM32, NEW, 0, 0xc1100000, 0x1000));
  });

  it("the ROM follows the power state as well", () => {
    const s = addPm(0, 3, 0x0003);
    slotWrite(s, 0x30, 4, 0xc2000001);
    slotWrite(s, 0x04, 2, MEM_BME);
    expect<string>(where(s, 6)).toBe("c2000000");
    effects();
    pmcsr(s, 3);
    expect<string>(where(s, 6)).toBe("-");
    pmcsr(s, 0);
    expect<string>(where(s, 6)).toBe("c2000000");
    expect<string>(effects()).toBe(E(s, 6, BAR_ROM, OLD, 0xc2000000, 0, 0x800) + "|" + E(s, 6, BAR_ROM, NEW, 0, 0xc2000000, 0x800));
  });

  it("a write that leaves PowerState as it is changes no mapping", () => {
    const s = addPm(0, 4, 0x0003);
    slotWrite(s, 0x10, 4, 0xc3000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    effects();
    pmcsr(s, 0x0100); // PME_En only
    slotWrite(s, PMCSR + 1, 1, 0x01);
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x0108);
    expect<string>(where(s, 0)).toBe("c3000000");
    expect<string>(effects()).toBe("");
  });
});

describe("unsupported power states", () => {
  it("a write of D1 or D2 without support keeps PowerState; the write's other bits apply", () => {
    const s = addPm(0, 5, 0x0003);
    slotWrite(s, 0x10, 4, 0xc4000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    effects();
    pmcsr(s, 0x0101); // D1 + PME_En
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x0108, "D0 kept, PME_En set");
    expect<string>(where(s, 0)).toBe("c4000000");
    pmcsr(s, 0x0102); // D2
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x0108);
    pmcsr(s, 0x0103);
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x010b);
    slotWrite(s, PMCSR, 1, 0x01); // D3hot -> D1: kept in D3hot
    expect<u32>(powerState(s)).toBe(3);
    expect<string>(where(s, 0)).toBe("-");
    // PME_Status stays write-1-to-clear next to a discarded state.
    store<u16>(blockOf(s) + <usize>PMCSR, 0x810b);
    pmcsr(s, 0x8102);
    expect<u32>(slotRead(s, PMCSR, 2)).toBe(0x010b);
    expect<string>(effects()).toBe(E(s, 0, BAR_MEM32, OLD, 0xc4000000, 0, 0x1000));
  });

  it("D1 and D2 are taken when PMC says they are supported, and decode nothing", () => {
    const s = addPm(0, 6, 0x0603);
    slotWrite(s, 0x10, 4, 0xc5000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    pmcsr(s, 1);
    expect<u32>(powerState(s)).toBe(1);
    expect<string>(where(s, 0)).toBe("-");
    pmcsr(s, 2);
    expect<u32>(powerState(s)).toBe(2);
    expect<string>(where(s, 0)).toBe("-");
    pmcsr(s, 0);
    expect<string>(where(s, 0)).toBe("c5000000");
  });
});

describe("DMA and bridges", () => {
  beforeEach(() => { ramReset(); iotlbFlush(); });

  it("a function not in D0 does no DMA: the bus-master fault", () => {
    const s = addPm(0, 7, 0x0203);
    slotWrite(s, 0x04, 2, MEM_BME);
    ramAdd(0, 64 * KiB, true);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(0);
    pmcsr(s, 3);
    expect<bool>(mastering(s)).toBe(false);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(FAULT_STATUS - <i32>REASON_BUS_MASTER);
    pmcsr(s, 1);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(FAULT_STATUS - <i32>REASON_BUS_MASTER);
    pmcsr(s, 0);
    expect<i32>(dmaRead(s, 0x100, 8, 0)).toBe(0);
  });

  it("a bridge in D3hot forwards neither MMIO nor DMA for the functions below it; in D1 it still does", () => {
    stagePm(0x0203, true);
    const br = addFunction(1, 0, 2, 0, 256);
    expect<i32>(loadPlanes(br)).toBe(OK);
    expect<i32>(barAttach(br)).toBe(OK);
    const ep = addFunctionBelow(br, 0, 0, 256);
    stagePm(0x0003, false);
    expect<i32>(loadPlanes(ep)).toBe(OK);
    expect<i32>(barAttach(ep)).toBe(OK);
    slotWrite(br, 0x18, 4, 0x00010100);
    slotWrite(br, 0x20, 4, 0xd000d000);
    slotWrite(br, 0x04, 2, MEM_BME);
    slotWrite(ep, 0x10, 4, 0xd0001000);
    slotWrite(ep, 0x04, 2, MEM_BME);
    ramAdd(0, 64 * KiB, true);
    expect<string>(where(ep, 0)).toBe("d0001000");
    expect<i32>(dmaRead(ep, 0x100, 8, 0)).toBe(0);
    effects();

    pmcsr(br, 3);
    expect<string>(where(ep, 0)).toBe("-");
    expect<i32>(dmaRead(ep, 0x100, 8, 0)).toBe(FAULT_STATUS - <i32>REASON_BUS_MASTER);
    expect<string>(effects()).toBe(E(ep, 0, BAR_MEM32, OLD, 0xd0001000, 0, 0x1000));
    // Config cycles still reach the function below.
    expect<i32>(findSlot(1, 1, 0, 0)).toBe(ep);

    pmcsr(br, 1); // D3hot -> D1 (supported): the window forwards again
    expect<string>(where(ep, 0)).toBe("d0001000");
    expect<i32>(dmaRead(ep, 0x100, 8, 0)).toBe(0);
    pmcsr(br, 0);
    expect<string>(where(ep, 0)).toBe("d0001000");
    expect<string>(effects()).toBe(E(ep, 0, BAR_MEM32, NEW, 0, 0xd0001000, 0x1000));
  });
});

describe("device-side config writes (poke)", () => {
  it("refuses bad slots, sizes, offsets and dword-crossing accesses, changing nothing", () => {
    const s = addPm(2, 0, 0x0003);
    expect<i32>(slotPoke(-1, 0, 4, 0)).toBe(ERR_NOT_FOUND);
    expect<i32>(slotPoke(4096, 0, 4, 0)).toBe(ERR_NOT_FOUND);
    expect<i32>(slotPoke(4000, 0, 4, 0)).toBe(ERR_NOT_FOUND);
    expect<i32>(slotPoke(s, 0, 3, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 0, 0, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 0, 8, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 0, -1, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 3, 2, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 2, 4, 0)).toBe(ERR_RANGE);
    expect<i32>(slotPoke(s, 256, 1, 0)).toBe(ERR_RANGE, "beyond a conventional function's space");
    expect<i32>(slotPoke(s, 0xffffffff, 1, 0)).toBe(ERR_RANGE);
    expect<u32>(slotRead(s, 0, 4)).toBe(0x11118086);
    expect<i32>(configPoke(-1, 0, 4, 0)).toBe(ERR_NOT_FOUND);
    expect<i32>(configPoke(s, 1, 4, 0)).toBe(ERR_RANGE);
    expect<i32>(configPoke(s, 0, 2, 0x2222)).toBeGreaterThanOrEqual(0, "the queued interrupt count");
    expect<u32>(slotRead(s, 0, 4)).toBe(0x11112222);
  });

  it("sets bytes exactly: read-only bytes change, written ones do not clear write-1-to-clear bits", () => {
    const s = addPm(2, 1, 0x0003);
    expect<i32>(slotPoke(s, 0x02, 2, 0xbeef)).toBe(OK);
    expect<u32>(slotRead(s, 0x00, 4)).toBe(0xbeef8086);
    store<u16>(blockOf(s) + 4096 * 2 + 6, 0xf900); // Status error bits RW1C
    expect<i32>(slotPoke(s, 0x06, 2, 0xf910)).toBe(OK);
    expect<u32>(slotRead(s, 0x06, 2)).toBe(0xf910);
    slotWrite(s, 0x06, 2, 0x8000);
    expect<u32>(slotRead(s, 0x06, 2)).toBe(0x7910, "the guest still clears them");
    expect<i32>(slotPoke(s, 0x07, 1, 0x12345680)).toBe(OK);
    expect<u32>(slotRead(s, 0x06, 2)).toBe(0x8010, "only the poked byte");
  });

  it("a poked BAR moves its region with decode on; a poked Command changes decode", () => {
    const s = addPm(2, 2, 0x0003);
    slotWrite(s, 0x10, 4, 0xc6000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    effects();
    expect<i32>(slotPoke(s, 0x10, 4, 0xc6100000)).toBe(OK);
    expect<string>(where(s, 0)).toBe("c6100000");
    expect<string>(effects()).toBe(E(s, 0, BAR_MEM32, OLD | NEW, 0xc6000000, 0xc6100000, 0x1000));
    expect<i32>(slotPoke(s, 0x04, 2, 0)).toBe(OK);
    expect<string>(where(s, 0)).toBe("-");
    expect<i32>(slotPoke(s, 0x04, 1, 2)).toBe(OK);
    expect<string>(where(s, 0)).toBe("c6100000");
    // A poke of part of the dword runs the dword's hook too.
    expect<i32>(slotPoke(s, 0x12, 2, 0xc620)).toBe(OK);
    expect<string>(where(s, 0)).toBe("c6200000");
  });

  it("a poke to a bridge's bus numbers re-routes config cycles", () => {
    stagePm(0x0003, true);
    const br = addFunction(3, 0, 4, 0, 256);
    expect<i32>(loadPlanes(br)).toBe(OK);
    const ep = addFunctionBelow(br, 2, 0, 256);
    stagePm(0x0003, false);
    expect<i32>(loadPlanes(ep)).toBe(OK);
    expect<i32>(findSlot(3, 5, 2, 0)).toBe(-1);
    expect<i32>(slotPoke(br, 0x19, 1, 5)).toBe(OK);
    expect<i32>(findSlot(3, 5, 2, 0)).toBe(-1, "subordinate below secondary");
    expect<i32>(slotPoke(br, 0x18, 4, 0x00050500)).toBe(OK);
    expect<i32>(findSlot(3, 5, 2, 0)).toBe(ep);
    expect<i32>(slotPoke(br, 0x18, 4, 0x00060600)).toBe(OK);
    expect<i32>(findSlot(3, 5, 2, 0)).toBe(-1);
    expect<i32>(findSlot(3, 6, 2, 0)).toBe(ep);
  });

  it("a poked PowerState is kept even when unsupported, and decode follows it", () => {
    const s = addPm(2, 3, 0x0003);
    slotWrite(s, 0x10, 4, 0xc7000000);
    slotWrite(s, 0x04, 2, MEM_BME);
    expect<i32>(slotPoke(s, PMCSR, 2, 0x0009)).toBe(OK);
    expect<u32>(powerState(s)).toBe(1);
    expect<string>(where(s, 0)).toBe("-");
    pmcsr(s, 2); // guest: D1 -> D2 unsupported, kept in D1
    expect<u32>(powerState(s)).toBe(1);
    pmcsr(s, 0);
    expect<string>(where(s, 0)).toBe("c7000000");
    expect<i32>(slotPoke(s, PMCSR, 1, 0x03)).toBe(OK);
    expect<string>(where(s, 0)).toBe("-");
  });
});
