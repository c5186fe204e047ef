// The firmware run: what SeaBIOS, EDK2 or Linux do before a driver sees a device, over config
// cycles only. Number the buses depth first, size every BAR and ROM (decode off while probing),
// lay everything out with the chosen policy, then program BARs, bridge windows, Command and
// Interrupt Line. Everything is decided before the first BAR write: when something does not fit,
// the error names it and the bus numbers are put back, so nothing is left half-programmed.
import { ArgumentError } from '../errors.js';
import { allocate } from './allocate/index.js';
import type { Allocation, AllocationRoot, PolicyName, Reserves, RootWindows, Window } from './allocate/index.js';
import type { ConfigAccess } from './config-access.js';
import { piixRoute, swizzleToRoot } from './interrupt-routing.js';
import type { IrqRoute } from './interrupt-routing.js';
import { PciRoot } from './pci-root.js';
import { programAllocation } from './program.js';
import type { MapBar, ResourceMap } from './resource-map.js';
import { restoreBusNumbers, scanBuses } from './scan.js';
import type { ScanNode, ScanResult } from './scan.js';
import { buildRequests, sizeFunction } from './size.js';
import type { SizedFunction } from './size.js';

export const POLICIES: readonly PolicyName[] = ['scan-order', 'largest-first'];

/**
 * The default apertures, those of a QEMU q35-like machine: IO ports 0x1000-0xFFFF (below is
 * legacy ISA), 32-bit MMIO 0xC000_0000-0xFEBF_FFFF (above the default ECAM window at 0xB000_0000,
 * below the IOAPIC at 0xFEC0_0000), 64-bit MMIO 512 GiB at 512 GiB.
 */
export const DEFAULT_WINDOWS: RootWindows = {
  io: { base: 0x1000n, size: 0xf000n },
  mem32: { base: 0xc0000000n, size: 0x3ec00000n },
  mem64: { base: 0x8000000000n, size: 0x8000000000n },
};

export interface FirmwareOptions {
  /** `largest-first` (default; Linux, SeaBIOS) or `scan-order` (the seed's first-fit). */
  policy?: PolicyName;
  segment?: number;
  /** The root bus number (default 0) and the last bus number firmware may give out (default 255). */
  rootBus?: number;
  maxBus?: number;
  windows?: RootWindows;
  /** Minimum windows of hotplug bridges, and per-bridge minimums by scan bdf ("0000:00:05.0"). */
  hotplugReserve?: Reserves;
  reserveFor?: Record<string, Reserves>;
  /** Which bridges get `hotplugReserve`: PCIe ports with a hot-plug capable slot (default) or all. */
  hotplugBridges?: 'capable' | 'all';
  /**
   * Keep the address of a root-bus BAR that already has one, as the seed's loop does (it allocates
   * only BARs whose address is 0). Default true. BARs behind bridges are always assigned anew:
   * their windows are being laid out.
   */
  keepAssigned?: boolean;
  /** Interrupt Line for a (root-bus device, swizzled pin); default: PIIX routing as SeaBIOS does it. */
  irqRoute?: IrqRoute;
}

export interface FirmwareResult {
  scan: ScanResult;
  allocation: Allocation;
  map: ResourceMap;
}

/** Runs the firmware over `access`. Throws AllocationError, FirmwareError or ArgumentError; see the file comment. */
export function runFirmware(access: ConfigAccess, options: FirmwareOptions = {}): FirmwareResult {
  const policy = options.policy ?? 'largest-first';
  if (!POLICIES.includes(policy)) throw new ArgumentError(`policy: "${String(policy)}" is not one of ${POLICIES.join(', ')}`);
  const segment = options.segment ?? 0;
  const rootBus = options.rootBus ?? 0;
  const maxBus = options.maxBus ?? 255;
  if (!Number.isInteger(rootBus) || !Number.isInteger(maxBus) || rootBus < 0 || maxBus > 255 || rootBus > maxBus) {
    throw new ArgumentError(`rootBus/maxBus: ${rootBus}..${maxBus} is not a range within 0..255`);
  }
  const windows = options.windows ?? DEFAULT_WINDOWS;
  const keepAssigned = options.keepAssigned ?? true;
  const irqRoute = options.irqRoute ?? piixRoute;

  const scan = scanBuses(access, segment, rootBus, maxBus);
  try {
    const root = new PciRoot(access);
    const sized = new Map<ScanNode, SizedFunction>(scan.all.map((n) => [n, sizeFunction(root, n)]));
    const keep = (node: ScanNode, bar: SizedFunction['bars'][number]) => keepAssigned && node.parent === undefined && bar.address !== 0n;
    const request: AllocationRoot = {
      windows,
      children: buildRequests(access, scan.roots, sized, keep, options.hotplugBridges === 'all'),
      reserved: keptRanges(scan.all, sized, keep, windows),
    };
    const allocation = allocate(request, { policy, hotplugReserve: options.hotplugReserve, reserveFor: options.reserveFor });
    const lines = new Map<string, number>();
    for (const node of scan.all) {
      const at = swizzleToRoot(node);
      if (at) lines.set(node.bdf, irqRoute(at.rootDevice, at.pin) & 0xff);
    }
    const kept = new Map<string, string[]>();
    for (const [node, s] of sized) kept.set(node.bdf, s.bars.filter((b) => keep(node, b)).map((b) => b.kind));
    programAllocation(access, { allocation, nodes: new Map(scan.all.map((n) => [n.bdf, n])), lines, kept });
    return { scan, allocation, map: resourceMap(policy, segment, scan, sized, keep, allocation) };
  } catch (e) {
    restoreBusNumbers(access, scan.previous);
    throw e;
  }
}

/** Kept BARs inside a root window: the allocator must lay everything else out around them. */
function keptRanges(
  all: ScanNode[], sized: Map<ScanNode, SizedFunction>, keep: (n: ScanNode, b: SizedFunction['bars'][number]) => boolean,
  windows: RootWindows,
): { space: 'io' | 'mem'; base: bigint; size: bigint }[] {
  const within = (w: Window | undefined, base: bigint, size: bigint) => w !== undefined && base < w.base + w.size && w.base < base + size;
  const out: { space: 'io' | 'mem'; base: bigint; size: bigint }[] = [];
  for (const node of all) {
    for (const bar of sized.get(node)!.bars) {
      if (!keep(node, bar)) continue;
      if (bar.kind === 'io') {
        if (within(windows.io, bar.address, bar.size)) out.push({ space: 'io', base: bar.address, size: bar.size });
      } else if (within(windows.mem32, bar.address, bar.size) || within(windows.mem64, bar.address, bar.size)) {
        out.push({ space: 'mem', base: bar.address, size: bar.size });
      }
    }
  }
  return out;
}

const hx = (v: bigint) => `0x${v.toString(16)}`;

function resourceMap(
  policy: PolicyName, segment: number, scan: ScanResult, sized: Map<ScanNode, SizedFunction>,
  keep: (n: ScanNode, b: SizedFunction['bars'][number]) => boolean, allocation: Allocation,
): ResourceMap {
  const assigned = new Map(allocation.functions.map((f) => [f.bdf, f.bars]));
  const functions: ResourceMap['functions'] = [];
  for (const node of scan.all) {
    const bars: MapBar[] = [];
    for (const bar of sized.get(node)!.bars) {
      if (keep(node, bar)) {
        bars.push({ index: bar.index, kind: bar.kind, prefetchable: bar.prefetchable, base: hx(bar.address), size: hx(bar.size), kept: true });
        continue;
      }
      const a = assigned.get(node.bdf)?.find((x) => x.index === bar.index);
      if (a) bars.push({ index: a.index, kind: a.kind, prefetchable: a.prefetchable, base: hx(a.base), size: hx(a.size) });
    }
    bars.sort((a, b) => a.index - b.index);
    if (bars.length > 0) functions.push({ bdf: node.bdf, bars });
  }
  const windows = new Map(allocation.bridges.map((b) => [b.bdf, b.windows]));
  const bridges = scan.all.filter((n) => n.children !== undefined).map((n) => ({
    bdf: n.bdf, secondary: n.secondary!, subordinate: n.subordinate!,
    windows: (windows.get(n.bdf) ?? []).filter((w) => w.size > 0n).map((w) => ({ kind: w.kind, base: hx(w.base), size: hx(w.size) })),
  }));
  return { policy, segment, functions, bridges };
}
