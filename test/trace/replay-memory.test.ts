// A binary trace with memory records replays like the text trace it came from: raw (pushRecords,
// the records cut around the memory runs, which never reach the core), as decoded events, or as
// text — the same counts, the same mismatch numbering, the devices doing the same work.
import { beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import { TraceReplayer } from '../../src/replay/index.js';
import type { ReplaySummary } from '../../src/replay/index.js';
import {
  BINARY_HEADER_SIZE, BINARY_OP_MEMWRITE, BinaryTraceReader, TextTraceReader, TraceFormatError, isAccess, readAll,
  writeBinaryTrace, writeTextTrace, type TraceAccess, type TraceEvent,
} from '../../src/trace/index.js';
import { synthesizeTrace } from '../../src/trace-synth/index.js';
import { bare } from './helpers.js';

/** The virtio-io guest keeps its RAM in the first 512 KiB (SYNTH_RAM). */
const OPTIONS = { verify: true, ramBytes: 1 << 20 };

type Path = 'text' | 'binary events' | 'binary raw';

/** Replays `events` on a fresh bus through one of the paths; raw records go in chunks cut at `cuts` (record counts). */
async function replay(events: TraceEvent[], path: Path, cuts: number[] = []): Promise<ReplaySummary> {
  const bus = await createBus({ backend: 'wasm' });
  const r = new TraceReplayer(bus, OPTIONS);
  if (path === 'text') {
    r.push(readAll(new TextTraceReader(), writeTextTrace(events)));
  } else if (path === 'binary events') {
    r.push(readAll(new BinaryTraceReader(), writeBinaryTrace(events, { memory: true })));
  } else {
    const body = writeBinaryTrace(events, { memory: true }).subarray(BINARY_HEADER_SIZE);
    r.memoryRecords = true;
    let from = 0;
    for (const cut of [...cuts, body.length / 24]) {
      r.pushRecords(body.subarray(from * 24, cut * 24));
      from = cut;
    }
  }
  return r.finish();
}

/** The parts of a summary that do not depend on timing or on where a line number came from. */
function comparable(s: ReplaySummary) {
  const { seconds: _s, recordsPerSecond: _r, mismatchList, ...rest } = s;
  return { ...rest, mismatchList: mismatchList.map(({ line: _l, ...m }) => m) };
}

/** Record cuts every few records, so memory runs span pushRecords calls. */
function cutsOf(records: number, every: number): number[] {
  const out: number[] = [];
  for (let at = every; at < records; at += every) out.push(at);
  return out;
}

describe('replaying a binary trace with memory records', () => {
  let events: TraceEvent[];
  let wrongAt: number;
  beforeAll(async () => {
    const recorded = await synthesizeTrace({ profile: 'virtio-io', count: 20, backend: 'wasm' });
    // One read near the end, after the guest wrote its rings, recorded with a wrong value.
    let i = recorded.length - 1;
    while (!(recorded[i]!.op === 'read' && (recorded[i] as TraceAccess).expected !== undefined)) i--;
    const read = recorded[i] as TraceAccess;
    events = [...recorded];
    events[i] = { ...read, expected: read.expected! ^ 1n };
    wrongAt = recorded.slice(0, i).filter(isAccess).length;
  }, 60_000);

  it('the trace is one whose replay needs the guest RAM: the binary form keeps its memwrites as they were', () => {
    expect(events.filter((e) => e.op === 'memwrite').length).toBeGreaterThan(20);
    expect(bare(readAll(new BinaryTraceReader(), writeBinaryTrace(events, { memory: true })))).toEqual(events);
  });

  it('text, binary events and raw binary records (in chunks of any size) give the same summary', async () => {
    const text = await replay(events, 'text');
    expect(text.mismatches).toBe(1);
    expect(text.mismatchList[0]!.record).toBe(wrongAt);
    expect(text.memory).toEqual({ writes: events.filter((e) => e.op === 'memwrite').length, reads: 0, mismatches: 0, outside: 0 });
    expect(text.interrupts.messages).toBeGreaterThan(10); // the devices found their rings and completed
    expect(text.dmaFaults).toBe(0);
    const records = writeBinaryTrace(events, { memory: true }).length / 24;
    for (const [path, cuts] of [['binary events', []], ['binary raw', []], ['binary raw', cutsOf(records, 7)], ['binary raw', cutsOf(records, 1)]] as [Path, number[]][]) {
      expect(comparable(await replay(events, path, cuts)), `${path}, ${cuts.length} cuts`).toEqual(comparable(text));
    }
  });

  it('the core never sees op 5: no invalid records, the record count is the accesses; without memoryRecords the core counts them invalid', async () => {
    const body = writeBinaryTrace(events, { memory: true }).subarray(BINARY_HEADER_SIZE);
    const raw = await replay(events, 'binary raw', cutsOf(body.length / 24, 13));
    expect(raw.invalid).toBe(0);
    expect(raw.records).toBe(events.filter(isAccess).length);
    // The same bytes without the flag: op 5 goes to the core, as it did before memory records.
    const memoryRecords = body.filter((_, i) => i % 24 === 0 && body[i] === BINARY_OP_MEMWRITE).length;
    const bus = await createBus({ backend: 'wasm' });
    const r = new TraceReplayer(bus, OPTIONS);
    r.pushRecords(body);
    const s = r.finish();
    expect(s.invalid).toBe(memoryRecords);
    expect(s.records).toBe(body.length / 24);
  });
});

describe('raw memory records: edge cases', () => {
  const cf8 = (v: bigint): TraceEvent => ({ op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: v });
  const vendor: TraceEvent = { op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12345678n };

  it('a run partly outside the replay RAM is skipped and counted once, on every path', async () => {
    const events: TraceEvent[] = [
      { op: 'memwrite', addr: (1n << 20n) - 8n, data: new Uint8Array(16).fill(1) },
      cf8(0x80000000n), vendor,
    ];
    for (const path of ['text', 'binary events', 'binary raw'] as Path[]) {
      const s = await replay(events, path, path === 'binary raw' ? [1] : []);
      expect([s.memory.writes, s.memory.outside, s.records, s.mismatches, s.mismatchList[0]?.record], path).toEqual([1, 1, 2, 1, 1]);
    }
  });

  it('a bad memory record throws a TraceFormatError naming the source and its index counted over every call', async () => {
    const body = writeBinaryTrace([cf8(0x80000000n), { op: 'memwrite', addr: 0x100n, data: new Uint8Array(24) }], { memory: true })
      .subarray(BINARY_HEADER_SIZE);
    body[3 * 24 + 1] = 9; // record 3 (the third memory record): size 9
    const r = new TraceReplayer(await createBus({ backend: 'wasm' }), { ...OPTIONS, source: 'io.vtr' });
    r.memoryRecords = true;
    r.pushRecords(body.subarray(0, 48));
    let err: unknown;
    try {
      r.pushRecords(body.subarray(48));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as TraceFormatError).message).toBe('io.vtr: record 3: size: 9 is not 1..8 (data bytes of a memory record)');
  });
});
