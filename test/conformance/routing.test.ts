// Conformance: config routing through bridges' bus numbers, MMIO/IO routing through their windows,
// and upstream Bus Master Enable, on both cores directly (below the topology layer). Facts from
// the PCI-to-PCI Bridge Architecture 1.2 (§3.2.5.3 bus numbers, §3.2.5.6-9 windows, §3.2.2 Command).
import { beforeEach, describe, expect, test } from 'vitest';
import { loadWasmCore } from '../../bindings/load.js';
import type { CoreBackend } from '../../src/core/backend.js';
import { Status } from '../../src/core/backend.js';
import { TsCore } from '../../src/core/ts/ts-core.js';
import { buildPlanes } from '../../src/config/index.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import { pciBridge } from '../../src/devices/pci-bridge.js';
import { rootPort } from '../../src/devices/root-port.js';
import { FAULT_STATUS, Reason } from '../../src/core/ts/dma/index.js';

const BACKENDS = {
  wasm: () => loadWasmCore(),
  ts: async () => new TsCore() as CoreBackend,
};

const CMD_IO = 1;
const CMD_MEM = 2;
const CMD_MASTER = 4;

const endpoint = (deviceId: number): FunctionDescriptor => ({
  vendorId: 0x1234, deviceId, classCode: 0xff0000,
  bars: [
    { index: 0, kind: 'mem32', size: 0x1000 },
    { index: 1, kind: 'io', size: 0x20 },
    { index: 2, kind: 'mem64', size: 0x200000, prefetchable: true },
  ],
  rom: { size: 0x10000 },
});

function load(core: CoreBackend, slot: number, d: FunctionDescriptor): void {
  const p = buildPlanes(d);
  expect(core.loadPlanes(slot, p.config, p.wmask, p.w1cmask)).toBe(Status.OK);
}

function addRoot(core: CoreBackend, bus: number, dev: number, d: FunctionDescriptor): number {
  const p = buildPlanes(d);
  const slot = core.addFunction(0, bus, dev, 0, p.size);
  expect(slot).toBeGreaterThanOrEqual(0);
  load(core, slot, d);
  return slot;
}

function addBelow(core: CoreBackend, bridge: number, dev: number, d: FunctionDescriptor, fn = 0): number {
  const p = buildPlanes(d);
  const slot = core.addFunctionBelow(bridge, dev, fn, p.size);
  expect(slot).toBeGreaterThanOrEqual(0);
  load(core, slot, d);
  return slot;
}

/** Writes config through the routing (the guest's view) at the slot's current address. */
function write(core: CoreBackend, slot: number, reg: number, size: number, value: number): void {
  const a = core.slotAddress(slot);
  expect(a, `slot ${slot} must be reachable`).toBeGreaterThanOrEqual(0);
  core.configWrite(a >>> 16, (a >> 8) & 0xff, (a >> 3) & 0x1f, a & 7, reg, size, value);
}

function setBuses(core: CoreBackend, bridge: number, primary: number, secondary: number, subordinate: number): void {
  write(core, bridge, 0x18, 4, primary | (secondary << 8) | (subordinate << 16));
}

const address = (bus: number, dev: number, fn: number) => (bus << 8) | (dev << 3) | fn;

describe.each(Object.keys(BACKENDS) as (keyof typeof BACKENDS)[])('bridge routing (%s core)', (kind) => {
  let core: CoreBackend;
  beforeEach(async () => {
    core = await BACKENDS[kind]();
  });

  describe('config cycles follow bus numbers', () => {
    test('a function below a bridge is unreachable until the bridge has bus numbers, then at its secondary bus', () => {
      const br = addRoot(core, 0, 4, pciBridge());
      const ep = addBelow(core, br, 0, endpoint(0xaaaa));
      expect(core.slotParent(ep)).toBe(br);
      expect(core.slotParent(br)).toBe(-1);
      expect(core.slotAddress(ep)).toBe(-1);
      expect(core.slotAddress(br)).toBe(address(0, 4, 0));
      for (let bus = 0; bus < 256; bus++) expect(core.configRead(0, bus, 0, 0, 0, 4) === 0xaaaa1234).toBe(false);
      setBuses(core, br, 0, 1, 1);
      expect(core.slotAddress(ep)).toBe(address(1, 0, 0));
      expect(core.slotAt(0, 1, 0, 0)).toBe(ep);
      expect(core.configRead(0, 1, 0, 0, 0, 4)).toBe(0xaaaa1234);
      // Renumbering moves it; the old number answers nothing.
      setBuses(core, br, 0, 7, 9);
      expect(core.configRead(0, 1, 0, 0, 0, 4)).toBe(0xffffffff);
      expect(core.configRead(0, 7, 0, 0, 0, 4)).toBe(0xaaaa1234);
      expect(core.slotAt(0, 8, 0, 0)).toBe(-1);
    });

    test('nested bridges: the lower bus is reached only while the upper range covers it', () => {
      const a = addRoot(core, 0, 4, pciBridge());
      const b = addBelow(core, a, 1, pciBridge());
      const ep = addBelow(core, b, 0, endpoint(0xbbbb));
      setBuses(core, a, 0, 1, 1);
      expect(core.slotAddress(b)).toBe(address(1, 1, 0));
      setBuses(core, b, 1, 2, 2);
      // B claims bus 2 but A forwards only bus 1.
      expect(core.slotAddress(ep)).toBe(-1);
      setBuses(core, a, 0, 1, 2);
      expect(core.slotAddress(ep)).toBe(address(2, 0, 0));
      expect(core.configRead(0, 2, 0, 0, 2, 2)).toBe(0xbbbb);
      // Shrinking A's subordinate cuts B's bus off again.
      write(core, a, 0x1a, 1, 1);
      expect(core.slotAddress(ep)).toBe(-1);
    });

    test('a secondary above the subordinate, or equal to a root bus number, routes nothing', () => {
      const br = addRoot(core, 0, 4, pciBridge());
      const ep = addBelow(core, br, 0, endpoint(0xcccc));
      setBuses(core, br, 0, 3, 2);
      expect(core.slotAddress(ep)).toBe(-1);
      setBuses(core, br, 0, 0, 5);
      expect(core.slotAddress(ep)).toBe(-1);
      expect(core.configRead(0, 0, 4, 0, 0x19, 1)).toBe(0);
    });

    test('overlapping sibling ranges: the lower device number wins, deterministically', () => {
      const x = addRoot(core, 0, 2, pciBridge());
      const y = addRoot(core, 0, 3, pciBridge());
      const ex = addBelow(core, x, 0, endpoint(0x1111));
      const ey = addBelow(core, y, 0, endpoint(0x2222));
      setBuses(core, y, 0, 1, 4);
      setBuses(core, x, 0, 1, 4);
      expect(core.slotAddress(ex)).toBe(address(1, 0, 0));
      expect(core.slotAddress(ey)).toBe(-1);
      setBuses(core, x, 0, 5, 5);
      expect(core.slotAddress(ey)).toBe(address(1, 0, 0));
      expect(core.slotAddress(ex)).toBe(address(5, 0, 0));
    });

    test('ECAM and 0xCF8/0xCFC reach functions behind bridges through the same routing', () => {
      expect(core.setEcam(0, 0xb0000000, 0, 255)).toBe(Status.OK);
      const br = addRoot(core, 0, 4, rootPort());
      const ep = addBelow(core, br, 0, endpoint(0xdddd));
      core.barAttach(br);
      core.barAttach(ep);
      setBuses(core, br, 0, 3, 3);
      expect(core.mmioRead(0xb0000000 + 3 * 0x100000, 4)).toBe(0xdddd1234);
      core.ioWrite(0xcf8, 4, (0x80000000 | (3 << 16)) >>> 0);
      expect(core.ioRead(0xcfc, 4)).toBe(0xdddd1234);
      // ECAM writes to the bridge's bus numbers (a hooked dword) re-route at once.
      core.mmioWrite(0xb0000000 + (4 << 15) + 0x18, 4, 0x00060600, 0);
      expect(core.mmioRead(0xb0000000 + 6 * 0x100000, 4)).toBe(0xdddd1234);
      expect(core.mmioRead(0xb0000000 + 3 * 0x100000, 4)).toBe(0xffffffff);
    });

    test('several root buses (a host bridge with extra root buses) keep fixed numbers', () => {
      const r0 = addRoot(core, 0, 4, pciBridge());
      const onRoot = addRoot(core, 0x80, 0, endpoint(0x8080));
      const ep = addBelow(core, r0, 0, endpoint(0x4444));
      setBuses(core, r0, 0, 0x80, 0x81);
      // 0x80 is a root bus: the bridge's claim loses, its subtree stays unreachable.
      expect(core.slotAddress(ep)).toBe(-1);
      expect(core.slotAddress(onRoot)).toBe(address(0x80, 0, 0));
      setBuses(core, r0, 0, 0x81, 0x81);
      expect(core.slotAddress(ep)).toBe(address(0x81, 0, 0));
    });

    test('multi-function bit and function lookup are per bus, below bridges too', () => {
      const br = addRoot(core, 0, 4, pciBridge());
      addBelow(core, br, 0, endpoint(0x5550));
      addBelow(core, br, 0, endpoint(0x5551), 1);
      setBuses(core, br, 0, 1, 1);
      expect(core.configRead(0, 1, 0, 0, 0x0e, 1) & 0x80).toBe(0x80);
      expect(core.configRead(0, 1, 0, 1, 2, 2)).toBe(0x5551);
      expect(core.addFunctionBelow(br, 0, 1, 256)).toBe(Status.EXISTS);
    });

    test('addFunctionBelow and removeFunction refuse what would break the tree', () => {
      const br = addRoot(core, 0, 4, pciBridge());
      const ep = addBelow(core, br, 0, endpoint(0x6666));
      expect(core.addFunctionBelow(ep, 0, 0, 256)).toBe(Status.RANGE);
      expect(core.addFunctionBelow(4095, 0, 0, 256)).toBe(Status.NOT_FOUND);
      expect(core.addFunctionBelow(-1, 0, 0, 256)).toBe(Status.NOT_FOUND);
      expect(core.addFunctionBelow(br, 32, 0, 256)).toBe(Status.RANGE);
      expect(core.addFunctionBelow(br, 1, 8, 256)).toBe(Status.RANGE);
      expect(core.addFunctionBelow(br, 1, 0, 512)).toBe(Status.RANGE);
      expect(core.removeFunction(br)).toBe(Status.BUSY);
      expect(core.removeFunction(ep)).toBe(Status.OK);
      expect(core.removeFunction(br)).toBe(Status.OK);
      expect(core.slotParent(ep)).toBe(-1);
      expect(core.slotAddress(br)).toBe(-1);
    });
  });

  describe('MMIO and IO follow the bridges\' windows', () => {
    let br: number;
    let ep: number;
    beforeEach(() => {
      br = addRoot(core, 0, 4, pciBridge());
      ep = addBelow(core, br, 0, endpoint(0x7777));
      expect(core.barAttach(br)).toBe(Status.OK);
      expect(core.barAttach(ep)).toBe(Status.OK);
      setBuses(core, br, 0, 1, 1);
      write(core, ep, 0x10, 4, 0xc0000000);
      write(core, ep, 0x14, 4, 0x1000);
      write(core, ep, 0x18, 4, 0);
      write(core, ep, 0x1c, 4, 0x1);
      write(core, ep, 0x30, 4, 0xc0100001);
      write(core, ep, 0x04, 2, CMD_IO | CMD_MEM);
    });
    const mapped = (bar: number) => core.barInfo(ep, bar).mapped;

    test('nothing decodes while the bridge has no windows or decode is off', () => {
      for (const bar of [0, 1, 2, 6]) expect(mapped(bar), `BAR ${bar}`).toBe(false);
      write(core, br, 0x20, 4, 0xc010c000); // memory window 0xC0000000-0xC01FFFFF
      expect(mapped(0)).toBe(false);        // bridge Memory Space still off
      write(core, br, 0x04, 2, CMD_MEM);
      expect(mapped(0)).toBe(true);
      expect(mapped(6)).toBe(true);
      expect(mapped(1)).toBe(false);        // IO needs the IO window and IO decode
      write(core, br, 0x1c, 2, 0x1010);     // IO window 0x1000-0x1FFF
      expect(mapped(1)).toBe(false);
      write(core, br, 0x04, 2, CMD_MEM | CMD_IO);
      expect(mapped(1)).toBe(true);
      expect(core.ioRead(0x1000, 4)).not.toBe(undefined);
      write(core, br, 0x04, 2, CMD_IO);
      expect(mapped(0)).toBe(false);
      expect(mapped(1)).toBe(true);
    });

    test('reprogramming a window moves routing at once; a BAR only partly inside does not decode', () => {
      write(core, br, 0x04, 2, CMD_MEM);
      write(core, br, 0x20, 4, 0xc000c000); // 0xC0000000-0xC00FFFFF: BAR 0 inside, ROM outside
      expect(mapped(0)).toBe(true);
      expect(mapped(6)).toBe(false);
      write(core, br, 0x20, 4, 0xc020c010); // 0xC0100000-0xC02FFFFF: ROM inside, BAR 0 outside
      expect(mapped(0)).toBe(false);
      expect(mapped(6)).toBe(true);
      write(core, ep, 0x10, 4, 0xc02ff800);  // 4 KiB at 0xC02FF800 would cross the limit; not aligned
      expect(core.barInfo(ep, 0).base === 0xc02ff000 ? true : !mapped(0)).toBe(true);
      write(core, br, 0x20, 4, 0x0000fff0); // base above limit: closed
      expect(mapped(6)).toBe(false);
    });

    test('a 64-bit prefetchable BAR above 4 GiB decodes through the 64-bit prefetchable window', () => {
      write(core, ep, 0x18, 4, 0x00000000);
      write(core, ep, 0x1c, 4, 0x8);        // 0x8_0000_0000
      write(core, br, 0x04, 2, CMD_MEM);
      expect(mapped(2)).toBe(false);
      write(core, br, 0x24, 4, 0x1ff00000); // low halves: base 0x0000_0000, limit 0x1FFF_FFFF
      write(core, br, 0x28, 4, 0x8);
      write(core, br, 0x2c, 4, 0x8);
      expect(mapped(2)).toBe(true);
      expect(core.barInfo(ep, 2).base).toBe(0x800000000);
      write(core, br, 0x2c, 4, 0x7);        // limit below base: closed
      expect(mapped(2)).toBe(false);
    });

    test('every bridge above must forward: a window of the lower bridge alone is not enough', () => {
      const top = addRoot(core, 0, 6, pciBridge());
      const mid = addBelow(core, top, 0, pciBridge());
      const leaf = addBelow(core, mid, 0, endpoint(0x8888));
      core.barAttach(top);
      core.barAttach(mid);
      core.barAttach(leaf);
      setBuses(core, top, 0, 2, 3);
      setBuses(core, mid, 2, 3, 3);
      write(core, leaf, 0x10, 4, 0xd0000000);
      write(core, leaf, 0x04, 2, CMD_MEM);
      write(core, mid, 0x20, 4, 0xd000d000);
      write(core, mid, 0x04, 2, CMD_MEM);
      expect(core.barInfo(leaf, 0).mapped).toBe(false);
      write(core, top, 0x20, 4, 0xd000d000);
      write(core, top, 0x04, 2, CMD_MEM);
      expect(core.barInfo(leaf, 0).mapped).toBe(true);
      expect(core.regionInfo(core.barInfo(leaf, 0).region).base).toBe(0xd0000000);
      // Renumbering buses moves config routing, not memory routing (windows are physical).
      setBuses(core, top, 0, 0x10, 0x11);
      expect(core.barInfo(leaf, 0).mapped).toBe(true);
      write(core, top, 0x04, 2, 0);
      expect(core.barInfo(leaf, 0).mapped).toBe(false);
    });

    test('the bridge\'s own BARs sit on its primary side: its windows do not gate them', () => {
      const d: FunctionDescriptor = { ...pciBridge(), bars: [{ index: 0, kind: 'mem32', size: 0x1000 }] };
      const b2 = addRoot(core, 0, 9, d);
      core.barAttach(b2);
      core.configWrite(0, 0, 9, 0, 0x10, 4, 0xe0000000);
      core.configWrite(0, 0, 9, 0, 0x04, 2, CMD_MEM);
      expect(core.barInfo(b2, 0).mapped).toBe(true);
    });
  });

  describe('DMA from below a bridge needs Bus Master Enable on every bridge above', () => {
    test('faults with the bus-master reason until the bridge masters too', () => {
      const br = addRoot(core, 0, 4, pciBridge());
      const ep = addBelow(core, br, 0, endpoint(0x9999));
      core.barAttach(br);
      core.barAttach(ep);
      setBuses(core, br, 0, 1, 1);
      expect(core.dma.ramAdd(0, 0x10000, 1)).toBeGreaterThanOrEqual(0);
      write(core, ep, 0x04, 2, CMD_MASTER);
      expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(FAULT_STATUS - Reason.BUS_MASTER);
      write(core, br, 0x04, 2, CMD_MASTER);
      expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(Status.OK);
      write(core, ep, 0x04, 2, 0);
      expect(core.dma.dmaRead(ep, 0x100, 16, 0)).toBe(FAULT_STATUS - Reason.BUS_MASTER);
    });
  });
});
