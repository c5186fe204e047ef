// The runtime scenario on workerd. workerd compiles vpci.wasm when it loads the worker (a module
// of type wasm in config.capnp) and hands it over as a WebAssembly.Module: Wasm cannot be compiled
// at run time here. `vpci` is dist/edge.js, the library without inline Wasm, so the Wasm core can
// only come from that module. The response body is the JSON summary, byte for byte Node's.
import { runEdgeScenario } from 'vpci';
import vpciWasm from 'vpci.wasm';

export default {
  async fetch() {
    const { summary } = await runEdgeScenario(vpciWasm, { backend: 'wasm' });
    return new Response(JSON.stringify(summary) + '\n', { headers: { 'content-type': 'application/json' } });
  },
};
