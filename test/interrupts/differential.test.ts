// The two cores behind the interrupt service: random sequences of service calls (INTx, MSI,
// MSI-X, notify, re-routing), guest config writes (Command, the MSI and MSI-X registers), MSI-X
// table and PBA accesses of every size, sink changes and polls give the same results, the same
// errors and the same event streams on the Wasm core and the TypeScript twin.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { runFirmware } from '../../src/firmware/index.js';
import type { Topology } from '../../src/topology/index.js';
import type { InterruptSink } from '../../src/interrupts/index.js';
import { CAP_MSI, CAP_MSIX, capOffset, msixDescriptor } from './helpers.js';

const FNS = ['00:01.0', '00:02.0', '00:03.0', '00:05.0/00.0', '00:05.0/01.0'] as const;

const topology: Topology = {
  devices: [
    { bdf: '00:01.0', model: 'test-endpoint' },
    { bdf: '00:02.0', model: 'test-endpoint', options: { interruptPin: 3, msiVectors: 1 } },
    { bdf: '00:03.0', descriptor: msixDescriptor({ msi: true, pin: 2 }) },
    { id: 'br', bdf: '00:05.0', model: 'pci-bridge' },
    { behind: 'br', addr: '00.0', model: 'test-endpoint', options: { interruptPin: 4 } },
    { behind: 'br', addr: '01.0', descriptor: msixDescriptor({ tableSize: 3, pin: 1 }) },
  ],
  interrupts: { routing: [{ device: 1, pin: 1, gsi: 5 }, { device: 2, pin: 3, gsi: 5 }, { device: 3, pin: 2, gsi: 6 }, { device: 5, pin: 1, gsi: 7 }, { device: 5, pin: 2, gsi: 7 }] },
};

type Op =
  | { op: 'intx'; fn: number; level: boolean }
  | { op: 'msi' | 'msix' | 'notify'; fn: number; vector: number }
  | { op: 'route'; device: number; pin: number; gsi: number | null }
  | { op: 'config'; fn: number; reg: number; size: 1 | 2 | 4; value: number }
  | { op: 'table'; fn: number; write: boolean; offset: number; size: 1 | 2 | 4 | 8; value: bigint }
  | { op: 'msiControl'; fn: number; mme: number; enable: boolean }
  | { op: 'msiMask'; fn: number; mask: number }
  | { op: 'msixControl'; fn: number; value: number }
  | { op: 'entryMask'; fn: number; entry: number; masked: boolean }
  | { op: 'sink'; on: boolean }
  | { op: 'poll' };

/** A config register of interest: Command/Status, or a byte of the MSI or MSI-X capability. */
const configReg = fc.oneof(
  fc.constantFrom({ area: 'command', off: 0 }, { area: 'command', off: 1 }, { area: 'command', off: 2 }),
  fc.record({ area: fc.constant('msi'), off: fc.integer({ min: 0, max: 23 }) }),
  fc.record({ area: fc.constant('msix'), off: fc.integer({ min: 0, max: 11 }) }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('intx' as const), fn: fc.nat(4), level: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('msi' as const, 'msix' as const, 'notify' as const), fn: fc.nat(4), vector: fc.oneof(fc.nat(3), fc.nat(9)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('route' as const), device: fc.nat(6), pin: fc.integer({ min: 1, max: 4 }), gsi: fc.option(fc.nat(8), { nil: null }) }) },
  {
    weight: 5,
    arbitrary: fc.tuple(fc.nat(4), configReg, fc.constantFrom(1 as const, 2 as const, 4 as const), fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 1, 0x31, 0x8000, 0xc000, 0x4000, 0x400, 0xffffffff)))
      .map(([fn, r, size, value]) => ({ op: 'config' as const, fn, reg: r.area === 'command' ? 4 + r.off : -1 - (r.area === 'msi' ? r.off : 100 + r.off), size, value })),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('table' as const), fn: fc.constantFrom(2, 4), write: fc.boolean(), offset: fc.nat(0x1010 + 16),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }).map((o) => ({ ...o, offset: o.offset < 0x1010 ? o.offset % 0x90 : 0x1000 + (o.offset % 0x10) })),
  },
  // The guest's usual steps, so that random runs reach enabled, unmasked and pending states often.
  { weight: 3, arbitrary: fc.record({ op: fc.constant('msiControl' as const), fn: fc.nat(4), mme: fc.nat(5), enable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('msiMask' as const), fn: fc.nat(4), mask: fc.nat(15) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('msixControl' as const), fn: fc.constantFrom(2, 4), value: fc.constantFrom(0, 0x8000, 0xc000, 0x4000) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('entryMask' as const), fn: fc.constantFrom(2, 4), entry: fc.nat(8), masked: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sink' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'poll' as const }) },
);

/** A guest's setup steps, some of which a run starts with: MSI and MSI-X enabled, entries unmasked. */
const SETUP: Op[] = [
  ...[0, 1, 2, 3].map((fn): Op => ({ op: 'msiControl', fn, mme: 2, enable: true })),
  ...[2, 4].map((fn): Op => ({ op: 'msixControl', fn, value: 0x8000 })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((entry): Op => ({ op: 'entryMask', fn: 2, entry, masked: false })),
  ...[0, 1, 2].map((entry): Op => ({ op: 'entryMask', fn: 4, entry, masked: false })),
];
const opsArb = fc.tuple(fc.subarray(SETUP), fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' })).map(([setup, ops]) => [...setup, ...ops]);

/** Runs the ops on a fresh bus; returns everything observable, in order. */
async function run(backend: 'wasm' | 'ts', ops: Op[]): Promise<string[]> {
  const bus: Bus = await createBus({ backend, topology });
  runFirmware(bus);
  const log: string[] = [];
  const sink: InterruptSink = {
    line: (gsi, level) => log.push(`line ${gsi} ${level}`),
    message: (address, data, bdf) => log.push(`message ${bdf} 0x${address.toString(16)} 0x${data.toString(16)}`),
  };
  bus.interrupts.setSink(sink);
  const caps = FNS.map((fn) => ({ msi: capOr0(bus, fn, CAP_MSI), msix: capOr0(bus, fn, CAP_MSIX), bar0: (bus.configRead(fn, 0x10, 4) & ~0xf) >>> 0 }));
  // Distinct messages: MSI at 0xFEE0n000 with data 0x40 + 8n; MSI-X entry k at 0xFEE0k000, data 0x80 + k.
  caps.forEach((c, i) => {
    if (c.msi) {
      bus.configWrite(FNS[i], c.msi + 4, 4, 0xfee00000 + i * 0x1000);
      const is64 = (bus.configRead(FNS[i], c.msi + 2, 2) & 0x80) !== 0;
      bus.configWrite(FNS[i], c.msi + (is64 ? 12 : 8), 2, 0x40 + 8 * i);
    }
    if (c.msix) {
      const n = (bus.configRead(FNS[i], c.msix + 2, 2) & 0x7ff) + 1;
      for (let k = 0; k < n; k++) {
        bus.mmioWrite(c.bar0 + 0x2000 + k * 16, 4, 0xfee00000 + k * 0x1000);
        bus.mmioWrite(c.bar0 + 0x2000 + k * 16 + 8, 4, 0x80 + k + 16 * i);
      }
    }
  });
  const tryIt = (what: string, f: () => unknown) => {
    try {
      const r = f();
      log.push(`${what} -> ${typeof r === 'bigint' ? `0x${r.toString(16)}n` : String(r)}`);
    } catch (e) {
      log.push(`${what} !! ${(e as Error).message}`);
    }
  };
  for (const o of ops) {
    switch (o.op) {
      case 'intx': tryIt(`intx ${FNS[o.fn]} ${o.level}`, () => bus.interrupts.intx(FNS[o.fn], o.level)); break;
      case 'msi': case 'msix': case 'notify': tryIt(`${o.op} ${FNS[o.fn]} ${o.vector}`, () => bus.interrupts[o.op](FNS[o.fn], o.vector)); break;
      case 'route': tryIt(`route ${o.device} ${o.pin} ${o.gsi}`, () => bus.interrupts.route(0, o.device, o.pin, o.gsi)); break;
      case 'config': {
        const c = caps[o.fn];
        const reg = o.reg >= 0 ? o.reg : o.reg > -100 ? (c.msi ? c.msi + (-1 - o.reg) : -1) : (c.msix ? c.msix + (-101 - o.reg) : -1);
        if (reg < 0) break;
        tryIt(`config ${FNS[o.fn]} 0x${reg.toString(16)}/${o.size} = 0x${o.value.toString(16)}`, () => bus.configWrite(FNS[o.fn], reg, o.size, o.value));
        break;
      }
      case 'table': {
        const addr = caps[o.fn].bar0 + 0x2000 + o.offset;
        if (o.write) tryIt(`mmio write 0x${addr.toString(16)}/${o.size}`, () => bus.mmioWrite(addr, o.size, o.size === 8 ? o.value : Number(o.value & 0xffffffffn) % 2 ** (8 * o.size)));
        else tryIt(`mmio read 0x${addr.toString(16)}/${o.size}`, () => bus.mmioRead(addr, o.size));
        break;
      }
      case 'msiControl': {
        const cap = caps[o.fn].msi;
        if (cap) tryIt(`msi control ${FNS[o.fn]} ${o.mme} ${o.enable}`, () => bus.configWrite(FNS[o.fn], cap + 2, 2, (o.mme << 4) | (o.enable ? 1 : 0)));
        break;
      }
      case 'msiMask': {
        const cap = caps[o.fn].msi;
        if (cap) tryIt(`msi mask ${FNS[o.fn]} ${o.mask}`, () => bus.configWrite(FNS[o.fn], cap + 16, 4, o.mask));
        break;
      }
      case 'msixControl': tryIt(`msix control ${FNS[o.fn]} ${o.value}`, () => bus.configWrite(FNS[o.fn], caps[o.fn].msix + 2, 2, o.value)); break;
      case 'entryMask': {
        const at = caps[o.fn].bar0 + 0x2000 + o.entry * 16;
        tryIt(`entry ${FNS[o.fn]} ${o.entry} ${o.masked}`, () => bus.mmioWrite(at + 12, 4, o.masked ? 1 : 0));
        break;
      }
      case 'sink': bus.interrupts.setSink(o.on ? sink : undefined); log.push(`sink ${o.on}`); break;
      case 'poll': log.push(`poll ${JSON.stringify(bus.interrupts.poll(), (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`); break;
    }
  }
  // The end state: line levels, pending bits, Status, what is still queued.
  for (let gsi = 0; gsi < 10; gsi++) log.push(`level ${gsi} ${bus.interrupts.lineLevel(gsi)}`);
  FNS.forEach((fn, i) => {
    log.push(`status ${fn} ${bus.configRead(fn, 0x06, 2)}`);
    if (caps[i].msi) log.push(`msi pending ${fn} ${bus.configRead(fn, caps[i].msi + 20, 4)}`);
    if (caps[i].msix) log.push(`pba ${fn} ${bus.mmioRead(caps[i].bar0 + 0x3000, 8)}`);
  });
  log.push(`queued ${bus.interrupts.poll().length} dropped ${bus.stats().droppedIrqs}`);
  return log;
}

function capOr0(bus: Bus, fn: string, id: number): number {
  try {
    return capOffset(bus, fn, id);
  } catch {
    return 0;
  }
}

describe('interrupts: Wasm core and TypeScript twin', () => {
  it('random service calls, config writes and MSI-X accesses give identical event streams', async () => {
    await fc.assert(fc.asyncProperty(opsArb, async (ops) => {
      const [wasm, ts] = await Promise.all([run('wasm', ops), run('ts', ops)]);
      expect(wasm).toEqual(ts);
    }), { numRuns: 150 });
  });

  it('the streams are not trivially empty: a fixed sequence delivers lines and messages on both', async () => {
    const ops: Op[] = [
      { op: 'intx', fn: 0, level: true },
      { op: 'intx', fn: 1, level: true },
      { op: 'config', fn: 2, reg: -101 - 2, size: 2, value: 0x8000 },
      { op: 'table', fn: 2, write: true, offset: 12, size: 4, value: 0n },
      { op: 'msix', fn: 2, vector: 0 },
      { op: 'intx', fn: 4, level: true },
    ];
    const [wasm, ts] = await Promise.all([run('wasm', ops), run('ts', ops)]);
    expect(wasm).toEqual(ts);
    expect(wasm).toContain('line 5 true');
    expect(wasm).toContain('line 7 true');
    expect(wasm).toContain('message 0000:00:03.0 0xfee00000 0xa0');
    expect(wasm).toContain('msix 00:03.0 0 -> delivered');
  });
});
