// Depth-first bus numbering and discovery, as SeaBIOS (pci_bios_init_bus) and Linux
// (pci_scan_bridge with assign-busses) do it: each bridge met gets the next free bus number as its
// secondary bus, a temporary subordinate of the last usable bus so that config cycles reach
// everything below while it is scanned, then the highest number used below it.
import { Reg } from '../config/index.js';
import { FirmwareError } from './errors.js';
import type { ConfigAccess, DeviceFunction } from './config-access.js';
import { bdfText } from './config-access.js';
import { PciRoot } from './pci-root.js';
import type { DeviceFunctionInfo } from './pci-root.js';

/** A function found by the scan; bridges carry their bus numbers and what sits below them. */
export interface ScanNode {
  f: DeviceFunction;
  /** "SSSS:BB:DD.F" at the address the scan found it. */
  bdf: string;
  info: DeviceFunctionInfo;
  /** The bridge above, if any. */
  parent?: ScanNode;
  secondary?: number;
  subordinate?: number;
  children?: ScanNode[];
}

/** What a segment's scan found: the functions as a tree and depth first, and the last bus number given out. */
export interface ScanResult {
  /** Functions on the root bus, in scan order (bridges' subtrees under `children`). */
  roots: ScanNode[];
  /** Every function, depth first (a bridge before the functions below it). */
  all: ScanNode[];
  /** The highest bus number given out. */
  lastBus: number;
}

/**
 * Numbers and scans the buses below root bus `rootBus` of `segment`, using bus numbers up to
 * `maxBus` (the end of the segment's ECAM window). Throws FirmwareError naming the bridge that
 * found no bus number left (the caller's journal puts the bus numbers written so far back).
 */
export function scanBuses(access: ConfigAccess, segment = 0, rootBus = 0, maxBus = 255): ScanResult {
  const root = new PciRoot(access);
  const all: ScanNode[] = [];
  let next = rootBus + 1;
  const scan = (bus: number, parent: ScanNode | undefined): ScanNode[] => {
    const nodes: ScanNode[] = [];
    for (const [f, info] of root.enumerateBus(bus, segment)) {
      const node: ScanNode = { f, bdf: bdfText(f), info, parent };
      nodes.push(node);
      all.push(node);
      if (info.headerType !== 1) continue;
      if (next > maxBus) {
        throw new FirmwareError(`${node.bdf}: no bus number left for the bridge's secondary bus (segment ${segment} has buses ${rootBus.toString(16).padStart(2, '0')}-${maxBus.toString(16).padStart(2, '0')})`);
      }
      const secondary = next++;
      // Keep the secondary latency timer byte; primary, secondary, temporary subordinate.
      const latency = access.configRead(node.bdf, Reg.SEC_LATENCY_TIMER, 1);
      access.configWrite(node.bdf, Reg.PRIMARY_BUS, 4, (bus | (secondary << 8) | (maxBus << 16) | (latency << 24)) >>> 0);
      node.secondary = secondary;
      node.children = scan(secondary, node);
      node.subordinate = next - 1;
      access.configWrite(node.bdf, Reg.SUBORDINATE_BUS, 1, node.subordinate);
    }
    return nodes;
  };
  const roots = scan(rootBus, undefined);
  return { roots, all, lastBus: next - 1 };
}
