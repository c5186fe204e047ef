// Loading the Wasm core from a wrong or corrupt source fails with a WasmLoadError that names the
// source (the given bytes, the given module, the URL, the slim build, the edge binding) and says
// why (no Wasm at all, cut short, not the vpci core, HTTP status, nothing inline, not a module).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmLoadError, loadWasmCore } from '../../bindings/load.js';
import { createEdgeBus, runEdgeScenario, wasmModule } from '../../src/runtime/edge/index.js';
import { ROOT } from '../helpers/shared-data.js';

const vpciWasm = readFileSync(join(ROOT, 'build/vpci.wasm'));
/** The smallest valid Wasm module: magic and version, no sections (so no vpci exports). */
const emptyModule = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** The error `promise` rejects with, checked to be a WasmLoadError. */
async function loadError(promise: Promise<unknown>): Promise<WasmLoadError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).name).toBe('WasmLoadError');
  return error as WasmLoadError;
}

/** A built bundle, imported by file URL (it has no type declarations of its own). */
const bundle = (name: string) => import(pathToFileURL(join(ROOT, 'dist', name)).href);

describe('loading the Wasm core from bytes or a module', () => {
  it('random bytes: not a valid Wasm module, because of the magic word', async () => {
    const e = await loadError(loadWasmCore(new Uint8Array([0x13, 0x37, 0xca, 0xfe, 0xba, 0xbe, 0x00, 0x01, 0x02])));
    expect(e).toBeInstanceOf(WasmLoadError);
    expect(e.message).toMatch(/^wasm: the given bytes are not a valid WebAssembly module: .*magic word/);
  });

  it('a truncated vpci.wasm: not a valid Wasm module, because a section runs past the end', async () => {
    const e = await loadError(loadWasmCore(vpciWasm.subarray(0, vpciWasm.length >> 1)));
    expect(e.message).toMatch(/^wasm: the given bytes are not a valid WebAssembly module: .*extends past end/);
  });

  it('no bytes at all: the compiler says the buffer is empty', async () => {
    const e = await loadError(loadWasmCore(new ArrayBuffer(0)));
    expect(e.message).toMatch(/^wasm: the given bytes are not a valid WebAssembly module: .*empty/);
  });

  it('a valid Wasm module that is not vpci: names the missing export', async () => {
    const e = await loadError(loadWasmCore(emptyModule));
    expect(e.message).toBe('wasm: the given bytes are not the vpci core (no export "memory")');
  });

  it('a path given as a string: says what was expected and what came', async () => {
    const e = await loadError(loadWasmCore('build/vpci.wasm' as unknown as URL));
    expect(e.message).toBe('wasm: expected a WebAssembly.Module, bytes or a URL, got a string ("build/vpci.wasm")');
  });

  it('a precompiled module that is not vpci: says it was the given WebAssembly.Module', async () => {
    const e = await loadError(loadWasmCore(new WebAssembly.Module(emptyModule)));
    expect(e.message).toBe('wasm: the given WebAssembly.Module is not the vpci core (no export "memory")');
  });

  it('the real vpci.wasm loads, as bytes and as a module (the control)', async () => {
    await expect(loadWasmCore(vpciWasm)).resolves.toBeDefined();
    await expect(loadWasmCore(new WebAssembly.Module(vpciWasm))).resolves.toBeDefined();
  });
});

describe('loading the Wasm core from a URL (a server on 127.0.0.1)', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/vpci.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(vpciWasm);
      else if (req.url === '/page.html') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>not wasm</p>');
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 404: names the URL and the HTTP status', async () => {
    const e = await loadError(loadWasmCore(new URL(`${base}/missing.wasm`)));
    expect(e.message).toBe(`wasm: fetching ${base}/missing.wasm failed: HTTP 404`);
  });

  it('a page that is not Wasm: names the URL, not a valid module', async () => {
    const e = await loadError(loadWasmCore(new URL(`${base}/page.html`)));
    expect(e.message).toMatch(new RegExp(`^wasm: ${base}/page\\.html is not a valid WebAssembly module: .*magic word`));
  });

  it('nothing listening: names the URL and says the fetch failed', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/vpci.wasm`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await loadError(loadWasmCore(new URL(url)));
    expect(e.message).toMatch(new RegExp(`^wasm: fetching ${url.replace(/[.]/g, '\\.')} failed: fetch failed`));
  });

  it('the real vpci.wasm by URL loads (the control)', async () => {
    await expect(loadWasmCore(new URL(`${base}/vpci.wasm`))).resolves.toBeDefined();
  });
});

describe('builds without inline Wasm', () => {
  it('dist/slim.js without `wasm`: says this build carries no inline Wasm and what to pass', async () => {
    const slim = await bundle('slim.js');
    const e = await loadError(slim.createBus());
    expect(e.message).toMatch(/^wasm: this build \(vpci\/slim, vpci\/edge\) carries no inline Wasm; pass `wasm`/);
  });

  it('dist/edge.js without `wasm`: the same, so nothing compiles Wasm bytes behind the host', async () => {
    const edge = await bundle('edge.js');
    await loadError(edge.runScenario());
    expect(readFileSync(join(ROOT, 'dist/edge.js'), 'utf8')).not.toContain('AGFzbQ'); // base64 of "\0asm"
  });
});

describe('the edge adapter given something other than a WebAssembly.Module', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a missing binding', undefined, /is undefined \(no binding of that name\?/],
    ['the bytes of vpci.wasm', vpciWasm, /is bytes, not a compiled module \(edge hosts cannot compile Wasm at run time/],
    ['a path', 'vpci.wasm', /is a string \(a path or URL is not loaded here/],
    ['an object', { default: 1 }, /is an object \(\[object Object\]\)/],
  ];
  for (const [what, binding, why] of cases) {
    it(`${what}: names the binding and says why`, async () => {
      const e = await loadError(createEdgeBus(binding));
      expect(e.message).toMatch(/^wasm: the binding given to vpci\/edge is /);
      expect(e.message).toMatch(why);
      expect(e.message).toMatch(/it must be a WebAssembly\.Module of vpci\.wasm$/);
      expect(() => wasmModule(binding)).toThrow(e.message);
    });
  }

  it('a WebAssembly.Module that is not vpci: the loader names the missing export', async () => {
    const e = await loadError(createEdgeBus(new WebAssembly.Module(emptyModule)));
    expect(e.message).toBe('wasm: the given WebAssembly.Module is not the vpci core (no export "memory")');
  });

  it('the compiled vpci.wasm runs the scenario (the control)', async () => {
    const { summary } = await runEdgeScenario(new WebAssembly.Module(vpciWasm), { backend: 'wasm' });
    expect(summary.replay.mismatches).toBe(0);
  }, 60_000);
});
