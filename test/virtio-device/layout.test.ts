// The virtio-pci descriptor as a guest sees it through config cycles: IDs and class, the vendor
// capability chain (cfg_type, BAR, offset, length, notify multiplier) pointing inside BAR 4,
// MSI-X with a vector per queue plus one in BAR 1, and the two BARs firmware sizes and places.
import { describe, expect, it } from 'vitest';
import { walkCaps } from '../helpers/vpci.js';
import { BACKENDS, Driver, barAddress, virtioBus, virtioCaps } from './helpers.js';

const devices = [
  { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 42 } },
  { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 4 } },
];

describe.each(BACKENDS)('virtio-pci layout (%s)', (backend) => {
  it('IDs, revision, subsystem and class follow virtio 1.2 §4.1.2 for rng and blk', async () => {
    const { bus } = await virtioBus(backend, devices);
    for (const [bdf, id, cls] of [['00:06.0', 0x1044, 0x00ff00], ['00:07.0', 0x1042, 0x018000]] as const) {
      expect(bus.configRead(bdf, 0x00, 2)).toBe(0x1af4);
      expect(bus.configRead(bdf, 0x02, 2)).toBe(id);
      expect(bus.configRead(bdf, 0x08, 1)).toBe(1);
      expect(bus.configRead(bdf, 0x08, 4) >>> 8).toBe(cls);
      expect(bus.configRead(bdf, 0x2c, 2)).toBe(0x1af4);
      expect(bus.configRead(bdf, 0x2e, 2)).toBeGreaterThanOrEqual(0x40);
      expect(bus.configRead(bdf, 0x3d, 1)).toBe(1);
      expect(bus.configRead(bdf, 0x06, 2) & 0x10).toBe(0x10);
    }
  });

  it('the vendor capabilities chain reads as virtio_pci_cap structures inside BAR 4', async () => {
    const { bus } = await virtioBus(backend, devices);
    const blk = virtioCaps(bus, '00:07.0');
    expect(blk.map((c) => c.cfgType)).toEqual([1, 2, 3, 4]);
    for (const c of blk) {
      expect(c.bar).toBe(4);
      expect(c.len).toBe(c.cfgType === 2 ? 20 : 16);
      expect(c.offset % 4).toBe(0);
      expect(c.offset + c.length).toBeLessThanOrEqual(0x4000);
    }
    const byType = Object.fromEntries(blk.map((c) => [c.cfgType, c]));
    expect(byType[1].length).toBeGreaterThanOrEqual(0x38);
    expect(byType[2].multiplier).toBe(4);
    expect(byType[2].length).toBeGreaterThanOrEqual(4);
    expect(byType[3].length).toBeGreaterThanOrEqual(1);
    expect(byType[4].length).toBeGreaterThanOrEqual(0x18);
    // The rng has no device-specific configuration, so no device capability.
    expect(virtioCaps(bus, '00:06.0').map((c) => c.cfgType)).toEqual([1, 2, 3]);
    // The id and padding bytes are zero.
    for (const c of blk) expect(bus.configRead('00:07.0', c.at + 5, 1) | bus.configRead('00:07.0', c.at + 6, 2)).toBe(0);
  });

  it('MSI-X has queues + 1 vectors, table and PBA in BAR 1; BAR 1 is mem32 4 KiB, BAR 4 mem64 16 KiB', async () => {
    const { bus } = await virtioBus(backend, devices);
    for (const bdf of ['00:06.0', '00:07.0']) {
      const msix = walkCaps(bus, bdf).find((c) => c.id === 0x11)!.offset;
      expect((bus.configRead(bdf, msix + 2, 2) & 0x7ff) + 1).toBe(2);
      expect(bus.configRead(bdf, msix + 4, 4)).toBe(0x000 | 1);
      expect(bus.configRead(bdf, msix + 8, 4)).toBe(0x800 | 1);
      expect(bus.configRead(bdf, 0x14, 4) & 0xf).toBe(0x0);
      expect(bus.configRead(bdf, 0x20, 4) & 0xf).toBe(0x4);
      expect(barAddress(bus, bdf, 1) % 0x1000).toBe(0);
      expect(barAddress(bus, bdf, 4) % 0x4000).toBe(0);
      for (const bar of [0, 2]) expect(bus.configRead(bdf, 0x10 + 4 * bar, 4)).toBe(0);
    }
  });

  it('the blk device configuration reads capacity, seg_max and blk_size at the device capability', async () => {
    const { bus, ram } = await virtioBus(backend, devices);
    const d = new Driver(bus, '00:07.0', ram);
    expect(bus.mmioRead(d.device, 8)).toBe(BigInt(4 * 2048));
    expect(bus.mmioRead(d.device, 4)).toBe(4 * 2048);
    expect(bus.mmioRead(d.device + 4, 4)).toBe(0);
    expect(bus.mmioRead(d.device + 0x0c, 4)).toBe(254);
    expect(bus.mmioRead(d.device + 0x14, 4)).toBe(512);
    // Device configuration is read-only here (no VIRTIO_BLK_F_CONFIG_WCE).
    bus.mmioWrite(d.device, 4, 1);
    expect(bus.mmioRead(d.device, 4)).toBe(4 * 2048);
  });
});
