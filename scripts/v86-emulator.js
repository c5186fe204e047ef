// Makes a v86 emulator from the installed npm package (devDependency `v86`) and waits until it has
// loaded, not started: the real-guest boot, the adapter tests and the peer benchmark all begin
// here, so vpci can be attached (or v86's own ports driven) before the first instruction.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** The v86 package version installed. */
export const v86Version = require('v86/package.json').version;

/**
 * A V86 instance built with `settings` (over defaults: no keyboard, mouse or speaker, no logging,
 * autostart off) that has reported `emulator-loaded`.
 */
export async function loadV86Emulator(settings = {}) {
  const main = require.resolve('v86'); // node_modules/v86/build/libv86.mjs
  const { V86 } = await import(pathToFileURL(main).href);
  const emulator = new V86({
    wasm_path: join(dirname(main), 'v86.wasm'),
    autostart: false, disable_keyboard: true, disable_mouse: true, disable_speaker: true, log_level: 0,
    ...settings,
  });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('v86 did not report emulator-loaded within 30 s')), 30_000);
    emulator.add_listener('emulator-loaded', () => { clearTimeout(timer); ok(); });
  });
  return emulator;
}
