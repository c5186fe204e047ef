// Memory layout of the config-space store.
//
// Every function owns one block of three byte planes, allocated when the function is added and
// reused (never freed) when a slot is removed and later refilled:
//
//   block + 0x0000  config   the register bytes the guest reads
//   block + 0x1000  wmask    1 = the bit takes the written value
//   block + 0x2000  w1cmask  1 = writing 1 clears the bit (write-1-to-clear)
//   block + 0x3000  hooks    one byte per config dword: 0, or the code of the mechanism that
//                            must follow a write there (dispatch/hooks.ts); the write path
//                            calls it without knowing what it is
//
// A write of byte v over old byte o is   ((o & ~wmask) | (v & wmask)) & ~(v & w1cmask).
// The policy layer guarantees wmask & w1cmask == 0 for every byte.
//
// Functions are found without a search, in two steps: each segment maps a bus number to the bus
// (a "node": a root bus, or a bridge's secondary bus) that answers it now, and each node has a
// direct table of its 256 device/function numbers (see store.ts and DESIGN.md):
//
//   busNodes[seg][bus]        -> node id (u16; 0 = no bus answers)   routing, rebuilt by route()
//   nodeTables[node]          -> [dev<<3|fn] -> slot+1 (u16 x 256)    allocated on first use
//   slotBlock[slot]           -> block address (u32)
//   slotSize[slot]            -> 256 or 4096 (config space size), 0 = free slot
//   slotHome[slot]            -> seg<<24 | node<<8 | dev<<3 | fn
//   slotPm[slot]              -> offset of the PM capability (u16; 0 none), found when the planes
//                                are loaded; the power state itself is read from PMCSR each time

/** Size of one plane: the largest (PCIe extended) configuration space. */
export const PLANE_SIZE: u32 = 4096;
export const PLANE_CONFIG: u32 = 0;
export const PLANE_WMASK: u32 = 1;
export const PLANE_W1C: u32 = 2;
export const PLANE_COUNT: u32 = 3;
/** The three planes the bindings load through the staging area. */
export const PLANES_SIZE: u32 = PLANE_SIZE * PLANE_COUNT;
export const HOOK_PLANE: u32 = PLANES_SIZE;
export const BLOCK_SIZE: u32 = PLANES_SIZE + PLANE_SIZE / 4;

/** Hook codes (see dispatch/hooks.ts). The store itself marks a bridge's bus-number dword:
 * config routing follows it whether or not the bridge's BARs are attached. */
export const HOOK_BARS: u8 = 1;
export const HOOK_BRIDGE: u8 = 2;
/** MSI Message Control and Mask Bits dwords; the MSI-X Message Control dword (irq/index.ts). */
export const HOOK_MSI: u8 = 3;
export const HOOK_MSIX: u8 = 4;
/** The PMCSR dword of the power-management capability (dispatch/power.ts). The store itself marks
 * it when planes are loaded: the unsupported-state rule holds whether or not BARs are attached. */
export const HOOK_PM: u8 = 5;
/** The dword of a type 1 header holding primary, secondary and subordinate bus numbers. */
export const BUS_NUMBERS_DWORD: u32 = 6;

/** Conventional PCI configuration space size (PCI Local Bus 3.0 §6.1). */
export const CONVENTIONAL_SIZE: u32 = 256;

/** Caps, documented in docs/limits.md. */
export const MAX_SEGMENTS: u32 = 16;
export const MAX_FUNCTIONS: u32 = 4096;

/** Status codes returned across the Wasm boundary (never thrown). */
export const OK: i32 = 0;
export const ERR_RANGE: i32 = -1;
export const ERR_EXISTS: i32 = -2;
export const ERR_FULL: i32 = -3;
export const ERR_NOT_FOUND: i32 = -4;
/** Something still depends on it (a domain with functions, a bridge with functions below). */
export const ERR_BUSY: i32 = -5;
/** (-6 is ERR_DISABLED, irq/layout.ts.) A saved state comes from a core built otherwise: other
 * functions, regions, register files, doorbells or interrupt attachments (assembly/state/). */
export const ERR_MISMATCH: i32 = -7;

/** All-ones for an access of `size` bytes; invalid sizes read as a full dword of ones. */
// @ts-ignore: decorator
@inline export function onesFor(size: i32): u32 {
  return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}
