// The bus tree in the layout of `lspci -t` / `lspci -tv` (pciutils 3.9): root buses as
// `[SSSS:BB]`, then each bus's functions joined by `--` (one), or `+-` and a final `\-` (several);
// a bridge shows its bus range (`-[01]-`, `-[02-03]-`; just `-` while its secondary bus is 0)
// and continues with the bus behind it; with `verbose`, endpoints carry their names. Following
// lines keep a `|` under every `+` and `|` of the line above.
import { hex } from './hex.js';
import { Reg } from './registers.js';

/** One function in the tree. Bridges carry their bus numbers and the functions found below them. */
export interface TreeFunction {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  /** Printed after the address with `verbose` (lspci: vendor and device name); bridges show none. */
  name?: string;
  /** Set for a bridge: its Secondary Bus Number (config byte 0x19). */
  secondary?: number;
  /** A bridge's Subordinate Bus Number (config byte 0x1a); default: `secondary`. */
  subordinate?: number;
  /** A bridge's functions: on its secondary bus, or on other buses it forwards to (listed apart). */
  children?: TreeFunction[];
}

/** Options of the `lspci -t` tree. */
export interface TreeOptions {
  /** `lspci -tv`: names after the endpoints' addresses. */
  verbose?: boolean;
}

/** A bus and what sits on it. */
interface TreeBus {
  seg: number;
  number: number;
  functions: TreeFunction[];
}

const byDevFn = (a: TreeFunction, b: TreeFunction): number => a.dev - b.dev || a.fn - b.fn;

/**
 * Groups functions by bus: `first` (a bridge's secondary bus, present even when empty) comes
 * first, then the other buses in (segment, bus) order, as lspci creates them.
 */
function busesOf(functions: readonly TreeFunction[], first?: { seg: number; number: number }): TreeBus[] {
  const buses: TreeBus[] = first ? [{ ...first, functions: [] }] : [];
  const sorted = [...functions].sort((a, b) => a.seg - b.seg || a.bus - b.bus || byDevFn(a, b));
  for (const f of sorted) {
    let bus = buses.find((b) => b.seg === f.seg && b.number === f.bus);
    if (!bus) {
      bus = { seg: f.seg, number: f.bus, functions: [] };
      buses.push(bus);
    }
    bus.functions.push(f);
  }
  return buses;
}

/** The text buffer lspci draws into: a line is written from a column on, then printed. */
class Canvas {
  private line = '';
  readonly out: string[] = [];

  /** Writes `text` at column `at` (dropping what was right of it); returns the column after it. */
  put(at: number, text: string): number {
    this.line = this.line.slice(0, at).padEnd(at) + text;
    return at + text.length;
  }

  /** Prints the line up to `end`; the next line starts with `|` under each `+`/`|` and blanks elsewhere. */
  print(end: number): void {
    const printed = this.line.slice(0, end);
    this.out.push(printed);
    this.line = printed.replace(/[^+|]/g, ' ').replace(/\+/g, '|');
  }
}

function drawFunction(c: Canvas, f: TreeFunction, at: number, verbose: boolean): void {
  let p = c.put(at, `${hex(f.dev, 2)}.${f.fn.toString(16)}`);
  if (f.secondary !== undefined) {
    const sub = f.subordinate ?? f.secondary;
    const range = f.secondary === 0 ? '-' : f.secondary === sub ? `-[${hex(f.secondary, 2)}]-` : `-[${hex(f.secondary, 2)}-${hex(sub, 2)}]-`;
    p = c.put(p, range);
    drawBuses(c, busesOf(f.children ?? [], { seg: f.seg, number: f.secondary }), p, false, verbose);
    return;
  }
  if (verbose && f.name !== undefined) p = c.put(p, `  ${f.name}`);
  c.print(p);
}

function drawBus(c: Canvas, bus: TreeBus, at: number, verbose: boolean): void {
  const fns = [...bus.functions].sort(byDevFn);
  if (fns.length === 0) {
    c.print(at);
  } else if (fns.length === 1) {
    drawFunction(c, fns[0], c.put(at, '--'), verbose);
  } else {
    fns.forEach((f, i) => drawFunction(c, f, c.put(at, i < fns.length - 1 ? '+-' : '\\-'), verbose));
  }
}

/** The buses behind a bridge (or the host bridge: `host`, which names its single bus too). */
function drawBuses(c: Canvas, buses: TreeBus[], at: number, host: boolean, verbose: boolean): void {
  const p = c.put(at, '-');
  const label = (b: TreeBus) => `[${hex(b.seg, 4)}:${hex(b.number, 2)}]-`;
  if (buses.length === 1) {
    drawBus(c, buses[0], host ? c.put(p, label(buses[0])) : p, verbose);
    return;
  }
  buses.forEach((b, i) => drawBus(c, b, c.put(p, `${i < buses.length - 1 ? '+-' : '\\-'}${label(b)}`), verbose));
}

/**
 * Formats a bus tree the way `lspci -t` (or `lspci -tv` with `verbose`) prints it. `roots` are the
 * functions on root buses (any order; grouped by segment and bus); bridges list the functions
 * below them in `children`. Like lspci, bus 0000:00 is always shown, empty or not.
 */
export function formatTree(roots: readonly TreeFunction[], options: TreeOptions = {}): string {
  const c = new Canvas();
  drawBuses(c, busesOf(roots, { seg: 0, number: 0 }), 0, true, options.verbose === true);
  return c.out.map((l) => `${l}\n`).join('');
}

/** What lspci -tv prints for a function when it has no ID database: `Device 1b36:0005`. */
export function treeName(config: Uint8Array): string {
  const v = new DataView(config.buffer, config.byteOffset, config.byteLength);
  return `Device ${hex(v.getUint16(Reg.vendorId, true), 4)}:${hex(v.getUint16(Reg.deviceId, true), 4)}`;
}
