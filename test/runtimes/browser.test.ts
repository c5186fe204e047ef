// The demo page and the browser embedding example in a real browser: Debian's chromium, headless,
// driven by playwright-core against `scripts/serve-demo.js` on localhost. Needs `npm run build`
// first (dist/browser.js, dist/demo/); `npm test` builds, and installs chromium when missing.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer } from '../../scripts/serve-demo.js';
import type { DemoServer } from '../../scripts/serve-demo.js';
import {
  DEFAULT_WINDOWS, addressMapRows, createBus, defaultTopology, defaultTrace, firmwareDefaults, formatTree, runFirmware, runScenario, trace,
} from '../../src/index.js';
import type { BackendKind } from '../../src/index.js';

/** Debian's chromium: /usr/bin/chromium is a shell wrapper around the real binary. */
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
const SCREENSHOT = 'test-artifacts/browser-demo.png';
const BACKENDS: BackendKind[] = ['wasm', 'ts'];

let server: DemoServer;
let browser: Browser;
let page: Page;
/** Console errors and uncaught exceptions of the page (and its worker) since it was opened. */
const errors: string[] = [];
/** What Node says for the same scenario: the summary JSON per backend. */
const nodeSummaries = {} as Record<BackendKind, string>;

beforeAll(async () => {
  if (!existsSync('dist/demo/index.html') || !existsSync('dist/browser.js')) {
    throw new Error('dist/demo or dist/browser.js is missing: run `npm run build` (or node scripts/build-ts.js && node scripts/build-demo.js)');
  }
  if (CHROMIUM === undefined) throw new Error('chromium is required by these tests; run `node scripts/ensure-test-tools.js` to install it');
  for (const backend of BACKENDS) nodeSummaries[backend] = JSON.stringify((await runScenario({ backend })).summary);
  server = await startDemoServer({ port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push(`worker console: ${m.text()}`); }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the demo page in Chromium', () => {
  it('loads without console errors and shows the default topology as lspci -tv after the firmware run', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    const bus = await createBus();
    const { map } = runFirmware(bus, firmwareDefaults(bus));
    expect(await page.textContent('#tree')).toBe(formatTree(bus.tree(), { verbose: true }));
    const names = await page.$$eval('#functions-body tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    expect(names).toEqual(defaultTopology.devices.map((d) => d.name));
    // The address map: a panel per aperture in use, a bar per BAR and bridge window of the firmware's map.
    const rows = addressMapRows(map, DEFAULT_WINDOWS);
    expect(await page.locator('#map svg.map-panel').count()).toBe(new Set(rows.map((r) => r.panel)).size);
    expect(await page.locator('#map .map-bar title').allTextContents()).toEqual(expect.arrayContaining(rows.map((r) => expect.stringContaining(r.label))));
    expect(await page.locator('#map .map-bar').count()).toBe(rows.length);
    expect(errors).toEqual([]);
  }, 120_000);

  it('replays the default trace on both backends with the summaries Node prints', async () => {
    await page.selectOption('#trace-kind', 'default');
    await page.check('#backend-wasm');
    await page.check('#backend-ts');
    await page.click('#replay-start');
    await page.waitForSelector('#replay[data-state="done"]', { timeout: 120_000 });
    for (const backend of BACKENDS) {
      expect(await page.textContent(`#summary-${backend}`), backend).toBe(nodeSummaries[backend]);
      expect(await page.$eval(`#progress-${backend}`, (p) => (p as HTMLProgressElement).value)).toBe(1);
    }
    expect(await page.textContent('#summary-equal')).toContain('identical');
    expect(await page.locator('#figures-body tr').count()).toBe(2);
    await page.locator('#chart .u-over').waitFor();
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(errors).toEqual([]);
  }, 120_000);

  it('replays an uploaded trace file, and names a file that is no trace', async () => {
    // The default trace as a vpci text trace: the replay must give the default scenario's summary.
    const text = trace.writeTextTrace(await defaultTrace());
    await page.selectOption('#trace-kind', 'file');
    await page.setInputFiles('#trace-file', { name: 'default.vpcitrace', mimeType: 'text/plain', buffer: Buffer.from(text) });
    await page.uncheck('#backend-ts');
    await page.selectOption('#replay-runs', '1');
    await page.click('#replay-start');
    await page.waitForSelector('#replay[data-state="done"]', { timeout: 120_000 });
    expect(await page.textContent('#summary-wasm')).toBe(nodeSummaries.wasm);
    expect(await page.textContent('#summary-ts')).toBe('');

    await page.setInputFiles('#trace-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
    await page.click('#replay-start');
    await page.waitForSelector('#replay[data-state="error"]', { timeout: 60_000 });
    expect(await page.textContent('#replay-status')).toContain('notes.txt');
    await page.check('#backend-ts');
    await page.selectOption('#trace-kind', 'default');
    expect(errors).toEqual([]);
  }, 120_000);

  it('reads config space in the poke panel as the Node bus does', async () => {
    const bus = await createBus();
    runFirmware(bus, firmwareDefaults(bus));
    await page.selectOption('#poke-space', 'config');
    await page.fill('#poke-target', '00:01.0');
    await page.fill('#poke-offset', '0x0');
    await page.selectOption('#poke-size', '4');
    await page.click('#poke-form button[value="read"]');
    const expected = `0x${bus.configRead('00:01.0', 0, 4).toString(16).padStart(8, '0')}`;
    await expect.poll(() => page.textContent('#poke-log li:last-child')).toContain(`→ ${expected}`);
    expect(errors).toEqual([]);
  }, 60_000);

  it('shows a bad topology inline, naming the field, and keeps the bus it had', async () => {
    const treeBefore = await page.textContent('#tree');
    const bad = structuredClone(defaultTopology);
    const behind = bad.devices.findIndex((d) => d.behind === 'bridge');
    (bad.devices[behind].options as { bars: { size: string }[] }).bars[0].size = '0x3000';
    const text = JSON.stringify(bad, null, 2);
    const expected = await createBus({ topology: text, source: 'topology.json' }).then(() => 'no error', (e: Error) => e.message);
    expect(expected).toContain(`devices[${behind}].bars[0].size`);
    await page.fill('#topology-text', text);
    await page.click('#topology-build');
    await page.waitForSelector('#topology-error:not([hidden])');
    expect(await page.textContent('#topology-error')).toBe(expected);
    expect(await page.getAttribute('#topology-text', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#tree')).toBe(treeBefore);
    // A user error is shown, not thrown: nothing reaches the console.
    expect(errors).toEqual([]);
  }, 60_000);
});

describe('the browser embedding example (examples/browser)', () => {
  for (const backend of BACKENDS) {
    it(`prints the ${backend} summary Node prints`, async () => {
      const example = await browser.newPage();
      const exampleErrors: string[] = [];
      example.on('console', (m) => { if (m.type() === 'error') exampleErrors.push(m.text()); });
      example.on('pageerror', (e) => exampleErrors.push(e.message));
      await example.goto(`${server.url}examples/browser/${backend === 'wasm' ? '' : `?backend=${backend}`}`);
      await example.waitForSelector('#summary[data-done="true"]', { timeout: 60_000 });
      expect(await example.textContent('#summary')).toBe(nodeSummaries[backend]);
      expect(exampleErrors).toEqual([]);
      await example.close();
    }, 60_000);
  }
});
