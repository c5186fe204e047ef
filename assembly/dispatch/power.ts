// PCI power management: what follows a write to PMCSR, the second dword of the power-management
// capability (PCI Bus Power Management 1.2 §3.2.4). The power state itself is never stored: it is
// PMCSR bits 1:0, read from config space wherever it matters (config/store.ts powerState):
//
//   bar-mapper.ts computeTarget   a function not in D0 decodes no BAR and no ROM (§5.3: in D1-D3hot
//                                 a function answers config cycles only), as if Command's memory
//                                 and IO enables were off
//   bridges.ts windowCovers       a bridge in D3hot forwards no memory or IO downstream
//                                 (PCI-to-PCI Bridge 1.2: in D3hot it forwards config cycles only)
//   config/store.ts mastering     a function not in D0 does no DMA; nor one below a bridge in D3hot
//
// So this hook only has to apply the one write rule masks cannot express and re-apply the mappings
// when the state changes.
import { blockOf, isBridge, pmCapOf, pmSupports, D0, D3HOT } from "../config/store";
import { HOOK_PM } from "../config/layout";
import { barRefresh, barRefreshBelow } from "./bar-mapper";

// Hook code HOOK_PM (config/layout.ts) marks the PMCSR dword; the store sets it (pmLocate).
export { HOOK_PM };

/**
 * The PMCSR dword was written; `old` is the dword before the write. A guest's write of a state the
 * function does not support (D1 without PMC D1_Support, D2 without D2_Support) leaves PowerState
 * as it was (PM 1.2 §3.2.4); the write's other bits (PME_En, PME_Status) still apply. Masks cannot
 * say this (whether 01b may be written depends on PMC, not on the bits), and the write has already
 * been applied when the hook runs, so the hook puts the old PowerState bits back: the same result
 * whatever the masks make writable. A device-side write (`device`) is kept as it is.
 *
 * Then, when the state changed: entering or leaving D0 re-applies the function's BARs (like a
 * Command write, this also drops a staged lower half of a 64-bit BAR); a bridge entering or leaving
 * D3hot re-applies every function below it.
 */
export function pmOnWrite(slot: i32, reg: u32, old: u32, device: bool): void {
  const cap = pmCapOf(slot);
  if (cap == 0 || (reg >> 2) != (cap + 4) >> 2) return;
  const p = blockOf(slot) + <usize>cap + 4;
  const before = old & 3;
  const after = <u32>load<u8>(p) & 3;
  if (after == before) return;
  if (!device && !pmSupports(slot, cap, after)) {
    store<u8>(p, <u8>((<u32>load<u8>(p) & ~3) | before));
    return;
  }
  if ((before == D0) != (after == D0)) barRefresh(slot);
  if ((before == D3HOT) != (after == D3HOT) && isBridge(slot)) barRefreshBelow(slot);
}
