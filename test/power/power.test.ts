// PCI power management through the Bus on both backends: a function in D3hot decodes nothing
// (BAR regions unmapped, MMIO and port IO master-abort) and does no DMA; back in D0 with
// No_Soft_Reset 1 it decodes again as it was; with No_Soft_Reset 0 the D3hot -> D0 transition
// resets it (power-on config space — BARs unassigned, Command 0, MSI off — but the sticky AER
// registers and, with PME support, the PME context; the model's reset() called once); PME_Status
// is write-1-to-clear and PME_En read/write; unsupported D1/D2 writes are ignored; a snapshot
// restore is not a transition.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import type { DeviceContext } from '../../src/devices/index.js';
import { resolveTopology } from '../../src/topology/index.js';
import { BACKENDS } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

const KEEP = '0000:00:03.0';
const RESET = '0000:00:04.0';
const EXPRESS = '0000:00:05.0';
const PM = 0x40;
const PMCSR = PM + 4;
const BAR0 = 0xc0000000;
const IO = 0xc000;

const bars = [{ index: 0, kind: 'mem32', size: 0x1000 }, { index: 1, kind: 'io', size: 0x20 }] as FunctionDescriptor['bars'];

/** No_Soft_Reset 1 (vpci's default): the state survives D3hot. */
const KEEPS: FunctionDescriptor = {
  vendorId: 0x1b36, deviceId: 0x00f2, classCode: 0xff0000, bars, interruptPin: 1,
  capabilities: [{ id: 'pm' }, { id: 'msi', vectors: 1, address64: true }],
};
/** No_Soft_Reset 0: D3hot -> D0 resets the function. */
const RESETS: FunctionDescriptor = { ...KEEPS, deviceId: 0x00f3, capabilities: [{ id: 'pm', noSoftReset: false }, { id: 'msi', vectors: 1, address64: true }] };
/** A PCI Express function with AER and No_Soft_Reset 0. */
const EXPRESS_RESETS: FunctionDescriptor = {
  vendorId: 0x1b36, deviceId: 0x00f4, classCode: 0xff0000, bars,
  capabilities: [{ id: 'pm', noSoftReset: false }, { id: 'pcie', portType: 'endpoint' }],
  extendedCapabilities: [{ id: 'aer' }],
};

interface Model { ctx: DeviceContext; resets: number }

/**
 * Three functions with a model each that serves BAR 0 offset 0 (0x600d0000 + function) and counts
 * its resets. `pme` gives 00:04.0 PME support from D3hot and D3cold in PMC.
 */
async function rig(backend: Backend, { pme = false } = {}): Promise<{ bus: Bus; models: Map<string, Model> }> {
  const topology = await resolveTopology({
    devices: [{ bdf: '00:03.0', descriptor: KEEPS }, { bdf: '00:04.0', descriptor: RESETS }, { bdf: '00:05.0', descriptor: EXPRESS_RESETS }],
  });
  const models = new Map<string, Model>();
  for (const f of topology.functions) {
    if (pme && f.path === RESET) f.planes.config[PM + 3] |= 0xc0;
    f.behaviour = {
      attach(ctx) {
        const m: Model = { ctx, resets: 0 };
        models.set(f.path, m);
        ctx.bar(0, { read: () => 0x600d0000 + f.dev, write: () => {} }, { offset: 0, length: 4 });
        return { reset() { m.resets++; } };
      },
    };
  }
  const bus = await createBus({ backend, topology });
  bus.dma.addRam({ base: 0, size: 0x10000 });
  return { bus, models };
}

/** BAR 0 and the IO BAR placed, decode and bus mastering on, as firmware would. */
function program(bus: Bus, f: string, slot: number): void {
  bus.configWrite(f, 0x10, 4, BAR0 + slot * 0x1000);
  bus.configWrite(f, 0x14, 4, IO + slot * 0x100);
  bus.configWrite(f, 0x3c, 1, 0x0b);
  bus.configWrite(f, 0x04, 2, 0x0007);
  bus.effects();
}

describe.each(BACKENDS)('D3hot and back (%s)', (backend) => {
  it('D3hot: BAR regions unmapped, MMIO and IO master-abort, DMA refused; D0 with No_Soft_Reset 1 decodes again as before', async () => {
    const { bus, models } = await rig(backend);
    program(bus, KEEP, 0);
    const m = models.get(KEEP)!;
    expect(bus.mmioRead(BAR0, 4)).toBe(0x600d0003);
    expect(m.ctx.dmaWrite(0x100, new Uint8Array(4))).toBe('ok');
    bus.configWrite(KEEP, PMCSR, 2, 0x0003);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x000b);
    expect(bus.effects().map((e) => [e.bar, e.oldBase, e.newBase])).toEqual([[0, BigInt(BAR0), null], [1, BigInt(IO), null]]);
    const aborts = bus.stats().aborts;
    expect(bus.mmioRead(BAR0, 4)).toBe(0xffffffff);
    expect(bus.ioRead(IO, 1)).toBe(0xff);
    expect(bus.stats().aborts.mmio.reads).toBe(aborts.mmio.reads + 1);
    expect(bus.stats().aborts.io.reads).toBe(aborts.io.reads + 1);
    expect(m.ctx.dmaWrite(0x100, new Uint8Array(4))).toBe('bus-master-off');
    // Config space still answers.
    expect(bus.configRead(KEEP, 0x10, 4)).toBe(BAR0);
    bus.configWrite(KEEP, PMCSR, 2, 0x0000);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x0008);
    expect(bus.effects().map((e) => [e.bar, e.oldBase, e.newBase])).toEqual([[0, null, BigInt(BAR0)], [1, null, BigInt(IO)]]);
    expect(bus.mmioRead(BAR0, 4)).toBe(0x600d0003);
    expect(m.ctx.dmaWrite(0x100, new Uint8Array(4))).toBe('ok');
    expect([bus.configRead(KEEP, 0x04, 2), bus.configRead(KEEP, 0x3c, 1)]).toEqual([0x0007, 0x0b]);
    expect(m.resets).toBe(0);
  });

  it('D3hot -> D0 with No_Soft_Reset 0: power-on config space, BARs unassigned, Command 0, MSI off, the model reset once', async () => {
    const { bus, models } = await rig(backend);
    program(bus, RESET, 1);
    const msi = 0x48;
    bus.configWrite(RESET, msi + 4, 4, 0xfee00000);
    bus.configWrite(RESET, msi + 2, 2, 0x0001);
    bus.configWrite(RESET, PMCSR, 2, 0x0100); // PME_En
    const m = models.get(RESET)!;
    expect(bus.configRead(RESET, PMCSR, 2)).toBe(0x0100);
    // BAR 0, its handler region over offset 0, the IO BAR.
    expect(new Set(bus.regions().filter((r) => r.bdf === RESET).map((r) => r.base))).toEqual(new Set([BigInt(BAR0 + 0x1000), BigInt(IO + 0x100)]));
    bus.configWrite(RESET, PMCSR, 2, 0x0103);
    expect(m.resets).toBe(0); // entering D3hot resets nothing
    expect(bus.configRead(RESET, 0x10, 4)).toBe(BAR0 + 0x1000);
    bus.configWrite(RESET, PMCSR, 2, 0x0100);
    expect(m.resets).toBe(1);
    expect(bus.configRead(RESET, 0x10, 4)).toBe(0);
    expect(bus.configRead(RESET, 0x14, 4)).toBe(0x1); // the IO indicator bit is all that is left
    expect(bus.configRead(RESET, 0x04, 2)).toBe(0);
    expect(bus.configRead(RESET, 0x3c, 1)).toBe(0);
    expect(bus.configRead(RESET, msi + 2, 2) & 1).toBe(0);
    expect(bus.configRead(RESET, msi + 4, 4)).toBe(0);
    // No PME support: PME_En is not kept. PowerState D0.
    expect(bus.configRead(RESET, PMCSR, 2)).toBe(0x0000);
    expect(bus.mmioRead(BAR0 + 0x1000, 4)).toBe(0xffffffff);
    expect(m.ctx.dmaWrite(0x100, new Uint8Array(4))).toBe('bus-master-off');
    expect(bus.regions().filter((r) => r.bdf === RESET)).toEqual([]);
    // Programmed again, it works; D0 -> D0 and D0 -> D3hot do not reset.
    program(bus, RESET, 1);
    expect(bus.mmioRead(BAR0 + 0x1000, 4)).toBe(0x600d0004);
    bus.configWrite(RESET, PMCSR, 2, 0x0000);
    bus.configWrite(RESET, PMCSR, 2, 0x0003);
    expect(m.resets).toBe(1);
    // The other functions were not touched.
    expect(models.get(KEEP)!.resets + models.get(EXPRESS)!.resets).toBe(0);
  });

  it('No_Soft_Reset reads as the descriptor says and is read-only', async () => {
    const { bus } = await rig(backend);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x0008);
    expect(bus.configRead(RESET, PMCSR, 2)).toBe(0x0000);
    bus.configWrite(RESET, PMCSR, 2, 0x0008);
    bus.configWrite(KEEP, PMCSR, 2, 0x0000);
    expect(bus.configRead(RESET, PMCSR, 2)).toBe(0x0000);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x0008);
  });

  it('the reset keeps the sticky AER registers but clears Device Status and Device Control', async () => {
    const { bus, models } = await rig(backend);
    const pcie = 0x48;
    bus.configWrite(EXPRESS, pcie + 8, 2, 0x2007);
    bus.configWrite(EXPRESS, 0x100 + 0x08, 4, 1 << 15); // Uncorrectable Error Mask: Completer Abort
    bus.configWrite(EXPRESS, 0x100 + 0x18, 4, 0x40); // ECRC Generation Enable
    bus.errors.report(EXPRESS, { kind: 'uncorrectable', bit: 14, header: new Uint8Array(16).fill(0xab) });
    bus.errors.report(EXPRESS, { kind: 'correctable', bit: 0 });
    const aer = [0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28].map((o) => bus.configRead(EXPRESS, 0x100 + o, 4));
    expect(aer.slice(0, 6)).toEqual([1 << 14, 1 << 15, 0x00462030, 1, 0x2000, 0xe0 | 14]);
    expect(bus.configRead(EXPRESS, pcie + 0x0a, 2) & 0xf).toBe(0x3);
    bus.configWrite(EXPRESS, PMCSR, 2, 0x0003);
    bus.configWrite(EXPRESS, PMCSR, 2, 0x0000);
    expect(models.get(EXPRESS)!.resets).toBe(1);
    expect([0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28].map((o) => bus.configRead(EXPRESS, 0x100 + o, 4))).toEqual(aer);
    expect(bus.configRead(EXPRESS, pcie + 0x0a, 2) & 0xf).toBe(0);
    expect(bus.configRead(EXPRESS, pcie + 8, 2)).toBe(0x2000);
  });

  it('with PME support from D3 the PME context survives the reset', async () => {
    const { bus, models } = await rig(backend, { pme: true });
    bus.configWrite(RESET, PMCSR, 2, 0x0103);
    // The function signals PME in D3hot (device-side), then software wakes it.
    models.get(RESET)!.ctx.configPoke(PMCSR + 1, 1, 0x81);
    bus.configWrite(RESET, PMCSR, 2, 0x0100);
    expect(models.get(RESET)!.resets).toBe(1);
    expect(bus.configRead(RESET, PMCSR, 2)).toBe(0x8100);
  });
});

describe.each(BACKENDS)('PMCSR write rules (%s)', (backend) => {
  it('PME_Status is write-1-to-clear, PME_En read/write', async () => {
    const { bus, models } = await rig(backend);
    models.get(KEEP)!.ctx.configPoke(PMCSR + 1, 1, 0x80);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x8008);
    bus.configWrite(KEEP, PMCSR, 2, 0x0100);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x8108);
    bus.configWrite(KEEP, PMCSR, 2, 0x8100);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x0108);
    bus.configWrite(KEEP, PMCSR, 2, 0x0000);
    expect(bus.configRead(KEEP, PMCSR, 2)).toBe(0x0008);
  });

  it('writes of the unsupported D1 and D2 leave PowerState as it was (and trigger no reset)', async () => {
    const { bus, models } = await rig(backend);
    program(bus, RESET, 1);
    bus.configWrite(RESET, PMCSR, 1, 0x01);
    bus.configWrite(RESET, PMCSR, 1, 0x02);
    expect(bus.configRead(RESET, PMCSR, 2) & 3).toBe(0);
    expect(bus.mmioRead(BAR0 + 0x1000, 4)).toBe(0x600d0004);
    bus.configWrite(RESET, PMCSR, 1, 0x03);
    bus.configWrite(RESET, PMCSR, 1, 0x02);
    expect(bus.configRead(RESET, PMCSR, 2) & 3).toBe(3);
    expect(models.get(RESET)!.resets).toBe(0);
  });

  it('a snapshot restore that brings D0 back onto a function in D3hot is not a transition', async () => {
    const { bus, models } = await rig(backend);
    program(bus, RESET, 1);
    const blob = bus.snapshot();
    bus.configWrite(RESET, PMCSR, 2, 0x0003);
    bus.restore(blob);
    expect(models.get(RESET)!.resets).toBe(0);
    expect(bus.configRead(RESET, 0x10, 4)).toBe(BAR0 + 0x1000);
    expect(bus.mmioRead(BAR0 + 0x1000, 4)).toBe(0x600d0004);
    // And the watcher starts from the restored state: a real D3hot -> D0 still resets.
    bus.configWrite(RESET, PMCSR, 2, 0x0003);
    bus.configWrite(RESET, PMCSR, 2, 0x0000);
    expect(models.get(RESET)!.resets).toBe(1);
  });
});
