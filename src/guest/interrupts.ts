// The guest's interrupt controller, as far as its drivers need one: an InterruptSink that hands out
// MSI-X messages (one address/data pair per vector, data unique across the guest, so a message
// names its vector whoever sent it), counts the messages that arrive, and follows INTx line levels.
import type { InterruptSink } from '../interrupts/index.js';

/** The x86 interrupt window: messages to the local APIC of CPU 0 (Intel SDM vol. 3 §11.11.1). */
export const MSI_ADDRESS = 0xfee00000;
/** The first data value handed out (x86 vectors below 0x20 are exceptions; 0x40 leaves room). */
export const FIRST_VECTOR_DATA = 0x40;

/** A delivery the guest saw: an INTx line (GSI) changing level, or an MSI/MSI-X message from a function. */
export type GuestIrqEvent =
  | { kind: 'line'; gsi: number; level: boolean }
  | { kind: 'message'; bdf: string; address: bigint; data: number };

/** Options of `GuestInterrupts`. */
export interface GuestInterruptsOptions {
  /** Keep every event in `log`, in order (default true; benches turn it off). */
  log?: boolean;
}

export class GuestInterrupts implements InterruptSink {
  /** Every delivery, oldest first (when logging). */
  readonly log: GuestIrqEvent[] = [];
  private readonly keepLog: boolean;
  /** Messages received and not yet taken, by data value. */
  private readonly pending = new Map<number, number>();
  /** Messages received, by data value. */
  private readonly received = new Map<number, number>();
  /** Messages whose address or data no driver handed out. */
  private strays = 0;
  private readonly levels = new Map<number, boolean>();
  private nextData = FIRST_VECTOR_DATA;

  constructor(options: GuestInterruptsOptions = {}) {
    this.keepLog = options.log ?? true;
  }

  /** A fresh message for one vector: the address and a data value no other vector has. */
  allocMessage(): { address: number; data: number } {
    const data = this.nextData++;
    this.pending.set(data, 0);
    this.received.set(data, 0);
    return { address: MSI_ADDRESS, data };
  }

  line(gsi: number, level: boolean): void {
    if (this.keepLog) this.log.push({ kind: 'line', gsi, level });
    this.levels.set(gsi, level);
  }

  message(address: bigint, data: number, bdf: string): void {
    if (this.keepLog) this.log.push({ kind: 'message', bdf, address, data });
    const n = this.pending.get(data);
    if (n === undefined || address !== BigInt(MSI_ADDRESS)) {
      this.strays++;
      return;
    }
    this.pending.set(data, n + 1);
    this.received.set(data, this.received.get(data)! + 1);
  }

  /** Takes one message of `data` if one arrived (true), as an interrupt handler acknowledges it. */
  take(data: number): boolean {
    const n = this.pending.get(data) ?? 0;
    if (n === 0) return false;
    this.pending.set(data, n - 1);
    return true;
  }

  /** Takes every message of `data` that arrived; returns how many. */
  takeAll(data: number): number {
    const n = this.pending.get(data) ?? 0;
    if (n !== 0) this.pending.set(data, 0);
    return n;
  }

  /** Messages of `data` received and not yet taken. */
  waiting(data: number): number {
    return this.pending.get(data) ?? 0;
  }

  /** Messages of `data` received in all. */
  count(data: number): number {
    return this.received.get(data) ?? 0;
  }

  /** Messages with an address or data value no driver handed out. */
  strayMessages(): number {
    return this.strays;
  }

  /** Whether `gsi` is asserted now. */
  lineHigh(gsi: number): boolean {
    return this.levels.get(gsi) ?? false;
  }

  /** Forgets the log (counts and levels stay). */
  clearLog(): void {
    this.log.length = 0;
  }
}
