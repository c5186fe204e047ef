// The demo's last act: a guest. With the guest driver kit (src/guest) — which reaches the bus only
// through config cycles, MMIO, its own RAM and the interrupts it receives — it drives every
// virtio-rng and virtio-blk it finds after the firmware run, and shows what came back.
import type { Bus } from '../bus.js';
import {
  GuestInterrupts, GuestRam, VirtioBlk, VirtioPciDevice, VirtioRng, VirtioType, isVirtioModern, scanFunctions,
} from '../guest/index.js';

const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** Runs the guest on a bus firmware has enumerated; returns the lines to print. */
export function guestDemoText(bus: Bus): string {
  const ram = new GuestRam({ size: 16 << 20 });
  ram.attach(bus);
  const irq = new GuestInterrupts();
  bus.interrupts.setSink(irq);
  const lines: string[] = [`guest RAM: 16 MiB at 0x0; interrupts: MSI-X messages to 0xfee00000, data per vector`];
  const all = scanFunctions(bus);
  // A virtio function cloned from a dump has the config space but no device model behind it: a
  // driver would wait forever, so the demo names it and leaves it alone.
  const found = all.filter((f) => {
    if (!isVirtioModern(f) || bus.device(f.bdf) !== undefined) return true;
    lines.push(`${f.bdf} virtio device ${f.deviceId.toString(16)}: config space only (a clone, no device model): not driven`);
    return false;
  });
  for (const f of found.filter((x) => isVirtioModern(x, VirtioType.ENTROPY))) {
    const rng = new VirtioRng(new VirtioPciDevice({ bus, ram, irq, function: f }));
    const r = rng.request(16);
    lines.push(`${f.bdf} virtio-rng: asked 16 bytes, used len ${r.len}${r.interrupted ? ', completion by MSI-X' : ''}: ${hexBytes(r.bytes)}`);
  }
  for (const f of found.filter((x) => isVirtioModern(x, VirtioType.BLOCK))) {
    const blk = new VirtioBlk(new VirtioPciDevice({ bus, ram, irq, function: f }));
    const id = blk.getId();
    // 1 KiB written across a sector boundary (sectors 1-2), read back and compared.
    const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) & 0xff);
    const w = blk.write(1, data);
    const r = blk.read(1, 1024);
    const same = r.data !== undefined && r.data.every((b, i) => b === data[i]);
    const beyond = blk.read(blk.capacity, 512);
    lines.push(`${f.bdf} virtio-blk: id "${id.id}", ${blk.capacity} sectors; write 2 sectors: status ${w.status}, ` +
      `read back: status ${r.status}, ${same ? 'same bytes' : 'DIFFERENT bytes'}; read past the end: status ${beyond.status} (IOERR)`);
  }
  if (all.length === 0) lines.push('(no functions found)');
  return `${lines.join('\n')}\n`;
}
