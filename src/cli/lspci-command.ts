// `vpci lspci`: the bus in the text formats of pciutils' lspci (-x/-xxx/-xxxx hex dumps that the
// real `lspci -F FILE` decodes; -v/-vv descriptions), or as JSON.
import { Command } from 'commander';
import type { Bus } from '../bus.js';
import { describeFunctions, formatHexDump, formatListing } from '../lspci/index.js';
import type { BarSize } from '../lspci/index.js';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';

interface LspciOptions extends BusCliOptions {
  x: number;
  verbose: number;
  json?: boolean;
}

const count = (_: string, previous: number): number => previous + 1;

/** BAR sizes by canonical BDF, for descriptions that show sizes as lspci does on a live system. */
export function barSizesOf(bus: Bus): Map<string, BarSize[]> {
  return new Map(bus.functions().map((f) => [f.bdf, f.barSizes.map((b) => ({ index: b.index, size: b.size }))]));
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
    .description('print the bus as lspci does: -x (64 bytes), -xxx (256), -xxxx (4096); -v/-vv describe')
    .option('-x', 'hex dump of config space; repeat for more (-xxx, -xxxx)', count, 0)
    .option('-v, --verbose', 'describe each function; repeat for more (-vv)', count, 0)
    .option('--json', 'print the functions and their config bytes as JSON')
    .action(async (options: LspciOptions) => {
      const bus = await busFromOptions(options);
      if (options.json) {
        const functions = bus.dump().map((d, i) => {
          const f = bus.functions()[i];
          return {
            bdf: f.bdf, name: f.name, kind: f.kind,
            config: Array.from(d.config, (b) => b.toString(16).padStart(2, '0')).join(''),
          };
        });
        process.stdout.write(JSON.stringify({ backend: bus.backend, functions }, null, 2) + '\n');
        return;
      }
      process.stdout.write(lspciText(bus, options.verbose, options.x));
    });
}
