// `vpci lspci`: the bus in the text formats of pciutils' lspci (-x/-xxx/-xxxx hex dumps that the
// real `lspci -F FILE` decodes; -v/-vv descriptions; the -t/-tv tree), or as JSON.
import { Command } from 'commander';
import type { Bus } from '../bus.js';
import { describeFunctions, formatHexDump, formatListing, formatTree } from '../lspci/index.js';
import type { BarSize } from '../lspci/index.js';
import { firmwareDefaults, runFirmware } from '../firmware/index.js';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';

interface LspciOptions extends BusCliOptions {
  x: number;
  verbose: number;
  tree?: boolean;
  json?: boolean;
  enumerate?: boolean;
}

const count = (_: string, previous: number): number => previous + 1;

/**
 * BAR sizes by the canonical BDF each function answers at now, for descriptions that show sizes
 * as lspci does on a live system. Functions no config cycle reaches are left out.
 */
export function barSizesOf(bus: Bus): Map<string, BarSize[]> {
  const out = new Map<string, BarSize[]>();
  for (const f of bus.functions()) {
    const at = bus.addressOf(f.path);
    if (at !== undefined) out.set(at, f.barSizes.map((b) => ({ index: b.index, size: b.size })));
  }
  return out;
}

/** The text `vpci lspci -t` (verbose > 0: `-tv`) prints. */
export function lspciTreeText(bus: Bus, verbose: number): string {
  return formatTree(bus.tree(), { verbose: verbose > 0 });
}

/** The text `vpci lspci` prints for the given verbosity and hex level. */
export function lspciText(bus: Bus, verbose: number, hexLevel: number): string {
  const dumps = bus.dump();
  if (hexLevel === 0 && verbose === 0) return formatListing(dumps);
  if (hexLevel === 0) return describeFunctions(dumps, { verbose: Math.min(2, Math.max(1, verbose)) as 1 | 2, barSizes: barSizesOf(bus) });
  const level = Math.min(4, hexLevel) as 1 | 2 | 3 | 4;
  if (verbose === 0) return formatHexDump(dumps, { level });
  // With -v, each function's description is followed by its hex rows, as lspci -v -x prints.
  return dumps.map((d) => {
    const text = describeFunctions([d], { verbose: Math.min(2, verbose) as 1 | 2, barSizes: barSizesOf(bus) }).trimEnd();
    const hex = formatHexDump([d], { level }).split('\n').slice(1).join('\n');
    return `${text}\n${hex}`;
  }).join('');
}

export function lspciCommand(): Command {
  return withBusOptions(new Command('lspci'))
    .description('print the bus as lspci does: -x (64 bytes), -xxx (256), -xxxx (4096); -v/-vv describe; -t/-tv tree')
    .option('-x', 'hex dump of config space; repeat for more (-xxx, -xxxx)', count, 0)
    .option('-v, --verbose', 'describe each function; repeat for more (-vv)', count, 0)
    .option('-t, --tree', 'show the bus tree (with -v: and device names), as lspci -t / -tv')
    .option('--json', 'print the functions and their config bytes as JSON')
    .option('--enumerate', 'run the firmware first (vpci enumerate with its defaults), as a guest sees the bus after boot')
    .action(async (options: LspciOptions) => {
      const bus = await busFromOptions(options);
      if (options.enumerate) runFirmware(bus, firmwareDefaults(bus));
      if (options.json) {
        // Functions a config cycle reaches now, at their current BDF; `path` says where they sit.
        const functions = [];
        for (const f of bus.functions()) {
          const bdf = bus.addressOf(f.path);
          if (bdf === undefined) continue;
          const config = new Uint8Array(f.planes.size);
          const view = new DataView(config.buffer);
          for (let off = 0; off < config.length; off += 4) view.setUint32(off, bus.configRead(bdf, off, 4), true);
          functions.push({
            bdf, path: f.path, name: f.name, kind: f.kind,
            config: Array.from(config, (b) => b.toString(16).padStart(2, '0')).join(''),
          });
        }
        process.stdout.write(JSON.stringify({ backend: bus.backend, functions }, null, 2) + '\n');
        return;
      }
      process.stdout.write(options.tree ? lspciTreeText(bus, options.verbose) : lspciText(bus, options.verbose, options.x));
    });
}
