// A sink that records what it is given: for tests, traces and embedders that want to look before
// they wire a real interrupt controller.
import type { InterruptSink } from './types.js';
import { decodeX86Msi } from './x86-msi.js';
import type { X86Msi } from './x86-msi.js';

/** One delivery, in arrival order; messages to the x86 window carry their decoding. */
export type RecordedEvent =
  | { kind: 'line'; gsi: number; level: boolean }
  | { kind: 'message'; bdf: string; address: bigint; data: number; x86?: X86Msi };

export class RecordingSink implements InterruptSink {
  /** Every delivery since the last reset, oldest first. */
  readonly events: RecordedEvent[] = [];
  private readonly asserts = new Map<number, number>();
  private readonly levels = new Map<number, boolean>();
  private readonly vectors = new Map<string, number>();
  private others = 0;

  line(gsi: number, level: boolean): void {
    this.events.push({ kind: 'line', gsi, level });
    this.levels.set(gsi, level);
    if (level) this.asserts.set(gsi, (this.asserts.get(gsi) ?? 0) + 1);
  }

  message(address: bigint, data: number, bdf: string): void {
    const x86 = decodeX86Msi(address, data);
    if (x86.valid) {
      this.events.push({ kind: 'message', bdf, address, data, x86 });
      const key = `${bdf}#${x86.vector}`;
      this.vectors.set(key, (this.vectors.get(key) ?? 0) + 1);
    } else {
      this.events.push({ kind: 'message', bdf, address, data });
      this.others++;
    }
  }

  /** How many times `gsi` was asserted (line(gsi, true) calls). */
  assertions(gsi: number): number {
    return this.asserts.get(gsi) ?? 0;
  }

  /** The line's level as last delivered (false if never). */
  level(gsi: number): boolean {
    return this.levels.get(gsi) ?? false;
  }

  /** GSIs whose last delivered level is high, ascending. */
  assertedLines(): number[] {
    return [...this.levels].filter(([, v]) => v).map(([g]) => g).sort((a, b) => a - b);
  }

  /** How many x86 messages (address in the 0xFEE window) carried `vector` from `bdf` (a function path). */
  messages(bdf: string, vector: number): number {
    return this.vectors.get(`${bdf}#${vector}`) ?? 0;
  }

  /** Messages whose address is outside the x86 interrupt window (counted, not decoded). */
  otherMessages(): number {
    return this.others;
  }

  /** Forgets everything: events, counts and levels. */
  reset(): void {
    this.events.length = 0;
    this.asserts.clear();
    this.levels.clear();
    this.vectors.clear();
    this.others = 0;
  }
}
