// The interrupt types the Bus API shows: where interrupts go (a sink), and the events the core
// reports as values.

/**
 * Where the bus delivers interrupts: an interrupt controller model (an IOAPIC for lines, the local
 * APICs for messages), an emulator's IRQ glue, or a RecordingSink in tests.
 */
export interface InterruptSink {
  /**
   * A GSI changed level: `true` when the first function sharing it asserts it, `false` when the
   * last one lets go (a shared line is the OR of its functions' pins).
   */
  line(gsi: number, level: boolean): void;
  /**
   * A function wrote an MSI or MSI-X message: the 64-bit address and 32-bit data it holds, and the
   * function's path (its BDF on a root bus, "0000:00:05.0/00.0" below a bridge).
   */
  message(address: bigint, data: number, bdf: string): void;
}

/** An interrupt event as `bus.interrupts.poll()` returns it (no sink set). */
export type InterruptEvent =
  | { kind: 'line'; gsi: number; level: boolean }
  | { kind: 'message'; bdf: string; address: bigint; data: number };

/**
 * What signalling a vector did: `delivered` (the message is queued or, with a sink, already
 * delivered), `pending` (the vector is masked: its pending bit is set and the message goes out on
 * unmask), `disabled` (the capability is not enabled: nothing happens).
 */
export type SignalResult = 'delivered' | 'pending' | 'disabled';
