// TypeScript twin of assembly/dispatch/power.ts: what follows a write to PMCSR. The power state is
// PMCSR bits 1:0 in config space (ConfigStore.powerState); the BAR mapper, the bridge windows and
// the DMA gate read it there.
import type { ConfigStore } from './config-store.js';
import type { BarMapper } from './bar-mapper.js';

/** Hook code of the PMCSR dword (HOOK_PM in assembly/config/layout.ts). */
export const HOOK_PM = 5;
/** PMCSR PowerState values (PCI Bus PM 1.2 §3.2.4): D0 and D3hot; 1 and 2 are D1 and D2. */
export const D0 = 0;
export const D3HOT = 3;

/**
 * The PMCSR dword was written (`old`: the dword before). A guest's write of an unsupported D1/D2
 * leaves PowerState as it was (PCI Bus PM 1.2 §3.2.4; the other bits of the write stay): masks
 * cannot express it, and the write is already applied, so the old bits are put back. A device-side
 * write is kept. A change into or out of D0 re-applies the function's BARs; a bridge's change into
 * or out of D3hot re-applies every function below it.
 */
export function pmWritten(store: ConfigStore, bars: BarMapper, slot: number, reg: number, old: number, device: boolean): void {
  const cap = store.pmCapOf(slot);
  if (cap === 0 || reg >>> 2 !== (cap + 4) >>> 2) return;
  const block = store.block(slot);
  const before = old & 3;
  const after = block[cap + 4] & 3;
  if (after === before) return;
  if (!device && !store.pmSupports(slot, cap, after)) {
    block[cap + 4] = (block[cap + 4] & ~3) | before;
    return;
  }
  if ((before === D0) !== (after === D0)) bars.refresh(slot);
  if ((before === D3HOT) !== (after === D3HOT) && store.isBridge(slot)) bars.refreshBelow(slot);
}
