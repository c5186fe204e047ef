// bus.snapshot() and bus.restore(): the whole state of a bus — the core's (config spaces, BAR
// mappings, counters, interrupts, DMA domains, internal RAM), the RAM the embedder handed over,
// and every device model's — as one versioned blob, restorable into a fresh bus of either
// backend built from the same topology. A restore checks the whole blob first and puts the bus
// back exactly as it was when anything does not fit.
import type { Bus } from '../bus.js';
import type { CoreState } from '../core/state.js';
import { statusText } from '../core/backend.js';
import { StateReader } from './check.js';
import type { PlainValue } from './codec.js';
import { readContainer, writeContainer } from './container.js';
import { SnapshotError } from './errors.js';
import { Fnv1a } from '../util/fnv1a.js';

/** What goes into a snapshot beside the core and the device models. */
export interface SnapshotOptions {
  /**
   * Carry the contents of RAM the embedder handed over (`dma.addRam({ buffer })`) — default true.
   * An emulator that saves its own RAM sets false; the restore then leaves those bytes alone.
   */
  externalRam?: boolean;
}

/** The body's name for what it is, checked first on restore. */
const FORMAT = 'vpci-bus-snapshot';

/**
 * FNV-1a over what makes one topology's bus the same as another's: each function's path, model
 * kind and power-on config planes. A snapshot restores only into a bus with the same fingerprint.
 */
export function topologyFingerprint(bus: Bus): string {
  const h = new Fnv1a();
  const text = new TextEncoder();
  for (const f of bus.topology.functions) {
    h.bytes(text.encode(`${f.path}|${f.kind}|${f.planes.size};`)).bytes(f.planes.config).bytes(f.planes.wmask).bytes(f.planes.w1cmask);
  }
  return h.hex();
}

/** Every device model instance by path, with what it can save. */
function models(bus: Bus): [string, ReturnType<Bus['device']>][] {
  return bus.topology.functions.map((f) => [f.path, bus.device(f.path)] as [string, ReturnType<Bus['device']>]).filter(([, d]) => d !== undefined);
}

function deviceStates(bus: Bus): { [path: string]: PlainValue } {
  const out: { [path: string]: PlainValue } = {};
  for (const [path, d] of models(bus)) {
    if (d!.saveState) out[path] = d!.saveState();
    else if (d!.loadState) throw new SnapshotError(`devices["${path}"]`, 'the model loads state but cannot save it');
  }
  return out;
}

function externalRam(bus: Bus): PlainValue[] {
  return bus.dma.externalIndexes().map((index) => {
    const bytes = bus.dma.ram(index);
    return { index, bytes: bytes.slice() };
  });
}

/** The whole state of `bus` as a snapshot blob. */
export function snapshotBus(bus: Bus, options: SnapshotOptions = {}): Uint8Array {
  return writeContainer({
    format: FORMAT,
    backend: bus.backend,
    topology: { name: bus.topology.name, fingerprint: topologyFingerprint(bus), functions: bus.topology.functions.length },
    core: bus.core.saveState() as unknown as PlainValue,
    externalRam: options.externalRam === false ? null : externalRam(bus),
    devices: deviceStates(bus),
  });
}

/** The checked parts of a decoded body, each with what loads it. */
interface Plan {
  core: CoreState;
  ram: { bytes: Uint8Array; data: Uint8Array }[] | undefined;
  devices: (() => void)[];
}

function plan(bus: Bus, body: PlainValue): Plan {
  const r = new StateReader(body, 'body');
  const format = r.get('format').str();
  if (format !== FORMAT) throw new SnapshotError('body.format', `"${format}" is not a vpci bus snapshot`);
  r.get('backend').str();
  const t = r.get('topology');
  const fingerprint = t.get('fingerprint').str();
  const name = t.get('name').str();
  if (fingerprint !== topologyFingerprint(bus)) {
    throw new SnapshotError('body.topology', `the snapshot is of topology "${name}" (fingerprint ${fingerprint}); this bus was built from "${bus.topology.name}" (fingerprint ${topologyFingerprint(bus)}): restore into a bus of the same topology`);
  }
  const core = r.get('core');
  if (core.value === null || typeof core.value !== 'object') throw new SnapshotError('body.core', 'missing');
  // External RAM: the same regions must be there (the core checks base and size), and each
  // snapshot region's bytes must fit its buffer.
  const ramReader = r.get('externalRam');
  const have = new Set(bus.dma.externalIndexes());
  const ram = ramReader.optional((x) => x.items().map((item) => {
    const index = item.get('index').int(0, 63);
    if (!have.has(index)) throw new SnapshotError(`${item.place}.index`, `RAM region ${index} is the embedder's in the snapshot; add the same RAM (dma.addRam with a buffer) before restoring`);
    const bytes = bus.dma.ram(index);
    return { bytes, data: item.get('bytes').bytes(bytes.length) };
  }));
  const states = r.get('devices');
  const devices: (() => void)[] = [];
  const present = models(bus);
  for (const [path, d] of present) {
    const s = states.get(path);
    if (d!.loadState) {
      if (s.value === undefined) throw new SnapshotError(s.place, 'missing: the snapshot has no state for this device model');
      // Models check everything before changing anything; run them last, after the core loaded.
      devices.push(() => d!.loadState!(s));
    } else if (s.value !== undefined) {
      throw new SnapshotError(s.place, 'this bus\'s model for the function keeps no state, the snapshot has some');
    }
  }
  return { core: core.value as unknown as CoreState, ram, devices };
}

/**
 * Restores a snapshot into `bus`, a bus built from the same topology (of either backend). The
 * blob is checked whole (header, CRC-32, format, topology, every field a part reads) before
 * anything changes; if a part still refuses, everything is put back as it was and the error says
 * which part and why.
 */
export function restoreBus(bus: Bus, blob: Uint8Array): void {
  const p = plan(bus, readContainer(blob));
  // What to go back to if a later part refuses (the core and every model check before they change).
  const before = { core: bus.core.saveState(), ram: p.ram?.map((x) => x.bytes.slice()), devices: deviceStates(bus) };
  let status: number;
  try {
    status = bus.core.loadState(p.core);
  } catch (e) {
    // A state of the wrong shape that made the loader throw: it checks before it changes.
    throw new SnapshotError('body.core', `does not fit this bus: ${(e as Error).message}`);
  }
  if (status < 0) throw new SnapshotError('body.core', `does not fit this bus: ${statusText(status)}`);
  try {
    p.ram?.forEach((x) => x.bytes.set(x.data));
    for (const load of p.devices) load();
  } catch (e) {
    bus.core.loadState(before.core);
    p.ram?.forEach((x, i) => x.bytes.set(before.ram![i]));
    for (const [path, d] of models(bus)) {
      if (d!.loadState && before.devices[path] !== undefined) d!.loadState(new StateReader(before.devices[path], `rollback.${path}`));
    }
    throw e instanceof SnapshotError ? e : new SnapshotError('body.devices', (e as Error).message);
  }
}
