// The fuzzer's steps: what one step does to a bus, as plain data. Guest accesses (MMIO and port
// IO, config cycles through ECAM or 0xCF8/0xCFC included), batches of accesses run inside the
// core, guest-RAM writes, and the embedder's DMA and interrupt calls. Steps are concrete (every
// address and value is in the step), so a step list replays without the generator, shrinks by
// dropping steps, and is saved as JSON, or as a vpci text trace when it holds guest accesses and
// RAM writes only.
import type { TraceAccess, TraceEvent } from '../src/trace/index.js';
import { accessProblem } from '../src/trace/index.js';
import { bytesToHex, hexToBytes } from '../src/trace/lines.js';

/**
 * An address or value as the guest gives it: a number, or a bigint (64-bit values, addresses past
 * 2^53). Hostile numbers (NaN, -1, 1.5, 2^64) are allowed: the bus must count them as invalid.
 */
export type Num = number | bigint;

/** One guest access through the Bus API (`mmioRead`, `ioWrite`, ...); `size` may be invalid. */
export interface AccessStep {
  k: 'access';
  op: 'read' | 'write';
  space: 'mmio' | 'io';
  addr: Num;
  size: number;
  /** Writes only. */
  value?: Num;
  /** What the generator meant (for reports and the summary's per-kind counts); no effect. */
  why?: string;
}

/** Accesses run inside the core with `bus.replay` (24-byte batch records). */
export interface BatchStep {
  k: 'batch';
  ops: { op: 'read' | 'write'; space: 'mmio' | 'io'; addr: bigint; size: 1 | 2 | 4 | 8; value?: bigint; expected?: bigint }[];
}

/** Bytes written into guest RAM by the guest's CPU (not DMA): rings, descriptors, garbage. */
export interface MemWriteStep {
  k: 'mem';
  addr: number;
  /** Hex bytes. */
  hex: string;
  why?: string;
}

/** An embedder call of `bus.dma` (function `fn` = index in the topology's functions). */
export type DmaStep =
  | { k: 'dma'; op: 'create'; kind: 'identity' | 'blocked' | 'translated' }
  | { k: 'dma'; op: 'destroy'; domain: number }
  | { k: 'dma'; op: 'map'; domain: number; iova: number; gpa: number; size: number; read: boolean; write: boolean }
  | { k: 'dma'; op: 'unmap'; domain: number; iova: number; size: number }
  | { k: 'dma'; op: 'attach'; fn: number; domain: number }
  | { k: 'dma'; op: 'detach'; fn: number }
  | { k: 'dma'; op: 'read' | 'write'; fn: number; iova: number; length: number; fill: number }
  | { k: 'dma'; op: 'readSg' | 'writeSg'; fn: number; list: [number, number][]; fill: number }
  /** RAM added (in the core, or a buffer the embedder owns) or removed under the devices' feet. */
  | { k: 'dma'; op: 'addRam'; base: number; size: number; external: boolean }
  | { k: 'dma'; op: 'removeRam'; index: number };

/** An embedder (device-side) call of `bus.interrupts`. */
export type IrqStep =
  | { k: 'irq'; op: 'intx'; fn: number; level: boolean }
  | { k: 'irq'; op: 'msi' | 'msix' | 'notify'; fn: number; vector: number }
  | { k: 'irq'; op: 'route'; seg: number; dev: number; pin: number; gsi: number | null };

/**
 * A config access through the Bus API (`bus.configRead/configWrite`, what firmware uses), to a
 * BDF ("00:03.1", "0000:01:00.0") or a function path ("0000:00:05.0/00.0": wherever it answers now).
 */
export interface BusConfigStep {
  k: 'cfg';
  op: 'read' | 'write';
  target: string;
  offset: number;
  size: number;
  value?: number;
}

/** One step of a fuzz run. */
export type Step = AccessStep | BatchStep | MemWriteStep | DmaStep | IrqStep | BusConfigStep;

/** A name for counting steps by kind in the summary. */
export function stepKind(s: Step): string {
  switch (s.k) {
    case 'access': return s.why ?? `${s.space} ${s.op}`;
    case 'batch': return 'batch';
    case 'mem': return s.why ?? 'guest ram write';
    case 'dma': return `dma ${s.op}`;
    case 'irq': return `irq ${s.op}`;
    case 'cfg': return `bus.config${s.op === 'read' ? 'Read' : 'Write'} (${s.target.includes('/') ? 'path' : 'bdf'})`;
  }
}

/** How many guest accesses a step makes. */
export function accessCount(s: Step): number {
  return s.k === 'access' ? 1 : s.k === 'batch' ? s.ops.length : 0;
}

// ---- JSON -------------------------------------------------------------------------------------
// bigints as {"$big": "0x..."}, numbers JSON cannot hold (NaN, Infinity, -0) as {"$num": "NaN"}.

export function stepsToJson(steps: readonly Step[]): unknown[] {
  return JSON.parse(JSON.stringify(steps, (_k, v: unknown) => {
    if (typeof v === 'bigint') return { $big: `0x${v.toString(16)}` };
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: String(v) };
    return v;
  })) as unknown[];
}

export function stepsFromJson(data: unknown): Step[] {
  if (!Array.isArray(data)) throw new TypeError('steps: not an array');
  return JSON.parse(JSON.stringify(data), (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$big === 'string' && Object.keys(o).length === 1) return BigInt(o.$big);
      if (typeof o.$num === 'string' && Object.keys(o).length === 1) return Number(o.$num);
    }
    return v;
  }) as Step[];
}

// ---- Traces -----------------------------------------------------------------------------------

/** The access as a trace record, if the vpci trace model can hold it (valid size, integer address below 2^64). */
export function accessEvent(s: AccessStep, expected?: bigint): TraceAccess | undefined {
  let addr: bigint;
  if (typeof s.addr === 'bigint') addr = s.addr;
  else if (Number.isSafeInteger(s.addr) && s.addr >= 0) addr = BigInt(s.addr);
  else return undefined;
  const a: TraceAccess = { op: s.op, space: s.space, addr, size: s.size as TraceAccess['size'] };
  if (s.op === 'write') {
    const v = s.value ?? 0;
    if (typeof v === 'bigint') a.value = v;
    else if (Number.isSafeInteger(v) && v >= 0) a.value = BigInt(v);
    else return undefined;
  } else if (expected !== undefined) {
    a.expected = expected;
  }
  return accessProblem(a) === undefined ? a : undefined;
}

/**
 * Whether the steps are guest accesses and RAM writes only, each one the text trace format holds:
 * then the reproducer is a vpci text trace that `vpci replay` runs.
 */
export function traceable(steps: readonly Step[]): boolean {
  return steps.every((s) => {
    if (s.k === 'mem') return true;
    if (s.k === 'batch') return true;
    if (s.k !== 'access') return false;
    if (accessEvent(s) === undefined) return false;
    // The Bus turns a number value into its low `size` bytes; the trace needs it in range already.
    return true;
  });
}

/** Trace events of traceable steps; `reads` gives the value each read returned, in order. */
export function stepsToEvents(steps: readonly Step[], reads: readonly bigint[] = []): TraceEvent[] {
  const out: TraceEvent[] = [];
  let r = 0;
  for (const s of steps) {
    if (s.k === 'mem') {
      out.push({ op: 'memwrite', addr: BigInt(s.addr), data: hexBytes(s.hex) });
    } else if (s.k === 'access') {
      const e = accessEvent(s, s.op === 'read' ? reads[r++] : undefined);
      if (e === undefined) throw new RangeError('stepsToEvents: an access the trace format cannot hold');
      out.push(e);
    } else if (s.k === 'batch') {
      for (const o of s.ops) {
        const a: TraceAccess = { op: o.op, space: o.space, addr: o.addr, size: o.size };
        if (o.op === 'write') a.value = o.value ?? 0n;
        else {
          const got = reads[r++];
          if (got !== undefined) a.expected = got;
        }
        out.push(a);
      }
    } else {
      throw new RangeError(`stepsToEvents: a ${s.k} step has no trace record`);
    }
  }
  return out;
}

/** Steps of a trace's events: accesses and guest-RAM writes (other events are skipped). */
export function eventsToSteps(events: readonly TraceEvent[]): Step[] {
  const out: Step[] = [];
  for (const e of events) {
    if (e.op === 'read' || e.op === 'write') {
      const addr = e.addr <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(e.addr) : e.addr;
      const step: AccessStep = { k: 'access', op: e.op, space: e.space, addr, size: e.size };
      if (e.op === 'write') step.value = e.size === 8 ? e.value! : Number(e.value!);
      out.push(step);
    } else if (e.op === 'memwrite') {
      out.push({ k: 'mem', addr: Number(e.addr), hex: bytesHex(e.data) });
    }
  }
  return out;
}

/** A mem step's bytes (the trace layer's hex decoding); a hand-edited reproducer with bad hex is named. */
export function hexBytes(hex: string): Uint8Array {
  const bytes = hexToBytes(hex);
  if (bytes === undefined) throw new Error(`a mem step's hex "${hex.slice(0, 24)}" is not pairs of hex digits`);
  return bytes;
}

/** A mem step's hex text (the trace layer's encoding). */
export const bytesHex = bytesToHex;

/** A step as one line for reports. */
export function showStep(s: Step): string {
  return JSON.stringify(stepsToJson([s])[0]);
}
