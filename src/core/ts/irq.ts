// TypeScript twin of assembly/irq/: INTx lines, MSI and MSI-X, with the same results and the same
// event order as the Wasm core for every input. Keep the two in step.
//
// INTx: a function's pin reaches a line (GSI) through the swizzle at every bridge above it
// (PCI-to-PCI Bridge 1.2 §9.1: pin' = (pin - 1 + device) mod 4 + 1) and then the platform's
// routing table (like ACPI _PRT). Lines are level-triggered and shared, so each holds a reference
// count and only its 0->1 and 1->0 changes are queued. Interrupt Disable (Command bit 10, PCI 3.0
// §6.2.2) and an enabled MSI / MSI-X capability stop a function driving its line; Interrupt Status
// (Status bit 3, §6.2.3) follows the device model's level regardless.
//
// MSI (PCI 3.0 §6.8.1) is served from the config plane itself (the mask and pending bits live
// there). MSI-X (§6.8.2) has its table and PBA in a BAR: the core keeps them per slot and serves
// them through two BAR handler regions, so they move with the BAR.
import type { RawIrqEvent } from '../backend.js';
import { Irq, IrqResult, Limits, Status, onesFor } from '../backend.js';
import type { BarMapper } from './bar-mapper.js';
import type { ConfigStore } from './config-store.js';
import type { Pair } from './access.js';
import { Counter, Kind } from './regions.js';
import type { Regions } from './regions.js';
import type { InterruptState } from '../state.js';
import { intIn, isU32 } from './state-values.js';

const { MAX_GSI, GSI_NONE, CAPACITY, KIND_LINE, KIND_MESSAGE, HOOK_MSI, HOOK_MSIX } = Irq;
const F = Limits.functions;
const CAP_MSI = 0x05;
const CAP_MSIX = 0x11;
const COMMAND_INTX_DISABLE = 0x400;
const STATUS_INTERRUPT = 0x08;
const MSIX_ENABLE = 0x8000;
const MSIX_FUNCTION_MASK = 0x4000;

/** Bytes of the PBA of an n-entry table: one bit per entry, in whole qwords (§6.8.2.10). */
function pbaBytes(n: number): number {
  return ((n + 63) >>> 6) << 3;
}

/** Table and PBA accesses must be aligned dwords or qwords (PCI 3.0 §6.8.2.6, §6.8.2.9). */
function validAccess(offset: number, size: number, bytes: number): boolean {
  return ((size === 4 && offset % 4 === 0) || (size === 8 && offset % 8 === 0)) && offset + size <= bytes;
}

function readOnes(size: number, out: Pair): void {
  out.lo = onesFor(size);
  out.hi = size === 8 ? 0xffffffff : 0;
}

/** Where a function's MSI registers are, from Message Control (read live: the guest changes it). */
interface MsiLayout {
  enabled: boolean;
  vectors: number;
  perVectorMask: boolean;
  addressLow: number;
  addressHigh: number;
  data: number;
  maskReg: number;
  pendingReg: number;
}

export class Interrupts {
  // Per slot.
  private readonly attachedFlag = new Uint8Array(F);
  private readonly pin = new Uint8Array(F);
  private readonly asserted = new Uint8Array(F);
  private readonly contributed = new Uint16Array(F).fill(GSI_NONE);
  private readonly msiCap = new Uint8Array(F);
  private readonly msixCap = new Uint8Array(F);
  private readonly msixSize = new Uint16Array(F);
  /** MSI-X table (N * 16 bytes) followed by the PBA, per slot. */
  private readonly msixStore: (DataView | undefined)[] = new Array(F);
  // Lines and routing: seg * 128 + device * 4 + (pin - 1) -> GSI.
  private readonly counts = new Uint32Array(MAX_GSI);
  private readonly routes = new Uint16Array(Limits.segments * 128).fill(GSI_NONE);
  // The event ring: kind, slot, and three words (line: gsi, level; message: data, address lo/hi).
  private readonly qKind = new Uint8Array(CAPACITY);
  private readonly qSlot = new Int32Array(CAPACITY);
  private readonly qA = new Uint32Array(CAPACITY);
  private readonly qB = new Uint32Array(CAPACITY);
  private readonly qC = new Uint32Array(CAPACITY);
  private head = 0;
  private count = 0;
  private readonly m: MsiLayout = {
    enabled: false, vectors: 1, perVectorMask: false, addressLow: 0, addressHigh: 0, data: 0, maskReg: 0, pendingReg: 0,
  };

  constructor(
    private readonly store: ConfigStore,
    private readonly bars: BarMapper,
    private readonly regions: Regions,
  ) {}

  /** Whether irqAttach has run for a valid slot (any number is safe). */
  attached(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < F && this.store.sizeOf(slot) !== 0 && this.attachedFlag[slot] === 1;
  }

  private cfg8(slot: number, reg: number): number {
    return this.store.block(slot)[reg];
  }
  private cfg16(slot: number, reg: number): number {
    return this.store.view(slot).getUint16(reg, true);
  }
  private cfg32(slot: number, reg: number): number {
    return this.store.view(slot).getUint32(reg, true);
  }

  /** The store's bounded capability walk (ConfigStore.findCapability), shared with power management. */
  private findCapability(slot: number, id: number): number {
    return this.store.findCapability(slot, id);
  }

  // ------------------------------------------------------------------------------------------
  // Attach and release

  /** Reads pin and capabilities, maps the MSI-X table and PBA into their BAR, hooks the controls. */
  attach(slot: number): number {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < F) || this.store.sizeOf(slot) === 0) return Status.NOT_FOUND;
    if (this.attachedFlag[slot] === 1) return Status.EXISTS;
    let pin = this.cfg8(slot, 0x3d);
    if (pin > 4) pin = 0;
    const msi = this.findCapability(slot, CAP_MSI);
    const msix = this.findCapability(slot, CAP_MSIX);
    let n = 0;
    if (msix !== 0) {
      n = (this.cfg16(slot, msix + 2) & 0x7ff) + 1;
      const table = this.cfg32(slot, msix + 4);
      const pba = this.cfg32(slot, msix + 8);
      const tableBar = table & 7;
      const pbaBar = pba & 7;
      const tableId = this.bars.handler(slot, tableBar, (table & ~7) >>> 0, n * 16, Kind.MSIX_TABLE, slot);
      if (tableId < 0) return tableId;
      const pbaId = this.bars.handler(slot, pbaBar, (pba & ~7) >>> 0, pbaBytes(n), Kind.MSIX_PBA, slot);
      if (pbaId < 0) {
        this.bars.removeHandler(slot, tableBar, tableId);
        return pbaId;
      }
      // At reset every entry is masked (Vector Control bit 0 set) and nothing is pending (§6.8.2.9).
      const bytes = n * 16 + pbaBytes(n);
      let st = this.msixStore[slot];
      if (st === undefined || st.byteLength < bytes) st = this.msixStore[slot] = new DataView(new ArrayBuffer(bytes));
      new Uint8Array(st.buffer, 0, bytes).fill(0);
      for (let k = 0; k < n; k++) st.setUint32(k * 16 + 12, 1, true);
    }
    this.attachedFlag[slot] = 1;
    this.pin[slot] = pin;
    this.asserted[slot] = 0;
    this.contributed[slot] = GSI_NONE;
    this.msiCap[slot] = msi;
    this.msixCap[slot] = msix;
    this.msixSize[slot] = n;
    const hooks = this.store.hooks[slot]!;
    if (msi !== 0) {
      const l = this.msiLayout(slot, msi);
      hooks[msi >> 2] = HOOK_MSI;
      if (l.perVectorMask) hooks[l.maskReg >> 2] = HOOK_MSI;
    }
    if (msix !== 0) hooks[msix >> 2] = HOOK_MSIX;
    return Status.OK;
  }

  /** The function goes away: drop its line reference (before the slot is freed) and forget it. */
  release(slot: number): void {
    if (!this.attached(slot)) return;
    const held = this.contributed[slot];
    if (held !== GSI_NONE) this.dec(held);
    this.contributed[slot] = GSI_NONE;
    this.asserted[slot] = 0;
    this.attachedFlag[slot] = 0;
    this.msiCap[slot] = 0;
    this.msixCap[slot] = 0;
    this.msixSize[slot] = 0;
    // The MSI-X regions are handler regions of the BAR: barDetach frees them.
  }

  // ------------------------------------------------------------------------------------------
  // INTx

  private inc(gsi: number): void {
    if (++this.counts[gsi] === 1) this.queue(KIND_LINE, -1, gsi, 1, 0);
  }

  private dec(gsi: number): void {
    if (--this.counts[gsi] === 0) this.queue(KIND_LINE, -1, gsi, 0, 0);
  }

  private messagesEnabled(slot: number): boolean {
    const msi = this.msiCap[slot];
    const msix = this.msixCap[slot];
    return (msi !== 0 && (this.cfg16(slot, msi + 2) & 1) !== 0) || (msix !== 0 && (this.cfg16(slot, msix + 2) & MSIX_ENABLE) !== 0);
  }

  /** The line a pin reaches: swizzled at each bridge up to the root bus (§9.1), then routed. */
  private gsiOf(slot: number, pin: number): number {
    let p = pin;
    let s = slot;
    for (let parent = this.store.parentOf(s); parent >= 0; parent = this.store.parentOf(s)) {
      p = ((p - 1 + this.store.devOf(s)) % 4) + 1;
      s = parent;
    }
    return this.routes[this.store.segmentOf(s) * 128 + this.store.devOf(s) * 4 + (p - 1)];
  }

  /** Brings the slot's line reference in step with its level, pin, Command and message enables. */
  private reevaluate(slot: number): void {
    const pin = this.pin[slot];
    let want: number = GSI_NONE;
    if (this.asserted[slot] !== 0 && pin >= 1 && pin <= 4 && (this.cfg16(slot, 4) & COMMAND_INTX_DISABLE) === 0 && !this.messagesEnabled(slot)) {
      want = this.gsiOf(slot, pin);
    }
    const held = this.contributed[slot];
    if (want === held) return;
    if (held !== GSI_NONE) this.dec(held);
    if (want !== GSI_NONE) this.inc(want);
    this.contributed[slot] = want;
  }

  /** A device model drives its pin; Interrupt Status (Status bit 3) follows the level at once. */
  intxSet(slot: number, level: number): number {
    if (!this.attached(slot)) return Status.NOT_FOUND;
    if (this.pin[slot] === 0) return Status.RANGE;
    const on = level !== 0;
    this.asserted[slot] = on ? 1 : 0;
    const block = this.store.block(slot);
    block[6] = on ? block[6] | STATUS_INTERRUPT : block[6] & ~STATUS_INTERRUPT;
    this.reevaluate(slot);
    return Status.OK;
  }

  /** Sets one routing entry; every attached function is re-evaluated (a held line may move). */
  intxRoute(seg: number, device: number, pin: number, gsi: number): number {
    if (!(seg < Limits.segments && device <= 31 && pin >= 1 && pin <= 4 && (gsi < MAX_GSI || gsi === GSI_NONE))) return Status.RANGE;
    this.routes[seg * 128 + device * 4 + (pin - 1)] = gsi;
    for (let s = 0; s < this.store.slotLimit; s++) {
      if (this.attached(s)) this.reevaluate(s);
    }
    return Status.OK;
  }

  intxRouteOf(seg: number, device: number, pin: number): number {
    if (!(seg < Limits.segments && device <= 31 && pin >= 1 && pin <= 4)) return GSI_NONE;
    return this.routes[seg * 128 + device * 4 + (pin - 1)];
  }

  lineLevel(gsi: number): number {
    return gsi < MAX_GSI ? this.counts[gsi] : 0;
  }

  /** Any write to Command's dword (after the BAR / bridge handler): Interrupt Disable may have changed. */
  commandWritten(slot: number): void {
    if (this.attached(slot)) this.reevaluate(slot);
  }

  // ------------------------------------------------------------------------------------------
  // MSI (PCI 3.0 §6.8.1)

  private msiLayout(slot: number, cap: number): MsiLayout {
    const control = this.cfg16(slot, cap + 2);
    const mmc = (control >> 1) & 7;
    const mme = (control >> 4) & 7;
    const is64 = (control & 0x80) !== 0;
    const dataReg = cap + (is64 ? 12 : 8);
    const m = this.m;
    m.enabled = (control & 1) !== 0;
    m.vectors = 1 << Math.min(mme, mmc, 5);
    m.perVectorMask = (control & 0x100) !== 0;
    m.addressLow = this.cfg32(slot, cap + 4);
    m.addressHigh = is64 ? this.cfg32(slot, cap + 8) : 0;
    m.data = this.cfg16(slot, dataReg);
    m.maskReg = dataReg + 4;
    m.pendingReg = dataReg + 8;
    return m;
  }

  /** Message Data's low log2(n) bits carry the vector number (§6.8.1.8). */
  private msiSend(slot: number, l: MsiLayout, k: number): void {
    this.queue(KIND_MESSAGE, slot, ((l.data & ~(l.vectors - 1)) | k) >>> 0, l.addressLow, l.addressHigh);
  }

  msiSignal(slot: number, vector: number): number {
    if (!this.attached(slot)) return Status.NOT_FOUND;
    const cap = this.msiCap[slot];
    if (cap === 0) return Status.NOT_FOUND;
    const l = this.msiLayout(slot, cap);
    if (!l.enabled) return Status.DISABLED;
    if (vector < 0 || vector >= l.vectors) return Status.RANGE;
    const view = this.store.view(slot);
    if (l.perVectorMask && ((view.getUint32(l.maskReg, true) >>> vector) & 1) !== 0) {
      // A masked vector is held as a Pending bit (read-only to the guest: set in the plane directly).
      view.setUint32(l.pendingReg, (view.getUint32(l.pendingReg, true) | (1 << vector)) >>> 0, true);
      return IrqResult.PENDING;
    }
    this.msiSend(slot, l, vector);
    return IrqResult.DELIVERED;
  }

  /** After a write to Message Control or the Mask Bits: INTx gating, then send what is now unmasked. */
  msiWritten(slot: number): void {
    if (!this.attached(slot)) return;
    this.reevaluate(slot);
    const cap = this.msiCap[slot];
    if (cap === 0) return;
    const l = this.msiLayout(slot, cap);
    if (!l.enabled || !l.perVectorMask) return;
    const view = this.store.view(slot);
    for (let k = 0; k < l.vectors; k++) {
      const pending = view.getUint32(l.pendingReg, true);
      if (((pending >>> k) & 1) === 0 || ((view.getUint32(l.maskReg, true) >>> k) & 1) !== 0) continue;
      view.setUint32(l.pendingReg, (pending & ~(1 << k)) >>> 0, true);
      this.msiSend(slot, l, k);
    }
  }

  // ------------------------------------------------------------------------------------------
  // MSI-X (PCI 3.0 §6.8.2)

  private msixControl(slot: number): number {
    return this.cfg16(slot, this.msixCap[slot] + 2);
  }

  private entryMasked(t: DataView, k: number): boolean {
    return (t.getUint32(k * 16 + 12, true) & 1) !== 0;
  }

  private pbaBit(t: DataView, n: number, k: number): boolean {
    return ((t.getUint8(n * 16 + (k >>> 3)) >>> (k & 7)) & 1) !== 0;
  }

  private setPbaBit(t: DataView, n: number, k: number, on: boolean): void {
    const at = n * 16 + (k >>> 3);
    const bit = 1 << (k & 7);
    t.setUint8(at, on ? t.getUint8(at) | bit : t.getUint8(at) & ~bit);
  }

  private msixSend(slot: number, t: DataView, k: number): void {
    const e = k * 16;
    this.queue(KIND_MESSAGE, slot, t.getUint32(e + 8, true), t.getUint32(e, true), t.getUint32(e + 4, true));
  }

  /** Sends entry k if it is pending and neither the function nor the entry masks it any more. */
  private msixRelease(slot: number, k: number): void {
    const c = this.msixControl(slot);
    if ((c & MSIX_ENABLE) === 0 || (c & MSIX_FUNCTION_MASK) !== 0) return;
    const t = this.msixStore[slot]!;
    const n = this.msixSize[slot];
    if (!this.pbaBit(t, n, k) || this.entryMasked(t, k)) return;
    this.setPbaBit(t, n, k, false);
    this.msixSend(slot, t, k);
  }

  msixSignal(slot: number, vector: number): number {
    if (!this.attached(slot) || this.msixCap[slot] === 0) return Status.NOT_FOUND;
    const n = this.msixSize[slot];
    if (vector < 0 || vector >= n) return Status.RANGE;
    const c = this.msixControl(slot);
    if ((c & MSIX_ENABLE) === 0) return Status.DISABLED;
    const t = this.msixStore[slot]!;
    if ((c & MSIX_FUNCTION_MASK) !== 0 || this.entryMasked(t, vector)) {
      this.setPbaBit(t, n, vector, true);
      return IrqResult.PENDING;
    }
    this.msixSend(slot, t, vector);
    return IrqResult.DELIVERED;
  }

  /** After a write to MSI-X Message Control: INTx gating, then send every releasable pending vector. */
  msixWritten(slot: number): void {
    if (!this.attached(slot)) return;
    this.reevaluate(slot);
    if (this.msixCap[slot] === 0) return;
    const n = this.msixSize[slot];
    for (let k = 0; k < n; k++) this.msixRelease(slot, k);
  }

  /** One dword written to the table; Vector Control keeps only its mask bit (the rest is reserved). */
  private tableDword(slot: number, t: DataView, offset: number, value: number): void {
    if (offset % 16 !== 12) {
      t.setUint32(offset, value, true);
      return;
    }
    const was = t.getUint32(offset, true) & 1;
    t.setUint32(offset, value & 1, true);
    if (was === 1 && (value & 1) === 0) this.msixRelease(slot, offset >>> 4);
  }

  /** A guest access to the table region (`offset` inside it); the value read is left in `out`. */
  tableAccess(slot: number, offset: number, size: number, write: boolean, lo: number, hi: number, out: Pair): void {
    const t = this.attached(slot) && this.msixCap[slot] !== 0 ? this.msixStore[slot] : undefined;
    if (t === undefined || !validAccess(offset, size, this.msixSize[slot] * 16)) {
      if (!write) readOnes(size, out);
      return;
    }
    if (write) {
      // An 8-byte write over data + Vector Control stores the data first, then may release.
      this.tableDword(slot, t, offset, lo >>> 0);
      if (size === 8) this.tableDword(slot, t, offset + 4, hi >>> 0);
      return;
    }
    out.lo = t.getUint32(offset, true);
    out.hi = size === 8 ? t.getUint32(offset + 4, true) : 0;
  }

  /** A guest access to the PBA region: read-only, writes are ignored (§6.8.2.10). */
  pbaAccess(slot: number, offset: number, size: number, write: boolean, out: Pair): void {
    const t = this.attached(slot) && this.msixCap[slot] !== 0 ? this.msixStore[slot] : undefined;
    const n = this.msixSize[slot] ?? 0;
    if (t === undefined || !validAccess(offset, size, pbaBytes(n))) {
      if (!write) readOnes(size, out);
      return;
    }
    if (write) return;
    out.lo = t.getUint32(n * 16 + offset, true);
    out.hi = size === 8 ? t.getUint32(n * 16 + offset + 4, true) : 0;
  }

  // ------------------------------------------------------------------------------------------
  // State save and load (src/core/state.ts InterruptState; assembly/state/ in the Wasm core)

  saveState(): InterruptState {
    const functions = [];
    for (let slot = 0; slot < F; slot++) {
      if (!this.attached(slot)) continue;
      const n = this.msixCap[slot] !== 0 ? this.msixSize[slot] : 0;
      const t = this.msixStore[slot];
      const bytes = t === undefined ? new Uint8Array(0) : new Uint8Array(t.buffer, 0, n * 16 + pbaBytes(n));
      functions.push({
        slot, pin: this.pin[slot], asserted: this.asserted[slot] !== 0, line: this.contributed[slot],
        msiCap: this.msiCap[slot], msixCap: this.msixCap[slot], msixTable: bytes.slice(0, n * 16), msixPba: bytes.slice(n * 16),
      });
    }
    const routes = [];
    for (let index = 0; index < this.routes.length; index++) {
      const gsi = this.routes[index];
      if (gsi !== GSI_NONE) routes.push({ seg: index >> 7, device: (index >> 2) & 31, pin: (index & 3) + 1, gsi });
    }
    const events = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % CAPACITY;
      const line = this.qKind[i] === KIND_LINE;
      events.push({
        kind: this.qKind[i], slot: this.qSlot[i], gsi: line ? this.qA[i] : 0, level: line ? this.qB[i] : 0,
        address: line ? 0 : this.qB[i], addressHigh: line ? 0 : this.qC[i], data: line ? 0 : this.qA[i],
      });
    }
    return { functions, routes, events };
  }

  /** OK, or RANGE / MISMATCH with nothing changed: the rules and order of the Wasm core's loader. */
  checkState(s: InterruptState): number {
    if (s.functions.length > F) return Status.RANGE;
    let prev = -1;
    for (const f of s.functions) {
      if (!intIn(f.slot, 0, F - 1) || !intIn(f.pin, 0, 4) || !intIn(f.line, 0, GSI_NONE) || !isU32(f.msiCap) || !isU32(f.msixCap) ||
        f.msixTable.length > 2048 * 16 || f.msixPba.length > pbaBytes(2048)) return Status.RANGE;
      if (f.slot <= prev) return Status.RANGE;
      for (let s2 = prev + 1; s2 < f.slot; s2++) if (this.attached(s2)) return Status.MISMATCH;
      prev = f.slot;
      const slot = f.slot;
      if (!this.attached(slot) || f.pin !== this.pin[slot] || f.msiCap !== this.msiCap[slot] || f.msixCap !== this.msixCap[slot]) return Status.MISMATCH;
      const n = this.msixCap[slot] !== 0 ? this.msixSize[slot] : 0;
      if (f.msixTable.length !== n * 16 || f.msixPba.length !== pbaBytes(n)) return Status.MISMATCH;
      if ((f.asserted && f.pin === 0) || (f.line !== GSI_NONE && f.line >= MAX_GSI) || (!f.asserted && f.line !== GSI_NONE)) return Status.RANGE;
      const table = new DataView(f.msixTable.buffer, f.msixTable.byteOffset, f.msixTable.byteLength);
      for (let v = 0; v < n; v++) if (table.getUint32(v * 16 + 12, true) > 1) return Status.RANGE;
      for (let v = n; v < f.msixPba.length * 8; v++) if ((f.msixPba[v >> 3] >> (v & 7)) & 1) return Status.RANGE;
    }
    for (let s2 = prev + 1; s2 < F; s2++) if (this.attached(s2)) return Status.MISMATCH;
    if (s.routes.length > this.routes.length) return Status.RANGE;
    let prevIndex = -1;
    for (const r of s.routes) {
      if (!intIn(r.seg, 0, Limits.segments - 1) || !intIn(r.device, 0, 31) || !intIn(r.pin, 1, 4) || !intIn(r.gsi, 0, MAX_GSI - 1)) return Status.RANGE;
      const index = r.seg * 128 + r.device * 4 + r.pin - 1;
      if (index <= prevIndex) return Status.RANGE;
      prevIndex = index;
    }
    if (s.events.length > CAPACITY) return Status.RANGE;
    for (const e of s.events) {
      if (!intIn(e.kind, KIND_LINE, KIND_MESSAGE) || !intIn(e.slot, -1, F - 1) || !isU32(e.gsi) || !isU32(e.level) || !isU32(e.address) ||
        !isU32(e.addressHigh) || !isU32(e.data)) return Status.RANGE;
      if (e.kind === KIND_LINE
        ? e.slot !== -1 || e.gsi >= MAX_GSI || e.level > 1 || (e.address | e.addressHigh | e.data) !== 0
        : e.slot < 0 || (e.gsi | e.level) !== 0) return Status.RANGE;
    }
    return Status.OK;
  }

  /** After checkState: the interrupt state becomes `s`; line counts are recounted from the held lines. */
  loadState(s: InterruptState): void {
    for (const f of s.functions) {
      this.asserted[f.slot] = f.asserted ? 1 : 0;
      this.contributed[f.slot] = f.line;
      const t = this.msixStore[f.slot];
      if (t !== undefined) {
        const bytes = new Uint8Array(t.buffer);
        bytes.set(f.msixTable, 0);
        bytes.set(f.msixPba, f.msixTable.length);
      }
    }
    this.routes.fill(GSI_NONE);
    for (const r of s.routes) this.routes[r.seg * 128 + r.device * 4 + r.pin - 1] = r.gsi;
    this.counts.fill(0);
    for (let slot = 0; slot < this.store.slotLimit; slot++) {
      if (this.attached(slot) && this.contributed[slot] !== GSI_NONE) this.counts[this.contributed[slot]]++;
    }
    this.head = 0;
    this.count = s.events.length;
    s.events.forEach((e, i) => {
      const line = e.kind === KIND_LINE;
      this.qKind[i] = e.kind;
      this.qSlot[i] = e.slot;
      this.qA[i] = line ? e.gsi : e.data;
      this.qB[i] = line ? e.level : e.address;
      this.qC[i] = line ? 0 : e.addressHigh;
    });
  }

  // ------------------------------------------------------------------------------------------
  // The event queue (a bounded ring; a full queue drops the new event and counts it)

  private queue(kind: number, slot: number, a: number, b: number, c: number): void {
    if (this.count >= CAPACITY) {
      this.regions.bump(Counter.DROPPED_IRQS);
      return;
    }
    const i = (this.head + this.count) % CAPACITY;
    this.qKind[i] = kind;
    this.qSlot[i] = slot;
    this.qA[i] = a;
    this.qB[i] = b;
    this.qC[i] = c;
    this.count++;
  }

  queued(): number {
    return this.count;
  }

  /** Every queued event, oldest first; the queue is emptied. */
  drain(): RawIrqEvent[] {
    const all: RawIrqEvent[] = [];
    for (; this.count > 0; this.count--) {
      const i = this.head;
      this.head = (this.head + 1) % CAPACITY;
      if (this.qKind[i] === KIND_LINE) {
        all.push({ kind: KIND_LINE, slot: -1, gsi: this.qA[i], level: this.qB[i], address: 0, addressHigh: 0, data: 0 });
      } else {
        all.push({ kind: KIND_MESSAGE, slot: this.qSlot[i], gsi: 0, level: 0, address: this.qB[i], addressHigh: this.qC[i], data: this.qA[i] });
      }
    }
    return all;
  }
}
