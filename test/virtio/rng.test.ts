// virtio-rng end to end (virtio 1.2 §5.4), on both backends: the guest asks for N bytes with a
// device-writable buffer, notifies, takes the MSI-X message and the used element; the used length
// is what the device wrote; a seeded device gives the same bytes on either backend.
import { describe, expect, it } from 'vitest';
import { VirtioFeature, VirtioRng, VirtioType } from '../../src/guest/index.js';
import type { Guest } from './helpers.js';
import { BACKENDS, bootGuest, openVirtio } from './helpers.js';

const rngAt = (seed?: number) => ({ bdf: '00:06.0', model: 'virtio-rng', options: seed === undefined ? {} : { seed } });

async function seededBytes(backend: (typeof BACKENDS)[number], seed: number, sizes: number[]): Promise<Uint8Array[]> {
  const g = await bootGuest(backend, [rngAt(seed)]);
  const rng = new VirtioRng(openVirtio(g, VirtioType.ENTROPY));
  return sizes.map((n) => rng.request(n).bytes);
}

describe.each(BACKENDS)('virtio-rng on the %s backend', (backend) => {
  let g: Guest;

  it('returns the bytes asked for; the used length is the bytes written; one MSI-X message per request', async () => {
    g = await bootGuest(backend, [rngAt(1)]);
    const rng = new VirtioRng(openVirtio(g, VirtioType.ENTROPY));
    const data = rng.dev.dataOfVector(1)!;
    for (const n of [1, 3, 64, 512, 4096]) {
      const before = g.irq.count(data);
      const r = rng.request(n);
      expect(r.len).toBe(n);
      expect(r.bytes).toHaveLength(n);
      expect(r.interrupted).toBe(true);
      expect(g.irq.count(data)).toBe(before + 1);
    }
    // The bytes are not all one value (a seeded generator, not a fill).
    const big = rng.request(256).bytes;
    expect(new Set(big).size).toBeGreaterThan(100);
    expect(g.irq.strayMessages()).toBe(0);
    expect(g.modelErrors).toEqual([]);
    expect(rng.queue.outstanding).toBe(0);
  });

  it('fills a chain of several write-only buffers, direct and indirect, as one stream', async () => {
    g = await bootGuest(backend, [rngAt(2)]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    const rng = new VirtioRng(dev, { features: VirtioFeature.INDIRECT_DESC });
    expect(dev.has(VirtioFeature.INDIRECT_DESC)).toBe(true);
    for (const indirect of [false, true]) {
      const bufs = [g.ram.alloc(10), g.ram.alloc(100), g.ram.alloc(7)];
      const head = rng.queue.add(bufs.map((addr, i) => ({ addr, len: [10, 100, 7][i], write: true })), { indirect });
      dev.kick(rng.queue);
      expect(dev.takeQueueInterrupt(rng.queue)).toBe(true);
      expect(rng.queue.takeUsed()).toEqual({ id: head, len: 117 });
      expect(rng.request(1, { indirect }).len).toBe(1);
    }
    expect(g.modelErrors).toEqual([]);
  });

  it('a seeded device gives the same bytes on both backends and on every bus; another seed gives others', async () => {
    const sizes = [16, 64, 1000];
    const here = await seededBytes(backend, 42, sizes);
    const again = await seededBytes(backend, 42, sizes);
    const other = await seededBytes(backend === 'wasm' ? 'ts' : 'wasm', 42, sizes);
    const otherSeed = await seededBytes(backend, 43, sizes);
    expect(again).toEqual(here);
    expect(other).toEqual(here);
    expect(otherSeed[2]).not.toEqual(here[2]);
  });

  it('without a seed the bytes come from crypto.getRandomValues: two buses differ', async () => {
    const a = new VirtioRng(openVirtio(await bootGuest(backend, [rngAt()]), VirtioType.ENTROPY)).request(64).bytes;
    const b = new VirtioRng(openVirtio(await bootGuest(backend, [rngAt()]), VirtioType.ENTROPY)).request(64).bytes;
    expect(a).toHaveLength(64);
    expect(a).not.toEqual(b);
  });

  it('a read-only (device-readable) buffer gets nothing: used length 0, the buffer untouched', async () => {
    g = await bootGuest(backend, [rngAt(3)]);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    const rng = new VirtioRng(dev);
    const buf = g.ram.alloc(32);
    g.ram.fill(buf, 32, 0x5a);
    const head = rng.queue.add([{ addr: buf, len: 32 }]);
    dev.kick(rng.queue);
    const used = rng.queue.takeUsed();
    // §2.7.8: len counts bytes written; a device-readable buffer is not written. A device may
    // also treat the chain as an error (needs reset): either way nothing lands in the buffer.
    if (used) expect(used).toEqual({ id: head, len: 0 });
    else expect(dev.needsReset).toBe(true);
    expect(g.ram.read(buf, 32).every((b) => b === 0x5a)).toBe(true);
    expect(g.modelErrors).toEqual([]);
  });
});
