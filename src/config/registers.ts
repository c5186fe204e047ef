// Config-space register offsets and bits (PCI Local Bus 3.0 §6.2, PCI-to-PCI Bridge 1.2 §3.2,
// PCIe Base 6.0 §7.5). Names follow the specifications (and Linux's pci_regs.h spelling).
/** Config-space register offsets: the type 0 (endpoint) header, then the type 1 (bridge) header's own fields. */
export const Reg = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION_ID: 0x08,
  CLASS_PROG: 0x09,
  CACHE_LINE_SIZE: 0x0c,
  LATENCY_TIMER: 0x0d,
  HEADER_TYPE: 0x0e,
  BIST: 0x0f,
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  ROM_ADDRESS: 0x30,
  CAPABILITY_LIST: 0x34,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
  MIN_GNT: 0x3e,
  MAX_LAT: 0x3f,
  // Type 1 (bridge) header.
  PRIMARY_BUS: 0x18,
  SECONDARY_BUS: 0x19,
  SUBORDINATE_BUS: 0x1a,
  SEC_LATENCY_TIMER: 0x1b,
  IO_BASE: 0x1c,
  IO_LIMIT: 0x1d,
  SEC_STATUS: 0x1e,
  MEMORY_BASE: 0x20,
  MEMORY_LIMIT: 0x22,
  PREF_MEMORY_BASE: 0x24,
  PREF_MEMORY_LIMIT: 0x26,
  PREF_BASE_UPPER32: 0x28,
  PREF_LIMIT_UPPER32: 0x2c,
  IO_BASE_UPPER16: 0x30,
  IO_LIMIT_UPPER16: 0x32,
  ROM_ADDRESS1: 0x38,
  BRIDGE_CONTROL: 0x3e,
} as const;

/** Command register bits (PCI Local Bus 3.0 §6.2.2). */
export const Command = {
  IO_SPACE: 1 << 0,
  MEMORY_SPACE: 1 << 1,
  BUS_MASTER: 1 << 2,
  SPECIAL_CYCLES: 1 << 3,
  MWI_ENABLE: 1 << 4,
  VGA_PALETTE_SNOOP: 1 << 5,
  PARITY_ERROR_RESPONSE: 1 << 6,
  SERR_ENABLE: 1 << 8,
  FAST_BACK_TO_BACK: 1 << 9,
  INTX_DISABLE: 1 << 10,
} as const;

/** Status register bits (PCI Local Bus 3.0 §6.2.3). */
export const StatusBits = {
  IMMEDIATE_READINESS: 1 << 0,
  INTERRUPT: 1 << 3,
  CAP_LIST: 1 << 4,
  MHZ66: 1 << 5,
  FAST_BACK_TO_BACK: 1 << 7,
  MASTER_DATA_PARITY: 1 << 8,
  SIG_TARGET_ABORT: 1 << 11,
  REC_TARGET_ABORT: 1 << 12,
  REC_MASTER_ABORT: 1 << 13,
  SIG_SYSTEM_ERROR: 1 << 14,
  DETECTED_PARITY: 1 << 15,
} as const;

/** Status (and Secondary Status) error bits: write-1-to-clear (PCI 3.0 §6.2.3). */
export const STATUS_W1C = StatusBits.MASTER_DATA_PARITY | StatusBits.SIG_TARGET_ABORT |
  StatusBits.REC_TARGET_ABORT | StatusBits.REC_MASTER_ABORT | StatusBits.SIG_SYSTEM_ERROR |
  StatusBits.DETECTED_PARITY;

/**
 * Command bits a guest may change: the decode enables, bus master, parity response, SERR and
 * INTx disable (the set QEMU makes writable; the other bits are hardwired to 0 on PCIe).
 */
export const COMMAND_WRITABLE = Command.IO_SPACE | Command.MEMORY_SPACE | Command.BUS_MASTER |
  Command.PARITY_ERROR_RESPONSE | Command.SERR_ENABLE | Command.INTX_DISABLE;

/**
 * Bridge Control (PCI-to-PCI Bridge 1.2 §3.2.5.18): parity response, SERR, ISA, VGA, VGA 16-bit,
 * master-abort mode, secondary bus reset, fast back-to-back, the two discard timeouts and the
 * discard-timer SERR enable are read/write; Discard Timer Status (bit 10) is write-1-to-clear.
 */
export const BRIDGE_CONTROL_WRITABLE = 0x0bff;
export const BRIDGE_CONTROL_W1C = 0x0400;

/** Header Type layouts (low 7 bits of the register): 0 endpoint, 1 PCI-to-PCI bridge. */
export const HeaderType = { ENDPOINT: 0, BRIDGE: 1 } as const;
export const MULTI_FUNCTION = 0x80;

/** First byte after the standard header, where capabilities start. */
export const CAPABILITY_AREA_START = 0x40;
/** PCIe Base 6.0 §7.6: the extended capability list starts at 0x100. */
export const EXTENDED_CAPABILITY_START = 0x100;
