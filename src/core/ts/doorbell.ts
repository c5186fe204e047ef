// TypeScript twin of assembly/dispatch/doorbell.ts: doorbells count writes and queue events.
import type { RawEvent } from '../backend.js';
import { Counter } from './regions.js';
import type { Regions } from './regions.js';

export const EVENT_CAPACITY = 4096;
const MAX_DOORBELLS = 4096;
/** What the Wasm core's 12 KiB staging area holds: 384 events of 32 bytes. */
const DRAIN_FIT = 12288 / 32;

export class Doorbells {
  private readonly counts: number[] = [];
  private readonly ring: RawEvent[] = [];

  constructor(private readonly regions: Regions) {}

  create(): number {
    if (this.counts.length >= MAX_DOORBELLS) return 0xffffffff;
    this.counts.push(0);
    return this.counts.length - 1;
  }

  /** Takes back the newest doorbell (its region was refused): OK, or NOT_FOUND for any other. */
  drop(index: number): number {
    if (this.counts.length === 0 || index !== this.counts.length - 1) return -4;
    this.counts.pop();
    return 0;
  }

  valid(index: number): boolean {
    return index < this.counts.length;
  }

  count(index: number): number {
    return index < this.counts.length ? this.counts[index] : 0;
  }

  write(index: number, region: number, offset: number, size: number, lo: number, hi: number): void {
    this.counts[index]++;
    if (this.ring.length >= EVENT_CAPACITY) {
      this.regions.bump(Counter.DROPPED_EVENTS);
      return;
    }
    this.ring.push({ region, size, offset, lo, hi });
  }

  queued(): number {
    return this.ring.length;
  }

  /** How many doorbells exist (state save and load). */
  total(): number {
    return this.counts.length;
  }

  /** The write counts by handle, and the queued events oldest first (copies). */
  saveState(): { counts: number[]; events: RawEvent[] } {
    return { counts: this.counts.slice(), events: this.ring.map((e) => ({ region: e.region, size: e.size, offset: e.offset, lo: e.lo, hi: e.hi })) };
  }

  /** State load: the counts of every doorbell (as many as exist) and the queue (checked by the caller). */
  loadState(counts: readonly number[], events: readonly RawEvent[]): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = counts[i];
    this.ring.length = 0;
    for (const e of events) this.ring.push({ region: e.region, size: e.size, offset: e.offset, lo: e.lo, hi: e.hi });
  }

  drain(max: number): RawEvent[] {
    return this.ring.splice(0, Math.min(max, DRAIN_FIT));
  }
}
