// PCI Express error reporting (`bus.errors`, `DeviceContext.reportError`): a device model or the
// embedder says a function detected an error, and this service does what the function's hardware
// would (PCIe Base 6.0 §6.2.5, Figure 6-2, and the registers of §7.5.3.4-5 and §7.8.4), entirely
// through device-side config writes (Bus.poke), so hooks and watchers follow as for any change:
//
//   the function   Device Status Correctable / Non-Fatal / Fatal / Unsupported Request Detected
//                  (set whatever the masks say, §7.5.3.5); with an AER capability the status bit,
//                  and for an unmasked uncorrectable error the First Error Pointer and Header Log
//                  unless the error the pointer names is still pending; a masked error stops there
//   the message    ERR_COR if Device Control's Correctable Reporting Enable is set; ERR_NONFATAL /
//                  ERR_FATAL (by the Severity register) if its Non-Fatal / Fatal Reporting Enable
//                  or Command's SERR# Enable is set (§7.5.1.1.3), Signaled System Error then
//                  marking the latter; an Unsupported Request also needs Device Control's UR
//                  Reporting Enable or SERR# Enable (QEMU's reading of Figure 6-2)
//   upstream       every bridge above sets Secondary Status Received System Error for ERR_FATAL /
//                  NONFATAL (§7.5.1.3.7) and forwards the message only with Bridge Control's
//                  SERR# Enable (§7.5.1.3.13; Linux's pci_configure_serr sets it on every bridge);
//                  the nearest Root Port (or Root Complex Event Collector) takes it; a root
//                  port's own errors go to its own root registers
//   the root port  Root Error Status received / multiple / first-fatal bits and Error Source
//                  Identification (the requester's BDF, §7.8.4.10-11); its interrupt (§6.2.4.1.2)
//                  is the watcher's: MSI-X entry or MSI vector 0 when the enabled-and-received
//                  condition turns true, else INTx held while it is true
//
// Not modelled: Multiple Header Recording and Header Log Overflow, TLP Prefix Logs, Advisory
// Non-Fatal handling (a caller reports the correctable bit itself), the Root Control register's
// System Error reporting (platform-specific, and QEMU does not do it either), Root Complex Event
// Collectors' association with RCiEPs (an error of a function on a root bus goes nowhere).
import type { CoreBackend } from '../core/backend.js';
import type { ConfigWatch } from '../config-watch.js';
import type { InterruptService } from '../interrupts/index.js';
import type { ResolvedFunction } from '../topology/index.js';
import { ArgumentError } from '../errors.js';
import { CapId } from '../config/index.js';
import {
  AER_CAP_ID, AerCap, AerReg, COR_IMPLEMENTED, RootCmd, RootSta, UNC_IMPLEMENTED, UNC_SEVERITY_DEFAULT, UncorErr,
  hasRootRegisters,
} from '../config/aer-capability.js';

/** An error a function detected, by its bit in the AER status registers. */
export interface PcieError {
  kind: 'correctable' | 'uncorrectable';
  /**
   * The bit of the Uncorrectable (PCIe Base 6.0 §7.8.4.2) or Correctable (§7.8.4.5) Error Status
   * register that names the error, e.g. 20 Unsupported Request, 14 Completion Timeout, 0 Receiver
   * Error. It must be one the function implements (its AER status register's write-1-to-clear
   * bits; without AER, the bits vpci's AER capability implements).
   */
  bit: number;
  /**
   * The header of the TLP in error, 16 bytes in the order they cross the link (byte 0 first), for
   * the Header Log of an uncorrectable error. Without one the log is recorded as zeros.
   */
  header?: Uint8Array;
}

/** The error message a function sends (PCIe Base 6.0 §6.2.3.1). */
export type ErrorMessage = 'ERR_COR' | 'ERR_NONFATAL' | 'ERR_FATAL';

/** What reporting an error did. */
export interface ErrorReport {
  /** 'correctable', or for an uncorrectable error what its Severity bit says. */
  severity: 'correctable' | 'non-fatal' | 'fatal';
  /** Masked in the function's AER Mask register: the status bits are all that changed. */
  masked: boolean;
  /** The First Error Pointer and Header Log were recorded for this error. */
  logged: boolean;
  /** The message the function sent, or null when reporting was not enabled (or it was masked). */
  message: ErrorMessage | null;
  /** The path of the root port that received the message; null when none did. */
  rootPort: string | null;
}

/** @internal What the service needs from the bus. */
export interface ErrorReportingOptions {
  core: CoreBackend;
  watch: ConfigWatch;
  /** Where AER interrupts go: vector 0 by MSI-X/MSI, or the INTx pin it shares with the function's model. */
  interrupts: Pick<InterruptService, 'notify' | 'intx'>;
  /** The topology's functions: their root ports get their interrupt watchers at once. */
  functions: readonly ResolvedFunction[];
  /** The slot of a function path or current BDF (throws ArgumentError otherwise). */
  slotOf(pathOrBdf: string): number;
  /** The path of a slot. */
  pathOf(slot: number): string;
  /** A device-side config write (Bus.poke). */
  poke(slot: number, offset: number, size: 2 | 4, value: number): void;
}

// PCI Express capability registers (PCIe Base 6.0 §7.5.3) and their bits.
const DEVCTL = 0x08;
const DEVSTA = 0x0a;
const Devctl = { CERE: 1 << 0, NFERE: 1 << 1, FERE: 1 << 2, URRE: 1 << 3 } as const;
const Devsta = { CED: 1 << 0, NFED: 1 << 1, FED: 1 << 2, URD: 1 << 3 } as const;
// Header registers (PCI Local Bus 3.0 §6.2, PCI-to-PCI Bridge 1.2 §3.2).
const COMMAND = 0x04;
const STATUS = 0x06;
const SEC_STATUS = 0x1e;
const BRIDGE_CONTROL = 0x3e;
const INTERRUPT_PIN = 0x3d;
const SERR_ENABLE = 1 << 8;
const SIG_SYSTEM_ERROR = 1 << 14;
const REC_SYSTEM_ERROR = 1 << 14;
const BRIDGE_CTL_SERR = 1 << 1;
/** As the core walks the capability list: at most 48 hops, none below 0x40. */
const MAX_HOPS = 48;

/** Where a function's PCI Express and AER capabilities are (0: none) and its port type. */
interface Caps { pcie: number; aer: number; portType: number }

/** A root port's interrupt condition as its watcher last saw it. */
interface RootState { path: string; aer: number; pending: number; level: boolean; hasPin: boolean }

/**
 * The bus's PCI Express error reporting: `report(bdf, error)` for the embedder; device models call
 * `DeviceContext.reportError(error)`. See the top of this file for what an error does.
 */
export class ErrorReporting {
  /** Root ports whose Root Error Command and Status are watched, by slot. */
  private readonly roots = new Map<number, RootState>();

  /** @internal Made by the Bus, which hands it its core, watches and device-side writes. */
  constructor(private readonly o: ErrorReportingOptions) {
    // Topology root ports are watched from the start: after a snapshot restore their Root Error
    // Status may already hold bits the guest is yet to clear (and so drop INTx). Root ports added
    // at run time are watched from the first message they receive.
    for (const f of o.functions) this.watchRoot(o.slotOf(f.path));
  }

  /**
   * The function at `bdf` (a path, or the BDF it answers at now) detected `error`. ArgumentError
   * naming the field for an unknown function, one without a PCI Express capability, a bit it
   * does not implement, or a header that is not 16 bytes; nothing changes then.
   */
  report(bdf: string, error: PcieError): ErrorReport {
    let slot: number;
    try {
      slot = this.o.slotOf(bdf);
    } catch (e) {
      throw new ArgumentError(`errors.report: ${(e as Error).message}`);
    }
    return this.reportFrom(slot, error, 'errors.report');
  }

  /** @internal `report` for a function known by slot (a device model's context). */
  reportFrom(slot: number, error: PcieError, who = 'reportError'): ErrorReport {
    const path = this.o.pathOf(slot);
    if (error === null || typeof error !== 'object') throw new ArgumentError(`${who}: error must be { kind, bit, header? }`);
    const { kind, bit, header } = error;
    if (kind !== 'correctable' && kind !== 'uncorrectable') {
      throw new ArgumentError(`${who}: error.kind: ${typeof kind === 'string' ? JSON.stringify(kind) : String(kind)} is not "correctable" or "uncorrectable"`);
    }
    if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new ArgumentError(`${who}: error.bit: ${String(bit)} is not a bit number 0..31`);
    const caps = this.capsOf(slot);
    if (caps.pcie === 0) throw new ArgumentError(`${who}: bdf: ${path} has no PCI Express capability (AER errors are PCI Express errors)`);
    const correctable = kind === 'correctable';
    const statusReg = caps.aer + (correctable ? AerReg.COR_STATUS : AerReg.UNCOR_STATUS);
    // The implemented bits are the status register's write-1-to-clear bits, as the function's own
    // planes say (a cloned or hand-built AER capability may implement fewer).
    const implemented = caps.aer !== 0 ? this.w1c32(slot, statusReg) : correctable ? COR_IMPLEMENTED : UNC_IMPLEMENTED;
    const mask = (1 << bit) >>> 0;
    if ((implemented & mask) === 0) {
      throw new ArgumentError(`${who}: error.bit: ${bit} is not ${correctable ? 'a correctable' : 'an uncorrectable'} error ${path} implements (0x${implemented.toString(16).padStart(8, '0')})`);
    }
    if (header !== undefined) {
      if (!(header instanceof Uint8Array) || header.length !== 16) throw new ArgumentError(`${who}: error.header: must be a Uint8Array of 16 bytes (a TLP header)`);
      if (correctable) throw new ArgumentError(`${who}: error.header: only an uncorrectable error logs a TLP header`);
    }
    return correctable ? this.correctable(slot, caps, mask) : this.uncorrectable(slot, caps, bit, mask, header);
  }

  private correctable(slot: number, caps: Caps, mask: number): ErrorReport {
    const devctl = this.r16(slot, caps.pcie + DEVCTL);
    this.setBits16(slot, caps.pcie + DEVSTA, Devsta.CED);
    let masked = false;
    if (caps.aer !== 0) {
      this.setBits32(slot, caps.aer + AerReg.COR_STATUS, mask);
      masked = (this.r32(slot, caps.aer + AerReg.COR_MASK) & mask) !== 0;
    }
    const send = !masked && (devctl & Devctl.CERE) !== 0;
    return {
      severity: 'correctable', masked, logged: false,
      message: send ? 'ERR_COR' : null,
      rootPort: send ? this.send(slot, 'ERR_COR') : null,
    };
  }

  private uncorrectable(slot: number, caps: Caps, bit: number, mask: number, header: Uint8Array | undefined): ErrorReport {
    const { aer, pcie } = caps;
    const devctl = this.r16(slot, pcie + DEVCTL);
    const serr = (this.r16(slot, COMMAND) & SERR_ENABLE) !== 0;
    const fatal = ((aer !== 0 ? this.r32(slot, aer + AerReg.UNCOR_SEVER) : UNC_SEVERITY_DEFAULT) & mask) !== 0;
    const ur = mask === UncorErr.UNSUP;
    this.setBits16(slot, pcie + DEVSTA, (fatal ? Devsta.FED : Devsta.NFED) | (ur ? Devsta.URD : 0));
    let masked = false;
    let logged = false;
    if (aer !== 0) {
      const status = this.r32(slot, aer + AerReg.UNCOR_STATUS);
      const uncorMask = this.r32(slot, aer + AerReg.UNCOR_MASK);
      masked = (uncorMask & mask) !== 0;
      const cap = this.r32(slot, aer + AerReg.CAP);
      // The pointer stays on the first error until software clears that error's status bit
      // (§7.8.4.7): only then may a later error take the pointer and the log. A pointed-at bit
      // that is masked now holds nothing: a masked error setting it again must not revive a
      // pointer whose error software already handled.
      const pending = ((status & ~uncorMask) >>> (cap & AerCap.FEP_MASK)) & 1;
      if (!masked && pending === 0) {
        logged = true;
        for (let i = 0; i < 4; i++) {
          // §7.8.4.8: header byte 0 is the dword's most significant byte (bits 31:24).
          const dw = header === undefined ? 0
            : ((header[4 * i] << 24) | (header[4 * i + 1] << 16) | (header[4 * i + 2] << 8) | header[4 * i + 3]) >>> 0;
          this.pokeIfChanged(slot, aer + AerReg.HEADER_LOG + 4 * i, 4, dw);
        }
        this.pokeIfChanged(slot, aer + AerReg.CAP, 4, ((cap & ~AerCap.FEP_MASK) | bit) >>> 0);
      }
      this.setBits32(slot, aer + AerReg.UNCOR_STATUS, mask);
    }
    const severity = fatal ? 'fatal' : 'non-fatal';
    const enabled = serr || (devctl & (fatal ? Devctl.FERE : Devctl.NFERE)) !== 0;
    const urAllowed = !ur || serr || (devctl & Devctl.URRE) !== 0;
    if (masked || !enabled || !urAllowed) return { severity, masked, logged, message: null, rootPort: null };
    // §7.5.1.2: Signaled System Error records a message sent with SERR# Enable set.
    if (serr) this.setBits16(slot, STATUS, SIG_SYSTEM_ERROR);
    const message: ErrorMessage = fatal ? 'ERR_FATAL' : 'ERR_NONFATAL';
    return { severity, masked, logged, message, rootPort: this.send(slot, message) };
  }

  /**
   * The message travels up from `slot`: each bridge above receives it on its secondary side and
   * forwards it only with Bridge Control SERR# Enable; a root port takes it. Returns the root
   * port's path, or null when the message stopped on the way or reached a root bus.
   */
  private send(slot: number, message: ErrorMessage): string | null {
    // The requester's BDF as it answers config cycles now: the bus number is whatever firmware
    // gave the bridge above. Unreachable functions (an unnumbered bridge above) report bus 0.
    const packed = this.o.core.slotAddress(slot);
    let rid = packed & 0xffff;
    if (packed < 0) {
      // The path ends in the function's "DD.F" below its bridge.
      const last = this.o.pathOf(slot).slice(-4);
      rid = (parseInt(last.slice(0, 2), 16) << 3) | Number(last[3]);
    }
    const uncorrectable = message !== 'ERR_COR';
    // A root port's own errors are logged in its own root registers, as if it had received the
    // message (what QEMU's pcie_aer_msg does too): they do not cross its secondary side.
    const own = this.capsOf(slot);
    if (hasRootRegisters(own.portType)) {
      if (own.aer !== 0) this.receive(slot, own.aer, message, rid);
      return this.o.pathOf(slot);
    }
    for (let p = this.o.core.slotParent(slot); p >= 0; p = this.o.core.slotParent(p)) {
      if (uncorrectable) this.setBits16(p, SEC_STATUS, REC_SYSTEM_ERROR);
      if ((this.r16(p, BRIDGE_CONTROL) & BRIDGE_CTL_SERR) === 0) return null;
      const caps = this.capsOf(p);
      if (hasRootRegisters(caps.portType)) {
        if (caps.aer !== 0) this.receive(p, caps.aer, message, rid);
        return this.o.pathOf(p);
      }
    }
    return null;
  }

  /** A root port's AER registers take a message (PCIe Base 6.0 §7.8.4.10-11). */
  private receive(slot: number, aer: number, message: ErrorMessage, rid: number): void {
    // Watched before the status changes, so the watcher sees the change and interrupts.
    this.watchRoot(slot);
    let status = this.r32(slot, aer + AerReg.ROOT_STATUS);
    let source = this.r32(slot, aer + AerReg.ROOT_ERR_SRC);
    if (message === 'ERR_COR') {
      if (status & RootSta.COR_RCV) status |= RootSta.MULTI_COR_RCV;
      else source = ((source & 0xffff0000) | rid) >>> 0;
      status |= RootSta.COR_RCV;
    } else {
      const fatal = message === 'ERR_FATAL';
      if (status & RootSta.UNCOR_RCV) status |= RootSta.MULTI_UNCOR_RCV;
      else {
        source = ((source & 0xffff) | (rid << 16)) >>> 0;
        if (fatal) status |= RootSta.FIRST_FATAL;
      }
      status |= RootSta.UNCOR_RCV | (fatal ? RootSta.FATAL_RCV : RootSta.NONFATAL_RCV);
    }
    // The source first: whoever the status change wakes reads a consistent pair.
    this.pokeIfChanged(slot, aer + AerReg.ROOT_ERR_SRC, 4, source);
    this.pokeIfChanged(slot, aer + AerReg.ROOT_STATUS, 4, status >>> 0);
  }

  /**
   * Watches a root port's Root Error Command and Status (the low byte of each holds every bit
   * that matters) if it has AER root registers and is not watched yet.
   */
  private watchRoot(slot: number): void {
    const path = this.o.pathOf(slot);
    // A slot reused by a function added after a removal is watched afresh.
    if (this.roots.get(slot)?.path === path) return;
    const caps = this.capsOf(slot);
    if (caps.aer === 0 || !hasRootRegisters(caps.portType)) return;
    const st: RootState = { path, aer: caps.aer, pending: 0, level: false, hasPin: this.o.core.planeByte(slot, 0, INTERRUPT_PIN) !== 0 };
    st.pending = this.pending(slot, st.aer);
    st.level = st.pending !== 0;
    this.roots.set(slot, st);
    const onChange = () => this.evaluate(slot, st);
    this.o.watch.add(slot, 4096, caps.aer + AerReg.ROOT_COMMAND, 1, onChange);
    this.o.watch.add(slot, 4096, caps.aer + AerReg.ROOT_STATUS, 1, onChange);
  }

  /**
   * §6.2.4.1.2: the condition is (Correctable Reporting Enable and ERR_COR Received) or (Non-Fatal
   * Reporting Enable and Non-Fatal Error Messages Received) or (Fatal Reporting Enable and Fatal
   * Error Messages Received). Returns the enable bits whose condition holds.
   */
  private pending(slot: number, aer: number): number {
    const command = this.o.core.planeByte(slot, 0, aer + AerReg.ROOT_COMMAND);
    const status = this.o.core.planeByte(slot, 0, aer + AerReg.ROOT_STATUS);
    const received = (status & RootSta.COR_RCV ? RootCmd.COR_EN : 0) |
      (status & RootSta.NONFATAL_RCV ? RootCmd.NONFATAL_EN : 0) | (status & RootSta.FATAL_RCV ? RootCmd.FATAL_EN : 0);
    return command & received;
  }

  /**
   * After any change of Root Error Command or Status (a message received, the guest clearing
   * status or changing enables): an MSI-X/MSI message on vector 0 when the condition turns true,
   * INTx asserted while it holds (the core gates INTx off while MSI or MSI-X is enabled).
   */
  private evaluate(slot: number, st: RootState): void {
    const was = st.pending;
    st.pending = this.pending(slot, st.aer);
    if (this.o.watch.restoring) {
      // The restored core state already has the pin level and the messages sent before.
      st.level = st.pending !== 0;
      return;
    }
    if (st.pending !== 0 && was === 0) this.o.interrupts.notify(st.path, 0);
    const level = st.pending !== 0;
    if (st.hasPin && level !== st.level) {
      st.level = level;
      this.o.interrupts.intx(st.path, level);
    }
  }

  /** The function's PCI Express and AER capabilities, walked from its own bytes as the core stores them. */
  private capsOf(slot: number): Caps {
    const b = (off: number) => this.o.core.planeByte(slot, 0, off);
    let pcie = 0;
    let p = b(0x34) & 0xfc;
    for (let hop = 0; hop < MAX_HOPS && p >= 0x40; hop++) {
      if (b(p) === CapId.PCIE) {
        pcie = p;
        break;
      }
      p = b(p + 1) & 0xfc;
    }
    if (pcie === 0) return { pcie: 0, aer: 0, portType: -1 };
    const portType = (b(pcie + 2) >> 4) & 0xf;
    let aer = 0;
    const seen = new Set<number>();
    for (let q = 0x100; q >= 0x100 && q <= 0xffc && !seen.has(q);) {
      seen.add(q);
      const header = this.r32(slot, q);
      if (header === 0 || header === 0xffffffff) break;
      if ((header & 0xffff) === AER_CAP_ID) {
        aer = q;
        break;
      }
      q = (header >>> 20) & 0xffc;
    }
    return { pcie, aer, portType };
  }

  private r16(slot: number, off: number): number {
    return this.o.core.planeByte(slot, 0, off) | (this.o.core.planeByte(slot, 0, off + 1) << 8);
  }

  private r32(slot: number, off: number): number {
    return (this.r16(slot, off) | (this.r16(slot, off + 2) << 16)) >>> 0;
  }

  private w1c32(slot: number, off: number): number {
    let v = 0;
    for (let i = 3; i >= 0; i--) v = (v << 8) | this.o.core.planeByte(slot, 2, off + i);
    return v >>> 0;
  }

  private setBits16(slot: number, off: number, bits: number): void {
    this.pokeIfChanged(slot, off, 2, this.r16(slot, off) | bits);
  }

  private setBits32(slot: number, off: number, bits: number): void {
    this.pokeIfChanged(slot, off, 4, (this.r32(slot, off) | bits) >>> 0);
  }

  private pokeIfChanged(slot: number, off: number, size: 2 | 4, value: number): void {
    if ((size === 2 ? this.r16(slot, off) : this.r32(slot, off)) !== value) this.o.poke(slot, off, size, value);
  }
}
