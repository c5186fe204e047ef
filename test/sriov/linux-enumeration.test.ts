// Linux's view of SR-IOV, on both backends: a guest written after drivers/pci/iov.c (sriov_init,
// sriov_enable, pci_iov_add_virtfn, sriov_disable) finds the PF below a bridge after firmware ran,
// reads its SR-IOV capability through config cycles only, sizes the VF BARs with the all-ones
// probe, places the apertures, enables NumVFs VFs, computes their Routing IDs from First VF Offset
// and VF Stride, and finds each VF there: the PF's class, Vendor/Device ID 0xFFFF (so a plain bus
// scan skips them), its aperture at VF BAR + k × size. The computed addresses are exactly where
// the bus put the VFs.
import { describe, expect, it } from 'vitest';
import type { SriovVf } from '../../src/devices/index.js';
import { runFirmware } from '../../src/firmware/index.js';
import { scanFunctions } from '../../src/guest/index.js';
import { BACKENDS, makeBus, walkCaps, walkExtCaps } from '../helpers/vpci.js';
import type { Bus } from '../../src/bus.js';

// PCI_SRIOV_* (include/uapi/linux/pci_regs.h), restated as a guest has them.
const SRIOV_CTRL = 0x08, SRIOV_TOTAL_VF = 0x0e, SRIOV_NUM_VF = 0x10, SRIOV_VF_OFFSET = 0x14, SRIOV_VF_STRIDE = 0x16;
const SRIOV_VF_DID = 0x1a, SRIOV_SUP_PGSIZE = 0x1c, SRIOV_SYS_PGSIZE = 0x20, SRIOV_BAR = 0x24;
const CTRL_VFE = 0x1, CTRL_MSE = 0x8;
const EXT_CAP_ID_SRIOV = 0x0010;
const CAP_ID_EXP = 0x10;
const VF_INDEX = 0x00, ROUTING_ID = 0x08;

/** A VF BAR as __pci_read_base sees it. */
interface IovResource { reg: number; size: number; mem64: boolean; start: number }

const hex2 = (v: number) => v.toString(16).padStart(2, '0');
const bdfOf = (bus: number, devfn: number) => `0000:${hex2(bus)}:${hex2(devfn >> 3)}.${devfn & 7}`;

/** The guest: config cycles and MMIO only. */
class LinuxLikeGuest {
  pos = 0;
  total = 0;
  offset = 0;
  stride = 0;
  readonly resources: IovResource[] = [];

  constructor(readonly bus: Bus, readonly pf: string) {}

  private r(off: number, size: number): number { return this.bus.configRead(this.pf, this.pos + off, size) >>> 0; }
  private w(off: number, size: number, v: number): void { this.bus.configWrite(this.pf, this.pos + off, size, v >>> 0); }

  /** sriov_init: the capability, its counts, the page size, the VF BAR sizes. */
  init(): void {
    // Only endpoints (and RC integrated endpoints) are PFs.
    const exp = walkCaps(this.bus, this.pf).find((c) => c.id === CAP_ID_EXP)!;
    expect((this.bus.configRead(this.pf, exp.offset + 2, 2) >> 4) & 0xf).toBe(0);
    this.pos = walkExtCaps(this.bus, this.pf).find((c) => c.id === EXT_CAP_ID_SRIOV)!.offset;
    if (this.r(SRIOV_CTRL, 2) & CTRL_VFE) this.w(SRIOV_CTRL, 2, 0);
    this.total = this.r(SRIOV_TOTAL_VF, 2);
    this.w(SRIOV_CTRL, 2, 0); // no ARI below a conventional bridge
    this.w(SRIOV_NUM_VF, 2, 0);
    this.offset = this.r(SRIOV_VF_OFFSET, 2);
    this.stride = this.r(SRIOV_VF_STRIDE, 2);
    expect(this.offset).not.toBe(0);
    // The smallest supported page size (PAGE_SHIFT 12).
    let pgsz = this.r(SRIOV_SUP_PGSIZE, 4);
    pgsz &= ~(pgsz - 1);
    this.w(SRIOV_SYS_PGSIZE, 4, pgsz);
    for (let i = 0; i < 6; i++) {
      const reg = SRIOV_BAR + 4 * i;
      const orig = this.r(reg, 4);
      this.w(reg, 4, 0xffffffff);
      const mask = this.r(reg, 4);
      this.w(reg, 4, orig);
      if (mask === 0) continue;
      const mem64 = (orig & 0x6) === 0x4;
      let size = (~(mask & 0xfffffff0) >>> 0) + 1;
      if (mem64) {
        const origHi = this.r(reg + 4, 4);
        this.w(reg + 4, 4, 0xffffffff);
        const maskHi = this.r(reg + 4, 4);
        this.w(reg + 4, 4, origHi);
        // Sizes below 4 GiB have an all-ones upper mask.
        expect(maskHi).toBe(0xffffffff);
        i++;
      }
      // A VF BAR must be whole pages (sriov_init: -EIO otherwise).
      expect(size % 4096).toBe(0);
      this.resources.push({ reg, size, mem64, start: 0 });
      size = 0;
    }
  }

  /** Places each IOV resource (size × TotalVFs, aligned to the per-VF size) at `bases`. */
  assign(bases: number[]): void {
    this.resources.forEach((res, i) => {
      res.start = bases[i];
      expect(res.start % res.size).toBe(0);
      this.w(res.reg, 4, res.start % 2 ** 32);
      if (res.mem64) this.w(res.reg + 4, 4, Math.floor(res.start / 2 ** 32));
    });
  }

  /** sriov_enable, then pci_iov_add_virtfn's view of each VF: returns the VFs found. */
  enable(nr: number): { bdf: string; devfn: number; bus: number; vendor: number; device: number; classCode: number }[] {
    expect(nr).toBeLessThanOrEqual(this.total);
    this.w(SRIOV_NUM_VF, 2, nr);
    // pci_iov_set_numvfs: offset and stride may change with NumVFs.
    this.offset = this.r(SRIOV_VF_OFFSET, 2);
    this.stride = this.r(SRIOV_VF_STRIDE, 2);
    this.w(SRIOV_CTRL, 2, CTRL_VFE | CTRL_MSE);
    const pfAddr = this.bus.addressOf(this.pf)!;
    const [pfBus, pfDev] = pfAddr.slice(5).split(':').map((x) => parseInt(x, 16));
    const pfDevfn = (pfDev << 3) | parseInt(pfAddr.slice(-1), 10);
    const pfVendor = this.bus.configRead(this.pf, 0x00, 2);
    const pfClass = this.bus.configRead(this.pf, 0x08, 4) >>> 8;
    const vfDevice = this.r(SRIOV_VF_DID, 2);
    const found = [];
    for (let id = 0; id < nr; id++) {
      const rid = pfDevfn + this.offset + this.stride * id;
      const bus = pfBus + (rid >> 8);
      const devfn = rid & 0xff;
      const bdf = bdfOf(bus, devfn);
      // pci_setup_device on the VF: class and header type come from the VF's config space.
      const classCode = this.bus.configRead(bdf, 0x08, 4) >>> 8;
      expect(this.bus.configRead(bdf, 0x0e, 1) & 0x7f).toBe(0);
      expect(this.bus.configRead(bdf, 0x00, 4)).toBe(0xffffffff);
      found.push({ bdf, devfn, bus, vendor: pfVendor, device: vfDevice, classCode });
      expect(classCode).toBe(pfClass);
    }
    return found;
  }

  disable(): void {
    this.w(SRIOV_CTRL, 2, 0);
    this.w(SRIOV_NUM_VF, 2, 0);
  }
}

describe.each(BACKENDS)('Linux-style SR-IOV enumeration (%s)', (backend) => {
  it('finds the VFs a PF below a bridge creates, at the Routing IDs its capability gives', async () => {
    const bus = await makeBus(backend, {
      devices: [
        { id: 'br', bdf: '00:04.0', model: 'pci-bridge' },
        { behind: 'br', addr: '00.0', model: 'sriov-endpoint', options: { totalVFs: 4, vfDeviceId: 0x00fc } },
      ],
    });
    runFirmware(bus);
    const pf = scanFunctions(bus).find((f) => f.vendorId === 0x1b36 && f.deviceId === 0x00fd)!;
    expect(pf.bdf).toBe('0000:01:00.0');

    const guest = new LinuxLikeGuest(bus, pf.bdf);
    guest.init();
    expect(guest.total).toBe(4);
    expect(guest.resources.map((r) => [r.size, r.mem64])).toEqual([[0x4000, false], [0x10000, true]]);
    guest.assign([0xe0000000, 0x80_4000_0000]);

    const vfs = guest.enable(3);
    expect(vfs.map((v) => v.bdf)).toEqual(['0000:01:00.1', '0000:01:00.2', '0000:01:00.3']);
    expect(vfs.every((v) => v.vendor === 0x1b36 && v.device === 0x00fc)).toBe(true);
    // Exactly the functions the bus added, at those addresses.
    const paths = bus.sriov('00:04.0/00.0').vfs();
    expect(paths.map((p) => bus.addressOf(p))).toEqual(vfs.map((v) => v.bdf));

    // Each VF's share of each IOV resource: start + size × id.
    vfs.forEach((vf, id) => {
      for (const res of guest.resources) {
        const base = res.start + res.size * id;
        expect(bus.mmioRead(base + VF_INDEX, 4)).toBe(id);
        expect(bus.mmioRead(base + ROUTING_ID, 4)).toBe((vf.bus << 8) | vf.devfn);
      }
    });

    // The VF's driver turns on bus mastering in the VF's own Command; its DMA then works.
    const ram = new Uint8Array(0x1000);
    bus.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    bus.configWrite(vfs[2].bdf, 0x04, 2, 0x4);
    const vf2 = bus.device<SriovVf>(vfs[2].bdf)!;
    expect(vf2.index).toBe(2);
    expect(vf2.dmaWrite(0x10, new Uint8Array([0xab]))).toBe('ok');
    expect(ram[0x10]).toBe(0xab);

    // A plain bus scan still sees only the PF (and the bridge): VFs answer Vendor ID 0xFFFF.
    expect(scanFunctions(bus).map((f) => f.bdf)).toEqual(['0000:00:04.0', '0000:01:00.0']);

    guest.disable();
    for (const vf of vfs) expect(bus.configRead(vf.bdf, 0x08, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(guest.resources[0].start, 4)).toBe(0xffffffff);
    expect(bus.stats().hostErrors).toBe(0);
  });
});
