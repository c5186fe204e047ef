// The bus: a core (Wasm or TypeScript) loaded with a topology, behind the contract API of
// ARCHITECTURE.md §8. This layer parses BDF strings and converts values; the PCI behaviour is
// all in the core, so both backends answer every access the same way.
import { loadWasmCore } from '../bindings/load.js';
import type { WasmSource } from '../bindings/load.js';
import type { BackendKind, CoreBackend } from './core/backend.js';
import { onesFor, statusText } from './core/backend.js';
import { Dispatch } from './dispatch/dispatch.js';
import { DmaService } from './dma/index.js';
import { InterruptService, piixRoutes } from './interrupts/index.js';
import type { InterruptSink } from './interrupts/index.js';
import type { BusStats, RegionHandler, RegionOptions, MappedRegion, BarEffect, DoorbellEvent, ReplayResult, AccessErrorInfo } from './dispatch/types.js';
import { TsCore } from './core/ts/ts-core.js';
import { ArgumentError, TopologyError } from './errors.js';
import type { DeviceBehaviour, DeviceContext, DeviceInstance, SriovControl, VirtualFunctionHost } from './devices/model-api.js';
import type { ConfigPlanes } from './config/index.js';
import { treeName } from './lspci/index.js';
import type { FunctionDump, TreeFunction } from './lspci/index.js';
import { CapId, walkCapabilities } from './config/index.js';
import { canonicalPath } from './topology/bdf.js';
import { restoreBus, snapshotBus, SnapshotError } from './snapshot/index.js';
import { ConfigWatch } from './config-watch.js';
import { SharedPins } from './interrupts/shared-pin.js';
import type { SnapshotOptions } from './snapshot/index.js';
import { defaultTopology, formatBdf, parseBdf, resolveTopology } from './topology/index.js';
import type { FileReader, FunctionAddress, ResolvedFunction, ResolvedTopology, Topology } from './topology/index.js';
import { HotplugSlots } from './hotplug/slots.js';
import type { PlugDevice } from './hotplug/slots.js';
export type { PlugDevice } from './hotplug/slots.js';
import { ErrorReporting } from './errors/index.js';
import { installSoftReset } from './power/index.js';

/**
 * Options of `createBus`: the backend, the topology and where the Wasm core, template files and
 * interrupts come from or go.
 */
export interface BusOptions {
  /** 'wasm' (default) or 'ts', the pure-TypeScript twin. */
  backend?: BackendKind;
  /** A topology object, its JSON text, or a resolved topology; default: the built-in one. */
  topology?: Topology | string | ResolvedTopology;
  /** Where the Wasm core comes from (default: the bytes inlined in the bundle). */
  wasm?: WasmSource;
  /** Names the topology in error messages. */
  source?: string;
  /** Reads files a topology's templates name (the Node runtime passes one). */
  readFile?: FileReader;
  /** Told when a TypeScript device model throws (the access completed as a master abort). */
  onError?: (error: unknown, info: AccessErrorInfo) => void;
  /**
   * Where interrupts go (INTx line changes, MSI/MSI-X messages), delivered synchronously; without
   * one they queue for `bus.interrupts.poll()`. Also settable later: `bus.interrupts.setSink`.
   */
  interrupts?: InterruptSink;
}


/** Addresses at or above 2^53 are never decoded: no platform's physical address space is that large. */
const TWO_64 = 1n << 64n;
const TWO_52 = 1n << 52n;

/**
 * The embedder-facing checks the numeric boundary cannot make: Wasm would truncate 1.5 to 1 and
 * take 2^32 + 0xCF8 modulo 2^32, so sizes, offsets, ports and addresses that are not exact
 * integers in range never reach a core. Both backends then see only well-formed numbers.
 */
function isSize(size: number, max: number): boolean {
  return size === 1 || size === 2 || size === 4 || (size === 8 && max === 8);
}

/** A port the core can be asked about: an integer in [0, 2^64), like a batch record's u64. */
function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port < 2 ** 64;
}

function isIndex(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

/**
 * The number to hand the core. Integers below 2^52 are exact addresses. A bigint at or above 2^52
 * (below 2^64) is an address nothing can decode: it becomes 2^52, which the core answers with a
 * master abort, as a batch record with that address gets. Negative or larger bigints become -1,
 * which the core counts as invalid; numbers go as they are (the core checks them).
 */
function toAddress(addr: number | bigint): number {
  if (typeof addr === 'bigint') return addr >= 0n && addr < TWO_64 ? (addr < TWO_52 ? Number(addr) : 2 ** 52) : -1;
  return addr;
}

function isResolved(t: unknown): t is ResolvedTopology {
  return typeof t === 'object' && t !== null && 'functions' in t && Array.isArray((t as ResolvedTopology).functions);
}

/** Creates a bus: resolves the topology (validating it fully), then loads it into a fresh core. */
export async function createBus(options: BusOptions = {}): Promise<Bus> {
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'ts') throw new ArgumentError(`backend: "${String(backend)}" is not "wasm" or "ts"`);
  const input = options.topology ?? defaultTopology;
  const topology = isResolved(input) ? input
    : await resolveTopology(input, { source: options.source, readFile: options.readFile });
  const core: CoreBackend = backend === 'wasm' ? await loadWasmCore(options.wasm) : new TsCore();
  const bus = new Bus(core, topology, options.onError);
  if (options.interrupts !== undefined) bus.interrupts.setSink(options.interrupts);
  return bus;
}

/** The address a core's slotAddress() packs: seg << 16 | bus << 8 | dev << 3 | fn. */
function unpack(packed: number): FunctionAddress {
  return { seg: packed >>> 16, bus: (packed >>> 8) & 0xff, dev: (packed >>> 3) & 0x1f, fn: packed & 7 };
}

/**
 * An emulated PCI/PCIe bus: a core (Wasm or TypeScript) loaded with a resolved topology. Guest
 * accesses go in through config, MMIO and port-IO calls and are answered by the core; handlers, DMA
 * and interrupts hang off it. Made by `createBus` (or `new Bus(core, topology)` with a core of
 * one's own).
 */
export class Bus {
  private readonly bdfCache = new Map<string, FunctionAddress>();
  /** Core slots by function path ("0000:00:05.0", "0000:00:05.0/00.0"). */
  private readonly slots = new Map<string, number>();
  /** Function paths by core slot. */
  private readonly paths = new Map<number, string>();
  /** Slots of paths as callers spell them ("00:05.0/0.0"), so a path is parsed once. */
  private readonly pathCache = new Map<string, number>();
  private readonly dispatch: Dispatch;
  /** DMA on behalf of functions: guest RAM, IOMMU domains, transfers, the fault log. */
  readonly dma: DmaService;
  /** Interrupts: INTx pins and routing, MSI and MSI-X signals, the sink they are delivered to. */
  readonly interrupts: InterruptService;
  /** PCI Express error reporting (AER): `errors.report(bdf, error)` as the function's hardware would (src/errors/). */
  readonly errors: ErrorReporting;

  constructor(readonly core: CoreBackend, readonly topology: ResolvedTopology, onError?: BusOptions['onError']) {
    this.configWatch = new ConfigWatch(core);
    this.hotplug = new HotplugSlots({
      functions: () => this.live,
      has: (path) => this.slots.has(path),
      instance: (path) => this.deviceInstances.get(path),
      pathOf: (bdfOrPath) => this.paths.get(this.slotOfBdf(bdfOrPath))!,
      configRead: (path, offset, size) => this.ownConfigRead(this.slots.get(path)!, this.live.find((f) => f.path === path)!.planes.size, offset, size),
      addFunction: (where, source) => this.addFunction(where, source),
      removeFunction: (path) => this.removeFunction(path),
    });
    this.ecamWindows = topology.segments.flatMap((s) => (s.ecam ? [{ base: s.ecam.base, end: s.ecam.base + (s.ecam.busEnd - s.ecam.busStart + 1) * 2 ** 20 }] : []));
    this.live = [...topology.functions];
    for (const s of topology.segments) {
      if (!s.ecam) continue;
      const status = core.setEcam(s.segment, s.ecam.base, s.ecam.busStart, s.ecam.busEnd);
      if (status < 0) throw new TopologyError(topology.source, `segments(${s.segment}).ecam`, statusText(status));
    }
    // Parents come first in `functions`: a bridge is in the core, planes loaded, before anything
    // is added below it.
    const slotByIndex: number[] = [];
    for (const f of topology.functions) {
      const slot = f.parent < 0
        ? core.addFunction(f.seg, f.bus, f.dev, f.fn, f.planes.size)
        : core.addFunctionBelow(slotByIndex[f.parent], f.dev, f.fn, f.planes.size);
      if (slot < 0) throw new TopologyError(topology.source, f.path, `cannot add the function: ${statusText(slot)}`);
      core.loadPlanes(slot, f.planes.config, f.planes.wmask, f.planes.w1cmask);
      slotByIndex.push(slot);
      this.slots.set(f.path, slot);
      this.paths.set(slot, f.path);
    }
    // BARs get region ids in topology order (so overlaps resolve the same way on every run).
    for (const f of topology.functions) {
      const status = core.barAttach(this.slots.get(f.path)!);
      if (status < 0) throw new TopologyError(topology.source, f.path, `cannot map the BARs: ${statusText(status)}`);
    }
    // The INTx routing table goes in before any function is attached to the interrupt logic (a
    // route change re-evaluates every attached function).
    const interrupts = topology.interrupts ?? { routing: 'piix', routes: piixRoutes(topology.segments.map((s) => s.segment)) };
    interrupts.routes.forEach((r, i) => {
      const status = core.intxRoute(r.segment, r.device, r.pin, r.gsi);
      if (status < 0) throw new TopologyError(topology.source, `interrupts.routing[${i}]`, `cannot route segment ${r.segment} device ${r.device} pin ${r.pin} to GSI ${r.gsi}: ${statusText(status)}`);
    });
    // Pins and MSI/MSI-X capabilities; the MSI-X table and PBA become handler regions of their BARs.
    for (const f of topology.functions) {
      const status = core.irqAttach(this.slots.get(f.path)!);
      if (status < 0) {
        const msix = walkCapabilities(f.planes.config).some((c) => c.id === CapId.MSIX);
        throw new TopologyError(topology.source, f.path, `cannot attach the interrupts: ${statusText(status)}` +
          (msix ? ' (the MSI-X table and PBA must each lie inside an implemented memory BAR)' : ''));
      }
    }
    this.dispatch = new Dispatch(core, topology, this.slots, onError);
    const slotOf = (bdf: string) => this.slotOfBdf(bdf);
    const pathOf = (slot: number) => this.paths.get(slot) ?? `slot ${slot}`;
    this.dma = new DmaService(core, slotOf, pathOf);
    this.interrupts = new InterruptService(core, slotOf, pathOf);
    // AER (src/errors/) and the D3hot -> D0 soft reset (src/power/) act through device-side writes.
    // The space given to poke is only its own range check: AER offsets come from the function's
    // capability list, and the core refuses any past the function's own config space.
    this.pins = new SharedPins(this.interrupts);
    // AER shares the function's INTx pin with its device model (a root port's hot-plug controller).
    const aerInterrupts = { notify: this.interrupts.notify.bind(this.interrupts), intx: (path: string, level: boolean) => this.pins.set(path, 'aer', level) };
    this.errors = new ErrorReporting({
      core, watch: this.configWatch, interrupts: aerInterrupts, functions: topology.functions, slotOf, pathOf,
      poke: (slot, offset, size, value) => this.poke(slot, 4096, offset, size, value),
    });
    this.softReset = (functions) => installSoftReset({
      core, watch: this.configWatch, functions, slotOf,
      poke: (slot, space, offset, size, value) => this.poke(slot, space, offset, size, value), device: (path) => this.deviceInstances.get(path),
    });
    this.softReset(topology.functions);
    // Device models with behaviour come to life last, in topology order, each bound to its function.
    for (const f of topology.functions) {
      if (!f.behaviour) continue;
      try {
        this.deviceInstances.set(f.path, f.behaviour.attach(this.contextFor(f)));
      } catch (e) {
        // The bus is not handed out: a model that fails to come up fails createBus, naming it.
        throw new TopologyError(topology.source, f.path, `the device model failed to attach: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    // Hot-plug slots learn whether a card is in them at power-on.
    for (const f of topology.functions) this.hotplug.connect(f.path);
  }

  /** The running device models, by function path. */
  private readonly deviceInstances = new Map<string, DeviceInstance>();
  /** INTx pins shared by several sources of one function (its model, AER). */
  private readonly pins: SharedPins;
  /** Watches functions with No_Soft_Reset 0 for the D3hot -> D0 internal reset (src/power/). */
  private readonly softReset: (functions: readonly ResolvedFunction[]) => void;

  /** The device model instance of a function (path or current BDF), if its model has behaviour. */
  device<T extends DeviceInstance = DeviceInstance>(pathOrBdf: string): T | undefined {
    return this.deviceInstances.get(this.paths.get(this.slotOfBdf(pathOrBdf))!) as T | undefined;
  }

  /**
   * The SR-IOV controls of a Physical Function (path or current BDF) whose model serves its SR-IOV
   * capability ('sriov-endpoint'): enable and disable VFs as a host driver would, with errors
   * that name the problem. ArgumentError for any other function.
   */
  sriov(pathOrBdf: string): SriovControl {
    const control = this.device(pathOrBdf)?.sriov;
    if (control === undefined) throw new ArgumentError(`sriov: ${pathOrBdf} is not a function whose model runs an SR-IOV capability`);
    return control;
  }

  /**
   * What a device model may do, bound to its function (see src/devices/model-api.ts). Once the
   * function is removed the context does nothing: DMA moves no byte ('bus-master-off'),
   * interrupts are not raised ('disabled'), config reads are all ones.
   */
  private contextFor(f: ResolvedFunction): DeviceContext {
    const { path, seg } = f;
    const space = f.planes.size;
    const gone = () => this.gone.has(path);
    const slot = () => this.slots.get(path)!;
    return {
      path,
      bar: (bar, handler, range) => {
        if (gone()) throw new ArgumentError(`bar: ${path} has been removed`);
        return this.setBarHandler(path, bar, handler, range);
      },
      dmaRead: (iova, into) => (gone() ? 'bus-master-off' : this.dma.read(path, iova, into)),
      dmaWrite: (iova, data) => (gone() ? 'bus-master-off' : this.dma.write(path, iova, data)),
      dmaReadSg: (list, into) => (gone() ? 'bus-master-off' : this.dma.readSg(path, list, into)),
      dmaWriteSg: (list, data) => (gone() ? 'bus-master-off' : this.dma.writeSg(path, list, data)),
      intx: (level) => { if (!gone()) this.pins.set(path, 'device', level); },
      msix: (vector) => (gone() ? 'disabled' : this.interrupts.msix(path, vector)),
      msi: (vector) => (gone() ? 'disabled' : this.interrupts.msi(path, vector)),
      notify: (vector) => (gone() ? 'disabled' : this.interrupts.notify(path, vector)),
      configRead: (offset, size) => (gone() ? onesFor(isSize(size, 4) ? size : 4) : this.ownConfigRead(slot(), space, offset, size)),
      configPoke: (offset, size, value) => {
        if (gone()) return;
        this.poke(slot(), space, offset, size, value);
      },
      watchConfig: (offset, length, onChange) => this.configWatch.add(slot(), space, offset, length, onChange),
      routeIntx: (device, pin, gsi) => this.interrupts.route(seg, device, pin, gsi),
      reportError: (error) => (gone() ? undefined : this.errors.reportFrom(slot(), error)),
      virtualFunctions: this.virtualFunctionHost(path, gone),
    };
  }

  /**
   * A PF model's way to add its VFs (DeviceContext.virtualFunctions): functions on the PF's own
   * bus and fixed-address regions, each removable only through the host that added it.
   */
  private virtualFunctionHost(path: string, gone: () => boolean): VirtualFunctionHost {
    const functions = new Set<string>();
    const regions = new Set<number>();
    return {
      routingId: () => {
        if (gone()) return undefined;
        const packed = this.core.slotAddress(this.slots.get(path)!);
        return packed < 0 ? undefined : packed & 0xffff;
      },
      addFunction: (devfn, source) => {
        if (gone()) throw new ArgumentError(`addFunction: ${path} has been removed`);
        if (!isIndex(devfn, 255)) throw new ArgumentError(`addFunction: devfn ${devfn} is not 0..255`);
        // Looked up now, not when the context was made: `live` entries are rebuilt as functions
        // come and go, so a captured parent index could name another bridge.
        const self = this.live.find((f) => f.path === path)!;
        const dev = devfn >> 3;
        const fn = devfn & 7;
        const where = self.parent >= 0 ? { below: this.live[self.parent].path, dev, fn } : { seg: self.seg, bus: self.bus, dev, fn };
        const added = this.addFunction(where, source);
        functions.add(added);
        return added;
      },
      removeFunction: (vf) => {
        if (!functions.has(vf)) throw new ArgumentError(`removeFunction: ${vf} was not added by ${path}`);
        functions.delete(vf);
        if (this.slots.has(vf)) this.removeFunction(vf);
      },
      addRegion: (options) => {
        if (gone()) throw new ArgumentError(`addRegion: ${path} has been removed`);
        const id = this.addRegion(options);
        regions.add(id);
        return id;
      },
      removeRegion: (id) => {
        if (!regions.has(id)) throw new ArgumentError(`removeRegion: region ${id} was not added by ${path}`);
        regions.delete(id);
        this.removeRegion(id);
      },
    };
  }

  /**
   * A device-side config write (no masks, no RW1C): the bytes become `value`, and everything that
   * follows config writes follows (BAR mapping, bridge routing, interrupt state, watches).
   */
  private poke(slot: number, space: number, offset: number, size: number, value: number): void {
    if (!isSize(size, 4) || !isIndex(offset, space - 1) || (offset & 3) + size > 4) {
      throw new ArgumentError(`configPoke(0x${Number(offset).toString(16)}, ${size}): 1, 2 or 4 bytes inside one dword of the ${space}-byte space`);
    }
    const status = this.core.configPoke(slot, offset, size, value >>> 0);
    if (status < 0) throw new ArgumentError(`configPoke: ${statusText(status)}`);
    if (status > 0 || this.core.irqQueued() !== 0) this.interrupts.deliver();
    if (this.configWatch.active) this.configWatch.check();
  }

  /**
   * Adds a function at run time — below a bridge (`{ below: path, dev, fn }`) or on a root bus
   * (`{ seg, bus, dev, fn }`) — with its config space and, optionally, a behaviour: the
   * primitive under hotplug and SR-IOV virtual functions. Returns its path. An occupied address,
   * a parent that is not a bridge, a full core or a model that fails to attach throw
   * ArgumentError and leave the bus as it was.
   */
  addFunction(
    where: { below: string; dev: number; fn: number } | { seg: number; bus: number; dev: number; fn: number },
    source: { planes: ConfigPlanes; behaviour?: DeviceBehaviour; name?: string; kind?: string; barSizes?: { index: number; size: bigint }[] },
  ): string {
    const { dev, fn } = where;
    if (!isIndex(dev, 31) || !isIndex(fn, 7)) throw new ArgumentError(`addFunction: device ${dev} function ${fn} is not 0..31 / 0..7`);
    let parentSlot = -1;
    let parentIndex = -1;
    let path: string;
    let seg: number;
    let busNo = -1;
    if ('below' in where) {
      parentSlot = this.slotOfPath(where.below);
      const parentPath = this.paths.get(parentSlot)!;
      parentIndex = this.live.findIndex((f) => f.path === parentPath);
      seg = this.live[parentIndex].seg;
      path = `${parentPath}/${dev.toString(16).padStart(2, '0')}.${fn}`;
    } else {
      if (!isIndex(where.seg, 0xffff) || !isIndex(where.bus, 255)) throw new ArgumentError(`addFunction: segment ${where.seg} bus ${where.bus} is out of range`);
      seg = where.seg;
      busNo = where.bus;
      path = formatBdf({ seg, bus: busNo, dev, fn });
    }
    if (this.slots.has(path)) throw new ArgumentError(`addFunction: ${path} is already present`);
    const planes = source.planes;
    const slot = parentSlot >= 0 ? this.core.addFunctionBelow(parentSlot, dev, fn, planes.size) : this.core.addFunction(seg, busNo, dev, fn, planes.size);
    if (slot < 0) throw new ArgumentError(`addFunction: ${path}: ${statusText(slot)}${parentSlot >= 0 ? ' (the parent must be a bridge)' : ''}`);
    const undo = (why: string): never => {
      this.core.removeFunction(slot);
      throw new ArgumentError(`addFunction: ${path}: ${why}`);
    };
    let status = this.core.loadPlanes(slot, planes.config, planes.wmask, planes.w1cmask);
    if (status < 0) undo(`cannot load the config space: ${statusText(status)}`);
    status = this.core.barAttach(slot);
    if (status < 0) undo(`cannot map the BARs: ${statusText(status)}`);
    status = this.core.irqAttach(slot);
    if (status < 0) undo(`cannot attach the interrupts: ${statusText(status)}`);
    const f: ResolvedFunction = {
      seg, bus: busNo, dev, fn, bdf: path, path, parent: parentIndex, name: source.name ?? path, kind: source.kind ?? 'descriptor',
      planes, barSizes: source.barSizes ?? [],
      ...(source.behaviour ? { behaviour: source.behaviour } : {}),
    };
    this.slots.set(path, slot);
    this.paths.set(slot, path);
    this.live.push(f);
    this.dispatch.addFunction(slot, path, planes.config);
    this.gone.delete(path);
    this.softReset([f]);
    if (source.behaviour) {
      try {
        this.deviceInstances.set(path, source.behaviour.attach(this.contextFor(f)));
      } catch (e) {
        this.forgetFunction(path, slot);
        this.core.removeFunction(slot);
        throw new ArgumentError(`addFunction: ${path}: the device model failed to attach: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    this.hotplug.connect(path);
    this.changedFunctions = true;
    if (this.core.irqQueued() !== 0) this.interrupts.deliver();
    return path;
  }

  /**
   * Removes a function added by the topology or at run time: its BARs stop decoding, its
   * interrupts are released (an asserted INTx line drops), its DMA attachment goes, its device
   * model is told (`detach`) and can do nothing more. A bridge with functions below it cannot be
   * removed first (ArgumentError); neither can an unknown path.
   */
  removeFunction(pathOrBdf: string): void {
    const slot = this.slotOfBdf(pathOrBdf);
    const path = this.paths.get(slot)!;
    if (this.live.some((f) => f.parent >= 0 && this.live[f.parent].path === path)) {
      throw new ArgumentError(`removeFunction: ${path} has functions below it: remove them first`);
    }
    const instance = this.deviceInstances.get(path);
    this.gone.add(path);
    const status = this.core.removeFunction(slot);
    if (status < 0) {
      this.gone.delete(path);
      throw new ArgumentError(`removeFunction: ${path}: ${statusText(status)}`);
    }
    this.forgetFunction(path, slot);
    this.changedFunctions = true;
    try {
      instance?.detach?.();
    } catch {
      // A model failing to clean up must not undo the removal: the function is gone either way.
    }
    if (this.core.irqQueued() !== 0) this.interrupts.deliver();
  }

  /**
   * Plugs a card into a root port's hot-plug slot, as a person would (PCIe Base 6.0 §6.7): the
   * device becomes function 00.0 below the port, then the slot reports it — Presence Detect State
   * and Changed, DLL Link Active and DLL State Changed (when the slot is powered) — and raises the
   * hot-plug interrupt if the guest enabled it. `slot` names the port ("00:09.0", its path, or
   * "00:09.0/00.0"); `device` is a topology device entry without placement: `{ model, options,
   * name }` or `{ descriptor, name }` (with, optionally, a `behaviour` of the embedder's). Returns the new function's path. The guest (or `runFirmware`
   * style config writes) then assigns its BARs inside the port's windows. ArgumentError, bus
   * unchanged, for a slot that is occupied or not hot-plug capable, a malformed entry (the field
   * named), or a bridge (it would need bus numbers firmware did not reserve).
   */
  plug(slot: string, device: PlugDevice): string {
    return this.hotplug.plug(slot, device);
  }

  /**
   * Takes the card out of a hot-plug slot at once (a surprise removal, §6.7.3.3): every function
   * in the slot is removed (`removeFunction`: BARs unmapped, interrupts released, DMA detached, the
   * model detached), then the slot reports it — Presence Detect State 0 with Changed, DLL Link
   * Active 0 with State Changed — and raises the hot-plug interrupt if enabled. `slot` names the
   * port or a function in the slot (path or BDF). ArgumentError, bus unchanged, for an empty slot
   * or a function that is not in a hot-plug slot.
   */
  unplug(slot: string): void {
    this.hotplug.unplug(slot);
  }

  /**
   * Presses the attention button of a hot-plug slot (the port, or a function in its slot):
   * Attention Button Pressed is set and the hot-plug interrupt follows if the guest enabled it.
   */
  pressAttentionButton(slot: string): void {
    this.hotplug.pressAttentionButton(slot);
  }

  /**
   * Asks the guest to give up the card in a slot, as QEMU's device_del does for native hotplug:
   * the attention button is pressed, and when the guest then powers the slot off (Slot Control
   * Power Controller Control 0 -> 1, what Linux's pciehp does after its 5-second grace period) the
   * card is removed as by `unplug`. ArgumentError for an empty slot.
   */
  requestUnplug(slot: string): void {
    this.hotplug.requestUnplug(slot);
  }

  /** Drops every table entry of a removed function; `parent` indexes are rebuilt by path. */
  private forgetFunction(path: string, slot: number): void {
    this.deviceInstances.delete(path);
    this.slots.delete(path);
    this.paths.delete(slot);
    for (const [k, v] of this.pathCache) if (v === slot) this.pathCache.delete(k);
    this.dispatch.removeFunction(slot);
    this.interrupts.forget(slot);
    this.pins.forget(path);
    this.configWatch.forget(slot);
    const parentPaths = this.live.map((f) => (f.parent >= 0 ? this.live[f.parent].path : undefined));
    const kept = this.live.map((f, i) => ({ f, parent: parentPaths[i] })).filter((e) => e.f.path !== path);
    const index = new Map(kept.map((e, i) => [e.f.path, i]));
    this.live = kept.map((e) => ({ ...e.f, parent: e.parent === undefined ? -1 : index.get(e.parent)! }));
  }

  /** Whether functions were added or removed since the bus was built. */
  get functionsChanged(): boolean {
    return this.changedFunctions;
  }

  /** Device models' watches on config bytes (chipset registers), checked after config writes. */
  private readonly configWatch: ConfigWatch;
  /** The hot-plug slots: what `plug`, `unplug` and friends do (src/hotplug/). */
  private readonly hotplug: HotplugSlots;
  /** The ECAM windows: MMIO writes there are config writes. */
  private readonly ecamWindows: { base: number; end: number }[];
  /**
   * The functions present now: the topology's, then those added at run time (hotplug, SR-IOV
   * virtual functions), less those removed. `parent` indexes this list.
   */
  private live: ResolvedFunction[];
  /** Functions added or removed since the bus was built (a snapshot then refuses: see `snapshot`). */
  private changedFunctions = false;
  /** Paths of functions whose device model context must do nothing more (removed). */
  private readonly gone = new Set<string>();

  /**
   * A function's own config bytes, read device-side: whatever the bridges' bus numbers say (a
   * device behind an unnumbered bridge still knows its Command and capabilities).
   */
  private ownConfigRead(slot: number, space: number, offset: number, size: number): number {
    if (!isSize(size, 4) || !isIndex(offset, space - 1) || (offset & 3) + size > 4) return onesFor(size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.core.planeByte(slot, 0, offset + i);
    return v;
  }

  /**
   * The core slot of a function of the topology, named by a path ("00:05.0/00.0") or by the BDF
   * a config cycle reaches it at now ("01:00.0"); ArgumentError for anything else.
   */
  private slotOfBdf(bdf: string): number {
    if (bdf.includes('/')) return this.slotOfPath(bdf);
    const a = this.address(bdf);
    const slot = this.core.slotAt(a.seg, a.bus, a.dev, a.fn);
    if (slot < 0 || !this.paths.has(slot)) {
      const hint = this.live.some((f) => f.parent >= 0)
        ? ', or not one that answers there now (functions behind bridges answer at the bus numbers their bridges hold; a path like "00:04.0/00.0" names one wherever it is)'
        : '';
      throw new ArgumentError(`bdf: ${bdf} is not a function of the topology${hint}`);
    }
    return slot;
  }

  private slotOfPath(path: string): number {
    let slot = this.pathCache.get(path);
    if (slot === undefined) {
      const c = canonicalPath(path);
      if ('reason' in c) throw new ArgumentError(`bdf: ${c.reason} (a device path reads like "00:05.0/00.0")`);
      slot = this.slots.get(c.path);
      if (slot === undefined) throw new ArgumentError(`bdf: ${c.path} is not a function of the topology`);
      this.pathCache.set(path, slot);
    }
    return slot;
  }

  /**
   * Where a function answers config cycles now, as "SSSS:BB:DD.F": given its path or a BDF.
   * Undefined when no config cycle reaches it (a bridge above it does not forward its bus yet),
   * or when nothing answers at the BDF. A malformed name or an unknown path is an ArgumentError.
   */
  addressOf(pathOrBdf: string): string | undefined {
    let slot: number;
    if (pathOrBdf.includes('/')) {
      slot = this.slotOfPath(pathOrBdf);
    } else {
      const a = this.address(pathOrBdf);
      slot = this.core.slotAt(a.seg, a.bus, a.dev, a.fn);
      if (slot < 0) return undefined;
    }
    const packed = this.core.slotAddress(slot);
    return packed < 0 ? undefined : formatBdf(unpack(packed));
  }

  /** Adds a region at a fixed address served by `handler`; returns its id. */
  addRegion(options: RegionOptions): number {
    return this.dispatch.addRegion(options);
  }

  /** Removes a region added with addRegion. */
  removeRegion(id: number): void {
    this.dispatch.removeRegion(id);
  }

  /**
   * Serves [offset, offset+length) of a function's BAR (6 = ROM) with `handler`; the handler moves
   * with the BAR and wins over the rest of it. Returns the region id. The function is named by
   * its path or its current BDF.
   */
  setBarHandler(bdf: string, bar: number, handler: RegionHandler, range: { offset?: number; length?: number } = {}): number {
    return this.dispatch.setBarHandler(this.slotOfBdf(bdf), bar, handler, range);
  }

  /** BAR mapping changes since the last call, oldest first. */
  effects(): BarEffect[] {
    return this.dispatch.effects();
  }

  /** Doorbell writes since the last call, oldest first. */
  events(): DoorbellEvent[] {
    return this.dispatch.events();
  }

  /** Counters per region and device, master aborts, invalid accesses, model errors, drops. */
  stats(): BusStats {
    return this.dispatch.stats();
  }

  /** The regions mapped now, by id. */
  regions(): MappedRegion[] {
    return this.dispatch.regions();
  }

  /** Runs access records (layout v1, docs/batch-records.md) inside the core; then delivers the interrupts they raised. */
  replay(records: Uint8Array): ReplayResult {
    const result = this.dispatch.replay(records);
    if (this.core.irqQueued() !== 0) this.interrupts.deliver();
    if (this.configWatch.active) this.configWatch.check();
    return result;
  }

  /** 'wasm' or 'ts'. */
  get backend(): BackendKind {
    return this.core.kind;
  }

  /** The functions present: the topology's in its order, then those added at run time. */
  functions(): readonly ResolvedFunction[] {
    return this.live;
  }

  private address(bdf: string): FunctionAddress {
    let a = this.bdfCache.get(bdf);
    if (a === undefined) {
      a = parseBdf(bdf);
      this.bdfCache.set(bdf, a);
    }
    return a;
  }

  /**
   * Where a config access to `bdf` goes: a BDF as it is, a path ("00:05.0/00.0") to where the
   * function answers now; undefined when nothing reaches that function.
   */
  private target(bdf: string): FunctionAddress | undefined {
    // The hot path: a BDF seen before (paths are never in this cache).
    const known = this.bdfCache.get(bdf);
    if (known !== undefined) return known;
    if (!bdf.includes('/')) return this.address(bdf);
    const packed = this.core.slotAddress(this.slotOfPath(bdf));
    return packed < 0 ? undefined : unpack(packed);
  }

  /**
   * Reads `size` (1, 2 or 4) bytes of a function's config space: at a BDF, or where the function
   * a path names answers now. Absent or unreachable functions, offsets past the space and
   * accesses crossing a dword read all ones (see README "Access rules").
   */
  configRead(bdf: string, offset: number, size: number): number {
    const a = this.target(bdf);
    if (!isSize(size, 4)) return 0xffffffff;
    if (!isIndex(offset, 0xfff) || a === undefined) return onesFor(size);
    return this.core.configRead(a.seg, a.bus, a.dev, a.fn, offset, size);
  }

  /** Writes config space through the function's write masks; what cannot be written is dropped. */
  configWrite(bdf: string, offset: number, size: number, value: number): void {
    const a = this.target(bdf);
    if (!isSize(size, 4) || !isIndex(offset, 0xfff) || a === undefined) return;
    if (this.core.configWrite(a.seg, a.bus, a.dev, a.fn, offset, size, value) !== 0) this.interrupts.deliver();
    if (this.configWatch.active) this.configWatch.check();
  }

  /** An MMIO read of 1, 2, 4 or 8 bytes (8 returns a bigint). Nothing decoded: all ones. */
  mmioRead(addr: number | bigint, size: 8): bigint;
  mmioRead(addr: number | bigint, size: number): number;
  mmioRead(addr: number | bigint, size: number): number | bigint {
    if (!isSize(size, 8)) {
      this.core.countInvalid();
      return 0xffffffff;
    }
    const a = toAddress(addr);
    const lo = this.core.mmioRead(a, size);
    if (size !== 8) return lo;
    return (BigInt(this.core.mmioReadHigh()) << 32n) | BigInt(lo);
  }

  /** An MMIO write of 1, 2, 4 or 8 bytes (value: number, or bigint for 8). */
  mmioWrite(addr: number | bigint, size: number, value: number | bigint): void {
    if (!isSize(size, 8)) {
      this.core.countInvalid();
      return;
    }
    const a = toAddress(addr);
    const queued = typeof value === 'bigint'
      ? this.core.mmioWrite(a, size, Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn))
      : this.core.mmioWrite(a, size, value >>> 0, size === 8 ? Math.floor(value / 4294967296) >>> 0 : 0);
    if (queued !== 0) this.interrupts.deliver();
    // Only an ECAM write changes config bytes here (a device model's own changes check themselves):
    // the MMIO hot path pays one range test, and nothing without watches.
    if (this.configWatch.active && this.inEcamWindow(a)) this.configWatch.check();
  }

  /** Whether an MMIO address falls in a segment's ECAM window. */
  private inEcamWindow(addr: number): boolean {
    for (const w of this.ecamWindows) if (addr >= w.base && addr < w.end) return true;
    return false;
  }

  /** A port-IO read of 1, 2 or 4 bytes; 0xCF8/0xCFC-0xCFF reach config space. */
  ioRead(port: number, size: number): number {
    if (!isSize(size, 4) || !isPort(port)) {
      this.core.countInvalid();
      return isSize(size, 4) ? onesFor(size) : 0xffffffff;
    }
    // Ports past 0xFFFF are integers the core can decode (nothing is there): a master abort.
    return this.core.ioRead(port > 0xffffffff ? 0x10000 : port, size);
  }

  /** A port-IO write of 1, 2 or 4 bytes; 0xCF8/0xCFC-0xCFF reach config space. */
  ioWrite(port: number, size: number, value: number): void {
    if (!isSize(size, 4) || !isPort(port)) {
      this.core.countInvalid();
      return;
    }
    if (this.core.ioWrite(port > 0xffffffff ? 0x10000 : port, size, value) !== 0) this.interrupts.deliver();
    // Config data writes (0xCFC-0xCFF) may have changed watched bytes.
    if (this.configWatch.active && port >= 0xcfc && port <= 0xcff) this.configWatch.check();
  }

  /**
   * The whole state of the bus — config spaces, BAR mappings, counters, interrupt state, DMA
   * domains and RAM, every device model's state — as a versioned, self-describing blob that
   * `restore` takes on a bus of either backend built from the same topology (src/snapshot).
   */
  snapshot(options?: SnapshotOptions): Uint8Array {
    this.refuseChangedFunctions('snapshot');
    return snapshotBus(this, options);
  }

  /**
   * A snapshot names the topology's functions by fingerprint; one taken or restored after
   * functions came or went (hotplug, virtual functions) would not match any topology file.
   */
  private refuseChangedFunctions(what: string): void {
    if (this.changedFunctions) {
      throw new SnapshotError('functions', `${what}: functions were added or removed at run time (hotplug, SR-IOV virtual functions); snapshots cover a bus whose functions are the topology's`);
    }
  }

  /**
   * Continues from a snapshot: this bus (fresh or not, of either backend, built from the same
   * topology, with the same embedder RAM regions added) takes the saved state. A truncated,
   * corrupted, future-version or foreign blob throws SnapshotError naming the place, and the bus
   * is left as it was.
   */
  restore(blob: Uint8Array): void {
    this.refuseChangedFunctions('restore');
    restoreBus(this, blob);
    // The restored core holds the pins' levels; which source held them is not in a snapshot.
    this.pins.forget();
    this.configWatch.resync();
  }

  /**
   * The config space of every function a config cycle reaches now, at its current address (dword
   * reads), in topology order; functions behind bridges that do not forward their bus yet are left
   * out. For lspci-style output.
   */
  dump(): FunctionDump[] {
    const out: FunctionDump[] = [];
    for (const f of this.live) {
      const a = this.currentAddress(f);
      if (a === undefined) continue;
      out.push({ ...a, config: this.readSpace(a, f.planes.size) });
    }
    return out;
  }

  /**
   * The functions a config cycle reaches now as a bus tree for `formatTree` (`lspci -tv`):
   * functions on root buses, bridges with their bus numbers (config bytes 0x19/0x1a as the guest
   * reads them) and the functions reachable below them; names as lspci prints them without an ID
   * database.
   */
  tree(): TreeFunction[] {
    const nodes: (TreeFunction | undefined)[] = [];
    const roots: TreeFunction[] = [];
    this.live.forEach((f, i) => {
      const a = this.currentAddress(f);
      if (a === undefined || (f.parent >= 0 && nodes[f.parent] === undefined)) return;
      const head = this.readSpace(a, 0x1c);
      const node: TreeFunction = { ...a, name: treeName(head) };
      if ((head[0x0e] & 0x7f) === 1) {
        node.secondary = head[0x19];
        node.subordinate = head[0x1a];
        node.children = [];
      }
      nodes[i] = node;
      if (f.parent < 0) roots.push(node);
      else (nodes[f.parent]!.children ??= []).push(node);
    });
    return roots;
  }

  private currentAddress(f: ResolvedFunction): FunctionAddress | undefined {
    const packed = this.core.slotAddress(this.slots.get(f.path)!);
    return packed < 0 ? undefined : unpack(packed);
  }

  private readSpace(a: FunctionAddress, size: number): Uint8Array {
    const config = new Uint8Array(size);
    const view = new DataView(config.buffer);
    for (let off = 0; off < size; off += 4) {
      view.setUint32(off, this.core.configRead(a.seg, a.bus, a.dev, a.fn, off, 4), true);
    }
    return config;
  }
}
