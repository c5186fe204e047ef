// stateSave: the whole core as an image (image.ts), in the order of CORE_STATE_SCHEMA
// (src/core/state.ts). The TypeScript twin builds the same CoreState from its own structures.
import { MAX_FUNCTIONS, ERR_FULL } from "../config/layout";
import { sizeOf, blockOf, slotHomeOf, ROOT_NODE } from "../config/store";
import { configAddressOf } from "../dispatch/config-mechanisms";
import { mmioReadHigh } from "../dispatch/access";
import { counterValue, COUNTERS, regionKind, datumOf, slotOf, barOf, subOffsetOf, lengthOf, nextOf, regionReads, regionWrites, KIND_FREE } from "../dispatch/regions";
import { regionInfoOf, regionBase, regionSize, MAX_REGION_ID } from "../dispatch/region-table";
import { barAttached, barKind, barSize, barRegion, barMapped, barBase, barStaged, barFirstHandler } from "../dispatch/bar-mapper";
import { regfileCount, regfileAddress } from "../dispatch/regfile";
import { doorbellTotal, doorbellCount, eventsQueued, eventAt } from "../dispatch/doorbell";
import { effectsQueued, effectAt } from "../dispatch/effects";
import { stateOf, irqAttached } from "../irq/state";
import { routeAt } from "../irq/intx";
import { msixTableAddress, msixTableSize, pbaBytes } from "../irq/msix";
import { irqQueued, irqEventAt } from "../irq/events";
import { GSI_NONE, KIND_LINE } from "../irq/layout";
import { COUNTERS as DMA_COUNTERS, MAX_RAM, MAX_DOMAINS, IOTLB_ENTRIES, LARGE_SIZE, PAGE_SIZE } from "../dma/layout";
import { counterOf, faultsQueued, faultAt } from "../dma/faults";
import { ramUsed, ramBaseOf, ramEndOf, ramPtrOf } from "../dma/ram";
import { kindOf as domainKind, rootOf, domainOfSlot, KIND_FREE as DOMAIN_FREE, KIND_TRANSLATED } from "../dma/domains";
import { runsBegin, runsWalk, runsEnd, runIova, runGpa, runSize, runPerms, runLarge } from "../dma/page-table";
import { iotlbEntryAddress } from "../dma/iotlb";
import { writeBegin, wat, putNum, putU64, putBool, putBytes, markCount, patchCount, imageReserve } from "./image";

export const CORE_STATE_VERSION: f64 = 1;
const PLANE: usize = 4096;

function saveFunctions(): void {
  const m = markCount();
  let n: u32 = 0;
  for (let slot: i32 = 0; slot < <i32>MAX_FUNCTIONS; slot++) {
    if (sizeOf(slot) == 0) continue;
    const home = slotHomeOf(slot);
    const node = (home >> 8) & 0xffff;
    putNum(slot);
    putNum(home >> 24);
    putNum(node >= ROOT_NODE ? <f64>((node - ROOT_NODE) & 255) : -1);
    putNum(node < ROOT_NODE ? <f64>(node - 1) : -1);
    putNum((home >> 3) & 31);
    putNum(home & 7);
    putNum(sizeOf(slot));
    putBool(barAttached(slot));
    const b = blockOf(slot);
    putBytes(b, PLANE);
    putBytes(b + PLANE, PLANE);
    putBytes(b + PLANE * 2, PLANE);
    n++;
  }
  patchCount(m, n);
}

function saveDispatch(): void {
  putNum(configAddressOf());
  putNum(mmioReadHigh());
  for (let c: u32 = 0; c < COUNTERS; c++) putNum(counterValue(c));
  // BARs of attached functions.
  let m = markCount();
  let n: u32 = 0;
  for (let slot: i32 = 0; slot < <i32>MAX_FUNCTIONS; slot++) {
    if (!barAttached(slot)) continue;
    for (let bar: u32 = 0; bar < 7; bar++) {
      const kind = barKind(slot, bar);
      if (kind == 0) continue;
      putNum(slot);
      putNum(bar);
      putNum(kind);
      putU64(barSize(slot, bar));
      putNum(barRegion(slot, bar));
      const hm = markCount();
      let hn: u32 = 0;
      for (let id = barFirstHandler(slot, bar); id != 0; id = nextOf(id)) {
        putNum(id);
        hn++;
      }
      patchCount(hm, hn);
      putBool(barMapped(slot, bar) != 0);
      putU64(barBase(slot, bar));
      putBool(barStaged(slot, bar) != 0);
      n++;
    }
  }
  patchCount(m, n);
  // Regions in use.
  m = markCount();
  n = 0;
  for (let id: u32 = 1; id <= MAX_REGION_ID; id++) {
    const kind = regionKind(id);
    if (kind == KIND_FREE) continue;
    const info = regionInfoOf(id);
    putNum(id);
    putNum(kind);
    putNum(datumOf(id));
    putNum(slotOf(id));
    putNum(barOf(id));
    putU64(subOffsetOf(id));
    putU64(lengthOf(id));
    putNum(regionReads(id));
    putNum(regionWrites(id));
    putBool(info != 0);
    putNum(info != 0 ? (info >> 8) & 1 : 0);
    putU64(regionBase(id));
    putU64(regionSize(id));
    putNum(info != 0 ? info & 0xff : 0);
    n++;
  }
  patchCount(m, n);
  // Register files: values, mask.
  const files = regfileCount();
  putNum(files);
  for (let h: u32 = 0; h < files; h++) {
    const p = regfileAddress(h);
    const size = <usize>load<u32>(p);
    putBytes(p + 8, size);
    putBytes(p + 8 + size, size);
  }
  const bells = doorbellTotal();
  putNum(bells);
  for (let i: u32 = 0; i < bells; i++) putU64(doorbellCount(i));
  // Doorbell events: +0 region | +4 size | +8 offset u64 | +16 value u64.
  const events = eventsQueued();
  putNum(events);
  for (let i: u32 = 0; i < events; i++) {
    const e = eventAt(i);
    putNum(load<u32>(e));
    putNum(load<u32>(e, 4));
    putU64(load<u64>(e, 8));
    putNum(load<u32>(e, 16));
    putNum(load<u32>(e, 20));
  }
  // Effects: +0 slot | +4 bar | +8 kind | +12 flags | +16 old | +24 new | +32 size.
  const effects = effectsQueued();
  putNum(effects);
  for (let i: u32 = 0; i < effects; i++) {
    const e = effectAt(i);
    const flags = load<u32>(e, 12);
    putNum(load<u32>(e));
    putNum(load<u32>(e, 4));
    putNum(load<u32>(e, 8));
    putBool((flags & 1) != 0);
    putU64(load<u64>(e, 16));
    putBool((flags & 2) != 0);
    putU64(load<u64>(e, 24));
    putU64(load<u64>(e, 32));
  }
}

function saveInterrupts(): void {
  let m = markCount();
  let n: u32 = 0;
  for (let slot: i32 = 0; slot < <i32>MAX_FUNCTIONS; slot++) {
    if (!irqAttached(slot)) continue;
    const st = stateOf(slot);
    const msix = load<u32>(st, 12);
    const size = msix != 0 ? msixTableSize(slot) : 0;
    const table = msixTableAddress(slot);
    putNum(slot);
    putNum(load<u8>(st, 1));
    putBool(load<u8>(st, 2) != 0);
    putNum(load<u16>(st, 4));
    putNum(load<u32>(st, 8));
    putNum(msix);
    putBytes(table, <usize>size * 16);
    putBytes(table + <usize>size * 16, pbaBytes(size));
    n++;
  }
  patchCount(m, n);
  m = markCount();
  n = 0;
  for (let index: u32 = 0; index < 16 * 128; index++) {
    const gsi = routeAt(index);
    if (gsi == GSI_NONE) continue;
    putNum(index >> 7);
    putNum((index >> 2) & 31);
    putNum((index & 3) + 1);
    putNum(gsi);
    n++;
  }
  patchCount(m, n);
  // Events: +0 kind | +4 slot | +8 gsi or data | +12 level or address low | +16 address high.
  const events = irqQueued();
  putNum(events);
  for (let i: u32 = 0; i < events; i++) {
    const e = irqEventAt(i);
    const kind = load<u32>(e);
    const line = kind == KIND_LINE;
    putNum(kind);
    putNum(load<i32>(e, 4));
    putNum(line ? load<u32>(e, 8) : 0);
    putNum(line ? load<u32>(e, 12) : 0);
    putNum(line ? 0 : load<u32>(e, 12));
    putNum(line ? 0 : load<u32>(e, 16));
    putNum(line ? 0 : load<u32>(e, 8));
  }
}

let runs: u32 = 0;

function emitRun(): void {
  putU64(runIova);
  putU64(runGpa);
  putU64(runSize);
  putNum(runPerms);
  putU64(runLarge ? LARGE_SIZE : PAGE_SIZE);
  runs++;
}

function saveDma(): void {
  for (let c: u32 = 0; c < DMA_COUNTERS; c++) putU64(counterOf(c));
  let m = markCount();
  let n: u32 = 0;
  for (let i: u32 = 0; i < MAX_RAM; i++) {
    if (!ramUsed(i)) continue;
    const internal = ramPtrOf(i) != 0;
    const size = ramEndOf(i) - ramBaseOf(i);
    putNum(i);
    putU64(ramBaseOf(i));
    putU64(size);
    putBool(internal);
    putNum(internal ? <f64>size : -1); // the contents travel outside the image
    n++;
  }
  patchCount(m, n);
  m = markCount();
  n = 0;
  for (let id: u32 = 1; id < MAX_DOMAINS; id++) {
    const kind = domainKind(id);
    if (kind == DOMAIN_FREE) continue;
    putNum(id);
    putNum(kind - 1);
    const rm = markCount();
    runs = 0;
    if (kind == KIND_TRANSLATED) {
      runsBegin();
      runsWalk(rootOf(id), 0, 0, emitRun);
      runsEnd(emitRun);
    }
    patchCount(rm, runs);
    n++;
  }
  patchCount(m, n);
  m = markCount();
  n = 0;
  for (let slot: i32 = 0; slot < <i32>MAX_FUNCTIONS; slot++) {
    if (sizeOf(slot) == 0 || domainOfSlot(slot) == 0) continue;
    putNum(slot);
    putNum(domainOfSlot(slot));
    n++;
  }
  patchCount(m, n);
  // IOTLB: +0 tag | +8 spanLo | +12 spanHi | +16 regionOffset u64 | +24 region | +28 perms.
  m = markCount();
  n = 0;
  for (let i: u32 = 0; i < IOTLB_ENTRIES; i++) {
    const e = iotlbEntryAddress(i);
    const tag = load<u64>(e);
    if (tag == 0) continue;
    putNum(<u32>(tag >> 2) & 0xff);
    putU64(tag >> 10);
    putBool((tag & 2) != 0);
    putNum(load<u32>(e, 8));
    putNum(load<u32>(e, 12));
    putNum(load<u32>(e, 24));
    putU64(load<u64>(e, 16));
    putNum(load<u32>(e, 28));
    n++;
  }
  patchCount(m, n);
  // Faults: +0 iova u64 | +8 slot i32 | +12 length | +16 direction | +20 reason.
  const faults = faultsQueued();
  putNum(faults);
  for (let i: u32 = 0; i < faults; i++) {
    const r = faultAt(i);
    putNum(load<i32>(r, 8));
    putU64(load<u64>(r));
    putNum(load<u32>(r, 12));
    putNum(load<u32>(r, 16));
    putNum(load<u32>(r, 20));
  }
}

function saveAll(): void {
  putNum(CORE_STATE_VERSION);
  saveFunctions();
  saveDispatch();
  saveInterrupts();
  saveDma();
}

/**
 * Writes the whole core into the image buffer (stateAddress()); returns its size in bytes, or
 * ERR_FULL when memory cannot grow to hold it. Internal RAM contents are not in the image: the
 * bindings copy them from ramAddress(index).
 */
export function stateSave(): i32 {
  writeBegin(true, 0);
  saveAll();
  const size = wat;
  const buf = imageReserve(size);
  if (buf == 0) return ERR_FULL;
  writeBegin(false, buf);
  saveAll();
  return <i32>size;
}
