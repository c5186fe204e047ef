// The built-in device models a topology names with "model": each turns an options object into
// one function's config-space source (a descriptor, or a template cloned from a real dump).
import type { FunctionDescriptor, TemplateSource } from '../config/index.js';
import { DescriptorError } from '../errors.js';
import type { DeviceBehaviour } from './model-api.js';
import { hostBridge } from './host-bridge.js';
import { pciBridge } from './pci-bridge.js';
import { rootPort, rootPortBehaviour } from './root-port.js';
import { testEndpoint } from './test-endpoint.js';
import { testDeviceBehaviour, testDeviceDescriptor } from './test-device.js';
import { firecrackerVirtioBlk } from './templates/firecracker-virtio-blk.js';
import { i440fxHostBridge } from './chipset/i440fx.js';
import type { I440fxOptions } from './chipset/i440fx.js';
import { piix3Behaviour, piix3IsaBridge } from './chipset/piix3.js';
import { virtioBlk, virtioRng } from './virtio/index.js';
import type { VirtioBlkOptions, VirtioRngOptions } from './virtio/index.js';
import { sriovEndpointSource } from './sriov/index.js';
import type { SriovEndpointOptions } from './sriov/index.js';

/** What a model yields for one function: its config space, and optionally what it does. */
export type FunctionSource = ({ descriptor: FunctionDescriptor } | { template: TemplateSource }) & { behaviour?: DeviceBehaviour };

/** A device model a topology names in `model`: a summary, the options it accepts, and `create`. */
export interface DeviceModel {
  /** What the model is, for `--help` and the README. */
  readonly summary: string;
  /** Option names the model accepts (anything else is refused). */
  readonly options: readonly string[];
  /** Builds one function from the options (already checked against `options`); throws DescriptorError on bad values. */
  create(options: Record<string, unknown>): FunctionSource;
}

/**
 * The built-in device models by name: 'host-bridge', 'test-endpoint', 'test-device', 'pci-bridge',
 * 'root-port', 'firecracker-virtio-blk', 'virtio-rng', 'virtio-blk', 'i440fx', 'piix3', 'sriov-endpoint'.
 */
export const deviceModels: Readonly<Record<string, DeviceModel>> = {
  'host-bridge': {
    summary: 'host bridge, class 06/00, no BARs',
    options: ['vendorId', 'deviceId'],
    create: (o) => ({ descriptor: hostBridge(o as Parameters<typeof hostBridge>[0]) }),
  },
  'test-endpoint': {
    summary: 'endpoint with mem32, io, mem64 prefetchable and mem64 BARs, a ROM, INTA, PM and MSI (BARs, ROM and a PCIe capability configurable)',
    options: ['vendorId', 'deviceId', 'interruptPin', 'msiVectors', 'bars', 'rom', 'pcie'],
    create: (o) => {
      if (o.bars !== undefined && !Array.isArray(o.bars)) throw new DescriptorError('options.bars', 'must be an array of BARs ({ index, kind, size, prefetchable })');
      if (o.rom !== undefined && o.rom !== false && (o.rom === null || typeof o.rom !== 'object' || Array.isArray(o.rom))) {
        throw new DescriptorError('options.rom', 'must be { size } or false');
      }
      if (o.pcie !== undefined && typeof o.pcie !== 'boolean') throw new DescriptorError('options.pcie', 'must be true or false');
      return { descriptor: testEndpoint(o as Parameters<typeof testEndpoint>[0]) };
    },
  },
  'test-device': {
    summary: 'test device with behaviour: ID/scratch registers, interrupts on demand (MSI-X, MSI or INTx), a DMA engine with a 4 KiB buffer',
    options: [],
    create: () => ({ descriptor: testDeviceDescriptor(), behaviour: testDeviceBehaviour() }),
  },
  'pci-bridge': {
    summary: 'PCI-to-PCI bridge (type 1 header) with PM and MSI',
    options: ['io32'],
    create: (o) => ({ descriptor: pciBridge(o as Parameters<typeof pciBridge>[0]) }),
  },
  'root-port': {
    summary: 'PCI Express root port (type 1, PCIe capability, 4 KiB config space, DSN) with a native hot-plug slot (hotplug: false for a plain slot)',
    options: ['serial', 'slot', 'hotplug'],
    create: (o) => {
      const options = o as Parameters<typeof rootPort>[0];
      const descriptor = rootPort(options);
      const behaviour = rootPortBehaviour(options);
      return behaviour ? { descriptor, behaviour } : { descriptor };
    },
  },
  'firecracker-virtio-blk': {
    summary: "virtio-blk config space cloned from a real Firecracker VM's sysfs dump",
    options: [],
    create: () => ({ template: firecrackerVirtioBlk() }),
  },
  'virtio-rng': {
    summary: 'virtio 1.2 entropy device (virtio-pci modern, split virtqueues, MSI-X or INTx); bytes from crypto.getRandomValues, or a seeded generator for replay',
    options: ['seed'],
    create: (o) => virtioRng(o as VirtioRngOptions),
  },
  'i440fx': {
    summary: 'Intel 440FX host bridge as QEMU\'s pc machine has it (8086:1237, subsystem 1af4:1100, writable chipset registers): what SeaBIOS looks for at 00:00.0',
    options: ['pam0'],
    create: (o) => {
      if (o.pam0 !== undefined && (!Number.isInteger(o.pam0) || (o.pam0 as number) < 0 || (o.pam0 as number) > 0xff)) throw new DescriptorError('options.pam0', `${JSON.stringify(o.pam0)} is not a byte`);
      return { descriptor: i440fxHostBridge(o as I440fxOptions) };
    },
  },
  'piix3': {
    summary: 'PIIX3 PCI-to-ISA bridge (8086:7000) whose PIRQ routing bytes 0x60-0x63 route the root bus\'s INTx lines to ISA IRQs',
    options: [],
    create: () => ({ descriptor: piix3IsaBridge(), behaviour: piix3Behaviour() }),
  },
  'virtio-blk': {
    summary: 'virtio 1.2 block device (virtio-pci modern) over an in-memory disk or a given image: read, write, flush, get-id; read-only on request',
    options: ['sizeMiB', 'pattern', 'image', 'readOnly', 'serial'],
    create: (o) => virtioBlk(o as VirtioBlkOptions),
  },
  'sriov-endpoint': {
    summary: 'PCIe endpoint that is an SR-IOV Physical Function: VF Enable adds up to 7 Virtual Functions beside it, VF MSE maps their VF BAR apertures',
    options: ['vendorId', 'deviceId', 'vfDeviceId', 'totalVFs', 'firstVfOffset', 'vfStride', 'vfBars', 'msix'],
    create: (o) => sriovEndpointSource(o as SriovEndpointOptions),
  },
};

/** Looks up a model and checks its option names; DescriptorError paths are relative to the device. */
export function createFromModel(name: string, options: Record<string, unknown> | undefined): FunctionSource {
  const model = Object.hasOwn(deviceModels, name) ? deviceModels[name] : undefined;
  if (!model) throw new DescriptorError('model', `"${name}" is not a model (known: ${Object.keys(deviceModels).join(', ')})`);
  const opts = options ?? {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new DescriptorError('options', 'must be an object');
  for (const key of Object.keys(opts)) {
    if (!model.options.includes(key)) {
      throw new DescriptorError(`options.${key}`, `is not an option of ${name} (it takes: ${model.options.join(', ') || 'none'})`);
    }
  }
  return model.create(opts);
}
