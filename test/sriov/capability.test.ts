// The SR-IOV extended capability (src/config/sriov-capability.ts), on both backends: its layout
// at 0x100 (ID 0x0010, version 1), which bits a guest can write (VF Enable, VF MSE and ARI
// Capable Hierarchy in Control; NumVFs; System Page Size within the supported sizes; VF BAR
// address bits above the per-VF size) and which it cannot, the VF BAR sizing probe, and the
// descriptor checks that name the bad field.
import { describe, expect, it } from 'vitest';
import { buildPlanes } from '../../src/config/index.js';
import type { FunctionDescriptor, SriovCapabilityDescriptor } from '../../src/config/index.js';
import { DescriptorError, TopologyError } from '../../src/errors.js';
import { resolveTopology } from '../../src/topology/index.js';
import { BACKENDS, makeBus, walkExtCaps } from '../helpers/vpci.js';

const PF = '00:05.0';
const CAP = 0x100;
// Register offsets restated from PCIe Base 6.0 §9.3.3 (Linux's PCI_SRIOV_*), as a guest has them.
const CTRL = 0x08, STATUS = 0x0a, INITIAL_VF = 0x0c, TOTAL_VF = 0x0e, NUM_VF = 0x10, FUNC_LINK = 0x12;
const VF_OFFSET = 0x14, VF_STRIDE = 0x16, VF_DID = 0x1a, SUP_PGSIZE = 0x1c, SYS_PGSIZE = 0x20, BAR = 0x24, VFM = 0x3c;

const topology = {
  devices: [{ bdf: PF, model: 'sriov-endpoint', options: { totalVFs: 5, vfDeviceId: 0x1234 } }],
};

describe.each(BACKENDS)('SR-IOV capability layout and masks (%s)', (backend) => {
  it('is the first extended capability: ID 0x0010, version 1, 0x40 bytes, end of the list', async () => {
    const bus = await makeBus(backend, topology);
    const caps = walkExtCaps(bus, PF);
    expect(caps).toEqual([{ offset: CAP, id: 0x0010, version: 1, header: 0x00010010 }]);
  });

  it('reads its power-on values: TotalVFs = InitialVFs, offset 1, stride 1, the VF Device ID, required page sizes', async () => {
    const bus = await makeBus(backend, topology);
    const r = (off: number, size: number) => bus.configRead(PF, CAP + off, size);
    expect(r(0x04, 4)).toBe(0); // no VF Migration, no ARI preserve, no 10-bit tags
    expect(r(CTRL, 2)).toBe(0);
    expect(r(STATUS, 2)).toBe(0);
    expect(r(INITIAL_VF, 2)).toBe(5);
    expect(r(TOTAL_VF, 2)).toBe(5);
    expect(r(NUM_VF, 2)).toBe(0);
    expect(r(FUNC_LINK, 1)).toBe(0);
    expect(r(VF_OFFSET, 2)).toBe(1);
    expect(r(VF_STRIDE, 2)).toBe(1);
    expect(r(VF_DID, 2)).toBe(0x1234);
    expect(r(SUP_PGSIZE, 4)).toBe(0x553);
    expect(r(SYS_PGSIZE, 4)).toBe(1);
    expect(r(VFM, 4)).toBe(0);
  });

  it('Control: only VF Enable, VF MSE and ARI Capable Hierarchy are writable', async () => {
    const bus = await makeBus(backend, topology);
    // VF Enable with NumVFs 0 creates no VF, so this is a pure register check.
    bus.configWrite(PF, CAP + CTRL, 2, 0xffff);
    expect(bus.configRead(PF, CAP + CTRL, 2)).toBe(0x0019);
    bus.configWrite(PF, CAP + CTRL, 2, 0x0000);
    expect(bus.configRead(PF, CAP + CTRL, 2)).toBe(0);
  });

  it('read-only fields ignore writes: Capabilities, Status, InitialVFs, TotalVFs, link, offset, stride, VF Device ID, Supported Page Sizes, VFM', async () => {
    const bus = await makeBus(backend, topology);
    const before = [0x04, STATUS, INITIAL_VF, TOTAL_VF, FUNC_LINK, VF_OFFSET, VF_STRIDE, VF_DID, SUP_PGSIZE, VFM].map((o) => bus.configRead(PF, CAP + o, 2));
    bus.configWrite(PF, CAP + 0x04, 4, 0xffffffff);
    bus.configWrite(PF, CAP + STATUS, 2, 0xffff);
    bus.configWrite(PF, CAP + INITIAL_VF, 4, 0xffffffff);
    bus.configWrite(PF, CAP + 0x12, 2, 0xffff);
    bus.configWrite(PF, CAP + VF_OFFSET, 4, 0xffffffff);
    bus.configWrite(PF, CAP + 0x18, 4, 0xffffffff);
    bus.configWrite(PF, CAP + SUP_PGSIZE, 4, 0xffffffff);
    bus.configWrite(PF, CAP + VFM, 4, 0xffffffff);
    const after = [0x04, STATUS, INITIAL_VF, TOTAL_VF, FUNC_LINK, VF_OFFSET, VF_STRIDE, VF_DID, SUP_PGSIZE, VFM].map((o) => bus.configRead(PF, CAP + o, 2));
    expect(after).toEqual(before);
  });

  it('NumVFs is a 16-bit RW field while VF Enable is clear (values up to TotalVFs)', async () => {
    const bus = await makeBus(backend, topology);
    bus.configWrite(PF, CAP + NUM_VF, 2, 3);
    expect(bus.configRead(PF, CAP + NUM_VF, 2)).toBe(3);
    bus.configWrite(PF, CAP + NUM_VF, 2, 5);
    expect(bus.configRead(PF, CAP + NUM_VF, 2)).toBe(5);
    bus.configWrite(PF, CAP + NUM_VF, 2, 0);
    expect(bus.configRead(PF, CAP + NUM_VF, 2)).toBe(0);
  });

  it('System Page Size takes the supported page-size bits only', async () => {
    const bus = await makeBus(backend, topology);
    bus.configWrite(PF, CAP + SYS_PGSIZE, 4, 0x10); // 64 KiB: supported
    expect(bus.configRead(PF, CAP + SYS_PGSIZE, 4)).toBe(0x10);
    bus.configWrite(PF, CAP + SYS_PGSIZE, 4, 0x2); // 8 KiB: supported
    expect(bus.configRead(PF, CAP + SYS_PGSIZE, 4)).toBe(0x2);
    bus.configWrite(PF, CAP + SYS_PGSIZE, 4, 0x4); // 16 KiB: not supported, dropped
    expect(bus.configRead(PF, CAP + SYS_PGSIZE, 4)).toBe(0);
  });

  it('VF BAR sizing: all ones reads back the per-VF size with the type bits; unimplemented VF BARs stay 0', async () => {
    const bus = await makeBus(backend, topology);
    // Default VF BARs: VF BAR0 mem32 16 KiB, VF BAR2-3 mem64 prefetchable 64 KiB.
    expect(bus.configRead(PF, CAP + BAR, 4)).toBe(0);
    expect(bus.configRead(PF, CAP + BAR + 8, 4)).toBe(0xc);
    for (let n = 0; n < 6; n++) bus.configWrite(PF, CAP + BAR + 4 * n, 4, 0xffffffff);
    expect(bus.configRead(PF, CAP + BAR, 4)).toBe(0xffffc000);
    expect(bus.configRead(PF, CAP + BAR + 4, 4)).toBe(0);
    expect(bus.configRead(PF, CAP + BAR + 8, 4)).toBe(0xffff000c);
    expect(bus.configRead(PF, CAP + BAR + 12, 4)).toBe(0xffffffff);
    expect(bus.configRead(PF, CAP + BAR + 16, 4)).toBe(0);
    expect(bus.configRead(PF, CAP + BAR + 20, 4)).toBe(0);
    // An address takes only the bits above the size.
    bus.configWrite(PF, CAP + BAR, 4, 0xe0001234);
    expect(bus.configRead(PF, CAP + BAR, 4)).toBe(0xe0000000);
  });

  it('a 64-bit VF BAR of 8 GiB per VF has writable bits only from bit 33 of the upper dword', async () => {
    const bus = await makeBus(backend, {
      devices: [{ bdf: PF, model: 'sriov-endpoint', options: { totalVFs: 2, vfBars: [{ index: 4, kind: 'mem64', size: 2 ** 33 }] } }],
    });
    bus.configWrite(PF, CAP + BAR + 16, 4, 0xffffffff);
    bus.configWrite(PF, CAP + BAR + 20, 4, 0xffffffff);
    expect(bus.configRead(PF, CAP + BAR + 16, 4)).toBe(0x4);
    expect(bus.configRead(PF, CAP + BAR + 20, 4)).toBe(0xfffffffe);
  });
});

/** A PCIe endpoint descriptor carrying `cap` (for the descriptor checks). */
function withCap(cap: Partial<SriovCapabilityDescriptor>): FunctionDescriptor {
  return {
    vendorId: 0x1b36, deviceId: 1, classCode: 0,
    capabilities: [{ id: 'pcie', portType: 'endpoint' }],
    extendedCapabilities: [{ id: 'sriov', totalVFs: 4, vfDeviceId: 2, ...cap } as SriovCapabilityDescriptor],
  };
}

describe('SR-IOV descriptor checks name the field', () => {
  const bad: [string, Partial<SriovCapabilityDescriptor>, string][] = [
    ['TotalVFs 0', { totalVFs: 0 }, 'extendedCapabilities[0].totalVFs'],
    ['TotalVFs past 16 bits', { totalVFs: 0x10000 }, 'extendedCapabilities[0].totalVFs'],
    ['a VF Device ID past 16 bits', { vfDeviceId: 0x10000 }, 'extendedCapabilities[0].vfDeviceId'],
    ['First VF Offset 0 (VF 0 would be the PF)', { firstVfOffset: 0 }, 'extendedCapabilities[0].firstVfOffset'],
    ['VF Stride 0 with several VFs', { vfStride: 0 }, 'extendedCapabilities[0].vfStride'],
    ['a Function Dependency Link past a byte', { functionDependencyLink: 256 }, 'extendedCapabilities[0].functionDependencyLink'],
    ['Supported Page Sizes without the required ones', { supportedPageSizes: 0x1 }, 'extendedCapabilities[0].supportedPageSizes'],
    ['an I/O VF BAR', { vfBars: [{ index: 0, kind: 'io' as 'mem32', size: 0x1000 }] }, 'extendedCapabilities[0].vfBars[0].kind'],
    ['a VF BAR below 4 KiB', { vfBars: [{ index: 0, kind: 'mem32', size: 0x800 }] }, 'extendedCapabilities[0].vfBars[0].size'],
    ['a VF BAR that is not a power of two', { vfBars: [{ index: 0, kind: 'mem32', size: 0x3000 }] }, 'extendedCapabilities[0].vfBars[0].size'],
    ['a 64-bit VF BAR at index 5', { vfBars: [{ index: 5, kind: 'mem64', size: 0x1000 }] }, 'extendedCapabilities[0].vfBars[0].index'],
    ['VF BAR index 6', { vfBars: [{ index: 6, kind: 'mem32', size: 0x1000 }] }, 'extendedCapabilities[0].vfBars[0].index'],
    ['two VF BARs on one register', { vfBars: [{ index: 0, kind: 'mem64', size: 0x1000 }, { index: 1, kind: 'mem32', size: 0x1000 }] }, 'extendedCapabilities[0].vfBars[1].index'],
    ['a 32-bit aperture past 4 GiB', { vfBars: [{ index: 0, kind: 'mem32', size: 2 ** 31 }] }, 'extendedCapabilities[0].vfBars[0].size'],
  ];
  it.each(bad)('%s', (_, cap, path) => {
    let error: unknown;
    try {
      buildPlanes(withCap(cap));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DescriptorError);
    expect((error as DescriptorError).path).toBe(path);
  });

  it('a valid capability builds, one VF with stride 0 included', () => {
    expect(() => buildPlanes(withCap({ totalVFs: 1, vfStride: 0, vfBars: [{ index: 0, kind: 'mem64', size: 0x1000 }] }))).not.toThrow();
  });

  it("the model's options are checked with the option named", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ totalVFs: 8 }, 'options.totalVFs'],
      [{ vfBars: [{ index: 0, kind: 'io', size: 0x1000 }] }, 'options.vfBars[0].kind'],
      [{ firstVfOffset: 200, vfStride: 20 }, 'options.vfStride'],
      [{ msix: 'yes' }, 'options.msix'],
    ];
    for (const [options, path] of cases) {
      const err = await resolveTopology({ devices: [{ bdf: PF, model: 'sriov-endpoint', options }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TopologyError);
      expect((err as Error).message).toContain(path);
    }
  });
});
