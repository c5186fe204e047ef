// Boots the stock Linux guest (scripts/linux-guest/setup.js builds it) in v86 with vpci attached as
// its PCI bus, and returns what happened: the serial console, SeaBIOS's debug log, the guest's
// report, the bus (for comparing vpci's view with the guest's) and, on request, a recording of
// every access vpci served. Used by the real-guest test and by `npm run demo:linux`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus } from 'vpci';
import { attachToV86, v86Topology, V86Recorder } from 'vpci/v86';
import { loadV86Emulator } from '../v86-emulator.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where setup.js leaves bios.bin, vmlinuz and initramfs.cpio.gz. */
export const guestCache = resolve(process.env.VPCI_GUEST_CACHE || join(repoRoot, 'node_modules/.cache/vpci-linux-guest'));

/**
 * The kernel command line. edd=off: the kernel's real-mode EDD probe would call SeaBIOS's INT 13h
 * on vpci's virtio-blk, which SeaBIOS drives from 16-bit code through the virtio PCI-config window
 * vpci does not offer; pci=nomsi: v86 has no APIC, so MSI cannot be delivered (Linux would try
 * MSI-X first and warn).
 */
export const GUEST_CMDLINE = 'console=ttyS0 edd=off pci=nomsi tsc=reliable mitigations=off loglevel=4';
/** Guest RAM: v86 puts the initrd at 64 MiB, so a bit more than that. */
export const GUEST_MEMORY = 96 << 20;

export const BEGIN = '=== vpci-guest begin ===';
export const END = '=== vpci-guest end ===';

function file(name) {
  const p = join(guestCache, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`node scripts/linux-guest/setup.js\` first (npm test does)`);
  const b = readFileSync(p);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
}

/**
 * Boots the guest. Options: backend ('wasm' | 'ts'), record (keep a trace of every access vpci
 * served), timeoutMs (default 180 s), onSerial(text) for console output as it comes, onProgress
 * ({ stage, seconds, configAccesses, mmioAccesses }) about once a second.
 */
export async function bootLinuxGuest(options = {}) {
  const t0 = performance.now();
  const emulator = await loadV86Emulator({
    memory_size: GUEST_MEMORY,
    acpi: false,
    bios: { buffer: file('bios.bin') },
    bzimage: { buffer: file('vmlinuz') },
    initrd: { buffer: file('initramfs.cpio.gz') },
    cmdline: GUEST_CMDLINE,
  });
  const topology = v86Topology();
  const bus = await createBus({ backend: options.backend ?? 'wasm', topology });
  const firmwareLog = [];
  const recorder = options.record ? new V86Recorder() : undefined;
  const attachment = attachToV86(emulator, bus, { firmwareLog: (line) => firmwareLog.push(line), observer: recorder });
  let serial = '';
  let stage = 'firmware';
  const finished = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the guest did not finish within ${(options.timeoutMs ?? 180_000) / 1000} s; last console output:\n${serial.slice(-2000)}`)), options.timeoutMs ?? 180_000);
    const ticker = setInterval(() => {
      const s = attachment.stats();
      options.onProgress?.({ stage, seconds: (performance.now() - t0) / 1000, configAccesses: s.configAccesses, mmioAccesses: s.mmioAccesses });
    }, 1000);
    emulator.add_listener('serial0-output-byte', (byte) => {
      const c = String.fromCharCode(byte);
      serial += c;
      options.onSerial?.(c);
      if (stage === 'firmware' && serial.includes('Linux version')) stage = 'kernel';
      if (stage === 'kernel' && serial.includes(BEGIN)) stage = 'report';
      if (serial.endsWith(END)) {
        clearTimeout(timer);
        clearInterval(ticker);
        ok();
      }
    });
  });
  emulator.run();
  try {
    await finished;
  } finally {
    emulator.stop();
    emulator.destroy?.();
  }
  return { bus, topology, attachment, recorder, serial, firmwareLog, seconds: (performance.now() - t0) / 1000 };
}
