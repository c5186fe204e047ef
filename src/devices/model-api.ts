// What a device model with behaviour gets from the bus, and what it gives back. A model's
// `create` returns its config-space source plus, optionally, a `behaviour`; the Bus calls
// `behaviour.attach(context)` once the function is in the core (BARs attached, interrupts
// attached), in topology order. The context is everything a device does, bound to its function:
// serve parts of its BARs, DMA through its IOMMU domain and Bus Master Enable, raise interrupts.
// See docs/devices.md.
import type { DmaResult, SgElement } from '../dma/index.js';
import type { RegionHandler, RegionOptions } from '../dispatch/types.js';
import type { ConfigPlanes } from '../config/planes.js';
import type { SignalResult } from '../interrupts/types.js';
import type { PlainValue } from '../snapshot/codec.js';
import type { StateReader } from '../snapshot/check.js';
import type { ErrorReport, PcieError } from '../errors/index.js';

/**
 * What a device model's behaviour gets from the bus at `attach`: its BARs, DMA and interrupts, all
 * bound to its one function.
 */
export interface DeviceContext {
  /** The function's path ("0000:00:05.0/00.0"): stable whatever bus numbers firmware writes. */
  readonly path: string;
  /** Serves [offset, offset + length) of BAR `bar` (6 = ROM) with `handler`; it moves with the BAR. */
  bar(bar: number, handler: RegionHandler, range?: { offset?: number; length?: number }): number;
  /** Reads guest memory at `iova` on behalf of the function (nothing moves unless all of it can). */
  dmaRead(iova: number, into: Uint8Array): DmaResult;
  /** Writes `data` to guest memory at `iova` on behalf of the function (all of it, or nothing). */
  dmaWrite(iova: number, data: Uint8Array): DmaResult;
  /** Gathers a scatter-gather list's bytes, one after another, into `into` (its length is their sum). */
  dmaReadSg(list: readonly SgElement[], into: Uint8Array): DmaResult;
  /** Scatters `data` over a scatter-gather list, in order (its length is their sum). */
  dmaWriteSg(list: readonly SgElement[], data: Uint8Array): DmaResult;
  /** Drives the function's INTx pin. */
  intx(level: boolean): void;
  /** Signals an MSI-X / MSI vector; `notify` uses whichever the guest enabled. */
  msix(vector: number): SignalResult;
  /** Signals MSI vector `vector`. */
  msi(vector: number): SignalResult;
  /**
   * Signals `vector` by MSI-X if the guest enabled it, else by MSI; 'disabled' if neither is (INTx
   * stays the model's to drive).
   */
  notify(vector: number): SignalResult;
  /** Reads the function's config space as the guest would (a device model may look at Command). */
  configRead(offset: number, size: number): number;
  /**
   * Changes the function's own config bytes as the device does (no write masks, no
   * write-1-to-clear): status bits a device sets, registers it updates. BAR mapping, bridge
   * routing, interrupt state and watches follow as after a guest write.
   */
  configPoke(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Calls `onChange` after any access that changed bytes [offset, offset + length) of the
   * function's config space (by a config cycle, ECAM, `bus.configWrite`, a batch replay as a whole,
   * or a snapshot restore). For chipset registers whose value steers the platform, such as PIRQ
   * routing; at most 16 bytes.
   */
  watchConfig(offset: number, length: number, onChange: () => void): void;
  /**
   * Routes root-bus `device`'s `pin` (1..4) of the function's segment to `gsi`, or unroutes it
   * (null): for interrupt routers (a PIIX3's PIRQ registers). Lines already asserted move at once.
   */
  routeIntx(device: number, pin: number, gsi: number | null): void;
  /**
   * The function detected a PCI Express error (`{ kind, bit, header? }`, the bit of its AER status
   * register): status and log bits are set and the error message goes up to the root port as the
   * function's hardware would (src/errors/aer-service.ts). ArgumentError for a bit the function
   * does not implement or a header that is not 16 bytes. A removed function reports nothing.
   */
  reportError(error: PcieError): ErrorReport | undefined;
  /**
   * For an SR-IOV Physical Function: adds and removes its Virtual Functions beside it and the
   * fixed-address regions that decode their VF BAR apertures. Other models leave it alone.
   */
  readonly virtualFunctions: VirtualFunctionHost;
}

/**
 * What a Physical Function's model uses to run its Virtual Functions (PCIe Base 6.0 §9.3): VFs
 * are functions on the PF's own bus (below the same bridge, or on the same root bus), and the
 * VF BAR apertures are regions at the addresses the PF's VF BARs give. The model removes what it
 * added (in `detach` at the latest: the bus does not know which VFs are still wanted).
 */
export interface VirtualFunctionHost {
  /**
   * The PF's Routing ID now, bus << 8 | device << 3 | function: where a config cycle reaches it.
   * Undefined while none does (a bridge above it has no bus number yet).
   */
  routingId(): number | undefined;
  /**
   * Adds a function at `devfn` (device << 3 | function) of the PF's bus, with its config space
   * and optionally a behaviour; returns its path. ArgumentError as `Bus.addFunction` (an
   * occupied address, a full core, a model failing to attach), or when the PF was removed.
   */
  addFunction(devfn: number, source: { planes: ConfigPlanes; behaviour?: DeviceBehaviour; name?: string; kind?: string }): string;
  /** Removes a function this host added; one already removed (an unplug took it) is ignored. */
  removeFunction(path: string): void;
  /** Adds a region at a fixed address, as `Bus.addRegion`; returns its id. */
  addRegion(options: RegionOptions): number;
  /** Removes a region this host added. */
  removeRegion(id: number): void;
}

/**
 * The embedder's handle on a PF's SR-IOV capability (`bus.sriov(path)`): what a host driver does
 * through config writes (Linux's pci_enable_sriov / pci_disable_sriov), with errors that name
 * the problem instead of the silence a guest's config write gets.
 */
export interface SriovControl {
  /** TotalVFs of the capability. */
  readonly totalVFs: number;
  /** NumVFs as the capability holds it now. */
  readonly numVFs: number;
  /** Whether VF Enable is set. */
  readonly enabled: boolean;
  /** Paths of the VFs present now, VF 0 first. */
  vfs(): readonly string[];
  /**
   * Writes NumVFs, then VF Enable and VF Memory Space Enable (as Linux's sriov_enable); returns
   * the VFs' paths. ArgumentError, with nothing changed, when `numVFs` is not 1..TotalVFs
   * ('NumVFs 9 is above TotalVFs 7'), VFs are already enabled, or they cannot be placed.
   */
  enable(numVFs: number): readonly string[];
  /** Clears VF Enable and VF MSE and sets NumVFs to 0 (as Linux's sriov_disable): the VFs go. */
  disable(): void;
  /**
   * Why the guest's last SR-IOV request was not carried out (a NumVFs write above TotalVFs or
   * while VF Enable was set, VFs that could not be placed), or undefined when it was.
   */
  readonly refusal: string | undefined;
}

/** A device's running state: what `bus.device(path)` returns; the embedder calls `reset` for a function-level reset. */
export interface DeviceInstance {
  /** Returns the device to its power-on state. */
  reset?(): void;
  /** The function was removed (unplugged, a virtual function disabled): stop what runs on its own. */
  detach?(): void;
  /** A Physical Function's SR-IOV controls, for `bus.sriov(path)`. */
  readonly sriov?: SriovControl;
  /**
   * The model's running state as plain data (numbers, booleans, strings, bigints, Uint8Array,
   * Uint32Array, arrays, plain objects) for `bus.snapshot()`. A model that keeps state between
   * accesses implements it together with `loadState`; one that keeps none needs neither.
   */
  saveState?(): DeviceState;
  /**
   * Loads what `saveState` returned — possibly on a bus of the other backend. Reads it through
   * the StateReader, which names the field it rejects, and checks all of it before changing
   * anything: a state that does not fit throws and leaves the model as it was.
   */
  loadState?(state: StateReader): void;
}

/** A device model's state as `saveState` returns it: plain data the snapshot codec carries. */
export type DeviceState = PlainValue;

/** What a device model does, beyond its config space: the bus calls `attach` once per function, in topology order. */
export interface DeviceBehaviour {
  /** Brings the device to life on its function (BARs and interrupts already attached); returns its running state. */
  attach(context: DeviceContext): DeviceInstance;
}
