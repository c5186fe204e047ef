// The runtime scenario on Deno: the default topology, the firmware run and the default trace
// replayed on the Wasm backend (the bytes inlined in the library); the JSON summary on stdout must
// match Node's (examples/node/smoke.mjs) byte for byte. deno.json maps `vpci` to the bundle.
import { runScenario } from 'vpci';

const { summary } = await runScenario({ backend: 'wasm' });
console.log(JSON.stringify(summary));
