import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { GuestInterrupts } from '../../src/guest/index.js';
import { accessProblem, isAccess } from '../../src/trace/index.js';
import type { TraceAccess, TraceEvent } from '../../src/trace/index.js';
import { PROFILES, SYNTH_RAM, replayTrace, synthesizeTrace } from '../../src/trace-synth/index.js';
import type { SynthProfile } from '../../src/trace-synth/index.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS } from '../helpers/vpci.js';

const accesses = (events: TraceEvent[]): TraceAccess[] => events.filter(isAccess);
const cache = new Map<string, Promise<TraceEvent[]>>();
/** Traces are deterministic: each (profile, backend, count, seed) is synthesized once per run. */
function trace(profile: SynthProfile, backend: 'wasm' | 'ts', count = 40, seed = 1): Promise<TraceEvent[]> {
  const key = `${profile}/${backend}/${count}/${seed}`;
  if (!cache.has(key)) cache.set(key, synthesizeTrace({ profile, backend, count, seed }));
  return cache.get(key)!;
}

/** A fresh bus to replay on: guest RAM where the virtio-io guest had it, a sink for its messages. */
async function freshBus(backend: 'wasm' | 'ts', topology?: Topology) {
  const bus = await createBus({ backend, topology });
  const bytes = new Uint8Array(SYNTH_RAM.size);
  bus.dma.addRam({ base: SYNTH_RAM.base, size: SYNTH_RAM.size, buffer: bytes });
  const irq = new GuestInterrupts();
  bus.interrupts.setSink(irq);
  return { bus, ram: { bytes, base: SYNTH_RAM.base }, irq };
}

function inRegion(bus: Bus, kind: string, a: TraceAccess): boolean {
  return bus.regions().some((r) => r.kind === kind && r.space === a.space && a.addr >= r.base && a.addr < r.base + r.size);
}

describe('synthesizeTrace', () => {
  it.each(PROFILES)('%s yields valid accesses, every read with an expected value', async (profile) => {
    const events = await trace(profile, 'wasm');
    const list = accesses(events);
    expect(list.length).toBeGreaterThan(50);
    for (const a of list) {
      expect(accessProblem(a)).toBeUndefined();
      if (a.op === 'read') expect(a.expected).toBeTypeOf('bigint');
    }
    expect(list.some((a) => a.op === 'read')).toBe(true);
    expect(list.some((a) => a.op === 'write')).toBe(true);
  });

  it('boot is the firmware\'s config cycles as CF8 address writes followed by CFC data accesses', async () => {
    const list = accesses(await trace('boot', 'wasm'));
    expect(list.every((a) => a.space === 'io')).toBe(true);
    for (let i = 0; i < list.length; i += 2) {
      const [cf8, data] = [list[i], list[i + 1]];
      expect(cf8).toMatchObject({ op: 'write', space: 'io', addr: 0xcf8n, size: 4 });
      expect(cf8.value! & 0x80000000n).toBe(0x80000000n);
      expect(cf8.value! & 0x7f000003n).toBe(0n);
      expect(data.addr >= 0xcfcn && data.addr <= 0xcffn).toBe(true);
    }
    // The first cycle reads 00:00.0's vendor and device ID (the host bridge: present).
    expect(list[0].value).toBe(0x80000000n);
    expect(list[1]).toMatchObject({ op: 'read', addr: 0xcfcn, size: 4 });
    expect(list[1].expected).not.toBe(0xffffffffn);
    // Firmware sized BARs (all-ones writes) and set bridge bus numbers (reg 0x18).
    expect(list.some((a) => a.op === 'write' && a.size === 4 && a.value === 0xffffffffn)).toBe(true);
    expect(list.some((a, i) => a.addr === 0xcf8n && (a.value! & 0xfcn) === 0x18n && list[i + 1].op === 'write')).toBe(true);
  });

  it('virtio-io drives the devices through their BARs: MSI-X table writes, notifies, guest RAM writes', async () => {
    const events = await trace('virtio-io', 'wasm');
    const { bus, ram } = await freshBus('wasm');
    // Boot part first, so the regions are where the guest saw them.
    const bootEnd = events.findIndex((e) => isAccess(e) && e.space === 'mmio');
    replayTrace(bus, events.slice(0, bootEnd), { ram });
    const mmio = accesses(events).filter((a) => a.space === 'mmio');
    expect(mmio.filter((a) => a.op === 'write' && inRegion(bus, 'msix-table', a)).length).toBeGreaterThan(0);
    expect(mmio.filter((a) => inRegion(bus, 'bar', a) || inRegion(bus, 'model', a)).length).toBeGreaterThan(40);
    expect(events.some((e) => e.op === 'memwrite')).toBe(true);
  });

  it('virtio-io issues `count` device requests', async () => {
    const small = accesses(await trace('virtio-io', 'wasm', 5));
    const large = accesses(await trace('virtio-io', 'wasm', 40));
    expect(large.length).toBeGreaterThan(small.length + 30);
  });

  it('random adds `count` accesses after boot, of every size, some outside mapped regions', async () => {
    const boot = accesses(await trace('boot', 'wasm'));
    const list = accesses(await synthesizeTrace({ profile: 'random', count: 300, seed: 5 }));
    expect(list.length).toBe(boot.length + 300);
    const tail = list.slice(boot.length);
    expect(new Set(tail.filter((a) => a.space === 'mmio').map((a) => a.size))).toEqual(new Set([1, 2, 4, 8]));
    expect(new Set(tail.filter((a) => a.space === 'io').map((a) => a.size))).toEqual(new Set([1, 2, 4]));
    const { bus } = await freshBus('wasm');
    replayTrace(bus, accesses(await trace('boot', 'wasm')));
    const mapped = (a: TraceAccess) => bus.regions().some((r) => r.space === a.space && a.addr >= r.base && a.addr < r.base + r.size);
    const outside = tail.filter((a) => !mapped(a)).length;
    expect(outside).toBeGreaterThan(10);
    expect(outside).toBeLessThan(150);
  });

  it('rejects unknown profiles and bad counts', async () => {
    await expect(synthesizeTrace({ profile: 'nope' as SynthProfile })).rejects.toThrow(/profile/);
    await expect(synthesizeTrace({ profile: 'random', count: -1 })).rejects.toThrow(/count/);
  });
});

describe.each(BACKENDS)('replay on a fresh %s bus', (backend) => {
  describe.each(PROFILES)('%s', (profile) => {
    it.each(['batch', 'step'] as const)('reproduces every expected value (%s)', async (mode) => {
      const events = await trace(profile, 'wasm');
      const { bus, ram, irq } = await freshBus(backend);
      const result = replayTrace(bus, events, { ram, mode });
      expect(result.checked).toBeGreaterThan(20);
      expect(result.mismatches).toEqual([]);
      if (profile === 'virtio-io') {
        // The devices did the work again: no DMA refused, completions signalled by MSI-X.
        expect(bus.dma.faults()).toEqual([]);
        expect(irq.log.filter((e) => e.kind === 'message').length).toBeGreaterThan(20);
      }
    });
  });

  it('the guest RAM writes are what make the devices work on replay', async () => {
    const events = (await trace('virtio-io', 'wasm')).filter((e) => e.op !== 'memwrite');
    const { bus, ram, irq } = await freshBus(backend);
    replayTrace(bus, events, { ram });
    // Rings never filled in: the notifies find nothing available, and nothing completes.
    expect(irq.log.filter((e) => e.kind === 'message')).toEqual([]);
  });
});

describe('determinism', () => {
  it.each(PROFILES)('%s: the same events on both backends', async (profile) => {
    expect(await trace(profile, 'ts')).toEqual(await trace(profile, 'wasm'));
  });

  it('the same seed gives the same trace; another seed another', async () => {
    const a = await synthesizeTrace({ profile: 'random', count: 50, seed: 9 });
    const b = await synthesizeTrace({ profile: 'random', count: 50, seed: 9 });
    const c = await synthesizeTrace({ profile: 'random', count: 50, seed: 10 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const v1 = await synthesizeTrace({ profile: 'virtio-io', count: 10, seed: 9 });
    const v2 = await synthesizeTrace({ profile: 'virtio-io', count: 10, seed: 10 });
    expect(v2).not.toEqual(v1);
  });
});

describe('segments other than 0', () => {
  const topology: Topology = {
    segments: [
      { segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } },
      { segment: 1, ecam: { base: '0xa0000000', buses: [0, 15] } },
    ],
    devices: [
      { bdf: '00:00.0', model: 'host-bridge' },
      { bdf: '00:01.0', model: 'test-endpoint' },
      { bdf: '0001:00:00.0', model: 'root-port' },
      { behind: '0001:00:00.0', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
    ],
  };

  it.each(BACKENDS)('config cycles there go to the ECAM window, and replay (%s)', async (backend) => {
    const events = await synthesizeTrace({ profile: 'boot', backend, topology });
    const list = accesses(events);
    const ecam1 = list.filter((a) => a.space === 'mmio' && a.addr >= 0xa0000000n && a.addr < 0xa1000000n);
    expect(ecam1.length).toBeGreaterThan(10);
    // The function behind segment 1's root port: bus 1, reached at base + 1 MiB.
    expect(ecam1.some((a) => a.addr === 0xa0100000n && a.op === 'read' && a.expected !== 0xffffn && a.expected !== 0xffffffffn)).toBe(true);
    expect(list.some((a) => a.addr === 0xcf8n)).toBe(true);
    const { bus } = await freshBus(backend, topology);
    expect(replayTrace(bus, events).mismatches).toEqual([]);
    expect(bus.addressOf('0001:00:00.0/00.0')).toBe('0001:01:00.0');
  });
});

describe('through the trace formats', () => {
  it('a virtio-io trace written as text and read back still replays', async () => {
    const { TextTraceReader, readAll, writeTextTrace } = await import('../../src/trace/index.js');
    const events = await trace('virtio-io', 'wasm');
    const back = readAll(new TextTraceReader(), writeTextTrace(events));
    expect(back.map(({ source: _s, ...e }) => e)).toEqual(events);
    const { bus, ram } = await freshBus('ts');
    expect(replayTrace(bus, back, { ram }).mismatches).toEqual([]);
  });
});
