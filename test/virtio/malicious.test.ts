// A malicious (or broken) driver, on both backends: descriptor loops, indexes past the queue,
// bad indirect tables, lengths past the end of RAM or of 32 bits, buffers and rings at addresses
// the function's IOMMU domain does not map (or maps read-only), Bus Master Enable off. The
// device must refuse without a trap (no exception out of the MMIO write, no device-model error),
// report DEVICE_NEEDS_RESET with a configuration-change interrupt or an error status
// (VIRTIO_BLK_S_IOERR) where the request type has one, touch no memory the DMA does not allow,
// and work again after a reset.
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/config/index.js';
import {
  BlkStatus, BlkType, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VirtioBlk,
  VirtioFeature, VirtioRng, VirtioType,
} from '../../src/guest/index.js';
import type { Guest } from './helpers.js';
import { BACKENDS, MiB, bootGuest, openVirtio, pattern } from './helpers.js';
import type { SplitVirtqueue, VirtioPciDevice } from '../../src/guest/index.js';

const SECTOR = 512;
const BLK_PATH = '0000:00:07.0';
const RNG_PATH = '0000:00:06.0';
const BLK = { bdf: '00:07.0', model: 'virtio-blk', options: { sizeMiB: 1 } };
const RNG = { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 3 } };
/** With the IOMMU: IOVA = GPA for the first 8 MiB (where the driver allocates), one read-only page after it, nothing else. */
const MAPPED = 8 * MiB;
const READ_ONLY_PAGE = 8 * MiB;
const UNMAPPED = 12 * MiB;
const STATUS_UNSET = 0xff;
const SENTINEL = 0x77;

interface World {
  g: Guest;
  dev: VirtioPciDevice;
  q: SplitVirtqueue;
  /** A blk header (16 bytes, device-readable) for `type` at `sector`. */
  header(type: number, sector?: number): number;
  /** A status byte, set to 0xFF. */
  status(): number;
}

interface Outcome {
  /** The status byte to look at, when the request type has one. */
  statusAt?: number;
  /** More checks once the device has had the chain (memory left alone, faults logged). */
  check?(w: World): void;
}

interface Attack {
  name: string;
  device: 'blk' | 'rng';
  iommu?: boolean;
  /** Builds the bad chain(s) and makes them available; the test then notifies. */
  build(w: World): Outcome;
}

/** Writes a chain of raw descriptors into the table, taking free descriptor indexes; returns them. */
function rawChain(q: SplitVirtqueue, descs: { addr: number; len: number; flags: number; next?: number }[]): number[] {
  const ids = descs.map(() => q.reserveDescriptor());
  descs.forEach((d, k) => q.writeDescriptor(ids[k], { ...d, next: d.next ?? (k + 1 < ids.length ? ids[k + 1] : 0) }));
  return ids;
}

/** A sentinel-filled area (to prove the device wrote nothing there). */
function sentinel(g: Guest, gpa: number, length: number): () => boolean {
  g.ram.fill(gpa, length, SENTINEL);
  return () => g.ram.view8(gpa, length).every((b) => b === SENTINEL);
}

const attacks: Attack[] = [
  {
    name: 'a descriptor loop (A -> B -> A)',
    device: 'blk',
    build: ({ q, header }) => {
      const [a, b] = rawChain(q, [{ addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT }, { addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT }]);
      q.writeDescriptor(b, { addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT, next: a });
      q.publishRaw(a);
      return {};
    },
  },
  {
    name: 'a descriptor whose NEXT points at itself',
    device: 'rng',
    build: ({ g, q }) => {
      const [a] = rawChain(q, [{ addr: g.ram.alloc(8), len: 8, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT }]);
      q.writeDescriptor(a, { addr: g.ram.alloc(8), len: 8, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, next: a });
      q.publishRaw(a);
      return {};
    },
  },
  {
    name: 'an available-ring head past the queue size',
    device: 'blk',
    build: ({ q }) => {
      q.publishRaw(q.size + 3);
      return {};
    },
  },
  {
    name: 'a NEXT index past the queue size',
    device: 'rng',
    build: ({ g, q }) => {
      const [a] = rawChain(q, [{ addr: g.ram.alloc(8), len: 8, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, next: q.size + 7 }]);
      q.writeDescriptor(a, { addr: g.ram.alloc(8), len: 8, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, next: q.size + 7 });
      q.publishRaw(a);
      return {};
    },
  },
  {
    name: 'avail.idx more than a queue ahead of the device',
    device: 'rng',
    build: ({ q }) => {
      q.advanceAvailRaw(q.size + 1);
      return {};
    },
  },
  ...[20, 0, 8].map((len): Attack => ({
    name: `an indirect table of ${len} bytes (not a positive multiple of 16)`,
    device: 'blk',
    build: ({ g, q, header, status }) => {
      const table = g.ram.alloc(64, 16);
      g.ram.setU64(table, header(BlkType.FLUSH));
      g.ram.setU32(table + 8, 16);
      g.ram.setU16(table + 12, VIRTQ_DESC_F_NEXT);
      g.ram.setU16(table + 14, 1);
      g.ram.setU64(table + 16, status());
      g.ram.setU32(table + 24, 1);
      g.ram.setU16(table + 28, VIRTQ_DESC_F_WRITE);
      const [h] = rawChain(q, [{ addr: table, len, flags: VIRTQ_DESC_F_INDIRECT }]);
      q.publishRaw(h);
      return {};
    },
  })),
  {
    name: 'a loop inside an indirect table',
    device: 'blk',
    build: ({ g, q, header }) => {
      const table = g.ram.alloc(2 * DESC_SIZE, 16);
      for (let k = 0; k < 2; k++) {
        g.ram.setU64(table + k * DESC_SIZE, header(BlkType.IN));
        g.ram.setU32(table + k * DESC_SIZE + 8, 16);
        g.ram.setU16(table + k * DESC_SIZE + 12, VIRTQ_DESC_F_NEXT);
        g.ram.setU16(table + k * DESC_SIZE + 14, 1 - k);
      }
      const [h] = rawChain(q, [{ addr: table, len: 2 * DESC_SIZE, flags: VIRTQ_DESC_F_INDIRECT }]);
      q.publishRaw(h);
      return {};
    },
  },
  {
    name: 'an indirect descriptor inside an indirect table (§2.7.5.3.1 forbids nesting)',
    device: 'blk',
    build: ({ g, q, header, status }) => {
      const inner = g.ram.alloc(2 * DESC_SIZE, 16);
      g.ram.setU64(inner, header(BlkType.FLUSH));
      g.ram.setU32(inner + 8, 16);
      g.ram.setU16(inner + 12, VIRTQ_DESC_F_NEXT);
      g.ram.setU16(inner + 14, 1);
      g.ram.setU64(inner + 16, status());
      g.ram.setU32(inner + 24, 1);
      g.ram.setU16(inner + 28, VIRTQ_DESC_F_WRITE);
      const outer = g.ram.alloc(DESC_SIZE, 16);
      g.ram.setU64(outer, inner);
      g.ram.setU32(outer + 8, 2 * DESC_SIZE);
      g.ram.setU16(outer + 12, VIRTQ_DESC_F_INDIRECT);
      const [h] = rawChain(q, [{ addr: outer, len: DESC_SIZE, flags: VIRTQ_DESC_F_INDIRECT }]);
      q.publishRaw(h);
      return {};
    },
  },
  {
    name: 'a read whose data buffer runs past the end of RAM',
    device: 'blk',
    build: ({ g, q, header, status }) => {
      const tail = g.ram.end - 256;
      const untouched = sentinel(g, tail, 256);
      const s = status();
      const [h] = rawChain(q, [
        { addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT },
        { addr: tail, len: 4096, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
        { addr: s, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return { statusAt: s, check: () => expect(untouched()).toBe(true) };
    },
  },
  {
    name: 'a write whose data buffer lies past the end of RAM',
    device: 'blk',
    build: ({ g, q, header, status }) => {
      const s = status();
      const [h] = rawChain(q, [
        { addr: header(BlkType.OUT, 4), len: 16, flags: VIRTQ_DESC_F_NEXT },
        { addr: g.ram.end + 0x10000, len: SECTOR, flags: VIRTQ_DESC_F_NEXT },
        { addr: s, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return { statusAt: s, check: ({ g: gg }) => expect((gg.bus.device(BLK_PATH) as { image: Uint8Array }).image.subarray(4 * SECTOR, 5 * SECTOR).every((b) => b === 0)).toBe(true) };
    },
  },
  {
    name: 'lengths of 0xFFFFFFFF (4 GiB buffers)',
    device: 'blk',
    build: ({ g, q, header, status }) => {
      const data = g.ram.alloc(SECTOR);
      const untouched = sentinel(g, data, SECTOR);
      const s = status();
      const [h] = rawChain(q, [
        { addr: header(BlkType.IN), len: 0xffffffff, flags: VIRTQ_DESC_F_NEXT },
        { addr: data, len: 0xffffffff, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
        { addr: s, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return { statusAt: s, check: () => expect(untouched()).toBe(true) };
    },
  },
  {
    name: 'an rng buffer of 0xFFFFFFFF bytes near the end of RAM',
    device: 'rng',
    build: ({ g, q }) => {
      const tail = g.ram.end - 4096;
      const untouched = sentinel(g, tail, 4096);
      const [h] = rawChain(q, [{ addr: tail, len: 0xffffffff, flags: VIRTQ_DESC_F_WRITE }]);
      q.publishRaw(h);
      // The device may fill what it can reach or refuse the chain; never write past RAM or throw.
      return { check: () => expect(untouched() || g.ram.view8(tail, 4096).some((b) => b !== SENTINEL)).toBe(true) };
    },
  },
  {
    name: 'a status byte at an address no RAM backs',
    device: 'blk',
    build: ({ q, header }) => {
      const [h] = rawChain(q, [
        { addr: header(BlkType.FLUSH), len: 16, flags: VIRTQ_DESC_F_NEXT },
        { addr: 2 ** 45, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return {};
    },
  },
  {
    name: 'a read into a buffer the IOMMU domain does not map',
    device: 'blk',
    iommu: true,
    build: ({ g, q, header, status }) => {
      const untouched = sentinel(g, UNMAPPED, SECTOR);
      const s = status();
      const [h] = rawChain(q, [
        { addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT },
        { addr: UNMAPPED, len: SECTOR, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
        { addr: s, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return {
        statusAt: s,
        check: ({ g: gg }) => {
          expect(untouched()).toBe(true);
          expect(gg.bus.dma.faults()).toContainEqual(expect.objectContaining({ bdf: BLK_PATH, iova: UNMAPPED, reason: 'unmapped', direction: 'write' }));
        },
      };
    },
  },
  {
    name: 'a read into a page the IOMMU domain maps read-only',
    device: 'blk',
    iommu: true,
    build: ({ g, q, header, status }) => {
      const untouched = sentinel(g, READ_ONLY_PAGE, SECTOR);
      const s = status();
      const [h] = rawChain(q, [
        { addr: header(BlkType.IN), len: 16, flags: VIRTQ_DESC_F_NEXT },
        { addr: READ_ONLY_PAGE, len: SECTOR, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT },
        { addr: s, len: 1, flags: VIRTQ_DESC_F_WRITE },
      ]);
      q.publishRaw(h);
      return {
        statusAt: s,
        check: ({ g: gg }) => {
          expect(untouched()).toBe(true);
          expect(gg.bus.dma.faults()).toContainEqual(expect.objectContaining({ bdf: BLK_PATH, reason: 'permission' }));
        },
      };
    },
  },
  {
    name: 'an indirect table at an address the IOMMU domain does not map',
    device: 'rng',
    iommu: true,
    build: ({ q }) => {
      const [h] = rawChain(q, [{ addr: UNMAPPED, len: 4 * DESC_SIZE, flags: VIRTQ_DESC_F_INDIRECT }]);
      q.publishRaw(h);
      return {};
    },
  },
];

async function world(backend: (typeof BACKENDS)[number], attack: Attack): Promise<{ w: World; reopen: () => void }> {
  const g = await bootGuest(backend, [attack.device === 'blk' ? BLK : RNG]);
  if (attack.iommu) {
    const dom = g.bus.dma.createDomain('translated');
    g.bus.dma.map(dom, { iova: 0, gpa: 0, size: MAPPED });
    g.bus.dma.map(dom, { iova: READ_ONLY_PAGE, gpa: READ_ONLY_PAGE, size: 0x1000, write: false });
    g.bus.dma.attach(attack.device === 'blk' ? BLK_PATH : RNG_PATH, dom);
  }
  const dev = openVirtio(g, attack.device === 'blk' ? VirtioType.BLOCK : VirtioType.ENTROPY);
  const features = VirtioFeature.INDIRECT_DESC;
  const open = () => (attack.device === 'blk' ? new VirtioBlk(dev, { features }).queue : new VirtioRng(dev, { features }).queue);
  const w: World = {
    g, dev, q: open(),
    header(type, sector = 0) {
      const h = g.ram.alloc(16, 16);
      g.ram.setU32(h, type);
      g.ram.setU64(h + 8, sector);
      return h;
    },
    status() {
      const s = g.ram.alloc(1, 1);
      g.ram.setU8(s, STATUS_UNSET);
      return s;
    },
  };
  return { w, reopen: () => { w.q = open(); } };
}

describe.each(BACKENDS)('a malicious driver on the %s backend', (backend) => {
  it.each(attacks)('$device: $name is refused without a trap, reported, and the device recovers after reset', async (attack) => {
    const { w, reopen } = await world(backend, attack);
    const { g, dev } = w;
    const outcome = attack.build(w);
    expect(() => dev.notify(w.q)).not.toThrow();
    expect(g.modelErrors).toEqual([]);
    // Reported: DEVICE_NEEDS_RESET with a configuration-change interrupt, or an error status.
    const status = outcome.statusAt === undefined ? undefined : g.ram.u8(outcome.statusAt);
    if (dev.needsReset) {
      expect(dev.takeConfigInterrupt(), 'a configuration change interrupt says DEVICE_NEEDS_RESET').toBe(true);
    } else if (attack.name.startsWith('an rng buffer')) {
      // Filling what a buffer holds is a legitimate answer for the entropy device.
      expect(w.q.takeAllUsed().length).toBe(1);
    } else {
      expect(status, `device status 0x${dev.status.toString(16)}, no error status`).toBe(BlkStatus.IOERR);
    }
    outcome.check?.(w);
    // A notification while the device needs a reset does nothing, and throws nothing either.
    expect(() => dev.notify(w.q)).not.toThrow();
    // Recovery: reset, initialize again, a normal request works.
    dev.reset();
    expect(dev.status).toBe(0);
    reopen();
    if (attack.device === 'blk') {
      const blk = new VirtioBlk(dev);
      expect(blk.write(1, pattern(SECTOR, 1)).status).toBe(BlkStatus.OK);
      expect(blk.read(1, SECTOR).data).toEqual(pattern(SECTOR, 1));
    } else {
      expect(new VirtioRng(dev).request(16).len).toBe(16);
    }
    expect(g.modelErrors).toEqual([]);
  });

  it('rings at addresses the IOMMU domain does not map: DEVICE_NEEDS_RESET, nothing written there', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dom = g.bus.dma.createDomain('translated');
    g.bus.dma.map(dom, { iova: 0, gpa: 0, size: MAPPED });
    g.bus.dma.attach(RNG_PATH, dom);
    const dev = openVirtio(g, VirtioType.ENTROPY);
    dev.begin();
    dev.negotiate(0n);
    dev.setupConfigVector();
    // RAM backs these addresses, but the function's domain maps nothing there.
    const untouched = sentinel(g, UNMAPPED, 4096);
    const notifyAt = dev.programQueue(0, { size: 8, desc: UNMAPPED, driver: UNMAPPED + 0x400, device: UNMAPPED + 0x800 });
    dev.driverOk();
    expect(() => g.bus.mmioWrite(notifyAt, 2, 0)).not.toThrow();
    expect(g.modelErrors).toEqual([]);
    expect(dev.needsReset).toBe(true);
    expect(dev.takeConfigInterrupt()).toBe(true);
    expect(untouched()).toBe(true);
    expect(g.bus.dma.faults()).toContainEqual(expect.objectContaining({ bdf: RNG_PATH, reason: 'unmapped' }));
    dev.reset();
    expect(new VirtioRng(dev).request(8).len).toBe(8);
  });

  it('Bus Master Enable off: the device cannot reach the rings, needs a reset, and RAM is unchanged', async () => {
    const g = await bootGuest(backend, [BLK]);
    const dev = openVirtio(g, VirtioType.BLOCK);
    const blk = new VirtioBlk(dev);
    const before = g.ram.bytes.slice();
    blk.submit({ type: BlkType.OUT, sector: 0, data: pattern(SECTOR, 2), kick: false });
    const afterSubmit = g.ram.bytes.slice();
    dev.fn.write16(0x04, dev.fn.read16(0x04) & ~Command.BUS_MASTER);
    expect(() => dev.notify(blk.queue)).not.toThrow();
    expect(g.modelErrors).toEqual([]);
    expect(dev.needsReset).toBe(true);
    expect(dev.takeConfigInterrupt()).toBe(true);
    expect(Buffer.from(g.ram.bytes).equals(Buffer.from(afterSubmit))).toBe(true);
    expect(Buffer.from(before).equals(Buffer.from(afterSubmit))).toBe(false);
    expect((g.bus.device(BLK_PATH) as { image: Uint8Array }).image.subarray(0, SECTOR).every((b) => b === 0)).toBe(true);
    expect(g.bus.dma.faults().some((f) => f.reason === 'bus-master-off')).toBe(true);
    // Bus mastering back on, reset, re-init: it works.
    dev.fn.enableMemoryAndBusMaster();
    dev.reset();
    expect(new VirtioBlk(dev).write(0, pattern(SECTOR, 2)).status).toBe(BlkStatus.OK);
  });
});
