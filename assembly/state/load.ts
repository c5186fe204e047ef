// stateLoad: takes a state image (image.ts, the order of CORE_STATE_SCHEMA in src/core/state.ts)
// into this core. One walker reads the image twice: the first pass checks every value and
// compares what must match this core (nothing changes), the prepare step allocates what the state
// needs (RAM blocks, page tables), and only then the second pass applies it. So a state that does
// not fit is refused with nothing changed. DESIGN.md here lists the rules.
import { MAX_FUNCTIONS, MAX_SEGMENTS, OK, ERR_RANGE, ERR_FULL, ERR_MISMATCH } from "../config/layout";
import { sizeOf, blockOf, slotHomeOf, ROOT_NODE, route } from "../config/store";
import { setConfigAddress } from "../dispatch/config-mechanisms";
import { setReadHigh } from "../dispatch/access";
import {
  COUNTERS, setCounter, setRegionCounts, regionKind, datumOf, slotOf, barOf, subOffsetOf, lengthOf, nextOf, KIND_FREE, KIND_BAR,
  PRIORITY_BAR, PRIORITY_BAR_HANDLER,
} from "../dispatch/regions";
import { regionInfoOf, regionBase, regionSize, MAX_REGION_ID, MMIO_LIMIT } from "../dispatch/region-table";
import {
  barAttached, barKind, barSize, barRegion, barFirstHandler, barRestore, BAR_IO, BAR_MEM32, BAR_MEM64, BAR_ROM, BAR_UPPER,
} from "../dispatch/bar-mapper";
import { regfileCount, regfileAddress } from "../dispatch/regfile";
import { doorbellTotal, doorbellSetCount, eventAt, eventsRestore, EVENT_CAPACITY } from "../dispatch/doorbell";
import { effectAt, effectsRestore, EFFECT_CAPACITY } from "../dispatch/effects";
import { stateOf, irqAttached } from "../irq/state";
import { intxRestore } from "../irq/intx";
import { msixTableAddress, msixTableSize, pbaBytes } from "../irq/msix";
import { irqEventAt, irqEventsRestore } from "../irq/events";
import { GSI_NONE, MAX_GSI, IRQ_CAPACITY, KIND_LINE, KIND_MESSAGE, MSIX_MAX } from "../irq/layout";
import {
  COUNTERS as DMA_COUNTERS, MAX_RAM, MAX_DOMAINS, IOTLB_ENTRIES, LARGE_SIZE, PAGE_SIZE, GPA_LIMIT, IOVA_LIMIT,
  MAX_INTERNAL_RAM, MAX_TABLES, FAULT_CAPACITY, DOMAIN_TRANSLATED,
} from "../dma/layout";
import { counterSet, faultAt, faultsRestore } from "../dma/faults";
import { ramUsed, ramBaseOf, ramEndOf, ramPtrOf, ramReset, ramReserve, ramRestore } from "../dma/ram";
import { rootOf, domainsReset, domainRestore, setDomain } from "../dma/domains";
import { mapLeaves, tablesReserve } from "../dma/page-table";
import { iotlbFlush, iotlbFill, iotlbIndexOf } from "../dma/iotlb";
import { coreAlloc } from "../alloc";
import {
  imageAddress, imageCapacity, readBegin, readDone, status, fail, failed, num, int, u64v, u32v, boolv, count, blob, blobLength,
  ramLength,
} from "./image";
import { CORE_STATE_VERSION } from "./save";

const PLANE: usize = 4096;
const BARS: usize = 7;
const ROUTES: usize = <usize>MAX_SEGMENTS * 128;

/** Second pass: apply what the first one checked. */
let applying: bool = false;

// Scratch of the checking pass (allocated on the first load): what the state says, for the
// checks of later sections. Per (slot, bar): mapped u8 and base u64. Per RAM index: used u8,
// internal u8, base u64, size u64. Per domain: type + 1 (0 none). The routing table being built.
let scratch: usize = 0;
let pendMapped: usize = 0;
let pendBase: usize = 0;
let ramSeen: usize = 0;
let ramInternal: usize = 0;
let ramBases: usize = 0;
let ramSizes: usize = 0;
let domainSeen: usize = 0;
let routeTable: usize = 0;
let dispatchCounters: usize = 0;
let dmaCounters: usize = 0;
/** Page tables the state's mappings need, all domains together. */
let tablesNeeded: u64 = 0;

function scratchReady(): bool {
  if (scratch != 0) return true;
  const perBar = <usize>MAX_FUNCTIONS * BARS;
  const size = perBar * 9 + <usize>MAX_RAM * 18 + <usize>MAX_DOMAINS + ROUTES * 2 + (<usize>COUNTERS + <usize>DMA_COUNTERS) * 8 + 64;
  const p = coreAlloc(size);
  if (p == 0) return false;
  scratch = p;
  pendBase = p; // 8-byte values first, then the rest
  ramBases = pendBase + perBar * 8;
  ramSizes = ramBases + <usize>MAX_RAM * 8;
  dispatchCounters = ramSizes + <usize>MAX_RAM * 8;
  dmaCounters = dispatchCounters + <usize>COUNTERS * 8;
  routeTable = dmaCounters + <usize>DMA_COUNTERS * 8;
  pendMapped = routeTable + ROUTES * 2;
  ramSeen = pendMapped + perBar;
  ramInternal = ramSeen + <usize>MAX_RAM;
  domainSeen = ramInternal + <usize>MAX_RAM;
  return true;
}

// ---- Functions --------------------------------------------------------------------------------

function loadFunctions(): void {
  const n = count(MAX_FUNCTIONS);
  let prev: i32 = -1;
  let segments: u32 = 0;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const slot = <i32>int(0, <f64>(MAX_FUNCTIONS - 1));
    const seg = <u32>int(0, <f64>(MAX_SEGMENTS - 1));
    const bus = <i32>int(-1, 255);
    const parent = <i32>int(-1, <f64>(MAX_FUNCTIONS - 1));
    const dev = <u32>int(0, 31);
    const fn = <u32>int(0, 7);
    const size = <u32>int(256, 4096);
    const attached = boolv();
    const config = blob(<u32>PLANE);
    if (blobLength != <u32>PLANE) fail(ERR_RANGE);
    const wmask = blob(<u32>PLANE);
    if (blobLength != <u32>PLANE) fail(ERR_RANGE);
    const w1c = blob(<u32>PLANE);
    if (blobLength != <u32>PLANE) fail(ERR_RANGE);
    if (failed()) return;
    if (!applying) {
      if (slot <= prev) return fail(ERR_RANGE);
      for (let s = prev + 1; s < slot; s++) if (sizeOf(s) != 0) return fail(ERR_MISMATCH);
      if (sizeOf(slot) == 0) return fail(ERR_MISMATCH);
      const home = slotHomeOf(slot);
      const node = (home >> 8) & 0xffff;
      const where = bus >= 0 ? parent == -1 && node == ROOT_NODE + (seg << 8) + <u32>bus : node == <u32>(parent + 1);
      if (!where || home >> 24 != seg || (home & 0xff) != ((dev << 3) | fn) || sizeOf(slot) != size) return fail(ERR_MISMATCH);
      if (attached != barAttached(slot)) return fail(ERR_MISMATCH);
      // The header type decides the BAR layout, the bridge hooks and routing: it cannot change.
      if ((load<u8>(config + 0x0e) & 0x7f) != (load<u8>(blockOf(slot) + 0x0e) & 0x7f)) return fail(ERR_MISMATCH);
    } else {
      const b = blockOf(slot);
      memory.copy(b, config, PLANE);
      memory.copy(b + PLANE, wmask, PLANE);
      memory.copy(b + PLANE * 2, w1c, PLANE);
      segments |= <u32>1 << seg;
    }
    prev = slot;
  }
  if (failed()) return;
  if (!applying) {
    for (let s = prev + 1; s < <i32>MAX_FUNCTIONS; s++) if (sizeOf(s) != 0) return fail(ERR_MISMATCH);
  } else {
    // Config routing is a function of the planes (config/DESIGN.md): rebuild it.
    for (let seg: u32 = 0; seg < MAX_SEGMENTS; seg++) if ((segments >> seg) & 1) route(seg);
  }
}

// ---- Dispatch ---------------------------------------------------------------------------------

/** Whether a BAR of `kind` and `size` can decode at `base` (bar-mapper.ts computeTarget). */
function barFits(kind: u32, base: u64, size: u64): bool {
  if (base == 0) return false;
  if (kind == BAR_IO) return base < 0x10000 && size <= 0x10000 - base;
  if (kind == BAR_MEM32 || kind == BAR_ROM) return base < 0x100000000 && size < 0x100000000 - base;
  if (kind == BAR_MEM64) return base < MMIO_LIMIT && size <= MMIO_LIMIT - base;
  return false;
}

// The next implemented BAR of this core after (cs, cb), for the comparison with the state's list.
let cs: i32 = 0;
let cb: u32 = 0;

function nextCoreBar(): bool {
  for (; cs < <i32>MAX_FUNCTIONS; cs++, cb = 0) {
    if (!barAttached(cs)) continue;
    for (; cb < <u32>BARS; cb++) {
      if (barKind(cs, cb) != 0) return true;
    }
  }
  return false;
}

function loadBars(): void {
  const n = count(MAX_FUNCTIONS * <u32>BARS);
  cs = 0;
  cb = 0;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const slot = <i32>int(0, <f64>(MAX_FUNCTIONS - 1));
    const bar = <u32>int(0, 6);
    const kind = <u32>int(1, 5);
    const size = u64v();
    const region = <u32>int(0, <f64>MAX_REGION_ID);
    const handlers = count(MAX_REGION_ID);
    if (!applying) {
      if (!nextCoreBar()) return fail(ERR_MISMATCH);
      if (slot != cs || bar != cb || kind != barKind(slot, bar) || size != barSize(slot, bar) || region != barRegion(slot, bar)) {
        return fail(ERR_MISMATCH);
      }
      let h = barFirstHandler(slot, bar);
      for (let i: u32 = 0; i < handlers; i++) {
        const id = <u32>int(1, <f64>MAX_REGION_ID);
        if (failed()) return;
        if (id != h) return fail(ERR_MISMATCH);
        h = nextOf(h);
      }
      if (h != 0) return fail(ERR_MISMATCH);
      cb++;
    } else {
      for (let i: u32 = 0; i < handlers; i++) num();
    }
    const mapped = boolv();
    const base = u64v();
    const staged = boolv();
    if (failed()) return;
    if (!applying) {
      if (kind == BAR_UPPER ? mapped || staged : staged && kind != BAR_MEM64) return fail(ERR_RANGE);
      if (mapped ? !barFits(kind, base, size) : base != 0) return fail(ERR_RANGE);
      const at = <usize>slot * BARS + <usize>bar;
      store<u8>(pendMapped + at, mapped ? 1 : 0);
      store<u64>(pendBase + (at << 3), base);
    } else if (kind != BAR_UPPER) {
      barRestore(slot, bar, mapped, base, staged);
    }
  }
  if (!applying && !failed() && nextCoreBar()) fail(ERR_MISMATCH);
}

function loadRegions(): void {
  const n = count(MAX_REGION_ID);
  let prev: u32 = 0;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const id = <u32>int(1, <f64>MAX_REGION_ID);
    const kind = u32v();
    const datum = u32v();
    const slot = <i32>int(-1, <f64>(MAX_FUNCTIONS - 1));
    const bar = u32v();
    const offset = u64v();
    const length = u64v();
    const reads = u64v();
    const writes = u64v();
    const mapped = boolv();
    const space = <u32>int(0, 1);
    const base = u64v();
    const size = u64v();
    const priority = <u32>int(0, 255);
    if (failed()) return;
    if (applying) {
      setRegionCounts(id, reads, writes);
      continue;
    }
    if (id <= prev) return fail(ERR_RANGE);
    for (let i = prev + 1; i < id; i++) if (regionKind(i) != KIND_FREE) return fail(ERR_MISMATCH);
    prev = id;
    if (regionKind(id) == KIND_FREE || kind != regionKind(id) || datum != datumOf(id) || slot != slotOf(id) || bar != barOf(id) ||
      offset != subOffsetOf(id) || length != lengthOf(id)) return fail(ERR_MISMATCH);
    if (!mapped && (space | priority) != 0 || !mapped && (base | size) != 0) return fail(ERR_RANGE);
    if (slot < 0) {
      // Fixed regions (config mechanisms, the embedder's): mapped where this core has them.
      const info = regionInfoOf(id);
      if (mapped != (info != 0) || (mapped && (space != ((info >> 8) & 1) || priority != (info & 0xff) ||
        base != regionBase(id) || size != regionSize(id)))) return fail(ERR_MISMATCH);
    } else {
      // BAR regions go where the state's BAR is (loadBars); the listed mapping must say the same.
      const at = <usize>slot * BARS + <usize>bar;
      const barMapped = load<u8>(pendMapped + at) != 0;
      const barBase = load<u64>(pendBase + (at << 3));
      const whole = kind == KIND_BAR;
      if (mapped != barMapped || (mapped && (space != (barKind(slot, bar) == BAR_IO ? 1 : 0) ||
        priority != (whole ? PRIORITY_BAR : PRIORITY_BAR_HANDLER) || base != barBase + offset || size != length))) return fail(ERR_RANGE);
    }
  }
  if (failed() || applying) return;
  for (let i = prev + 1; i <= MAX_REGION_ID; i++) if (regionKind(i) != KIND_FREE) return fail(ERR_MISMATCH);
}

function loadRegfiles(): void {
  const n = count(4096);
  if (!applying && !failed() && n != regfileCount()) return fail(ERR_MISMATCH);
  for (let h: u32 = 0; h < n && !failed(); h++) {
    const p = regfileAddress(h);
    const size = load<u32>(p);
    const values = blob(4096);
    const valuesLength = blobLength;
    const mask = blob(4096);
    if (failed()) return;
    if (!applying) {
      if (valuesLength != size || blobLength != size || memory.compare(mask, p + 8 + <usize>size, size) != 0) return fail(ERR_MISMATCH);
    } else {
      memory.copy(p + 8, values, size);
    }
  }
}

function loadDoorbells(): void {
  const n = count(4096);
  if (!applying && !failed() && n != doorbellTotal()) return fail(ERR_MISMATCH);
  for (let i: u32 = 0; i < n && !failed(); i++) {
    const c = u64v();
    if (applying) doorbellSetCount(i, c);
  }
}

function loadEvents(): void {
  const n = count(EVENT_CAPACITY);
  if (applying) eventsRestore(n);
  for (let i: u32 = 0; i < n && !failed(); i++) {
    const region = u32v();
    const size = u32v();
    const offset = u64v();
    const lo = u32v();
    const hi = u32v();
    if (applying) {
      const e = eventAt(i);
      store<u32>(e, region);
      store<u32>(e, size, 4);
      store<u64>(e, offset, 8);
      store<u64>(e, (<u64>hi << 32) | <u64>lo, 16);
      store<u64>(e, 0, 24);
    }
  }
}

function loadEffects(): void {
  const n = count(EFFECT_CAPACITY);
  if (applying) effectsRestore(n);
  for (let i: u32 = 0; i < n && !failed(); i++) {
    const slot = u32v();
    const bar = u32v();
    const kind = u32v();
    const oldMapped = boolv();
    const oldBase = u64v();
    const newMapped = boolv();
    const newBase = u64v();
    const size = u64v();
    if (failed()) return;
    if (!applying) {
      if ((!oldMapped && oldBase != 0) || (!newMapped && newBase != 0)) return fail(ERR_RANGE);
      continue;
    }
    const e = effectAt(i);
    store<u32>(e, slot);
    store<u32>(e, bar, 4);
    store<u32>(e, kind, 8);
    store<u32>(e, (oldMapped ? 1 : 0) | (newMapped ? 2 : 0), 12);
    store<u64>(e, oldBase, 16);
    store<u64>(e, newBase, 24);
    store<u64>(e, size, 32);
  }
}

function loadDispatch(): void {
  const address = u32v();
  const high = u32v();
  if (!applying && (address & ~<u32>0x80fffffc) != 0) fail(ERR_RANGE);
  for (let c: u32 = 0; c < COUNTERS; c++) store<u64>(dispatchCounters + (<usize>c << 3), u64v());
  if (failed()) return;
  if (applying) {
    setConfigAddress(address);
    setReadHigh(high);
  }
  loadBars();
  if (failed()) return;
  loadRegions();
  if (failed()) return;
  loadRegfiles();
  if (failed()) return;
  loadDoorbells();
  if (failed()) return;
  loadEvents();
  if (failed()) return;
  loadEffects();
}

// ---- Interrupts -------------------------------------------------------------------------------

function loadIrqFunctions(): void {
  const n = count(MAX_FUNCTIONS);
  let prev: i32 = -1;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const slot = <i32>int(0, <f64>(MAX_FUNCTIONS - 1));
    const pin = <u32>int(0, 4);
    const asserted = boolv();
    const line = <u32>int(0, <f64>GSI_NONE);
    const msiCap = u32v();
    const msixCap = u32v();
    const table = blob(MSIX_MAX * 16);
    const tableLength = blobLength;
    const pba = blob(pbaBytes(MSIX_MAX));
    if (failed()) return;
    const st = stateOf(slot);
    if (!applying) {
      if (slot <= prev) return fail(ERR_RANGE);
      for (let s = prev + 1; s < slot; s++) if (irqAttached(s)) return fail(ERR_MISMATCH);
      prev = slot;
      if (!irqAttached(slot) || pin != <u32>load<u8>(st, 1) || msiCap != load<u32>(st, 8) || msixCap != load<u32>(st, 12)) return fail(ERR_MISMATCH);
      const size = msixCap != 0 ? msixTableSize(slot) : 0;
      if (tableLength != size * 16 || blobLength != pbaBytes(size)) return fail(ERR_MISMATCH);
      if ((asserted && pin == 0) || (line != GSI_NONE && line >= MAX_GSI) || (!asserted && line != GSI_NONE)) return fail(ERR_RANGE);
      // Vector Control keeps only its mask bit; no pending bit past the table.
      for (let v: u32 = 0; v < size; v++) if (load<u32>(table + <usize>v * 16 + 12) > 1) return fail(ERR_RANGE);
      for (let v = size; v < blobLength * 8; v++) if ((load<u8>(pba + <usize>(v >> 3)) >> (v & 7)) & 1) return fail(ERR_RANGE);
    } else {
      store<u8>(st, asserted ? 1 : 0, 2);
      store<u16>(st, <u16>line, 4);
      const t = msixTableAddress(slot);
      memory.copy(t, table, <usize>tableLength);
      memory.copy(t + <usize>tableLength, pba, <usize>blobLength);
    }
  }
  if (!applying && !failed()) {
    for (let s = prev + 1; s < <i32>MAX_FUNCTIONS; s++) if (irqAttached(s)) return fail(ERR_MISMATCH);
  }
}

function loadRoutes(): void {
  const n = count(<u32>ROUTES);
  if (applying) memory.fill(routeTable, 0xff, ROUTES * 2);
  let prev: i32 = -1;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const seg = <u32>int(0, <f64>(MAX_SEGMENTS - 1));
    const device = <u32>int(0, 31);
    const pin = <u32>int(1, 4);
    const gsi = <u32>int(0, <f64>(MAX_GSI - 1));
    if (failed()) return;
    const index = <i32>(seg * 128 + device * 4 + pin - 1);
    if (!applying && index <= prev) return fail(ERR_RANGE);
    prev = index;
    if (applying) store<u16>(routeTable + (<usize>index << 1), <u16>gsi);
  }
  // After the functions: the line counts are recounted from the lines they hold.
  if (applying) intxRestore(routeTable);
}

function loadIrqEvents(): void {
  const n = count(IRQ_CAPACITY);
  if (applying) irqEventsRestore(n);
  for (let i: u32 = 0; i < n && !failed(); i++) {
    const kind = <u32>int(KIND_LINE, KIND_MESSAGE);
    const slot = <i32>int(-1, <f64>(MAX_FUNCTIONS - 1));
    const gsi = u32v();
    const level = u32v();
    const address = u32v();
    const high = u32v();
    const data = u32v();
    if (failed()) return;
    const line = kind == KIND_LINE;
    if (!applying) {
      if (line ? slot != -1 || gsi >= MAX_GSI || level > 1 || (address | high | data) != 0 : slot < 0 || (gsi | level) != 0) return fail(ERR_RANGE);
      continue;
    }
    const e = irqEventAt(i);
    store<u32>(e, kind);
    store<i32>(e, slot, 4);
    store<u32>(e, line ? gsi : data, 8);
    store<u32>(e, line ? level : address, 12);
    store<u32>(e, line ? 0 : high, 16);
    store<u32>(e, 0, 20);
  }
}

function loadInterrupts(): void {
  loadIrqFunctions();
  if (failed()) return;
  loadRoutes();
  if (failed()) return;
  loadIrqEvents();
}

// ---- DMA --------------------------------------------------------------------------------------

function loadRam(): void {
  const n = count(MAX_RAM);
  if (applying) ramReset();
  else memory.fill(ramSeen, 0, <usize>MAX_RAM * 2);
  let prev: i32 = -1;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const index = <u32>int(0, <f64>(MAX_RAM - 1));
    const base = u64v();
    const size = u64v();
    const internal = boolv();
    const length = ramLength(<f64>MAX_INTERNAL_RAM);
    if (failed()) return;
    if (applying) {
      ramRestore(index, base, size, internal);
      continue;
    }
    if (<i32>index <= prev) return fail(ERR_RANGE);
    prev = <i32>index;
    if (size == 0 || ((base | size) & (PAGE_SIZE - 1)) != 0 || base >= GPA_LIMIT || size > GPA_LIMIT - base) return fail(ERR_RANGE);
    if (internal ? size > MAX_INTERNAL_RAM || length != <f64>size : length != -1) return fail(ERR_RANGE);
    for (let j: u32 = 0; j < index; j++) {
      if (load<u8>(ramSeen + <usize>j) == 0) continue;
      const b = load<u64>(ramBases + (<usize>j << 3));
      if (b < base + size && base < b + load<u64>(ramSizes + (<usize>j << 3))) return fail(ERR_RANGE);
    }
    // The embedder's RAM: this core must have the same region (the embedder re-added it).
    if (!internal && !(ramUsed(index) && ramPtrOf(index) == 0 && ramBaseOf(index) == base && ramEndOf(index) - ramBaseOf(index) == size)) {
      return fail(ERR_MISMATCH);
    }
    store<u8>(ramSeen + <usize>index, 1);
    store<u8>(ramInternal + <usize>index, internal ? 1 : 0);
    store<u64>(ramBases + (<usize>index << 3), base);
    store<u64>(ramSizes + (<usize>index << 3), size);
  }
  if (applying || failed()) return;
  for (let i: u32 = 0; i < MAX_RAM; i++) {
    if (ramUsed(i) && ramPtrOf(i) == 0 && (load<u8>(ramSeen + <usize>i) == 0 || load<u8>(ramInternal + <usize>i) != 0)) return fail(ERR_MISMATCH);
  }
}

/** Distinct chunks of 2^shift bytes [iova, end) touches that `last` (the previous one) has not. */
function newChunks(iova: u64, end: u64, shift: u64, last: u64): u64 {
  const first = iova >> shift;
  const final = (end - 1) >> shift;
  return final - first + 1 - (first == last ? 1 : 0);
}

function loadDomains(): void {
  const n = count(MAX_DOMAINS - 1);
  if (applying) domainsReset();
  else {
    memory.fill(domainSeen, 0, <usize>MAX_DOMAINS);
    tablesNeeded = 0;
  }
  let prev: u32 = 0;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const id = <u32>int(1, <f64>(MAX_DOMAINS - 1));
    const type = <u32>int(0, <f64>DOMAIN_TRANSLATED);
    const mappings = count(0xffffffff);
    if (failed()) return;
    if (!applying) {
      if (id <= prev) return fail(ERR_RANGE);
      if (type != DOMAIN_TRANSLATED && mappings != 0) return fail(ERR_RANGE);
      store<u8>(domainSeen + <usize>id, <u8>(type + 1));
      if (type == DOMAIN_TRANSLATED) tablesNeeded++;
    } else {
      domainRestore(id, type);
    }
    prev = id;
    let end: u64 = 0;
    let last1 = u64.MAX_VALUE;
    let last2 = u64.MAX_VALUE;
    let last3 = u64.MAX_VALUE;
    for (let i: u32 = 0; i < mappings && !failed(); i++) {
      const iova = u64v();
      const gpa = u64v();
      const size = u64v();
      const perms = <u32>int(1, 3);
      const pageSize = u64v();
      if (failed()) return;
      const large = pageSize == LARGE_SIZE;
      if (applying) {
        mapLeaves(rootOf(id), iova, gpa, size, perms, large);
        continue;
      }
      if (!large && pageSize != PAGE_SIZE) return fail(ERR_RANGE);
      const m = pageSize - 1;
      if (size == 0 || ((iova | gpa | size) & m) != 0 || iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova ||
        gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa || iova < end) return fail(ERR_RANGE);
      end = iova + size;
      // Tables under the root: one per 512 GiB and per 1 GiB chunk, and per 2 MiB chunk of 4 KiB pages.
      tablesNeeded += newChunks(iova, end, 39, last1) + newChunks(iova, end, 30, last2);
      last1 = (end - 1) >> 39;
      last2 = (end - 1) >> 30;
      if (!large) {
        tablesNeeded += newChunks(iova, end, 21, last3);
        last3 = (end - 1) >> 21;
      }
      if (tablesNeeded > <u64>MAX_TABLES) return fail(ERR_RANGE);
    }
  }
}

function loadAttachments(): void {
  const n = count(MAX_FUNCTIONS);
  let prev: i32 = -1;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const slot = <i32>int(0, <f64>(MAX_FUNCTIONS - 1));
    const domain = <u32>int(1, <f64>(MAX_DOMAINS - 1));
    if (failed()) return;
    if (applying) {
      setDomain(slot, domain);
      continue;
    }
    if (slot <= prev || sizeOf(slot) == 0 || load<u8>(domainSeen + <usize>domain) == 0) return fail(ERR_RANGE);
    prev = slot;
  }
}

function loadIotlb(): void {
  const n = count(IOTLB_ENTRIES);
  if (applying) iotlbFlush();
  let prev: i32 = -1;
  for (let k: u32 = 0; k < n && !failed(); k++) {
    const domain = <u32>int(1, <f64>(MAX_DOMAINS - 1));
    const page = u64v();
    const large = boolv();
    const lo = u32v();
    const hi = u32v();
    const region = <u32>int(0, <f64>(MAX_RAM - 1));
    const offset = u64v();
    const perms = <u32>int(1, 3);
    if (failed()) return;
    if (applying) {
      iotlbFill(domain, page, large ? 1 : 0, lo, hi, region, offset, perms);
      continue;
    }
    const psize: u64 = large ? LARGE_SIZE : PAGE_SIZE;
    if (load<u8>(domainSeen + <usize>domain) != <u8>(DOMAIN_TRANSLATED + 1) || page >= (IOVA_LIMIT / psize)) return fail(ERR_RANGE);
    if (lo >= hi || <u64>hi > psize || load<u8>(ramSeen + <usize>region) == 0) return fail(ERR_RANGE);
    const ramSize = load<u64>(ramSizes + (<usize>region << 3));
    if (<u64>(hi - lo) > ramSize || offset > ramSize - <u64>(hi - lo)) return fail(ERR_RANGE);
    const index = <i32>iotlbIndexOf(page, domain, large ? 1 : 0);
    if (index <= prev) return fail(ERR_RANGE);
    prev = index;
  }
}

function loadFaults(): void {
  const n = count(FAULT_CAPACITY);
  if (applying) faultsRestore(n);
  for (let i: u32 = 0; i < n && !failed(); i++) {
    const slot = <i32>int(0, <f64>(MAX_FUNCTIONS - 1));
    const iova = u64v();
    const length = u32v();
    const dir = <u32>int(0, 1);
    const reason = <u32>int(1, 5);
    if (failed() || !applying) continue;
    const r = faultAt(i);
    store<u64>(r, iova);
    store<i32>(r, slot, 8);
    store<u32>(r, length, 12);
    store<u32>(r, dir, 16);
    store<u32>(r, reason, 20);
  }
}

function loadDma(): void {
  for (let c: u32 = 0; c < DMA_COUNTERS; c++) store<u64>(dmaCounters + (<usize>c << 3), u64v());
  if (failed()) return;
  loadRam();
  if (failed()) return;
  loadDomains();
  if (failed()) return;
  loadAttachments();
  if (failed()) return;
  loadIotlb();
  if (failed()) return;
  loadFaults();
}

function walk(): void {
  const version = num();
  if (!applying && version != CORE_STATE_VERSION) return fail(ERR_RANGE);
  loadFunctions();
  if (failed()) return;
  loadDispatch();
  if (failed()) return;
  loadInterrupts();
  if (failed()) return;
  loadDma();
  if (failed() || !applying) return;
  // Counters last: nothing the loading did may count.
  for (let c: u32 = 0; c < COUNTERS; c++) setCounter(c, load<u64>(dispatchCounters + (<usize>c << 3)));
  for (let c: u32 = 0; c < DMA_COUNTERS; c++) counterSet(c, load<u64>(dmaCounters + (<usize>c << 3)));
}

/** Memory the state needs, taken before anything changes: RAM blocks and page tables. */
function prepare(): i32 {
  for (let i: u32 = 0; i < MAX_RAM; i++) {
    if (load<u8>(ramSeen + <usize>i) == 0 || load<u8>(ramInternal + <usize>i) == 0) continue;
    if (!ramReserve(i, load<u64>(ramSizes + (<usize>i << 3)))) return ERR_FULL;
  }
  return tablesReserve(<u32>tablesNeeded) ? OK : ERR_FULL;
}

/**
 * Loads the `size`-byte image at stateAddress() (see stateBuffer). Returns OK, or with nothing
 * changed: ERR_RANGE (a short or malformed image, a value out of range, another version),
 * ERR_MISMATCH (saved from a core built otherwise), ERR_FULL (memory cannot grow). Internal
 * RAM regions are (re)created with their bytes left for the caller to fill from the state.
 */
export function stateLoad(size: u32): i32 {
  if (<usize>size > imageCapacity() || imageAddress() == 0) return ERR_RANGE;
  if (!scratchReady()) return ERR_FULL;
  applying = false;
  readBegin(imageAddress(), size);
  walk();
  if (status == OK && !readDone()) fail(ERR_RANGE);
  if (status != OK) return status;
  const st = prepare();
  if (st != OK) return st;
  applying = true;
  readBegin(imageAddress(), size);
  walk();
  applying = false;
  return OK;
}
