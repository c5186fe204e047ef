// Synthesized access traces, recorded from the real thing: a vpci bus built from a topology, driven
// through a RecordingBus by the firmware ('boot'), by the guest driver kit ('virtio-io') or by a
// seeded generator ('random'). Every read carries the value the bus returned, so the trace replays
// on a fresh bus of the same topology with every expected value reproduced.
import { createBus } from '../bus.js';
import type { Bus } from '../bus.js';
import type { BackendKind } from '../core/backend.js';
import type { WasmSource } from '../../bindings/load.js';
import { ArgumentError } from '../errors.js';
import { routeFromTable, runFirmware } from '../firmware/index.js';
import type { FirmwareOptions } from '../firmware/index.js';
import { GuestInterrupts, GuestRam, VirtioBlk, VirtioPciDevice, VirtioRng, VirtioType, SECTOR, isVirtioModern, scanFunctions } from '../guest/index.js';
import type { ResolvedTopology, Topology } from '../topology/index.js';
import type { AccessSize, TraceEvent } from '../trace/index.js';
import { Prng } from './prng.js';
import { RecordingBus } from './recording-bus.js';

/**
 * What drives a synthesized trace: the firmware ('boot'), the guest driver kit doing virtio I/O
 * after boot ('virtio-io'), or seeded random accesses after boot ('random').
 */
export type SynthProfile = 'boot' | 'virtio-io' | 'random';
export const PROFILES: readonly SynthProfile[] = ['boot', 'virtio-io', 'random'];

/**
 * Options of `synthesizeTrace`: the profile, how much, the seed, and the bus it is recorded on
 * (backend, Wasm source, topology).
 */
export interface SynthesizeOptions {
  profile: SynthProfile;
  /** 'virtio-io': device requests (default 100); 'random': accesses after boot (default 100). */
  count?: number;
  /** Seeds every random choice (default 1). */
  seed?: number;
  backend?: BackendKind;
  /** Where the recording bus's Wasm core comes from (hosts that cannot compile inline bytes). */
  wasm?: WasmSource;
  /** Default: the built-in default topology. */
  topology?: Topology | string | ResolvedTopology;
}

/**
 * Guest RAM of the 'virtio-io' profile: the guest-physical range its memwrite events fall in. A
 * replay attaches RAM here (`bus.dma.addRam`) before it applies them.
 */
export const SYNTH_RAM = { base: 0, size: 0x80000 } as const;

/** Queue entries the 'virtio-io' guest asks for (rings stay small; RAM diffs stay cheap). */
const QUEUE_SIZE = 64;

/** Firmware as vpci runs it: every segment of the topology, the bus's own INTx routing. */
export function firmwareOptions(bus: Bus): FirmwareOptions {
  return {
    segments: bus.topology.segments.map((s) => ({ segment: s.segment, rootBus: s.ecam?.busStart ?? 0, maxBus: s.ecam?.busEnd ?? 255 })),
    irqRoute: routeFromTable(bus.interrupts),
  };
}

function checkOptions(o: SynthesizeOptions): { count: number; seed: number } {
  if (!PROFILES.includes(o.profile)) throw new ArgumentError(`profile: "${String(o.profile)}" is not one of ${PROFILES.join(', ')}`);
  const count = o.count ?? 100;
  if (!Number.isInteger(count) || count < 0) throw new ArgumentError(`count: ${String(count)} is not a non-negative integer`);
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed)) throw new ArgumentError(`seed: ${String(seed)} is not an integer`);
  return { count, seed };
}

/** Records a trace of `profile` on a fresh bus (see the file comment). */
export async function synthesizeTrace(options: SynthesizeOptions): Promise<TraceEvent[]> {
  const { count, seed } = checkOptions(options);
  const bus = await createBus({ backend: options.backend, wasm: options.wasm, topology: options.topology });
  const prng = new Prng(seed);
  switch (options.profile) {
    case 'boot': {
      const rec = new RecordingBus(bus);
      runFirmware(rec, firmwareOptions(bus));
      return rec.take();
    }
    case 'virtio-io':
      return virtioIo(bus, count, prng);
    case 'random': {
      const rec = new RecordingBus(bus);
      runFirmware(rec, firmwareOptions(bus));
      randomAccesses(rec, count, prng);
      return rec.take();
    }
  }
}

// ---- 'virtio-io' ------------------------------------------------------------------------------

type Driver = { kind: 'rng'; rng: VirtioRng } | { kind: 'blk'; blk: VirtioBlk };

/** Guest RAM that notes when the guest driver may have written it (so unchanged RAM is not compared). */
class TrackedRam extends GuestRam {
  private dirty = true;
  readonly takeDirty = (): boolean => {
    const was = this.dirty;
    this.dirty = false;
    return was;
  };

  override alloc(size: number, align?: number): number { this.dirty = true; return super.alloc(size, align); }
  override setU8(gpa: number, v: number): void { this.dirty = true; super.setU8(gpa, v); }
  override setU16(gpa: number, v: number): void { this.dirty = true; super.setU16(gpa, v); }
  override setU32(gpa: number, v: number): void { this.dirty = true; super.setU32(gpa, v); }
  override setU64(gpa: number, v: number): void { this.dirty = true; super.setU64(gpa, v); }
  override write(gpa: number, data: Uint8Array): void { this.dirty = true; super.write(gpa, data); }
  override fill(gpa: number, length: number, value: number): void { this.dirty = true; super.fill(gpa, length, value); }
  /** A writable view: assume it is written through. */
  override view8(gpa: number, length: number): Uint8Array { this.dirty = true; return super.view8(gpa, length); }
}

function virtioIo(bus: Bus, count: number, prng: Prng): TraceEvent[] {
  const ram = new TrackedRam({ base: SYNTH_RAM.base, size: SYNTH_RAM.size });
  ram.attach(bus);
  const rec = new RecordingBus(bus);
  runFirmware(rec, firmwareOptions(bus));
  rec.watchRam(ram);
  const irq = new GuestInterrupts({ log: false });
  bus.interrupts.setSink(irq);
  // What a guest OS does next: scan, then bind drivers to the virtio functions with a device model
  // behind them (config-space clones without behaviour would never answer).
  const drivers: Driver[] = [];
  for (const found of scanFunctions(rec)) {
    if (bus.device(found.bdf) === undefined) continue;
    const open = () => new VirtioPciDevice({ bus: rec, ram, irq, function: found });
    if (isVirtioModern(found, VirtioType.ENTROPY)) drivers.push({ kind: 'rng', rng: new VirtioRng(open(), { queue: { size: QUEUE_SIZE } }) });
    else if (isVirtioModern(found, VirtioType.BLOCK)) drivers.push({ kind: 'blk', blk: new VirtioBlk(open(), { queue: { size: QUEUE_SIZE } }) });
  }
  if (count > 0 && drivers.length === 0) throw new ArgumentError('topology: no virtio-rng or virtio-blk device with a model behind it for the virtio-io profile');
  for (let i = 0; i < count; i++) {
    const d = prng.pick(drivers);
    if (d.kind === 'rng') {
      d.rng.request(1 + prng.below(256));
      continue;
    }
    const blk = d.blk;
    const sectors = 1 + prng.below(8);
    const sector = prng.below(Math.max(1, blk.capacity - sectors + 1));
    const roll = prng.below(16);
    if (roll === 0) blk.flush();
    else if (roll === 1) blk.getId();
    else if (roll < 8 && !blk.readOnly) blk.write(sector, prng.fill(new Uint8Array(sectors * SECTOR)));
    else blk.read(sector, sectors * SECTOR);
  }
  return rec.take();
}

// ---- 'random' ---------------------------------------------------------------------------------

/** Probability that an access goes to a mapped region rather than anywhere. */
const MAPPED = 0.85;
const READ = 0.6;
/** Regions that are config mechanisms: read them, never write (a write would rearrange the bus). */
const CONFIG_KINDS = new Set(['ecam', 'cfc']);

function randomAccesses(rec: RecordingBus, count: number, prng: Prng): void {
  // The region list is taken once: these accesses never write the config mechanisms, so no BAR,
  // Command or bridge window changes under them and the list stays what it was after boot.
  const all = rec.regions();
  const writable = all.filter((r) => !CONFIG_KINDS.has(r.kind));
  const config = all.filter((r) => CONFIG_KINDS.has(r.kind));
  for (let i = 0; i < count; i++) {
    const read = prng.chance(READ);
    const regions = read ? all : writable;
    if (regions.length > 0 && prng.chance(MAPPED)) {
      const r = prng.pick(regions);
      const sizes: AccessSize[] = r.space === 'io' ? [1, 2, 4] : [1, 2, 4, 8];
      const fitting = sizes.filter((s) => BigInt(s) <= r.size);
      const size = fitting.length > 0 ? prng.pick(fitting) : 1;
      const span = r.size > BigInt(size) ? r.size - BigInt(size) + 1n : 1n;
      let offset = prng.bigBelow(span);
      if (!prng.chance(0.1)) offset -= offset % BigInt(size); // mostly naturally aligned
      access(rec, prng, r.space, r.base + offset, size, read);
    } else {
      const io = prng.chance(0.3);
      const size: AccessSize = io ? prng.pick([1, 2, 4] as const) : prng.pick([1, 2, 4, 8] as const);
      // Anywhere at all: mostly nothing there (a master abort), sometimes a region by chance.
      const addr = io ? BigInt(prng.below(0x10000 - size + 1)) : BigInt(prng.u32()) & ~BigInt(size - 1);
      // Writes keep clear of the config mechanisms here too.
      const hitsConfig = config.some((r) => r.space === (io ? 'io' : 'mmio') && addr + BigInt(size) > r.base && addr < r.base + r.size);
      access(rec, prng, io ? 'io' : 'mmio', addr, size, read || hitsConfig);
    }
  }
}

function access(rec: RecordingBus, prng: Prng, space: 'io' | 'mmio', addr: bigint, size: AccessSize, read: boolean): void {
  if (space === 'io') {
    if (read) rec.ioRead(Number(addr), size);
    else rec.ioWrite(Number(addr), size, Number(prng.bits(size)));
  } else if (read) {
    rec.mmioRead(addr, size);
  } else {
    rec.mmioWrite(addr, size, prng.bits(size));
  }
}
