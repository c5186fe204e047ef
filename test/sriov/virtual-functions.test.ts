// The 'sriov-endpoint' PF and its Virtual Functions, on both backends: VF Enable with NumVFs
// creates VFs at PF Routing ID + First VF Offset + k × VF Stride with their own config space;
// VF k's copy of each VF BAR decodes at VF BAR + k × size only while VF Enable and VF MSE are set
// and the PF is in D0, and moves when the VF BAR changes; clearing VF Enable removes the
// functions, the apertures and the VFs' DMA; NumVFs above TotalVFs or written while VF Enable is
// set is ignored (guest) or an ArgumentError (embedder); the PF's reset and removal take the VFs.
import { describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus.js';
import type { SriovEndpoint, SriovVf } from '../../src/devices/index.js';
import { SRIOV_PF_ID, SriovVfReg } from '../../src/devices/index.js';
import { ArgumentError } from '../../src/errors.js';
import { StateReader } from '../../src/snapshot/check.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, makeBus, walkCaps } from '../helpers/vpci.js';

const PF = '00:05.0';
const PF_PATH = '0000:00:05.0';
const CAP = 0x100;
const CTRL = CAP + 0x08, NUM_VF = CAP + 0x10, VF_BAR = CAP + 0x24;
const VFE = 0x1, MSE = 0x8;
const COMMAND = 0x04, BUS_MASTER = 0x4;
/** Default VF BARs: VF BAR0 mem32 16 KiB, VF BAR2-3 mem64 64 KiB. */
const SIZE0 = 0x4000, SIZE2 = 0x10000;
const BASE0 = 0xe0000000;
const BASE2 = 0x1_0000_0000;
const ABORT = 0xffffffff;

const topology: Topology = { devices: [{ bdf: PF, model: 'sriov-endpoint' }] };

const vfPath = (k: number) => `0000:00:05.${k + 1}`;
const vfFunctions = (bus: Bus) => bus.functions().filter((f) => f.kind === 'sriov-vf').map((f) => f.path);
const apertures = (bus: Bus) => bus.regions().filter((r) => r.name.includes(' VF BAR')).map((r) => `${r.name} @ 0x${r.base.toString(16)}`).sort();

/** Places VF BAR0 at BASE0 and VF BAR2-3 at BASE2 (lower dword first, as Linux writes). */
function placeVfBars(bus: Bus, base0 = BASE0, base2 = BASE2): void {
  bus.configWrite(PF, VF_BAR, 4, base0);
  bus.configWrite(PF, VF_BAR + 8, 4, base2 % 2 ** 32);
  bus.configWrite(PF, VF_BAR + 12, 4, Math.floor(base2 / 2 ** 32));
}

/** NumVFs, then Control, as a driver does; returns the bus. */
function enable(bus: Bus, num: number, ctrl = VFE | MSE): Bus {
  bus.configWrite(PF, NUM_VF, 2, num);
  bus.configWrite(PF, CTRL, 2, ctrl);
  return bus;
}

describe.each(BACKENDS)('VF creation and removal (%s)', (backend) => {
  it('VF Enable creates NumVFs functions at PF RID + 1 + k, each with its own 4 KiB config space', async () => {
    const bus = enable(await makeBus(backend, topology), 3, VFE);
    expect(vfFunctions(bus)).toEqual([vfPath(0), vfPath(1), vfPath(2)]);
    expect(bus.sriov(PF).vfs()).toEqual([vfPath(0), vfPath(1), vfPath(2)]);
    for (let k = 0; k < 3; k++) {
      const bdf = `00:05.${k + 1}`;
      expect(bus.addressOf(vfPath(k))).toBe(`0000:${bdf}`);
      // Vendor and Device ID read 0xFFFF (PCIe 6.0 §9.3.4.1), but the function is there: its
      // class is the PF's, it has a capability list with a PCI Express capability, and its
      // extended space answers.
      expect(bus.configRead(bdf, 0x00, 4)).toBe(0xffffffff);
      expect(bus.configRead(bdf, 0x08, 4) >>> 8).toBe(bus.configRead(PF, 0x08, 4) >>> 8);
      expect(bus.configRead(bdf, 0x2c, 4)).toBe(bus.configRead(PF, 0x2c, 4));
      expect(walkCaps(bus, bdf).map((c) => c.id)).toEqual([0x10]);
      expect(bus.configRead(bdf, 0x100, 4)).toBe(0);
    }
    // Nothing past NumVFs.
    expect(bus.configRead('00:05.4', 0x08, 4)).toBe(ABORT);
    expect(bus.device<SriovVf>(vfPath(1))).toMatchObject({ index: 1, physfn: PF_PATH });
  });

  it("a VF's header: Command has only Bus Master Enable, BARs and ROM read 0, no INTx, per-VF state", async () => {
    const bus = enable(await makeBus(backend, topology), 2, VFE);
    bus.configWrite('00:05.1', COMMAND, 2, 0xffff);
    expect(bus.configRead('00:05.1', COMMAND, 2)).toBe(BUS_MASTER);
    expect(bus.configRead('00:05.2', COMMAND, 2)).toBe(0);
    for (let off = 0x10; off <= 0x24; off += 4) {
      bus.configWrite('00:05.1', off, 4, 0xffffffff);
      expect(bus.configRead('00:05.1', off, 4)).toBe(0);
    }
    bus.configWrite('00:05.1', 0x30, 4, 0xffffffff);
    expect(bus.configRead('00:05.1', 0x30, 4)).toBe(0);
    bus.configWrite('00:05.1', 0x3c, 2, 0xffff);
    expect(bus.configRead('00:05.1', 0x3c, 2)).toBe(0);
    expect(bus.configRead('00:05.1', 0x0e, 1)).toBe(0);
  });

  it("the PF's multi-function bit follows the VFs (the core's rule, as QEMU marks SR-IOV PFs multi-function)", async () => {
    const bus = await makeBus(backend, topology);
    expect(bus.configRead(PF, 0x0e, 1)).toBe(0x00);
    enable(bus, 1, VFE);
    expect(bus.configRead(PF, 0x0e, 1)).toBe(0x80);
    bus.configWrite(PF, CTRL, 2, 0);
    expect(bus.configRead(PF, 0x0e, 1)).toBe(0x00);
  });

  it('VF Enable 1→0 removes the functions, their apertures, and their DMA', async () => {
    const bus = await makeBus(backend, topology);
    const ram = new Uint8Array(0x1000);
    bus.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    placeVfBars(bus);
    enable(bus, 2);
    const vf = bus.device<SriovVf>(vfPath(1))!;
    bus.configWrite('00:05.2', COMMAND, 2, BUS_MASTER);
    expect(vf.dmaWrite(0x100, new Uint8Array([1, 2, 3]))).toBe('ok');
    expect(Array.from(ram.subarray(0x100, 0x103))).toEqual([1, 2, 3]);
    expect(apertures(bus)).toHaveLength(4);

    bus.configWrite(PF, CTRL, 2, 0);
    expect(vfFunctions(bus)).toEqual([]);
    expect(bus.sriov(PF).vfs()).toEqual([]);
    expect(bus.addressOf(vfPath(1))).toBeUndefined();
    expect(bus.configRead('00:05.1', 0x08, 4)).toBe(ABORT);
    expect(apertures(bus)).toEqual([]);
    expect(bus.mmioRead(BASE0, 4)).toBe(ABORT);
    expect(bus.mmioRead(BASE2 + SIZE2, 4)).toBe(ABORT);
    // The removed VF's context moves no byte.
    expect(vf.dmaWrite(0x100, new Uint8Array([9, 9, 9]))).toBe('bus-master-off');
    expect(Array.from(ram.subarray(0x100, 0x103))).toEqual([1, 2, 3]);
    // NumVFs keeps its value (only Linux's disable writes 0); enabling again brings the VFs back.
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(2);
    bus.configWrite(PF, CTRL, 2, VFE | MSE);
    expect(vfFunctions(bus)).toEqual([vfPath(0), vfPath(1)]);
    expect(bus.configRead('00:05.2', COMMAND, 2)).toBe(0);
    expect(bus.mmioRead(BASE0 + SIZE0 + SriovVfReg.VF_INDEX, 4)).toBe(1);
  });

  it('VF Enable with NumVFs 0 creates no VF and refuses nothing', async () => {
    const bus = enable(await makeBus(backend, topology), 0);
    expect(vfFunctions(bus)).toEqual([]);
    expect(bus.sriov(PF).refusal).toBeUndefined();
  });

  it('a stride of 2 places VFs at every other function', async () => {
    const bus = enable(await makeBus(backend, { devices: [{ bdf: PF, model: 'sriov-endpoint', options: { totalVFs: 3, firstVfOffset: 2, vfStride: 2 } }] }), 3, VFE);
    expect(vfFunctions(bus)).toEqual(['0000:00:05.2', '0000:00:05.4', '0000:00:05.6']);
    expect(bus.configRead('00:05.3', 0x08, 4)).toBe(ABORT);
  });

  it('an offset of 8 places VFs in the following devices of the bus', async () => {
    const bus = enable(await makeBus(backend, { devices: [{ bdf: PF, model: 'sriov-endpoint', options: { totalVFs: 2, firstVfOffset: 8, vfStride: 8 } }] }), 2, VFE);
    expect(vfFunctions(bus)).toEqual(['0000:00:06.0', '0000:00:07.0']);
  });
});

describe.each(BACKENDS)('VF BAR apertures (%s)', (backend) => {
  it('decode at VF BAR + k × size only while VF Enable and VF MSE are set; each VF has its own register file', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 3, VFE);
    expect(apertures(bus)).toEqual([]);
    expect(bus.mmioRead(BASE0, 4)).toBe(ABORT);

    bus.configWrite(PF, CTRL, 2, VFE | MSE);
    expect(apertures(bus)).toHaveLength(6);
    for (let k = 0; k < 3; k++) {
      const a0 = BASE0 + k * SIZE0;
      const a2 = BASE2 + k * SIZE2;
      expect(bus.mmioRead(a0 + SriovVfReg.VF_INDEX, 4)).toBe(k);
      expect(bus.mmioRead(a0 + SriovVfReg.VF_BAR, 4)).toBe(0);
      expect(bus.mmioRead(a0 + SriovVfReg.ROUTING_ID, 4)).toBe((5 << 3) + 1 + k);
      expect(bus.mmioRead(a2 + SriovVfReg.VF_INDEX, 4)).toBe(k);
      expect(bus.mmioRead(a2 + SriovVfReg.VF_BAR, 4)).toBe(2);
      // The last byte of each share is still that VF's (reads 0 past the registers).
      expect(bus.mmioRead(a0 + SIZE0 - 4, 4)).toBe(0);
    }
    // Past NumVFs nothing decodes.
    expect(bus.mmioRead(BASE0 + 3 * SIZE0, 4)).toBe(ABORT);
    expect(bus.mmioRead(BASE2 + 3 * SIZE2, 4)).toBe(ABORT);
    // Scratch is per VF and per VF BAR.
    bus.mmioWrite(BASE0 + SIZE0 + SriovVfReg.SCRATCH, 4, 0xcafef00d);
    expect(bus.mmioRead(BASE0 + SIZE0 + SriovVfReg.SCRATCH, 4)).toBe(0xcafef00d);
    expect(bus.mmioRead(BASE0 + SriovVfReg.SCRATCH, 4)).toBe(0);
    expect(bus.mmioRead(BASE2 + SIZE2 + SriovVfReg.SCRATCH, 4)).toBe(0);
    // Read-only registers ignore writes.
    bus.mmioWrite(BASE0 + SIZE0 + SriovVfReg.VF_INDEX, 4, 7);
    expect(bus.mmioRead(BASE0 + SIZE0 + SriovVfReg.VF_INDEX, 4)).toBe(1);

    bus.configWrite(PF, CTRL, 2, VFE);
    expect(apertures(bus)).toEqual([]);
    expect(bus.mmioRead(BASE0 + SIZE0 + SriovVfReg.SCRATCH, 4)).toBe(ABORT);
    expect(bus.stats().hostErrors).toBe(0);
  });

  it("the PF's Memory Space Enable does not matter; the PF's D0 does", async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 1);
    expect(bus.configRead(PF, COMMAND, 2) & 0x2).toBe(0);
    expect(bus.mmioRead(BASE0, 4)).toBe(0);
    const pm = walkCaps(bus, PF).find((c) => c.id === 0x01)!.offset;
    bus.configWrite(PF, pm + 4, 2, 0x3); // D3hot
    expect(bus.mmioRead(BASE0, 4)).toBe(ABORT);
    expect(apertures(bus)).toEqual([]);
    bus.configWrite(PF, pm + 4, 2, 0x0); // D0
    expect(bus.mmioRead(BASE0, 4)).toBe(0);
  });

  it('move when the VF BAR changes, keeping each VF register file', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 2);
    bus.mmioWrite(BASE0 + SIZE0 + SriovVfReg.SCRATCH, 4, 0x11223344);
    const moved = 0xd0000000;
    bus.configWrite(PF, VF_BAR, 4, moved);
    expect(bus.mmioRead(BASE0 + SIZE0, 4)).toBe(ABORT);
    expect(bus.mmioRead(moved + SIZE0 + SriovVfReg.VF_INDEX, 4)).toBe(1);
    expect(bus.mmioRead(moved + SIZE0 + SriovVfReg.SCRATCH, 4)).toBe(0x11223344);
    // A 64-bit VF BAR moves when its upper dword is written; the lower one alone is staged.
    const high = 0x2_0000_0000 + 0x40000;
    bus.configWrite(PF, VF_BAR + 8, 4, high % 2 ** 32);
    expect(bus.mmioRead(BASE2 + SIZE2 + SriovVfReg.VF_INDEX, 4)).toBe(1);
    bus.configWrite(PF, VF_BAR + 12, 4, Math.floor(high / 2 ** 32));
    expect(bus.mmioRead(BASE2 + SIZE2, 4)).toBe(ABORT);
    expect(bus.mmioRead(high + SIZE2 + SriovVfReg.VF_BAR, 4)).toBe(2);
    expect(apertures(bus)).toEqual([
      `${vfPath(0)} VF BAR0 @ 0x${moved.toString(16)}`,
      `${vfPath(0)} VF BAR2 @ 0x${high.toString(16)}`,
      `${vfPath(1)} VF BAR0 @ 0x${(moved + SIZE0).toString(16)}`,
      `${vfPath(1)} VF BAR2 @ 0x${(high + SIZE2).toString(16)}`,
    ]);
  });

  it('the sizing probe with decode on unmaps the apertures, and the restore maps them back', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 2);
    bus.configWrite(PF, VF_BAR, 4, 0xffffffff);
    expect(bus.configRead(PF, VF_BAR, 4)).toBe(0xffffc000);
    // VF 0 would end at 0xFFFFFFFF: not a valid 32-bit place (the core's BAR rule).
    expect(apertures(bus).filter((a) => a.includes('BAR0'))).toEqual([]);
    bus.configWrite(PF, VF_BAR, 4, BASE0);
    expect(bus.mmioRead(BASE0 + SIZE0 + SriovVfReg.VF_INDEX, 4)).toBe(1);
    // VF BAR 0 at address 0: unassigned, nothing decodes.
    bus.configWrite(PF, VF_BAR, 4, 0);
    expect(apertures(bus).filter((a) => a.includes('BAR0'))).toEqual([]);
  });
});

describe.each(BACKENDS)('NumVFs rules (%s)', (backend) => {
  it('a guest NumVFs above TotalVFs is ignored and the model says why', async () => {
    const bus = await makeBus(backend, topology);
    bus.configWrite(PF, NUM_VF, 2, 2);
    bus.configWrite(PF, NUM_VF, 2, 8);
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(2);
    expect(bus.sriov(PF).refusal).toBe('NumVFs 8 is above TotalVFs 7: ignored, NumVFs stays 2');
    bus.configWrite(PF, NUM_VF, 2, 0xffff);
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(2);
    // VF Enable then creates the NumVFs that stuck.
    bus.configWrite(PF, CTRL, 2, VFE);
    expect(vfFunctions(bus)).toHaveLength(2);
    expect(bus.sriov(PF).refusal).toBeUndefined();
  });

  it('NumVFs written while VF Enable is set is ignored', async () => {
    const bus = enable(await makeBus(backend, topology), 2, VFE);
    bus.configWrite(PF, NUM_VF, 2, 5);
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(2);
    expect(bus.sriov(PF).refusal).toContain('NumVFs 5 was written while VF Enable is set');
    expect(vfFunctions(bus)).toHaveLength(2);
    // After VF Enable is cleared, NumVFs is writable again.
    bus.configWrite(PF, CTRL, 2, 0);
    bus.configWrite(PF, NUM_VF, 2, 5);
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(5);
  });

  it('the embedder API: NumVFs above TotalVFs is an ArgumentError and changes nothing', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    const before = Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4));
    const sriov = bus.sriov(PF);
    expect(() => sriov.enable(8)).toThrow(new ArgumentError('NumVFs 8 is above TotalVFs 7'));
    expect(() => sriov.enable(0)).toThrow(ArgumentError);
    expect(() => sriov.enable(1.5)).toThrow(ArgumentError);
    expect(Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4))).toEqual(before);
    expect(vfFunctions(bus)).toEqual([]);
    expect(bus.functionsChanged).toBe(false);
  });

  it('the embedder API enables and disables as Linux does', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    const sriov = bus.sriov(PF);
    expect(sriov.totalVFs).toBe(7);
    expect(sriov.enable(3)).toEqual([vfPath(0), vfPath(1), vfPath(2)]);
    expect(sriov.enabled).toBe(true);
    expect(sriov.numVFs).toBe(3);
    expect(bus.configRead(PF, CTRL, 2)).toBe(VFE | MSE);
    expect(bus.mmioRead(BASE0 + 2 * SIZE0 + SriovVfReg.VF_INDEX, 4)).toBe(2);
    expect(() => sriov.enable(2)).toThrow(/already set/);
    sriov.disable();
    expect(sriov.enabled).toBe(false);
    expect(sriov.numVFs).toBe(0);
    expect(vfFunctions(bus)).toEqual([]);
    expect(apertures(bus)).toEqual([]);
  });

  it('VFs that cannot be placed: the API throws and changes nothing, a guest VF Enable creates none and says why', async () => {
    const bus = await makeBus(backend, { devices: [{ bdf: PF, model: 'sriov-endpoint' }, { bdf: '00:05.2', model: 'test-endpoint' }] });
    const before = Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4));
    expect(() => bus.sriov(PF).enable(3)).toThrow(/0000:00:05.2 is already present/);
    expect(Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4))).toEqual(before);
    expect(vfFunctions(bus)).toEqual([]);
    expect(bus.sriov(PF).refusal).toBeUndefined();

    enable(bus, 3, VFE);
    expect(vfFunctions(bus)).toEqual([]);
    expect(bus.configRead('00:05.1', 0x08, 4)).toBe(ABORT);
    expect(bus.sriov(PF).refusal).toMatch(/^VF Enable created no VFs: .*0000:00:05.2 is already present/);
    // One VF fits.
    bus.configWrite(PF, CTRL, 2, 0);
    enable(bus, 1, VFE);
    expect(vfFunctions(bus)).toEqual([vfPath(0)]);
  });

  it('bus.sriov on a function without an SR-IOV model is an ArgumentError', async () => {
    const bus = await makeBus(backend, { devices: [{ bdf: PF, model: 'test-endpoint' }] });
    expect(() => bus.sriov(PF)).toThrow(ArgumentError);
  });
});

describe.each(BACKENDS)('the PF (%s)', (backend) => {
  it('BAR 0 shows its ID and the number of VFs present', async () => {
    const bus = await makeBus(backend, topology);
    const bar0 = 0xc0000000;
    bus.configWrite(PF, 0x10, 4, bar0);
    bus.configWrite(PF, COMMAND, 2, 0x2);
    expect(bus.mmioRead(bar0, 4)).toBe(SRIOV_PF_ID);
    expect(bus.mmioRead(bar0 + 4, 4)).toBe(0);
    enable(bus, 4, VFE);
    expect(bus.mmioRead(bar0 + 4, 4)).toBe(4);
  });

  it('reset (FLR) removes the VFs and puts the capability back to its power-on values', async () => {
    const bus = await makeBus(backend, topology);
    const power = Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4));
    placeVfBars(bus);
    bus.configWrite(PF, CAP + 0x20, 4, 0x10);
    enable(bus, 3);
    bus.device<SriovEndpoint>(PF)!.reset!();
    expect(vfFunctions(bus)).toEqual([]);
    expect(apertures(bus)).toEqual([]);
    expect(Array.from({ length: 16 }, (_, i) => bus.configRead(PF, CAP + 4 * i, 4))).toEqual(power);
  });

  it('removing the PF removes its VFs and their apertures', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 2);
    const vf = bus.device<SriovVf>(vfPath(0))!;
    bus.removeFunction(PF_PATH);
    expect(bus.functions()).toEqual([]);
    expect(apertures(bus)).toEqual([]);
    expect(bus.mmioRead(BASE0, 4)).toBe(ABORT);
    expect(vf.dmaWrite(0, new Uint8Array(1))).toBe('bus-master-off');
  });

  it('a VF removed by someone else takes its apertures with it; the others stay', async () => {
    const bus = await makeBus(backend, topology);
    placeVfBars(bus);
    enable(bus, 2);
    bus.removeFunction(vfPath(1));
    expect(bus.sriov(PF).vfs()).toEqual([vfPath(0)]);
    expect(bus.mmioRead(BASE0 + SIZE0, 4)).toBe(ABORT);
    expect(bus.mmioRead(BASE0 + SriovVfReg.VF_INDEX, 4)).toBe(0);
    bus.configWrite(PF, CTRL, 2, 0);
    expect(vfFunctions(bus)).toEqual([]);
  });

  it('a snapshot after a refused VF Enable restores with NumVFs, VF Enable and the refusal as they were', async () => {
    // PF at devfn 0xf8 with First VF Offset 8: VF 0 would be on bus 1, so VF Enable is refused
    // before any function is added (a snapshot is still allowed).
    const edge: Topology = { devices: [{ bdf: '00:1f.0', model: 'sriov-endpoint', options: { totalVFs: 2, firstVfOffset: 8, vfStride: 8 } }] };
    const bus = await makeBus(backend, edge);
    bus.configWrite('00:1f.0', NUM_VF, 2, 2);
    bus.configWrite('00:1f.0', CTRL, 2, VFE);
    const refusal = bus.sriov('00:1f.0').refusal;
    expect(refusal).toMatch(/^VF Enable created no VFs: VF 0's Routing ID 0x100 is not on the PF's bus 0/);
    const blob = bus.snapshot();
    // The other backend's PF has VF Enable set already (with NumVFs 0): the restored NumVFs 2
    // must not look like a write made while VF Enable was set.
    const other = await makeBus(backend === 'wasm' ? 'ts' : 'wasm', edge);
    other.configWrite('00:1f.0', CTRL, 2, VFE);
    other.restore(blob);
    expect(other.configRead('00:1f.0', NUM_VF, 2)).toBe(2);
    expect(other.configRead('00:1f.0', CTRL, 2)).toBe(VFE);
    expect(other.sriov('00:1f.0').refusal).toBe(refusal);
    expect(other.functionsChanged).toBe(false);
  });

  it('a snapshot whose PF state does not fit is refused with the place named', async () => {
    const bus = await makeBus(backend, topology);
    const state = bus.device<SriovEndpoint>(PF)!.saveState!() as Record<string, unknown>;
    expect(() => bus.device<SriovEndpoint>(PF)!.loadState!(new StateReader({ ...state, numVFs: 8 } as never, 'devices.pf'))).toThrow(/devices\.pf\.numVFs/);
    expect(bus.configRead(PF, NUM_VF, 2)).toBe(0);
  });
});
