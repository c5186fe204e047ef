#!/usr/bin/env node
// The `vpci` command: runs the bundled CLI (built by `npm run build`, which `npm ci` runs).
import { main } from '../dist/cli.js';

// A closed pipe (`vpci lspci | head`) ends the output quietly, as other Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
