// Notification suppression both ways (virtio 1.2 §2.7.7, §2.7.10), on both backends: without
// EVENT_IDX the driver's VIRTQ_AVAIL_F_NO_INTERRUPT silences used-buffer interrupts; with it the
// device interrupts exactly when used.idx passes used_event, and publishes avail_event so the
// driver notifies only when its avail.idx passes it. MSI-X masking holds a completion's message
// in the PBA until the vector is unmasked.
import { describe, expect, it } from 'vitest';
import { BlkStatus, VirtioBlk, VirtioFeature, VirtioRng, VirtioType, needEvent } from '../../src/guest/index.js';
import { BACKENDS, bootGuest, openVirtio, pattern } from './helpers.js';

const RNG = { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 11 } };
const BLK = { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 1 } };

describe.each(BACKENDS)('notification suppression on the %s backend', (backend) => {
  it('VIRTQ_AVAIL_F_NO_INTERRUPT: completions without messages; interrupts come back when the flag is cleared', async () => {
    const g = await bootGuest(backend, [RNG]);
    const rng = new VirtioRng(openVirtio(g, VirtioType.ENTROPY));
    const data = rng.dev.dataOfVector(1)!;
    rng.queue.setInterrupts(false);
    for (let i = 0; i < 3; i++) {
      const r = rng.request(16);
      expect(r.len).toBe(16);
      expect(r.interrupted).toBe(false);
    }
    expect(g.irq.count(data)).toBe(0);
    rng.queue.setInterrupts(true);
    expect(rng.request(16).interrupted).toBe(true);
    expect(g.irq.count(data)).toBe(1);
  });

  it('EVENT_IDX: the device interrupts exactly when used.idx passes used_event (vring_need_event arithmetic, wrapping)', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    const rng = new VirtioRng(dev, { features: VirtioFeature.EVENT_IDX });
    expect(dev.has(VirtioFeature.EVENT_IDX)).toBe(true);
    const q = rng.queue;
    q.holdUsedEvent();
    // used_event values to try, with requests one at a time: each moves used.idx by one.
    const plan = [2, 2, 2, 2, 10, 10, 10, 10, 10, 10, 10, 10, 3, 0xffff];
    const expected: boolean[] = [];
    const got: boolean[] = [];
    for (const usedEvent of plan) {
      q.setUsedEvent(usedEvent);
      const old = q.lastUsedIndex;
      const r = rng.request(8);
      expect(r.len).toBe(8);
      expected.push(needEvent(usedEvent, (old + 1) & 0xffff, old));
      got.push(r.interrupted);
    }
    expect(got).toEqual(expected);
    expect(expected.filter(Boolean).length).toBeGreaterThanOrEqual(2);
  });

  it('EVENT_IDX: one message for a batch of chains made available before one notification', async () => {
    const g = await bootGuest(backend, [BLK]);
    const blk = new VirtioBlk(openVirtio(g, VirtioType.BLOCK), { features: VirtioFeature.EVENT_IDX });
    const data = blk.dev.dataOfVector(1)!;
    const ps = Array.from({ length: 4 }, (_, i) => blk.submit({ type: 1, sector: i, data: pattern(512, i), kick: false }));
    expect(g.irq.count(data)).toBe(0);
    blk.dev.notify(blk.queue);
    expect(g.irq.count(data)).toBe(1);
    for (const p of ps) expect(blk.complete(p).status).toBe(BlkStatus.OK);
  });

  it('EVENT_IDX: the device publishes avail_event; the driver notifies only when avail.idx passes it', async () => {
    const g = await bootGuest(backend, [BLK]);
    const blk = new VirtioBlk(openVirtio(g, VirtioType.BLOCK), { features: VirtioFeature.EVENT_IDX });
    const q = blk.queue;
    for (let i = 0; i < 5; i++) expect(blk.write(i, pattern(512, i)).status).toBe(BlkStatus.OK);
    // The device has seen everything made available, and asks to hear about the next chain.
    expect(q.availEvent()).toBe(q.availIndex);
    blk.submit({ type: 0, sector: 0, length: 512, kick: false });
    expect(q.kickNeeded()).toBe(true);
    // A driver whose kicks follow avail_event never leaves a chain unserved.
    expect(blk.dev.kick(q)).toBe(true);
    expect(blk.poll()).toBe(1);
    expect(q.kickNeeded()).toBe(false);
    expect(g.modelErrors).toEqual([]);
  });

  it('a masked MSI-X vector holds the completion message in the PBA; unmasking delivers it', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    const rng = new VirtioRng(dev);
    const data = dev.dataOfVector(1)!;
    dev.msix!.setMasked(1, true);
    const r = rng.request(4);
    expect(r.len).toBe(4);
    expect(r.interrupted).toBe(false);
    expect(dev.msix!.pending(1)).toBe(true);
    dev.msix!.setMasked(1, false);
    expect(dev.msix!.pending(1)).toBe(false);
    expect(g.irq.count(data)).toBe(1);
  });
});
