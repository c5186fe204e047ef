// virtio-blk end to end (virtio 1.2 §5.2), on both backends: writes and reads by sector through
// chains of one or many descriptors, direct and indirect; flush; GET_ID; the used length (bytes
// written: data + status); requests outside the disk fail with VIRTIO_BLK_S_IOERR and move no
// data; read-only disks refuse writes; unknown types are UNSUPP; a device behind a root port.
import { describe, expect, it } from 'vitest';
import { BlkFeature, BlkStatus, VirtioBlk, VirtioFeature, VirtioType } from '../../src/guest/index.js';
import type { TopologyDevice } from '../../src/topology/index.js';
import { BACKENDS, bootGuest, openVirtio, pattern, sameBytes } from './helpers.js';

const SECTOR = 512;
const blkAt = (options: Record<string, unknown> = { sizeMiB: 1 }): TopologyDevice => ({ bdf: '00:07.0', model: 'virtio-blk', options });
const IMAGE_PATH = '0000:00:07.0';

async function openBlk(backend: (typeof BACKENDS)[number], devices: TopologyDevice[] = [blkAt()], features?: bigint) {
  const g = await bootGuest(backend, devices);
  const blk = new VirtioBlk(openVirtio(g, VirtioType.BLOCK), features === undefined ? {} : { features });
  return { g, blk };
}

function imageOf(g: { bus: { device: (p: string) => unknown } }, path = IMAGE_PATH): Uint8Array {
  return (g.bus.device(path) as { image: Uint8Array }).image;
}

describe.each(BACKENDS)('virtio-blk on the %s backend', (backend) => {
  it('reports capacity in 512-byte sectors, blk_size 512 and seg_max; negotiates FLUSH, BLK_SIZE, SEG_MAX', async () => {
    const { blk } = await openBlk(backend, [blkAt({ sizeMiB: 3 })]);
    expect(blk.capacity).toBe((3 << 20) / SECTOR);
    expect(blk.blkSize).toBe(512);
    expect(blk.segMax).toBeGreaterThanOrEqual(1);
    expect(blk.readOnly).toBe(false);
    expect(blk.dev.has(BlkFeature.FLUSH | BlkFeature.BLK_SIZE | BlkFeature.SEG_MAX)).toBe(true);
  });

  it('writes a pattern over sector boundaries and reads it back; the disk holds it at sector * 512', async () => {
    const { g, blk } = await openBlk(backend);
    const data = pattern(3 * SECTOR, 1);
    const w = blk.write(5, data);
    expect(w).toMatchObject({ status: BlkStatus.OK, usedLen: 1, interrupted: true });
    expect(sameBytes(imageOf(g).subarray(5 * SECTOR, 8 * SECTOR), data)).toBe(true);
    // Neighbours untouched.
    expect(imageOf(g)[5 * SECTOR - 1]).toBe(0);
    expect(imageOf(g)[8 * SECTOR]).toBe(0);
    // A read that starts a sector earlier and ends a sector later sees zeros around the pattern.
    const r = blk.read(4, 5 * SECTOR);
    expect(r.status).toBe(BlkStatus.OK);
    expect(r.usedLen).toBe(5 * SECTOR + 1);
    expect(sameBytes(r.data!.subarray(SECTOR, 4 * SECTOR), data)).toBe(true);
    expect(r.data!.subarray(0, SECTOR).every((b) => b === 0)).toBe(true);
    expect(g.modelErrors).toEqual([]);
  });

  it('splits data over many descriptors that cut sectors anywhere, direct and indirect, and gets the same bytes', async () => {
    const { g, blk } = await openBlk(backend, [blkAt()], BlkFeature.SEG_MAX | VirtioFeature.INDIRECT_DESC);
    expect(blk.dev.has(VirtioFeature.INDIRECT_DESC)).toBe(true);
    const data = pattern(4 * SECTOR, 2);
    const cuts = [1, 100, 411, 600, 3, 933];
    expect(cuts.reduce((a, b) => a + b)).toBe(4 * SECTOR);
    expect(blk.write(10, data, { segments: cuts }).status).toBe(BlkStatus.OK);
    expect(sameBytes(imageOf(g).subarray(10 * SECTOR, 14 * SECTOR), data)).toBe(true);
    const data2 = pattern(4 * SECTOR, 3);
    expect(blk.write(20, data2, { segments: [SECTOR + 1, 2 * SECTOR - 2, SECTOR + 1], indirect: true }).status).toBe(BlkStatus.OK);
    expect(sameBytes(imageOf(g).subarray(20 * SECTOR, 24 * SECTOR), data2)).toBe(true);
    for (const indirect of [false, true]) {
      const a = blk.read(10, 4 * SECTOR, { segments: [7, 2041], indirect });
      expect(a.status).toBe(BlkStatus.OK);
      expect(sameBytes(a.data!, data)).toBe(true);
      const b = blk.read(20, 4 * SECTOR, { segments: Array(16).fill(128), indirect });
      expect(b.usedLen).toBe(4 * SECTOR + 1);
      expect(sameBytes(b.data!, data2)).toBe(true);
    }
    expect(g.modelErrors).toEqual([]);
  });

  it('flush completes with OK; GET_ID answers the 20-byte serial, NUL-padded (default "vpci-blk")', async () => {
    const { blk } = await openBlk(backend);
    expect(blk.flush()).toMatchObject({ status: BlkStatus.OK, usedLen: 1 });
    const id = blk.getId();
    expect(id).toMatchObject({ status: BlkStatus.OK, usedLen: 21, id: 'vpci-blk' });
    expect(id.data!.subarray(8).every((b) => b === 0)).toBe(true);
    const named = (await openBlk(backend, [blkAt({ sizeMiB: 1, serial: 'disk-0123456789abcde' })])).blk.getId();
    expect(named.id).toBe('disk-0123456789abcde');
    expect(named.data).toHaveLength(20);
  });

  it('a request outside the disk fails with IOERR and moves no data (before, across and far past the end)', async () => {
    const { g, blk } = await openBlk(backend);
    const image = imageOf(g);
    image.fill(0x11);
    const cap = blk.capacity;
    for (const [sector, sectors] of [[cap, 1], [cap - 1, 2], [cap + 1000, 1], [2 ** 40, 1], [2 ** 52, 1]] as const) {
      const r = blk.read(sector, sectors * SECTOR, { fill: 0xa5 });
      expect(r.status, `read sector ${sector}`).toBe(BlkStatus.IOERR);
      expect(r.usedLen).toBe(1); // only the status byte was written
      expect(r.data!.every((b) => b === 0xa5)).toBe(true);
      const w = blk.write(sector, pattern(sectors * SECTOR, 9));
      expect(w.status, `write sector ${sector}`).toBe(BlkStatus.IOERR);
    }
    expect(image.every((b) => b === 0x11)).toBe(true);
    // The last sector itself is fine.
    expect(blk.write(cap - 1, pattern(SECTOR, 4)).status).toBe(BlkStatus.OK);
    expect(g.modelErrors).toEqual([]);
  });

  it('a read-only disk offers VIRTIO_BLK_F_RO, serves reads, and fails writes with IOERR without writing (§5.2.6.2)', async () => {
    const image = pattern(64 * SECTOR, 5);
    const copy = image.slice();
    const { g, blk } = await openBlk(backend, [blkAt({ image, readOnly: true })]);
    expect(blk.readOnly).toBe(true);
    expect(blk.capacity).toBe(64);
    expect(imageOf(g)).toBe(image); // the embedder's bytes, in place
    const r = blk.read(3, 2 * SECTOR);
    expect(r.status).toBe(BlkStatus.OK);
    expect(sameBytes(r.data!, copy.subarray(3 * SECTOR, 5 * SECTOR))).toBe(true);
    expect(blk.write(3, new Uint8Array(SECTOR)).status).toBe(BlkStatus.IOERR);
    expect(sameBytes(image, copy)).toBe(true);
  });

  it('an unknown request type is VIRTIO_BLK_S_UNSUPP', async () => {
    const { blk } = await openBlk(backend);
    const r = blk.complete(blk.submit({ type: 0x55, sector: 0, length: SECTOR }));
    expect(r.status).toBe(BlkStatus.UNSUPP);
  });

  it('serves a batch of chains made available before one notification', async () => {
    const { g, blk } = await openBlk(backend);
    const writes = Array.from({ length: 8 }, (_, i) => blk.submit({ type: 1, sector: i * 2, data: pattern(SECTOR, 100 + i), kick: false }));
    blk.dev.notify(blk.queue);
    expect(blk.poll()).toBe(8);
    expect(blk.interrupts).toBeGreaterThanOrEqual(1);
    for (const [i, p] of writes.entries()) {
      expect(blk.complete(p).status).toBe(BlkStatus.OK);
      expect(sameBytes(imageOf(g).subarray(i * 2 * SECTOR, (i * 2 + 1) * SECTOR), pattern(SECTOR, 100 + i))).toBe(true);
    }
    expect(blk.queue.outstanding).toBe(0);
    expect(blk.queue.numFree).toBe(blk.queue.size);
  });

  it('works behind a PCIe root port: found below the bridge, BARs in its window, DMA upstream through it', async () => {
    const { g, blk } = await openBlk(backend, [
      { id: 'rp', bdf: '00:05.0', model: 'root-port' },
      { behind: 'rp', addr: '00.0', model: 'virtio-blk', options: { sizeMiB: 1 } },
    ]);
    expect(blk.dev.fn.bdf).toBe('0000:01:00.0');
    const data = pattern(2 * SECTOR, 6);
    expect(blk.write(7, data, { segments: [600, 424] }).status).toBe(BlkStatus.OK);
    expect(sameBytes(blk.read(7, 2 * SECTOR).data!, data)).toBe(true);
    expect(sameBytes(imageOf(g, '0000:00:05.0/00.0').subarray(7 * SECTOR, 9 * SECTOR), data)).toBe(true);
    expect(g.irq.log.filter((e) => e.kind === 'message').every((e) => e.kind === 'message' && e.bdf === '0000:00:05.0/00.0')).toBe(true);
    expect(g.modelErrors).toEqual([]);
  });
});
