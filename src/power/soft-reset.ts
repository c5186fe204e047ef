// The power-management policy the core leaves to TypeScript: the internal reset a function goes
// through on a D3hot -> D0 transition when its PMCSR No_Soft_Reset bit is 0 (PCI Bus PM 1.2 §5.4;
// PCIe Base 6.0 §5.3.1.4.1: the function returns to D0uninitialized). The core already stops BAR
// decode and DMA outside D0 (assembly/dispatch/power.ts); what comes back on the way to D0 is
// decided here:
//
//   config space   the function's power-on bytes (its ResolvedFunction planes), written device-side
//                  (configPoke), so BAR mappings, bridge windows, interrupt state and watchers
//                  follow: BARs unassigned, Command 0, MSI/MSI-X off, bus numbers 0 on a bridge;
//   kept           what the specifications keep across such a reset (`keptBits`): the sticky AER
//                  registers, PME context when the function can signal PME from D3, and the
//                  PCI Express bits that report hardware state (link status, slot presence);
//   the model      its `reset()`, after the bytes are back, so it sees power-on config space.
//
// A function whose No_Soft_Reset is 1 keeps its state (the core's power rules are all it gets),
// so only functions with No_Soft_Reset 0 are watched: vpci's default (capabilities.ts 'pm') pays
// nothing for this.
import type { CoreBackend } from '../core/backend.js';
import type { ConfigWatch } from '../config-watch.js';
import type { DeviceInstance } from '../devices/model-api.js';
import type { ResolvedFunction } from '../topology/index.js';
import { CapId, walkCapabilities, walkExtendedCapabilities } from '../config/index.js';
import { AER_LENGTH, AerReg, AER_CAP_ID, hasRootRegisters } from '../config/aer-capability.js';

/** PMCSR (PCI Bus PM 1.2 §3.2.4), at PM capability + 4. */
const PMCSR = 0x04;
/** PMC (§3.2.3), at PM capability + 2. */
const PMC = 0x02;
const POWER_STATE = 0x0003;
const NO_SOFT_RESET = 0x0008;
const PME_EN = 0x0100;
const PME_STATUS = 0x8000;
/** PMC PME_Support bits for D3hot (14) and D3cold (15). */
const PME_FROM_D3 = 0xc000;
const D0 = 0;
const D3HOT = 3;
const COMMAND = 0x04;
const STATUS = 0x06;
const INTERRUPT_STATUS = 0x0008;

/** What the soft-reset policy needs from the bus. */
export interface SoftResetOptions {
  core: CoreBackend;
  watch: ConfigWatch;
  /** The functions to watch (the topology's; their planes are the power-on values). */
  functions: readonly ResolvedFunction[];
  /** The core slot of a function path. */
  slotOf(path: string): number;
  /** A device-side config write (Bus.poke): bytes set exactly, then hooks and watchers follow. */
  poke(slot: number, space: number, offset: number, size: 4, value: number): void;
  /** The function's running device model, if it has one. */
  device(path: string): DeviceInstance | undefined;
}

/**
 * Watches PMCSR of every function with a PM capability whose No_Soft_Reset is 0, and resets the
 * function when PowerState goes from D3hot to D0.
 */
export function installSoftReset(o: SoftResetOptions): void {
  for (const f of o.functions) {
    const pm = walkCapabilities(f.planes.config).find((c) => c.id === CapId.PM)?.offset;
    // The core ignores a PM capability whose registers would run past byte 256 (its PMCSR is not
    // there to watch); so does the reset.
    if (pm === undefined || pm + 8 > 256 || (f.planes.get(pm + PMCSR, 2) & NO_SOFT_RESET) !== 0) continue;
    const slot = o.slotOf(f.path);
    let state = o.core.planeByte(slot, 0, pm + PMCSR) & POWER_STATE;
    o.watch.add(slot, f.planes.size, pm + PMCSR, 1, () => {
      const before = state;
      const pmcsr = o.core.planeByte(slot, 0, pm + PMCSR) | (o.core.planeByte(slot, 0, pm + PMCSR + 1) << 8);
      state = pmcsr & POWER_STATE;
      // A restored snapshot brings its own power state and config bytes: nothing transitioned.
      if (o.watch.restoring) return;
      // Read again, not from the planes: a device model may have changed it device-side.
      if (before === D3HOT && state === D0 && (pmcsr & NO_SOFT_RESET) === 0) softReset(o, f, slot, pm);
    });
  }
}

/** The internal reset of one function: power-on config bytes but the kept bits, then the model's reset. */
function softReset(o: SoftResetOptions, f: ResolvedFunction, slot: number, pm: number): void {
  const power = f.planes.config;
  const keep = keptBits(f, pm);
  const size = f.planes.size;
  const read = (off: number): number =>
    (o.core.planeByte(slot, 0, off) | (o.core.planeByte(slot, 0, off + 1) << 8) |
      (o.core.planeByte(slot, 0, off + 2) << 16) | (o.core.planeByte(slot, 0, off + 3) << 24)) >>> 0;
  const restore = (off: number): void => {
    const now = read(off);
    const on = (power[off] | (power[off + 1] << 8) | (power[off + 2] << 16) | (power[off + 3] << 24)) >>> 0;
    const k = (keep[off] | (keep[off + 1] << 8) | (keep[off + 2] << 16) | (keep[off + 3] << 24)) >>> 0;
    const value = ((on & ~k) | (now & k)) >>> 0;
    if (value !== now) o.poke(slot, size, off, 4, value);
  };
  // Command first: with decode and bus mastering off, the BARs and windows that follow go back to
  // their power-on values without being mapped anywhere on the way.
  restore(COMMAND);
  for (let off = 0; off < size; off += 4) if (off !== COMMAND) restore(off);
  o.device(f.path)?.reset?.();
}

/**
 * The bits (1 = keep the current value) a D3hot -> D0 internal reset leaves alone:
 *  - Status's Interrupt Status, which mirrors the INTx pin (the model's reset drops the pin).
 *  - PMCSR PME_En and PME_Status when PMC says the function can signal PME from D3hot or D3cold:
 *    PCI Bus PM 1.2 §3.2.4 makes them sticky with PME from D3cold, and a PME signalled in D3hot
 *    must still be visible after the wake-up for software to find the function that woke it.
 *    Without PME support they return to 0. PowerState is D0 already, No_Soft_Reset read-only.
 *  - The AER registers but Root Error Command: Uncorrectable/Correctable Error Status, Mask,
 *    Severity, the First Error Pointer and ECRC enables, the Header Log, Root Error Status and
 *    Error Source Identification are sticky (RW1CS, RWS, ROS: PCIe Base 6.0 §7.8.4).
 *  - PCI Express capability: Link Status (but its two RW1C bandwidth bits) and Slot Status's
 *    MRL Sensor State, Presence Detect State and Electromechanical Interlock Status report the
 *    hardware (the link, a card in the slot), which the function's reset does not change
 *    (PCIe Base 6.0 §7.5.3.8, §7.5.3.11).
 */
function keptBits(f: ResolvedFunction, pm: number): Uint8Array {
  const keep = new Uint8Array(f.planes.size);
  const set = (off: number, width: number, mask: number): void => {
    for (let i = 0; i < width; i++) keep[off + i] |= (mask >>> (8 * i)) & 0xff;
  };
  // Status's Interrupt Status (bit 3) is the core's image of the INTx pin: the model's reset()
  // is what drops the pin, and the bit follows it there.
  set(STATUS, 2, INTERRUPT_STATUS);
  if ((f.planes.get(pm + PMC, 2) & PME_FROM_D3) !== 0) set(pm + PMCSR, 2, PME_EN | PME_STATUS);
  const pcie = walkCapabilities(f.planes.config).find((c) => c.id === CapId.PCIE)?.offset;
  if (pcie === undefined) return keep;
  set(pcie + 0x12, 2, 0x3fff);
  set(pcie + 0x1a, 2, 0x00e0);
  const root = hasRootRegisters((f.planes.get(pcie + 2, 2) >> 4) & 0xf);
  for (const c of walkExtendedCapabilities(f.planes.config)) {
    if (c.id !== AER_CAP_ID) continue;
    keep.fill(0xff, c.offset + AerReg.UNCOR_STATUS, c.offset + AER_LENGTH);
    // Root Error Status and Error Source Identification, which only a root port's AER has.
    if (root) keep.fill(0xff, c.offset + AerReg.ROOT_STATUS, c.offset + AerReg.ROOT_ERR_SRC + 4);
  }
  return keep;
}
