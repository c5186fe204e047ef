// The Advanced Error Reporting extended capability (PCIe Base 6.0 §7.8.4; register and bit names
// as Linux's include/uapi/linux/pci_regs.h spells them, PCI_ERR_*). This file lays out the bytes
// and their write masks; what sets the status bits and sends error messages is the policy layer's
// error reporting service (src/errors/aer-service.ts), through device-side config writes.
//
//   +0x00 header (ID 0x0001, version 2)
//   +0x04 Uncorrectable Error Status     RW1CS  implemented bits: UNC_IMPLEMENTED
//   +0x08 Uncorrectable Error Mask       RWS    0 (nothing masked)
//   +0x0c Uncorrectable Error Severity   RWS    0x00462030 (set bits are Fatal)
//   +0x10 Correctable Error Status       RW1CS  implemented bits: COR_IMPLEMENTED
//   +0x14 Correctable Error Mask         RWS    Advisory Non-Fatal masked
//   +0x18 Advanced Error Capabilities and Control: First Error Pointer (4:0, ROS); ECRC
//         Generation / Check Capable (5, 7) with their Enables (6, 8, RWS); no Multiple Header
//         Recording, no TLP Prefix Log
//   +0x1c Header Log, 4 dwords           ROS
//   root ports and Root Complex Event Collectors only:
//   +0x2c Root Error Command             RW     bits 2:0
//   +0x30 Root Error Status              RW1CS  bits 6:0; 31:27 Advanced Error Interrupt
//                                               Message Number (RO, 0: MSI/MSI-X vector 0)
//   +0x34 Error Source Identification    ROS    15:0 ERR_COR source, 31:16 ERR_FATAL/NONFATAL
//
// "S" (sticky) registers keep their values across resets other than a cold one: the power-state
// soft reset (src/power/soft-reset.ts) leaves them alone.
import type { ConfigPlanes } from './planes.js';
import { CapId, PCIE_PORT_TYPE, walkCapabilities } from './capabilities.js';

/** The extended capability's ID (PCI Code and ID Assignment 1.11 §3; ExtCapId.AER). */
export const AER_CAP_ID = 0x0001;
/** Capability version 2 (PCIe Base 6.0 §7.8.4.1), as QEMU and current hardware report it. */
export const AER_VERSION = 2;
/** Bytes of the structure up to the Header Log (Linux: PCI_ERR_ROOT_COMMAND is the next offset). */
export const AER_LENGTH = 0x2c;
/** Bytes with the root port registers (Linux: PCI_ERR_ROOT_ERR_SRC + 4). */
export const AER_ROOT_LENGTH = 0x38;

/** An AER capability; the root port registers come with it when the function's PCI Express capability says Root Port or Root Complex Event Collector. */
export interface AerCapabilityDescriptor {
  id: 'aer';
  offset?: number;
}

/** Register offsets inside the capability (PCIe Base 6.0 §7.8.4.2-§7.8.4.12). */
export const AerReg = {
  UNCOR_STATUS: 0x04,
  UNCOR_MASK: 0x08,
  UNCOR_SEVER: 0x0c,
  COR_STATUS: 0x10,
  COR_MASK: 0x14,
  CAP: 0x18,
  HEADER_LOG: 0x1c,
  ROOT_COMMAND: 0x2c,
  ROOT_STATUS: 0x30,
  /** Error Source Identification: ERR_COR source at +0, ERR_FATAL/NONFATAL source at +2. */
  ROOT_ERR_SRC: 0x34,
} as const;

/**
 * Uncorrectable error status bits (PCIe Base 6.0 §7.8.4.2): Data Link Protocol (4), Surprise Down
 * (5), Poisoned TLP Received (12), Flow Control Protocol (13), Completion Timeout (14), Completer
 * Abort (15), Unexpected Completion (16), Receiver Overflow (17), Malformed TLP (18), ECRC (19),
 * Unsupported Request (20), ACS Violation (21), Uncorrectable Internal (22), MC Blocked TLP (23),
 * AtomicOp Egress Blocked (24), TLP Prefix Blocked (25).
 */
export const UncorErr = {
  DLP: 1 << 4,
  SDN: 1 << 5,
  POISON_TLP: 1 << 12,
  FCP: 1 << 13,
  COMP_TIME: 1 << 14,
  COMP_ABORT: 1 << 15,
  UNX_COMP: 1 << 16,
  RX_OVER: 1 << 17,
  MALF_TLP: 1 << 18,
  ECRC: 1 << 19,
  UNSUP: 1 << 20,
  ACSV: 1 << 21,
  INTN: 1 << 22,
  MCBTLP: 1 << 23,
  ATOMEG: 1 << 24,
  TLPPRE: 1 << 25,
} as const;

/**
 * The uncorrectable errors vpci implements: the ones above (QEMU's PCI_ERR_UNC_SUPPORTED). The
 * PCIe 6.0 additions (26-31: Poisoned TLP Egress Blocked, DMWr Request Egress Blocked, IDE Check
 * Failed, Misrouted IDE TLP, PCRC Check Failed, TLP Translation Egress Blocked) belong to features
 * vpci does not have, so they stay hardwired to 0, as unimplemented bits must (§7.8.4.2).
 */
export const UNC_IMPLEMENTED = 0x03fff030;

/**
 * PCIe Base 6.0 §7.8.4.4: the Severity register's default, Fatal for Data Link Protocol, Surprise
 * Down, Flow Control Protocol, Receiver Overflow, Malformed TLP and Uncorrectable Internal errors
 * (QEMU's PCI_ERR_UNC_SEVERITY_DEFAULT). A function without AER uses these severities (§6.2.7).
 */
export const UNC_SEVERITY_DEFAULT = 0x00462030;

/**
 * Correctable error status bits (PCIe Base 6.0 §7.8.4.5): Receiver Error (0), Bad TLP (6), Bad
 * DLLP (7), REPLAY_NUM Rollover (8), Replay Timer Timeout (12), Advisory Non-Fatal (13), Corrected
 * Internal (14), Header Log Overflow (15).
 */
export const CorErr = {
  RCVR: 1 << 0,
  BAD_TLP: 1 << 6,
  BAD_DLLP: 1 << 7,
  REP_ROLL: 1 << 8,
  REP_TIMER: 1 << 12,
  ADV_NONFATAL: 1 << 13,
  INTERNAL: 1 << 14,
  HL_OVERFLOW: 1 << 15,
} as const;

/** Every correctable error above (QEMU's PCI_ERR_COR_SUPPORTED). */
export const COR_IMPLEMENTED = 0x0000f1c1;

/** PCIe Base 6.0 §7.8.4.6: Advisory Non-Fatal is masked by default. */
export const COR_MASK_DEFAULT = CorErr.ADV_NONFATAL;

/** Advanced Error Capabilities and Control (PCIe Base 6.0 §7.8.4.7). */
export const AerCap = {
  /** First Error Pointer: the bit position of the first error recorded in Uncorrectable Error Status. */
  FEP_MASK: 0x1f,
  ECRC_GEN_CAPABLE: 1 << 5,
  ECRC_GEN_ENABLE: 1 << 6,
  ECRC_CHECK_CAPABLE: 1 << 7,
  ECRC_CHECK_ENABLE: 1 << 8,
} as const;

/** Root Error Command (PCIe Base 6.0 §7.8.4.9): interrupt enables per message class. */
export const RootCmd = {
  COR_EN: 1 << 0,
  NONFATAL_EN: 1 << 1,
  FATAL_EN: 1 << 2,
} as const;

/** Root Error Status (PCIe Base 6.0 §7.8.4.10). */
export const RootSta = {
  COR_RCV: 1 << 0,
  MULTI_COR_RCV: 1 << 1,
  /** ERR_FATAL/NONFATAL Received. */
  UNCOR_RCV: 1 << 2,
  MULTI_UNCOR_RCV: 1 << 3,
  /** First Uncorrectable Fatal: the first ERR_FATAL/NONFATAL received was ERR_FATAL. */
  FIRST_FATAL: 1 << 4,
  NONFATAL_RCV: 1 << 5,
  FATAL_RCV: 1 << 6,
  /** The RW1CS bits. */
  REPORT_MASK: 0x7f,
  /** Advanced Error Interrupt Message Number, bits 31:27. */
  IRQ_SHIFT: 27,
} as const;

/**
 * Whether a PCI Express Device/Port Type has the root port registers: Root Ports and Root Complex
 * Event Collectors, the functions that receive error messages (PCIe Base 6.0 §7.8.4.9).
 */
export function hasRootRegisters(portType: number): boolean {
  return portType === PCIE_PORT_TYPE['root-port'] || portType === PCIE_PORT_TYPE['rc-event-collector'];
}

/**
 * The Device/Port Type of the function's PCI Express capability, or -1 without one. Once the
 * Capabilities Pointer is set the list is walked. While `buildPlanes` runs it is not yet (the
 * header's identity bytes, 0x34 included, are written after the extended capabilities), so the
 * PCI Express capability is found by what only it has among the capabilities vpci builds: ID 0x10
 * with Device Status's four error bits write-1-to-clear (`applyCapabilityMasks`).
 */
function pciePortType(planes: ConfigPlanes): number {
  let at = 0;
  if (planes.config[0x34] !== 0) {
    at = walkCapabilities(planes.config).find((c) => c.id === CapId.PCIE)?.offset ?? 0;
  } else {
    for (let o = 0x40; o <= 0xfc - 0x0c; o += 4) {
      if (planes.config[o] === CapId.PCIE && (planes.w1cmask[o + 0x0a] & 0x0f) === 0x0f) {
        at = o;
        break;
      }
    }
  }
  return at === 0 ? -1 : (planes.get(at + 2, 2) >> 4) & 0xf;
}

/** Bytes the capability takes in this function: with the root port registers or without. */
export function aerLength(planes: ConfigPlanes): number {
  return hasRootRegisters(pciePortType(planes)) ? AER_ROOT_LENGTH : AER_LENGTH;
}

/** Writes the registers after the header (the caller links the header) and their masks. */
export function writeAerCapability(planes: ConfigPlanes, at: number): void {
  planes.ro(at + AerReg.UNCOR_SEVER, 4, UNC_SEVERITY_DEFAULT);
  planes.ro(at + AerReg.COR_MASK, 4, COR_MASK_DEFAULT);
  // ECRC: capable of generating and checking, as QEMU's functions are, so a guest's "ecrc=on"
  // policy can set the enables. vpci carries no TLPs, so the enables are storage: nothing is
  // generated or checked, and an ECRC error (bit 19) happens only when someone reports one.
  planes.ro(at + AerReg.CAP, 4, AerCap.ECRC_GEN_CAPABLE | AerCap.ECRC_CHECK_CAPABLE);
  applyAerMasks(planes, at);
}

/**
 * The write masks of an AER capability at `at`, from the bytes already there: a built one or one
 * cloned from a dump (src/config/template.ts), so both behave alike. The implemented error bits
 * are vpci's (a dump does not show which bits a device implements); an ECRC enable is writable
 * when its Capable bit says so; the root port registers follow the PCI Express port type.
 * Multiple Header Recording is not modelled, so its enable stays read-only even where a dump
 * says the device had it.
 */
export function applyAerMasks(planes: ConfigPlanes, at: number): void {
  planes.masks(at + AerReg.UNCOR_STATUS, 4, 0, UNC_IMPLEMENTED);
  planes.masks(at + AerReg.UNCOR_MASK, 4, UNC_IMPLEMENTED);
  planes.masks(at + AerReg.UNCOR_SEVER, 4, UNC_IMPLEMENTED);
  planes.masks(at + AerReg.COR_STATUS, 4, 0, COR_IMPLEMENTED);
  planes.masks(at + AerReg.COR_MASK, 4, COR_IMPLEMENTED);
  const cap = planes.get(at + AerReg.CAP, 4);
  planes.masks(at + AerReg.CAP, 4, (cap & AerCap.ECRC_GEN_CAPABLE ? AerCap.ECRC_GEN_ENABLE : 0) |
    (cap & AerCap.ECRC_CHECK_CAPABLE ? AerCap.ECRC_CHECK_ENABLE : 0));
  if (aerLength(planes) === AER_ROOT_LENGTH) {
    planes.masks(at + AerReg.ROOT_COMMAND, 4, RootCmd.COR_EN | RootCmd.NONFATAL_EN | RootCmd.FATAL_EN);
    // Message number 31:27 read-only: the port has one MSI vector (or MSI-X entry 0) for AER.
    planes.masks(at + AerReg.ROOT_STATUS, 4, 0, RootSta.REPORT_MASK);
  }
}
