// TypeScript twin of assembly/config/store.ts: the same slots, planes and one config path, with
// the same results for every input. Keep the two files in step (see assembly/config/layout.ts
// for the layout both follow).
import { Limits, Status, onesFor } from '../backend.js';
import { HOOK_BRIDGE } from './bridges.js';
import { HOOK_PM, D0, D3HOT } from './power.js';

export { onesFor };

const PLANE = Limits.planeSize;
const BLOCK = PLANE * 3;
const HEADER_TYPE = 0x0e;
const MULTI_FUNCTION = 0x80;
/** PCI Bus Power Management 1.2 §3.2: capability ID 01h; PMC at +2, PMCSR at +4. */
const CAP_PM = 0x01;
const PMC = 2;
const PMCSR = 4;


/** Contiguous byte lanes within one dword, size 1/2/4 (PCI Local Bus 3.0 §3.2.2.3.2). */
function isTransaction(reg: number, size: number): boolean {
  return (size === 1 || size === 2 || size === 4) && (reg & 3) + size <= 4;
}

function isIndex(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

/**
 * What follows a write to a hooked dword (dispatch/hooks in the Wasm core): `old` is the dword
 * before the write, `device` true for a device-side change (slotPoke), false for a guest's write.
 */
export type HookRunner = (hook: number, slot: number, reg: number, old: number, device: boolean) => void;

/**
 * Where functions sit. A function sits on a bus "node": a root bus of a segment (its number is
 * fixed) or the secondary bus of a bridge (its number is whatever the bridge's Secondary Bus
 * Number register says, when the bridges above forward it). Node ids: slot + 1 for a bridge's
 * secondary bus, ROOT_NODE + seg * 256 + bus for a root bus.
 */
export const ROOT_NODE = Limits.functions + 1;
const NODES = ROOT_NODE + Limits.segments * 256;
const SECONDARY_BUS = 0x19;
const SUBORDINATE_BUS = 0x1a;
const BUS_NUMBERS_DWORD = 6;
const EMPTY = new Uint16Array(256);

export class ConfigStore {
  /** Per slot, one byte per config dword: the hook code of the mechanism following writes. */
  readonly hooks: (Uint8Array | undefined)[] = new Array(Limits.functions);
  /** Set by the core: runs a hook; releases what mechanisms hold for a removed slot. */
  runHook: HookRunner = () => {};
  releaseHooks: (slot: number) => void = () => {};
  /** seg<<8 | bus -> node id (0 = no bus answers that number). */
  private readonly busNodes = new Uint16Array(Limits.segments * 256);
  /** Per node: dev<<3|fn -> slot+1; the shared all-zero EMPTY until the node has a function (and
   * for node 0, "no bus"), so a lookup is three typed-array loads with no test in between. */
  private readonly nodeTables: Uint16Array[] = new Array<Uint16Array>(NODES).fill(EMPTY);
  /** Per node: functions on it; the bus number it answers now (-1 = none). */
  private readonly nodeCount = new Uint16Array(NODES);
  private readonly nodeBus = new Int16Array(NODES).fill(-1);
  private readonly blocks: (Uint8Array | undefined)[] = new Array(Limits.functions);
  private readonly views: (DataView | undefined)[] = new Array(Limits.functions);
  private readonly sizes = new Uint32Array(Limits.functions);
  /** Per slot: segment, node, dev<<3|fn. */
  private readonly segs = new Uint8Array(Limits.functions);
  private readonly nodes = new Uint16Array(Limits.functions);
  private readonly devfns = new Uint8Array(Limits.functions);
  /** Per slot: offset of the power-management capability, 0 = none (found when planes are loaded). */
  private readonly pm = new Uint16Array(Limits.functions);
  /** One past the highest slot ever used: walks over slots stop there. */
  slotLimit = 0;

  findSlot(seg: number, bus: number, dev: number, fn: number): number {
    if (!isIndex(seg, Limits.segments - 1) || !isIndex(bus, 255) || !isIndex(dev, 31) || !isIndex(fn, 7)) return -1;
    return this.nodeTables[this.busNodes[(seg << 8) | bus]][(dev << 3) | fn] - 1;
  }

  private slotValid(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < Limits.functions && this.sizes[slot] !== 0;
  }

  /** Whether a slot holds a function with a type 1 (bridge) header. */
  isBridge(slot: number): boolean {
    return this.slotValid(slot) && (this.blocks[slot]![HEADER_TYPE] & 0x7f) === 1;
  }

  /** The bridge a function sits below, or -1 (root bus, or not a function). */
  parentOf(slot: number): number {
    if (!this.slotValid(slot)) return -1;
    const node = this.nodes[slot];
    return node < ROOT_NODE ? node - 1 : -1;
  }

  /** Whether `slot` sits somewhere below bridge `bridge`. */
  isBelow(slot: number, bridge: number): boolean {
    for (let p = this.parentOf(slot); p >= 0; p = this.parentOf(p)) {
      if (p === bridge) return true;
    }
    return false;
  }

  /**
   * Whether the function may master the bus: Bus Master Enable set and in D0 (PCI Bus PM 1.2
   * §5.3), and every bridge above it with Bus Master Enable set (PCI-to-PCI Bridge 1.2 §3.2.2) and
   * not in D3hot (mastering in assembly/config/store.ts).
   */
  mastering(slot: number): boolean {
    if (this.powerState(slot) !== D0) return false;
    for (let s = slot; s >= 0; s = this.parentOf(s)) {
      if ((this.blocks[s]![4] & 4) === 0) return false;
      if (s !== slot && this.powerState(s) === D3HOT) return false;
    }
    return true;
  }

  /**
   * The first capability with `id` in the standard list from 0x34 (PCI 3.0 §6.7), or 0. Bounded
   * against hostile planes: at most 48 hops, pointers masked to dwords, below 0x40 ends the list.
   * The caller has validated the slot.
   */
  findCapability(slot: number, id: number): number {
    const block = this.blocks[slot]!;
    // No list unless Status says there is one (PCI 3.0 §6.2.3 bit 4, §6.7).
    if ((block[0x06] & 0x10) === 0) return 0;
    let p = block[0x34] & 0xfc;
    for (let hops = 0; p >= 0x40 && hops < 48; hops++) {
      if (block[p] === id) return p;
      p = block[p + 1] & 0xfc;
    }
    return 0;
  }

  /** Offset of a valid slot's power-management capability, 0 when it has none. */
  pmCapOf(slot: number): number {
    return this.pm[slot];
  }

  /** PMCSR PowerState of a valid slot (0 D0 .. 3 D3hot), read from config bytes; D0 without PM. */
  powerState(slot: number): number {
    const cap = this.pm[slot];
    return cap === 0 ? D0 : this.blocks[slot]![cap + PMCSR] & 3;
  }

  /** D0 and D3hot always; D1 and D2 when PMC bits 9 and 10 say so (PCI Bus PM 1.2 §3.2.3). */
  pmSupports(slot: number, cap: number, state: number): boolean {
    const pmc = this.views[slot]!.getUint16(cap + PMC, true);
    if (state === 1) return (pmc & 0x200) !== 0;
    if (state === 2) return (pmc & 0x400) !== 0;
    return true;
  }

  /**
   * Finds the PM capability when planes are loaded and hooks its PMCSR dword unless another code
   * holds it (the PM rule runs for any hooked dword; pmLocate in assembly/config/store.ts).
   */
  pmLocate(slot: number): void {
    const hooks = this.hooks[slot]!;
    const old = this.pm[slot];
    if (old !== 0 && hooks[(old + 4) >> 2] === HOOK_PM) hooks[(old + 4) >> 2] = 0;
    let cap = this.findCapability(slot, CAP_PM);
    if (cap + 8 > Limits.conventionalSize) cap = 0;
    this.pm[slot] = cap;
    if (cap !== 0 && hooks[(cap + 4) >> 2] === 0) hooks[(cap + 4) >> 2] = HOOK_PM;
  }

  /** The device number of a slot on the bus it sits on (physical, not the bus number); 0 for no slot. */
  devOf(slot: number): number {
    return this.slotValid(slot) ? this.devfns[slot] >> 3 : 0;
  }

  segmentOf(slot: number): number {
    return this.slotValid(slot) ? this.segs[slot] : 0;
  }

  /** seg<<16 | bus<<8 | dev<<3 | fn where config cycles reach the slot now, or -1. */
  addressOf(slot: number): number {
    if (!this.slotValid(slot)) return -1;
    const bus = this.nodeBus[this.nodes[slot]];
    return bus < 0 ? -1 : (this.segs[slot] << 16) | (bus << 8) | this.devfns[slot];
  }

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    if (!isIndex(seg, Limits.segments - 1) || !isIndex(bus, 255)) return Status.RANGE;
    return this.place(seg, ROOT_NODE + seg * 256 + bus, dev, fn, size);
  }

  /** Adds a function on the secondary bus of a bridge (a slot with a type 1 header). */
  addFunctionBelow(bridge: number, dev: number, fn: number, size: number): number {
    if (!this.slotValid(bridge)) return Status.NOT_FOUND;
    if (!this.isBridge(bridge)) return Status.RANGE;
    return this.place(this.segs[bridge], bridge + 1, dev, fn, size);
  }

  private place(seg: number, node: number, dev: number, fn: number, size: number): number {
    if (!isIndex(dev, 31) || !isIndex(fn, 7)) return Status.RANGE;
    if (size !== Limits.conventionalSize && size !== PLANE) return Status.RANGE;
    const devfn = (dev << 3) | fn;
    let table = this.nodeTables[node];
    if (table[devfn] !== 0) return Status.EXISTS;
    const slot = this.sizes.indexOf(0);
    if (slot < 0) return Status.FULL;
    if (table === EMPTY) table = this.nodeTables[node] = new Uint16Array(256);
    let block = this.blocks[slot];
    if (block === undefined) {
      block = this.blocks[slot] = new Uint8Array(BLOCK);
      this.views[slot] = new DataView(block.buffer);
      this.hooks[slot] = new Uint8Array(PLANE / 4);
    }
    block.fill(0);
    this.hooks[slot]!.fill(0);
    this.pm[slot] = 0;
    this.sizes[slot] = size;
    this.segs[slot] = seg;
    this.nodes[slot] = node;
    this.devfns[slot] = devfn;
    if (slot >= this.slotLimit) this.slotLimit = slot + 1;
    table[devfn] = slot + 1;
    this.nodeCount[node]++;
    this.refreshMultiFunction(node, dev);
    this.route(seg);
    return slot;
  }

  removeFunction(slot: number): number {
    if (!this.slotValid(slot)) return Status.NOT_FOUND;
    // Functions below a bridge would be left on a bus nothing reaches: remove them first.
    if (this.nodeCount[slot + 1] !== 0) return Status.BUSY;
    this.releaseHooks(slot);
    const node = this.nodes[slot];
    const devfn = this.devfns[slot];
    this.nodeTables[node][devfn] = 0;
    this.nodeCount[node]--;
    this.sizes[slot] = 0;
    this.refreshMultiFunction(node, devfn >> 3);
    this.route(this.segs[slot]);
    return Status.OK;
  }

  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1c: Uint8Array): number {
    if (!this.slotValid(slot)) return Status.NOT_FOUND;
    const block = this.blocks[slot]!;
    block.fill(0);
    block.set(config.subarray(0, PLANE), 0);
    block.set(wmask.subarray(0, PLANE), PLANE);
    block.set(w1c.subarray(0, PLANE), PLANE * 2);
    this.refreshMultiFunction(this.nodes[slot], this.devfns[slot] >> 3);
    this.markStoreHooks(slot);
    // The header type or bus numbers may have changed.
    this.route(this.segs[slot]);
    return Status.OK;
  }

  /** The hooks the store sets itself: a bridge's bus numbers and the PMCSR dword (markStoreHooks in Wasm). */
  markStoreHooks(slot: number): void {
    this.markBusNumbers(slot);
    this.pmLocate(slot);
  }

  /** A bridge's bus-number dword is hooked so that config routing follows the guest's writes. */
  markBusNumbers(slot: number): void {
    const hooks = this.hooks[slot]!;
    if (this.isBridge(slot)) hooks[BUS_NUMBERS_DWORD] = HOOK_BRIDGE;
    else if (hooks[BUS_NUMBERS_DWORD] === HOOK_BRIDGE) hooks[BUS_NUMBERS_DWORD] = 0;
  }

  /**
   * Recomputes which bus answers each bus number of a segment (PCI-to-PCI Bridge 1.2 §3.2.5.3;
   * QEMU's pci_find_bus_nr): root buses answer their own numbers; a bridge claims bus numbers
   * [secondary, subordinate] among those forwarded to its primary bus, its secondary bus answers
   * the secondary number, and the rest go further down. Where ranges overlap, each number goes to
   * the first bus met that takes it as its secondary (root buses by number, then devices by
   * dev.fn, depth first): a number inside one bridge's range that nothing below it takes stays
   * free for a later bridge (assembly/config/DESIGN.md). A function of config space alone.
   */
  route(seg: number): void {
    const map = this.busNodes.subarray(seg << 8, (seg << 8) + 256);
    for (let b = 0; b < 256; b++) {
      if (map[b] !== 0) this.nodeBus[map[b]] = -1;
    }
    map.fill(0);
    const root = ROOT_NODE + seg * 256;
    for (let b = 0; b < 256; b++) {
      if (this.nodeCount[root + b] !== 0) {
        map[b] = root + b;
        this.nodeBus[root + b] = b;
      }
    }
    for (let b = 0; b < 256; b++) {
      if (map[b] === root + b) this.routeBelow(map, root + b, 0, 255);
    }
  }

  /** Gives bus numbers to the bridges on `node`, which sees type 1 cycles for buses lo..hi. */
  private routeBelow(map: Uint16Array, node: number, lo: number, hi: number): void {
    const table = this.nodeTables[node];
    for (let devfn = 0; devfn < 256; devfn++) {
      const slot = table[devfn] - 1;
      if (slot < 0 || (this.blocks[slot]![HEADER_TYPE] & 0x7f) !== 1) continue;
      const block = this.blocks[slot]!;
      const secondary = block[SECONDARY_BUS];
      const subordinate = block[SUBORDINATE_BUS];
      if (secondary < lo || secondary > hi || secondary > subordinate || map[secondary] !== 0) continue;
      map[secondary] = slot + 1;
      this.nodeBus[slot + 1] = secondary;
      if (this.nodeCount[slot + 1] !== 0) this.routeBelow(map, slot + 1, secondary, Math.min(subordinate, hi));
    }
  }

  /** Bit 7 of function 0's Header Type = another function of the device exists (PCI 3.0 §6.2.1). */
  private refreshMultiFunction(node: number, dev: number): void {
    const table = this.nodeTables[node];
    const f0 = table[dev << 3] - 1;
    if (f0 < 0) return;
    let others = false;
    for (let fn = 1; fn < 8; fn++) {
      if (table[(dev << 3) | fn] !== 0) { others = true; break; }
    }
    const block = this.blocks[f0]!;
    block[HEADER_TYPE] = others ? block[HEADER_TYPE] | MULTI_FUNCTION : block[HEADER_TYPE] & ~MULTI_FUNCTION;
  }

  slotRead(slot: number, reg: number, size: number): number {
    if (!isTransaction(reg, size) || !(reg < this.sizes[slot])) return onesFor(size);
    const view = this.views[slot]!;
    if (size === 4) return view.getUint32(reg, true);
    if (size === 2) return view.getUint16(reg, true);
    return this.blocks[slot]![reg];
  }

  slotWrite(slot: number, reg: number, size: number, value: number): void {
    if (!isTransaction(reg, size) || !(reg < this.sizes[slot])) return;
    const view = this.views[slot]!;
    const hook = this.hooks[slot]![reg >> 2];
    const old = hook !== 0 ? view.getUint32(reg & ~3, true) : 0;
    if (size === 4) {
      const wm = view.getUint32(reg + PLANE, true);
      const w1 = view.getUint32(reg + PLANE * 2, true);
      view.setUint32(reg, ((view.getUint32(reg, true) & ~wm) | (value & wm)) & ~(value & w1), true);
    } else if (size === 2) {
      const wm = view.getUint16(reg + PLANE, true);
      const w1 = view.getUint16(reg + PLANE * 2, true);
      view.setUint16(reg, ((view.getUint16(reg, true) & ~wm) | (value & wm)) & ~(value & w1), true);
    } else {
      const block = this.blocks[slot]!;
      const wm = block[reg + PLANE];
      const w1 = block[reg + PLANE * 2];
      block[reg] = ((block[reg] & ~wm) | (value & wm)) & ~(value & w1);
    }
    if (hook !== 0) this.runHook(hook, slot, reg, old, false);
  }

  /**
   * A device-side change (slotPoke in assembly/config/store.ts): the bytes become exactly `value`,
   * then the dword's hook runs as after a guest write. OK, NOT_FOUND or RANGE. Arguments are
   * already coerced (i32 slot and size, u32 reg and value).
   */
  slotPoke(slot: number, reg: number, size: number, value: number): number {
    if (!this.slotValid(slot)) return Status.NOT_FOUND;
    if (!isTransaction(reg, size) || !(reg < this.sizes[slot])) return Status.RANGE;
    const view = this.views[slot]!;
    const hook = this.hooks[slot]![reg >> 2];
    const old = view.getUint32(reg & ~3, true);
    if (size === 4) view.setUint32(reg, value, true);
    else if (size === 2) view.setUint16(reg, value & 0xffff, true);
    else this.blocks[slot]![reg] = value & 0xff;
    if (hook !== 0) this.runHook(hook, slot, reg, old, true);
    return Status.OK;
  }

  /** seg<<24 | node<<8 | dev<<3 | fn of a valid slot, else 0 (state save and load, as the Wasm core's slotHomeOf). */
  slotHome(slot: number): number {
    return this.slotValid(slot) ? ((this.segs[slot] << 24) | (this.nodes[slot] << 8) | this.devfns[slot]) >>> 0 : 0;
  }

  /** Raw access for the mechanisms that follow config writes (the block of a valid slot). */
  block(slot: number): Uint8Array {
    return this.blocks[slot]!;
  }

  view(slot: number): DataView {
    return this.views[slot]!;
  }

  sizeOf(slot: number): number {
    return Number.isInteger(slot) && slot >= 0 && slot < Limits.functions ? this.sizes[slot] : 0;
  }

  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number {
    const slot = this.findSlot(seg, bus, dev, fn);
    if (slot < 0) return onesFor(size);
    return this.slotRead(slot, reg, size);
  }

  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void {
    const slot = this.findSlot(seg, bus, dev, fn);
    if (slot < 0) return;
    this.slotWrite(slot, reg, size, value >>> 0);
  }

  planeByte(slot: number, plane: number, offset: number): number {
    if (!this.slotValid(slot) || !isIndex(plane, 2) || !isIndex(offset, PLANE - 1)) return 0;
    return this.blocks[slot]![plane * PLANE + offset];
  }
}
