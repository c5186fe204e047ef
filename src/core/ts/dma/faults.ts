// TypeScript twin of assembly/dma/faults.ts: the bounded fault log (oldest kept, new ones
// dropped and counted when full) and the counters.
import { COUNTERS, Counter, FAULT_BYTES, FAULT_CAPACITY } from './layout.js';

export class FaultLog {
  readonly counters = new Float64Array(COUNTERS);
  /** Drained records, the Wasm core's layout (iova f64, slot, length, direction, reason). */
  readonly out = new Uint8Array(FAULT_CAPACITY * FAULT_BYTES);
  private readonly outF64 = new Float64Array(this.out.buffer);
  private readonly outI32 = new Int32Array(this.out.buffer);
  private readonly outU32 = new Uint32Array(this.out.buffer);
  private readonly iova = new Float64Array(FAULT_CAPACITY);
  private readonly slot = new Int32Array(FAULT_CAPACITY);
  private readonly length = new Uint32Array(FAULT_CAPACITY);
  private readonly dir = new Uint32Array(FAULT_CAPACITY);
  private readonly reason = new Uint32Array(FAULT_CAPACITY);
  private head = 0;
  private count = 0;

  record(slot: number, iova: number, length: number, dir: number, reason: number): void {
    this.counters[Counter.FAULTS]++;
    if (this.count >= FAULT_CAPACITY) {
      this.counters[Counter.FAULTS_DROPPED]++;
      return;
    }
    const i = (this.head + this.count) % FAULT_CAPACITY;
    this.iova[i] = iova;
    this.slot[i] = slot;
    this.length[i] = length;
    this.dir[i] = dir;
    this.reason[i] = reason;
    this.count++;
  }

  queued(): number {
    return this.count;
  }

  drain(max: number): number {
    const n = Math.min(this.count, max);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) % FAULT_CAPACITY;
      this.outF64[k * 3] = this.iova[i];
      this.outI32[k * 6 + 2] = this.slot[i];
      this.outU32[k * 6 + 3] = this.length[i];
      this.outU32[k * 6 + 4] = this.dir[i];
      this.outU32[k * 6 + 5] = this.reason[i];
    }
    this.head = (this.head + n) % FAULT_CAPACITY;
    this.count -= n;
    return n;
  }

  /** The queued records, oldest first, for state save. */
  saveState(): { slot: number; iova: number; length: number; dir: number; reason: number }[] {
    const out = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % FAULT_CAPACITY;
      out.push({ slot: this.slot[i], iova: this.iova[i], length: this.length[i], dir: this.dir[i], reason: this.reason[i] });
    }
    return out;
  }

  /** State load: the log holds these records (at most FAULT_CAPACITY, checked by the caller). */
  loadState(records: readonly { slot: number; iova: number; length: number; dir: number; reason: number }[]): void {
    this.head = 0;
    this.count = records.length;
    records.forEach((r, i) => {
      this.slot[i] = r.slot;
      this.iova[i] = r.iova;
      this.length[i] = r.length;
      this.dir[i] = r.dir;
      this.reason[i] = r.reason;
    });
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.counters.fill(0);
  }
}
