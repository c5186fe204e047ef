// AER on the two backends, differentially: random sequences of reported errors (any implemented
// bit, with or without a header, from an endpoint with AER, one without, a root port) mixed with
// guest writes to the AER registers, Device Control, Command, Bridge Control and the root port's
// MSI give both buses the same config bytes, the same reports and the same interrupts after every
// step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { Topology } from '../../src/topology/index.js';
import { snapshotAll } from '../helpers/vpci.js';

const RP = '0000:00:05.0';
const EP = '0000:00:05.0/00.0';
const NOAER = '0000:00:06.0/00.0';
const RP2 = '0000:00:06.0';

const TOPOLOGY: Topology = {
  devices: [
    { id: 'rp', bdf: '00:05.0', model: 'root-port', options: { hotplug: false } },
    { behind: 'rp', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
    { id: 'rp2', bdf: '00:06.0', model: 'root-port', options: { hotplug: false } },
    { behind: 'rp2', addr: '00.0', descriptor: { vendorId: 0x1b36, deviceId: 0x00f1, classCode: 0xff0000, capabilities: [{ id: 'pcie', portType: 'endpoint' }] } },
  ],
};

const UNC_BITS = [4, 5, ...Array.from({ length: 14 }, (_, i) => 12 + i)];
const COR_BITS = [0, 6, 7, 8, 12, 13, 14, 15];

type Op =
  | { k: 'report'; f: string; kind: 'correctable' | 'uncorrectable'; bit: number; header?: number[] }
  | { k: 'write'; f: string; off: number; size: 1 | 2 | 4; value: number };

/** Offsets worth writing: AER registers (endpoint 0x100, root port 0x10c), Device Control (endpoint 0x68, the others 0x48), Command, Bridge Control, MSI. */
const writeOp = fc.oneof(
  fc.record({ k: fc.constant('write' as const), f: fc.constant(EP), off: fc.constantFrom(0x104, 0x108, 0x10c, 0x110, 0x114, 0x118, 0x04, 0x68), size: fc.constant(4 as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant('write' as const), f: fc.constantFrom(RP, RP2), off: fc.constantFrom(0x110, 0x114, 0x138, 0x13c, 0x48, 0x04, 0x3c, 0x7c, 0x80, 0x88), size: fc.constant(4 as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ k: fc.constant('write' as const), f: fc.constant(NOAER), off: fc.constantFrom(0x48, 0x04), size: fc.constant(4 as const), value: fc.integer({ min: 0, max: 0xffffffff }) }),
);

const reportOp = fc.oneof(
  fc.record({
    k: fc.constant('report' as const), f: fc.constantFrom(EP, NOAER, RP), kind: fc.constant('uncorrectable' as const),
    bit: fc.constantFrom(...UNC_BITS), header: fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), { nil: undefined }),
  }),
  fc.record({ k: fc.constant('report' as const), f: fc.constantFrom(EP, NOAER, RP), kind: fc.constant('correctable' as const), bit: fc.constantFrom(...COR_BITS) }),
);

async function make(backend: 'wasm' | 'ts'): Promise<{ bus: Bus; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, topology: TOPOLOGY, interrupts: sink });
  bus.configWrite(RP, 0x18, 4, 0x00010100);
  bus.configWrite(RP2, 0x18, 4, 0x00020200);
  // A start where messages flow: forwarding, every reporting enable, the root ports' interrupt
  // enables and RP's MSI programmed (the random writes then turn things off and on).
  for (const f of [RP, RP2]) {
    bus.configWrite(f, 0x3e, 2, 0x0002);
    bus.configWrite(f, 0x48, 2, 0x200f);
    bus.configWrite(f, 0x138, 4, 0x7);
  }
  bus.configWrite(EP, 0x68, 2, 0x200f);
  bus.configWrite(NOAER, 0x48, 2, 0x200f);
  bus.configWrite(RP, 0x80, 4, 0xfee00000);
  bus.configWrite(RP, 0x88, 4, 0x41);
  bus.configWrite(RP, 0x7e, 2, 0x0001);
  return { bus, sink };
}

function run(bus: Bus, op: Op): unknown {
  if (op.k === 'write') {
    bus.configWrite(op.f, op.off, op.size, op.value);
    return undefined;
  }
  return bus.errors.report(op.f, { kind: op.kind, bit: op.bit, ...(op.header ? { header: Uint8Array.from(op.header) } : {}) });
}

describe('AER differential (wasm vs ts)', () => {
  it('random reports and guest writes leave both backends in the same state with the same interrupts', async () => {
    // The sequences must reach the interesting paths, not only agree: count what they did.
    let delivered = 0;
    let interrupts = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(reportOp, reportOp, writeOp), { minLength: 1, maxLength: 40 }), async (ops) => {
        const a = await make('wasm');
        const b = await make('ts');
        for (const [i, op] of ops.entries()) {
          const r = run(a.bus, op);
          expect(r, `step ${i}`).toEqual(run(b.bus, op));
          if ((r as { rootPort?: string | null } | undefined)?.rootPort) delivered++;
          expect(snapshotAll(a.bus), `config after step ${i}`).toEqual(snapshotAll(b.bus));
          expect(a.sink.events, `interrupts after step ${i}`).toEqual(b.sink.events);
        }
        interrupts += a.sink.events.length;
      }),
      { numRuns: 40, seed: 20261125 },
    );
    expect(delivered).toBeGreaterThan(20);
    expect(interrupts).toBeGreaterThan(5);
  }, 120_000);
});
