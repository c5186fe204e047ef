// virtio over PCI as the guest driver finds it (virtio 1.2 §4.1), on both backends: the IDs, the
// vendor capabilities that locate the common, notify, ISR and device structures in a BAR, the
// initialization sequence of §3.1.1 with each status step read back, feature negotiation
// (VERSION_1 required), MSI-X vector mapping read back, and reset.
import { describe, expect, it } from 'vitest';
import {
  COMMON_CFG_LENGTH, CommonCfg, VIRTIO_MSI_NO_VECTOR, VirtioFeature, VirtioPciCapType, VirtioStatus, VirtioType,
} from '../../src/guest/index.js';
import { BlkFeature } from '../../src/guest/index.js';
import { BACKENDS, bootGuest, openVirtio, virtioFunctions } from './helpers.js';

const RNG = { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 7 } };
const BLK = { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 2 } };

describe.each(BACKENDS)('virtio-pci transport on the %s backend', (backend) => {
  it('identifies as modern virtio: 1af4:1040+type, revision 1, subsystem id >= 0x40, the contract class codes', async () => {
    const g = await bootGuest(backend, [RNG, BLK]);
    const [rng] = virtioFunctions(g, VirtioType.ENTROPY);
    const [blk] = virtioFunctions(g, VirtioType.BLOCK);
    expect(rng).toMatchObject({ vendorId: 0x1af4, deviceId: 0x1044, revision: 1, classCode: 0x00ff00, subsystemVendorId: 0x1af4 });
    expect(blk).toMatchObject({ vendorId: 0x1af4, deviceId: 0x1042, revision: 1, classCode: 0x018000, subsystemVendorId: 0x1af4 });
    expect(rng.subsystemId).toBeGreaterThanOrEqual(0x40);
    expect(blk.subsystemId).toBeGreaterThanOrEqual(0x40);
  });

  it('finds the common, notify, ISR and device structures from the vendor capabilities, each inside its memory BAR', async () => {
    const g = await bootGuest(backend, [RNG, BLK]);
    for (const type of [VirtioType.ENTROPY, VirtioType.BLOCK]) {
      const dev = openVirtio(g, type);
      const { common, notify, isr, device } = dev.regions;
      expect(common.length).toBeGreaterThanOrEqual(COMMON_CFG_LENGTH);
      expect(isr.length).toBeGreaterThanOrEqual(1);
      expect(notify.multiplier).toBeGreaterThanOrEqual(0);
      // Every structure lies inside the BAR its capability names, at the BAR's address + offset.
      for (const r of [common, notify, isr, ...(device ? [device] : [])]) {
        const bar = dev.fn.memoryBar(r.bar);
        expect(r.address).toBe(bar.address + r.offset);
        expect(r.offset + r.length).toBeLessThanOrEqual(bar.size);
      }
      // The capabilities the driver used are vendor-specific (0x09) with cfg_type 1-4.
      const types = dev.fn.capabilities().filter((c) => c.id === 0x09).map((c) => dev.fn.read8(c.offset + 3));
      expect(types).toEqual(expect.arrayContaining([VirtioPciCapType.COMMON, VirtioPciCapType.NOTIFY, VirtioPciCapType.ISR]));
      if (type === VirtioType.BLOCK) expect(device).toBeDefined();
      expect(g.modelErrors).toEqual([]);
    }
  });

  it('runs the §3.1.1 sequence: reset reads 0, ACKNOWLEDGE, DRIVER, FEATURES_OK sticks, DRIVER_OK, each read back', async () => {
    const g = await bootGuest(backend, [BLK]);
    const dev = openVirtio(g, VirtioType.BLOCK);
    dev.reset();
    expect(dev.status).toBe(0);
    dev.addStatus(VirtioStatus.ACKNOWLEDGE);
    expect(dev.status).toBe(1);
    dev.addStatus(VirtioStatus.DRIVER);
    expect(dev.status).toBe(3);
    const offered = dev.deviceFeatures();
    expect(offered & VirtioFeature.VERSION_1).toBe(VirtioFeature.VERSION_1);
    expect(offered & VirtioFeature.INDIRECT_DESC).toBe(VirtioFeature.INDIRECT_DESC);
    expect(offered & VirtioFeature.EVENT_IDX).toBe(VirtioFeature.EVENT_IDX);
    expect(offered & VirtioFeature.RING_PACKED).toBe(0n);
    expect(offered & (BlkFeature.FLUSH | BlkFeature.BLK_SIZE | BlkFeature.SEG_MAX)).toBe(BlkFeature.FLUSH | BlkFeature.BLK_SIZE | BlkFeature.SEG_MAX);
    expect(offered & BlkFeature.RO).toBe(0n);
    const accepted = dev.negotiate(VirtioFeature.EVENT_IDX | BlkFeature.FLUSH);
    expect(accepted).toBe(VirtioFeature.VERSION_1 | VirtioFeature.EVENT_IDX | BlkFeature.FLUSH);
    expect(dev.status).toBe(0x0b);
    dev.setupConfigVector();
    dev.setupQueue(0, { size: 16 });
    dev.driverOk();
    expect(dev.status).toBe(0x0f);
    // The queue reads back as set up.
    dev.writeCommon(CommonCfg.QUEUE_SELECT, 2, 0);
    expect(dev.readCommon(CommonCfg.QUEUE_SIZE, 2)).toBe(16);
    expect(dev.readCommon(CommonCfg.QUEUE_ENABLE, 2)).toBe(1);
    expect(dev.readCommon(CommonCfg.QUEUE_DESC, 4)).toBe(dev.queues[0].desc);
    expect(dev.readCommon(CommonCfg.QUEUE_DRIVER, 4)).toBe(dev.queues[0].avail);
    expect(dev.readCommon(CommonCfg.QUEUE_DEVICE, 4)).toBe(dev.queues[0].used);
    expect(dev.readCommon(CommonCfg.NUM_QUEUES, 2)).toBe(1);
    expect(g.modelErrors).toEqual([]);
  });

  it('refuses FEATURES_OK without VERSION_1 (§6.1: legacy drivers are not served), and negotiate() reports it', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    dev.begin();
    dev.writeDriverFeatures(VirtioFeature.EVENT_IDX); // no VERSION_1
    dev.addStatus(VirtioStatus.FEATURES_OK);
    expect(dev.status & VirtioStatus.FEATURES_OK).toBe(0);
    // §3.1.1 / §2.2: accepting a feature the device did not offer (RING_PACKED here) is refused too.
    dev.begin();
    dev.writeDriverFeatures(VirtioFeature.VERSION_1 | VirtioFeature.RING_PACKED);
    dev.addStatus(VirtioStatus.FEATURES_OK);
    expect(dev.status & VirtioStatus.FEATURES_OK).toBe(0);
    // A device that never accepts what the driver insists on: the driver sets FAILED.
    dev.begin();
    expect(() => dev.negotiate(0n, 1n << 40n)).toThrow(/required features/);
    expect(dev.status & VirtioStatus.FAILED).toBe(VirtioStatus.FAILED);
    // Reset clears FAILED; the normal sequence works again.
    dev.begin();
    expect(dev.negotiate(0n)).toBe(VirtioFeature.VERSION_1);
  });

  it('maps MSI-X vectors and reads them back; NO_VECTOR after reset; a vector past the table reads back NO_VECTOR', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    expect(dev.msix?.size).toBeGreaterThanOrEqual(2);
    dev.begin();
    dev.negotiate(0n);
    dev.setupConfigVector(0);
    expect(dev.readCommon(CommonCfg.CONFIG_MSIX_VECTOR, 2)).toBe(0);
    dev.setupQueue(0);
    expect(dev.readCommon(CommonCfg.QUEUE_MSIX_VECTOR, 2)).toBe(1);
    // §4.1.5.1.2: a vector the function does not have cannot be mapped.
    dev.writeCommon(CommonCfg.CONFIG_MSIX_VECTOR, 2, 0x7ff);
    expect(dev.readCommon(CommonCfg.CONFIG_MSIX_VECTOR, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    dev.reset();
    expect(dev.readCommon(CommonCfg.CONFIG_MSIX_VECTOR, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    dev.writeCommon(CommonCfg.QUEUE_SELECT, 2, 0);
    expect(dev.readCommon(CommonCfg.QUEUE_MSIX_VECTOR, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    expect(dev.readCommon(CommonCfg.QUEUE_ENABLE, 2)).toBe(0);
  });

  it('reads device configuration inside one config_generation: blk capacity, blk_size 512, seg_max', async () => {
    const g = await bootGuest(backend, [BLK]);
    const dev = openVirtio(g, VirtioType.BLOCK);
    const generation = dev.configGeneration;
    expect(dev.readConfig64(0)).toBe((2 << 20) / 512);
    expect(dev.readConfig(20, 4)).toBe(512);
    expect(dev.readConfig(12, 4)).toBeGreaterThanOrEqual(1);
    expect(dev.configGeneration).toBe(generation);
  });
});
