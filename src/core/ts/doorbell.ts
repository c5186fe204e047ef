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

  drain(max: number): RawEvent[] {
    return this.ring.splice(0, Math.min(max, DRAIN_FIT));
  }
}
