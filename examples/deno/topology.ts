// A topology file on Deno: `vpci/deno` reads it and the dumps its templates name (paths relative
// to the file), then the bus lists each function with its vendor and device ids.
//   deno run --allow-read --config examples/deno/deno.json examples/deno/topology.ts topo.json
import { createBus } from 'vpci';
import { loadTopologyFile } from 'vpci/deno';

const topology = await loadTopologyFile(Deno.args[0]);
const bus = await createBus({ topology });
for (const f of bus.functions()) {
  console.log(f.path, bus.configRead(f.path, 0x00, 4).toString(16).padStart(8, '0'), f.name);
}
