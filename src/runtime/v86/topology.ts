// The topology a v86 guest gets by default: the chipset SeaBIOS and Linux expect of a PC (an
// i440FX host bridge, a PIIX3 ISA bridge whose PIRQ registers route INTx to the PICs), vpci's
// virtio devices for Linux's own drivers, an endpoint with memory and I/O BARs, and a PCI-to-PCI
// bridge with a device behind it: a bus v86's own (bus 0 only, fixed I/O BARs) cannot offer. No
// ECAM window: v86 has no MMCONFIG, so config goes through 0xCF8/0xCFC only.
import type { Topology } from '../../index.js';

/** Options of v86Topology. */
export interface V86TopologyOptions {
  /** The virtio-blk disk image (a multiple of 512 bytes); default: a 1 MiB disk holding `blkPattern`. */
  diskImage?: Uint8Array;
  /** Seed of the virtio-rng's byte source, so a run can be checked against it (default 7). */
  rngSeed?: number;
}

/** The default topology for a v86 guest (see the module comment). */
export function v86Topology(options: V86TopologyOptions = {}): Topology {
  return {
    name: 'v86-pc',
    segments: [{ segment: 0, ecam: false }],
    devices: [
      // PAM0 0x10: v86 always has RAM behind the BIOS segment (see the i440fx model).
      { bdf: '00:00.0', model: 'i440fx', name: 'i440FX host bridge', options: { pam0: 0x10 } },
      { bdf: '00:01.0', model: 'piix3', name: 'PIIX3 ISA bridge (PIRQ router)' },
      { bdf: '00:02.0', model: 'virtio-rng', name: 'virtio-rng', options: { seed: options.rngSeed ?? 7 } },
      {
        bdf: '00:03.0', model: 'virtio-blk', name: 'virtio-blk',
        options: options.diskImage ? { image: options.diskImage, serial: 'vpci-v86' } : { sizeMiB: 1, pattern: true, serial: 'vpci-v86' },
      },
      {
        bdf: '00:04.0', model: 'test-endpoint', name: 'endpoint with memory and I/O BARs',
        options: { bars: [{ index: 0, kind: 'mem32', size: '0x1000' }, { index: 1, kind: 'io', size: '0x20' }] },
      },
      { id: 'bridge', bdf: '00:05.0', model: 'pci-bridge', name: 'PCI-to-PCI bridge' },
      {
        behind: 'bridge', addr: '00.0', model: 'test-endpoint', name: 'endpoint behind the bridge',
        options: { bars: [{ index: 0, kind: 'mem32', size: '0x4000' }, { index: 1, kind: 'io', size: '0x10' }] },
      },
    ],
  };
}
