// The mechanisms that follow config writes, by the hook code the store finds in a function's hook
// plane. The store's write path only sees a code; what each code does lives with its mechanism.
// `old` is the hooked dword as it was before the write; `device` is true for a device-side change
// (store.ts slotPoke), false for a guest's write through the masks.
import { barOnWrite, barDetach, HOOK_BARS } from "./bar-mapper";
import { bridgeOnWrite, HOOK_BRIDGE } from "./bridges";
import { pmOnWrite } from "./power";
import { dmaSlotReleased } from "../dma/index";
import { irqCommandWritten, irqMsiWritten, irqMsixWritten, irqRelease } from "../irq/index";
import { HOOK_MSI, HOOK_MSIX } from "../config/layout";

export function runHook(hook: u8, slot: i32, reg: u32, old: u32, device: bool): void {
  if (hook == HOOK_BARS) barOnWrite(slot, reg);
  else if (hook == HOOK_BRIDGE) bridgeOnWrite(slot, reg);
  else if (hook == HOOK_MSI) irqMsiWritten(slot);
  else if (hook == HOOK_MSIX) irqMsixWritten(slot);
  // Command (dword 1) carries the BAR or bridge hook; INTx gating follows it as well.
  if ((reg >> 2) == 1) irqCommandWritten(slot);
  // PMCSR carries HOOK_PM. The PM rule runs for any hooked dword and acts only on PMCSR's, so it
  // holds even where malformed, overlapping capabilities put another code on that dword.
  pmOnWrite(slot, reg, old, device);
}

/** A function is going away: every mechanism drops what it holds for the slot. */
export function releaseHooks(slot: i32): void {
  irqRelease(slot);
  barDetach(slot);
  dmaSlotReleased(slot);
}
