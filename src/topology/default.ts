// The built-in default topology: what `vpci` shows with no --topology, and what createBus()
// builds when given none. Two functions sit behind bridges: firmware (or the guest) reaches them
// once it has written the bridges' bus numbers. Devices with behaviour (virtio-rng, virtio-blk,
// the test device) answer a guest driver: `npm start` drives them with the guest driver kit. The
// root ports have native hot-plug slots; the one at 00:09.0 is empty.
import type { Topology } from './types.js';

/**
 * The built-in topology `createBus` builds when given none (and `vpci` shows without --topology): a
 * host bridge, test endpoints, a multi-function device, virtio-blk and virtio-rng, the test device,
 * functions behind a PCI-to-PCI bridge and a root port, and a root port with an empty hot-plug slot.
 */
export const defaultTopology: Topology = {
  name: 'default',
  segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } }],
  devices: [
    { bdf: '00:00.0', model: 'host-bridge', name: 'host bridge' },
    { bdf: '00:01.0', model: 'test-endpoint', name: 'test endpoint' },
    { bdf: '00:02.0', model: 'firecracker-virtio-blk', name: 'virtio-blk (cloned from Firecracker)' },
    { bdf: '00:03.0', model: 'test-endpoint', name: 'multi-function device, function 0' },
    { bdf: '00:03.1', model: 'test-endpoint', name: 'multi-function device, function 1', options: { interruptPin: 2 } },
    { id: 'bridge', bdf: '00:04.0', model: 'pci-bridge', name: 'PCI-to-PCI bridge' },
    {
      behind: 'bridge', addr: '00.0', model: 'test-endpoint', name: 'endpoint behind the PCI-to-PCI bridge',
      options: {
        bars: [{ index: 0, kind: 'mem32', size: '0x2000' }, { index: 1, kind: 'io', size: '0x40' }],
        rom: { size: '0x8000' },
      },
    },
    { id: 'rootport', bdf: '00:05.0', model: 'root-port', name: 'PCIe root port', options: { slot: 5 } },
    // The entropy device behind the root port is seeded so the demo prints the same bytes every run.
    { behind: 'rootport', addr: '00.0', model: 'virtio-rng', name: 'virtio-rng behind the root port', options: { seed: 7 } },
    { bdf: '00:06.0', model: 'virtio-rng', name: 'virtio-rng', options: { seed: 1 } },
    { bdf: '00:07.0', model: 'virtio-blk', name: 'virtio-blk (1 MiB in-memory disk)', options: { sizeMiB: 1 } },
    { bdf: '00:08.0', model: 'test-device', name: 'test device (edu-like)' },
    // An empty hot-plug slot: `bus.plug('00:09.0', device)` puts a card in it at run time (the
    // demo does); firmware reserves bus and window space below it.
    { id: 'hotplug', bdf: '00:09.0', model: 'root-port', name: 'PCIe root port with an empty hot-plug slot', options: { slot: 9 } },
  ],
};
