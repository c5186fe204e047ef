// What the fuzzer knows of a topology before it starts, read from the resolved topology's config
// planes (not from the core): each function's BARs and their sizes, capabilities (MSI, MSI-X,
// PCI Express, virtio structures), whether it is a bridge, and what device model it runs. The
// generator aims at these; the reference model (model.ts) decodes BARs from them.
import type { ResolvedTopology } from '../src/topology/index.js';
import { walkCapabilities, walkExtendedCapabilities } from '../src/config/index.js';

export type BarKind = 'io' | 'mem32' | 'mem64' | 'rom';

/** A BAR (index 0-5) or the expansion ROM (index 6) as its write mask sizes it. */
export interface BarLayout {
  index: number;
  kind: BarKind;
  /** The config offset of the (low) register. */
  reg: number;
  size: bigint;
  prefetchable: boolean;
}

export interface MsiLayout {
  cap: number;
  is64: boolean;
  perVectorMask: boolean;
  /** Multiple Message Capable: log2 of the vectors asked for. */
  mmc: number;
  dataReg: number;
  maskReg: number;
  pendingReg: number;
}

export interface MsixLayout {
  cap: number;
  entries: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

/** A virtio structure (virtio 1.2 §4.1.4): where a cfg_type lives. */
export interface VirtioStructure {
  bar: number;
  offset: number;
  length: number;
}

export interface FunctionLayout {
  index: number;
  path: string;
  /** Index of the bridge above, or -1. */
  parent: number;
  /** The model name ("virtio-rng", "test-device", "pci-bridge", ...). */
  kind: string;
  /** 256 or 4096. */
  size: number;
  bridge: boolean;
  /** Root-bus functions: segment, bus, device, function; below a bridge: device and function only. */
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  config: Uint8Array;
  wmask: Uint8Array;
  w1cmask: Uint8Array;
  bars: BarLayout[];
  caps: { offset: number; id: number }[];
  extCaps: { offset: number; id: number }[];
  msi?: MsiLayout;
  msix?: MsixLayout;
  pcie?: number;
  virtio?: { common?: VirtioStructure; notify?: VirtioStructure & { multiplier: number }; isr?: VirtioStructure; device?: VirtioStructure };
  /** Whether a device model with behaviour runs behind the function. */
  behaviour: boolean;
}

export interface Layout {
  functions: FunctionLayout[];
  /** ECAM windows: segment, base, first and last bus. */
  ecam: { seg: number; base: number; busStart: number; busEnd: number }[];
}

const le16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const le32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/**
 * The BARs a function implements, from its config bytes (type bits) and write mask (size):
 * PCI 3.0 §6.2.5.1 — a BAR's writable address bits are ~(size - 1); a 64-bit BAR takes two
 * registers; an unimplemented BAR has no writable bit. The ROM's address bits are 31:11.
 */
export function decodeBars(config: Uint8Array, wmask: Uint8Array): BarLayout[] {
  const bridge = (config[0x0e] & 0x7f) === 1;
  const count = bridge ? 2 : 6;
  const out: BarLayout[] = [];
  for (let i = 0; i < count; i++) {
    const reg = 0x10 + 4 * i;
    const value = le32(config, reg);
    const wm = BigInt(le32(wmask, reg));
    if (value & 1) {
      if (wm !== 0n) out.push({ index: i, kind: 'io', reg, size: ((~wm | 3n) & 0xffffffffn) + 1n, prefetchable: false });
      continue;
    }
    if (((value >>> 1) & 3) === 2 && i + 1 < count) {
      const mask = (BigInt(le32(wmask, reg + 4)) << 32n) | wm;
      if ((mask & (1n << 63n)) !== 0n) {
        out.push({ index: i, kind: 'mem64', reg, size: ((~mask | 0xfn) & ((1n << 64n) - 1n)) + 1n, prefetchable: (value & 8) !== 0 });
      }
      i++;
      continue;
    }
    if (wm !== 0n) out.push({ index: i, kind: 'mem32', reg, size: ((~wm | 0xfn) & 0xffffffffn) + 1n, prefetchable: (value & 8) !== 0 });
  }
  const romReg = bridge ? 0x38 : 0x30;
  const romMask = BigInt(le32(wmask, romReg)) & 0xfffff800n;
  if (romMask !== 0n) out.push({ index: 6, kind: 'rom', reg: romReg, size: ((~romMask) & 0xffffffffn) + 1n, prefetchable: false });
  return out;
}

function msiLayout(config: Uint8Array, cap: number): MsiLayout {
  const control = le16(config, cap + 2);
  const is64 = (control & 0x80) !== 0;
  const dataReg = cap + (is64 ? 12 : 8);
  return { cap, is64, perVectorMask: (control & 0x100) !== 0, mmc: (control >> 1) & 7, dataReg, maskReg: dataReg + 4, pendingReg: dataReg + 8 };
}

/** The layout of every function of a resolved topology, in topology order (= core slot order). */
export function layoutOf(topology: ResolvedTopology): Layout {
  const functions = topology.functions.map((f, index): FunctionLayout => {
    const config = f.planes.config.slice(0, f.planes.size);
    const caps = walkCapabilities(config);
    const out: FunctionLayout = {
      index, path: f.path, parent: f.parent, kind: f.kind, size: f.planes.size,
      bridge: (config[0x0e] & 0x7f) === 1, seg: f.seg, bus: f.bus, dev: f.dev, fn: f.fn,
      config, wmask: f.planes.wmask.slice(0, f.planes.size), w1cmask: f.planes.w1cmask.slice(0, f.planes.size),
      bars: decodeBars(config, f.planes.wmask),
      caps: (le16(config, 6) & 0x10) !== 0 ? caps : [],
      extCaps: walkExtendedCapabilities(config),
      behaviour: f.behaviour !== undefined,
    };
    for (const c of out.caps) {
      if (c.id === 0x05 && out.msi === undefined) out.msi = msiLayout(config, c.offset);
      if (c.id === 0x11 && out.msix === undefined) {
        const table = le32(config, c.offset + 4);
        const pba = le32(config, c.offset + 8);
        out.msix = {
          cap: c.offset, entries: (le16(config, c.offset + 2) & 0x7ff) + 1,
          tableBar: table & 7, tableOffset: table & ~7, pbaBar: pba & 7, pbaOffset: pba & ~7,
        };
      }
      if (c.id === 0x10 && out.pcie === undefined) out.pcie = c.offset;
      if (c.id === 0x09 && le16(config, 0) === 0x1af4) {
        // virtio_pci_cap: cfg_type +3, bar +4, offset +8, length +12, notify multiplier +16.
        const s = { bar: config[c.offset + 4], offset: le32(config, c.offset + 8), length: le32(config, c.offset + 12) };
        const v = (out.virtio ??= {});
        switch (config[c.offset + 3]) {
          case 1: v.common ??= s; break;
          case 2: v.notify ??= { ...s, multiplier: le32(config, c.offset + 16) }; break;
          case 3: v.isr ??= s; break;
          case 4: v.device ??= s; break;
        }
      }
    }
    return out;
  });
  const ecam = topology.segments.filter((s) => s.ecam).map((s) => ({
    seg: s.segment, base: Number(s.ecam!.base), busStart: s.ecam!.busStart, busEnd: s.ecam!.busEnd,
  }));
  return { functions, ecam };
}
