// The `vpci` command line. Each command is one file; errors print one line naming the place
// (file, field) and set a non-zero exit status.
import { Command, CommanderError } from 'commander';
import { VpciError } from '../errors.js';
import { demoCommand } from './demo-command.js';
import { enumerateCommand } from './enumerate-command.js';
import { replayCommand } from './replay-command.js';
import { convertCommand } from './convert-command.js';
import { traceCommand } from './trace-command.js';
import { benchCommand } from './bench-command.js';
import { lspciCommand } from './lspci-command.js';

export function program(): Command {
  const root = new Command('vpci')
    .description('vpci: an emulated PCI/PCIe bus (WebAssembly core, pure-TypeScript twin)')
    .exitOverride()
    .addCommand(demoCommand(), { isDefault: true })
    .addCommand(lspciCommand())
    .addCommand(enumerateCommand())
    .addCommand(replayCommand())
    .addCommand(convertCommand())
    .addCommand(traceCommand())
    .addCommand(benchCommand());
  // Errors come back to main() as exceptions instead of exiting the process.
  for (const sub of root.commands) {
    sub.exitOverride();
    for (const subsub of sub.commands) subsub.exitOverride();
  }
  return root;
}

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const root = program();
  // demo is the default command, so without this check a mistyped command name would be
  // reported as an extra argument to demo.
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && first !== 'help' && !root.commands.some((c) => c.name() === first)) {
    process.stderr.write(`vpci: unknown command "${first}" (commands: ${root.commands.map((c) => c.name()).join(', ')}; see vpci --help)\n`);
    return 2;
  }
  try {
    await root.parseAsync(argv, { from: 'user' });
    // A command may set a status of its own (replay --verify: 3 on a mismatch).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof VpciError) {
      process.stderr.write(`vpci: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
