// The same guest script on the Wasm core and the TypeScript twin must leave the same guest RAM,
// the same disk, the same interrupt stream (messages and line changes, in order) and the same
// DMA fault log: a fixed script touching every path (MSI-X and INTx, direct and indirect chains,
// event indexes, an error, a device that needs a reset and is re-initialized), then random
// scripts (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BlkType, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VirtioBlk, VirtioFeature, VirtioRng, VirtioType,
} from '../../src/guest/index.js';
import type { Backend, Guest } from './helpers.js';
import { bootGuest, openVirtio, pattern, sameBytes } from './helpers.js';

const SECTOR = 512;
const DEVICES = [
  { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 1234 } },
  { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 1 } },
  { id: 'rp', bdf: '00:05.0', model: 'root-port' },
  { behind: 'rp', addr: '00.0', model: 'virtio-blk', options: { sizeMiB: 1, serial: 'behind-rp' } },
];

interface Run {
  g: Guest;
  results: unknown[];
}

function image(g: Guest, path: string): Uint8Array {
  return (g.bus.device(path) as { image: Uint8Array }).image;
}

function expectSameWorld(a: Run, b: Run, disks = ['0000:00:07.0', '0000:00:05.0/00.0']): void {
  expect(a.results).toEqual(b.results);
  expect(a.g.irq.log).toEqual(b.g.irq.log);
  expect(sameBytes(a.g.ram.bytes, b.g.ram.bytes)).toBe(true);
  for (const path of disks) expect(sameBytes(image(a.g, path), image(b.g, path))).toBe(true);
  expect(a.g.bus.dma.faults()).toEqual(b.g.bus.dma.faults());
  expect(a.g.modelErrors).toEqual([]);
  expect(b.g.modelErrors).toEqual([]);
}

async function fixedScript(backend: Backend): Promise<Run> {
  const g = await bootGuest(backend, DEVICES);
  const results: unknown[] = [];
  const rng = new VirtioRng(openVirtio(g, VirtioType.ENTROPY), { features: VirtioFeature.EVENT_IDX | VirtioFeature.INDIRECT_DESC });
  const blkDev = openVirtio(g, VirtioType.BLOCK);
  let blk = new VirtioBlk(blkDev, { features: VirtioFeature.INDIRECT_DESC });
  // The disk behind the root port, driven with INTx.
  const far = new VirtioBlk(openVirtio(g, VirtioType.BLOCK, { nth: 1, msix: false }), { features: VirtioFeature.EVENT_IDX });
  results.push(rng.request(64), rng.request(100, { indirect: true }));
  results.push(blk.write(3, pattern(3 * SECTOR, 1), { segments: [5, 1000, 531] }), blk.read(2, 5 * SECTOR, { indirect: true }));
  results.push(far.write(0, pattern(2 * SECTOR, 2)), far.getId(), far.read(0, 2 * SECTOR, { segments: [512, 512] }));
  results.push(blk.read(blk.capacity, SECTOR), blk.flush());
  // A broken chain: the blk device needs a reset; the driver resets and starts over.
  const q = blk.queue;
  const a = q.reserveDescriptor();
  q.writeDescriptor(a, { addr: g.ram.alloc(16), len: 16, flags: VIRTQ_DESC_F_NEXT, next: a });
  q.publishRaw(a);
  blkDev.notify(q);
  results.push(blkDev.status, blkDev.takeConfigInterrupt());
  blkDev.reset();
  blk = new VirtioBlk(blkDev);
  results.push(blk.read(3, 3 * SECTOR), rng.request(7));
  // Interrupts off, then a batch.
  rng.queue.setInterrupts(false);
  results.push(rng.request(9));
  rng.queue.setInterrupts(true);
  const batch = [0, 1, 2].map((i) => blk.submit({ type: BlkType.OUT, sector: 100 + i, data: pattern(SECTOR, 10 + i), kick: false }));
  blkDev.notify(blk.queue);
  results.push(batch.map((p) => blk.complete(p)));
  return { g, results };
}

type Op =
  | { kind: 'rng'; n: number; indirect: boolean }
  | { kind: 'write'; sector: number; sectors: number; seed: number; cuts: number; indirect: boolean }
  | { kind: 'read'; sector: number; sectors: number; cuts: number; indirect: boolean }
  | { kind: 'flush' }
  | { kind: 'id' }
  | { kind: 'bad' };

const sectorArb = fc.oneof(fc.integer({ min: 0, max: 2047 }), fc.integer({ min: 2040, max: 2100 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('rng' as const), n: fc.integer({ min: 1, max: 3000 }), indirect: fc.boolean() }),
  fc.record({ kind: fc.constant('write' as const), sector: sectorArb, sectors: fc.integer({ min: 1, max: 8 }), seed: fc.nat(), cuts: fc.integer({ min: 1, max: 5 }), indirect: fc.boolean() }),
  fc.record({ kind: fc.constant('read' as const), sector: sectorArb, sectors: fc.integer({ min: 1, max: 8 }), cuts: fc.integer({ min: 1, max: 5 }), indirect: fc.boolean() }),
  fc.constant({ kind: 'flush' as const }),
  fc.constant({ kind: 'id' as const }),
  fc.constant({ kind: 'bad' as const }),
);

/** `total` bytes (512 or more) cut into `cuts` (1..5) segments of uneven sizes, none at a sector edge. */
function segments(total: number, cuts: number): number[] {
  const edges = [0];
  for (let i = 1; i < cuts; i++) edges.push(Math.floor((total * i) / cuts) + (i % 2 === 1 ? 3 : -5));
  edges.push(total);
  return edges.slice(1).map((e, i) => e - edges[i]);
}

async function randomScript(backend: Backend, ops: Op[], msix: boolean): Promise<Run> {
  const g = await bootGuest(backend, DEVICES.slice(0, 2));
  const results: unknown[] = [];
  const rng = new VirtioRng(openVirtio(g, VirtioType.ENTROPY, { msix }), { features: VirtioFeature.INDIRECT_DESC });
  const dev = openVirtio(g, VirtioType.BLOCK, { msix });
  const features = VirtioFeature.INDIRECT_DESC | VirtioFeature.EVENT_IDX;
  let blk = new VirtioBlk(dev, { features });
  for (const op of ops) {
    switch (op.kind) {
      case 'rng': results.push(rng.request(op.n, { indirect: op.indirect })); break;
      case 'write': results.push(blk.write(op.sector, pattern(op.sectors * SECTOR, op.seed), { segments: segments(op.sectors * SECTOR, op.cuts), indirect: op.indirect })); break;
      case 'read': results.push(blk.read(op.sector, op.sectors * SECTOR, { segments: segments(op.sectors * SECTOR, op.cuts), indirect: op.indirect })); break;
      case 'flush': results.push(blk.flush()); break;
      case 'id': results.push(blk.getId()); break;
      case 'bad': {
        const q = blk.queue;
        const a = q.reserveDescriptor();
        q.writeDescriptor(a, { addr: g.ram.alloc(16), len: 16, flags: VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, next: a });
        q.publishRaw(a);
        dev.notify(q);
        results.push(dev.status, dev.takeConfigInterrupt());
        dev.reset();
        blk = new VirtioBlk(dev, { features });
        break;
      }
    }
  }
  return { g, results };
}

describe('virtio on both backends', () => {
  it('a fixed script leaves the same RAM, disks, interrupt stream and fault log', async () => {
    const [w, t] = [await fixedScript('wasm'), await fixedScript('ts')];
    expect(w.g.irq.log.length).toBeGreaterThan(10);
    expect(w.g.irq.log.some((e) => e.kind === 'line')).toBe(true);
    expectSameWorld(w, t);
  });

  it('random scripts (MSI-X or INTx) leave the same RAM, disk, interrupt stream and results', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.boolean(), async (ops, msix) => {
        const [w, t] = [await randomScript('wasm', ops, msix), await randomScript('ts', ops, msix)];
        expectSameWorld(w, t, ['0000:00:07.0']);
      }),
      { numRuns: 40 },
    );
  });
});
