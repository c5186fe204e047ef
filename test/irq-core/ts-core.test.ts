// The interrupt core (INTx lines, MSI, MSI-X) through the numeric CoreBackend interface, on both
// cores: every rule of the issue-6 interrupt spec, then a differential property test that random
// sequences of interrupt operations and guest accesses give the same results in both cores.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadWasmCore } from '../../bindings/load.js';
import type { CoreBackend, RawIrqEvent } from '../../src/core/backend.js';
import { CounterIndex, Irq, IrqResult, RegionKind, Status } from '../../src/core/backend.js';
import { TsCore } from '../../src/core/ts/ts-core.js';
import { buildPlanes } from '../../src/config/index.js';
import type { CapabilityDescriptor, FunctionDescriptor } from '../../src/config/index.js';
import { pciBridge } from '../../src/devices/pci-bridge.js';

const BACKENDS: [string, () => Promise<CoreBackend>][] = [
  ['ts', async () => new TsCore()],
  ['wasm', async () => loadWasmCore()],
];

// ---------------------------------------------------------------------------------------------
// Helpers

const MSI: CapabilityDescriptor = { id: 'msi', vectors: 4, address64: true, perVectorMask: true };
const msix = (tableSize: number, over: Partial<Extract<CapabilityDescriptor, { id: 'msix' }>> = {}): CapabilityDescriptor =>
  ({ id: 'msix', tableSize, tableBar: 0, tableOffset: 0x1000, pbaBar: 0, pbaOffset: 0x2000, ...over });

function endpoint(over: Partial<FunctionDescriptor> = {}): FunctionDescriptor {
  return { vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000, ...over };
}

/** An endpoint with INTA, MSI (4 vectors, 64-bit, per-vector mask) at 0x40 and MSI-X (N entries) at 0x58. */
function fullEndpoint(n = 8): FunctionDescriptor {
  return endpoint({ interruptPin: 1, bars: [{ index: 0, kind: 'mem32', size: 0x4000 }], capabilities: [MSI, msix(n)] });
}

// MSI registers of a 64-bit, per-vector-masking capability at 0x40 (PCI 3.0 §6.8.1).
const MSI_CTRL = 0x42;
const MSI_ADDR = 0x44;
const MSI_ADDR_HI = 0x48;
const MSI_DATA = 0x4c;
const MSI_MASK = 0x50;
const MSI_PENDING = 0x54;
// MSI-X after it, at 0x58.
const MSIX_CTRL = 0x5a;
const BAR_BASE = 0xe0000000;
const TABLE = BAR_BASE + 0x1000;
const PBA = BAR_BASE + 0x2000;

function where(core: CoreBackend, slot: number): [number, number, number, number] {
  const a = core.slotAddress(slot);
  if (a < 0) throw new Error(`slot ${slot} is not reachable by config cycles`);
  return [a >>> 16, (a >>> 8) & 0xff, (a >>> 3) & 0x1f, a & 7];
}

function cw(core: CoreBackend, slot: number, reg: number, size: number, value: number): number {
  const [s, b, d, f] = where(core, slot);
  return core.configWrite(s, b, d, f, reg, size, value);
}

function cr(core: CoreBackend, slot: number, reg: number, size: number): number {
  const [s, b, d, f] = where(core, slot);
  return core.configRead(s, b, d, f, reg, size);
}

function load(core: CoreBackend, slot: number, d: FunctionDescriptor): void {
  const p = buildPlanes(d);
  expect(core.loadPlanes(slot, p.config, p.wmask, p.w1cmask)).toBe(Status.OK);
}

/** Adds, loads, barAttaches and irqAttaches a function on a root bus (or below a bridge). */
function add(core: CoreBackend, d: FunctionDescriptor, at: { dev: number; fn?: number; seg?: number; below?: number }): number {
  const slot = at.below === undefined
    ? core.addFunction(at.seg ?? 0, 0, at.dev, at.fn ?? 0, 256)
    : core.addFunctionBelow(at.below, at.dev, at.fn ?? 0, 256);
  expect(slot).toBeGreaterThanOrEqual(0);
  load(core, slot, d);
  expect(core.barAttach(slot)).toBe(Status.OK);
  expect(core.irqAttach(slot)).toBe(Status.OK);
  return slot;
}

/** Maps BAR 0 at BAR_BASE and turns on memory decoding. */
function mapBar0(core: CoreBackend, slot: number): void {
  cw(core, slot, 0x10, 4, BAR_BASE);
  cw(core, slot, 0x04, 2, 0x0002);
  expect(core.barInfo(slot, 0)).toMatchObject({ mapped: true, base: BAR_BASE });
}

const line = (gsi: number, level: number): RawIrqEvent => ({ kind: 1, slot: -1, gsi, level, address: 0, addressHigh: 0, data: 0 });
const message = (slot: number, address: number, addressHigh: number, data: number): RawIrqEvent =>
  ({ kind: 2, slot, gsi: 0, level: 0, address, addressHigh, data });

/** A 64-bit MMIO read as [low, high]. */
function read64(core: CoreBackend, addr: number): [number, number] {
  const lo = core.mmioRead(addr, 8);
  return [lo, core.mmioReadHigh()];
}

/** Writes an MSI-X table entry (address, data, vector control) with dword writes. */
function entry(core: CoreBackend, k: number, address: number, data: number, masked: boolean, high = 0): void {
  core.mmioWrite(TABLE + k * 16, 4, address, 0);
  core.mmioWrite(TABLE + k * 16 + 4, 4, high, 0);
  core.mmioWrite(TABLE + k * 16 + 8, 4, data, 0);
  core.mmioWrite(TABLE + k * 16 + 12, 4, masked ? 1 : 0, 0);
}

/** Two bridges (00:01.0 -> bus 1, 01:02.0 -> bus 2) with bus numbers programmed; returns both slots. */
function twoBridges(core: CoreBackend): [number, number] {
  const b1 = core.addFunction(0, 0, 1, 0, 256);
  load(core, b1, pciBridge());
  cw(core, b1, 0x18, 4, 0x00020100);
  const b2 = core.addFunctionBelow(b1, 2, 0, 256);
  load(core, b2, pciBridge());
  cw(core, b2, 0x18, 4, 0x00020201);
  expect(core.slotAddress(b2)).toBe((1 << 8) | (2 << 3));
  return [b1, b2];
}

/** Pin p of a function at device d, seen one bus up (PCI-to-PCI Bridge 1.2 §9.1). */
const swizzle = (p: number, d: number) => ((p - 1 + d) % 4) + 1;

// ---------------------------------------------------------------------------------------------

describe.each(BACKENDS)('%s core', (_name, make) => {
  describe('INTx', () => {
    test('a pin on the root bus reaches the routing entry of its own device and pin', async () => {
      const core = await make();
      const slot = add(core, endpoint({ interruptPin: 2 }), { dev: 5 });
      expect(core.intxRoute(0, 5, 2, 33)).toBe(Status.OK);
      expect(core.intxRouteOf(0, 5, 2)).toBe(33);
      expect(core.intxRouteOf(0, 5, 1)).toBe(Irq.GSI_NONE);
      expect(core.irqDrain()).toEqual([]);
      expect(core.intxSet(slot, 1)).toBe(Status.OK);
      expect(core.irqQueued()).toBe(1);
      expect(core.irqDrain()).toEqual([line(33, 1)]);
      expect(core.irqQueued()).toBe(0);
      expect(core.lineLevel(33)).toBe(1);
      expect(core.intxSet(slot, 0)).toBe(Status.OK);
      expect(core.irqDrain()).toEqual([line(33, 0)]);
      expect(core.lineLevel(33)).toBe(0);
    });

    test('pins swizzle at each of two bridge levels, by physical device number', async () => {
      const core = await make();
      const [, b2] = twoBridges(core);
      // Each root-bus pin of bridge 1 (device 1) gets its own line.
      for (let p = 1; p <= 4; p++) expect(core.intxRoute(0, 1, p, 100 + p)).toBe(Status.OK);
      for (const dev of [0, 3, 6, 13]) {
        for (let pin = 1; pin <= 4; pin++) {
          const slot = add(core, endpoint({ interruptPin: pin }), { below: b2, dev });
          core.intxSet(slot, 1);
          const atRoot = swizzle(swizzle(pin, dev), 2);
          expect(core.irqDrain(), `dev ${dev} pin ${pin}`).toEqual([line(100 + atRoot, 1)]);
          expect(core.removeFunction(slot)).toBe(Status.OK);
          expect(core.irqDrain()).toEqual([line(100 + atRoot, 0)]);
        }
      }
      // Bus numbers do not matter: with bridge 2's bus numbers cleared (its bus unreachable by
      // config cycles) the pin still swizzles by device number; re-routing re-evaluates it.
      const slot = add(core, endpoint({ interruptPin: 1 }), { below: b2, dev: 3 });
      core.intxSet(slot, 1);
      expect(core.irqDrain()).toEqual([line(100 + swizzle(swizzle(1, 3), 2), 1)]);
      cw(core, b2, 0x18, 4, 0);
      expect(core.slotAddress(slot)).toBe(-1);
      core.intxRoute(0, 9, 1, 5);
      expect(core.irqDrain()).toEqual([]);
      core.intxRoute(0, 1, swizzle(swizzle(1, 3), 2), 7);
      expect(core.irqDrain()).toEqual([line(100 + swizzle(swizzle(1, 3), 2), 0), line(7, 1)]);
    });

    test('a line shared by two functions is reported only on 0->1 and 1->0', async () => {
      const core = await make();
      const a = add(core, endpoint({ interruptPin: 1 }), { dev: 2 });
      const b = add(core, endpoint({ interruptPin: 3 }), { dev: 3 });
      core.intxRoute(0, 2, 1, 9);
      core.intxRoute(0, 3, 3, 9);
      expect(core.irqDrain()).toEqual([]);
      core.intxSet(a, 1);
      expect(core.irqDrain()).toEqual([line(9, 1)]);
      core.intxSet(b, 1);
      expect(core.irqDrain()).toEqual([]);
      expect(core.lineLevel(9)).toBe(2);
      core.intxSet(a, 1); // already asserted: no second reference
      expect(core.lineLevel(9)).toBe(2);
      core.intxSet(a, 0);
      expect(core.irqDrain()).toEqual([]);
      expect(core.lineLevel(9)).toBe(1);
      core.intxSet(b, 0);
      expect(core.irqDrain()).toEqual([line(9, 0)]);
      expect(core.lineLevel(9)).toBe(0);
    });

    test('Interrupt Disable (Command bit 10) gates the line; every write to the Command dword re-evaluates', async () => {
      const core = await make();
      const slot = add(core, endpoint({ interruptPin: 1, bars: [{ index: 0, kind: 'mem32', size: 0x1000 }] }), { dev: 4 });
      core.intxRoute(0, 4, 1, 12);
      core.intxSet(slot, 1);
      expect(core.irqDrain()).toEqual([line(12, 1)]);
      // configWrite returns the number of events queued after the write.
      expect(cw(core, slot, 0x04, 2, 0x0400)).toBe(1);
      expect(core.irqDrain()).toEqual([line(12, 0)]);
      expect(cr(core, slot, 0x06, 2) & 0x08).toBe(0x08); // Interrupt Status still follows the level
      expect(cw(core, slot, 0x05, 1, 0x00)).toBe(1); // byte write to Command's high byte
      expect(core.irqDrain()).toEqual([line(12, 1)]);
      expect(cw(core, slot, 0x04, 4, 0x04000000)).toBe(0); // a dword write touching Status only
      expect(cw(core, slot, 0x06, 2, 0xffff)).toBe(0);
      core.intxSet(slot, 0);
      cw(core, slot, 0x04, 2, 0x0400);
      expect(core.irqDrain()).toEqual([line(12, 0)]);
      core.intxSet(slot, 1); // asserted while disabled: nothing
      expect(core.irqDrain()).toEqual([]);
      expect(core.lineLevel(12)).toBe(0);
      cw(core, slot, 0x04, 2, 0x0002); // re-enabled (and memory decode on)
      expect(core.irqDrain()).toEqual([line(12, 1)]);
    });

    test('Interrupt Status (Status bit 3) follows the level whatever the gating, and is read-only to the guest', async () => {
      const core = await make();
      const slot = add(core, endpoint({ interruptPin: 4 }), { dev: 7 });
      expect(cr(core, slot, 0x06, 1) & 0x08).toBe(0);
      core.intxSet(slot, 1); // no route: no line, but the status bit is set
      expect(core.irqDrain()).toEqual([]);
      expect(core.planeByte(slot, 0, 6) & 0x08).toBe(0x08);
      cw(core, slot, 0x06, 2, 0xffff);
      cw(core, slot, 0x04, 4, 0);
      expect(cr(core, slot, 0x06, 1) & 0x08).toBe(0x08);
      core.intxSet(slot, 0);
      expect(cr(core, slot, 0x06, 1) & 0x08).toBe(0);
      cw(core, slot, 0x06, 1, 0x08);
      expect(cr(core, slot, 0x06, 1) & 0x08).toBe(0);
    });

    test('routing changes move an asserted function\'s reference', async () => {
      const core = await make();
      const a = add(core, endpoint({ interruptPin: 1 }), { dev: 1 });
      const b = add(core, endpoint({ interruptPin: 1 }), { dev: 2 });
      core.intxSet(a, 1);
      core.intxSet(b, 1);
      expect(core.irqDrain()).toEqual([]);
      core.intxRoute(0, 1, 1, 7);
      expect(core.irqDrain()).toEqual([line(7, 1)]);
      core.intxRoute(0, 2, 1, 7);
      expect(core.irqDrain()).toEqual([]);
      expect(core.lineLevel(7)).toBe(2);
      core.intxRoute(0, 1, 1, 8);
      expect(core.irqDrain()).toEqual([line(8, 1)]);
      core.intxRoute(0, 2, 1, 8);
      expect(core.irqDrain()).toEqual([line(7, 0)]);
      expect([core.lineLevel(7), core.lineLevel(8)]).toEqual([0, 2]);
      core.intxRoute(0, 1, 1, Irq.GSI_NONE);
      core.intxRoute(0, 2, 1, Irq.GSI_NONE);
      expect(core.irqDrain()).toEqual([line(8, 0)]);
      // Moving a single reference: the old line falls before the new one rises.
      core.intxRoute(0, 1, 1, 3);
      core.intxRoute(0, 1, 1, 4);
      expect(core.irqDrain()).toEqual([line(3, 1), line(3, 0), line(4, 1)]);
    });

    test('routing entries are per segment', async () => {
      const core = await make();
      const s0 = add(core, endpoint({ interruptPin: 1 }), { dev: 1, seg: 0 });
      const s3 = add(core, endpoint({ interruptPin: 1 }), { dev: 1, seg: 3 });
      core.intxRoute(3, 1, 1, 50);
      core.intxSet(s0, 1);
      expect(core.irqDrain()).toEqual([]);
      core.intxSet(s3, 1);
      expect(core.irqDrain()).toEqual([line(50, 1)]);
    });

    test('removeFunction releases the function\'s line reference', async () => {
      const core = await make();
      const a = add(core, endpoint({ interruptPin: 1 }), { dev: 1 });
      const b = add(core, endpoint({ interruptPin: 1 }), { dev: 1, fn: 1 });
      core.intxRoute(0, 1, 1, 20);
      core.intxSet(a, 1);
      core.intxSet(b, 1);
      expect(core.irqDrain()).toEqual([line(20, 1)]);
      expect(core.removeFunction(b)).toBe(Status.OK);
      expect(core.lineLevel(20)).toBe(1);
      expect(core.irqDrain()).toEqual([]);
      expect(core.removeFunction(a)).toBe(Status.OK);
      expect(core.irqDrain()).toEqual([line(20, 0)]);
      expect(core.intxSet(a, 1)).toBe(Status.NOT_FOUND);
      // A new function in the slot starts unattached, then fresh.
      const c = core.addFunction(0, 0, 1, 0, 256);
      load(core, c, endpoint({ interruptPin: 1 }));
      expect(core.intxSet(c, 1)).toBe(Status.NOT_FOUND);
      expect(core.irqAttach(c)).toBe(Status.OK);
      expect(core.intxSet(c, 1)).toBe(Status.OK);
      expect(core.irqDrain()).toEqual([line(20, 1)]);
    });

    test('argument checks: statuses, never exceptions', async () => {
      const core = await make();
      const slot = add(core, endpoint({ interruptPin: 1 }), { dev: 1 });
      const nopin = add(core, endpoint(), { dev: 2 });
      expect(core.intxSet(nopin, 1)).toBe(Status.RANGE);
      expect(core.planeByte(nopin, 0, 6) & 0x08).toBe(0);
      const unattached = core.addFunction(0, 0, 3, 0, 256);
      load(core, unattached, endpoint({ interruptPin: 1 }));
      for (const s of [unattached, -1, 4096, 2 ** 32 + 4096, -(2 ** 31), 99]) {
        expect(core.intxSet(s, 1)).toBe(Status.NOT_FOUND);
        expect(core.msiSignal(s, 0)).toBe(Status.NOT_FOUND);
        expect(core.msixSignal(s, 0)).toBe(Status.NOT_FOUND);
      }
      expect(core.irqAttach(-1)).toBe(Status.NOT_FOUND);
      expect(core.irqAttach(4096)).toBe(Status.NOT_FOUND);
      expect(core.irqAttach(slot)).toBe(Status.EXISTS);
      // i32 coercion: 2^32 + slot is slot; a fractional level truncates to 0.
      expect(core.intxSet(2 ** 32 + slot, 1)).toBe(Status.OK);
      expect(core.planeByte(slot, 0, 6) & 0x08).toBe(0x08);
      expect(core.intxSet(slot, 0.5)).toBe(Status.OK);
      expect(core.planeByte(slot, 0, 6) & 0x08).toBe(0);
      expect(core.intxSet(slot, NaN)).toBe(Status.OK);
      expect(core.intxSet(slot, -1)).toBe(Status.OK);
      expect(core.planeByte(slot, 0, 6) & 0x08).toBe(0x08);
      for (const [seg, dev, pin, gsi] of [[16, 0, 1, 0], [0, 32, 1, 0], [0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 1, 1024],
        [0, 0, 1, 0xfffe], [0, 0, 1, 0x1ffff], [-1, 0, 1, 0], [0, -1, 1, 0], [0, 0, -1, 0], [0, 0, 1, -1], [NaN, 0, 1, 0]]) {
        expect(core.intxRoute(seg, dev, pin, gsi), `${seg} ${dev} ${pin} ${gsi}`).toBe(seg !== seg ? Status.OK : Status.RANGE);
      }
      expect(core.intxRoute(0, 0, 1, 1023)).toBe(Status.OK);
      expect(core.intxRoute(0, 0, 1, Irq.GSI_NONE)).toBe(Status.OK);
      expect(core.intxRoute(2 ** 32 + 15, 31, 4, 0)).toBe(Status.OK); // u32: 2^32 + 15 is 15
      expect(core.intxRouteOf(15, 31, 4)).toBe(0);
      for (const [seg, dev, pin] of [[16, 0, 1], [0, 32, 1], [0, 0, 0], [0, 0, 5], [-1, 0, 1], [Infinity, 0, 1]]) {
        expect(core.intxRouteOf(seg, dev, pin)).toBe(Irq.GSI_NONE);
      }
      for (const g of [1024, -1, 2 ** 40, NaN, Infinity, 0.5]) expect(core.lineLevel(g)).toBe(0);
      // Infinity and NaN coerce to slot 0 (i32), the first function added here.
      expect(core.intxSet(Infinity, 0)).toBe(Status.OK);
      expect(core.intxSet(NaN, 1)).toBe(Status.OK);
      expect(core.planeByte(slot, 0, 6) & 0x08).toBe(0x08);
    });
  });

  describe('MSI', () => {
    test('signal: NOT_FOUND without the capability, DISABLED until enabled, RANGE outside the enabled vectors', async () => {
      const core = await make();
      const none = add(core, endpoint({ interruptPin: 1 }), { dev: 1 });
      expect(core.msiSignal(none, 0)).toBe(Status.NOT_FOUND);
      const slot = add(core, fullEndpoint(), { dev: 2 });
      expect(cr(core, slot, 0x40, 1)).toBe(0x05);
      expect(core.msiSignal(slot, 0)).toBe(Status.DISABLED);
      expect(core.msiSignal(slot, 99)).toBe(Status.DISABLED);
      cw(core, slot, MSI_CTRL, 2, 0x0001); // enabled, MME 0: one vector
      expect(core.msiSignal(slot, 1)).toBe(Status.RANGE);
      expect(core.msiSignal(slot, -1)).toBe(Status.RANGE);
      expect(core.msiSignal(slot, 0)).toBe(IrqResult.DELIVERED);
      cw(core, slot, MSI_CTRL, 2, 0x0071); // MME 7 > MMC 2: four vectors
      expect(core.msiSignal(slot, 3)).toBe(IrqResult.DELIVERED);
      expect(core.msiSignal(slot, 4)).toBe(Status.RANGE);
      expect(core.msiSignal(slot, 2 ** 32 + 2)).toBe(IrqResult.DELIVERED); // i32: 2
    });

    test('a message carries the address and the data with its low log2(n) bits replaced by the vector', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(), { dev: 2 });
      cw(core, slot, MSI_ADDR, 4, 0xfee0100f); // low two bits are reserved (read-only 0)
      cw(core, slot, MSI_ADDR_HI, 4, 0x00000001);
      cw(core, slot, MSI_DATA, 2, 0x4127);
      cw(core, slot, MSI_CTRL, 2, 0x0021); // 4 vectors
      core.irqDrain();
      expect(core.msiSignal(slot, 0)).toBe(0);
      expect(core.msiSignal(slot, 2)).toBe(0);
      cw(core, slot, MSI_CTRL, 2, 0x0011); // 2 vectors
      expect(core.msiSignal(slot, 1)).toBe(0);
      cw(core, slot, MSI_CTRL, 2, 0x0001); // 1 vector: data as written
      expect(core.msiSignal(slot, 0)).toBe(0);
      expect(core.irqDrain()).toEqual([
        message(slot, 0xfee0100c, 1, 0x4124), message(slot, 0xfee0100c, 1, 0x4126),
        message(slot, 0xfee0100c, 1, 0x4127), message(slot, 0xfee0100c, 1, 0x4127),
      ]);
    });

    test('32-bit MSI without masking: address high is 0, data at +8, never pending', async () => {
      const core = await make();
      const slot = add(core, endpoint({ capabilities: [{ id: 'msi', vectors: 2, address64: false }] }), { dev: 3 });
      cw(core, slot, 0x44, 4, 0xfee00000);
      cw(core, slot, 0x48, 2, 0xabcd);
      cw(core, slot, 0x42, 2, 0x0011);
      expect(core.msiSignal(slot, 0)).toBe(0);
      expect(core.msiSignal(slot, 1)).toBe(0);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00000, 0, 0xabcc), message(slot, 0xfee00000, 0, 0xabcd)]);
    });

    test('masked vectors become pending (in the config plane) and are sent, in order, when unmasked', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(), { dev: 2 });
      cw(core, slot, MSI_ADDR, 4, 0xfee00000);
      cw(core, slot, MSI_DATA, 2, 0x30);
      cw(core, slot, MSI_CTRL, 2, 0x0021);
      cw(core, slot, MSI_MASK, 4, 0xffffffff); // only 4 mask bits are writable
      expect(cr(core, slot, MSI_MASK, 4)).toBe(0xf);
      expect(core.msiSignal(slot, 2)).toBe(IrqResult.PENDING);
      expect(core.msiSignal(slot, 0)).toBe(IrqResult.PENDING);
      expect(core.msiSignal(slot, 3)).toBe(IrqResult.PENDING);
      expect(core.irqQueued()).toBe(0);
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0b1101);
      cw(core, slot, MSI_PENDING, 4, 0); // Pending Bits are read-only to the guest
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0b1101);
      expect(cw(core, slot, MSI_MASK, 4, 0b1000)).toBe(2); // unmasks 0 and 2: both sent, ascending
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00000, 0, 0x30), message(slot, 0xfee00000, 0, 0x32)]);
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0b1000);
      // Pending survives disabling; unmasking while disabled sends nothing; enabling sends it.
      cw(core, slot, MSI_CTRL, 2, 0x0020);
      expect(core.msiSignal(slot, 3)).toBe(Status.DISABLED);
      cw(core, slot, MSI_MASK, 1, 0);
      expect(core.irqDrain()).toEqual([]);
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0b1000);
      cw(core, slot, MSI_CTRL, 2, 0x0021);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00000, 0, 0x33)]);
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0);
      // A pending bit above the enabled count is not sent (n = 2 now).
      cw(core, slot, MSI_MASK, 4, 0xf);
      expect(core.msiSignal(slot, 3)).toBe(IrqResult.PENDING);
      cw(core, slot, MSI_CTRL, 2, 0x0011);
      cw(core, slot, MSI_MASK, 4, 0);
      expect(core.irqDrain()).toEqual([]);
      expect(cr(core, slot, MSI_PENDING, 4)).toBe(0b1000);
    });

    test('INTx is suppressed while MSI is enabled', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(), { dev: 2 });
      core.intxRoute(0, 2, 1, 40);
      core.intxSet(slot, 1);
      expect(core.irqDrain()).toEqual([line(40, 1)]);
      expect(cw(core, slot, MSI_CTRL, 2, 0x0001)).toBe(1);
      expect(core.irqDrain()).toEqual([line(40, 0)]);
      core.intxSet(slot, 0);
      core.intxSet(slot, 1);
      expect(core.irqDrain()).toEqual([]);
      expect(cr(core, slot, 0x06, 1) & 0x08).toBe(0x08);
      cw(core, slot, MSI_CTRL, 2, 0x0000);
      expect(core.irqDrain()).toEqual([line(40, 1)]);
    });
  });

  describe('MSI-X', () => {
    test('irqAttach maps the table and PBA as handler regions of the BAR that move with it', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(70), { dev: 2 });
      const found: number[] = [];
      for (let id = 1; id < 64; id++) {
        const r = core.regionInfo(id);
        if (r.kind === RegionKind.MSIX_TABLE || r.kind === RegionKind.MSIX_PBA) {
          found.push(r.kind);
          expect(r).toMatchObject({ slot, bar: 0, length: r.kind === RegionKind.MSIX_TABLE ? 70 * 16 : 16, base: 0, size: 0 });
        }
      }
      expect(found).toEqual([RegionKind.MSIX_TABLE, RegionKind.MSIX_PBA]);
      expect(core.mmioRead(TABLE + 12, 4)).toBe(0xffffffff); // not mapped yet: master abort
      mapBar0(core, slot);
      expect(core.mmioRead(TABLE + 12, 4)).toBe(1);
      cw(core, slot, 0x10, 4, 0xd0000000);
      expect(core.mmioRead(0xd0001000 + 69 * 16 + 12, 4)).toBe(1);
      expect(core.mmioRead(0xd0002008, 4)).toBe(0);
      expect(core.mmioRead(TABLE + 12, 4)).toBe(0xffffffff);
    });

    test('at reset every entry is masked, everything else is 0', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(70), { dev: 2 });
      mapBar0(core, slot);
      for (let k = 0; k < 70; k++) {
        expect(read64(core, TABLE + k * 16)).toEqual([0, 0]);
        expect(read64(core, TABLE + k * 16 + 8)).toEqual([0, 1]);
      }
      expect(read64(core, PBA)).toEqual([0, 0]);
      expect(read64(core, PBA + 8)).toEqual([0, 0]);
      // Past the table (inside the BAR) is the BAR itself: reads 0.
      expect(core.mmioRead(TABLE + 70 * 16, 4)).toBe(0);
    });

    test('table accesses: only aligned dwords and qwords; the rest read all ones and write nothing', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(4), { dev: 2 });
      mapBar0(core, slot);
      const snapshot = () => Array.from({ length: 16 }, (_, i) => core.mmioRead(TABLE + i * 4, 4));
      const before = snapshot();
      for (let o = 0; o < 32; o++) {
        for (const size of [1, 2, 4, 8]) {
          const valid = (size === 4 && o % 4 === 0) || (size === 8 && o % 8 === 0);
          if (valid) continue;
          const lo = core.mmioRead(TABLE + o, size);
          expect([lo, core.mmioReadHigh()], `read ${size}@${o}`).toEqual(size === 8 ? [0xffffffff, 0xffffffff] : [size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff, 0]);
          core.mmioWrite(TABLE + o, size, 0x5a5a5a5a, 0xa5a5a5a5);
          expect(snapshot(), `write ${size}@${o}`).toEqual(before);
        }
      }
      // Aligned dwords: address, upper address and data are stored whole; Vector Control keeps bit 0.
      core.mmioWrite(TABLE + 16, 4, 0xfee01234, 0);
      core.mmioWrite(TABLE + 20, 4, 0x89abcdef, 0);
      core.mmioWrite(TABLE + 24, 4, 0xdeadbeef, 0);
      core.mmioWrite(TABLE + 28, 4, 0xfffffffe, 0);
      expect([16, 20, 24, 28].map((o) => core.mmioRead(TABLE + o, 4))).toEqual([0xfee01234, 0x89abcdef, 0xdeadbeef, 0]);
      core.mmioWrite(TABLE + 28, 4, 0xffffffff, 0);
      expect(core.mmioRead(TABLE + 28, 4)).toBe(1);
      // Aligned qwords: the high half goes to the next dword, with the same Vector Control rule.
      core.mmioWrite(TABLE + 32, 8, 0x11111111, 0x22222222);
      core.mmioWrite(TABLE + 40, 8, 0x33333333, 0xfffffff0);
      expect(read64(core, TABLE + 32)).toEqual([0x11111111, 0x22222222]);
      expect(read64(core, TABLE + 40)).toEqual([0x33333333, 0]);
      expect(core.mmioRead(TABLE + 36, 4)).toBe(0x22222222);
      expect(core.mmioRead(TABLE + 44, 4)).toBe(0);
      // Sub-dword writes to an unmasked entry's Vector Control change nothing.
      core.mmioWrite(TABLE + 44, 1, 1, 0);
      core.mmioWrite(TABLE + 44, 2, 1, 0);
      expect(core.mmioRead(TABLE + 44, 4)).toBe(0);
    });

    test('signal: NOT_FOUND without the capability, RANGE before DISABLED, PENDING while masked', async () => {
      const core = await make();
      const none = add(core, endpoint({ capabilities: [MSI] }), { dev: 1 });
      expect(core.msixSignal(none, 0)).toBe(Status.NOT_FOUND);
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      expect(core.msixSignal(slot, 8)).toBe(Status.RANGE);
      expect(core.msixSignal(slot, -1)).toBe(Status.RANGE);
      expect(core.msixSignal(slot, 0)).toBe(Status.DISABLED);
      expect(core.msixSignal(slot, 8)).toBe(Status.RANGE);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      expect(core.msixSignal(slot, 0)).toBe(IrqResult.PENDING); // masked at reset
      expect(core.mmioRead(PBA, 4)).toBe(1);
    });

    test('an unmasked entry is sent with its address and data; PBA writes are ignored', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      entry(core, 5, 0xfee00040, 0x1234abcd, false, 0x7);
      expect(core.irqQueued()).toBe(0);
      expect(core.msixSignal(slot, 5)).toBe(IrqResult.DELIVERED);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00040, 7, 0x1234abcd)]);
      expect(core.msixSignal(slot, 4)).toBe(IrqResult.PENDING);
      expect(core.mmioWrite(PBA, 4, 0, 0)).toBe(0);
      core.mmioWrite(PBA, 8, 0, 0);
      expect(core.mmioRead(PBA, 4)).toBe(0x10);
      // PBA accesses follow the table's size rule.
      expect(core.mmioRead(PBA, 1)).toBe(0xff);
      expect(core.mmioRead(PBA + 2, 2)).toBe(0xffff);
      expect(core.mmioRead(PBA + 4, 8)).toBe(0xffffffff);
      expect(core.mmioReadHigh()).toBe(0xffffffff);
    });

    test('the PBA has one bit per entry in whole qwords', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(70), { dev: 2 });
      mapBar0(core, slot);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      for (const k of [0, 31, 32, 63, 64, 69]) expect(core.msixSignal(slot, k)).toBe(IrqResult.PENDING);
      expect(read64(core, PBA)).toEqual([0x80000001, 0x80000001]);
      expect(read64(core, PBA + 8)).toEqual([0x21, 0]);
      expect(core.mmioRead(PBA + 12, 4)).toBe(0);
    });

    test('a pending entry is sent when its mask bit is cleared', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      entry(core, 3, 0xfee00000, 0x33, true);
      expect(core.msixSignal(slot, 3)).toBe(IrqResult.PENDING);
      core.mmioWrite(TABLE + 3 * 16 + 12, 4, 1, 0); // still masked
      expect(core.irqQueued()).toBe(0);
      expect(core.mmioWrite(TABLE + 3 * 16 + 12, 4, 0, 0)).toBe(1);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00000, 0, 0x33)]);
      expect(core.mmioRead(PBA, 4)).toBe(0);
      // An 8-byte write of data + Vector Control stores the data first: the message carries it.
      core.mmioWrite(TABLE + 3 * 16 + 12, 4, 1, 0);
      expect(core.msixSignal(slot, 3)).toBe(IrqResult.PENDING);
      expect(core.mmioWrite(TABLE + 3 * 16 + 8, 8, 0x77, 0)).toBe(1);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00000, 0, 0x77)]);
      // Unmasking an entry with nothing pending sends nothing.
      core.mmioWrite(TABLE + 3 * 16 + 12, 4, 1, 0);
      core.mmioWrite(TABLE + 3 * 16 + 12, 4, 0, 0);
      expect(core.irqQueued()).toBe(0);
    });

    test('the function mask holds every vector pending; clearing it sends them in ascending order', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      for (const k of [1, 4, 6]) entry(core, k, 0xfee00000 + k * 4, 0x100 + k, false);
      entry(core, 2, 0xfee00008, 0x102, true);
      cw(core, slot, MSIX_CTRL, 2, 0xc000);
      for (const k of [6, 2, 4, 1]) expect(core.msixSignal(slot, k)).toBe(IrqResult.PENDING);
      expect(core.mmioRead(PBA, 4)).toBe(0b1010110);
      // Unmasking an entry while the function is masked sends nothing.
      core.mmioWrite(TABLE + 4 * 16 + 12, 4, 1, 0);
      core.mmioWrite(TABLE + 4 * 16 + 12, 4, 0, 0);
      expect(core.irqQueued()).toBe(0);
      expect(cw(core, slot, MSIX_CTRL, 2, 0x8000)).toBe(3);
      expect(core.irqDrain()).toEqual([
        message(slot, 0xfee00004, 0, 0x101), message(slot, 0xfee00010, 0, 0x104), message(slot, 0xfee00018, 0, 0x106),
      ]);
      expect(core.mmioRead(PBA, 4)).toBe(0b100); // entry 2 is still masked
      // Pending bits set while enabled + masked survive disable; enabling again sends them.
      cw(core, slot, MSIX_CTRL, 2, 0x0000);
      core.mmioWrite(TABLE + 2 * 16 + 12, 4, 0, 0);
      expect(core.irqQueued()).toBe(0);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      expect(core.irqDrain()).toEqual([message(slot, 0xfee00008, 0, 0x102)]);
    });

    test('INTx is suppressed while MSI-X is enabled (the function mask does not matter)', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      core.intxRoute(0, 2, 1, 41);
      core.intxSet(slot, 1);
      expect(core.irqDrain()).toEqual([line(41, 1)]);
      cw(core, slot, MSIX_CTRL, 2, 0xc000);
      expect(core.irqDrain()).toEqual([line(41, 0)]);
      cw(core, slot, MSIX_CTRL, 2, 0x4000);
      expect(core.irqDrain()).toEqual([line(41, 1)]);
    });

    test('irqAttach fails, registering nothing, when the table or PBA does not fit a BAR', async () => {
      const core = await make();
      const kinds = () => Array.from({ length: 32 }, (_, i) => core.regionInfo(i + 1).kind);
      const cases: [CapabilityDescriptor, number][] = [
        [msix(8, { tableBar: 2 }), Status.NOT_FOUND],
        [msix(8, { tableOffset: 0x4000 }), Status.RANGE],
        [msix(8, { tableOffset: 0x3f88 }), Status.RANGE],
        [msix(8, { pbaBar: 1 }), Status.NOT_FOUND],
        [msix(8, { pbaOffset: 0x3ffc + 4 }), Status.RANGE],
      ];
      let dev = 1;
      for (const [cap, status] of cases) {
        const slot = core.addFunction(0, 0, dev++, 0, 256);
        load(core, slot, endpoint({ interruptPin: 1, bars: [{ index: 0, kind: 'mem32', size: 0x4000 }], capabilities: [cap] }));
        expect(core.barAttach(slot)).toBe(Status.OK);
        const before = kinds();
        expect(core.irqAttach(slot), JSON.stringify(cap)).toBe(status);
        expect(kinds()).toEqual(before);
        expect(core.intxSet(slot, 1)).toBe(Status.NOT_FOUND);
        expect(core.msixSignal(slot, 0)).toBe(Status.NOT_FOUND);
      }
      // The table may end exactly at the BAR's end.
      const slot = core.addFunction(0, 0, dev, 0, 256);
      load(core, slot, endpoint({ bars: [{ index: 0, kind: 'mem32', size: 0x4000 }], capabilities: [msix(8, { tableOffset: 0x3f80, pbaOffset: 0x3ff8 })] }));
      core.barAttach(slot);
      expect(core.irqAttach(slot)).toBe(Status.OK);
    });

    test('irqAttach of a function with MSI-X needs barAttach first', async () => {
      const core = await make();
      const slot = core.addFunction(0, 0, 1, 0, 256);
      load(core, slot, fullEndpoint(8));
      expect(core.irqAttach(slot)).toBe(Status.NOT_FOUND);
      expect(core.barAttach(slot)).toBe(Status.OK);
      expect(core.irqAttach(slot)).toBe(Status.OK);
    });

    test('removeFunction frees the table and PBA regions', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      expect(core.removeFunction(slot)).toBe(Status.OK);
      for (let id = 1; id < 32; id++) expect(core.regionInfo(id).kind === RegionKind.MSIX_TABLE || core.regionInfo(id).kind === RegionKind.MSIX_PBA).toBe(false);
      expect(core.mmioRead(TABLE + 12, 4)).toBe(0xffffffff);
    });
  });

  describe('event queue', () => {
    test(`holds ${Irq.CAPACITY} events; further ones are dropped and counted`, async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      mapBar0(core, slot);
      cw(core, slot, MSIX_CTRL, 2, 0x8000);
      expect(core.counterValue(CounterIndex.DROPPED_IRQS)).toBe(0);
      for (let i = 0; i < Irq.CAPACITY + 5; i++) {
        core.mmioWrite(TABLE + 8, 4, i, 0);
        expect(core.mmioWrite(TABLE + 12, 4, 0, 0)).toBe(Math.min(i, Irq.CAPACITY));
        expect(core.msixSignal(slot, 0)).toBe(IrqResult.DELIVERED);
      }
      expect(core.irqQueued()).toBe(Irq.CAPACITY);
      expect(core.counterValue(CounterIndex.DROPPED_IRQS)).toBe(5);
      expect(core.counterValue(9)).toBe(0);
      // A dropped message is still delivered as far as the device knows (no pending bit).
      expect(core.mmioRead(PBA, 4)).toBe(0);
      const all = core.irqDrain();
      expect(all.length).toBe(Irq.CAPACITY);
      expect(all.map((e) => e.data)).toEqual(Array.from({ length: Irq.CAPACITY }, (_, i) => i));
      expect(core.irqQueued()).toBe(0);
      expect(core.irqDrain()).toEqual([]);
      // Line events count alike; the ring wraps.
      core.intxRoute(0, 2, 1, 1);
      cw(core, slot, MSIX_CTRL, 2, 0);
      core.intxSet(slot, 1);
      core.intxSet(slot, 0);
      expect(core.irqDrain()).toEqual([line(1, 1), line(1, 0)]);
      expect(core.counterValue(CounterIndex.DROPPED_IRQS)).toBe(5);
    });

    test('ioWrite and configWrite through CF8/CFC also return the queue length', async () => {
      const core = await make();
      const slot = add(core, fullEndpoint(8), { dev: 2 });
      core.intxRoute(0, 2, 1, 5);
      core.intxSet(slot, 1);
      expect(core.irqQueued()).toBe(1);
      expect(core.ioWrite(0xcf8, 4, 0x80001004)).toBe(1); // 00:02.0 reg 4
      expect(core.ioWrite(0xcfc, 2, 0x0400)).toBe(2);
      expect(core.irqDrain()).toEqual([line(5, 1), line(5, 0)]);
      expect(core.ioWrite(0x1234, 4, 0)).toBe(0);
      expect(core.mmioWrite(-1, 4, 0, 0)).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: random operations on a fixed topology (two bridge levels, endpoints with INTx,
// MSI and MSI-X) give both cores the same results, events, config bytes and counters.

type Op =
  | { op: 'intx'; target: number; level: number }
  | { op: 'route'; seg: number; device: number; pin: number; gsi: number }
  | { op: 'msi' | 'msix'; target: number; vector: number }
  | { op: 'cfg'; target: number; reg: number; size: number; value: number }
  | { op: 'mmio'; second: boolean; offset: number; size: number; write: boolean; lo: number; hi: number }
  | { op: 'remove'; target: number }
  | { op: 'drain' };

const hostile = fc.constantFrom(-1, 2 ** 31, 2 ** 32, NaN, Infinity, -Infinity, 0.5, 1e300, 4096, -(2 ** 31));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('intx' as const), target: fc.oneof(fc.nat(6), hostile), level: fc.oneof(fc.nat(1), hostile) }),
  fc.record({
    op: fc.constant('route' as const), seg: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.nat(17)),
    device: fc.oneof({ weight: 5, arbitrary: fc.nat(4) }, fc.nat(33), hostile), pin: fc.oneof(fc.nat(5), hostile),
    gsi: fc.oneof(fc.nat(3), fc.constantFrom(1023, 1024, 0xffff, 0xfffe), hostile),
  }),
  fc.record({ op: fc.constantFrom('msi' as const, 'msix' as const), target: fc.oneof(fc.nat(6), hostile), vector: fc.oneof(fc.integer({ min: -1, max: 9 }), hostile) }),
  fc.record({
    op: fc.constant('cfg' as const), target: fc.nat(6),
    reg: fc.constantFrom(0x04, 0x05, 0x06, 0x40, 0x42, 0x43, 0x44, 0x48, 0x4c, 0x50, 0x51, 0x54, 0x58, 0x5a, 0x5b, 0x10),
    size: fc.constantFrom(1, 2, 4), value: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 0x0400, 0x8000, 0xc000, 0x4000, 0x0001, 0x0021, 0x0071, 0xf, 0x2, 0xe0000000)),
  }),
  fc.record({
    op: fc.constant('mmio' as const), second: fc.boolean(), offset: fc.oneof(fc.integer({ min: 0xff8, max: 0x1088 }), fc.integer({ min: 0x1ff8, max: 0x2010 })),
    size: fc.constantFrom(1, 2, 4, 4, 8, 8, 3), write: fc.boolean(), lo: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 1, 0xfffffffe)), hi: fc.nat(0xffffffff),
  }),
  fc.record({ op: fc.constant('remove' as const), target: fc.nat(6) }),
  fc.constant({ op: 'drain' as const }),
);

/** A byte poked into a plane (0 config, 1 write mask) before loading: hostile capability lists. */
interface Poke { plane: number; offset: number; value: number }

const pokeArb: fc.Arbitrary<Poke> = fc.record({
  plane: fc.constantFrom(0, 0, 0, 1),
  offset: fc.oneof(fc.constantFrom(0x06, 0x34, 0x3d, 0x40, 0x41, 0x42, 0x43, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5f, 0x60, 0x63), fc.integer({ min: 0x40, max: 0xff })),
  value: fc.oneof(fc.nat(0xff), fc.constantFrom(0, 0x05, 0x11, 0x40, 0x58, 0x80, 0x81, 0xfc, 0xff, 0x07, 0x3f)),
});

/** A full endpoint (INTA, MSI, MSI-X) whose planes are poked, then barAttached and irqAttached (any result). */
function addPoked(core: CoreBackend, dev: number, pokes: Poke[]): [number, number] {
  const p = buildPlanes(fullEndpoint(8));
  for (const k of pokes) (k.plane === 0 ? p.config : p.wmask)[k.offset] = k.value;
  const slot = core.addFunction(0, 0, dev, 0, 256);
  core.loadPlanes(slot, p.config, p.wmask, p.w1cmask);
  core.barAttach(slot);
  return [slot, core.irqAttach(slot)];
}

/**
 * Two bridges, endpoints (one below them, the others on the root bus); returns targets by index.
 * With pokes, endpoint 1's planes are mangled first (and its irqAttach result is the last entry).
 */
function buildDiff(core: CoreBackend, pokes?: Poke[]): number[] {
  const [b1, b2] = twoBridges(core);
  const poked = pokes === undefined ? [add(core, fullEndpoint(8), { dev: 3 }), 0] : addPoked(core, 3, pokes);
  const targets = [
    add(core, fullEndpoint(8), { dev: 2 }),
    poked[0],
    add(core, endpoint({ interruptPin: 2 }), { below: b2, dev: 1 }),
    add(core, endpoint({ interruptPin: 1, capabilities: [{ id: 'msi', vectors: 2, address64: false }] }), { below: b1, dev: 4 }),
    add(core, endpoint({ interruptPin: 3 }), { dev: 2, fn: 1 }),
  ];
  core.irqAttach(b1);
  core.irqAttach(b2);
  targets.push(b1, b2);
  mapBar0(core, targets[0]);
  cw(core, targets[1], 0x10, 4, BAR_BASE + 0x4000);
  cw(core, targets[1], 0x04, 2, 0x0002);
  targets.push(poked[1]);
  return targets;
}

function runOp(core: CoreBackend, targets: number[], o: Op): unknown {
  const t = (i: number) => (Number.isInteger(i) && i >= 0 && i < targets.length ? targets[i] : i);
  switch (o.op) {
    case 'intx': return core.intxSet(t(o.target), o.level);
    case 'route': return core.intxRoute(o.seg, o.device, o.pin, o.gsi);
    case 'msi': return core.msiSignal(t(o.target), o.vector);
    case 'msix': return core.msixSignal(t(o.target), o.vector);
    case 'cfg': {
      const a = core.slotAddress(targets[o.target]);
      if (a < 0) return 'gone';
      return core.configWrite(a >>> 16, (a >>> 8) & 0xff, (a >>> 3) & 0x1f, a & 7, o.reg, o.size, o.value);
    }
    case 'mmio': {
      const at = BAR_BASE + (o.second ? 0x4000 : 0) + o.offset;
      if (o.write) return core.mmioWrite(at, o.size, o.lo, o.hi);
      return [core.mmioRead(at, o.size), core.mmioReadHigh()];
    }
    case 'remove': {
      const r = core.removeFunction(targets[o.target]);
      return r;
    }
    case 'drain': return core.irqDrain();
  }
}

function observe(core: CoreBackend, targets: number[]): unknown {
  const planes = targets.slice(0, 7).map((s) => [4, 5, 6, 7, ...Array.from({ length: 0x20 }, (_, i) => 0x40 + i)].map((i) => core.planeByte(s, 0, i)));
  return {
    queued: core.irqQueued(),
    lines: [0, 1, 2, 3, 1023].map((g) => core.lineLevel(g)),
    dropped: core.counterValue(CounterIndex.DROPPED_IRQS),
    planes,
  };
}

describe('differential', () => {
  test('random interrupt operations and guest accesses: identical results in both cores', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 120 }), async (ops) => {
        const cores = await Promise.all(BACKENDS.map(([, make]) => make()));
        const targets = cores.map((c) => buildDiff(c));
        expect(targets[1]).toEqual(targets[0]);
        for (const o of ops) {
          const results = cores.map((c, i) => runOp(c, targets[i], o));
          expect(results[1], JSON.stringify(o)).toEqual(results[0]);
          const seen = cores.map((c, i) => observe(c, targets[i]));
          expect(seen[1], JSON.stringify(o)).toEqual(seen[0]);
        }
        const drained = cores.map((c) => c.irqDrain());
        expect(drained[1]).toEqual(drained[0]);
      }),
      { numRuns: 150 },
    );
  });

  test('hostile capability lists, pins and masks: identical attach results and behaviour in both cores', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pokeArb, { maxLength: 12 }), fc.array(opArb, { minLength: 1, maxLength: 60 }), async (pokes, ops) => {
        const cores = await Promise.all(BACKENDS.map(([, make]) => make()));
        const targets = cores.map((c) => buildDiff(c, pokes));
        expect(targets[1]).toEqual(targets[0]);
        for (const o of ops) {
          const results = cores.map((c, i) => runOp(c, targets[i], o));
          expect(results[1], JSON.stringify(o)).toEqual(results[0]);
          const seen = cores.map((c, i) => observe(c, targets[i]));
          expect(seen[1], JSON.stringify(o)).toEqual(seen[0]);
        }
        const drained = cores.map((c) => c.irqDrain());
        expect(drained[1]).toEqual(drained[0]);
      }),
      { numRuns: 300 },
    );
  });
});
