// Turns a topology (object or JSON text) into functions with built planes, validating everything
// first: an error names the source, the field path and the problem, and nothing is half-built.
import { buildPlanes, clonePlanes } from '../config/index.js';
import type { ConfigPlanes, TemplateSource, TemplateBarSize, FunctionDescriptor } from '../config/index.js';
import { createFromModel } from '../devices/registry.js';
import { DescriptorError, TopologyError } from '../errors.js';
import { parseLspciHexDump, parseSysfsResource } from '../lspci/index.js';
import { tryHexToBytes } from '../util/hex.js';
import { formatBdf, parseBdfOrReason } from './bdf.js';
import type { FunctionAddress } from './bdf.js';
import { normalizeNumbers, parseNumberOrReason } from './numbers.js';
import type {
  FileReader, ResolvedFunction, ResolvedSegment, ResolvedTopology, TemplateSpec, Topology, TopologyDevice,
} from './types.js';

const SEGMENTS = 16;
const DEFAULT_ECAM = { base: 0xb0000000, busStart: 0, busEnd: 255 };

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
  const byAddress = new Map<string, number>();
  const functions: ResolvedFunction[] = [];
  for (let i = 0; i < topology.devices.length; i++) {
    const device = topology.devices[i];
    const path = `devices[${i}]`;
    if (device === null || typeof device !== 'object') fail(path, 'must be an object');
    const address = parseBdfOrReason(device.bdf);
    if (typeof address === 'string') fail(`${path}.bdf`, address);
    const a = address as FunctionAddress;
    const segment = segments.find((s) => s.segment === a.seg);
    if (!segment) fail(`${path}.bdf`, `segment ${a.seg} is not declared in "segments"`);
    const rootBus = segment!.ecam?.busStart ?? 0;
    if (a.bus !== rootBus) {
      fail(`${path}.bdf`, `bus 0x${a.bus.toString(16)} is not segment ${a.seg}'s root bus 0x${rootBus.toString(16)} (buses behind bridges are not routed yet)`);
    }
    const key = formatBdf(a);
    const other = byAddress.get(key);
    if (other !== undefined) fail(`${path}.bdf`, `${key} is already devices[${other}]`);
    byAddress.set(key, i);
    if (device.name !== undefined && typeof device.name !== 'string') fail(`${path}.name`, 'must be a string');
    const built = await buildFunction(device, path, source, options.readFile, fail);
    functions.push({ ...a, bdf: key, name: device.name ?? key, ...built });
  }
  for (const f of functions) {
    if (f.fn !== 0 && !byAddress.has(formatBdf({ ...f, fn: 0 }))) {
      fail(`devices[${byAddress.get(f.bdf)}].bdf`, `${f.bdf} has no function 0 (${formatBdf({ ...f, fn: 0 })}); a guest scans functions 1-7 only when function 0 exists`);
    }
  }
  return { name: topology.name ?? 'topology', source, segments, functions };
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

type Built = { kind: string; planes: ConfigPlanes; barSizes: { index: number; size: bigint }[] };

async function buildFunction(
  device: TopologyDevice, path: string, source: string, readFile: FileReader | undefined,
  fail: (p: string, m: string) => never,
): Promise<Built> {
  const kinds = (['model', 'descriptor', 'template'] as const).filter((k) => device[k] !== undefined);
  if (kinds.length !== 1) fail(path, `needs exactly one of "model", "descriptor" or "template" (has ${kinds.length ? kinds.join(', ') : 'none'})`);
  if (device.options !== undefined && device.model === undefined) fail(`${path}.options`, 'options go with "model"');
  try {
    if (device.model !== undefined) {
      if (typeof device.model !== 'string') fail(`${path}.model`, 'must be a string');
      const made = createFromModel(device.model, normalizeNumbers(device.options) as Record<string, unknown> | undefined);
      return 'descriptor' in made ? fromDescriptor(device.model, made.descriptor) : fromTemplate(device.model, made.template);
    }
    if (device.descriptor !== undefined) {
      if (device.descriptor === null || typeof device.descriptor !== 'object') fail(`${path}.descriptor`, 'must be an object');
      return prefixed('descriptor', () => fromDescriptor('descriptor', normalizeNumbers(device.descriptor) as FunctionDescriptor));
    }
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
