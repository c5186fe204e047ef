// The README's per-runtime embedding examples are the files the runtime tests run: each file's
// text stands whole in a fenced block of the README, so the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared-data.js';

const EXAMPLES = [
  'examples/node/embed.mjs',
  'examples/browser/index.html',
  'examples/deno/deno.json',
  'examples/deno/smoke.ts',
  'examples/workerd/worker.js',
  'examples/workerd/config.capnp',
];

/** The bodies of the README's fenced code blocks. */
function fencedBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1].replace(/\n$/, ''));
}

describe('README embedding examples', () => {
  const blocks = fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  it.each(EXAMPLES)('%s stands whole in a README code block', (path) => {
    const text = readFileSync(join(ROOT, path), 'utf8').replace(/\n$/, '');
    expect(blocks).toContain(text);
  });
});
