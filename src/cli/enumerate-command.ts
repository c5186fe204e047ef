// `vpci enumerate`: runs the firmware (bus numbering, BAR sizing and allocation, windows, Command,
// Interrupt Line) over the bus's config cycles and shows the result: the lspci -tv tree, then the
// resource map as /proc/iomem and /proc/ioports, or as JSON.
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { addressMapSvg } from './address-map-chart.js';
import type { Bus } from '../bus.js';
import { DEFAULT_WINDOWS, POLICIES, firmwareDefaults, formatResourceMap, runFirmware } from '../firmware/index.js';
import type { FirmwareOptions, FirmwareResult, PolicyName } from '../firmware/index.js';
import { formatTree } from '../lspci/index.js';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';
import { parseReserves, parseWindow } from './parse-resources.js';

interface EnumerateOptions extends BusCliOptions {
  policy: PolicyName;
  json?: boolean;
  io?: string;
  mem32?: string;
  mem64?: string;
  hotplugReserve?: string;
  hotplugBridges: 'capable' | 'all';
  keep: boolean;
  svg?: string;
}

/** Firmware options from the command line (validated: errors name the option). */
export function firmwareOptions(o: EnumerateOptions, bus: Bus): FirmwareOptions {
  return firmwareDefaults(bus, {
    policy: o.policy,
    windows: {
      io: o.io ? parseWindow('--io', o.io) : DEFAULT_WINDOWS.io,
      mem32: o.mem32 ? parseWindow('--mem32', o.mem32) : DEFAULT_WINDOWS.mem32,
      mem64: o.mem64 === 'none' ? undefined : o.mem64 ? parseWindow('--mem64', o.mem64) : DEFAULT_WINDOWS.mem64,
    },
    hotplugReserve: o.hotplugReserve ? parseReserves('--hotplug-reserve', o.hotplugReserve) : undefined,
    hotplugBridges: o.hotplugBridges,
    keepAssigned: o.keep,
  });
}

const busRange = (first: number, last: number) => [first, last].filter((b, i) => i === 0 || b !== first).map((b) => b.toString(16).padStart(2, '0')).join('-');

/** The text `vpci enumerate` prints. */
export function enumerateText(bus: Bus, result: FirmwareResult): string {
  const { iomem, ioports } = formatResourceMap(result.map);
  const lines = [
    `firmware: policy ${result.map.policy}, ${result.all.length} functions; ` +
      result.segments.map((s) => `segment ${s.segment}: buses ${busRange(s.scan.all.length ? s.scan.all[0].f.bus : 0, s.scan.lastBus)}`).join(', '),
    '',
    '== lspci -tv ==',
    '',
    formatTree(bus.tree(), { verbose: true }).trimEnd(),
    '',
    '== /proc/iomem ==',
    '',
    iomem || '(none)',
    '',
    '== /proc/ioports ==',
    '',
    ioports || '(none)',
    '',
  ];
  return lines.join('\n');
}

export function enumerateCommand(): Command {
  return withBusOptions(new Command('enumerate'))
    .description('run the firmware over the bus (bus numbers, BAR sizing and allocation, windows, Command) and print the tree and resource map')
    .addOption(new Option('--policy <policy>', 'allocation policy').choices([...POLICIES]).default('largest-first'))
    .option('--json', 'print the resource map as JSON')
    .option('--io <base:size>', 'IO port aperture (default 0x1000:0xf000)')
    .option('--mem32 <base:size>', '32-bit MMIO aperture (default 0xc0000000:0x3ec00000)')
    .option('--mem64 <base:size|none>', '64-bit MMIO aperture above 4 GiB (default 0x8000000000:512G)')
    .option('--hotplug-reserve <io=S,mem=S,prefetch=S>', 'minimum windows of hotplug bridges (sizes like 4K, 2M)')
    .addOption(new Option('--hotplug-bridges <which>', 'bridges that get the hotplug reserve').choices(['capable', 'all']).default('capable'))
    .option('--no-keep', 'reassign root-bus BARs that already hold an address (default: keep them, as the seed does)')
    .option('--svg <file>', 'also write the address map as an SVG chart')
    .action(async (options: EnumerateOptions) => {
      const bus = await busFromOptions(options);
      const fw = firmwareOptions(options, bus);
      const result = runFirmware(bus, fw);
      process.stdout.write(options.json ? `${JSON.stringify(result.map, null, 2)}\n` : enumerateText(bus, result));
      if (options.svg) {
        await writeFile(options.svg, await addressMapSvg(result.map, fw.windows!, `vpci address map: topology "${bus.topology.name}"`));
        process.stderr.write(`vpci: wrote the address map to ${options.svg}\n`);
      }
    });
}
