// TypeScript twin of assembly/config/store.ts: the same slots, planes and one config path, with
// the same results for every input. Keep the two files in step (see assembly/config/layout.ts
// for the layout both follow).
import { Limits, Status, onesFor } from '../backend.js';

export { onesFor };

const PLANE = Limits.planeSize;
const BLOCK = PLANE * 3;
const HEADER_TYPE = 0x0e;
const MULTI_FUNCTION = 0x80;


/** Contiguous byte lanes within one dword, size 1/2/4 (PCI Local Bus 3.0 §3.2.2.3.2). */
function isTransaction(reg: number, size: number): boolean {
  return (size === 1 || size === 2 || size === 4) && (reg & 3) + size <= 4;
}

function isIndex(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

/** What follows a write to a hooked dword (dispatch/hooks in the Wasm core). */
export type HookRunner = (hook: number, slot: number, reg: number) => void;

export class ConfigStore {
  /** Per slot, one byte per config dword: the hook code of the mechanism following writes. */
  readonly hooks: (Uint8Array | undefined)[] = new Array(Limits.functions);
  /** Set by the core: runs a hook; releases what mechanisms hold for a removed slot. */
  runHook: HookRunner = () => {};
  releaseHooks: (slot: number) => void = () => {};
  /** Per segment: bus<<8|dev<<3|fn -> slot+1. */
  private readonly segTables: (Uint16Array | undefined)[] = new Array(Limits.segments);
  private readonly blocks: (Uint8Array | undefined)[] = new Array(Limits.functions);
  private readonly views: (DataView | undefined)[] = new Array(Limits.functions);
  private readonly sizes = new Uint32Array(Limits.functions);
  private readonly addrs = new Uint32Array(Limits.functions);

  findSlot(seg: number, bus: number, dev: number, fn: number): number {
    if (!isIndex(seg, Limits.segments - 1) || !isIndex(bus, 255) || !isIndex(dev, 31) || !isIndex(fn, 7)) return -1;
    const table = this.segTables[seg];
    if (table === undefined) return -1;
    return table[(bus << 8) | (dev << 3) | fn] - 1;
  }

  private slotValid(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < Limits.functions && this.sizes[slot] !== 0;
  }

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    if (!isIndex(seg, Limits.segments - 1) || !isIndex(bus, 255) || !isIndex(dev, 31) || !isIndex(fn, 7)) return Status.RANGE;
    if (size !== Limits.conventionalSize && size !== PLANE) return Status.RANGE;
    if (this.findSlot(seg, bus, dev, fn) >= 0) return Status.EXISTS;
    const slot = this.sizes.indexOf(0);
    if (slot < 0) return Status.FULL;
    let table = this.segTables[seg];
    if (table === undefined) table = this.segTables[seg] = new Uint16Array(65536);
    let block = this.blocks[slot];
    if (block === undefined) {
      block = this.blocks[slot] = new Uint8Array(BLOCK);
      this.views[slot] = new DataView(block.buffer);
      this.hooks[slot] = new Uint8Array(PLANE / 4);
    }
    block.fill(0);
    this.hooks[slot]!.fill(0);
    this.sizes[slot] = size;
    const index = (bus << 8) | (dev << 3) | fn;
    this.addrs[slot] = (seg << 16) | index;
    table[index] = slot + 1;
    this.refreshMultiFunction(seg, bus, dev);
    return slot;
  }

  removeFunction(slot: number): number {
    if (!this.slotValid(slot)) return Status.NOT_FOUND;
    this.releaseHooks(slot);
    const addr = this.addrs[slot];
    const seg = addr >>> 16;
    this.segTables[seg]![addr & 0xffff] = 0;
    this.sizes[slot] = 0;
    this.addrs[slot] = 0;
    this.refreshMultiFunction(seg, (addr >>> 8) & 0xff, (addr >>> 3) & 0x1f);
    return Status.OK;
  }

  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1c: Uint8Array): number {
    if (!this.slotValid(slot)) return Status.NOT_FOUND;
    const block = this.blocks[slot]!;
    block.fill(0);
    block.set(config.subarray(0, PLANE), 0);
    block.set(wmask.subarray(0, PLANE), PLANE);
    block.set(w1c.subarray(0, PLANE), PLANE * 2);
    const addr = this.addrs[slot];
    this.refreshMultiFunction(addr >>> 16, (addr >>> 8) & 0xff, (addr >>> 3) & 0x1f);
    return Status.OK;
  }

  /** Bit 7 of function 0's Header Type = another function of the device exists (PCI 3.0 §6.2.1). */
  private refreshMultiFunction(seg: number, bus: number, dev: number): void {
    const f0 = this.findSlot(seg, bus, dev, 0);
    if (f0 < 0) return;
    let others = false;
    for (let fn = 1; fn < 8; fn++) {
      if (this.findSlot(seg, bus, dev, fn) >= 0) { others = true; break; }
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
    const hook = this.hooks[slot]![reg >> 2];
    if (hook !== 0) this.runHook(hook, slot, reg);
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
