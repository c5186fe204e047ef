// Device reset in the middle of work (virtio 1.2 §2.4, §4.1.4.3.2), on both backends: the driver
// notifies and resets without collecting the completion; device_status reads 0 at once; the old
// queues are forgotten (a notification for them does nothing, the old rings are never written
// again); after re-initialization requests work and the new used ring holds only new entries.
import { describe, expect, it } from 'vitest';
import {
  BlkStatus, CommonCfg, VIRTIO_MSI_NO_VECTOR, VirtioBlk, VirtioFeature, VirtioRng, VirtioStatus, VirtioType, ringBytes,
} from '../../src/guest/index.js';
import { BACKENDS, bootGuest, openVirtio, pattern, sameBytes } from './helpers.js';

const SECTOR = 512;
const BLK = { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 1 } };
const RNG = { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 5 } };

describe.each(BACKENDS)('reset mid-operation on the %s backend', (backend) => {
  it('blk: notify without waiting, reset, re-init: no stale used entries, the old rings stay as they were', async () => {
    const g = await bootGuest(backend, [BLK]);
    const dev = openVirtio(g, VirtioType.BLOCK);
    const first = new VirtioBlk(dev, { features: VirtioFeature.INDIRECT_DESC | VirtioFeature.EVENT_IDX });
    const data = pattern(2 * SECTOR, 1);
    expect(first.write(0, data).status).toBe(BlkStatus.OK);
    // Requests the driver never collects: notified (the device may complete them at once).
    first.submit({ type: 0, sector: 0, length: 2 * SECTOR });
    first.submit({ type: 1, sector: 8, data: pattern(SECTOR, 2), indirect: true });
    const oldQueue = first.queue;
    const queueData = dev.dataOfVector(1)!;
    expect(g.irq.waiting(queueData)).toBeGreaterThan(0); // completions the driver has not taken
    dev.reset();
    expect(g.irq.waiting(queueData)).toBe(0);
    expect(dev.status).toBe(0);
    expect(dev.needsReset).toBe(false);
    dev.writeCommon(CommonCfg.QUEUE_SELECT, 2, 0);
    expect(dev.readCommon(CommonCfg.QUEUE_ENABLE, 2)).toBe(0);
    expect(dev.readCommon(CommonCfg.QUEUE_MSIX_VECTOR, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    // The old rings as the reset left them; a chain added there and notified is not served.
    const sizes = ringBytes(oldQueue.size);
    oldQueue.add([{ addr: g.ram.alloc(16), len: 16 }, { addr: g.ram.alloc(1), len: 1, write: true }]);
    const oldUsed = g.ram.read(oldQueue.used, sizes.used);
    g.bus.mmioWrite(dev.notifyAddress(0), 2, 0);
    expect(sameBytes(g.ram.read(oldQueue.used, sizes.used), oldUsed)).toBe(true);
    const messagesBefore = g.irq.log.length;

    const again = new VirtioBlk(dev, { features: VirtioFeature.INDIRECT_DESC | VirtioFeature.EVENT_IDX });
    expect(dev.status).toBe(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
    expect(again.queue.usedIdx()).toBe(0);
    expect(g.irq.log.length).toBe(messagesBefore);
    const r = again.read(0, 2 * SECTOR, { indirect: true });
    expect(r.status).toBe(BlkStatus.OK);
    // The interrupts of the requests before the reset were dropped by the reset: this one is new.
    expect(r.interrupted).toBe(true);
    expect(g.irq.log.length).toBe(messagesBefore + 1);
    expect(sameBytes(r.data!, data)).toBe(true);
    expect(again.write(9, pattern(SECTOR, 3)).status).toBe(BlkStatus.OK);
    expect(again.flush().status).toBe(BlkStatus.OK);
    // Exactly the three new requests were used, and the old used ring never moved.
    expect(again.queue.usedIdx()).toBe(3);
    expect(again.queue.outstanding).toBe(0);
    expect(sameBytes(g.ram.read(oldQueue.used, sizes.used), oldUsed)).toBe(true);
    expect(g.modelErrors).toEqual([]);
  });

  it('rng: reset between requests and after a queue was set up but before DRIVER_OK', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    let rng = new VirtioRng(dev);
    expect(rng.request(32).len).toBe(32);
    rng.submit(g.ram.alloc(64), 64);
    dev.reset();
    // Half an initialization, then reset again.
    dev.begin();
    dev.negotiate(0n);
    const q = dev.setupQueue(0);
    q.add([{ addr: g.ram.alloc(8), len: 8, write: true }]);
    g.bus.mmioWrite(dev.notifyAddress(0), 2, 0); // before DRIVER_OK: nothing is consumed (§3.1.1)
    expect(q.usedIdx()).toBe(0);
    dev.reset();
    rng = new VirtioRng(dev);
    for (let i = 0; i < 3; i++) expect(rng.request(16).len).toBe(16);
    expect(rng.queue.usedIdx()).toBe(3);
    expect(g.modelErrors).toEqual([]);
  });

  it('the Bus resetting the function (FLR-like) leaves the device at status 0, and the driver re-initializes it', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    const rng = new VirtioRng(dev);
    expect(rng.request(8).len).toBe(8);
    const instance = g.bus.device('00:06.0');
    expect(instance?.reset).toBeTypeOf('function');
    instance!.reset!();
    expect(dev.status).toBe(0);
    expect(new VirtioRng(dev).request(8).len).toBe(8);
  });
});
