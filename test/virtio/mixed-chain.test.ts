// A chain of direct descriptors that ends in one indirect descriptor is legal (virtio 1.2
// §2.7.5.3.1 forbids only INDIRECT with NEXT, and nesting): the device follows it, the table's
// buffers after the direct ones.
import { describe, expect, it } from 'vitest';
import { BlkType, VirtioBlk, VirtioFeature, VirtioType, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../src/guest/index.js';
import { BACKENDS, bootGuest, openVirtio, pattern } from './helpers.js';

describe.each(BACKENDS)('a direct chain ending in an indirect table (%s backend)', (backend) => {
  it('reads a sector into the table\'s buffers; the status byte is OK', async () => {
    const g = await bootGuest(backend, [{ bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 1 } }]);
    const blk = new VirtioBlk(openVirtio(g, VirtioType.BLOCK), { features: VirtioFeature.INDIRECT_DESC });
    const image = (g.bus.device('00:07.0') as { image: Uint8Array }).image;
    image.set(pattern(512, 9), 3 * 512);
    const ram = g.ram;
    // Header (device-readable) as a direct descriptor, then one indirect descriptor whose table
    // holds the data buffer and the status byte (device-writable).
    const header = ram.alloc(16, 16);
    ram.write(header, Uint8Array.from([BlkType.IN, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]));
    const data = ram.alloc(512, 64);
    const status = ram.alloc(1, 1);
    ram.write(status, Uint8Array.of(0xff));
    const table = ram.alloc(32, 16);
    const desc = (addr: number, len: number, flags: number, next: number) => {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      v.setUint32(0, addr, true);
      v.setUint32(8, len, true);
      v.setUint16(12, flags, true);
      v.setUint16(14, next, true);
      return b;
    };
    ram.write(table, desc(data, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1));
    ram.write(table + 16, desc(status, 1, VIRTQ_DESC_F_WRITE, 0));
    const q = blk.queue;
    const a = q.reserveDescriptor();
    const b = q.reserveDescriptor();
    q.writeDescriptor(a, { addr: header, len: 16, flags: VIRTQ_DESC_F_NEXT, next: b });
    q.writeDescriptor(b, { addr: table, len: 32, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    q.publishRaw(a);
    blk.dev.notify(q);
    const used = q.takeUsed();
    expect(used).toEqual({ id: a, len: 513 });
    expect(blk.dev.needsReset).toBe(false);
    expect(ram.view8(status, 1)[0]).toBe(0);
    expect(Array.from(ram.view8(data, 512))).toEqual(Array.from(pattern(512, 9)));
  });
});
