// MSI (PCI 3.0 §6.8.1) and MSI-X (§6.8.2) through the Bus on both backends: the guest programs
// and unmasks through config writes and MMIO, device models signal through bus.interrupts, and the
// sink sees each message as the function would write it. INTx is suppressed while either is on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError, TopologyError } from '../../src/errors.js';
import { piixGsi } from '../../src/interrupts/index.js';
import { runFirmware } from '../../src/firmware/index.js';
import type { Topology } from '../../src/topology/index.js';
import {
  BACKENDS, BAR_BASE, CAP_MSI, CAP_MSIX, PBA, TABLE, capOffset, mapBar0, msi64, msixDescriptor, sinkBus, writeEntry,
} from './helpers.js';

const EP = '00:01.0';
const EP_PATH = '0000:00:01.0';
const MX = '00:03.0';
const MX_PATH = '0000:00:03.0';
const BIG = '00:04.0';
const BIG_BASE = 0xfd000000;

const topology: Topology = {
  devices: [
    { bdf: EP, model: 'test-endpoint' },
    { bdf: '00:02.0', descriptor: { vendorId: 0x1b36, deviceId: 0x0001, classCode: 0xff0000, interruptPin: 1, bars: [{ index: 0, kind: 'mem32', size: 0x1000 }] } },
    { bdf: MX, descriptor: msixDescriptor({ msi: true }) },
    { bdf: BIG, descriptor: msixDescriptor({ tableSize: 70 }) },
    { bdf: '00:06.0', descriptor: { vendorId: 0x1b36, deviceId: 0x0002, classCode: 0xff0000, interruptPin: 2, capabilities: [{ id: 'msi', vectors: 2, address64: false }] } },
  ],
};

async function machine(backend: 'wasm' | 'ts') {
  const m = await sinkBus(backend, topology);
  mapBar0(m.bus, MX);
  mapBar0(m.bus, BIG, BIG_BASE);
  return m;
}

const ctl = (bus: Bus, bdf: string, cap: number) => bus.configRead(bdf, cap + 2, 2);
const pba64 = (bus: Bus, base = PBA, qword = 0) => bus.mmioRead(base + qword * 8, 8);

describe.each(BACKENDS)('MSI on the %s backend', (backend) => {
  it('disabled until the guest sets MSI Enable; then each vector is the message data with its low bits replaced', async () => {
    const { bus, sink } = await machine(backend);
    const r = msi64(capOffset(bus, EP, CAP_MSI));
    expect(bus.interrupts.msi(EP, 0)).toBe('disabled');
    bus.configWrite(EP, r.addressLow, 4, 0xfee02000);
    bus.configWrite(EP, r.addressHigh, 4, 0);
    bus.configWrite(EP, r.data, 2, 0x4053);
    expect(bus.interrupts.msi(EP, 0)).toBe('disabled');
    // Multiple Message Enable 4 vectors (2), MSI Enable.
    bus.configWrite(EP, r.control, 2, (2 << 4) | 1);
    expect(sink.events).toEqual([]);
    expect(bus.interrupts.msi(EP, 2)).toBe('delivered');
    expect(bus.interrupts.msi(EP, 0)).toBe('delivered');
    expect(sink.events).toEqual([
      { kind: 'message', bdf: EP_PATH, address: 0xfee02000n, data: 0x4052, x86: expect.objectContaining({ destination: 2, vector: 0x52 }) },
      { kind: 'message', bdf: EP_PATH, address: 0xfee02000n, data: 0x4050, x86: expect.objectContaining({ vector: 0x50 }) },
    ]);
    expect(() => bus.interrupts.msi(EP, 4)).toThrow('interrupts: msi(00:01.0, vector 4): value out of range');
    // One vector enabled: the data goes out unchanged, vector 1 is out of range.
    bus.configWrite(EP, r.control, 2, 1);
    expect(bus.interrupts.msi(EP, 0)).toBe('delivered');
    expect(sink.events.at(-1)).toMatchObject({ data: 0x4053 });
    expect(() => bus.interrupts.msi(EP, 1)).toThrow(ArgumentError);
    // Multiple Message Enable above what the function supports (4): 4 vectors.
    bus.configWrite(EP, r.control, 2, (5 << 4) | 1);
    expect(bus.interrupts.msi(EP, 3)).toBe('delivered');
    expect(() => bus.interrupts.msi(EP, 4)).toThrow(ArgumentError);
    // Disabled again.
    bus.configWrite(EP, r.control, 2, 0);
    expect(bus.interrupts.msi(EP, 0)).toBe('disabled');
    expect(sink.events).toHaveLength(4);
    // A 64-bit address.
    bus.configWrite(EP, r.addressHigh, 4, 0x12);
    bus.configWrite(EP, r.control, 2, 1);
    bus.interrupts.msi(EP, 0);
    expect(sink.events.at(-1)).toMatchObject({ address: 0x12_fee02000n });
  });

  it('a masked vector becomes pending, and is delivered (once) by the config write that unmasks it', async () => {
    const { bus, sink } = await machine(backend);
    const r = msi64(capOffset(bus, EP, CAP_MSI));
    bus.configWrite(EP, r.addressLow, 4, 0xfee00000);
    bus.configWrite(EP, r.data, 2, 0x0060);
    bus.configWrite(EP, r.control, 2, (2 << 4) | 1);
    bus.configWrite(EP, r.mask, 4, 0b1010);
    expect(bus.interrupts.msi(EP, 1)).toBe('pending');
    expect(bus.interrupts.msi(EP, 3)).toBe('pending');
    expect(bus.interrupts.msi(EP, 3)).toBe('pending');
    expect(bus.interrupts.msi(EP, 0)).toBe('delivered');
    expect(bus.configRead(EP, r.pending, 4)).toBe(0b1010);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x60]);
    // Pending bits are read-only to the guest.
    bus.configWrite(EP, r.pending, 4, 0);
    expect(bus.configRead(EP, r.pending, 4)).toBe(0b1010);
    // Unmask vector 3: delivered during the write.
    bus.configWrite(EP, r.mask, 4, 0b0010);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x60, 0x63]);
    expect(bus.configRead(EP, r.pending, 4)).toBe(0b0010);
    // Unmasking while MSI is disabled delivers nothing; enabling then does.
    bus.configWrite(EP, r.control, 2, 2 << 4);
    bus.configWrite(EP, r.mask, 4, 0);
    expect(sink.events).toHaveLength(2);
    expect(bus.configRead(EP, r.pending, 4)).toBe(0b0010);
    bus.configWrite(EP, r.control, 2, (2 << 4) | 1);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x60, 0x63, 0x61]);
    expect(bus.configRead(EP, r.pending, 4)).toBe(0);
    // Several pending vectors unmasked at once go out in ascending order.
    bus.configWrite(EP, r.mask, 4, 0b1111);
    for (const k of [3, 0, 2]) bus.interrupts.msi(EP, k);
    sink.reset();
    bus.configWrite(EP, r.mask, 1, 0);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x60, 0x62, 0x63]);
  });

  it('a 32-bit MSI capability without per-vector masking: data at +8, never pending', async () => {
    const { bus, sink } = await machine(backend);
    const cap = capOffset(bus, '00:06.0', CAP_MSI);
    bus.configWrite('00:06.0', cap + 4, 4, 0xfee0f000);
    bus.configWrite('00:06.0', cap + 8, 2, 0x0071);
    bus.configWrite('00:06.0', cap + 2, 2, (1 << 4) | 1);
    expect(bus.interrupts.msi('00:06.0', 0)).toBe('delivered');
    expect(bus.interrupts.msi('00:06.0', 1)).toBe('delivered');
    expect(sink.events).toMatchObject([
      { kind: 'message', bdf: '0000:00:06.0', address: 0xfee0f000n, data: 0x70 },
      { kind: 'message', bdf: '0000:00:06.0', address: 0xfee0f000n, data: 0x71 },
    ]);
    expect(sink.messages('0000:00:06.0', 0x71)).toBe(1);
  });

  it('INTx is suppressed while MSI is enabled (the pin stays asserted in Status)', async () => {
    const { bus, sink } = await machine(backend);
    const r = msi64(capOffset(bus, EP, CAP_MSI));
    const gsi = piixGsi(1, 1);
    bus.interrupts.intx(EP, true);
    bus.configWrite(EP, r.control, 2, 1);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
    expect(bus.configRead(EP, 0x06, 2) & 0x08).toBe(0x08);
    bus.interrupts.intx(EP, false);
    bus.interrupts.intx(EP, true);
    expect(sink.events).toHaveLength(2);
    bus.configWrite(EP, r.control, 2, 0);
    expect(sink.events.at(-1)).toEqual({ kind: 'line', gsi, level: true });
  });
});

describe.each(BACKENDS)('MSI-X on the %s backend', (backend) => {
  it('the table reads as reset (every entry masked) and takes dword and qword accesses; others read all ones and write nothing', async () => {
    const { bus } = await machine(backend);
    for (let k = 0; k < 8; k++) {
      expect([0, 4, 8, 12].map((o) => bus.mmioRead(TABLE + k * 16 + o, 4))).toEqual([0, 0, 0, 1]);
      expect(bus.mmioRead(TABLE + k * 16 + 8, 8)).toBe(1n << 32n);
    }
    // Dwords.
    bus.mmioWrite(TABLE + 16, 4, 0xfee01000);
    bus.mmioWrite(TABLE + 20, 4, 0x1);
    bus.mmioWrite(TABLE + 24, 4, 0xdeadbeef);
    bus.mmioWrite(TABLE + 28, 4, 0xfffffffe);
    expect([0, 4, 8, 12].map((o) => bus.mmioRead(TABLE + 16 + o, 4))).toEqual([0xfee01000, 1, 0xdeadbeef, 0]);
    // Vector Control keeps only its mask bit.
    bus.mmioWrite(TABLE + 28, 4, 0xffffffff);
    expect(bus.mmioRead(TABLE + 28, 4)).toBe(1);
    // Qwords: address, then data + vector control.
    bus.mmioWrite(TABLE + 32, 8, 0x0000_0002_fee0_3000n);
    bus.mmioWrite(TABLE + 40, 8, 0xffff_fff0_0000_4044n);
    expect(bus.mmioRead(TABLE + 32, 8)).toBe(0x0000_0002_fee0_3000n);
    expect(bus.mmioRead(TABLE + 40, 8)).toBe(0x4044n);
    expect(bus.mmioRead(TABLE + 36, 4)).toBe(2);
    // Bytes, words, unaligned dwords and qwords: all ones, and nothing written.
    expect(bus.mmioRead(TABLE + 16, 1)).toBe(0xff);
    expect(bus.mmioRead(TABLE + 16, 2)).toBe(0xffff);
    expect(bus.mmioRead(TABLE + 18, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(TABLE + 20, 8)).toBe(0xffff_ffff_ffff_ffffn);
    bus.mmioWrite(TABLE + 16, 1, 0);
    bus.mmioWrite(TABLE + 16, 2, 0);
    bus.mmioWrite(TABLE + 18, 4, 0);
    bus.mmioWrite(TABLE + 20, 8, 0n);
    expect([0, 4, 8, 12].map((o) => bus.mmioRead(TABLE + 16 + o, 4))).toEqual([0xfee01000, 1, 0xdeadbeef, 1]);
    // The PBA reads zero and ignores writes; the BAR past the table is no MSI-X structure.
    expect(pba64(bus)).toBe(0n);
    bus.mmioWrite(PBA, 8, 0xffn);
    bus.mmioWrite(PBA, 4, 0xff);
    expect(pba64(bus)).toBe(0n);
    expect(bus.mmioRead(PBA, 2)).toBe(0xffff);
    expect(bus.mmioRead(TABLE + 8 * 16, 4)).toBe(0);
    expect(bus.regions().filter((r) => r.bdf === MX_PATH && r.kind !== 'bar').map((r) => [r.kind, r.base, r.size]))
      .toEqual([['msix-table', BigInt(TABLE), 128n], ['msix-pba', BigInt(PBA), 8n]]);
  });

  it('table accesses of every size and alignment agree with a model of the rules', async () => {
    const { bus } = await machine(backend);
    const n = 8;
    const model = new DataView(new ArrayBuffer(n * 16));
    for (let k = 0; k < n; k++) model.setUint32(k * 16 + 12, 1, true);
    const ones = (size: number) => (size === 8 ? 0xffff_ffff_ffff_ffffn : BigInt(2 ** (8 * size) - 1));
    const op = fc.record({
      write: fc.boolean(), size: fc.constantFrom(1, 2, 4, 8), offset: fc.integer({ min: 0, max: n * 16 - 1 }),
      value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    });
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      for (const o of ops) {
        const valid = (o.size === 4 && o.offset % 4 === 0) || (o.size === 8 && o.offset % 8 === 0);
        const value = o.value & ((1n << BigInt(8 * o.size)) - 1n);
        if (o.write) {
          bus.mmioWrite(TABLE + o.offset, o.size, o.size === 8 ? value : Number(value));
          if (!valid) continue;
          for (let i = 0; i < o.size / 4; i++) {
            const at = o.offset + 4 * i;
            const dword = Number((value >> BigInt(32 * i)) & 0xffffffffn);
            model.setUint32(at, at % 16 === 12 ? dword & 1 : dword, true);
          }
        } else {
          const got = BigInt(bus.mmioRead(TABLE + o.offset, o.size));
          const want = !valid ? ones(o.size)
            : o.size === 4 ? BigInt(model.getUint32(o.offset, true)) : model.getBigUint64(o.offset, true);
          expect(got, `read ${o.size} at +${o.offset}`).toBe(want);
        }
      }
      for (let at = 0; at < n * 16; at += 4) expect(bus.mmioRead(TABLE + at, 4)).toBe(model.getUint32(at, true));
    }), { numRuns: 60 });
  });

  it('a masked entry\'s signal is pending (PBA bit) and goes out when the guest unmasks the entry', async () => {
    const { bus, sink } = await machine(backend);
    const cap = capOffset(bus, MX, CAP_MSIX);
    writeEntry(bus, 2, { address: 0xfee00000, data: 0x61, masked: true });
    writeEntry(bus, 5, { address: 0xfee01000, addressHigh: 0, data: 0x65, masked: false });
    expect(bus.interrupts.msix(MX, 2)).toBe('disabled');
    expect(pba64(bus)).toBe(0n);
    bus.configWrite(MX, cap + 2, 2, 0x8000);
    expect(ctl(bus, MX, cap) & 0xc000).toBe(0x8000);
    expect(bus.interrupts.msix(MX, 2)).toBe('pending');
    expect(bus.interrupts.msix(MX, 5)).toBe('delivered');
    expect(pba64(bus)).toBe(1n << 2n);
    expect(bus.mmioRead(PBA, 4)).toBe(4);
    expect(sink.events).toEqual([{ kind: 'message', bdf: MX_PATH, address: 0xfee01000n, data: 0x65, x86: expect.objectContaining({ vector: 0x65, destination: 1 }) }]);
    // Unmask entry 2 (Vector Control dword): delivered during the MMIO write, PBA bit cleared.
    bus.mmioWrite(TABLE + 2 * 16 + 12, 4, 0);
    expect(sink.events.at(-1)).toMatchObject({ kind: 'message', address: 0xfee00000n, data: 0x61 });
    expect(sink.events).toHaveLength(2);
    expect(pba64(bus)).toBe(0n);
    // A qword write over data + vector control unmasks too (with the new data).
    bus.mmioWrite(TABLE + 2 * 16 + 12, 4, 1);
    expect(bus.interrupts.msix(MX, 2)).toBe('pending');
    bus.mmioWrite(TABLE + 2 * 16 + 8, 8, 0x0000_0000_0000_0062n);
    expect(sink.events.at(-1)).toMatchObject({ data: 0x62 });
    // Masking again, or writing 0 to an unmasked entry, sends nothing.
    bus.mmioWrite(TABLE + 2 * 16 + 12, 4, 0);
    expect(sink.events).toHaveLength(3);
    expect(() => bus.interrupts.msix(MX, 8)).toThrow('interrupts: msix(00:03.0, vector 8): value out of range (the vector is not below the MSI-X table size)');
  });

  it('Function Mask holds every vector pending; clearing it delivers them in entry order', async () => {
    const { bus, sink } = await machine(backend);
    const cap = capOffset(bus, MX, CAP_MSIX);
    for (let k = 0; k < 8; k++) writeEntry(bus, k, { address: 0xfee00000, data: 0x40 + k, masked: false });
    bus.configWrite(MX, cap + 2, 2, 0xc000);
    for (const k of [6, 1, 4]) expect(bus.interrupts.msix(MX, k)).toBe('pending');
    expect(pba64(bus)).toBe((1n << 6n) | (1n << 1n) | (1n << 4n));
    // Mask entry 4 meanwhile: it stays pending after the function mask goes.
    bus.mmioWrite(TABLE + 4 * 16 + 12, 4, 1);
    expect(sink.events).toEqual([]);
    bus.configWrite(MX, cap + 3, 1, 0x80);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x41, 0x46]);
    expect(pba64(bus)).toBe(1n << 4n);
    bus.mmioWrite(TABLE + 4 * 16 + 12, 4, 0);
    expect(sink.events.map((e) => e.kind === 'message' && e.data)).toEqual([0x41, 0x46, 0x44]);
    // Pending while disabled stays pending until MSI-X is enabled and unmasked.
    bus.configWrite(MX, cap + 2, 2, 0xc000);
    bus.interrupts.msix(MX, 7);
    bus.configWrite(MX, cap + 2, 2, 0x0000);
    expect(sink.events).toHaveLength(3);
    bus.configWrite(MX, cap + 2, 2, 0x8000);
    expect(sink.events.at(-1)).toMatchObject({ data: 0x47 });
    expect(pba64(bus)).toBe(0n);
  });

  it('a 70-entry table has a two-qword PBA', async () => {
    const { bus, sink } = await machine(backend);
    const cap = capOffset(bus, BIG, CAP_MSIX);
    expect(ctl(bus, BIG, cap) & 0x7ff).toBe(69);
    bus.configWrite(BIG, cap + 2, 2, 0x8000);
    expect(bus.interrupts.msix(BIG, 65)).toBe('pending');
    expect(bus.interrupts.msix(BIG, 3)).toBe('pending');
    expect(pba64(bus, BIG_BASE + 0x3000, 0)).toBe(1n << 3n);
    expect(pba64(bus, BIG_BASE + 0x3000, 1)).toBe(1n << 1n);
    expect(bus.mmioRead(BIG_BASE + 0x3000 + 16, 8)).toBe(0n); // past the PBA: the BAR
    writeEntry(bus, 65, { address: 0xfee00000, data: 0x99, masked: false }, BIG_BASE + 0x2000);
    expect(sink.events).toMatchObject([{ bdf: '0000:00:04.0', data: 0x99 }]);
    expect(pba64(bus, BIG_BASE + 0x3000, 1)).toBe(0n);
    expect(() => bus.interrupts.msix(BIG, 70)).toThrow(ArgumentError);
  });

  it('the table moves with its BAR and keeps its contents; firmware-assigned BARs serve it too', async () => {
    const { bus } = await machine(backend);
    writeEntry(bus, 1, { address: 0xfee0a000, data: 0x31, masked: false });
    bus.configWrite(MX, 0x10, 4, 0xfc000000);
    expect(bus.mmioRead(0xfc002000 + 16, 4)).toBe(0xfee0a000);
    expect(bus.mmioRead(0xfc002000 + 24, 4)).toBe(0x31);
    expect(bus.mmioRead(TABLE + 16, 4)).toBe(0xffffffff); // nothing there now
    bus.configWrite(MX, 0x04, 2, 0);
    expect(bus.mmioRead(0xfc002000 + 16, 4)).toBe(0xffffffff); // decode off

    const fresh = await createBus({ backend, topology });
    runFirmware(fresh);
    const base = (fresh.configRead(MX, 0x10, 4) & ~0xf) >>> 0;
    expect(base).not.toBe(0);
    expect(fresh.mmioRead(base + 0x2000 + 12, 4)).toBe(1);
    fresh.mmioWrite(base + 0x2000, 4, 0xfee00000);
    expect(fresh.mmioRead(base + 0x2000, 4)).toBe(0xfee00000);
  });

  it('INTx is suppressed while MSI-X is enabled, even with Function Mask set', async () => {
    const { bus, sink } = await machine(backend);
    const cap = capOffset(bus, MX, CAP_MSIX);
    const gsi = piixGsi(3, 1);
    bus.interrupts.intx(MX, true);
    bus.configWrite(MX, cap + 2, 2, 0xc000);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
    bus.configWrite(MX, cap + 2, 2, 0x4000);
    expect(sink.events.at(-1)).toEqual({ kind: 'line', gsi, level: true });
  });

  it('notify uses MSI-X when enabled, else MSI when enabled, else reports disabled', async () => {
    const { bus, sink } = await machine(backend);
    const msi = msi64(capOffset(bus, MX, CAP_MSI));
    const msix = capOffset(bus, MX, CAP_MSIX);
    writeEntry(bus, 0, { address: 0xfee00000, data: 0x70, masked: false });
    bus.configWrite(MX, msi.addressLow, 4, 0xfee01000);
    bus.configWrite(MX, msi.data, 2, 0x50);
    expect(bus.interrupts.notify(MX, 0)).toBe('disabled');
    expect(bus.interrupts.notify(MX, 9)).toBe('disabled');
    bus.configWrite(MX, msi.control, 2, 1);
    expect(bus.interrupts.notify(MX, 0)).toBe('delivered');
    expect(sink.events.at(-1)).toMatchObject({ address: 0xfee01000n, data: 0x50 });
    expect(() => bus.interrupts.notify(MX, 1)).toThrow('interrupts: notify(00:03.0, vector 1): value out of range');
    bus.configWrite(MX, msi.control, 2, 0);
    bus.configWrite(MX, msix + 2, 2, 0x8000);
    expect(bus.interrupts.notify(MX, 0)).toBe('delivered');
    expect(sink.events.at(-1)).toMatchObject({ address: 0xfee00000n, data: 0x70 });
    expect(bus.interrupts.notify(MX, 1)).toBe('pending');
    // A function with neither capability: nothing to signal.
    expect(bus.interrupts.notify('00:02.0', 0)).toBe('disabled');
    expect(sink.events).toHaveLength(2);
  });

  it('bad calls are ArgumentErrors naming the call, the function and the core status', async () => {
    const { bus } = await machine(backend);
    expect(() => bus.interrupts.msix(EP, 0)).toThrow('interrupts: msix(00:01.0, vector 0): not found (the function has no MSI-X capability)');
    expect(() => bus.interrupts.msi('00:02.0', 0)).toThrow('interrupts: msi(00:02.0, vector 0): not found (the function has no MSI capability)');
    expect(() => bus.interrupts.msi(EP, 1.5)).toThrow(ArgumentError);
    expect(() => bus.interrupts.msi(EP, -1)).toThrow(ArgumentError);
    expect(() => bus.interrupts.msi(EP, 2 ** 32)).toThrow(ArgumentError);
    expect(() => bus.interrupts.notify(EP, Number.NaN)).toThrow(ArgumentError);
    expect(() => bus.interrupts.msi('zz', 0)).toThrow(/^interrupts: msi: bdf: /);
  });

  it('an MSI-X table or PBA outside an implemented BAR is a TopologyError naming the field', async () => {
    const refused = async (edit: (c: { tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number }) => void) => {
      const d = msixDescriptor({ msi: true });
      edit(d.capabilities![1] as { tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number });
      const err = await createBus({ backend, topology: { devices: [{ bdf: '00:07.0', descriptor: d }] }, source: 't.json' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TopologyError);
      return (err as Error).message;
    };
    expect(await refused((c) => { c.tableOffset = 0x3f90; }))
      .toBe('t.json: devices[0].descriptor.capabilities[1].tableOffset: the MSI-X table (0x80 bytes at 0x3f90) does not fit in BAR 0 (0x4000 bytes)');
    expect(await refused((c) => { c.pbaBar = 2; }))
      .toBe('t.json: devices[0].descriptor.capabilities[1].pbaBar: the MSI-X PBA is in BAR 2, which the function does not implement');
    // A resolved topology that skipped the check: the bus refuses it when the core attaches the function.
    const resolved = (await createBus({ backend: 'ts', topology: { devices: [{ bdf: '00:07.0', descriptor: msixDescriptor() }] }, source: 't.json' })).topology;
    const cap = resolved.functions[0].planes.config.indexOf(CAP_MSIX, 0x40);
    resolved.functions[0].planes.config[cap + 4] |= 3; // table BIR 3
    const err = await createBus({ backend, topology: resolved }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as Error).message).toMatch(/^t\.json: 0000:00:07\.0: cannot attach the interrupts: .* \(the MSI-X table and PBA must each lie inside an implemented memory BAR\)$/);
  });
});

it('BAR_BASE is where the helpers map BAR0', () => {
  expect(TABLE - BAR_BASE).toBe(0x2000);
});
