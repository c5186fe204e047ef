// Conformance: accesses nothing claims (master aborts: all ones for the size, writes dropped,
// counted per space and direction; also integer addresses and ports outside the decodable space)
// and invalid accesses (bad sizes, addresses and ports that are not non-negative integers below
// 2^64: all ones / dropped, counted in `invalid` and nowhere else).
import { describe, expect, test } from 'vitest';
import { BACKENDS } from '../helpers/vpci.js';
import { CMD_IO, CMD_MEM, EP, TOPOLOGY, barRegionStats, makeDBus } from './helpers.js';
import type { DBus, Stats } from './helpers.js';

const counters = (s: Stats) => ({ aborts: s.aborts, invalid: s.invalid, hostErrors: s.hostErrors });
const regionCounts = (bus: DBus) => bus.stats().regions.map((r) => [r.id, r.reads, r.writes]);

describe.each(BACKENDS)('unmapped and invalid accesses (%s backend)', (backend) => {
  test('unmapped MMIO reads return all ones for their size (8 bytes: a bigint) and count as MMIO read aborts', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const before = regionCounts(bus);
    const addrs: (number | bigint)[] = [0, 0x1000, 0xc0000000, 0xfffffffc, 2 ** 40, 2 ** 52 - 8, 0x1234n];
    const got: unknown[] = [];
    for (const a of addrs) for (const size of [1, 2, 4, 8]) got.push(bus.mmioRead(a, size));
    expect(got).toEqual(addrs.flatMap(() => [0xff, 0xffff, 0xffffffff, 0xffffffffffffffffn]));
    const s = bus.stats();
    expect(counters(s)).toEqual({ aborts: { mmio: { reads: 28, writes: 0 }, io: { reads: 0, writes: 0 } }, invalid: 0, hostErrors: 0 });
    expect(regionCounts(bus), 'no region counted anything').toEqual(before);
  });

  test('unmapped MMIO writes are dropped and count as MMIO write aborts', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const dump = bus.dump().map((d) => Array.from(d.config));
    bus.mmioWrite(0xc0000000, 1, 0x12);
    bus.mmioWrite(0xc0000000, 2, 0x1234);
    bus.mmioWrite(0xc0000000, 4, 0x12345678);
    bus.mmioWrite(0xc0000000, 8, 0x123456789abcdef0n);
    bus.mmioWrite(0x10, 8, 5);
    expect(counters(bus.stats())).toEqual({ aborts: { mmio: { reads: 0, writes: 5 }, io: { reads: 0, writes: 0 } }, invalid: 0, hostErrors: 0 });
    expect(bus.events()).toEqual([]);
    expect(bus.dump().map((d) => Array.from(d.config))).toEqual(dump);
  });

  test('unmapped ports read all ones and count as IO aborts; writes are dropped and counted', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    expect([bus.ioRead(0x80, 1), bus.ioRead(0x80, 2), bus.ioRead(0x3f8, 4), bus.ioRead(0xffff, 1), bus.ioRead(0, 4)])
      .toEqual([0xff, 0xffff, 0xffffffff, 0xff, 0xffffffff]);
    bus.ioWrite(0x80, 1, 0x12);
    bus.ioWrite(0xfffe, 2, 0x1234);
    expect(counters(bus.stats())).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 5, writes: 2 } }, invalid: 0, hostErrors: 0 });
  });

  test('a decoded BAR stops claiming its range when decode is turned off: its accesses become aborts', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x14, 4, 0xc0000000);
    bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM);
    expect([bus.mmioRead(0xc0000000, 4), bus.ioRead(0xc000, 4)]).toEqual([0, 0]);
    bus.mmioWrite(0xc0000000, 4, 1);
    bus.ioWrite(0xc000, 4, 1);
    expect(bus.stats().aborts).toEqual({ mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } });
    bus.configWrite(EP, 0x04, 2, 0);
    expect([bus.mmioRead(0xc0000000, 4), bus.ioRead(0xc000, 4)]).toEqual([0xffffffff, 0xffffffff]);
    bus.mmioWrite(0xc0000000, 4, 1);
    bus.ioWrite(0xc000, 4, 1);
    expect(bus.stats().aborts).toEqual({ mmio: { reads: 1, writes: 1 }, io: { reads: 1, writes: 1 } });
    expect([barRegionStats(bus, EP, 0).reads, barRegionStats(bus, EP, 1).reads]).toEqual([1, 1]);
  });

  test('invalid MMIO sizes read 0xffffffff, write nothing, and count in invalid only', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, 0xc0000000);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const sizes = [0, 3, 5, 6, 7, 16, -1, 1.5, NaN, Infinity];
    for (const size of sizes) expect(bus.mmioRead(0xc0000000, size), `size ${size}`).toBe(0xffffffff);
    for (const size of sizes) bus.mmioWrite(0xc0000000, size, 1);
    const s = bus.stats();
    expect(counters(s)).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } }, invalid: 2 * sizes.length, hostErrors: 0 });
    expect([barRegionStats(bus, EP, 1).reads, barRegionStats(bus, EP, 1).writes]).toEqual([0, 0]);
  });

  test('invalid IO sizes (including 8) and ports that are not non-negative integers count in invalid only', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect([bus.ioRead(0xc000, 8), bus.ioRead(0xc000, 3), bus.ioRead(0xc000, 0)]).toEqual([0xffffffff, 0xffffffff, 0xffffffff]);
    expect([bus.ioRead(-1, 1), bus.ioRead(0xc000 + 0.5, 4), bus.ioRead(NaN, 1), bus.ioRead(Infinity, 1)])
      .toEqual([0xff, 0xffffffff, 0xff, 0xff]);
    bus.ioWrite(0xc000, 8, 1);
    bus.ioWrite(-4, 4, 1);
    const s = bus.stats();
    expect(counters(s)).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } }, invalid: 9, hostErrors: 0 });
    expect(barRegionStats(bus, EP, 0).reads + barRegionStats(bus, EP, 0).writes).toBe(0);
  });

  test('IO ports that are numbers >= 2^64 are invalid, like MMIO addresses >= 2^64', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    expect([bus.ioRead(2 ** 64, 2), bus.ioRead(2 ** 64 + 2 ** 12, 4), bus.mmioRead(2 ** 64, 2)]).toEqual([0xffff, 0xffffffff, 0xffff]);
    bus.ioWrite(2 ** 64, 1, 1);
    expect(counters(bus.stats())).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } }, invalid: 4, hostErrors: 0 });
  });

  test('integer ports at or above 0x10000 (also 2^32 + x) are master aborts, not invalid, and never alias a decoded port', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(bus.ioRead(0xc000, 4), 'the IO BAR decodes').toBe(0);
    expect([bus.ioRead(0x10000, 2), bus.ioRead(2 ** 32 + 0xc000, 1), bus.ioRead(0x1c000, 4), bus.ioRead(2 ** 32 + 0xcfc, 4), bus.ioRead(2 ** 53, 1)])
      .toEqual([0xffff, 0xff, 0xffffffff, 0xffffffff, 0xff]);
    bus.ioWrite(0x10000, 1, 1);
    bus.ioWrite(2 ** 32 + 0xcf8, 4, 0x80000800);
    const s = bus.stats();
    expect(counters(s)).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 5, writes: 2 } }, invalid: 0, hostErrors: 0 });
    expect(barRegionStats(bus, EP, 0).reads + barRegionStats(bus, EP, 0).writes, 'the access at 0xc000 only').toBe(1);
    expect(bus.ioRead(0xcf8, 4), '2^32 + 0xCF8 did not write CONFIG_ADDRESS').toBe(0);
  });

  test('MMIO addresses that are not non-negative integers below 2^64 count in invalid only', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const bad: (number | bigint)[] = [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 64, 2 ** 70, -1n, 2n ** 64n, 2n ** 64n + 0xc0000000n];
    for (const a of bad) {
      expect(bus.mmioRead(a, 4), String(a)).toBe(0xffffffff);
      expect(bus.mmioRead(a, 8), String(a)).toBe(0xffffffffffffffffn);
      bus.mmioWrite(a, 4, 0);
    }
    expect(counters(bus.stats())).toEqual({ aborts: { mmio: { reads: 0, writes: 0 }, io: { reads: 0, writes: 0 } }, invalid: 3 * bad.length, hostErrors: 0 });
  });

  test('integer MMIO addresses at or above 2^52 (numbers and bigints up to 2^64 - 1) are master aborts and never alias a decoded address', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    bus.configWrite(EP, 0x14, 4, 0xc0000000);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const far: (number | bigint)[] = [
      2 ** 52, 2 ** 52 + 0xc0000000, 2 ** 53, 2 ** 53 + 2 ** 32, 2 ** 60, 2 ** 64 - 2 ** 11,
      2n ** 52n, 2n ** 52n + 0xc0000000n, 2n ** 53n, 2n ** 53n + 0xc0000000n, 2n ** 63n + 0xc0000000n, 2n ** 64n - 2n ** 32n + 0xc0000000n, 2n ** 64n - 1n,
    ];
    for (const a of far) {
      expect(bus.mmioRead(a, 4), String(a)).toBe(0xffffffff);
      expect(bus.mmioRead(a, 8), String(a)).toBe(0xffffffffffffffffn);
      bus.mmioWrite(a, 4, 0);
    }
    expect(counters(bus.stats())).toEqual({ aborts: { mmio: { reads: 2 * far.length, writes: far.length }, io: { reads: 0, writes: 0 } }, invalid: 0, hostErrors: 0 });
    expect([barRegionStats(bus, EP, 1).reads, barRegionStats(bus, EP, 1).writes], 'the BAR at 0xc0000000 never answered').toEqual([0, 0]);
  });

  test('addresses in [2^52, 2^53) are integers in range but never decoded: all ones, counted once as aborts', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    for (const a of [2 ** 52, 2 ** 52 + 0x1000, 2 ** 53 - 8]) {
      expect(bus.mmioRead(a, 4)).toBe(0xffffffff);
      expect(bus.mmioRead(BigInt(a), 8)).toBe(0xffffffffffffffffn);
    }
    const s = bus.stats();
    expect(s.aborts.mmio.reads + s.invalid, 'each access counted exactly once').toBe(6);
    expect([s.aborts.mmio.reads, s.invalid]).toEqual([6, 0]);
  });

  test('nothing a guest does throws', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    const odd = [NaN, -1, 1.5, 2 ** 64, -(2 ** 31), Infinity];
    expect(() => {
      for (const a of odd) for (const s of odd) {
        bus.mmioRead(a, s);
        bus.mmioWrite(a, s, a);
        bus.ioRead(a, s);
        bus.ioWrite(a, s, a);
      }
    }).not.toThrow();
  });
});
