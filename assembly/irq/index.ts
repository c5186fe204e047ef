// The interrupt core: attaching a function (its pin, MSI and MSI-X capabilities, the MSI-X table
// and PBA as regions of its BARs), the hooks that follow the guest's writes, and the exports.
// Design and the rules: DESIGN.md.
import { OK, ERR_NOT_FOUND, ERR_EXISTS, ERR_FULL, HOOK_PLANE, HOOK_MSI, HOOK_MSIX, MAX_FUNCTIONS } from "../config/layout";
import { blockOf, sizeOf } from "../config/store";
import { barHandler, barHandlerRemove } from "../dispatch/bar-mapper";
import { KIND_MSIX_TABLE, KIND_MSIX_PBA } from "../dispatch/regions";
import { MSIX_MAX } from "./layout";
import { stateOf, irqAttached, stateReset, findCapability, cfg8, cfg16, cfg32 } from "./state";
import { intxReevaluate, intxRelease } from "./intx";
import { msiWritten, msiHookedDwords } from "./msi";
import { msixStorage, msixWritten, pbaBytes } from "./msix";

export { intxSet, intxRoute, intxRouteOf, lineLevel } from "./intx";
export { msiSignal } from "./msi";
export { msixSignal, msixTableAccess, msixPbaAccess } from "./msix";
export { irqQueued, irqDrain } from "./events";

const CAP_MSI: u32 = 0x05;
const CAP_MSIX: u32 = 0x11;

/**
 * Reads the function's pin and capabilities, gives an MSI-X function its table and PBA (handler
 * regions of their BARs, so they move with them), and hooks the MSI/MSI-X control dwords. After
 * barAttach. Returns OK, ERR_NOT_FOUND, ERR_EXISTS, or barHandler's status (the MSI-X table or
 * PBA does not fit its BAR); on failure nothing stays registered.
 */
export function irqAttach(slot: i32): i32 {
  if (slot < 0 || <u32>slot >= MAX_FUNCTIONS || sizeOf(slot) == 0) return ERR_NOT_FOUND;
  if (irqAttached(slot)) return ERR_EXISTS;
  const msi = findCapability(slot, CAP_MSI);
  const msix = findCapability(slot, CAP_MSIX);
  if (msix != 0) {
    const n = (cfg16(slot, msix + 2) & 0x7ff) + 1;
    const table = cfg32(slot, msix + 4);
    const pba = cfg32(slot, msix + 8);
    const t = barHandler(slot, table & 7, <u64>(table & ~7), <u64>n * 16, KIND_MSIX_TABLE, <u32>slot);
    if (t < 0) return t;
    const p = barHandler(slot, pba & 7, <u64>(pba & ~7), <u64>pbaBytes(n), KIND_MSIX_PBA, <u32>slot);
    if (p < 0) {
      barHandlerRemove(slot, table & 7, <u32>t);
      return p;
    }
    if (!msixStorage(slot, n < MSIX_MAX ? n : MSIX_MAX)) {
      barHandlerRemove(slot, pba & 7, <u32>p);
      barHandlerRemove(slot, table & 7, <u32>t);
      return ERR_FULL;
    }
  }
  const pin = cfg8(slot, 0x3d);
  stateReset(slot, pin <= 4 ? pin : 0, msi, msix);
  if (msix != 0) store<u32>(stateOf(slot), (cfg16(slot, msix + 2) & 0x7ff) + 1, 16);
  const hooks = blockOf(slot) + <usize>HOOK_PLANE;
  if (msi != 0) {
    const dwords = msiHookedDwords(slot, msi);
    store<u8>(hooks + <usize>(dwords & 0xff), HOOK_MSI);
    if (dwords >> 8) store<u8>(hooks + <usize>(dwords >> 8), HOOK_MSI);
  }
  if (msix != 0) store<u8>(hooks + <usize>(msix >> 2), HOOK_MSIX);
  return OK;
}

/** A write to a Command dword: INTx gating may have changed. */
export function irqCommandWritten(slot: i32): void {
  if (irqAttached(slot)) intxReevaluate(slot);
}

/** A write to an MSI-hooked dword (control or mask bits). */
export function irqMsiWritten(slot: i32): void {
  if (!irqAttached(slot)) return;
  intxReevaluate(slot);
  msiWritten(slot);
}

/** A write to the MSI-X Message Control dword. */
export function irqMsixWritten(slot: i32): void {
  if (!irqAttached(slot)) return;
  intxReevaluate(slot);
  msixWritten(slot);
}

/** The slot goes away: its line reference is dropped (its MSI-X regions go with its BARs). */
export function irqRelease(slot: i32): void {
  if (!irqAttached(slot)) return;
  intxRelease(slot);
  store<u8>(stateOf(slot), 0);
}
