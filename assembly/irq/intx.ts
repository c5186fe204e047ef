// INTx: a function's pin, driven by its device model, reaches a line (GSI) through the bridges'
// swizzle ((pin - 1 + device) mod 4, PCI-to-PCI Bridge 1.2 §9.1) and the platform's routing table
// (like ACPI _PRT). Lines are level-triggered and shared: each holds a reference count, and only
// its 0->1 and 1->0 changes are reported. Interrupt Disable (Command bit 10) and an enabled MSI or
// MSI-X capability stop a function from driving its line; Interrupt Status (Status bit 3) follows
// the device model's level regardless (PCI 3.0 §6.2.2, §6.2.3).
import { MAX_SEGMENTS } from "../config/layout";
import { OK, ERR_RANGE, ERR_NOT_FOUND } from "../config/layout";
import { blockOf, slotParent, segmentOf, deviceOf, slotLimit } from "../config/store";
import { MAX_GSI, GSI_NONE } from "./layout";
import { stateOf, irqAttached, cfg16 } from "./state";
import { queueLine } from "./events";

const counts: usize = heap.alloc(<usize>MAX_GSI * 4);
memory.fill(counts, 0, <usize>MAX_GSI * 4);
/** seg * 128 + device * 4 + (pin - 1) -> GSI (u16), GSI_NONE until routed. */
const routes: usize = heap.alloc(<usize>MAX_SEGMENTS * 128 * 2);
memory.fill(routes, 0xff, <usize>MAX_SEGMENTS * 128 * 2);

const COMMAND_INTX_DISABLE: u32 = 0x400;
const STATUS_INTERRUPT: u8 = 0x08;

function inc(gsi: u32): void {
  const p = counts + (<usize>gsi << 2);
  const n = load<u32>(p) + 1;
  store<u32>(p, n);
  if (n == 1) queueLine(gsi, 1);
}

function dec(gsi: u32): void {
  const p = counts + (<usize>gsi << 2);
  const n = load<u32>(p) - 1;
  store<u32>(p, n);
  if (n == 0) queueLine(gsi, 0);
}

/** Whether an MSI or MSI-X capability of the slot is enabled (then INTx is not used). */
function messagesEnabled(slot: i32): bool {
  const s = stateOf(slot);
  const msi = load<u32>(s, 8);
  const msix = load<u32>(s, 12);
  return (msi != 0 && (cfg16(slot, msi + 2) & 1) != 0) || (msix != 0 && (cfg16(slot, msix + 2) & 0x8000) != 0);
}

/** The GSI the slot's pin reaches: swizzled at every bridge up to the root bus, then routed. */
function gsiOf(slot: i32, pin: u32): u32 {
  let p = pin;
  let s = slot;
  for (let parent = slotParent(s); parent >= 0; parent = slotParent(s)) {
    p = ((p - 1 + deviceOf(s)) & 3) + 1;
    s = parent;
  }
  return <u32>load<u16>(routes + (<usize>(segmentOf(s) * 128 + deviceOf(s) * 4 + (p - 1)) << 1));
}

/** Brings the slot's line reference in step with its pin, Command and message enables. */
export function intxReevaluate(slot: i32): void {
  const st = stateOf(slot);
  const pin = <u32>load<u8>(st, 1);
  const asserted = load<u8>(st, 2) != 0;
  let want = GSI_NONE;
  if (asserted && pin >= 1 && pin <= 4 && (cfg16(slot, 4) & COMMAND_INTX_DISABLE) == 0 && !messagesEnabled(slot)) {
    want = gsiOf(slot, pin);
  }
  const held = <u32>load<u16>(st, 4);
  if (want == held) return;
  if (held != GSI_NONE) dec(held);
  if (want != GSI_NONE) inc(want);
  store<u16>(st, <u16>want, 4);
}

/** A device model drives its pin. Interrupt Status follows the level at once. */
export function intxSet(slot: i32, level: i32): i32 {
  if (!irqAttached(slot)) return ERR_NOT_FOUND;
  const st = stateOf(slot);
  const pin = <u32>load<u8>(st, 1);
  if (pin < 1 || pin > 4) return ERR_RANGE;
  store<u8>(st, level != 0 ? 1 : 0, 2);
  const status = blockOf(slot) + 6;
  store<u8>(status, level != 0 ? load<u8>(status) | STATUS_INTERRUPT : load<u8>(status) & ~STATUS_INTERRUPT);
  intxReevaluate(slot);
  return OK;
}

/** Sets one routing entry and re-evaluates every function (a held line may move). */
export function intxRoute(seg: u32, device: u32, pin: u32, gsi: u32): i32 {
  if (seg >= MAX_SEGMENTS || device > 31 || pin < 1 || pin > 4 || (gsi >= MAX_GSI && gsi != GSI_NONE)) return ERR_RANGE;
  store<u16>(routes + (<usize>(seg * 128 + device * 4 + (pin - 1)) << 1), <u16>gsi);
  for (let s: i32 = 0; s < slotLimit; s++) {
    if (irqAttached(s)) intxReevaluate(s);
  }
  return OK;
}

export function intxRouteOf(seg: u32, device: u32, pin: u32): u32 {
  if (seg >= MAX_SEGMENTS || device > 31 || pin < 1 || pin > 4) return GSI_NONE;
  return <u32>load<u16>(routes + (<usize>(seg * 128 + device * 4 + (pin - 1)) << 1));
}

/** The slot goes away: drop its line reference. */
export function intxRelease(slot: i32): void {
  const st = stateOf(slot);
  const held = <u32>load<u16>(st, 4);
  if (held != GSI_NONE) dec(held);
  store<u16>(st, <u16>GSI_NONE, 4);
  store<u8>(st, 0, 2);
}

/** The routing entry at seg * 128 + device * 4 + (pin - 1), for state save. */
export function routeAt(index: u32): u32 {
  return <u32>load<u16>(routes + (<usize>index << 1));
}

/** State load: every routing entry at once (`gsis`: MAX_SEGMENTS * 128 u16 in routeAt order), and
 * every line's reference count recounted from the lines the attached functions hold. */
export function intxRestore(gsis: usize): void {
  memory.copy(routes, gsis, <usize>MAX_SEGMENTS * 128 * 2);
  memory.fill(counts, 0, <usize>MAX_GSI * 4);
  for (let s: i32 = 0; s < slotLimit; s++) {
    if (!irqAttached(s)) continue;
    const held = <u32>load<u16>(stateOf(s), 4);
    if (held != GSI_NONE) store<u32>(counts + (<usize>held << 2), load<u32>(counts + (<usize>held << 2)) + 1);
  }
}

export function lineLevel(gsi: u32): u32 {
  return gsi < MAX_GSI ? load<u32>(counts + (<usize>gsi << 2)) : 0;
}

