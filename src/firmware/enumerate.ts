// The firmware run: what SeaBIOS, EDK2 or Linux do before a driver sees a device, over config
// cycles only. Number the buses depth first, size every BAR and ROM (decode off while probing),
// lay everything out with the chosen policy, then program BARs, bridge windows, Command and
// Interrupt Line. Everything is decided before the first BAR write: when something does not fit,
// the error names it and the bus numbers are put back, so nothing is left half-programmed.
import { ArgumentError } from '../errors.js';
import { allocate } from './allocate/index.js';
import type { Allocation, AllocationRoot, PolicyName, ReservedRange, Reserves, RootWindows, Window } from './allocate/index.js';
import type { ConfigAccess } from './config-access.js';
import { interruptLine, piixRoute, swizzleToRoot } from './interrupt-routing.js';
import type { IrqRoute } from './interrupt-routing.js';
import { PciRoot } from './pci-root.js';
import { programAllocation } from './program.js';
import type { MapBar, ResourceMap } from './resource-map.js';
import { JournaledAccess } from './journal.js';
import { scanBuses } from './scan.js';
import type { ScanNode, ScanResult } from './scan.js';
import { buildRequests, sizeFunction } from './size.js';
import type { SizedFunction } from './size.js';

/** The allocation policies `runFirmware` accepts. */
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

/**
 * The minimum windows a hotplug bridge gets when `hotplugReserve` is not given: Linux's defaults
 * (pci=hpmmiosize=2M, hpmmioprefsize=2M; hpiosize=256 rounded up to a bridge's 4 KiB IO
 * granularity), so a card plugged later into an empty slot finds room in the port's windows.
 */
export const DEFAULT_HOTPLUG_RESERVE: Reserves = { io: 0x1000n, mem: 0x200000n, prefetch: 0x200000n };

/**
 * Options of `runFirmware`: the policy, segments, apertures, reserved ranges, hotplug reserves and
 * interrupt routing.
 */
export interface FirmwareOptions {
  /** `largest-first` (default; Linux, SeaBIOS) or `scan-order` (the seed's first-fit). */
  policy?: PolicyName;
  /**
   * The segments to enumerate, each with its root bus and the last bus number firmware may give
   * out (the end of its ECAM window). Default: segment 0, buses 0-255. Segments share the root
   * windows and are laid out one after the other, each around what the ones before it took.
   */
  segments?: SegmentRange[];
  windows?: RootWindows;
  /** Ranges in use by something firmware does not see (other host bridges, platform devices). */
  reserved?: ReservedRange[];
  /**
   * Minimum windows of hotplug bridges (default DEFAULT_HOTPLUG_RESERVE: 4 KiB IO, 2 MiB memory,
   * 2 MiB prefetchable; `{}` for none), and per-bridge minimums by scan bdf ("0000:00:05.0").
   * A hotplug bridge's secondary bus is the bus number a card plugged later answers on.
   */
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
  /**
   * Interrupt Line for a (root-bus device, swizzled pin, segment); default: PIIX routing as SeaBIOS
   * does it. `routeFromTable(bus.interrupts)` writes the bus's own routing (what `vpci` does).
   */
  irqRoute?: IrqRoute;
}

/** A segment to enumerate: its root bus and the last bus number firmware may give out (0-255). */
export interface SegmentRange {
  segment: number;
  rootBus: number;
  maxBus: number;
}

/** What a firmware run found and assigned, per segment and in all, with the resource map. */
export interface FirmwareResult {
  /** One scan and allocation per segment, in the order run. */
  segments: { segment: number; scan: ScanResult; allocation: Allocation }[];
  /** Every function found, all segments, depth first. */
  all: ScanNode[];
  map: ResourceMap;
}

/**
 * Runs the firmware over `access`. Throws AllocationError, FirmwareError or ArgumentError; before
 * it throws, every config write it made is undone (see the file comment).
 */
export function runFirmware(access: ConfigAccess, options: FirmwareOptions = {}): FirmwareResult {
  const policy = options.policy ?? 'largest-first';
  if (!POLICIES.includes(policy)) throw new ArgumentError(`policy: "${String(policy)}" is not one of ${POLICIES.join(', ')}`);
  const segments = options.segments ?? [{ segment: 0, rootBus: 0, maxBus: 255 }];
  segments.forEach((s, i) => {
    if (!Number.isInteger(s.segment) || s.segment < 0 || s.segment > 0xffff) throw new ArgumentError(`segments[${i}].segment: ${s.segment} is not 0..65535`);
    if (!Number.isInteger(s.rootBus) || !Number.isInteger(s.maxBus) || s.rootBus < 0 || s.maxBus > 255 || s.rootBus > s.maxBus) {
      throw new ArgumentError(`segments[${i}]: buses ${s.rootBus}..${s.maxBus} are not a range within 0..255`);
    }
  });
  const windows = options.windows ?? DEFAULT_WINDOWS;
  const keepAssigned = options.keepAssigned ?? true;
  const irqRoute = options.irqRoute ?? piixRoute;
  const journal = new JournaledAccess(access);
  const root = new PciRoot(journal);
  const keep = (node: ScanNode, bar: SizedFunction['bars'][number]) => keepAssigned && node.parent === undefined && bar.address !== 0n;
  const reserved: ReservedRange[] = [...(options.reserved ?? [])];
  const done: FirmwareResult['segments'] = [];
  const sized = new Map<ScanNode, SizedFunction>();
  try {
    for (const s of segments) {
      const scan = scanBuses(journal, s.segment, s.rootBus, s.maxBus);
      for (const n of scan.all) sized.set(n, sizeFunction(root, n));
      reserved.push(...keptRanges(scan.all, sized, keep, windows));
      const request: AllocationRoot = {
        windows,
        children: buildRequests(journal, scan.roots, sized, keep, options.hotplugBridges === 'all'),
        reserved: [...reserved],
      };
      const allocation = allocate(request, { policy, hotplugReserve: options.hotplugReserve ?? DEFAULT_HOTPLUG_RESERVE, reserveFor: options.reserveFor });
      const lines = new Map<string, number>();
      for (const node of scan.all) {
        const at = swizzleToRoot(node);
        if (at) lines.set(node.bdf, interruptLine(irqRoute(at.rootDevice, at.pin, s.segment)));
      }
      const kept = new Map<string, string[]>();
      for (const node of scan.all) kept.set(node.bdf, sized.get(node)!.bars.filter((b) => keep(node, b)).map((b) => b.kind));
      programAllocation(journal, { allocation, nodes: new Map(scan.all.map((n) => [n.bdf, n])), lines, kept });
      // The next segment lays itself out around this one.
      for (const f of allocation.functions) for (const b of f.bars) reserved.push({ space: b.kind === 'io' ? 'io' : 'mem', base: b.base, size: b.size });
      for (const b of allocation.bridges) for (const w of b.windows) if (w.size > 0n) reserved.push({ space: w.kind === 'io' ? 'io' : 'mem', base: w.base, size: w.size });
      done.push({ segment: s.segment, scan, allocation });
    }
  } catch (e) {
    journal.rollback();
    throw e;
  }
  return { segments: done, all: done.flatMap((d) => d.scan.all), map: resourceMap(policy, done, sized, keep) };
}

/** Kept BARs inside a root window: the allocator must lay everything else out around them. */
function keptRanges(
  all: ScanNode[], sized: Map<ScanNode, SizedFunction>, keep: (n: ScanNode, b: SizedFunction['bars'][number]) => boolean,
  windows: RootWindows,
): ReservedRange[] {
  const within = (w: Window | undefined, base: bigint, size: bigint) => w !== undefined && base < w.base + w.size && w.base < base + size;
  const out: ReservedRange[] = [];
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
  policy: PolicyName, done: FirmwareResult['segments'], sized: Map<ScanNode, SizedFunction>,
  keep: (n: ScanNode, b: SizedFunction['bars'][number]) => boolean,
): ResourceMap {
  const functions: ResourceMap['functions'] = [];
  const bridges: ResourceMap['bridges'] = [];
  for (const { scan, allocation } of done) {
    const assigned = new Map(allocation.functions.map((f) => [f.bdf, f.bars]));
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
    for (const n of scan.all) {
      if (n.children === undefined) continue;
      bridges.push({
        bdf: n.bdf, secondary: n.secondary!, subordinate: n.subordinate!,
        windows: (windows.get(n.bdf) ?? []).filter((w) => w.size > 0n).map((w) => ({ kind: w.kind, base: hx(w.base), size: hx(w.size) })),
      });
    }
  }
  return { policy, segments: done.map((d) => d.segment), functions, bridges };
}
