import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/index.js';
import {
  BinaryTraceReader, QtestReader, encodeBatch, isAccess, readAll, writeBinaryTrace, type TraceAccess,
} from '../../src/trace/index.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { SHARED_DATA } from '../helpers/shared-data.js';

const accesses: TraceAccess[] = [
  { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n },
  { op: 'read', space: 'io', addr: 0xcfcn, size: 4 },
  { op: 'read', space: 'io', addr: 0xcfcn, size: 2, expected: 0x1234n },
  { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000008n },
  { op: 'read', space: 'io', addr: 0xcfcn, size: 1 },
  { op: 'read', space: 'mmio', addr: 0xfebf0000n, size: 4 },
  { op: 'read', space: 'mmio', addr: 0xfebf0000n, size: 8 },
];

/** The same accesses one by one through the Bus API. */
async function perAccess(list: TraceAccess[]): Promise<bigint[]> {
  const bus = await createBus({ backend: 'ts' });
  return list.map((a) => {
    if (a.op === 'write') {
      if (a.space === 'io') bus.ioWrite(Number(a.addr), a.size, Number(a.value));
      else bus.mmioWrite(a.addr, a.size, a.size === 8 ? a.value! : Number(a.value));
      return 0n;
    }
    return BigInt(a.space === 'io' ? bus.ioRead(Number(a.addr), a.size) : bus.mmioRead(a.addr, a.size));
  });
}

describe('binary records are what bus.replay consumes', () => {
  for (const backend of ['wasm', 'ts'] as const) {
    it(`${backend}: replayed records give the per-access results`, async () => {
      const bus = await createBus({ backend });
      const records = encodeBatch(accesses);
      expect(writeBinaryTrace(accesses).subarray(64)).toEqual(records); // the file body is the batch
      const r = bus.replay(records);
      expect(r.count).toBe(accesses.length);
      expect([...r.results]).toEqual(await perAccess(accesses));
      expect(r.mismatches).toEqual([2]); // the deliberately wrong expected value
    });
  }

  it('a binary trace read back replays like the accesses it holds', async () => {
    const file = writeBinaryTrace(accesses);
    const back = readAll(new BinaryTraceReader(), file).filter(isAccess);
    const bus = await createBus({ backend: 'wasm' });
    expect([...bus.replay(encodeBatch(back)).results]).toEqual(await perAccess(accesses));
  });

  it('the bus-scan phase of pc-bare replays through the default topology', async () => {
    const text = gunzipSync(readFileSync(resolve(SHARED_DATA, 'qemu', 'pc-bare.qtest.log.gz')));
    const events = readAll(new QtestReader(), text).filter(isAccess).slice(0, 64);
    const bus = await createBus({ backend: 'wasm' });
    const r = bus.replay(encodeBatch(events));
    expect(r.count).toBe(64);
    expect(r.status.every((s) => s === 0 || s === 1)).toBe(true);
  });
});
