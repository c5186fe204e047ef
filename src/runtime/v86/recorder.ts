// Records what a v86 guest did on vpci's bus: every access the adapter served (reads with the
// value the guest got) and the guest RAM the devices read by DMA while serving them, in order. The
// result is a vpci binary trace with memory records: `vpci replay --verify` of it against the same
// topology puts each DMA'd byte back in RAM before the access that made a device read it, so the
// devices answer exactly as they did for the guest.
import { trace } from '../../index.js';
import type { AccessObserver } from './attach.js';

type TraceEvent = trace.TraceEvent;

/** Options of V86Recorder. */
export interface V86RecorderOptions {
  /** Stop recording after this many events (default 4,000,000: about 100 MB of trace). */
  maxEvents?: number;
}

/** An AccessObserver that keeps a boot (or any run) as a replayable trace. */
export class V86Recorder implements AccessObserver {
  private readonly events: TraceEvent[] = [];
  private readonly maxEvents: number;
  private full = false;

  constructor(options: V86RecorderOptions = {}) {
    this.maxEvents = options.maxEvents ?? 4_000_000;
  }

  /** Events recorded (accesses and DMA reads). */
  get count(): number {
    return this.events.length;
  }

  /** Whether recording stopped at maxEvents (the trace then ends early). */
  get truncated(): boolean {
    return this.full;
  }

  access(op: 'read' | 'write', space: 'mmio' | 'io', addr: number, size: 1 | 2 | 4, value: number): void {
    const v = BigInt(value >>> 0);
    this.push(op === 'read'
      ? { op, space, addr: BigInt(addr), size, expected: v }
      : { op, space, addr: BigInt(addr), size, value: v });
  }

  dmaRead(gpa: number, bytes: Uint8Array): void {
    this.push({ op: 'memwrite', addr: BigInt(gpa), data: bytes.slice() });
  }

  /** The recording as a vpci binary trace (memory records included). */
  trace(): Uint8Array {
    return trace.writeBinaryTrace(this.events, { memory: true });
  }

  /** The recorded events (accesses and memwrites), oldest first. */
  eventList(): readonly TraceEvent[] {
    return this.events;
  }

  private push(e: TraceEvent): void {
    if (this.events.length >= this.maxEvents) {
      this.full = true;
      return;
    }
    this.events.push(e);
  }
}
