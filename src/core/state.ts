// The whole state of a core as plain data: what `CoreBackend.saveState()` returns and
// `loadState()` takes, the same from both cores (numbers, booleans, arrays, Uint8Array, null),
// so a state saved on one backend loads into the other. Layout and rules: assembly/state/DESIGN.md.
//
// What each core keeps, module by module, and what becomes of it here:
//
// config store (assembly/config/store.ts, ts/config-store.ts)
//   planes config / wmask / w1cmask per slot ........ saved (functions[].config ...)
//   slot, segment, root bus or parent bridge, dev.fn, config size .... compared: the loading core
//                                                      must hold the same functions (MISMATCH)
//   hook plane (one byte per dword) .................. build-time (barAttach, irqAttach, loadPlanes):
//                                                      the same in a core built the same way; kept
//   bus routing (busNodes, nodeBus) .................. derived: re-routed from the loaded planes
//   node tables and counts, slotLimit ................ build-time / a walk bound
// dispatch (assembly/dispatch/, ts/)
//   CONFIG_ADDRESS latch of 0xCF8 .................... saved (dispatch.configAddress)
//   high half of the last 8-byte MMIO read ........... saved (dispatch.mmioReadHigh)
//   global counters .................................. saved (dispatch.counters)
//   region records (kind, handler, BAR, offset, length, handler chain) .... compared
//   region reads / writes ............................ saved (dispatch.regions[].reads ...)
//   region mappings .................................. BAR regions: from dispatch.bars; ECAM, ports
//                                                      and embedder regions: compared
//   region table (radix tables, rank lists, free lists) .. a canonical function of the mapping
//                                                      set (REGION-TABLE.md): rebuilt by the maps
//   region table last-lookup cache ................... a cache (cleared by every rebuild)
//   BAR table: kind, size, region id ................. compared
//   BAR table: mapped, base, staged lower dword ...... saved (dispatch.bars): not derived from
//                                                      config space, since a 64-bit BAR whose lower
//                                                      dword was written alone stays where it was
//   register files: values ........................... saved; size and write mask compared
//   doorbells: write counts .......................... saved; how many compared
//   doorbell event ring, BAR effect ring ............. saved, oldest first (dispatch.events/effects)
//   ECAM windows ..................................... build-time (their regions are compared)
//   host mailbox, batch records/results, last access status .. scratch of one call
// interrupts (assembly/irq/, ts/irq.ts)
//   per function: attached, pin, MSI / MSI-X capability offsets, table size ... compared
//   per function: level the device model drives, the line it holds .. saved
//   MSI-X table and PBA (core memory, not config space) .. saved
//   MSI mask and pending bits ........................ in the config plane (saved with it)
//   line reference counts ............................ derived: recounted from the held lines
//   routing table (intxRoute) ........................ saved (interrupts.routes, routed entries)
//   event ring ....................................... saved, oldest first
// DMA (assembly/dma/, ts/dma/)
//   RAM regions: index, base, size, internal ......... saved; internal contents saved; external
//                                                      regions compared (the embedder holds the
//                                                      bytes and re-adds them before loading)
//   RAM last-hit index ............................... a cache
//   internal blocks kept for reuse, page-table free list, tables obtained .. allocation detail
//   domains: ids, types .............................. saved
//   page tables ...................................... saved as leaf runs with their page size (a
//                                                      split 2 MiB page stays 4 KiB pages); the
//                                                      tables are a function of the leaves
//   attachments slot -> domain ....................... saved; per-domain counts derived
//   IOTLB entries .................................... saved (hits and misses continue the same)
//   fault log ring, counters ......................... saved
//   transfer buffer, SG list, segments, fault drain area .. scratch of one call: the embedder
//                                                      fills them before a call and reads them after
import type { RawEffect, RawEvent, RawIrqEvent } from './backend.js';

/** The layout version both cores write; loadState refuses any other (RANGE). */
export const CORE_STATE_VERSION = 1;

/** Everything a core holds that later behaviour depends on. */
export interface CoreState {
  /** CORE_STATE_VERSION of the core that saved it. */
  version: number;
  /** Every function slot in use, by ascending slot. */
  functions: FunctionState[];
  dispatch: DispatchState;
  interrupts: InterruptState;
  dma: DmaState;
}

/** One function slot: where it sits (compared on load) and its three config planes (loaded). */
export interface FunctionState {
  slot: number;
  seg: number;
  /** The root bus it sits on, or -1 when it sits below a bridge. */
  bus: number;
  /** The bridge slot it sits below, or -1 on a root bus. */
  parent: number;
  dev: number;
  fn: number;
  /** Config space size: 256 or 4096. */
  size: number;
  /** Whether barAttach has run for it. */
  barsAttached: boolean;
  /** The register bytes (4096, whatever the size). */
  config: Uint8Array;
  /** 1 = the bit takes the written value (4096). */
  wmask: Uint8Array;
  /** 1 = writing 1 clears the bit (4096). */
  w1cmask: Uint8Array;
}

/** CounterIndex, by name. */
export interface DispatchCounters {
  abortMmioRead: number;
  abortMmioWrite: number;
  abortIoRead: number;
  abortIoWrite: number;
  invalid: number;
  hostErrors: number;
  droppedEvents: number;
  droppedEffects: number;
  droppedIrqs: number;
}

/** The trap dispatcher: latches, counters, BAR mappings, regions and their handlers' state. */
export interface DispatchState {
  /** The CONFIG_ADDRESS latch of port 0xCF8. */
  configAddress: number;
  /** What mmioReadHigh() answers: the high half of the last 8-byte MMIO read. */
  mmioReadHigh: number;
  counters: DispatchCounters;
  /** Every implemented BAR (kind not 0) of every attached function, by slot then BAR. */
  bars: BarState[];
  /** Every region id in use, ascending. */
  regions: RegionState[];
  /** Register files by handle. */
  regfiles: RegfileState[];
  /** Write counts of the doorbells, by handle. */
  doorbells: number[];
  /** Queued doorbell events, oldest first. */
  events: RawEvent[];
  /** Queued BAR mapping changes, oldest first. */
  effects: RawEffect[];
}

/** One BAR (bar 6 = the ROM) of an attached function, as the BAR mapper tracks it. */
export interface BarState {
  slot: number;
  bar: number;
  /** 1 io, 2 mem32, 3 mem64, 4 rom, 5 upper half of the mem64 below. */
  kind: number;
  size: number;
  /** The whole-BAR region id (0 for an upper half). */
  region: number;
  /** Handler region ids over parts of the BAR, in registration order. */
  handlers: number[];
  mapped: boolean;
  /** Where it is mapped (0 when not). */
  base: number;
  /** A 64-bit BAR whose lower dword was written and awaits the upper one. */
  staged: boolean;
}

/** One region id in use. */
export interface RegionState {
  id: number;
  /** RegionKind. */
  kind: number;
  /** Handler datum (regfile or doorbell handle, host handle, ECAM window, slot). */
  datum: number;
  /** The BAR's function for BAR regions and their handlers, else -1. */
  slot: number;
  bar: number;
  /** Offset of a handler region inside its BAR. */
  offset: number;
  /** Length of a handler region (or whole BAR); 0 for fixed regions. */
  length: number;
  reads: number;
  writes: number;
  /** The current mapping (space 0 MMIO, 1 IO); all 0 when not mapped. */
  mapped: boolean;
  space: number;
  base: number;
  size: number;
  priority: number;
}

/** A register file: its bytes (loaded) and write mask (compared). */
export interface RegfileState {
  values: Uint8Array;
  mask: Uint8Array;
}

/** Interrupts: per-function state, the routing table and the event queue. */
export interface InterruptState {
  /** Every function irqAttach has run for, by ascending slot. */
  functions: IrqFunctionState[];
  /** Routed entries of the INTx routing table (GSI_NONE entries left out), by seg, device, pin. */
  routes: IntxRouteState[];
  /** Queued interrupt events, oldest first. */
  events: RawIrqEvent[];
}

/** One function irqAttach has run for: what it was attached with (compared) and its interrupt state. */
export interface IrqFunctionState {
  slot: number;
  /** Interrupt Pin (1-4, 0 none). */
  pin: number;
  /** The level the device model drives. */
  asserted: boolean;
  /** The GSI the function holds a reference on, or GSI_NONE (0xffff). */
  line: number;
  /** Config offsets of the MSI and MSI-X capabilities (0 none). */
  msiCap: number;
  msixCap: number;
  /** MSI-X table, 16 bytes per entry (empty without MSI-X). */
  msixTable: Uint8Array;
  /** MSI-X Pending Bit Array, whole qwords. */
  msixPba: Uint8Array;
}

/** One entry of the INTx routing table: a root-bus device's pin (1-4) of a segment to a GSI. */
export interface IntxRouteState {
  seg: number;
  device: number;
  pin: number;
  gsi: number;
}

/** DMA counter index (dmaCounter), by name. */
export interface DmaCounters {
  iotlbHits: number;
  iotlbMisses: number;
  faults: number;
  faultsDropped: number;
  transfers: number;
  bytes: number;
}

/** The DMA translator: guest memory map, domains and their mappings, attachments, IOTLB, faults. */
export interface DmaState {
  counters: DmaCounters;
  /** RAM regions in use, by ascending index. */
  ram: RamState[];
  /** Domains 1-255 in use, by ascending id (domain 0, the built-in identity domain, always exists). */
  domains: DomainState[];
  /** Slots attached to a domain other than 0, by ascending slot. */
  attachments: AttachmentState[];
  /** Valid IOTLB entries, by ascending entry index. */
  iotlb: IotlbEntryState[];
  /** Queued fault records, oldest first. */
  faults: FaultState[];
}

/** A DMA fault record in the log (the fields dmaFaultsDrain reports). */
export interface FaultState {
  slot: number;
  /** The first byte that could not be accessed. */
  iova: number;
  /** What was left of its element from there. */
  length: number;
  /** 0 the device reads guest memory, 1 it writes. */
  dir: number;
  /** 1 bus master off, 2 blocked, 3 unmapped, 4 permission, 5 outside RAM. */
  reason: number;
}

/** One RAM region of the guest memory map. */
export interface RamState {
  index: number;
  base: number;
  size: number;
  internal: boolean;
  /** The contents of an internal region (size bytes); null for the embedder's own RAM. */
  data: Uint8Array | null;
}

/** One IOMMU domain (1-255) and, when translated, its mappings. */
export interface DomainState {
  id: number;
  /** 0 identity, 1 blocked, 2 translated. */
  type: number;
  /** A translated domain's leaves in IOVA order, merged while contiguous (same page size and perms). */
  mappings: MappingState[];
}

/** A run of leaves of one page size and permission, contiguous in IOVA and guest-physical address. */
export interface MappingState {
  iova: number;
  gpa: number;
  size: number;
  /** 1 read, 2 write, 3 both. */
  perms: number;
  /** The leaf size: 4096 or 2097152. */
  pageSize: number;
}

/** A function attached to a domain other than the built-in identity domain 0. */
export interface AttachmentState {
  slot: number;
  domain: number;
}

/** One valid IOTLB entry (the entry index follows from domain, page and large). */
export interface IotlbEntryState {
  domain: number;
  /** Page number: iova >> 12 (4 KiB) or iova >> 21 (large). */
  page: number;
  large: boolean;
  /** The part of the page, as page offsets [spanLo, spanHi), that lies in RAM region `region`. */
  spanLo: number;
  spanHi: number;
  region: number;
  /** The region offset of page offset spanLo. */
  regionOffset: number;
  perms: number;
}

// ---- The schema: field order and types, shared by the shape check and the Wasm image ----------

/**
 * A field's type: a number, a boolean, bytes, RAM bytes (bytes or null whose contents travel
 * outside the Wasm image), a list of one type, or a record of named fields (in this order).
 */
export type Field = 'num' | 'bool' | 'bytes' | 'ram' | { list: Field } | { record: Schema };
/** A record's fields, in order: name and type. */
export type Schema = readonly (readonly [string, Field])[];

const rec = (schema: Schema): Field => ({ record: schema });
const list = (of: Field): Field => ({ list: of });

const EVENT: Schema = [['region', 'num'], ['size', 'num'], ['offset', 'num'], ['lo', 'num'], ['hi', 'num']];
const EFFECT: Schema = [
  ['slot', 'num'], ['bar', 'num'], ['kind', 'num'], ['oldMapped', 'bool'], ['oldBase', 'num'],
  ['newMapped', 'bool'], ['newBase', 'num'], ['size', 'num'],
];
const IRQ_EVENT: Schema = [
  ['kind', 'num'], ['slot', 'num'], ['gsi', 'num'], ['level', 'num'], ['address', 'num'], ['addressHigh', 'num'], ['data', 'num'],
];

/** The CoreState layout, field by field in order (assembly/state/ reads and writes this order). */
export const CORE_STATE_SCHEMA: Schema = [
  ['version', 'num'],
  ['functions', list(rec([
    ['slot', 'num'], ['seg', 'num'], ['bus', 'num'], ['parent', 'num'], ['dev', 'num'], ['fn', 'num'], ['size', 'num'],
    ['barsAttached', 'bool'], ['config', 'bytes'], ['wmask', 'bytes'], ['w1cmask', 'bytes'],
  ]))],
  ['dispatch', rec([
    ['configAddress', 'num'],
    ['mmioReadHigh', 'num'],
    ['counters', rec([
      ['abortMmioRead', 'num'], ['abortMmioWrite', 'num'], ['abortIoRead', 'num'], ['abortIoWrite', 'num'],
      ['invalid', 'num'], ['hostErrors', 'num'], ['droppedEvents', 'num'], ['droppedEffects', 'num'], ['droppedIrqs', 'num'],
    ])],
    ['bars', list(rec([
      ['slot', 'num'], ['bar', 'num'], ['kind', 'num'], ['size', 'num'], ['region', 'num'], ['handlers', list('num')],
      ['mapped', 'bool'], ['base', 'num'], ['staged', 'bool'],
    ]))],
    ['regions', list(rec([
      ['id', 'num'], ['kind', 'num'], ['datum', 'num'], ['slot', 'num'], ['bar', 'num'], ['offset', 'num'], ['length', 'num'],
      ['reads', 'num'], ['writes', 'num'], ['mapped', 'bool'], ['space', 'num'], ['base', 'num'], ['size', 'num'], ['priority', 'num'],
    ]))],
    ['regfiles', list(rec([['values', 'bytes'], ['mask', 'bytes']]))],
    ['doorbells', list('num')],
    ['events', list(rec(EVENT))],
    ['effects', list(rec(EFFECT))],
  ])],
  ['interrupts', rec([
    ['functions', list(rec([
      ['slot', 'num'], ['pin', 'num'], ['asserted', 'bool'], ['line', 'num'], ['msiCap', 'num'], ['msixCap', 'num'],
      ['msixTable', 'bytes'], ['msixPba', 'bytes'],
    ]))],
    ['routes', list(rec([['seg', 'num'], ['device', 'num'], ['pin', 'num'], ['gsi', 'num']]))],
    ['events', list(rec(IRQ_EVENT))],
  ])],
  ['dma', rec([
    ['counters', rec([
      ['iotlbHits', 'num'], ['iotlbMisses', 'num'], ['faults', 'num'], ['faultsDropped', 'num'], ['transfers', 'num'], ['bytes', 'num'],
    ])],
    ['ram', list(rec([['index', 'num'], ['base', 'num'], ['size', 'num'], ['internal', 'bool'], ['data', 'ram']]))],
    ['domains', list(rec([
      ['id', 'num'], ['type', 'num'],
      ['mappings', list(rec([['iova', 'num'], ['gpa', 'num'], ['size', 'num'], ['perms', 'num'], ['pageSize', 'num']]))],
    ]))],
    ['attachments', list(rec([['slot', 'num'], ['domain', 'num']]))],
    ['iotlb', list(rec([
      ['domain', 'num'], ['page', 'num'], ['large', 'bool'], ['spanLo', 'num'], ['spanHi', 'num'], ['region', 'num'],
      ['regionOffset', 'num'], ['perms', 'num'],
    ]))],
    ['faults', list(rec([['slot', 'num'], ['iova', 'num'], ['length', 'num'], ['dir', 'num'], ['reason', 'num']]))],
  ])],
];

/** Lists longer than this are refused by the shape check (the largest real one, page-table runs, is bounded by 2^23 leaves). */
const MAX_LIST = 1 << 24;

function fieldFits(f: Field, v: unknown): boolean {
  if (f === 'num') return typeof v === 'number';
  if (f === 'bool') return typeof v === 'boolean';
  if (f === 'bytes') return v instanceof Uint8Array;
  if (f === 'ram') return v === null || v instanceof Uint8Array;
  if ('list' in f) {
    if (!Array.isArray(v) || v.length > MAX_LIST) return false;
    for (const item of v) if (!fieldFits(f.list, item)) return false;
    return true;
  }
  return recordFits(f.record, v);
}

function recordFits(schema: Schema, v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  for (const [name, f] of schema) if (!fieldFits(f, o[name])) return false;
  return true;
}

/**
 * Whether `state` has the CoreState shape: every field of the schema present with its type
 * (numbers, booleans, Uint8Array, lists). Values are the cores' to check. Never throws.
 */
export function stateShapeFits(state: unknown): state is CoreState {
  try {
    return recordFits(CORE_STATE_SCHEMA, state);
  } catch {
    return false; // a getter or proxy that throws: not plain data
  }
}
