// The INTx fallback (virtio 1.2 §4.1.4.5, §4.1.5.3-4), on both backends: with MSI-X left disabled
// the device raises its INTx pin and sets ISR bits; the guest sees the GSI firmware wrote in
// Interrupt Line go up, reads ISR (which clears it and lets the line go), and finds bit 0 for a
// used buffer, bit 1 for a configuration change. Lines are shared; Interrupt Disable gates the
// pin but not the ISR byte.
import { describe, expect, it } from 'vitest';
import { Reg, StatusBits } from '../../src/config/index.js';
import { BlkStatus, ISR_QUEUE, VIRTQ_DESC_F_NEXT, VirtioBlk, VirtioRng, VirtioType } from '../../src/guest/index.js';
import { BACKENDS, bootGuest, openVirtio, pattern } from './helpers.js';

const RNG = { bdf: '00:06.0', model: 'virtio-rng', options: { seed: 9 } };

describe.each(BACKENDS)('INTx fallback on the %s backend', (backend) => {
  it('MSI-X left disabled: the line named by Interrupt Line goes up, ISR bit 0, reading ISR lets it go', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY, { msix: false });
    expect(dev.msix).toBeUndefined();
    expect(dev.fn.msix()!.enabled).toBe(false);
    expect(dev.gsi).toBe(g.bus.interrupts.routeOf(0, 6, 1));
    const rng = new VirtioRng(dev);
    g.irq.clearLog();
    for (let i = 0; i < 3; i++) {
      const r = rng.request(32);
      expect(r).toMatchObject({ len: 32, interrupted: true });
      expect(g.irq.lineHigh(dev.gsi)).toBe(false);
    }
    expect(g.irq.log).toEqual(Array.from({ length: 3 }, () => [
      { kind: 'line', gsi: dev.gsi, level: true }, { kind: 'line', gsi: dev.gsi, level: false },
    ]).flat());
    expect(dev.readIsr()).toBe(0); // read-to-clear
    expect(g.modelErrors).toEqual([]);
  });

  it('a configuration change (DEVICE_NEEDS_RESET) shows as ISR bit 1 on the line', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY, { msix: false });
    const rng = new VirtioRng(dev);
    const a = rng.queue.reserveDescriptor();
    rng.queue.writeDescriptor(a, { addr: g.ram.alloc(8), len: 8, flags: 2 | VIRTQ_DESC_F_NEXT, next: a });
    rng.queue.publishRaw(a);
    dev.notify(rng.queue);
    expect(dev.needsReset).toBe(true);
    expect(g.irq.lineHigh(dev.gsi)).toBe(true);
    expect(dev.takeConfigInterrupt()).toBe(true);
    expect(dev.takeQueueInterrupt(rng.queue)).toBe(false);
    expect(g.irq.lineHigh(dev.gsi)).toBe(false);
  });

  it('a shared line: two functions on one GSI, each driver reads its own ISR to see whether it was its device', async () => {
    // Devices 6 and 10 with INTA both reach PIRQC (GSI 11) under the default PIIX routing.
    const g = await bootGuest(backend, [RNG, { bdf: '00:0a.0', model: 'virtio-blk', options: { sizeMiB: 1 } }]);
    const rngDev = openVirtio(g, VirtioType.ENTROPY, { msix: false });
    const blkDev = openVirtio(g, VirtioType.BLOCK, { msix: false });
    expect(rngDev.gsi).toBe(blkDev.gsi);
    const rng = new VirtioRng(rngDev);
    const blk = new VirtioBlk(blkDev);
    rng.submit(g.ram.alloc(16), 16);
    expect(g.irq.lineHigh(rngDev.gsi)).toBe(true);
    expect(blkDev.takeQueueInterrupt(blk.queue)).toBe(false); // its ISR is 0: not its interrupt
    expect(g.irq.lineHigh(rngDev.gsi)).toBe(true);
    expect(rngDev.takeQueueInterrupt(rng.queue)).toBe(true);
    expect(g.irq.lineHigh(rngDev.gsi)).toBe(false);
    expect(rng.queue.takeUsed()?.len).toBe(16);
    expect(blk.write(3, pattern(512, 1)).status).toBe(BlkStatus.OK);
    expect(g.modelErrors).toEqual([]);
  });

  it('Interrupt Disable keeps the line down; Interrupt Status and the ISR byte still show the interrupt', async () => {
    const g = await bootGuest(backend, [RNG]);
    const dev = openVirtio(g, VirtioType.ENTROPY, { msix: false });
    const rng = new VirtioRng(dev);
    dev.fn.setIntxDisabled(true);
    g.irq.clearLog();
    rng.submit(g.ram.alloc(16), 16);
    expect(g.irq.log).toEqual([]);
    expect(dev.fn.read16(Reg.STATUS) & StatusBits.INTERRUPT).toBe(StatusBits.INTERRUPT);
    expect(rng.queue.takeUsed()?.len).toBe(16);
    expect(dev.readIsr() & ISR_QUEUE).toBe(ISR_QUEUE);
    expect(dev.fn.read16(Reg.STATUS) & StatusBits.INTERRUPT).toBe(0);
  });

  it('a device behind a root port: the swizzled pin reaches the GSI firmware wrote', async () => {
    const g = await bootGuest(backend, [
      { id: 'rp', bdf: '00:05.0', model: 'root-port' },
      { behind: 'rp', addr: '00.0', model: 'virtio-blk', options: { sizeMiB: 1 } },
    ]);
    const dev = openVirtio(g, VirtioType.BLOCK, { msix: false });
    expect(dev.gsi).toBe(g.bus.interrupts.routeOf(0, 5, 1)); // device 0 below: INTA stays INTA
    const blk = new VirtioBlk(dev);
    const w = blk.write(2, pattern(1024, 2));
    expect(w).toMatchObject({ status: BlkStatus.OK, interrupted: true });
    expect(blk.read(2, 1024).data).toEqual(pattern(1024, 2));
  });
});
