/**
 * The numeric interface both cores implement: the AssemblyScript core behind `bindings/`, and
 * its pure-TypeScript twin in `./ts/`. Everything crossing it is a number; every call is safe
 * with any argument a guest can produce (bad values read all ones or are dropped; nothing
 * throws). Status codes are the `Status` values below.
 */
import type { DmaCore } from './ts/dma/index.js';
import type { CoreState } from './state.js';

/**
 * A core: the function slots and config planes, the trap dispatcher, interrupts and DMA of one bus,
 * behind numbers only. `TsCore` and the Wasm core (`loadWasmCore`) implement it; `Bus` drives one
 * (`bus.core`).
 */
export interface CoreBackend {
  /** 'wasm' or 'ts'. */
  readonly kind: BackendKind;
  /** The DMA address translator (guest memory map, IOMMU domains, IOTLB, faults). */
  readonly dma: DmaCore;
  /** Adds a function with a zeroed config space of 256 or 4096 bytes; returns its slot or a negative Status. */
  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number;
  /**
   * Adds a function on the secondary bus of bridge slot `bridge` (planes loaded, header type 1);
   * returns its slot or NOT_FOUND (no such slot), RANGE (not a bridge; dev/fn/size), EXISTS, FULL.
   */
  addFunctionBelow(bridge: number, dev: number, fn: number, size: number): number;
  /** The slot a config cycle to seg:bus:dev.fn reaches now (through the bridges' bus numbers), or -1. */
  slotAt(seg: number, bus: number, dev: number, fn: number): number;
  /** seg<<16 | bus<<8 | dev<<3 | fn where config cycles reach the slot now; -1 if none does or no slot. */
  slotAddress(slot: number): number;
  /** The bridge slot a function sits below; -1 on a root bus or for no slot. */
  slotParent(slot: number): number;
  /** Removes a function by slot; BUSY while functions sit below it (a bridge). */
  removeFunction(slot: number): number;
  /**
   * Replaces a slot's three planes: current config bytes, write mask, write-1-to-clear mask.
   * Each array is at most 4096 bytes; shorter arrays leave the rest zero.
   */
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number;
  /** One raw plane byte (0 config, 1 wmask, 2 w1c), for tests and snapshots. */
  planeByte(slot: number, plane: number, offset: number): number;
  /**
   * A config read of 1, 2 or 4 bytes at register `reg` of seg:bus:dev.fn, routed as a config cycle
   * is now; all ones when no function answers.
   */
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number;
  /** Returns the number of interrupt events queued after the write (as mmioWrite and ioWrite do). */
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): number;
  /**
   * A device-side change of slot `slot`'s config bytes (device models, hotplug, AER, a reset
   * restoring power-on values): the `size` bytes at `offset` become exactly `value`, with no write
   * mask and no write-1-to-clear, and then the dword's mechanisms follow as after a guest write
   * (BAR mapper, bridge routing and windows, MSI/MSI-X/INTx, power management; the PM hook keeps
   * even an unsupported PowerState, that rule being for software's writes). Layout read when
   * planes are loaded or attached (header type, capability positions, BAR kinds and sizes) is not
   * re-read. Returns the number of interrupt events queued (>= 0, as configWrite), or NOT_FOUND
   * (no such slot) or RANGE (size not 1, 2 or 4, a dword-crossing access, an offset beyond the
   * function's config space), changing nothing. Never throws.
   */
  configPoke(slot: number, offset: number, size: number, value: number): number;
  /** Maps segment `seg`'s ECAM window at `base` (1 MiB aligned) for buses busStart..busEnd. */
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number;
  /** Low 32 bits of an MMIO read; the high half of an 8-byte read is in mmioReadHigh(). */
  mmioRead(addr: number, size: number): number;
  /** The high 32 bits of the last 8-byte MMIO read. */
  mmioReadHigh(): number;
  /**
   * An MMIO write of 1, 2, 4 or 8 bytes (`high`: bits 63:32 of an 8-byte value); returns the number
   * of interrupt events queued.
   */
  mmioWrite(addr: number, size: number, value: number, high: number): number;
  /** A port-IO read of 1, 2 or 4 bytes (0xCF8/0xCFC reach config space); all ones on a master abort. */
  ioRead(port: number, size: number): number;
  /** A port-IO write of 1, 2 or 4 bytes; returns the number of interrupt events queued. */
  ioWrite(port: number, size: number, value: number): number;

  // --- The trap dispatcher (regions, BAR mappings, handlers, batch replay) ---
  /** Reads a function's BAR layout from its planes, gives its BARs region ids and maps what is enabled. */
  barAttach(slot: number): number;
  /** A handler region over part of a BAR (bar 6 = ROM); returns its region id or a negative Status. */
  barHandler(slot: number, bar: number, offset: number, length: number, kind: number, datum: number): number;
  /** A fixed embedder region; returns its id or a negative Status. */
  addRegion(space: number, base: number, size: number, priority: number, kind: number, datum: number): number;
  /** Removes a fixed embedder region (regfile, doorbell or host): OK, NOT_FOUND, or RANGE for BAR regions. */
  removeRegion(id: number): number;
  /** A register file from initial values and a write mask (first `size` bytes); its handle or 0xffffffff. */
  regfileCreate(size: number, values: Uint8Array, mask: Uint8Array): number;
  /** A doorbell (counts writes and queues a `RawEvent` for each); its handle or 0xffffffff when all 4096 are taken. */
  doorbellCreate(): number;
  /** Takes back the newest register file, made for a region the core then refused: OK, or NOT_FOUND for any other handle. */
  regfileDrop(handle: number): number;
  /** Takes back the newest doorbell, made for a region the core then refused: OK, or NOT_FOUND for any other. */
  doorbellDrop(index: number): number;
  /** A function's BAR as the core tracks it (bar 6 = ROM): kind 0 none, 1 io, 2 mem32, 3 mem64, 4 rom, 5 upper half. */
  barInfo(slot: number, bar: number): { kind: number; size: number; mapped: boolean; base: number; region: number };
  /** What a region id is now (kind 0 = free). */
  regionInfo(id: number): RegionInfo;
  /** Global counters (CounterIndex). */
  counterValue(counter: number): number;
  /** Counts an access the embedder refused before it reached the core. */
  countInvalid(): void;
  /** Every queued doorbell write, oldest first (the queue is emptied). */
  eventsDrain(): RawEvent[];
  /** Every queued BAR mapping change, oldest first (the queue is emptied). */
  effectsDrain(): RawEffect[];
  // --- Interrupts (INTx lines, MSI, MSI-X; /tmp spec: assembly/irq/DESIGN.md) ---
  /** Reads the function's pin and MSI/MSI-X capabilities, maps the MSI-X table and PBA; after barAttach. */
  irqAttach(slot: number): number;
  /** A device model drives its INTx pin (level !== 0 asserts). */
  intxSet(slot: number, level: number): number;
  /** Routing table entry: root-bus device (0-31) and pin (1-4) of a segment to a GSI (GSI_NONE unroutes). */
  intxRoute(seg: number, device: number, pin: number, gsi: number): number;
  /** The GSI a root-bus device and pin (1-4) of a segment is routed to; GSI_NONE if unrouted or out of range. */
  intxRouteOf(seg: number, device: number, pin: number): number;
  /** Signals MSI / MSI-X vector k: 0 delivered, IrqResult.PENDING, or a negative Status. */
  msiSignal(slot: number, vector: number): number;
  /** Signals MSI-X vector `vector`: 0 delivered, IrqResult.PENDING (masked), or a negative Status. */
  msixSignal(slot: number, vector: number): number;
  /** A line's reference count (0 = deasserted). */
  lineLevel(gsi: number): number;
  /** How many interrupt events are queued for irqDrain(). */
  irqQueued(): number;
  /** Every queued interrupt event, oldest first (the queue is emptied). */
  irqDrain(): RawIrqEvent[];
  // --- State save and load (src/core/state.ts; assembly/state/DESIGN.md) ---
  /** Every piece of core state, as plain data (numbers, arrays, typed arrays): see src/core/state.ts. */
  saveState(): CoreState;
  /**
   * Loads a state saved from either backend into this core, which must have been built the same way
   * (same functions in the same slots, same regions, regfiles, doorbells created in the same order —
   * a fresh bus of the same topology). Checks everything first and returns a negative Status without
   * changing anything when the state does not fit (wrong shape, other functions/regions, values out
   * of range); 0 when loaded. The embedder's own RAM regions must have been added already (their
   * bytes are the embedder's to restore); internal RAM is recreated with its contents.
   */
  loadState(state: CoreState): number;
  /** Called for every access to a HOST region; set by the bus. */
  hostAccess: HostAccess;
  /** A fresh view of the batch record area (BATCH_CAPACITY records of 24 bytes). */
  batchRecords(): Uint8Array;
  /** Runs `count` records; returns the number of reads whose expected value differed. */
  replayBatch(count: number): number;
  /** Fresh views of the last batch's results (8 bytes per record), statuses, and mismatch indices. */
  batchResults(count: number, mismatches: number): { results: Uint8Array; status: Uint8Array; mismatches: Uint32Array };
}

/** Region kinds, the same numbers as assembly/dispatch/regions.ts. */
export const RegionKind = {
  FREE: 0, ECAM: 1, CF8: 2, CFC: 3, BAR: 4, REGFILE: 5, DOORBELL: 6, HOST: 7, MSIX_TABLE: 8, MSIX_PBA: 9,
} as const;

/** Global counters, the same numbers as assembly/dispatch/regions.ts. */
export const CounterIndex = {
  ABORT_MMIO_READ: 0, ABORT_MMIO_WRITE: 1, ABORT_IO_READ: 2, ABORT_IO_WRITE: 3,
  INVALID: 4, HOST_ERROR: 5, DROPPED_EVENTS: 6, DROPPED_EFFECTS: 7, DROPPED_IRQS: 8,
} as const;

/** Interrupt constants, the same numbers as assembly/irq/layout.ts. */
export const Irq = {
  MAX_GSI: 1024,
  GSI_NONE: 0xffff,
  CAPACITY: 4096,
  RECORD_BYTES: 24,
  HOOK_MSI: 3,
  HOOK_MSIX: 4,
  KIND_LINE: 1,
  KIND_MESSAGE: 2,
} as const;

/** A positive signal result: the vector was masked and is now pending. */
export const IrqResult = { DELIVERED: 0, PENDING: 1 } as const;

/**
 * An interrupt event: a line changing level (kind 1: gsi, level; slot -1) or a message (kind 2:
 * slot, address low/high, data).
 */
export interface RawIrqEvent { kind: number; slot: number; gsi: number; level: number; address: number; addressHigh: number; data: number }

export const BATCH_CAPACITY = 16384;
export const RECORD_BYTES = 24;

/** A region as `regionInfo` reports it: kind (`RegionKind`), owner, placement and access counts. */
export interface RegionInfo {
  kind: number;
  /** Function slot for BAR regions, else -1. */
  slot: number;
  bar: number;
  /** 0 and 0 when not mapped. */
  base: number;
  size: number;
  /** For regions of a BAR (whole or handler): their length, mapped or not; else 0. */
  length: number;
  reads: number;
  writes: number;
}

/** A doorbell write: region id, offset in the region, size, value halves. */
export interface RawEvent { region: number; size: number; offset: number; lo: number; hi: number }

/** A BAR mapping change (kind: 1 io, 2 mem32, 3 mem64, 4 rom). */
export interface RawEffect {
  slot: number; bar: number; kind: number;
  oldMapped: boolean; oldBase: number; newMapped: boolean; newBase: number; size: number;
}

/**
 * Serves one access to a HOST region: `handle` names the model; for reads it sets out.lo/out.hi.
 * Throwing means the model failed (the access completes as a master abort).
 */
export type HostAccess = (handle: number, write: boolean, offset: number, size: number, lo: number, hi: number, out: { lo: number; hi: number }) => void;

/** Which core a bus runs on: 'wasm' (the AssemblyScript core) or 'ts' (its pure-TypeScript twin). */
export type BackendKind = 'wasm' | 'ts';
export type { DmaCore, CoreState };

/** Status codes shared by both cores (assembly/config/layout.ts holds the same numbers). */
export const Status = {
  OK: 0,
  RANGE: -1,
  EXISTS: -2,
  FULL: -3,
  NOT_FOUND: -4,
  /** A domain still has functions attached; a bridge still has functions below it. */
  BUSY: -5,
  /** MSI or MSI-X signalled while the capability is not enabled. */
  DISABLED: -6,
  /**
   * loadState: the state was saved from a core built otherwise (other functions, regions,
   * register files, doorbells, interrupt attachments or embedder RAM).
   */
  MISMATCH: -7,
} as const;

/** Core limits (assembly/config/layout.ts holds the same numbers). */
export const Limits = {
  segments: 16,
  functions: 4096,
  planeSize: 4096,
  conventionalSize: 256,
} as const;

/** All ones for an access of `size` bytes (1, 2, 4); other sizes read a full dword of ones. */
export function onesFor(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/** Human text for a status code, for error messages. */
export function statusText(status: number): string {
  switch (status) {
    case Status.OK: return 'ok';
    case Status.RANGE: return 'value out of range';
    case Status.EXISTS: return 'already exists';
    case Status.FULL: return 'table full';
    case Status.NOT_FOUND: return 'not found';
    case Status.BUSY: return 'in use';
    case Status.DISABLED: return 'not enabled';
    case Status.MISMATCH: return 'saved from a core built otherwise (other functions, regions, handlers or embedder RAM)';
    default: return `status ${status}`;
  }
}
