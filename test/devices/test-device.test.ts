// The 'test-device' model end to end, on both backends: a small guest driver written from the
// register map in src/devices/test-device.ts finds the function after firmware placed its BARs,
// talks to it only through config cycles and MMIO, owns its guest RAM, and learns about
// interrupts from a sink. Identification, scratch, interrupts on demand (MSI-X, MSI, INTx and its
// acknowledge), DMA in both directions with a completion interrupt, DMA faults (Bus Master Enable
// off, an unmapped IOVA in a translated IOMMU domain, outside RAM, bad lengths), reset, and the
// same RAM, registers and interrupt log on the Wasm core and the TypeScript twin.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { runFirmware } from '../../src/firmware/index.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { InterruptSink } from '../../src/interrupts/index.js';
import type { Topology } from '../../src/topology/index.js';
import type { TestDevice } from '../../src/devices/test-device.js';
import { BACKENDS, walkCaps } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

// The register map, restated from the documentation as a guest driver would.
const ID = 0x00, SCRATCH = 0x04, IRQ_RAISE = 0x08, IRQ_ACK = 0x0c, IRQ_STATUS = 0x10, IRQ_RESULT = 0x14;
const BUF_SIZE = 0x18, BUF_OFFSET = 0x1c, DMA_SRC = 0x20, DMA_DST = 0x28, DMA_LEN = 0x30, DMA_CMD = 0x34, DMA_STATUS = 0x38;
const BUFFER = 0x1000;
const START = 1, TO_RAM = 2, IRQ = 4;
const vectorBits = (v: number) => v << 8;
const DONE = 1, ERROR = 2;
const err = (code: number) => (ERROR | (code << 8)) >>> 0;
const E = { BUS_MASTER_OFF: 1, BLOCKED: 2, UNMAPPED: 3, PERMISSION: 4, OUTSIDE_RAM: 5, LENGTH: 6, BUFFER_RANGE: 7, ADDRESS: 8 };
const R = { NONE: 0, SENT: 1, PENDING: 2, INTX: 3, REFUSED: 4 };

const ON_ROOT = '00:04.0';
const BEHIND = '00:05.0/00.0';
const topology: Topology = {
  devices: [
    { bdf: '00:04.0', model: 'test-device' },
    { id: 'br', bdf: '00:05.0', model: 'pci-bridge' },
    { behind: 'br', addr: '00.0', model: 'test-device' },
  ],
};
const RAM_SIZE = 0x100000;

/** A guest: its RAM, a sink, and the driver's view of one test device. */
class Guest {
  readonly bdf: string;
  readonly bar0: number;
  readonly bar2: number;
  readonly msi: number;
  readonly msix: number;

  constructor(readonly bus: Bus, readonly path: string) {
    this.bdf = bus.addressOf(path)!;
    this.bar0 = (bus.configRead(this.bdf, 0x10, 4) & ~0xf) >>> 0;
    this.bar2 = (bus.configRead(this.bdf, 0x18, 4) & ~0xf) >>> 0;
    const caps = walkCaps(bus, this.bdf);
    this.msi = caps.find((c) => c.id === 0x05)!.offset;
    this.msix = caps.find((c) => c.id === 0x11)!.offset;
  }

  rd(off: number, size = 4): number | bigint {
    return this.bus.mmioRead(this.bar0 + off, size);
  }

  wr(off: number, value: number | bigint, size = 4): void {
    this.bus.mmioWrite(this.bar0 + off, size, value);
  }

  /** MSI-X on: entry k sends data 0x40 + k to 0xFEE00000 (unmasked unless listed). */
  enableMsix(masked: number[] = []): void {
    for (let k = 0; k < 4; k++) {
      const e = this.bar2 + 16 * k;
      this.bus.mmioWrite(e, 4, 0xfee00000);
      this.bus.mmioWrite(e + 4, 4, 0);
      this.bus.mmioWrite(e + 8, 4, 0x40 + k);
      this.bus.mmioWrite(e + 12, 4, masked.includes(k) ? 1 : 0);
    }
    this.bus.configWrite(this.bdf, this.msix + 2, 2, 0x8000);
  }

  /** MSI on (64-bit address, per-vector masking): data 0x60 to 0xFEE01000. */
  enableMsi(): void {
    this.bus.configWrite(this.bdf, this.msi + 4, 4, 0xfee01000);
    this.bus.configWrite(this.bdf, this.msi + 8, 4, 0);
    this.bus.configWrite(this.bdf, this.msi + 12, 2, 0x60);
    this.bus.configWrite(this.bdf, this.msi + 2, 2, 0x0001);
  }

  /** Starts a transfer and returns DMA_STATUS. */
  dma(o: { src: number | bigint; dst: number | bigint; len: number; toRam: boolean; irq?: number }): number {
    this.wr(DMA_SRC, BigInt(o.src), 8);
    this.wr(DMA_DST, BigInt(o.dst), 8);
    this.wr(DMA_LEN, o.len);
    this.wr(DMA_CMD, START | (o.toRam ? TO_RAM : 0) | (o.irq === undefined ? 0 : IRQ | vectorBits(o.irq)));
    return this.rd(DMA_STATUS) as number;
  }

  setBusMaster(on: boolean): void {
    const cmd = this.bus.configRead(this.bdf, 0x04, 2);
    this.bus.configWrite(this.bdf, 0x04, 2, on ? cmd | 4 : cmd & ~4);
  }
}

async function boot(backend: Backend, sink: InterruptSink = new RecordingSink()): Promise<{ bus: Bus; ram: Uint8Array }> {
  const bus = await createBus({ backend, topology, interrupts: sink });
  runFirmware(bus);
  const ram = new Uint8Array(RAM_SIZE);
  bus.dma.addRam({ base: 0, size: RAM_SIZE, buffer: ram });
  return { bus, ram };
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + (i >> 8)) & 0xff);
}

describe.each(BACKENDS)('test-device (%s)', (backend) => {
  it('identifies itself in config space and in its ID register', async () => {
    const { bus } = await boot(backend);
    for (const path of [ON_ROOT, BEHIND]) {
      const g = new Guest(bus, path);
      expect(bus.configRead(g.bdf, 0x00, 4)).toBe(0x00fe1b36);
      expect(bus.configRead(g.bdf, 0x08, 4) >>> 8).toBe(0x00ff00);
      expect(bus.configRead(g.bdf, 0x3d, 1)).toBe(1);
      expect(bus.configRead(g.bdf, g.msix + 2, 2) & 0x7ff).toBe(3);
      expect(bus.configRead(g.bdf, g.msi + 2, 2) & 0x0e).toBe(0); // one vector
      expect(g.bar0).not.toBe(0);
      expect(g.bar2).not.toBe(0);
      expect(g.rd(ID)).toBe(0x7e570100);
      expect(g.rd(BUF_SIZE)).toBe(0x1000);
      expect(g.rd(BUF_OFFSET)).toBe(BUFFER);
      expect(bus.device<TestDevice>(path)?.buffer.length).toBe(0x1000);
    }
  });

  it('answers undefined offsets and odd sizes with all ones, ignores writes to them, and never throws', async () => {
    const errors: unknown[] = [];
    const bus = await createBus({ backend, topology, interrupts: new RecordingSink(), onError: (e) => errors.push(e) });
    runFirmware(bus);
    const g = new Guest(bus, ON_ROOT);
    expect(g.rd(0x40)).toBe(0xffffffff);
    expect(g.rd(0xffc)).toBe(0xffffffff);
    expect(g.rd(ID, 2)).toBe(0xffff); // 32-bit registers take 4-byte accesses only
    expect(g.rd(ID, 8)).toBe(0xffffffffffffffffn);
    expect(g.rd(0x02)).toBe(0xffffffff); // misaligned
    expect(g.rd(IRQ_RAISE)).toBe(0);
    expect(g.rd(IRQ_ACK)).toBe(0);
    g.wr(ID, 0x12345678);
    g.wr(0x40, 0x12345678);
    expect(g.rd(ID)).toBe(0x7e570100);
    expect(g.rd(0x40)).toBe(0xffffffff);
    // 64-bit registers: 8-byte or either 4-byte half; a misaligned 8-byte access is all ones.
    g.wr(DMA_SRC, 0x1122334455667788n, 8);
    expect(g.rd(DMA_SRC, 8)).toBe(0x1122334455667788n);
    expect(g.rd(DMA_SRC)).toBe(0x55667788);
    expect(g.rd(DMA_SRC + 4)).toBe(0x11223344);
    g.wr(DMA_SRC + 4, 0xaabbccdd);
    expect(g.rd(DMA_SRC, 8)).toBe(0xaabbccdd55667788n);
    expect(g.rd(DMA_SRC + 4, 8)).toBe(0xffffffffffffffffn);
    expect(g.rd(DMA_SRC, 2)).toBe(0xffff);
    // Every offset of the register page and the ends of the buffer, every size, read and write.
    const offsets = [...Array.from({ length: 0x48 }, (_, i) => i), 0x7fc, 0xff8, 0xffc, 0xfff, 0x1000, 0x1ff8, 0x1ffc, 0x1fff];
    for (const off of offsets) {
      for (const size of [1, 2, 4, 8]) {
        g.rd(off, size);
        if (off === DMA_CMD) continue; // a transfer is exercised elsewhere
        g.wr(off, size === 8 ? 0x0102030405060708n : 0x01020304 & (2 ** (8 * Math.min(size, 4)) - 1), size);
      }
    }
    // BAR 2 outside the MSI-X table (0x00-0x3f) and PBA (0x800-0x807) reads all ones too.
    expect(bus.mmioRead(g.bar2 + 0x40, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(g.bar2 + 0x808, 8)).toBe(0xffffffffffffffffn);
    expect(bus.mmioRead(g.bar2 + 0xffc, 4)).toBe(0xffffffff);
    bus.mmioWrite(g.bar2 + 0x40, 4, 0);
    expect(bus.mmioRead(g.bar2 + 0x40, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(g.bar2 + 0x0c, 4)).toBe(1); // entry 0 Vector Control: masked at reset
    expect(bus.mmioRead(g.bar2 + 0x800, 8)).toBe(0n);
    expect(errors).toEqual([]);
    expect(bus.stats().hostErrors).toBe(0);
  });

  it('keeps a scratch value in a Wasm-native register file', async () => {
    const { bus } = await boot(backend);
    const g = new Guest(bus, ON_ROOT);
    expect(g.rd(SCRATCH)).toBe(0);
    g.wr(SCRATCH, 0xdeadbeef);
    expect(g.rd(SCRATCH)).toBe(0xdeadbeef);
    g.wr(SCRATCH + 1, 0x55, 1);
    expect(g.rd(SCRATCH)).toBe(0xdead55ef);
    expect(g.rd(SCRATCH + 2, 2)).toBe(0xdead);
    // Bytes past the register file read 0xff (the core's rule for register files).
    expect(g.rd(SCRATCH, 8)).toBe(0xffffffffdead55efn);
    const region = bus.regions().find((r) => r.kind === 'regfile' && r.base === BigInt(g.bar0 + SCRATCH));
    expect(region?.size).toBe(4n);
    // Each function has its own.
    const other = new Guest(bus, BEHIND);
    expect(other.rd(SCRATCH)).toBe(0);
  });

  it('raises MSI-X vectors from the doorbell, with pending bits for masked entries', async () => {
    const sink = new RecordingSink();
    const { bus } = await boot(backend, sink);
    const g = new Guest(bus, BEHIND);
    g.enableMsix([3]);
    sink.reset();
    g.wr(IRQ_RAISE, 2);
    expect(sink.events).toEqual([{ kind: 'message', bdf: '0000:00:05.0/00.0', address: 0xfee00000n, data: 0x42, x86: expect.anything() }]);
    expect(g.rd(IRQ_STATUS)).toBe(0b100);
    expect(g.rd(IRQ_RESULT)).toBe(R.SENT);
    g.wr(IRQ_RAISE, 0);
    expect(sink.messages('0000:00:05.0/00.0', 0x40)).toBe(1);
    expect(g.rd(IRQ_STATUS)).toBe(0b101);
    // A masked entry: its PBA bit, no message, until unmasked.
    g.wr(IRQ_RAISE, 3);
    expect(g.rd(IRQ_RESULT)).toBe(R.PENDING);
    expect(bus.mmioRead(g.bar2 + 0x800, 4)).toBe(0b1000);
    expect(sink.events).toHaveLength(2);
    bus.mmioWrite(g.bar2 + 16 * 3 + 12, 4, 0);
    expect(sink.events).toHaveLength(3);
    expect(sink.messages('0000:00:05.0/00.0', 0x43)).toBe(1);
    // Beyond the table: refused, nothing changes.
    g.wr(IRQ_RAISE, 4);
    expect(g.rd(IRQ_RESULT)).toBe(R.REFUSED);
    g.wr(IRQ_RAISE, 32);
    expect(g.rd(IRQ_RESULT)).toBe(R.REFUSED);
    expect(g.rd(IRQ_STATUS)).toBe(0b1101);
    expect(sink.events).toHaveLength(3);
    g.wr(IRQ_ACK, 0b0101);
    expect(g.rd(IRQ_STATUS)).toBe(0b1000);
    g.wr(IRQ_ACK, 0xffffffff);
    expect(g.rd(IRQ_STATUS)).toBe(0);
    expect(sink.events.every((e) => e.kind === 'message')).toBe(true);
  });

  it('falls back to MSI (one vector: every vector shares it), masked vectors pend', async () => {
    const sink = new RecordingSink();
    const { bus } = await boot(backend, sink);
    const g = new Guest(bus, ON_ROOT);
    g.enableMsi();
    sink.reset();
    g.wr(IRQ_RAISE, 3);
    expect(sink.events).toEqual([{ kind: 'message', bdf: '0000:00:04.0', address: 0xfee01000n, data: 0x60, x86: expect.anything() }]);
    expect(g.rd(IRQ_STATUS)).toBe(0b1000);
    expect(g.rd(IRQ_RESULT)).toBe(R.SENT);
    bus.configWrite(g.bdf, g.msi + 0x10, 4, 1); // mask vector 0
    g.wr(IRQ_RAISE, 0);
    expect(g.rd(IRQ_RESULT)).toBe(R.PENDING);
    expect(bus.configRead(g.bdf, g.msi + 0x14, 4)).toBe(1);
    expect(sink.events).toHaveLength(1);
    bus.configWrite(g.bdf, g.msi + 0x10, 4, 0);
    expect(sink.events).toHaveLength(2);
    // MSI-X wins when both are enabled.
    g.enableMsix();
    g.wr(IRQ_RAISE, 1);
    expect(sink.events.at(-1)).toMatchObject({ kind: 'message', data: 0x41 });
    expect(sink.assertedLines()).toEqual([]);
  });

  it('asserts INTx without MSI or MSI-X and holds it until every raised bit is acknowledged', async () => {
    const sink = new RecordingSink();
    const { bus } = await boot(backend, sink);
    const g = new Guest(bus, ON_ROOT);
    const gsi = bus.configRead(g.bdf, 0x3c, 1); // Interrupt Line, as firmware wrote it
    expect(gsi).toBe(bus.interrupts.routeOf(0, 4, 1));
    sink.reset();
    g.wr(IRQ_RAISE, 1);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }]);
    expect(g.rd(IRQ_RESULT)).toBe(R.INTX);
    expect(bus.configRead(g.bdf, 0x06, 2) & 0x08).toBe(0x08); // Status: Interrupt Status
    g.wr(IRQ_RAISE, 2);
    expect(sink.events).toHaveLength(1);
    g.wr(IRQ_ACK, 0b10);
    expect(sink.level(gsi)).toBe(true);
    expect(g.rd(IRQ_STATUS)).toBe(0b100);
    g.wr(IRQ_ACK, 0b100);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
    expect(bus.configRead(g.bdf, 0x06, 2) & 0x08).toBe(0);
    expect(g.rd(IRQ_STATUS)).toBe(0);
    // Interrupt Disable gates the line; the device's level still shows in Interrupt Status.
    bus.configWrite(g.bdf, 0x04, 2, bus.configRead(g.bdf, 0x04, 2) | 0x400);
    g.wr(IRQ_RAISE, 0);
    expect(sink.events).toHaveLength(2);
    expect(bus.configRead(g.bdf, 0x06, 2) & 0x08).toBe(0x08);
    g.wr(IRQ_ACK, 1);
    expect(bus.configRead(g.bdf, 0x06, 2) & 0x08).toBe(0);
  });

  it('moves data both ways by DMA and signals completion', async () => {
    const sink = new RecordingSink();
    const { bus, ram } = await boot(backend, sink);
    const g = new Guest(bus, BEHIND);
    const dev = bus.device<TestDevice>(BEHIND)!;
    g.enableMsix();
    sink.reset();
    const data = pattern(0x1000, 1);
    ram.set(data, 0x3000);
    // Guest RAM -> buffer: the whole 4 KiB, completion on vector 1.
    expect(g.dma({ src: 0x3000, dst: 0, len: 0x1000, toRam: false, irq: 1 })).toBe(DONE);
    expect(dev.buffer).toEqual(data);
    expect(g.rd(BUFFER + 8, 8)).toBe(new DataView(data.buffer).getBigUint64(8, true));
    expect(sink.events).toEqual([expect.objectContaining({ kind: 'message', data: 0x41 })]);
    expect(g.rd(IRQ_STATUS)).toBe(0b10);
    g.wr(IRQ_ACK, 0b10);
    // The guest edits the buffer through BAR 0, then buffer -> guest RAM, a part at an offset.
    g.wr(BUFFER + 0x100, 0xcafef00d);
    expect(g.dma({ src: 0x100, dst: 0x8010, len: 0x123, toRam: true, irq: 3 })).toBe(DONE);
    expect(ram.subarray(0x8010, 0x8010 + 0x123)).toEqual(dev.buffer.subarray(0x100, 0x223));
    expect([...ram.subarray(0x8010, 0x8014)]).toEqual([0x0d, 0xf0, 0xfe, 0xca]);
    expect(ram[0x800f]).toBe(0);
    expect(ram[0x8010 + 0x123]).toBe(0);
    expect(sink.events.at(-1)).toMatchObject({ kind: 'message', data: 0x43 });
    // A transfer without IRQ raises nothing; a zero length is done without a bus cycle.
    expect(g.dma({ src: 0, dst: 0x9000, len: 16, toRam: true })).toBe(DONE);
    expect(g.dma({ src: 0, dst: 0x9000, len: 0, toRam: true })).toBe(DONE);
    expect(sink.events).toHaveLength(2);
    expect(g.rd(DMA_CMD)).toBe(TO_RAM); // START reads 0
    expect(bus.dma.faults()).toEqual([]);
  });

  it('completes DMA with INTx when no message interrupt is enabled', async () => {
    const sink = new RecordingSink();
    const { bus, ram } = await boot(backend, sink);
    const g = new Guest(bus, ON_ROOT);
    ram.set(pattern(64, 2), 0x100);
    sink.reset();
    expect(g.dma({ src: 0x100, dst: 0x40, len: 64, toRam: false, irq: 5 })).toBe(DONE);
    expect(sink.assertedLines()).toEqual([bus.configRead(g.bdf, 0x3c, 1)]);
    expect(g.rd(IRQ_STATUS)).toBe(1 << 5);
    g.wr(IRQ_ACK, 1 << 5);
    expect(sink.assertedLines()).toEqual([]);
  });

  it('reports DMA faults in its status and copies nothing', async () => {
    const sink = new RecordingSink();
    const { bus, ram } = await boot(backend, sink);
    const g = new Guest(bus, ON_ROOT);
    const dev = bus.device<TestDevice>(ON_ROOT)!;
    g.enableMsix();
    ram.set(pattern(0x800, 3), 0x4000);
    dev.buffer.set(pattern(0x1000, 4));
    const bufferBefore = dev.buffer.slice();
    const ramBefore = ram.slice();
    const unchanged = () => {
      expect(Buffer.compare(dev.buffer, bufferBefore)).toBe(0);
      expect(Buffer.compare(ram, ramBefore)).toBe(0); // (toEqual on 1 MiB is slow)
    };

    // Bus Master Enable off: both directions refused, the completion interrupt still comes.
    g.setBusMaster(false);
    sink.reset();
    expect(g.dma({ src: 0x4000, dst: 0, len: 0x800, toRam: false, irq: 2 })).toBe(err(E.BUS_MASTER_OFF));
    expect(g.dma({ src: 0, dst: 0x4000, len: 0x800, toRam: true })).toBe(err(E.BUS_MASTER_OFF));
    expect(sink.events).toEqual([expect.objectContaining({ kind: 'message', data: 0x42 })]);
    unchanged();
    g.setBusMaster(true);

    // Outside guest RAM (identity domain).
    expect(g.dma({ src: RAM_SIZE - 8, dst: 0, len: 16, toRam: false })).toBe(err(E.OUTSIDE_RAM));
    expect(g.dma({ src: 0, dst: 0x40000000, len: 16, toRam: true })).toBe(err(E.OUTSIDE_RAM));
    unchanged();

    // The device's own checks: length, buffer range, an address at or above 2^53.
    expect(g.dma({ src: 0x4000, dst: 0, len: 0x1001, toRam: false })).toBe(err(E.LENGTH));
    expect(g.dma({ src: 0x4000, dst: 0xf00, len: 0x101, toRam: false })).toBe(err(E.BUFFER_RANGE));
    expect(g.dma({ src: 0x4000, dst: 1n << 32n, len: 1, toRam: false })).toBe(err(E.BUFFER_RANGE));
    expect(g.dma({ src: 1n << 53n, dst: 0, len: 1, toRam: false })).toBe(err(E.ADDRESS));
    unchanged();

    // A translated IOMMU domain: IOVA 0x10000 maps to GPA 0x4000 (one page); everything else faults.
    const domain = bus.dma.createDomain('translated');
    bus.dma.map(domain, { iova: 0x10000, gpa: 0x4000, size: 0x1000 });
    bus.dma.map(domain, { iova: 0x20000, gpa: 0x6000, size: 0x1000, write: false });
    bus.dma.attach(ON_ROOT, domain);
    bus.dma.faults();
    expect(g.dma({ src: 0x4000, dst: 0, len: 16, toRam: false })).toBe(err(E.UNMAPPED));
    expect(g.dma({ src: 0x10ff0, dst: 0, len: 0x20, toRam: false })).toBe(err(E.UNMAPPED)); // runs off the mapped page
    expect(g.dma({ src: 0, dst: 0x20000, len: 16, toRam: true })).toBe(err(E.PERMISSION));
    unchanged();
    expect(bus.dma.faults().map((f) => [f.bdf, f.direction, f.reason])).toEqual([
      ['0000:00:04.0', 'read', 'unmapped'], ['0000:00:04.0', 'read', 'unmapped'], ['0000:00:04.0', 'write', 'permission'],
    ]);
    // The mapped page works, through the translation.
    expect(g.dma({ src: 0x10000, dst: 0x10, len: 0x20, toRam: false })).toBe(DONE);
    expect(dev.buffer.subarray(0x10, 0x30)).toEqual(ram.subarray(0x4000, 0x4020));
    // A blocked domain.
    bus.dma.attach(ON_ROOT, bus.dma.createDomain('blocked'));
    expect(g.dma({ src: 0x10000, dst: 0, len: 4, toRam: false })).toBe(err(E.BLOCKED));
    // A new transfer clears the previous status.
    bus.dma.detach(ON_ROOT);
    expect(g.dma({ src: 0x4000, dst: 0, len: 4, toRam: false })).toBe(DONE);
  });

  it('resets its registers, buffer and INTx level on a function-level reset; scratch stays', async () => {
    const sink = new RecordingSink();
    const { bus } = await boot(backend, sink);
    const g = new Guest(bus, ON_ROOT);
    const dev = bus.device<TestDevice>(ON_ROOT)!;
    g.wr(SCRATCH, 0x1234);
    g.wr(BUFFER, 0xffffffff);
    g.wr(DMA_LEN, 99);
    g.wr(DMA_SRC, 5n, 8);
    g.wr(IRQ_RAISE, 0);
    expect(sink.assertedLines()).toHaveLength(1);
    dev.reset();
    expect(sink.assertedLines()).toEqual([]);
    for (const off of [IRQ_STATUS, IRQ_RESULT, DMA_LEN, DMA_CMD, DMA_STATUS, BUFFER]) expect(g.rd(off)).toBe(0);
    expect(g.rd(DMA_SRC, 8)).toBe(0n);
    expect(g.rd(SCRATCH)).toBe(0x1234);
  });
});

// ---- Both backends: the same guest session gives the same RAM, registers and interrupts -------

type Op =
  | { op: 'raise'; fn: number; vector: number }
  | { op: 'ack'; fn: number; mask: number }
  | { op: 'dma'; fn: number; buf: number; iova: number; len: number; toRam: boolean; irq: number | null }
  | { op: 'mmio'; fn: number; write: boolean; offset: number; size: 1 | 2 | 4 | 8; value: bigint }
  | { op: 'mode'; fn: number; mode: 'intx' | 'msi' | 'msix' }
  | { op: 'busMaster'; fn: number; on: boolean }
  | { op: 'iommu'; fn: number; translated: boolean };

const PATHS = [ON_ROOT, BEHIND];
/** Mostly inside RAM and the translated window (IOVA 0-0xffff), sometimes past either. */
const iovaArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat(0x1ffff) },
  { weight: 1, arbitrary: fc.constantFrom(0xfff0, RAM_SIZE - 4, RAM_SIZE + 8, 0x7fffff000) },
);
/** Mostly inside the buffer, sometimes running past it. */
const bufArb = fc.oneof({ weight: 6, arbitrary: fc.nat(0xe00) }, { weight: 1, arbitrary: fc.integer({ min: 0xe00, max: 0x1100 }) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('raise' as const), fn: fc.nat(1), vector: fc.oneof(fc.nat(5), fc.nat(40)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), fn: fc.nat(1), mask: fc.oneof(fc.nat(63), fc.constant(0xffffffff)) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('dma' as const), fn: fc.nat(1), buf: bufArb, iova: iovaArb,
      len: fc.oneof(fc.nat(0x200), fc.constantFrom(0, 0x1000, 0x1001)), toRam: fc.boolean(), irq: fc.option(fc.nat(5), { nil: null }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('mmio' as const), fn: fc.nat(1), write: fc.boolean(),
      offset: fc.oneof(fc.nat(0x44), fc.integer({ min: 0xff8, max: 0x1fff })),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mode' as const), fn: fc.nat(1), mode: fc.constantFrom('intx' as const, 'msi' as const, 'msix' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('busMaster' as const), fn: fc.nat(1), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('iommu' as const), fn: fc.nat(1), translated: fc.boolean() }) },
);

async function session(backend: Backend, ops: Op[]): Promise<{ log: string[]; ram: Uint8Array }> {
  const log: string[] = [];
  const sink: InterruptSink = {
    line: (gsi, level) => log.push(`line ${gsi} ${level}`),
    message: (address, data, bdf) => log.push(`message ${bdf} 0x${address.toString(16)} 0x${data.toString(16)}`),
  };
  const { bus, ram } = await boot(backend, sink);
  ram.set(pattern(RAM_SIZE, 9));
  const guests = PATHS.map((p) => new Guest(bus, p));
  const domain = bus.dma.createDomain('translated');
  bus.dma.map(domain, { iova: 0, gpa: 0x40000, size: 0x10000 });
  const show = (v: number | bigint) => `0x${v.toString(16)}`;
  for (const o of ops) {
    const g = guests[o.fn];
    switch (o.op) {
      case 'raise': g.wr(IRQ_RAISE, o.vector); break;
      case 'ack': g.wr(IRQ_ACK, o.mask); break;
      case 'dma': {
        const [src, dst] = o.toRam ? [o.buf, o.iova] : [o.iova, o.buf];
        log.push(`dma ${o.fn} -> ${show(g.dma({ src, dst, len: o.len, toRam: o.toRam, irq: o.irq ?? undefined }))}`);
        break;
      }
      case 'mmio':
        if (o.write) g.wr(o.offset, o.size === 8 ? o.value : Number(o.value % 2n ** BigInt(8 * o.size)), o.size);
        else log.push(`read ${o.fn} ${show(o.offset)}/${o.size} -> ${show(g.rd(o.offset, o.size))}`);
        break;
      case 'mode':
        bus.configWrite(g.bdf, g.msix + 2, 2, 0);
        bus.configWrite(g.bdf, g.msi + 2, 2, 0);
        if (o.mode === 'msi') g.enableMsi();
        if (o.mode === 'msix') g.enableMsix([o.fn + 2]);
        break;
      case 'busMaster': g.setBusMaster(o.on); break;
      case 'iommu': if (o.translated) bus.dma.attach(g.path, domain); else bus.dma.detach(g.path); break;
    }
  }
  for (const g of guests) {
    for (const off of [SCRATCH, IRQ_STATUS, IRQ_RESULT, DMA_LEN, DMA_CMD, DMA_STATUS]) log.push(`final ${g.path} ${show(off)} ${show(g.rd(off))}`);
    log.push(`buffer ${g.path} ${Buffer.from(bus.device<TestDevice>(g.path)!.buffer).toString('base64')}`);
  }
  log.push(`hostErrors ${bus.stats().hostErrors}`);
  log.push(...bus.dma.faults().map((f) => `fault ${f.bdf} ${show(f.iova)} ${f.length} ${f.direction} ${f.reason}`));
  return { log, ram };
}

describe('test-device on both backends', () => {
  it('a scripted session gives identical RAM and interrupt logs', async () => {
    const ops: Op[] = [
      { op: 'raise', fn: 0, vector: 1 }, { op: 'ack', fn: 0, mask: 2 },
      { op: 'dma', fn: 0, iova: 0x2000, buf: 0, len: 0x1000, toRam: false, irq: 0 },
      { op: 'dma', fn: 0, buf: 0, iova: 0x9000, len: 0x1000, toRam: true, irq: 1 },
      { op: 'mode', fn: 1, mode: 'msix' }, { op: 'raise', fn: 1, vector: 3 }, { op: 'raise', fn: 1, vector: 2 },
      { op: 'dma', fn: 1, iova: 0x10, buf: 0x20, len: 0x30, toRam: false, irq: 1 },
      { op: 'iommu', fn: 1, translated: true },
      { op: 'dma', fn: 1, buf: 0x100, iova: 0x8000, len: 0x20, toRam: true, irq: 2 },
      { op: 'dma', fn: 1, buf: 0x100, iova: 0x20000, len: 0x20, toRam: true, irq: 2 },
      { op: 'mode', fn: 0, mode: 'msi' }, { op: 'raise', fn: 0, vector: 4 }, { op: 'busMaster', fn: 0, on: false },
      { op: 'dma', fn: 0, buf: 0, iova: 0x100, len: 8, toRam: true, irq: 0 },
    ];
    const [a, b] = await Promise.all(BACKENDS.map((be) => session(be, ops)));
    expect(a.log).toEqual(b.log);
    expect(Buffer.compare(a.ram, b.ram)).toBe(0);
    expect(a.log.filter((l) => l.startsWith('line') || l.startsWith('message')).length).toBeGreaterThan(5);
    expect(a.log).toContain('hostErrors 0');
  });

  it('random guest sessions give identical RAM, registers and interrupt logs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60 }), async (ops) => {
        const [a, b] = await Promise.all(BACKENDS.map((be) => session(be, ops)));
        expect(a.log).toEqual(b.log);
        expect(Buffer.compare(a.ram, b.ram)).toBe(0);
        expect(a.log).toContain('hostErrors 0');
      }),
      { numRuns: 60 },
    );
  });
});
