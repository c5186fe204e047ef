/**
 * vpci/v86: vpci as the PCI bus of a v86 emulator (npm package `v86`): `attachToV86` routes the
 * guest's config cycles, BAR and window accesses to a vpci bus, gives the bus v86's RAM for DMA
 * and delivers its INTx lines to v86's PICs; `v86Topology` is a PC chipset (i440FX, PIIX3) with
 * virtio devices; `V86Recorder` records what the guest did into a vpci binary trace.
 * docs/v86.md says which v86 internals it relies on.
 *
 * @module vpci/v86
 */
export { attachToV86 } from './attach.js';
export type { AccessObserver, V86AttachOptions, V86Attachment, V86AdapterStats, V86Conflict } from './attach.js';
export { v86Topology } from './topology.js';
export type { V86TopologyOptions } from './topology.js';
export { checkTopologyForV86, v86OwnRanges } from './v86-ranges.js';
export type { V86Range } from './v86-ranges.js';
export type { V86Emulator, V86Cpu, V86Io, V86PortEntry } from './v86-internals.js';
export { V86Recorder } from './recorder.js';
export type { V86RecorderOptions } from './recorder.js';
