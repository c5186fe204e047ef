// virtio-blk requests (virtio 1.2 §5.2.6) on both backends: IN/OUT against the disk bytes,
// FLUSH, GET_ID, unsupported types, the capacity bound, read-only disks, a header split over
// descriptors, an image the embedder owns, malformed requests, and option validation.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { VirtioBlkInstance } from '../../src/devices/virtio/index.js';
import { BACKENDS, Driver, F, NEXT, RAM_SIZE, S, WRITE, virtioBus } from './helpers.js';
import type { Backend, Ring } from './helpers.js';

const V1 = 1n << BigInt(F.VERSION_1);
const HDR = 0x100000;
const DATA = 0x101000;
const STATUS = 0x180000;

async function blk(backend: Backend, options: Record<string, unknown> = { sizeMiB: 1 }) {
  const { bus, sink, ram } = await virtioBus(backend, [{ bdf: '00:07.0', model: 'virtio-blk', options }]);
  const d = new Driver(bus, '00:07.0', ram);
  const ring = d.start(V1, { size: 16 });
  return { bus, sink, ram, d, ring, dev: bus.device<VirtioBlkInstance>('00:07.0')! };
}

/** One request as three descriptors: header (readable), data (either way), status (writable). */
function request(ring: Ring, ram: Uint8Array, type: number, sector: number, data: { len: number; write?: boolean } | null, head = 0): void {
  const v = new DataView(ram.buffer);
  v.setUint32(HDR, type, true);
  v.setUint32(HDR + 4, 0, true);
  v.setBigUint64(HDR + 8, BigInt(sector), true);
  ram[STATUS] = 0xff;
  ring.setDesc(head, { addr: HDR, len: 16, flags: NEXT, next: head + 1 });
  if (data) {
    ring.setDesc(head + 1, { addr: DATA, len: data.len, flags: NEXT | (data.write ? WRITE : 0), next: head + 2 });
    ring.setDesc(head + 2, { addr: STATUS, len: 1, flags: WRITE });
  } else {
    ring.setDesc(head + 1, { addr: STATUS, len: 1, flags: WRITE });
  }
  ring.offer(head);
}

describe.each(BACKENDS)('virtio-blk (%s)', (backend) => {
  it('OUT writes the disk, IN reads it back; used lengths count the bytes written to the driver', async () => {
    const { ram, d, ring, dev } = await blk(backend);
    for (let i = 0; i < 1024; i++) ram[DATA + i] = (i * 7) & 0xff;
    request(ring, ram, 1, 3, { len: 1024 });
    d.kick();
    expect(ram[STATUS]).toBe(0);
    expect(ring.usedElem(0)).toEqual({ id: 0, len: 1 });
    expect(Array.from(dev.image.subarray(3 * 512, 3 * 512 + 1024))).toEqual(Array.from(ram.subarray(DATA, DATA + 1024)));
    ram.fill(0, DATA, DATA + 1024);
    request(ring, ram, 0, 4, { len: 512, write: true });
    d.kick();
    expect(ram[STATUS]).toBe(0);
    expect(ring.usedElem(1)).toEqual({ id: 0, len: 513 });
    expect(Array.from(ram.subarray(DATA, DATA + 512))).toEqual(Array.from(dev.image.subarray(4 * 512, 5 * 512)));
  });

  it('requests past the capacity, or not whole sectors, fail with IOERR and move nothing', async () => {
    const { ram, d, ring, dev } = await blk(backend);
    const sectors = 2048;
    ram.fill(0xaa, DATA, DATA + 1024);
    request(ring, ram, 1, sectors - 1, { len: 1024 });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    expect(dev.image.every((b) => b === 0)).toBe(true);
    request(ring, ram, 0, sectors, { len: 512, write: true });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    expect(ram[DATA]).toBe(0xaa);
    request(ring, ram, 1, 0, { len: 100 });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    request(ring, ram, 0, 2 ** 60, { len: 512, write: true });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    expect(ring.usedElem(3)).toEqual({ id: 0, len: 1 });
    expect(d.status & S.NEEDS_RESET).toBe(0);
  });

  it('FLUSH is OK, GET_ID returns the serial NUL-padded to 20 bytes, unknown types are UNSUPP', async () => {
    const { ram, d, ring } = await blk(backend, { sizeMiB: 1, serial: 'disk-0' });
    request(ring, ram, 4, 0, null);
    d.kick();
    expect(ram[STATUS]).toBe(0);
    ram.fill(0xee, DATA, DATA + 32);
    request(ring, ram, 8, 0, { len: 32, write: true });
    d.kick();
    expect(ram[STATUS]).toBe(0);
    expect(new TextDecoder().decode(ram.subarray(DATA, DATA + 6))).toBe('disk-0');
    expect(ram.subarray(DATA + 6, DATA + 20).every((b) => b === 0)).toBe(true);
    expect(ram[DATA + 20]).toBe(0xee);
    expect(ring.usedElem(1)).toEqual({ id: 0, len: 21 });
    request(ring, ram, 11, 0, null);
    d.kick();
    expect(ram[STATUS]).toBe(2);
  });

  it('a read-only disk offers VIRTIO_BLK_F_RO and fails writes with IOERR; reads work', async () => {
    const image = new Uint8Array(4096).fill(0x5a);
    const { ram, d, ring } = await blk(backend, { image, readOnly: true });
    expect(d.deviceFeatures() & (1n << 5n)).toBe(1n << 5n);
    ram.fill(1, DATA, DATA + 512);
    request(ring, ram, 1, 0, { len: 512 });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    expect(image.every((b) => b === 0x5a)).toBe(true);
    request(ring, ram, 0, 7, { len: 512, write: true });
    d.kick();
    expect(ram[STATUS]).toBe(0);
    expect(ram[DATA]).toBe(0x5a);
  });

  it('a given image is the disk: the instance exposes the same bytes; capacity follows its length', async () => {
    const image = new Uint8Array(8192);
    const { ram, d, ring, dev } = await blk(backend, { image: image.buffer });
    expect(d.bus.mmioRead(d.device, 4)).toBe(16);
    ram.fill(9, DATA, DATA + 512);
    request(ring, ram, 1, 15, { len: 512 });
    d.kick();
    expect(image[15 * 512]).toBe(9);
    expect(dev.image.buffer).toBe(image.buffer);
  });

  it('the header and data may be cut into descriptors any way (message framing)', async () => {
    const { ram, d, ring, dev } = await blk(backend);
    dev.image.fill(0x33, 512, 1024);
    const v = new DataView(ram.buffer);
    v.setUint32(HDR, 0, true);
    v.setBigUint64(HDR + 8, 1n, true);
    ring.setDesc(0, { addr: HDR, len: 5, flags: NEXT, next: 1 });
    ring.setDesc(1, { addr: HDR + 5, len: 11, flags: NEXT, next: 2 });
    ring.setDesc(2, { addr: DATA, len: 300, flags: WRITE | NEXT, next: 3 });
    // The last writable descriptor carries data and the status byte together.
    ring.setDesc(3, { addr: DATA + 0x400, len: 213, flags: WRITE });
    ring.offer(0);
    d.kick();
    expect(ram[DATA + 0x400 + 212]).toBe(0);
    expect(ram.subarray(DATA, DATA + 300).every((b) => b === 0x33)).toBe(true);
    expect(ram.subarray(DATA + 0x400, DATA + 0x400 + 212).every((b) => b === 0x33)).toBe(true);
    expect(ring.usedElem(0)).toEqual({ id: 0, len: 513 });
  });

  it('a data buffer outside guest RAM: IOERR, the request completes, no reset', async () => {
    const { bus, ram, d, ring } = await blk(backend);
    request(ring, ram, 0, 0, { len: 512, write: true });
    ring.setDesc(1, { addr: RAM_SIZE - 256, len: 512, flags: WRITE | NEXT, next: 2 });
    d.kick();
    expect(ram[STATUS]).toBe(1);
    expect(d.status & S.NEEDS_RESET).toBe(0);
    expect(bus.stats().hostErrors).toBe(0);
  });

  it('a request without a full header or without a status byte makes the device need a reset', async () => {
    for (const build of [
      (ring: Ring) => ring.setDesc(0, { addr: HDR, len: 8, flags: NEXT, next: 1 }),
      (ring: Ring) => ring.setDesc(0, { addr: HDR, len: 16 }),
    ]) {
      const { ram, d, ring, dev } = await blk(backend);
      request(ring, ram, 0, 0, null);
      build(ring);
      d.kick();
      expect(d.status & S.NEEDS_RESET).toBe(S.NEEDS_RESET);
      expect(dev.transport.needsResetReason).toMatch(/header|status byte/);
      expect(ring.usedIdx).toBe(0);
    }
  });
});

describe('virtio-blk and virtio-rng options', () => {
  const make = (model: string, options: Record<string, unknown>) =>
    createBus({ backend: 'ts', topology: { devices: [{ bdf: '00:07.0', model, options }] } });

  it('are validated with the option named', async () => {
    await expect(make('virtio-blk', { image: new Uint8Array(1000) })).rejects.toThrow('options.image: byteLength 1000 is not a multiple of 512');
    await expect(make('virtio-blk', { image: new Uint8Array(0) })).rejects.toThrow('options.image');
    await expect(make('virtio-blk', { image: [1, 2] })).rejects.toThrow('options.image');
    await expect(make('virtio-blk', { sizeMiB: 0 })).rejects.toThrow('options.sizeMiB');
    await expect(make('virtio-blk', { sizeMiB: 1.5 })).rejects.toThrow('options.sizeMiB');
    await expect(make('virtio-blk', { sizeMiB: 1, image: new Uint8Array(512) })).rejects.toThrow('options.sizeMiB: give sizeMiB or image, not both');
    await expect(make('virtio-blk', { readOnly: 'yes' })).rejects.toThrow('options.readOnly');
    await expect(make('virtio-blk', { serial: 'x'.repeat(21) })).rejects.toThrow('options.serial');
    await expect(make('virtio-blk', { cache: true })).rejects.toThrow('options.cache');
    await expect(make('virtio-rng', { seed: -1 })).rejects.toThrow('options.seed');
    await expect(make('virtio-rng', { seed: 'abc' })).rejects.toThrow('options.seed');
  });

  it('work from a topology file with JSON numbers and "0x" strings', async () => {
    const bus = await createBus({
      backend: 'ts',
      topology: JSON.stringify({ devices: [{ bdf: '00:06.0', model: 'virtio-rng', options: { seed: '0x2a' } }, { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 2, serial: 'a' } }] }),
    });
    expect(bus.device<VirtioBlkInstance>('00:07.0')!.image.length).toBe(2 << 20);
    expect(bus.device('00:06.0')).toBeDefined();
  });
});
