// `vpci demo` (the default command, `npm start`): builds the topology, and shows what a guest
// sees: lspci -vv style descriptions, then the -xxx hex dump real lspci can decode.
import { Command } from 'commander';
import { busFromOptions, withBusOptions } from './load-bus.js';
import type { BusCliOptions } from './load-bus.js';
import { lspciText } from './lspci-command.js';

export function demoCommand(): Command {
  return withBusOptions(new Command('demo'))
    .description('build the topology (default: the built-in one) and show it as lspci -vv and lspci -xxx')
    .action(async (options: BusCliOptions) => {
      const bus = await busFromOptions(options);
      const out = process.stdout;
      out.write(`vpci: topology "${bus.topology.name}" on the ${bus.backend} backend, ${bus.functions().length} functions\n`);
      for (const s of bus.topology.segments) {
        out.write(s.ecam
          ? `  segment ${s.segment}: ECAM at 0x${s.ecam.base.toString(16)} for buses ${s.ecam.busStart}-${s.ecam.busEnd}` +
            `${s.segment === 0 ? ', and ports 0xCF8/0xCFC' : ''}\n`
          : `  segment ${s.segment}: ports 0xCF8/0xCFC only\n`);
      }
      for (const f of bus.functions()) out.write(`  ${f.bdf}  ${f.name} [${f.kind}]\n`);
      out.write('\n== lspci -vv ==\n\n');
      out.write(lspciText(bus, 2, 0));
      out.write('\n== lspci -xxx (feed this to `lspci -F FILE -vvv`) ==\n\n');
      out.write(lspciText(bus, 0, 3));
    });
}
