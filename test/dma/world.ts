// A small machine both cores and the model share: two functions with Bus Master Enable on, a RAM
// layout mixing internal and external regions (adjacent regions, one straddling a 2 MiB edge),
// RAM bytes that differ per address, and helpers that run a DMA on a core the way the bindings
// will (fill the SG list, call, run the external segments, drain faults).
import { expect } from 'vitest';
import { runSegments, readFaults, type DmaFault } from '../../src/core/ts/dma/index.js';
import { SG_BYTES } from '../../src/core/ts/dma/layout.js';
import { newCores, type Core } from './wasm.js';
import { DmaModel } from './model.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** [base, size, internal]: region indexes 0..3 in this order. */
export const RAM_LAYOUT: Array<[number, number, boolean]> = [
  [0, 64 * KiB, true],
  [64 * KiB, 64 * KiB, false],                // adjacent to region 0, external
  [2 * MiB - 32 * KiB, 128 * KiB, true],      // straddles the 2 MiB edge
  [4 * MiB, 64 * KiB, false],
];

/** A byte that depends on the guest-physical address (and a seed). */
export function patternAt(gpa: number, seed = 0): number {
  return ((Math.imul(gpa ^ seed, 0x9e3779b1) >>> 24) ^ (gpa >>> 12)) & 0xff;
}

export interface Side {
  core: Core;
  /** External RAM by region index (undefined for internal regions). */
  ext: (Uint8Array | undefined)[];
}

export interface World {
  sides: Side[];
  model: DmaModel;
  slots: number[];
}

/** Config space with Bus Master Enable set and Command bits 0-2 writable. */
export function commandPlanes(command: number): [Uint8Array, Uint8Array] {
  const config = new Uint8Array(256);
  const wmask = new Uint8Array(256);
  config[0] = 0xf4; config[1] = 0x1a; // a vendor id, so the function looks real
  config[4] = command;
  wmask[4] = 0x07;
  return [config, wmask];
}

export async function makeWorld(layout = RAM_LAYOUT): Promise<World> {
  const model = new DmaModel();
  const sides: Side[] = [];
  let slots: number[] = [];
  for (const core of await newCores()) {
    const s = [core.addFunction(0, 0, 3, 0, 256), core.addFunction(0, 0, 4, 0, 4096)];
    for (const slot of s) expect(core.loadPlanes(slot, ...commandPlanes(4))).toBe(0);
    slots = s;
    const ext: (Uint8Array | undefined)[] = [];
    layout.forEach(([base, size, internal], i) => {
      expect(core.ramAdd(base, size, internal ? 1 : 0)).toBe(i);
      const bytes = internal ? core.ramBytes(i)! : new Uint8Array(new SharedArrayBuffer(size));
      for (let k = 0; k < size; k++) bytes[k] = patternAt(base + k);
      ext[i] = internal ? undefined : bytes;
    });
    sides.push({ core, ext });
  }
  layout.forEach(([base, size], i) => {
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = patternAt(base + k);
    model.addRam(i, base, bytes);
  });
  for (const slot of slots) model.busMaster.set(slot, true);
  return { sides, model, slots };
}

/** RAM region i's bytes on a side. */
export function ramOf(side: Side, i: number): Uint8Array {
  return side.ext[i] ?? side.core.ramBytes(i)!;
}

/**
 * Runs a DMA like the bindings: one element through dmaRead/dmaWrite, several through the SG
 * list and dmaSg; then copies the external segments. Returns the core's status.
 */
export function runDma(side: Side, slot: number, dir: number, elems: Array<[number, number]>, bufOffset: number, sg = elems.length !== 1): number {
  const c = side.core;
  let st: number;
  if (!sg) {
    const [iova, len] = elems[0];
    st = dir === 0 ? c.dmaRead(slot, iova, len, bufOffset) : c.dmaWrite(slot, iova, len, bufOffset);
  } else {
    const list = new DataView(c.dmaSgList().buffer, c.dmaSgList().byteOffset);
    elems.forEach(([iova, len], k) => {
      list.setFloat64(k * SG_BYTES, iova, true);
      list.setUint32(k * SG_BYTES + 8, len, true);
    });
    st = c.dmaSg(slot, elems.length, dir, bufOffset);
  }
  if (st > 0) runSegments(c.dmaSegments(), st, dir, c.dmaBuffer(), bufOffset, side.ext);
  return st;
}

export function drainFaults(core: Core): DmaFault[] {
  const all: DmaFault[] = [];
  for (;;) {
    const n = core.dmaFaultsDrain(64);
    if (n === 0) return all;
    all.push(...readFaults(core.dmaFaultArea(), n));
  }
}
