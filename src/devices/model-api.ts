// What a device model with behaviour gets from the bus, and what it gives back. A model's
// `create` returns its config-space source plus, optionally, a `behaviour`; the Bus calls
// `behaviour.attach(context)` once the function is in the core (BARs attached, interrupts
// attached), in topology order. The context is everything a device does, bound to its function:
// serve parts of its BARs, DMA through its IOMMU domain and Bus Master Enable, raise interrupts.
// See docs/devices.md.
import type { DmaResult, SgElement } from '../dma/index.js';
import type { RegionHandler } from '../dispatch/types.js';
import type { SignalResult } from '../interrupts/types.js';
import type { PlainValue } from '../snapshot/codec.js';
import type { StateReader } from '../snapshot/check.js';

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
}

/** A device's running state: what `bus.device(path)` returns; the embedder calls `reset` for a function-level reset. */
export interface DeviceInstance {
  /** Returns the device to its power-on state. */
  reset?(): void;
  /** The function was removed (unplugged, a virtual function disabled): stop what runs on its own. */
  detach?(): void;
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
