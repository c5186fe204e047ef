// Replays a trace on a bus and checks every expected value: accesses in runs of batch records
// (bus.replay, inside the core) or one by one through the Bus API, guest-RAM writes applied to the
// RAM the caller attached between runs, RAM reads compared. Clock, IRQ and meta events are skipped.
import type { Bus } from '../bus.js';
import { ArgumentError } from '../errors.js';
import { encodeBatch, isAccess } from '../trace/index.js';
import type { TraceAccess, TraceEvent } from '../trace/index.js';
import type { WatchedRam } from './recording-bus.js';

export interface TraceReplayOptions {
  /** Guest RAM (attached to the bus by the caller) that memwrite/memread events address. */
  ram?: WatchedRam;
  /** 'batch' (default): runs of batch records through bus.replay; 'step': one Bus call each. */
  mode?: 'batch' | 'step';
}

export interface TraceReplayMismatch {
  /** Index of the event in the trace. */
  index: number;
  expected: bigint | Uint8Array;
  actual: bigint | Uint8Array;
}

export interface TraceReplayResult {
  accesses: number;
  /** Reads (and memreads) that had an expected value to check. */
  checked: number;
  mismatches: TraceReplayMismatch[];
}

function ramRange(ram: WatchedRam | undefined, addr: bigint, length: number, index: number): number {
  if (!ram) throw new ArgumentError(`events[${index}]: a guest RAM event, and no ram option to apply it to`);
  const off = Number(addr) - ram.base;
  if (!(off >= 0 && off + length <= ram.bytes.length)) {
    throw new ArgumentError(`events[${index}]: 0x${addr.toString(16)} (+${length}) is outside the RAM given`);
  }
  return off;
}

function stepAccess(bus: Bus, a: TraceAccess): bigint {
  if (a.space === 'io') {
    if (a.op === 'write') {
      bus.ioWrite(Number(a.addr), a.size, Number(a.value!));
      return 0n;
    }
    return BigInt(bus.ioRead(Number(a.addr), a.size));
  }
  if (a.op === 'write') {
    bus.mmioWrite(a.addr, a.size, a.value!);
    return 0n;
  }
  return BigInt.asUintN(a.size * 8, BigInt(bus.mmioRead(a.addr, a.size)));
}

export function replayTrace(bus: Bus, events: readonly TraceEvent[], options: TraceReplayOptions = {}): TraceReplayResult {
  const mode = options.mode ?? 'batch';
  const out: TraceReplayResult = { accesses: 0, checked: 0, mismatches: [] };
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const result = bus.replay(encodeBatch(run.map((i) => events[i])));
    for (const k of result.mismatches) {
      const a = events[run[k]] as TraceAccess;
      out.mismatches.push({ index: run[k], expected: a.expected!, actual: BigInt.asUintN(a.size * 8, result.results[k]) });
    }
    run = [];
  };
  events.forEach((e, index) => {
    if (isAccess(e)) {
      out.accesses++;
      if (e.op === 'read' && e.expected !== undefined) out.checked++;
      if (mode === 'batch') {
        run.push(index);
        return;
      }
      const actual = stepAccess(bus, e);
      if (e.op === 'read' && e.expected !== undefined && actual !== e.expected) out.mismatches.push({ index, expected: e.expected, actual });
      return;
    }
    flush();
    if (e.op === 'memwrite') {
      options.ram!.bytes.set(e.data, ramRange(options.ram, e.addr, e.data.length, index));
    } else if (e.op === 'memread' && e.expected !== undefined) {
      const off = ramRange(options.ram, e.addr, e.size, index);
      const actual = options.ram!.bytes.slice(off, off + e.size);
      out.checked++;
      if (actual.length !== e.expected.length || actual.some((b, i) => b !== e.expected![i])) out.mismatches.push({ index, expected: e.expected, actual });
    }
  });
  flush();
  return out;
}
