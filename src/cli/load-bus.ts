// Shared by the commands: the --topology and --backend options, and building the bus from them.
import type { Command } from 'commander';
import { Option } from 'commander';
import { createBus } from '../bus.js';
import type { Bus } from '../bus.js';
import type { BackendKind } from '../core/backend.js';
import { loadTopologyFile } from '../runtime/node/index.js';

export interface BusCliOptions {
  topology?: string;
  backend: BackendKind;
}

/** Adds --topology FILE and --backend wasm|ts to a command. */
export function withBusOptions(command: Command): Command {
  return command
    .option('--topology <file>', 'JSON topology file (default: the built-in topology)')
    .addOption(new Option('--backend <kind>', 'core to run on').choices(['wasm', 'ts']).default('wasm'));
}

/** Builds the bus the options name. */
export async function busFromOptions(options: BusCliOptions): Promise<Bus> {
  const topology = options.topology === undefined ? undefined : await loadTopologyFile(options.topology);
  return createBus({ backend: options.backend, topology });
}
