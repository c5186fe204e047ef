// The topology: what functions exist where, and how config space is reached. Written in code or
// as JSON (see README "Topology files"); numbers may be JSON numbers or "0x..." strings.
import type { ConfigPlanes, FunctionDescriptor } from '../config/index.js';
import type { DeviceBehaviour } from '../devices/model-api.js';
import type { IntxRoute } from '../interrupts/index.js';

/** A template: a real config-space dump and the sizes of its BARs. */
export interface TemplateSpec {
  /** The dump as hex digit pairs (256 or 4096 bytes). */
  configHex?: string;
  /** `lspci -xxx` / `-xxxx` text holding the function (inline). */
  lspci?: string;
  /** A file of `lspci -xxx` / `-xxxx` text (needs a file reader: the Node runtime gives one). */
  lspciFile?: string;
  /** Which function of an lspci dump to take ("00:03.0"); default: the only one. */
  function?: string;
  /** The binary sysfs `config` file of the function. */
  configFile?: string;
  /** The sysfs `resource` file: BAR sizes. */
  resourceFile?: string;
  /** Explicit BAR sizes (index 0-5, 6 = ROM); they override the resource file's. */
  barSizes?: { index: number; size: number | string | bigint }[];
}

/**
 * One function of a topology: where it is (a root-bus BDF, or behind a bridge), and what it is (a
 * model with options, a descriptor, or a template).
 */
export interface TopologyDevice {
  /** Names the device for "behind" (a string that is not a BDF, unique in the topology). */
  id?: string;
  /** On a root bus: "BB:DD.F" or "SSSS:BB:DD.F". A device has either this or "behind" + "addr". */
  bdf?: string;
  /** Below a bridge: the bridge's "id", or the "bdf" of a bridge on a root bus. */
  behind?: string;
  /** Below a bridge: "DD.F" on the bridge's secondary bus. */
  addr?: string;
  /** A label for listings. */
  name?: string;
  /** A built-in model (see deviceModels), with its options. */
  model?: string;
  options?: Record<string, unknown>;
  /** A device described field by field. */
  descriptor?: FunctionDescriptor;
  /** A device cloned from a real dump. */
  template?: TemplateSpec;
}

/** A PCI segment (domain): its number and ECAM window. */
export interface SegmentSpec {
  segment: number;
  /** The ECAM window; `false` for none (segment 0 is still reached through 0xCF8/0xCFC). */
  ecam?: { base: number | string | bigint; buses?: [number, number] } | false;
}

/** A routing table entry: a root-bus device's pin to a GSI (numbers or "0x..." strings). */
export interface InterruptRouteSpec {
  /** Default 0. */
  segment?: number | string;
  /** Device number on a root bus of the segment, 0-31. */
  device: number | string;
  /** 1 = INTA .. 4 = INTD (after the swizzle through any bridges). */
  pin: number | string;
  /** 0-1023. */
  gsi: number | string;
}

/** How INTx pins of root-bus devices reach interrupt lines. */
export interface InterruptsSpec {
  /**
   * INTx routing of the root buses' devices: "piix" (default: GSI 10, 10, 11, 11 for
   * (device - 1 + pin - 1) mod 4, on every segment, as SeaBIOS sets up QEMU's i440fx), "none"
   * (nothing routed: INTx reaches no line), or a table (entries not listed are not routed).
   */
  routing?: 'piix' | 'none' | InterruptRouteSpec[];
}

/**
 * A topology: which functions exist where, the segments and their ECAM windows, and INTx routing.
 * Written in code or as JSON (README "Topology files"); numbers may be "0x..." strings.
 */
export interface Topology {
  name?: string;
  /** Default: segment 0 with an ECAM window at 0xB0000000 for buses 0-255. */
  segments?: SegmentSpec[];
  devices: TopologyDevice[];
  /** Interrupt routing (default: PIIX routing on every segment). */
  interrupts?: InterruptsSpec;
}

/** A function ready to load into a core. */
export interface ResolvedFunction {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  /**
   * Canonical "SSSS:BB:DD.F" of a function on a root bus. Below a bridge the bus number is what
   * firmware writes, so `bus` is -1 and `bdf` is the path; ask the bus for the current address
   * (`bus.addressOf(path)`).
   */
  bdf: string;
  /**
   * Where the function sits, in Linux's device-path spelling: "0000:00:05.0" on a root bus,
   * "0000:00:05.0/00.0" below the bridge 0000:00:05.0, one "/DD.F" per bridge.
   */
  path: string;
  /** Index in `functions` of the bridge the function sits below, or -1 on a root bus. */
  parent: number;
  /** The device's "id", when the topology gives one. */
  id?: string;
  name: string;
  /** The model name, "descriptor" or "template". */
  kind: string;
  planes: ConfigPlanes;
  /** What the function does (a model with behaviour); attached by the Bus. */
  behaviour?: DeviceBehaviour;
  /** Sizes of the implemented BARs (6 = ROM), for listings. */
  barSizes: { index: number; size: bigint }[];
}

/** A segment as resolved: its number and ECAM window, if any. */
export interface ResolvedSegment {
  segment: number;
  /** Undefined when the segment has no ECAM window. */
  ecam?: { base: number; busStart: number; busEnd: number };
}

/**
 * A topology checked and built (`resolveTopology`): every function's planes in load order, the
 * segments and the INTx routing table; what a `Bus` is made from.
 */
export interface ResolvedTopology {
  name: string;
  source: string;
  segments: ResolvedSegment[];
  /** Every function; a bridge always precedes the functions below it (otherwise topology order). */
  functions: ResolvedFunction[];
  /**
   * The INTx routing table the bus loads into the core: which kind the topology asked for and
   * every entry (a resolved topology made by hand without it gets PIIX routing).
   */
  interrupts: ResolvedInterrupts;
}

/** The INTx routing the topology asked for and every table entry. */
export interface ResolvedInterrupts {
  routing: 'piix' | 'none' | 'table';
  routes: IntxRoute[];
}

/** Reads a file named by a topology (relative to it); given by the runtime adapter. */
export type FileReader = (path: string) => Promise<Uint8Array>;
