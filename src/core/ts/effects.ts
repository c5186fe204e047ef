// TypeScript twin of assembly/dispatch/effects.ts: BAR mapping changes, as a bounded ring.
import type { RawEffect } from '../backend.js';
import { Counter } from './regions.js';
import type { Regions } from './regions.js';

export const EFFECT_CAPACITY = 1024;
/** The Wasm core drains at most what fits in its 12 KiB staging area: 307 effects. */
const DRAIN_FIT = Math.floor(12288 / 40);

export class Effects {
  private readonly ring: RawEffect[] = [];

  constructor(private readonly regions: Regions) {}

  barMoved(slot: number, bar: number, kind: number, oldMapped: boolean, oldBase: number, newMapped: boolean, newBase: number, size: number): void {
    if (this.ring.length >= EFFECT_CAPACITY) {
      this.regions.bump(Counter.DROPPED_EFFECTS);
      return;
    }
    this.ring.push({
      slot, bar, kind, oldMapped, newMapped,
      oldBase: oldMapped ? oldBase : 0, newBase: newMapped ? newBase : 0, size,
    });
  }

  queued(): number {
    return this.ring.length;
  }

  /** The queued effects, oldest first (copies, in the CoreState field order), for state save. */
  saveState(): RawEffect[] {
    return this.ring.map((e) => ({
      slot: e.slot, bar: e.bar, kind: e.kind, oldMapped: e.oldMapped, oldBase: e.oldBase,
      newMapped: e.newMapped, newBase: e.newBase, size: e.size,
    }));
  }

  /** State load: the queue becomes `effects` (checked by the caller). */
  loadState(effects: readonly RawEffect[]): void {
    this.ring.length = 0;
    for (const e of effects) {
      this.ring.push({
        slot: e.slot, bar: e.bar, kind: e.kind, oldMapped: e.oldMapped, oldBase: e.oldBase,
        newMapped: e.newMapped, newBase: e.newBase, size: e.size,
      });
    }
  }

  drain(max: number): RawEffect[] {
    return this.ring.splice(0, Math.min(max, DRAIN_FIT));
  }
}
