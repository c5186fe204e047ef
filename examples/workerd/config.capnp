# workerd serving the runtime scenario: `workerd serve examples/workerd/config.capnp`, then GET /
# returns its JSON summary. Embedded paths are relative to this file: run `npm run build` first.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .vpciWorker)],
  # Loopback only; tests move it to a free port with --socket-addr http=127.0.0.1:PORT.
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const vpciWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # The library for edge hosts: dist/edge.js carries no inline Wasm.
    (name = "vpci", esModule = embed "../../dist/edge.js"),
    # Compiled by workerd at load time; imported as a WebAssembly.Module.
    (name = "vpci.wasm", wasm = embed "../../build/vpci.wasm"),
  ],
  compatibilityDate = "2026-11-17",
);
