// Turns a topology (object or JSON text) into functions with built planes, validating everything
// first: an error names the source, the field path and the problem, and nothing is half-built.
import { CapId, buildPlanes, clonePlanes, walkCapabilities } from '../config/index.js';
import type { ConfigPlanes, TemplateSource, TemplateBarSize, FunctionDescriptor } from '../config/index.js';
import { createFromModel } from '../devices/registry.js';
import type { DeviceBehaviour } from '../devices/model-api.js';
import { DescriptorError, TopologyError } from '../errors.js';
import { parseLspciHexDump, parseSysfsResource } from '../lspci/index.js';
import { tryHexToBytes } from '../util/hex.js';
import { formatBdf, formatDevFn, parseBdfOrReason, parseDevFnOrReason } from './bdf.js';
import type { DevFn, FunctionAddress } from './bdf.js';
import { normalizeNumbers, parseNumberOrReason } from './numbers.js';
import type {
  FileReader, ResolvedFunction, ResolvedInterrupts, ResolvedSegment, ResolvedTopology, TemplateSpec, Topology, TopologyDevice,
} from './types.js';
import { MAX_GSI, piixRoutes } from '../interrupts/index.js';
import type { IntxRoute } from '../interrupts/index.js';

const SEGMENTS = 16;
const DEFAULT_ECAM = { base: 0xb0000000, busStart: 0, busEnd: 255 };

/** Options of `resolveTopology`: the name errors use and the reader of template files. */
export interface ResolveOptions {
  /** Names the topology in errors (a file name, or "topology"). */
  source?: string;
  /** Reads files a template names; without it such templates are refused. */
  readFile?: FileReader;
}

/** Parses JSON text or takes an object, validates it and builds every function's planes. */
export async function resolveTopology(input: Topology | string, options: ResolveOptions = {}): Promise<ResolvedTopology> {
  const source = options.source ?? 'topology';
  const fail = (path: string, problem: string): never => { throw new TopologyError(source, path, problem); };
  let topology: Topology;
  if (typeof input === 'string') {
    try {
      topology = JSON.parse(input) as Topology;
    } catch (e) {
      return fail('', `not valid JSON: ${(e as Error).message}`);
    }
  } else {
    topology = input;
  }
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) fail('', 'must be a JSON object with a "devices" array');
  if (!Array.isArray(topology.devices)) fail('devices', 'must be an array');
  if (topology.name !== undefined && typeof topology.name !== 'string') fail('name', 'must be a string');

  const segments = resolveSegments(topology, fail);
  const interrupts = resolveInterrupts(topology, segments, fail);
  // First every device on its own: placement fields, id, name, planes.
  const placed: Placed[] = [];
  const byAddress = new Map<string, number>();
  const byId = new Map<string, number>();
  for (let i = 0; i < topology.devices.length; i++) {
    const device = topology.devices[i];
    const path = `devices[${i}]`;
    if (device === null || typeof device !== 'object') fail(path, 'must be an object');
    const p = place(device, path, segments, byAddress, fail);
    if (p.root) byAddress.set(formatBdf(p.root), i);
    if (device.id !== undefined) {
      if (typeof device.id !== 'string' || device.id === '') fail(`${path}.id`, `${JSON.stringify(device.id)} is not a non-empty string`);
      if (typeof parseBdfOrReason(device.id) !== 'string') {
        fail(`${path}.id`, `"${device.id}" reads as a BDF; "behind" takes a bridge's id or its bdf, so an id must not look like one`);
      }
      const other = byId.get(device.id);
      if (other !== undefined) fail(`${path}.id`, `"${device.id}" is already the id of devices[${other}]`);
      byId.set(device.id, i);
    }
    if (device.name !== undefined && typeof device.name !== 'string') fail(`${path}.name`, 'must be a string');
    const built = await buildFunction(device, path, source, options.readFile, fail);
    checkMsixPlacement(device, path, built, fail);
    placed.push({ ...p, built, headerType: built.planes.config[0x0e] & 0x7f });
  }
  const parents = linkParents(topology.devices, placed, byId, byAddress, fail);
  const paths = devicePaths(placed, parents);
  checkBelowBridges(topology.devices, placed, parents, paths, fail);
  checkFunctionZero(placed, parents, paths, fail);
  checkBusCounts(placed, parents, segments, fail);

  // A bridge before the functions below it, otherwise topology order.
  const order: number[] = [];
  const position = new Map<number, number>();
  const emit = (i: number): void => {
    if (position.has(i)) return;
    if (parents[i] >= 0) emit(parents[i]);
    position.set(i, order.length);
    order.push(i);
  };
  for (let i = 0; i < placed.length; i++) emit(i);
  const functions: ResolvedFunction[] = order.map((i) => {
    const p = placed[i];
    const device = topology.devices[i];
    const seg = rootOf(i, parents, placed).seg;
    const at = p.root ?? { seg, bus: -1, ...p.below! };
    const f: ResolvedFunction = {
      seg, bus: at.bus, dev: at.dev, fn: at.fn, bdf: paths[i], path: paths[i],
      parent: parents[i] >= 0 ? position.get(parents[i])! : -1,
      name: device.name ?? paths[i],
      ...p.built,
    };
    if (device.id !== undefined) f.id = device.id;
    return f;
  });
  return { name: topology.name ?? 'topology', source, segments, functions, interrupts };
}


type Fail = (path: string, problem: string) => never;

/** One device after the checks that need only itself. */
interface Placed {
  /** On a root bus. */
  root?: FunctionAddress;
  /** Below the bridge `behind` names. */
  below?: DevFn;
  behind?: string;
  built: Built;
  /** config[0x0e] & 0x7f of the built planes: 1 for a bridge. */
  headerType: number;
}

/** Reads where a device sits: `bdf` (a root bus), or `behind` + `addr` (below a bridge). */
function place(
  device: TopologyDevice, path: string, segments: ResolvedSegment[], byAddress: Map<string, number>, fail: Fail,
): Omit<Placed, 'built' | 'headerType'> {
  if (device.bdf !== undefined && device.behind !== undefined) {
    fail(`${path}.behind`, 'a device has "bdf" (on a root bus) or "behind" and "addr" (below a bridge), not both');
  }
  if (device.behind === undefined) {
    if (device.addr !== undefined) {
      fail(device.bdf === undefined ? `${path}.behind` : `${path}.addr`, device.bdf === undefined
        ? 'is missing: "addr" places a device on the secondary bus of the bridge "behind" names'
        : 'goes with "behind"; a device on a root bus gives only "bdf"');
    }
    const address = parseBdfOrReason(device.bdf);
    if (typeof address === 'string') {
      fail(`${path}.bdf`, device.bdf === undefined ? `${address} (a device below a bridge gives "behind" and "addr" instead)` : address);
    }
    const a = address as FunctionAddress;
    const segment = segments.find((s) => s.segment === a.seg);
    if (!segment) fail(`${path}.bdf`, `segment ${a.seg} is not declared in "segments"`);
    const ecam = segment!.ecam;
    if (ecam && (a.bus < ecam.busStart || a.bus > ecam.busEnd)) {
      fail(`${path}.bdf`, `bus 0x${a.bus.toString(16)} is outside segment ${a.seg}'s ECAM window (buses 0x${ecam.busStart.toString(16)}-0x${ecam.busEnd.toString(16)})`);
    }
    const key = formatBdf(a);
    const other = byAddress.get(key);
    if (other !== undefined) fail(`${path}.bdf`, `${key} is already devices[${other}]`);
    return { root: a };
  }
  if (typeof device.behind !== 'string' || device.behind === '') {
    fail(`${path}.behind`, `${JSON.stringify(device.behind)} is not a bridge's "id" or "bdf"`);
  }
  if (device.addr === undefined) fail(`${path}.addr`, 'is missing: a device behind a bridge needs "addr", its "DD.F" on the secondary bus');
  const below = parseDevFnOrReason(device.addr);
  if (typeof below === 'string') fail(`${path}.addr`, below);
  return { below: below as DevFn, behind: device.behind };
}

/** Each device's parent index (-1 on a root bus): `behind` names a bridge, and every chain ends on a root bus. */
function linkParents(
  devices: TopologyDevice[], placed: Placed[], byId: Map<string, number>, byAddress: Map<string, number>, fail: Fail,
): number[] {
  const parents = placed.map((p, i) => {
    if (p.behind === undefined) return -1;
    const address = parseBdfOrReason(p.behind);
    const j = byId.get(p.behind) ?? (typeof address === 'string' ? undefined : byAddress.get(formatBdf(address)));
    if (j === undefined) {
      fail(`devices[${i}].behind`, `"${p.behind}" is neither the "id" of a device nor the "bdf" of a device on a root bus`);
    }
    if (placed[j!].headerType !== 1) {
      fail(`devices[${i}].behind`, `"${p.behind}" is devices[${j}], which is not a bridge (header type ${placed[j!].headerType}, not 1): only a bridge has a secondary bus`);
    }
    return j!;
  });
  const reaches = new Set<number>();
  for (let i = 0; i < parents.length; i++) {
    const chain: number[] = [];
    let at = i;
    while (parents[at] >= 0 && !reaches.has(at)) {
      if (chain.includes(at)) {
        const loop = chain.slice(chain.indexOf(at));
        const first = Math.min(...loop);
        const from = loop.indexOf(first);
        const named = [...loop.slice(from), ...loop.slice(0, from), first].map((k) => devices[k].id !== undefined ? `"${devices[k].id}"` : `devices[${k}]`);
        fail(`devices[${first}].behind`, `${named.join(' -> ')} is a loop: the chain of "behind" never reaches a device on a root bus`);
      }
      chain.push(at);
      at = parents[at];
    }
    for (const k of chain) reaches.add(k);
  }
  return parents;
}

/** The device on a root bus at the top of i's chain. */
function rootOf(i: number, parents: number[], placed: Placed[]): FunctionAddress {
  let at = i;
  while (parents[at] >= 0) at = parents[at];
  return placed[at].root!;
}

/** Every device's path: "SSSS:BB:DD.F" on a root bus, the parent's path + "/DD.F" below a bridge. */
function devicePaths(placed: Placed[], parents: number[]): string[] {
  const paths: string[] = [];
  const pathOf = (i: number): string => {
    if (paths[i] === undefined) paths[i] = parents[i] < 0 ? formatBdf(placed[i].root!) : `${pathOf(parents[i])}/${formatDevFn(placed[i].below!)}`;
    return paths[i];
  };
  placed.forEach((_, i) => pathOf(i));
  return paths;
}

/** No two devices at one "addr" below the same bridge. */
function checkBelowBridges(devices: TopologyDevice[], placed: Placed[], parents: number[], paths: string[], fail: Fail): void {
  const seen = new Map<string, number>();
  placed.forEach((p, i) => {
    if (parents[i] < 0) return;
    const other = seen.get(paths[i]);
    if (other !== undefined) fail(`devices[${i}].addr`, `${formatDevFn(p.below!)} below "${devices[i].behind}" is already devices[${other}] (${paths[i]})`);
    seen.set(paths[i], i);
  });
}

/** Functions 1-7 of a device need its function 0, on a root bus and below a bridge alike. */
function checkFunctionZero(placed: Placed[], parents: number[], paths: string[], fail: Fail): void {
  const present = new Set(paths);
  placed.forEach((p, i) => {
    const at = p.root ?? p.below!;
    if (at.fn === 0) return;
    const zero = parents[i] < 0 ? formatBdf({ ...p.root!, fn: 0 }) : `${paths[parents[i]]}/${formatDevFn({ ...p.below!, fn: 0 })}`;
    if (!present.has(zero)) {
      fail(`devices[${i}].${parents[i] < 0 ? 'bdf' : 'addr'}`, `${paths[i]} has no function 0 (${zero}); a guest scans functions 1-7 only when function 0 exists`);
    }
  });
}

/**
 * Every root bus and every bridge's secondary bus needs a bus number of its segment: the ECAM
 * window's buses, or 256 without one. Counted in topology order; the device that needs one too
 * many is named.
 */
function checkBusCounts(placed: Placed[], parents: number[], segments: ResolvedSegment[], fail: Fail): void {
  const roots = new Map<number, Set<number>>();
  const bridges = new Map<number, number>();
  placed.forEach((p, i) => {
    const seg = rootOf(i, parents, placed).seg;
    const buses = roots.get(seg) ?? new Set<number>();
    roots.set(seg, buses);
    const newRoot = p.root !== undefined && !buses.has(p.root.bus);
    if (newRoot) buses.add(p.root!.bus);
    if (p.headerType === 1) bridges.set(seg, (bridges.get(seg) ?? 0) + 1);
    const bridgeCount = bridges.get(seg) ?? 0;
    const ecam = segments.find((s) => s.segment === seg)!.ecam;
    const limit = ecam ? ecam.busEnd - ecam.busStart + 1 : 256;
    if (buses.size + bridgeCount > limit) {
      const has = ecam ? `its ECAM window covers ${limit} (0x${ecam.busStart.toString(16)}-0x${ecam.busEnd.toString(16)})` : 'a segment has 256';
      fail(newRoot ? `devices[${i}].bdf` : `devices[${i}]`,
        `segment ${seg} needs ${buses.size + bridgeCount} bus numbers (${buses.size} root bus${buses.size === 1 ? '' : 'es'} and ` +
        `${bridgeCount} bridge${bridgeCount === 1 ? '' : 's'}, each with its secondary bus), but ${has}`);
    }
  });
}

function resolveSegments(topology: Topology, fail: (p: string, m: string) => never): ResolvedSegment[] {
  if (topology.segments === undefined) return [{ segment: 0, ecam: DEFAULT_ECAM }];
  if (!Array.isArray(topology.segments)) fail('segments', 'must be an array');
  const out: ResolvedSegment[] = [];
  topology.segments.forEach((s, i) => {
    const path = `segments[${i}]`;
    if (s === null || typeof s !== 'object') fail(path, 'must be an object');
    if (!Number.isInteger(s.segment) || s.segment < 0 || s.segment >= SEGMENTS) fail(`${path}.segment`, `${JSON.stringify(s.segment)} is not a segment number 0..${SEGMENTS - 1}`);
    if (out.some((o) => o.segment === s.segment)) fail(`${path}.segment`, `segment ${s.segment} is declared twice`);
    if (s.ecam === false || s.ecam === undefined) {
      if (s.segment !== 0) fail(`${path}.ecam`, `segment ${s.segment} needs an ECAM window (only segment 0 is reached through 0xCF8/0xCFC)`);
      out.push({ segment: s.segment });
      return;
    }
    const base = parseNumberOrReason(s.ecam.base);
    if (typeof base === 'string') fail(`${path}.ecam.base`, base);
    if (typeof base === 'bigint' || (base as number) % 0x100000 !== 0) fail(`${path}.ecam.base`, `${String(s.ecam.base)} is not a 1 MiB aligned address below 2^53`);
    const [busStart, busEnd] = s.ecam.buses ?? [0, 255];
    if (!Number.isInteger(busStart) || !Number.isInteger(busEnd) || busStart < 0 || busEnd > 255 || busStart > busEnd) {
      fail(`${path}.ecam.buses`, `${JSON.stringify(s.ecam.buses)} is not [first, last] with 0 <= first <= last <= 255`);
    }
    const b = base as number;
    const end = b + (busEnd - busStart + 1) * 0x100000;
    if (end > 2 ** 53) fail(`${path}.ecam.base`, `the window ends at 0x${end.toString(16)}, past 2^53 (addresses there are never decoded)`);
    for (const o of out) {
      if (o.ecam && b < o.ecam.base + (o.ecam.busEnd - o.ecam.busStart + 1) * 0x100000 && o.ecam.base < end) {
        fail(`${path}.ecam.base`, `the window overlaps segment ${o.segment}'s ECAM window`);
      }
    }
    out.push({ segment: s.segment, ecam: { base: b, busStart, busEnd } });
  });
  return out;
}

/**
 * The MSI-X table and PBA must lie inside implemented BARs (PCI 3.0 §6.8.2.4-5): the core maps
 * them as regions of those BARs, so a function whose structures point elsewhere cannot be built.
 * Checked here so the error names the field; the bus's irqAttach refuses the same layouts.
 */
function checkMsixPlacement(device: TopologyDevice, path: string, built: Built, fail: Fail): void {
  const config = built.planes.config;
  const cap = walkCapabilities(config).find((c) => c.id === CapId.MSIX);
  if (cap === undefined || cap.offset + 12 > config.length) return;
  const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
  const entries = (view.getUint16(cap.offset + 2, true) & 0x7ff) + 1;
  const index = device.descriptor?.capabilities?.findIndex((c) => c?.id === 'msix') ?? -1;
  const where = device.descriptor !== undefined && index >= 0 ? `${path}.descriptor.capabilities[${index}]`
    : device.template !== undefined ? `${path}.template` : `${path}.model`;
  const parts = [
    { what: 'table', reg: 4, bytes: entries * 16, field: 'table' },
    { what: 'PBA', reg: 8, bytes: Math.ceil(entries / 64) * 8, field: 'pba' },
  ];
  for (const p of parts) {
    const value = view.getUint32(cap.offset + p.reg, true);
    const bir = value & 7;
    const offset = (value & ~7) >>> 0;
    const bar = built.barSizes.find((b) => b.index === bir && bir < 6);
    const field = where.endsWith(']') ? `${where}.${p.field}Bar` : where;
    if (bar === undefined) {
      fail(field, `the MSI-X ${p.what} is in BAR ${bir}, which the function does not implement` +
        (device.template !== undefined ? ' (a template needs its BAR sizes: barSizes or resourceFile)' : ''));
    }
    if (BigInt(offset) + BigInt(p.bytes) > bar!.size) {
      fail(where.endsWith(']') ? `${where}.${p.field}Offset` : where,
        `the MSI-X ${p.what} (0x${p.bytes.toString(16)} bytes at 0x${offset.toString(16)}) does not fit in BAR ${bir} (0x${bar!.size.toString(16)} bytes)`);
    }
  }
}

const ROUTE_KEYS = ['segment', 'device', 'pin', 'gsi'];

/** The INTx routing table: "piix" (default), "none", or explicit entries, every field checked. */
function resolveInterrupts(topology: Topology, segments: ResolvedSegment[], fail: Fail): ResolvedInterrupts {
  const spec = topology.interrupts;
  const piix = (): ResolvedInterrupts => ({ routing: 'piix', routes: piixRoutes(segments.map((s) => s.segment)) });
  if (spec === undefined) return piix();
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail('interrupts', 'must be an object like { "routing": "piix" }');
  for (const k of Object.keys(spec)) if (k !== 'routing') fail(`interrupts.${k}`, 'is not an interrupts field (routing)');
  const routing = spec.routing;
  if (routing === undefined || routing === 'piix') return piix();
  if (routing === 'none') return { routing: 'none', routes: [] };
  if (!Array.isArray(routing)) fail('interrupts.routing', `${JSON.stringify(routing)} is not "piix", "none" or an array of { segment, device, pin, gsi }`);
  const routes: IntxRoute[] = [];
  const seen = new Map<string, number>();
  routing.forEach((entry, i) => {
    const path = `interrupts.routing[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(path, 'must be an object { segment, device, pin, gsi }');
    for (const k of Object.keys(entry)) if (!ROUTE_KEYS.includes(k)) fail(`${path}.${k}`, `is not a routing field (${ROUTE_KEYS.join(', ')})`);
    const field = (k: 'segment' | 'device' | 'pin' | 'gsi', min: number, max: number, fallback?: number): number => {
      const raw = entry[k];
      if (raw === undefined) {
        if (fallback !== undefined) return fallback;
        return fail(`${path}.${k}`, 'is missing');
      }
      const v = parseNumberOrReason(raw);
      if (typeof v === 'string') return fail(`${path}.${k}`, v);
      if (typeof v === 'bigint' || v < min || v > max) return fail(`${path}.${k}`, `${String(raw)} is not ${min}..${max}`);
      return v;
    };
    const segment = field('segment', 0, SEGMENTS - 1, 0);
    if (!segments.some((s) => s.segment === segment)) fail(`${path}.segment`, `segment ${segment} is not declared in "segments"`);
    const device = field('device', 0, 31);
    const pin = field('pin', 1, 4);
    const gsi = field('gsi', 0, MAX_GSI - 1);
    const key = `${segment}:${device}:${pin}`;
    const other = seen.get(key);
    if (other !== undefined) fail(path, `segment ${segment} device ${device} pin ${pin} is already routed by interrupts.routing[${other}]`);
    seen.set(key, i);
    routes.push({ segment, device, pin, gsi });
  });
  return { routing: 'table', routes };
}

type Built = { kind: string; planes: ConfigPlanes; barSizes: { index: number; size: bigint }[]; behaviour?: DeviceBehaviour };

async function buildFunction(
  device: TopologyDevice, path: string, source: string, readFile: FileReader | undefined,
  fail: (p: string, m: string) => never,
): Promise<Built> {
  const kinds = (['model', 'descriptor', 'template'] as const).filter((k) => device[k] !== undefined);
  if (kinds.length !== 1) fail(path, `needs exactly one of "model", "descriptor" or "template" (has ${kinds.length ? kinds.join(', ') : 'none'})`);
  if (device.options !== undefined && device.model === undefined) fail(`${path}.options`, 'options go with "model"');
  try {
    if (device.model !== undefined || device.descriptor !== undefined) return buildInline(device, path, fail);
    const template = await loadTemplate(device.template!, `${path}.template`, source, readFile, fail);
    // The dump's own errors name the field the dump came from.
    const dumpField = (['configHex', 'lspci', 'lspciFile', 'configFile'] as const).find((k) => device.template![k] !== undefined)!;
    try {
      return prefixed('template', () => fromTemplate('template', template));
    } catch (e) {
      if (e instanceof DescriptorError && e.path === 'template.config') throw new DescriptorError(`template.${dumpField}`, e.problem);
      throw e;
    }
  } catch (e) {
    if (e instanceof DescriptorError) fail(`${path}.${e.path}`, e.problem);
    throw e;
  }
}

/** A model with options, or a descriptor: built with no file to read. DescriptorErrors pass through. */
function buildInline(device: TopologyDevice, path: string, fail: Fail): Built {
  if (device.model !== undefined) {
    if (typeof device.model !== 'string') fail(`${path}.model`, 'must be a string');
    const made = createFromModel(device.model, normalizeNumbers(device.options) as Record<string, unknown> | undefined);
    const built = 'descriptor' in made ? fromDescriptor(device.model, made.descriptor) : fromTemplate(device.model, made.template);
    return made.behaviour ? { ...built, behaviour: made.behaviour } : built;
  }
  if (device.descriptor === null || typeof device.descriptor !== 'object') fail(`${path}.descriptor`, 'must be an object');
  return prefixed('descriptor', () => fromDescriptor('descriptor', normalizeNumbers(device.descriptor) as FunctionDescriptor));
}

/** One function built from a device entry without placement (what `resolveDevice` returns). */
export interface ResolvedDevice {
  /** The model name or "descriptor". */
  kind: string;
  /** The entry's name, if it gave one. */
  name?: string;
  planes: ConfigPlanes;
  barSizes: { index: number; size: bigint }[];
  behaviour?: DeviceBehaviour;
}

/** Placement and identity fields: a device entry for `resolveDevice` is placed by its caller. */
const PLACEMENT_KEYS = ['bdf', 'behind', 'addr', 'id'] as const;

/**
 * Builds one function from a topology device entry without placement — `{ model, options, name }`
 * or `{ descriptor, name }` — with the same checks as `resolveTopology` (options, descriptor
 * fields, MSI-X placement), synchronously: templates, which may name files, are refused. Throws
 * TopologyError naming the field under `options.path` (default "device"), for `bus.plug`.
 */
export function resolveDevice(entry: TopologyDevice, options: { source?: string; path?: string } = {}): ResolvedDevice {
  const source = options.source ?? 'device';
  const path = options.path ?? 'device';
  const fail: Fail = (p, problem) => { throw new TopologyError(source, p, problem); };
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(path, 'must be an object like { model, options, name } or { descriptor, name }');
  for (const k of PLACEMENT_KEYS) {
    if (entry[k] !== undefined) fail(`${path}.${k}`, 'the caller places the device; give only model/options or descriptor, and name');
  }
  if (entry.template !== undefined) fail(`${path}.template`, 'templates are not accepted here (they may name files); give a model or a descriptor');
  const kinds = (['model', 'descriptor'] as const).filter((k) => entry[k] !== undefined);
  if (kinds.length !== 1) fail(path, `needs exactly one of "model" or "descriptor" (has ${kinds.length ? kinds.join(', ') : 'none'})`);
  if (entry.options !== undefined && entry.model === undefined) fail(`${path}.options`, 'options go with "model"');
  if (entry.name !== undefined && typeof entry.name !== 'string') fail(`${path}.name`, 'must be a string');
  let built: Built;
  try {
    built = buildInline(entry, path, fail);
  } catch (e) {
    if (e instanceof DescriptorError) fail(`${path}.${e.path}`, e.problem);
    throw e;
  }
  checkMsixPlacement(entry, path, built, fail);
  return entry.name !== undefined ? { ...built, name: entry.name } : built;
}

/** Re-raises a DescriptorError with its path under `prefix`. */
function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DescriptorError) throw new DescriptorError(`${prefix}.${e.path}`, e.problem);
    throw e;
  }
}

function fromDescriptor(kind: string, d: FunctionDescriptor): Built {
  const planes = buildPlanes(d);
  const barSizes = (d.bars ?? []).map((b) => ({ index: b.index, size: BigInt(b.size) }));
  if (d.rom) barSizes.push({ index: 6, size: BigInt(d.rom.size) });
  return { kind, planes, barSizes };
}

function fromTemplate(kind: string, t: TemplateSource): Built {
  const planes = clonePlanes(t);
  return { kind, planes, barSizes: (t.barSizes ?? []).map((b) => ({ index: b.index, size: BigInt(b.size) })) };
}

const TEMPLATE_KEYS = ['configHex', 'lspci', 'lspciFile', 'function', 'configFile', 'resourceFile', 'barSizes'];

async function loadTemplate(
  spec: TemplateSpec, path: string, source: string, readFile: FileReader | undefined,
  fail: (p: string, m: string) => never,
): Promise<TemplateSource> {
  if (spec === null || typeof spec !== 'object') fail(path, 'must be an object');
  for (const k of Object.keys(spec)) if (!TEMPLATE_KEYS.includes(k)) fail(`${path}.${k}`, `is not a template field (${TEMPLATE_KEYS.join(', ')})`);
  const given = (['configHex', 'lspci', 'lspciFile', 'configFile'] as const).filter((k) => spec[k] !== undefined);
  if (given.length !== 1) fail(path, `needs exactly one of configHex, lspci, lspciFile, configFile (has ${given.length ? given.join(', ') : 'none'})`);
  const read = async (field: string, file: unknown): Promise<Uint8Array> => {
    if (typeof file !== 'string') return fail(`${path}.${field}`, 'must be a file path string');
    if (!readFile) return fail(`${path}.${field}`, 'a file path needs a file reader (load the topology with the Node runtime, or inline the dump with configHex/lspci)');
    try {
      return await readFile(file as string);
    } catch (e) {
      return fail(`${path}.${field}`, `cannot read "${file}": ${(e as Error).message}`);
    }
  };
  let config: Uint8Array | undefined;
  const field = given[0];
  if (field === 'configHex') {
    if (typeof spec.configHex !== 'string') fail(`${path}.configHex`, 'must be a string of hex digit pairs');
    config = tryHexToBytes(spec.configHex!);
    if (!config) fail(`${path}.configHex`, 'is not hex digit pairs');
  } else if (field === 'configFile') {
    config = await read('configFile', spec.configFile);
  } else {
    let text: string;
    let where: string;
    if (field === 'lspci') {
      if (typeof spec.lspci !== 'string') fail(`${path}.lspci`, 'must be lspci -xxx text');
      text = spec.lspci!;
      where = 'lspci text';
    } else {
      text = new TextDecoder().decode(await read('lspciFile', spec.lspciFile));
      where = String(spec.lspciFile);
    }
    let dumps;
    try {
      dumps = parseLspciHexDump(text, where);
    } catch (e) {
      return fail(`${path}.${field}`, (e as Error).message);
    }
    let chosen = dumps;
    if (spec.function !== undefined) {
      const want = parseBdfOrReason(spec.function);
      if (typeof want === 'string') fail(`${path}.function`, want);
      const w = want as FunctionAddress;
      chosen = dumps.filter((d) => d.seg === w.seg && d.bus === w.bus && d.dev === w.dev && d.fn === w.fn);
      if (chosen.length === 0) fail(`${path}.function`, `${spec.function} is not in the dump`);
    } else if (dumps.length !== 1) {
      fail(`${path}.function`, `the dump holds ${dumps.length} functions; say which one`);
    }
    config = chosen[0].config;
  }
  // Sizes from the resource file, then explicit ones, which replace them index by index.
  const fromResource: TemplateBarSize[] = [];
  if (spec.resourceFile !== undefined) {
    const text = new TextDecoder().decode(await read('resourceFile', spec.resourceFile));
    try {
      for (const b of parseSysfsResource(text, String(spec.resourceFile)).bars) {
        fromResource.push({ index: b.index, size: BigInt(b.size), path: `resourceFile(BAR ${b.index})` });
      }
    } catch (e) {
      fail(`${path}.resourceFile`, (e as Error).message);
    }
  }
  const explicit: TemplateBarSize[] = [];
  if (spec.barSizes !== undefined) {
    if (!Array.isArray(spec.barSizes)) fail(`${path}.barSizes`, 'must be an array of { index, size }');
    spec.barSizes.forEach((b, i) => {
      if (b === null || typeof b !== 'object') fail(`${path}.barSizes[${i}]`, 'must be { index, size }');
      const size = parseNumberOrReason(b.size);
      if (typeof size === 'string') fail(`${path}.barSizes[${i}].size`, size);
      if (explicit.some((x) => x.index === b.index)) fail(`${path}.barSizes[${i}].index`, `BAR ${b.index} is given twice`);
      explicit.push({ index: b.index, size: size as number | bigint, path: `barSizes[${i}]` });
    });
  }
  const barSizes = [...fromResource.filter((r) => !explicit.some((x) => x.index === r.index)), ...explicit];
  return { config: config!, barSizes };
}
