// workerd (the npm package `workerd`, Cloudflare's runtime) serves the README's workerd example:
// its response is the runtime scenario's summary, byte for byte Node's reference run. workerd
// forbids compiling Wasm at run time, so the example must take the precompiled module path; a
// probe worker shows that the other paths fail there, and with which message.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared-data.js';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const EXAMPLE = join(ROOT, 'examples/workerd');

/** A port free on 127.0.0.1 right now: bound by the system's choice, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Served { process: ChildProcess; url: string; log: () => string }
const started: Served[] = [];

/** `workerd serve CONFIG` on a free loopback port, once it answers (bounded wait). */
async function serve(config: string): Promise<Served> {
  const port = await freePort();
  // Its own process group, so that stopping it stops anything it started too.
  const child = spawn(WORKERD, ['serve', config, '--socket-addr', `http=127.0.0.1:${port}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const served: Served = { process: child, url: `http://127.0.0.1:${port}`, log: () => output };
  started.push(served);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`workerd exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    try {
      await fetch(`${served.url}/health`, { signal: AbortSignal.timeout(1000) });
      return served;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`workerd did not answer on ${served.url} within 20 s:\n${output}`);
}

/** Stops a workerd and waits for it (SIGKILL if SIGTERM is not enough). */
async function stop({ process: child }: Served): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const kill = (signal: NodeJS.Signals) => { try { globalThis.process.kill(-child.pid!, signal); } catch { /* gone already */ } };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

let reference: string;
let probeDir: string;

beforeAll(() => {
  const node = spawnSync(process.execPath, [join(ROOT, 'examples/node/smoke.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
  if (node.status !== 0) throw new Error(`the Node reference run failed:\n${node.stderr}`);
  reference = node.stdout;
  probeDir = mkdtempSync(join(tmpdir(), 'vpci-workerd-probe-'));
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map(stop));
  if (probeDir) rmSync(probeDir, { recursive: true, force: true });
}, 30_000);

describe('workerd', () => {
  it("serves the runtime scenario's summary byte for byte as Node prints it", async () => {
    const served = await serve(join(EXAMPLE, 'config.capnp'));
    const response = await fetch(`${served.url}/`, { signal: AbortSignal.timeout(100_000) });
    const body = await response.text();
    expect(response.status, served.log()).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(body).replay.mismatches).toBe(0);
    expect(body).toBe(reference);
  }, 120_000);

  it('the example takes the precompiled module: vpci is dist/edge.js (no inline Wasm), vpci.wasm a wasm module', () => {
    const config = readFileSync(join(EXAMPLE, 'config.capnp'), 'utf8');
    expect(config).toMatch(/\(name = "vpci", esModule = embed "\.\.\/\.\.\/dist\/edge\.js"\)/);
    expect(config).toMatch(/\(name = "vpci\.wasm", wasm = embed "\.\.\/\.\.\/build\/vpci\.wasm"\)/);
    expect(config).not.toMatch(/address = "(?!127\.0\.0\.1:)/); // loopback only
    expect(readFileSync(join(ROOT, 'dist/edge.js'), 'utf8')).not.toContain('AGFzbQ'); // base64 of "\0asm"
    const worker = readFileSync(join(EXAMPLE, 'worker.js'), 'utf8');
    expect(worker).toMatch(/import vpciWasm from 'vpci\.wasm'/);
    expect(worker).toMatch(/runEdgeScenario\(vpciWasm,/);
  });

  it('inside workerd, only the precompiled module works: no inline Wasm, no compiling bytes', async () => {
    // The same bundle as the example, and vpci.wasm twice: compiled by workerd and as plain data.
    copyFileSync(join(ROOT, 'dist/edge.js'), join(probeDir, 'edge.js'));
    copyFileSync(join(ROOT, 'build/vpci.wasm'), join(probeDir, 'vpci.wasm'));
    writeFileSync(join(probeDir, 'probe.js'), `
      import * as vpci from 'vpci';
      import bytes from 'vpci.bin';
      import compiled from 'vpci.wasm';
      const attempt = (f) => f().then(() => 'ok', (e) => e.name + ': ' + e.message);
      export default {
        async fetch() {
          return Response.json({
            inline: await attempt(() => vpci.runScenario()),
            bytes: await attempt(() => vpci.createBus({ wasm: bytes })),
            edgeBytes: await attempt(() => vpci.createEdgeBus(bytes)),
            edgeModule: await attempt(() => vpci.createEdgeBus(compiled)),
          });
        },
      };`);
    writeFileSync(join(probeDir, 'probe.capnp'), `using Workerd = import "/workerd/workerd.capnp";
      const config :Workerd.Config = (
        services = [(name = "main", worker = (
          modules = [
            (name = "probe.js", esModule = embed "probe.js"),
            (name = "vpci", esModule = embed "edge.js"),
            (name = "vpci.bin", data = embed "vpci.wasm"),
            (name = "vpci.wasm", wasm = embed "vpci.wasm"),
          ],
          compatibilityDate = "2026-11-17"))],
        sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
      );`);
    const served = await serve(join(probeDir, 'probe.capnp'));
    const result = await (await fetch(`${served.url}/`, { signal: AbortSignal.timeout(100_000) })).json();
    expect(result.inline).toMatch(/^WasmLoadError: wasm: this build \(vpci\/slim, vpci\/edge\) carries no inline Wasm/);
    expect(result.bytes).toMatch(/^WasmLoadError: wasm: the given bytes could not be compiled here \(this host compiles no Wasm at run time: hand over a WebAssembly\.Module\): .*Wasm code generation disallowed by embedder/);
    expect(result.edgeBytes).toMatch(/^WasmLoadError: wasm: the binding given to vpci\/edge is bytes, not a compiled module/);
    expect(result.edgeModule).toBe('ok');
  }, 120_000);
});
