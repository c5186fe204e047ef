// Boundary adapters: exports whose natural arguments are 64-bit take f64 (an integer below 2^64;
// anything else is refused) and return f64, so the bindings never need BigInt on a hot path.
// Every handler datum is checked here: an embedder's bad number cannot point the core elsewhere.
import { OK, ERR_RANGE, ERR_FULL, ERR_NOT_FOUND } from "./config/layout";
import { setEcam as mapEcam } from "./dispatch/config-mechanisms";
import { regionMap, regionBase, regionSize, SPACE_IO, MAX_PRIORITY } from "./dispatch/region-table";
import { regionAlloc, regionFree, regionKind, regionSlot, lengthOf, KIND_REGFILE, KIND_DOORBELL, KIND_HOST, KIND_FREE } from "./dispatch/regions";
import { barHandler as addBarHandler, barSize as sizeOfBar, barBase as baseOfBar } from "./dispatch/bar-mapper";
import { regfileValid } from "./dispatch/regfile";
import { doorbellValid } from "./dispatch/doorbell";

import { configWrite as storeConfigWrite, slotPoke } from "./config/store";
import { irqQueued } from "./irq/events";

/** The embedder's config write: returns the number of queued interrupt events, as the MMIO and
 * IO writes do (a write to Command or an MSI/MSI-X register can queue some). */
export function configWrite(seg: u32, bus: u32, dev: u32, fn: u32, reg: u32, size: i32, value: u32): u32 {
  storeConfigWrite(seg, bus, dev, fn, reg, size, value);
  return irqQueued();
}

/** A device-side change of a slot's config bytes (store.ts slotPoke): the number of queued
 * interrupt events (>= 0) as configWrite returns, or a negative status (nothing changed). */
export function configPoke(slot: i32, reg: u32, size: i32, value: u32): i32 {
  const st = slotPoke(slot, reg, size, value);
  return st < 0 ? st : <i32>irqQueued();
}

let conv: u64 = 0;
function toU64(v: f64): bool {
  if (!(v >= 0.0 && v < 18446744073709551616.0) || Math.floor(v) != v) return false;
  conv = <u64>v;
  return true;
}

/** Handler kinds an embedder may attach, with a datum that names an existing handler. */
function handlerValid(kind: u32, datum: u32): bool {
  if (kind == KIND_REGFILE) return regfileValid(datum);
  if (kind == KIND_DOORBELL) return doorbellValid(datum);
  return kind == KIND_HOST;
}

export function setEcam(seg: u32, base: f64, busStart: u32, busEnd: u32): i32 {
  return toU64(base) ? mapEcam(seg, conv, busStart, busEnd) : ERR_RANGE;
}

/** A handler over [offset, offset+length) of a function's BAR (6 = ROM); returns its region id. */
export function barHandler(slot: i32, bar: u32, offset: f64, length: f64, kind: u32, datum: u32): i32 {
  if (!handlerValid(kind, datum)) return ERR_RANGE;
  if (!toU64(offset)) return ERR_RANGE;
  const o = conv;
  if (!toU64(length)) return ERR_RANGE;
  return addBarHandler(slot, bar, o, conv, kind, datum);
}

/** An embedder region at a fixed place; returns its id. */
export function addRegion(space: u32, base: f64, size: f64, priority: u32, kind: u32, datum: u32): i32 {
  if (!handlerValid(kind, datum) || priority > MAX_PRIORITY || space > SPACE_IO) return ERR_RANGE;
  if (!toU64(base)) return ERR_RANGE;
  const b = conv;
  if (!toU64(size)) return ERR_RANGE;
  const id = regionAlloc(kind, datum, -1, 0, 0);
  if (id == 0) return ERR_FULL;
  if (regionMap(id, space, b, conv, priority) != OK) {
    regionFree(id);
    return ERR_RANGE;
  }
  return <i32>id;
}

/** Removes an embedder region (not a BAR, a BAR's handler or a config mechanism). */
export function removeRegion(id: u32): i32 {
  const kind = regionKind(id);
  if (kind == KIND_FREE) return ERR_NOT_FOUND;
  if (!(kind == KIND_REGFILE || kind == KIND_DOORBELL || kind == KIND_HOST) || regionSlot(id) >= 0) return ERR_RANGE;
  regionFree(id);
  return OK;
}

export function regionBaseOf(id: u32): f64 {
  return <f64>regionBase(id);
}

export function regionSizeOf(id: u32): f64 {
  return <f64>regionSize(id);
}

/** The length a BAR handler region has (whether or not its BAR is mapped now); 0 otherwise. */
export function regionLengthOf(id: u32): f64 {
  return regionKind(id) == KIND_FREE || regionSlot(id) < 0 ? 0 : <f64>lengthOf(id);
}

export function barSizeOf(slot: i32, bar: u32): f64 {
  return <f64>sizeOfBar(slot, bar);
}

export function barBaseOf(slot: i32, bar: u32): f64 {
  return <f64>baseOfBar(slot, bar);
}
