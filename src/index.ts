/**
 * vpci: an emulated PCI/PCIe bus with a WebAssembly core and a pure-TypeScript twin.
 * The library entry: Web APIs and ES2022 only (Node-only code lives in src/runtime/node and src/cli).
 *
 * @module vpci
 */
export { createBus, Bus } from './bus.js';
export type { BusOptions, PlugDevice } from './bus.js';
export type { BackendKind, CoreBackend } from './core/backend.js';
export { Status, Limits } from './core/backend.js';
export type { HostAccess, RawEffect, RawEvent, RawIrqEvent, RegionInfo } from './core/backend.js';
export { TsCore } from './core/ts/ts-core.js';
export { loadWasmCore, WasmLoadError } from '../bindings/load.js';
export type { WasmSource } from '../bindings/load.js';
export { VpciError, TopologyError, DescriptorError, ArgumentError } from './errors.js';
export * from './topology/index.js';
export * from './config/index.js';
export * from './devices/index.js';
export * from './lspci/index.js';
export * from './firmware/index.js';
export type { DmaResult, DomainKind, RamOptions, MapOptions, SgElement, DmaFaultRecord, DmaStats } from './dma/index.js';
export { DmaService } from './dma/index.js';
export * from './interrupts/index.js';
export { ErrorReporting } from './errors/index.js';
export type { PcieError, ErrorReport, ErrorMessage } from './errors/index.js';
export type {
  RegionHandler, RegfileHandler, DoorbellHandler, DeviceModelHandler, RegionOptions, MappedRegion, RegionStats, BusStats,
  BarEffect, DoorbellEvent, ReplayResult, AccessErrorInfo, Space, BarKindName, RegionKindName,
} from './dispatch/types.js';
// The virtio device models (transport, rng, blk) and the guest-side driver kit share names
// (VirtioFeature, BlkStatus, ...) from the two sides of the spec: each under its own namespace.
export * as virtio from './devices/virtio/index.js';
export * as guest from './guest/index.js';
// Traces: formats (readers, writers), replay with verification, synthesis.
export * as trace from './trace/index.js';
export { TraceReplayer, replayEvents } from './replay/index.js';
export type { ReplayOptions, ReplaySummary, ReplayMismatch } from './replay/index.js';
export { synthesizeTrace } from './trace-synth/index.js';
export type { SynthesizeOptions, SynthProfile } from './trace-synth/index.js';
// The runtime scenario every runtime runs identically (firmware run + default trace replay).
export { runScenario, defaultTrace, configDigest, SCENARIO_VERSION } from './scenario/index.js';
export type { ScenarioOptions, ScenarioResult, ScenarioSummary, ScenarioProgress } from './scenario/index.js';
// Snapshots of a bus's whole state (bus.snapshot(), bus.restore()) and their container.
export { SnapshotError, StateReader, SNAPSHOT_VERSION, topologyFingerprint } from './snapshot/index.js';
export type { SnapshotOptions, PlainValue } from './snapshot/index.js';
// The core-level state behind a snapshot (CoreBackend.saveState / loadState).
export type {
  CoreState, FunctionState, DispatchState, DispatchCounters, BarState, RegionState, RegfileState, InterruptState,
  IrqFunctionState, IntxRouteState, DmaState, DmaCounters, RamState, DomainState, MappingState, AttachmentState,
  IotlbEntryState, FaultState,
} from './core/state.js';
