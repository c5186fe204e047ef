// Numbers of the interrupt core, shared with the TypeScript twin (src/core/backend.ts `Irq`).
//
// Per slot (MAX_FUNCTIONS entries, STATE_BYTES each):
//   +0 u8 attached | +1 u8 pin (1-4, 0 none) | +2 u8 asserted | +4 u16 contributed GSI (GSI_NONE)
//   +8 u32 MSI capability offset (0 none) | +12 u32 MSI-X capability offset (0 none)
//   +16 u32 MSI-X table size N | +20 u32 address of the MSI-X table (N*16 bytes) then the PBA
//   +24 u32 bytes allocated at that address (kept and reused when the slot is attached again)
// Lines: MAX_GSI u32 reference counts. Routing: MAX_SEGMENTS x 32 devices x 4 pins u16 GSIs.
// Events: a ring of IRQ_CAPACITY records of IRQ_RECORD_BYTES:
//   +0 u32 kind (1 line, 2 message) | +4 i32 slot (-1 for a line) | +8 u32 gsi or data
//   +12 u32 level or address low | +16 u32 address high | +20 u32 0

export const MAX_GSI: u32 = 1024;
export const GSI_NONE: u32 = 0xffff;
export const IRQ_CAPACITY: u32 = 4096;
export const IRQ_RECORD_BYTES: u32 = 24;
export const KIND_LINE: u32 = 1;
export const KIND_MESSAGE: u32 = 2;
/** A signal that was masked and is now pending (a positive, non-error result). */
export const PENDING: i32 = 1;
/** MSI or MSI-X signalled while the capability is not enabled. */
export const ERR_DISABLED: i32 = -6;
export const STATE_BYTES: usize = 32;
/** The most MSI-X table entries a function has (PCI 3.0 §6.8.2.3: Table Size is 11 bits). */
export const MSIX_MAX: u32 = 2048;
