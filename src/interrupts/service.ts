// The Bus's interrupt service (`bus.interrupts`): what device models call to raise interrupts, and
// where the embedder plugs in its interrupt controller. The core decides everything (INTx gating
// and swizzling, shared-line reference counts, MSI/MSI-X masking and pending bits) and queues the
// results as events; this layer names the functions, converts the numbers and hands the events to
// the sink, or keeps them for poll().
//
// Delivery rule: with a sink set, events reach it synchronously, before the call that caused them
// returns: after a guest access that queued any (the Bus checks the count configWrite, mmioWrite
// and ioWrite return), after every call of this service, after `bus.replay`, and when a sink is
// set while events wait. Without a sink they stay queued for poll() (the core keeps 4,096 and
// counts the rest in `bus.stats().droppedIrqs`).
import type { CoreBackend, RawIrqEvent } from '../core/backend.js';
import { Irq, IrqResult, Status, statusText } from '../core/backend.js';
import { ArgumentError } from '../errors.js';
import type { InterruptEvent, InterruptSink, SignalResult } from './types.js';

const CAP_MSI = 0x05;
const CAP_MSIX = 0x11;
/** As the core walks the list (assembly/irq): at most 48 hops, pointers & 0xfc, none below 0x40. */
const MAX_HOPS = 48;
const MSI_ENABLE = 0x0001;
const MSIX_ENABLE = 0x8000;
const MAX_VECTOR = 0x7fffffff;

const hint: Record<string, Partial<Record<number, string>>> = {
  intx: { [Status.RANGE]: 'the function has no interrupt pin' },
  msi: { [Status.NOT_FOUND]: 'the function has no MSI capability', [Status.RANGE]: 'the vector is not below the number of vectors the guest enabled (Multiple Message Enable)' },
  msix: { [Status.NOT_FOUND]: 'the function has no MSI-X capability', [Status.RANGE]: 'the vector is not below the MSI-X table size' },
  notify: { [Status.RANGE]: 'the vector is not one the enabled capability has' },
};

/** Calls the sink for one event; a throw is returned (the caller delivers the rest first). */
function handTo(sink: InterruptSink, e: InterruptEvent): { error: unknown } | undefined {
  try {
    if (e.kind === 'line') sink.line(e.gsi, e.level);
    else sink.message(e.address, e.data, e.bdf);
    return undefined;
  } catch (error) {
    return { error };
  }
}

/**
 * The bus's interrupt service (`bus.interrupts`): what device models call to raise INTx, MSI and
 * MSI-X, INTx routing, and where the embedder plugs in its interrupt controller (a sink, or
 * poll()). The core decides everything (gating, swizzling, shared lines, masking, pending bits);
 * with a sink set, events reach it synchronously, before the call that caused them returns.
 */
export class InterruptService {
  private target: InterruptSink | undefined;
  /** Events taken from the core that no sink was there to take (the sink was unset mid-delivery). */
  private readonly backlog: InterruptEvent[] = [];
  private delivering = false;
  /** MSI and MSI-X capability offsets by slot (0: none), found as the core finds them. */
  private readonly caps = new Map<number, { msi: number; msix: number }>();

  constructor(
    private readonly core: CoreBackend,
    /** The slot of a function of the topology (throws ArgumentError for anything else). */
    private readonly slotOf: (bdf: string) => number,
    /** The function's path, by slot. */
    private readonly bdfOf: (slot: number) => string,
  ) {}

  /** Forgets what it found of a removed function's capabilities (its slot may be reused). */
  forget(slot: number): void {
    this.caps.delete(slot);
  }

  /** The sink now set, if any. */
  get sink(): InterruptSink | undefined {
    return this.target;
  }

  /**
   * Sets (or, with undefined, removes) the sink. Events waiting in the queue are delivered to a
   * new sink at once, oldest first.
   */
  setSink(sink: InterruptSink | undefined): void {
    if (sink !== undefined && (typeof sink !== 'object' || typeof sink.line !== 'function' || typeof sink.message !== 'function')) {
      throw new ArgumentError('interrupts: setSink: the sink needs line(gsi, level) and message(address, data, bdf) methods');
    }
    this.target = sink;
    // Inside a delivery (a sink swapping itself) the running loop hands the rest to the new sink.
    if (sink !== undefined) this.deliver();
  }

  /** A device model drives its function's INTx pin (the function named by path or current BDF). */
  intx(bdf: string, level: boolean): void {
    const slot = this.slot('intx', bdf);
    const status = this.core.intxSet(slot, level ? 1 : 0);
    if (status < 0) this.fail(`intx(${bdf}, ${level})`, 'intx', status);
    this.deliver();
  }

  /** Signals MSI vector `vector` (0 .. enabled vectors - 1). */
  msi(bdf: string, vector: number): SignalResult {
    const slot = this.slot('msi', bdf);
    return this.signal('msi', bdf, vector, () => this.core.msiSignal(slot, vector));
  }

  /** Signals MSI-X vector `vector` (a table entry, 0 .. table size - 1). */
  msix(bdf: string, vector: number): SignalResult {
    const slot = this.slot('msix', bdf);
    return this.signal('msix', bdf, vector, () => this.core.msixSignal(slot, vector));
  }

  /**
   * Signals `vector` the way the guest set the function up: MSI-X if it is enabled, else MSI if
   * that is, else nothing ('disabled': a device model then raises INTx, if it has a pin).
   */
  notify(bdf: string, vector: number): SignalResult {
    const slot = this.slot('notify', bdf);
    const caps = this.capsOf(slot);
    if (caps.msix !== 0 && (this.control(slot, caps.msix) & MSIX_ENABLE) !== 0) {
      return this.signal('notify', bdf, vector, () => this.core.msixSignal(slot, vector));
    }
    if (caps.msi !== 0 && (this.control(slot, caps.msi) & MSI_ENABLE) !== 0) {
      return this.signal('notify', bdf, vector, () => this.core.msiSignal(slot, vector));
    }
    this.checkVector('notify', bdf, vector);
    return 'disabled';
  }

  /**
   * Sets a routing table entry: root-bus `device` (0-31) of `segment` (0-15), `pin` (1 = INTA ..
   * 4 = INTD), to `gsi` (0-1023), or unroutes it (null). Lines already asserted move at once.
   */
  route(segment: number, device: number, pin: number, gsi: number | null): void {
    const what = `route(segment ${segment}, device ${device}, pin ${pin}, gsi ${gsi})`;
    this.checkEntry(what, segment, device, pin);
    if (gsi !== null && !(Number.isInteger(gsi) && gsi >= 0 && gsi < Irq.MAX_GSI)) {
      throw new ArgumentError(`interrupts: ${what}: ${statusText(Status.RANGE)} (gsi 0..${Irq.MAX_GSI - 1}, or null to unroute)`);
    }
    const status = this.core.intxRoute(segment, device, pin, gsi === null ? Irq.GSI_NONE : gsi);
    if (status < 0) throw new ArgumentError(`interrupts: ${what}: ${statusText(status)}`);
    this.deliver();
  }

  /** The GSI a root-bus device's pin is routed to, or null. */
  routeOf(segment: number, device: number, pin: number): number | null {
    this.checkEntry(`routeOf(segment ${segment}, device ${device}, pin ${pin})`, segment, device, pin);
    const gsi = this.core.intxRouteOf(segment, device, pin);
    return gsi === Irq.GSI_NONE ? null : gsi;
  }

  /** How many functions drive `gsi` now (0: the line is low). */
  lineLevel(gsi: number): number {
    if (!Number.isInteger(gsi) || gsi < 0 || gsi >= Irq.MAX_GSI) {
      throw new ArgumentError(`interrupts: lineLevel(${gsi}): ${statusText(Status.RANGE)} (gsi 0..${Irq.MAX_GSI - 1})`);
    }
    return this.core.lineLevel(gsi);
  }

  /** Queued events, oldest first, and empties the queue (with a sink set there are none). */
  poll(): InterruptEvent[] {
    const out = this.backlog.splice(0);
    for (const e of this.core.irqDrain()) out.push(this.event(e));
    return out;
  }

  /**
   * Hands every queued event to the sink, oldest first; returns how many were taken from the
   * queue. Without a sink: 0, and the events stay queued. A sink that throws still gets the
   * remaining events; the first error is then rethrown (the access or call that caused the events
   * has completed). A sink may call back into the bus: events that causes are delivered after the
   * ones already being delivered, by the same loop.
   */
  deliver(): number {
    if (this.target === undefined || this.delivering) return 0;
    this.delivering = true;
    let n = 0;
    let failure: { error: unknown } | undefined;
    try {
      for (;;) {
        failure = this.flushBacklog() ?? failure;
        if (this.target === undefined) break;
        const raw = this.core.irqDrain();
        if (raw.length === 0) break;
        n += raw.length;
        for (const e of raw) failure = this.give(this.event(e)) ?? failure;
      }
    } finally {
      this.delivering = false;
    }
    if (failure) throw failure.error;
    return n;
  }

  /** Gives one event to the sink set now, after any kept back; keeps it if there is none. */
  private give(e: InterruptEvent): { error: unknown } | undefined {
    let failure = this.backlog.length > 0 ? this.flushBacklog() : undefined;
    const sink = this.target;
    if (sink === undefined) {
      this.backlog.push(e);
      return failure;
    }
    const thrown = handTo(sink, e);
    return failure ?? thrown; // the first error wins
  }

  /** Events kept back while no sink was set, to the sink set now (oldest first). */
  private flushBacklog(): { error: unknown } | undefined {
    let failure: { error: unknown } | undefined;
    while (this.backlog.length > 0) {
      const sink = this.target;
      if (sink === undefined) break;
      const thrown = handTo(sink, this.backlog.shift()!);
      failure ??= thrown;
    }
    return failure;
  }

  private event(e: RawIrqEvent): InterruptEvent {
    if (e.kind === Irq.KIND_LINE) return { kind: 'line', gsi: e.gsi, level: e.level !== 0 };
    return {
      kind: 'message', bdf: this.bdfOf(e.slot),
      address: (BigInt(e.addressHigh >>> 0) << 32n) | BigInt(e.address >>> 0), data: e.data >>> 0,
    };
  }

  private signal(call: 'msi' | 'msix' | 'notify', bdf: string, vector: number, run: () => number): SignalResult {
    this.checkVector(call, bdf, vector);
    const r = run();
    this.deliver();
    if (r === IrqResult.DELIVERED) return 'delivered';
    if (r === IrqResult.PENDING) return 'pending';
    if (r === Status.DISABLED) return 'disabled';
    return this.fail(`${call}(${bdf}, vector ${vector})`, call, r);
  }

  /** A vector the core takes as i32 without wrapping (it range-checks the rest). */
  private checkVector(call: string, bdf: string, vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > MAX_VECTOR) {
      throw new ArgumentError(`interrupts: ${call}(${bdf}, vector ${String(vector)}): ${statusText(Status.RANGE)} (a vector is a non-negative integer)`);
    }
  }

  private checkEntry(what: string, segment: number, device: number, pin: number): void {
    const ok = (v: number, max: number, min = 0) => Number.isInteger(v) && v >= min && v <= max;
    if (!ok(segment, 15) || !ok(device, 31) || !ok(pin, 4, 1)) {
      throw new ArgumentError(`interrupts: ${what}: ${statusText(Status.RANGE)} (segment 0..15, device 0..31, pin 1..4)`);
    }
  }

  private fail(what: string, call: string, status: number): never {
    const why = hint[call]?.[status];
    throw new ArgumentError(`interrupts: ${what}: ${statusText(status)}${why ? ` (${why})` : ''}`);
  }

  private slot(call: string, bdf: string): number {
    try {
      return this.slotOf(bdf);
    } catch (e) {
      throw new ArgumentError(`interrupts: ${call}: ${(e as Error).message}`);
    }
  }

  private capsOf(slot: number): { msi: number; msix: number } {
    let c = this.caps.get(slot);
    if (c === undefined) {
      c = { msi: this.findCap(slot, CAP_MSI), msix: this.findCap(slot, CAP_MSIX) };
      this.caps.set(slot, c);
    }
    return c;
  }

  /** The first capability with `id`, walking from 0x34 as the core does at irqAttach (pointers are read-only). */
  private findCap(slot: number, id: number): number {
    let p = this.core.planeByte(slot, 0, 0x34) & 0xfc;
    for (let hop = 0; hop < MAX_HOPS && p >= 0x40; hop++) {
      if (this.core.planeByte(slot, 0, p) === id) return p;
      p = this.core.planeByte(slot, 0, p + 1) & 0xfc;
    }
    return 0;
  }

  /** Message Control of the capability at `cap`. */
  private control(slot: number, cap: number): number {
    return this.core.planeByte(slot, 0, cap + 2) | (this.core.planeByte(slot, 0, cap + 3) << 8);
  }
}
