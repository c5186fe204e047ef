// `vpci demo` (the default command, `npm start`): builds the topology, runs the firmware over it
// (bus numbers, BARs, windows, Command, as SeaBIOS would before an OS boots), and shows what a
// guest then sees: the lspci -tv tree, the resource map as /proc/iomem and /proc/ioports,
// lspci -vv style descriptions, and the -xxx hex dump real lspci can decode.
import { Command, Option } from 'commander';
import { POLICIES, runFirmware } from '../firmware/index.js';
import type { PolicyName } from '../firmware/index.js';
import type { Bus } from '../bus.js';
import { enumerateText, firmwareOptions } from './enumerate-command.js';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';
import { guestDemoText } from './guest-demo.js';
import { hotplugDemoText } from './hotplug-demo.js';
import { traceDemoText } from './trace-demo.js';
import { bootTraceDemoText } from './boot-trace-demo.js';
import { lspciText } from './lspci-command.js';

interface DemoOptions extends BusCliOptions {
  policy: PolicyName;
  firmware: boolean;
}

/** One line on the bus's INTx routing (the topology's "interrupts"). */
function routingText(bus: Bus): string {
  const r = bus.topology.interrupts;
  if (r === undefined || r.routing === 'piix') return 'INTx routing: piix (root device d, pin p -> GSI 10, 10, 11, 11 for (d - 1 + p - 1) mod 4)';
  if (r.routing === 'none') return 'INTx routing: none (INTx reaches no interrupt line)';
  const gsis = [...new Set(r.routes.map((e) => e.gsi))].sort((a, b) => a - b);
  return `INTx routing: a table of ${r.routes.length} entr${r.routes.length === 1 ? 'y' : 'ies'} (GSI ${gsis.join(', ') || '-'})`;
}

export function demoCommand(): Command {
  return withBusOptions(new Command('demo'))
    .description('build the topology (default: the built-in one), enumerate it like firmware, and show it as lspci -tv, /proc/iomem, lspci -vv and lspci -xxx')
    .addOption(new Option('--policy <policy>', 'BAR allocation policy of the firmware run').choices([...POLICIES]).default('largest-first'))
    .option('--no-firmware', 'show the bus as built, before any firmware run (functions behind bridges unreachable)')
    .action(async (options: DemoOptions) => {
      const bus = await busFromOptions(options);
      const out = process.stdout;
      out.write(`vpci: topology "${bus.topology.name}" on the ${bus.backend} backend, ${bus.functions().length} functions\n`);
      for (const s of bus.topology.segments) {
        out.write(s.ecam
          ? `  segment ${s.segment}: ECAM at 0x${s.ecam.base.toString(16)} for buses ${s.ecam.busStart}-${s.ecam.busEnd}` +
            `${s.segment === 0 ? ', and ports 0xCF8/0xCFC' : ''}\n`
          : `  segment ${s.segment}: ports 0xCF8/0xCFC only\n`);
      }
      out.write(`  ${routingText(bus)}\n`);
      const result = options.firmware ? runFirmware(bus, firmwareOptions({ ...options, hotplugBridges: 'capable', keep: true }, bus)) : undefined;
      let hidden = 0;
      for (const f of bus.functions()) {
        const at = bus.addressOf(f.path);
        if (at === undefined) hidden++;
        const where = at === undefined ? ' (not reachable)' : at === f.path ? '' : ` (at ${at})`;
        out.write(`  ${f.path}  ${f.name} [${f.kind}]${where}\n`);
      }
      if (hidden > 0) out.write(`  ${hidden} function${hidden === 1 ? '' : 's'} behind bridges answer${hidden === 1 ? 's' : ''} no config cycle until bus numbers are written (vpci enumerate)\n`);
      if (result) {
        out.write(`\n== firmware run: vpci enumerate --policy ${result.map.policy} ==\n\n`);
        out.write(enumerateText(bus, result));
        out.write('\n== a guest drives the virtio devices (driver kit: config cycles, MMIO, its RAM, MSI-X) ==\n\n');
        out.write(guestDemoText(bus));
        const hotplug = hotplugDemoText(bus);
        if (hotplug !== undefined) {
          out.write('\n== PCIe native hotplug: a card into the empty slot and out again ==\n\n');
          out.write(hotplug);
        }
        if (options.topology === undefined) {
          out.write('\n== trace replay: vpci replay --verify on both backends ==\n\n');
          out.write(await traceDemoText());
          out.write('\n== a real Linux boot on vpci in v86, recorded: vpci replay --verify on both backends ==\n\n');
          out.write(await bootTraceDemoText());
        }
      }
      out.write('\n== lspci -vv ==\n\n');
      out.write(lspciText(bus, 2, 0));
      out.write('\n== lspci -xxx (feed this to `lspci -F FILE -vvv`) ==\n\n');
      out.write(lspciText(bus, 0, 3));
    });
}
