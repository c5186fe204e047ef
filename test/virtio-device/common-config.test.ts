// The common configuration structure (virtio 1.2 §4.1.4.3) over MMIO on both backends: feature
// words, queue selection and setup, MSI-X vector mapping, access widths, FEATURES_OK
// negotiation, sticky status bits and reset.
import { describe, expect, it } from 'vitest';
import { BACKENDS, C, Driver, F, S, virtioBus } from './helpers.js';
import type { Backend } from './helpers.js';

const bit = (n: number) => 1n << BigInt(n);

async function blk(backend: Backend, options: Record<string, unknown> = { sizeMiB: 1 }) {
  const { bus, sink, ram } = await virtioBus(backend, [{ bdf: '00:07.0', model: 'virtio-blk', options }]);
  return { bus, sink, ram, d: new Driver(bus, '00:07.0', ram) };
}

describe.each(BACKENDS)('virtio common configuration (%s)', (backend) => {
  it('device_feature pages: ring features and blk bits in word 0, VERSION_1 and ACCESS_PLATFORM in word 1, nothing beyond', async () => {
    const { d } = await blk(backend);
    const f = d.deviceFeatures();
    expect(f).toBe(bit(F.VERSION_1) | bit(33) | bit(F.INDIRECT) | bit(F.EVENT_IDX) | bit(2) | bit(6) | bit(9));
    d.w(C.DFSELECT, 4, 2);
    expect(d.r(C.DF, 4)).toBe(0);
    expect(d.r(C.DFSELECT, 4)).toBe(2);
    const ro = await blk(backend, { sizeMiB: 1, readOnly: true });
    expect(ro.d.deviceFeatures() & bit(5)).toBe(bit(5));
    // device_feature is read-only.
    d.w(C.DFSELECT, 4, 0);
    d.w(C.DF, 4, 0);
    expect(d.r(C.DF, 4)).not.toBe(0);
  });

  it('num_queues, queue_size maximum, queue_notify_off; a queue that does not exist reads size 0 and ignores writes', async () => {
    const { d } = await blk(backend);
    expect(d.r(C.NUMQ, 2)).toBe(1);
    expect(d.r(C.Q_SELECT, 2)).toBe(0);
    expect(d.r(C.Q_SIZE, 2)).toBe(256);
    expect(d.r(C.Q_NOFF, 2)).toBe(0);
    expect(d.r(C.Q_MSIX, 2)).toBe(0xffff);
    d.w(C.Q_SELECT, 2, 1);
    expect(d.r(C.Q_SIZE, 2)).toBe(0);
    d.w(C.Q_SIZE, 2, 8);
    d.w(C.Q_DESC, 4, 0x1000);
    expect(d.r(C.Q_SIZE, 2)).toBe(0);
    expect(d.r(C.Q_DESC, 4)).toBe(0);
    expect(d.r(C.Q_ENABLE, 2)).toBe(0);
  });

  it('queue_size takes powers of two up to the maximum and ignores anything else', async () => {
    const { d } = await blk(backend);
    for (const [write, read] of [[64, 64], [100, 64], [512, 64], [0, 64], [1, 1], [256, 256]] as const) {
      d.w(C.Q_SIZE, 2, write);
      expect(d.r(C.Q_SIZE, 2)).toBe(read);
    }
  });

  it('queue addresses take 64-bit, 32-bit-halves and byte writes, and read back at every width', async () => {
    const { d } = await blk(backend);
    d.w(C.Q_DESC, 8, 0x1234_5678_9abc_def0n);
    expect(d.r(C.Q_DESC, 4)).toBe(0x9abcdef0);
    expect(d.r(C.Q_DESC + 4, 4)).toBe(0x12345678);
    expect(d.bus.mmioRead(d.common + C.Q_DESC, 8)).toBe(0x1234_5678_9abc_def0n);
    d.w(C.Q_DRIVER, 4, 0xdead0000);
    d.w(C.Q_DRIVER + 4, 4, 0x1);
    expect(d.bus.mmioRead(d.common + C.Q_DRIVER, 8)).toBe(0x1_dead0000n);
    d.w(C.Q_DEVICE + 1, 1, 0x42);
    expect(d.r(C.Q_DEVICE, 4)).toBe(0x4200);
    expect(d.r(C.Q_DEVICE + 1, 2)).toBe(0x0042);
  });

  it('MSI-X vectors the table has are kept; others read back as NO_VECTOR (§4.1.5.1.2)', async () => {
    const { d } = await blk(backend);
    for (const [write, read] of [[0, 0], [1, 1], [2, 0xffff], [0x7ff, 0xffff], [0xffff, 0xffff]] as const) {
      d.w(C.MSIX, 2, write);
      expect(d.r(C.MSIX, 2)).toBe(read);
      d.w(C.Q_MSIX, 2, write);
      expect(d.r(C.Q_MSIX, 2)).toBe(read);
    }
  });

  it('FEATURES_OK is refused without VERSION_1 and with a bit not offered; accepted features are then frozen', async () => {
    const { d } = await blk(backend);
    expect(d.negotiate(bit(F.EVENT_IDX))).toBe(false);
    expect(d.status).toBe(S.ACK | S.DRIVER);
    expect(d.negotiate(bit(F.VERSION_1) | bit(34))).toBe(false);
    expect(d.negotiate(bit(F.VERSION_1) | bit(F.EVENT_IDX))).toBe(true);
    expect(d.status).toBe(S.ACK | S.DRIVER | S.FEATURES_OK);
    d.w(C.GFSELECT, 4, 0);
    d.w(C.GF, 4, 0xffffffff);
    expect(d.r(C.GF, 4)).toBe(1 << F.EVENT_IDX);
    d.w(C.GFSELECT, 4, 1);
    expect(d.r(C.GF, 4)).toBe(1);
  });

  it('a refused FEATURES_OK can be retried after fixing the features; status bits are sticky and NEEDS_RESET is the device\'s', async () => {
    const { d } = await blk(backend);
    d.status = 0;
    d.status = S.ACK | S.DRIVER;
    d.writeDriverFeatures(0n);
    d.status = S.ACK | S.DRIVER | S.FEATURES_OK;
    expect(d.status & S.FEATURES_OK).toBe(0);
    d.writeDriverFeatures(bit(F.VERSION_1));
    d.status = S.ACK | S.DRIVER | S.FEATURES_OK;
    expect(d.status & S.FEATURES_OK).toBe(S.FEATURES_OK);
    d.status = S.ACK;
    expect(d.status).toBe(S.ACK | S.DRIVER | S.FEATURES_OK);
    d.status = S.ACK | S.NEEDS_RESET;
    expect(d.status & S.NEEDS_RESET).toBe(0);
  });

  it('writing 0 to device_status resets features, queues, vectors and selectors; status reads 0', async () => {
    const { d } = await blk(backend);
    d.start(bit(F.VERSION_1) | bit(F.EVENT_IDX), { size: 32, vector: 1 });
    d.w(C.MSIX, 2, 0);
    d.w(C.DFSELECT, 4, 1);
    expect(d.r(C.Q_ENABLE, 2)).toBe(1);
    d.status = 0;
    expect(d.status).toBe(0);
    expect(d.r(C.DFSELECT, 4)).toBe(0);
    expect(d.r(C.MSIX, 2)).toBe(0xffff);
    d.w(C.GFSELECT, 4, 0);
    expect(d.r(C.GF, 4)).toBe(0);
    d.w(C.GFSELECT, 4, 1);
    expect(d.r(C.GF, 4)).toBe(0);
    expect(d.r(C.Q_SELECT, 2)).toBe(0);
    expect(d.r(C.Q_SIZE, 2)).toBe(256);
    expect(d.r(C.Q_ENABLE, 2)).toBe(0);
    expect(d.r(C.Q_MSIX, 2)).toBe(0xffff);
    expect(d.bus.mmioRead(d.common + C.Q_DESC, 8)).toBe(0n);
    expect(d.bus.mmioRead(d.common + C.Q_DRIVER, 8)).toBe(0n);
    expect(d.bus.mmioRead(d.common + C.Q_DEVICE, 8)).toBe(0n);
  });

  it('an enabled queue keeps its size and rings; queue_enable 0 is ignored', async () => {
    const { d } = await blk(backend);
    const ring = d.start(bit(F.VERSION_1), { size: 16 });
    d.w(C.Q_SIZE, 2, 32);
    d.w(C.Q_DESC, 8, 0x9000n);
    d.w(C.Q_ENABLE, 2, 0);
    expect(d.r(C.Q_SIZE, 2)).toBe(16);
    expect(d.r(C.Q_DESC, 4)).toBe(ring.desc);
    expect(d.r(C.Q_ENABLE, 2)).toBe(1);
  });

  it('config_generation reads 0 and is read-only; reads past the structure are 0', async () => {
    const { d } = await blk(backend);
    expect(d.r(C.CFGGEN, 1)).toBe(0);
    d.w(C.CFGGEN, 1, 5);
    expect(d.r(C.CFGGEN, 1)).toBe(0);
    expect(d.r(0x38, 4)).toBe(0);
    expect(d.r(0xffc, 4)).toBe(0);
    expect(d.bus.stats().hostErrors).toBe(0);
  });
});
