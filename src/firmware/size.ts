// Sizing: every function's BARs and ROM through the all-ones probe (PciRoot.barInfo, decode off
// while probing), and every bridge's window capabilities, turned into the allocator's request tree.
import { Reg, StatusBits } from '../config/index.js';
import type { BarRequest, BridgeRequest, FunctionRequest } from './allocate/index.js';
import type { ConfigAccess } from './config-access.js';
import { PciRoot, takesTwoEntries } from './pci-root.js';
import type { ScanNode } from './scan.js';

/** A BAR that already has an address (the seed keeps those instead of allocating them). */
export interface AssignedBarInfo {
  bdf: string;
  index: number;
  kind: BarRequest['kind'];
  prefetchable: boolean;
  base: bigint;
  size: bigint;
}

export interface SizedFunction {
  node: ScanNode;
  /** Every implemented BAR and the ROM (index 6), with the address it holds now. */
  bars: (BarRequest & { address: bigint })[];
}

const PCIE_CAP = 0x10;
const SLOT_CAPABILITIES = 0x14;
const HOT_PLUG_CAPABLE = 1 << 6;
const SLOT_IMPLEMENTED = 1 << 8;

/** The seed's loop over BAR indexes: a 64-bit BAR takes two entries. */
export function sizeFunction(root: PciRoot, node: ScanNode): SizedFunction {
  const bars: SizedFunction['bars'] = [];
  const count = root.barCount(node.f);
  for (let bar = 0; bar < count; bar++) {
    const info = root.barInfo(node.f, bar);
    if (info === undefined) continue;
    if (info.kind === 'io') {
      bars.push({ index: bar, kind: 'io', prefetchable: false, size: BigInt(info.size), address: BigInt(info.port) });
    } else {
      bars.push({
        index: bar, kind: info.addressType === 'width64' ? 'mem64' : 'mem32', prefetchable: info.prefetchable,
        size: info.size, address: info.address,
      });
    }
    if (takesTwoEntries(info)) bar++;
  }
  const rom = root.romInfo(node.f);
  if (rom) bars.push({ index: 6, kind: 'rom', prefetchable: false, size: BigInt(rom.size), address: BigInt(rom.address) });
  return { node, bars };
}

/** Finds a capability by id in the standard list; 0 when absent. Bounded against loops. */
export function findCapability(access: ConfigAccess, bdf: string, id: number): number {
  if ((access.configRead(bdf, Reg.STATUS, 2) & StatusBits.CAP_LIST) === 0) return 0;
  let ptr = access.configRead(bdf, Reg.CAPABILITY_LIST, 1) & 0xfc;
  for (let hops = 0; ptr >= 0x40 && hops < 48; hops++) {
    if (access.configRead(bdf, ptr, 1) === id) return ptr;
    ptr = access.configRead(bdf, ptr + 1, 1) & 0xfc;
  }
  return 0;
}

/**
 * A bridge's window capabilities from its registers (PCI-to-PCI Bridge 1.2 §3.2.5): the low
 * nibbles say 16/32-bit IO and 32/64-bit prefetchable; a prefetchable window is implemented when
 * its base register takes a written value. A PCIe port with a hot-plug capable slot is hotplug.
 */
export function bridgeTraits(access: ConfigAccess, bdf: string): Pick<BridgeRequest, 'io32' | 'prefetch64' | 'hasPrefetchWindow' | 'hotplug'> {
  const io32 = (access.configRead(bdf, Reg.IO_BASE, 1) & 0xf) === 1;
  const original = access.configRead(bdf, Reg.PREF_MEMORY_BASE, 4);
  access.configWrite(bdf, Reg.PREF_MEMORY_BASE, 4, 0xfff0fff0);
  const probed = access.configRead(bdf, Reg.PREF_MEMORY_BASE, 4);
  access.configWrite(bdf, Reg.PREF_MEMORY_BASE, 4, original);
  const hasPrefetchWindow = (probed & 0xfff0fff0) !== 0;
  const prefetch64 = hasPrefetchWindow && (original & 0xf) === 1;
  let hotplug = false;
  const pcie = findCapability(access, bdf, PCIE_CAP);
  if (pcie !== 0 && (access.configRead(bdf, pcie + 2, 2) & SLOT_IMPLEMENTED) !== 0) {
    hotplug = (access.configRead(bdf, pcie + SLOT_CAPABILITIES, 4) & HOT_PLUG_CAPABLE) !== 0;
  }
  return { io32, prefetch64, hasPrefetchWindow, hotplug };
}

/**
 * The allocator's request tree. `keep` decides which BARs keep the address they hold (the seed
 * allocates only BARs whose address is 0); kept BARs are left out of the requests.
 */
export function buildRequests(
  access: ConfigAccess, nodes: ScanNode[], sized: Map<ScanNode, SizedFunction>,
  keep: (node: ScanNode, bar: SizedFunction['bars'][number]) => boolean,
  hotplugAll: boolean,
): (FunctionRequest | BridgeRequest)[] {
  return nodes.map((node) => {
    const s = sized.get(node)!;
    const bars = s.bars.filter((b) => !keep(node, b)).map(({ index, kind, prefetchable, size }) => ({ index, kind, prefetchable, size }));
    if (node.children === undefined) return { bdf: node.bdf, bars };
    const traits = bridgeTraits(access, node.bdf);
    return {
      bdf: node.bdf, bars, ...traits, hotplug: traits.hotplug || hotplugAll,
      children: buildRequests(access, node.children, sized, keep, hotplugAll),
    };
  });
}
