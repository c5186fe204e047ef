// The reference run for the runtime smoke tests: the scenario on the Wasm backend, its summary as
// JSON on stdout. Deno's and workerd's runs must print the same bytes (test/runtimes/).
import { runScenario } from 'vpci';

const { summary } = await runScenario({ backend: 'wasm' });
process.stdout.write(JSON.stringify(summary) + '\n');
