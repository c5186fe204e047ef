// Serves the demo page on localhost (`npm run demo`): dist/demo/ at /, the library bundles (dist/)
// at /dist/ and the embedding examples at /examples/. sirv gives the right MIME types (.js, .wasm)
// and, in dev mode, reads files per request, so a rebuild needs no restart. Bound to 127.0.0.1
// only: a demo has no business listening on the network.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Cross-origin isolation: browsers then give performance.now() microsecond resolution instead of
 * 100 µs steps, which the per-chunk throughput figures of short replays need. Everything the page
 * loads is same-origin, so the embedder policy costs nothing.
 */
function isolate(res) {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
}

/** A sirv handler for `dir` answering the URLs under `prefix` (which it strips first). */
function mount(prefix, dir) {
  const serve = sirv(`${root}${dir}`, { dev: true, extensions: ['html'], setHeaders: isolate });
  return { prefix, serve };
}

/**
 * Starts the server; port 0 picks a free one. Resolves to its URL (with a trailing slash) and a
 * close() that stops it.
 */
export function startDemoServer({ port = 8080, host = '127.0.0.1' } = {}) {
  // Longest prefix first: /dist/ and /examples/ win over the page at /.
  const mounts = [mount('/dist', 'dist'), mount('/examples', 'examples'), mount('', 'dist/demo')];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const m = mounts.find((x) => x.prefix === '' || url === x.prefix || url.startsWith(`${x.prefix}/`));
    req.url = url.slice(m.prefix.length) || '/';
    m.serve(req, res, () => {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`not found: ${url}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}/`;
      resolve({
        url,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

// Run directly: serve until Ctrl-C.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await startDemoServer({ port: Number(process.env.PORT ?? 8080) });
  console.log(`vpci demo: ${url}  (embedding example: ${url}examples/browser/)  Ctrl-C to stop`);
}
