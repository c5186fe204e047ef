// Conformance: statistics. Per-region reads and writes count the accesses each region answered;
// per-device counts are the sums over the function's BAR regions; unmapped regions show base
// null; counts are numbers.
import { describe, expect, test } from 'vitest';
import { BACKENDS, ecam } from '../helpers/vpci.js';
import { CMD_IO, CMD_MEM, EP, LATE, RecordingModel, TOPOLOGY, addRegion, barRegionStats, canon, makeDBus, regionStats, sameBdf, setBarHandler } from './helpers.js';

const A = 0xc0000000;

describe.each(BACKENDS)('statistics (%s backend)', (backend) => {
  test('per-region reads/writes count what each region answered; devices sum their BAR regions', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM);
    const sub = setBarHandler(bus, EP, 1, new RecordingModel(), { offset: 0x800, length: 0x10 });
    const emb = addRegion(bus, 'mmio', 0xe0000000, 0x10, { kind: 'regfile', size: 16 }, undefined, 'scratch');
    bus.mmioRead(A, 4);
    bus.mmioRead(A + 4, 8);
    bus.mmioRead(A + 0xfff, 1);
    bus.mmioWrite(A, 4, 1);
    bus.mmioWrite(A + 0x100, 2, 1);
    bus.mmioRead(A + 0x800, 4);
    bus.mmioWrite(A + 0x80f, 1, 1);
    bus.ioRead(0xc000, 2);
    bus.ioRead(0xc0ff, 1);
    bus.mmioWrite(0xe0000000, 4, 5);
    bus.mmioRead(ecam(0, 1, 0, 0), 4);
    bus.mmioRead(ecam(0, 1, 0, 0x10), 8);
    const s = bus.stats();
    const whole1 = barRegionStats(bus, EP, 1);
    const whole0 = barRegionStats(bus, EP, 0);
    expect([whole1.reads, whole1.writes]).toEqual([3, 2]);
    expect([whole0.reads, whole0.writes]).toEqual([2, 0]);
    expect([regionStats(bus, sub).reads, regionStats(bus, sub).writes]).toEqual([1, 1]);
    expect([regionStats(bus, emb).reads, regionStats(bus, emb).writes]).toEqual([0, 1]);
    expect(regionStats(bus, emb).name).toBe('scratch');
    const ecamRegion = s.regions.find((r) => r.kind === 'ecam');
    expect(ecamRegion && [ecamRegion.reads, ecamRegion.writes]).toEqual([2, 0]);
    const dev = s.devices.find((d) => sameBdf(d.bdf, EP));
    const sum = s.regions.filter((r) => sameBdf(r.bdf, EP)).reduce((a, r) => [a[0] + r.reads, a[1] + r.writes], [0, 0]);
    expect(dev && [dev.reads, dev.writes]).toEqual(sum);
    expect(sum).toEqual([6, 3]);
    const other = s.devices.find((d) => sameBdf(d.bdf, LATE));
    expect(other && [other.reads, other.writes]).toEqual([0, 0]);
    expect(s.aborts).toEqual({ mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } });
  });

  test('stats() lists every region with bigint size, base null when unmapped, numeric counters, and every function', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const s = bus.stats();
    for (const r of s.regions) {
      expect(typeof r.size).toBe('bigint');
      expect(r.base === null || typeof r.base === 'bigint').toBe(true);
      expect([typeof r.reads, typeof r.writes, typeof r.id]).toEqual(['number', 'number', 'number']);
    }
    expect(barRegionStats(bus, EP, 1).base).toBe(BigInt(A));
    expect(barRegionStats(bus, EP, 0).base).toBeNull();
    // Every function with BARs is listed, in topology order (one without any may be left out).
    const withBars = bus.functions().filter((f) => s.regions.some((r) => sameBdf(r.bdf, f.bdf))).map((f) => canon(f.bdf));
    expect(s.devices.map((d) => canon(d.bdf)).filter((b) => withBars.includes(b))).toEqual(withBars);
    for (const k of ['invalid', 'hostErrors', 'droppedEvents', 'droppedEffects'] as const) expect(typeof s[k]).toBe('number');
    expect(s.regions.map((r) => r.id)).toEqual([...s.regions.map((r) => r.id)].sort((a, b) => a - b));
  });

  test('counters keep counting across moves of the region', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.mmioRead(A, 4);
    bus.configWrite(EP, 0x14, 4, 0xc1000000);
    bus.mmioRead(0xc1000000, 4);
    bus.configWrite(EP, 0x04, 2, 0);
    expect(barRegionStats(bus, EP, 1).reads).toBe(2);
  });
});
