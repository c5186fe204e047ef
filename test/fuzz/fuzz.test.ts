// The hostile-guest fuzzer's bounded CI run (fixed seed, fixed step budget, so every run does the
// same steps): structure-aware guest and embedder steps on the Wasm core and the TypeScript twin
// at once, checked against each other and the reference model (fuzz/README.md). A failure is
// shrunk and written to test-artifacts/fuzz/ as a reproducer, and the test fails naming it.
// Also: the checks catch what they are meant to catch (faults injected behind the model's back),
// and reproducers round-trip.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import { replayEvents } from '../../src/replay/index.js';
import { TextTraceReader, readAll } from '../../src/trace/index.js';
import { fuzzTarget, replaySteps, runCampaign } from '../../fuzz/campaign.js';
import { formatReproducer, parseReproducer, readReproducer } from '../../fuzz/reproducer.js';
import { randomTopology } from '../../fuzz/topologies.js';
import { shrink } from '../../fuzz/shrink.js';
import type { Step } from '../../fuzz/steps.js';
import { stepsFromJson, stepsToJson } from '../../fuzz/steps.js';
import { Twin } from '../../fuzz/twin.js';
import { ROOT } from '../helpers/shared-data.js';

/**
 * The CI budget: about 12 s + 5 s on an idle 2-core VM (twice that under load); the seeds and step
 * counts make it the same run every time.
 */
const CI_SEED = 20261125;
const CI_STEPS = 150_000;
const CI_RANDOM_STEPS = 50_000;

/** Fails the test with the shrunk reproducer written to test-artifacts/fuzz/ (the first failure). */
async function report(r: Awaited<ReturnType<typeof runCampaign>>): Promise<void> {
  {
    if (r.found.length > 0) {
      const f = r.found[0];
      const target = await fuzzTarget(f.topology);
      const s = await shrink(f.steps, f.failure, target, { seconds: 60 });
      const rerun = await replaySteps(s.steps, target);
      const dir = join(ROOT, 'test-artifacts', 'fuzz');
      mkdirSync(dir, { recursive: true });
      const info = { failure: s.failure, seed: r.seed, episodeSeed: f.episodeSeed, originalLength: f.steps.length, reads: rerun.twin.reads, expectedRead: rerun.twin.expectedRead, topology: f.topology };
      const file = join(dir, `${s.failure.kind}-seed${r.seed}.${formatReproducer(s.steps, info).ext}`);
      writeFileSync(file, formatReproducer(s.steps, info, file).text);
      expect.fail(`${f.failure.kind} after step ${f.failure.step + 1} of episode ${f.episode}: ${f.failure.message}\nreproducer (${s.steps.length} steps): ${file}`);
    }
  }
}

describe('hostile-guest fuzzer', () => {
  test(`seed ${CI_SEED}, ${CI_STEPS} steps on the built-in topology: both backends and the reference model agree after every step`, async () => {
    const r = await runCampaign({ seed: CI_SEED, steps: CI_STEPS, checkEvery: 32 });
    await report(r);
    expect(r.steps).toBeGreaterThanOrEqual(CI_STEPS);
    // The run reached what it is meant to stress (so a generator change cannot quietly stop it).
    for (const what of ['interrupt messages', 'interrupt line changes', 'dma transfers done', 'dma faults: unmapped', 'dma faults: permission',
      'dma faults: bus-master-off', 'virtio devices live (DRIVER_OK) at episode end', 'virtio devices needing reset at episode end', 'bar effects', 'master aborts', 'invalid accesses']) {
      expect(r.happened.get(what) ?? 0, what).toBeGreaterThan(0);
    }
  }, 180_000);

  test(`seed ${CI_SEED}, ${CI_RANDOM_STEPS} steps on random topologies (one per episode)`, async () => {
    const r = await runCampaign({ seed: CI_SEED, steps: CI_RANDOM_STEPS, checkEvery: 32, topology: 'random' });
    await report(r);
    expect(r.episodes).toBeGreaterThan(5);
    expect(r.happened.get('reads checked against the model: config') ?? 0).toBeGreaterThan(1000);
  }, 180_000);
});

/** A twin after the firmware prologue, for injecting faults. */
async function booted(): Promise<{ twin: Twin; target: Awaited<ReturnType<typeof fuzzTarget>> }> {
  const target = await fuzzTarget();
  const twin = await Twin.create(target.topology, target.layout, { checkEvery: 1 });
  for (const s of target.prologue) expect(twin.step(s)).toBeUndefined();
  return { twin, target };
}

const read = (addr: number, size = 4): Step => ({ k: 'access', op: 'read', space: 'mmio', addr, size });
const ECAM = 0xb0000000;

describe('the checks catch what they are for', () => {
  test('a read that differs between the backends is a divergence', async () => {
    const { twin } = await booted();
    const core = twin.ts.bus.core;
    const real = core.mmioRead.bind(core);
    core.mmioRead = (addr: number, size: number) => (addr === ECAM + 0x2000 ? real(addr, size) ^ 1 : real(addr, size));
    expect(twin.step(read(ECAM + 0x2000))?.kind).toBe('divergence');
  });

  test('a config read the model does not expect is a config-read failure', async () => {
    const { twin } = await booted();
    twin.model.cfg[1][0] ^= 0xff;
    expect(twin.step(read(ECAM + (1 << 15)))).toMatchObject({ kind: 'config-read' });
  });

  test('a read-only byte changing behind the guest\'s back is a read-only failure', async () => {
    const { twin, target } = await booted();
    const f = target.layout.functions[1];
    for (const env of [twin.wasm, twin.ts]) {
      const c = new Uint8Array(f.size);
      for (let o = 0; o < f.size; o++) c[o] = env.bus.core.planeByte(1, 0, o);
      c[0x02] ^= 0x10; // Device ID: read-only
      env.bus.core.loadPlanes(1, c, f.wmask, f.w1cmask);
    }
    expect(twin.step(read(0x10000, 4))).toMatchObject({ kind: 'read-only' });
  });

  test('a region the configuration does not explain is a region-table failure', async () => {
    const { twin } = await booted();
    for (const env of [twin.wasm, twin.ts]) env.bus.addRegion({ space: 'mmio', base: 0xfed00000, size: 0x1000, handler: { kind: 'doorbell' } });
    expect(twin.step(read(0x10000, 4))).toMatchObject({ kind: 'region-table' });
  });

  test('guest RAM changing where no function may write is a dma-outside failure', async () => {
    const { twin } = await booted();
    for (const env of [twin.wasm, twin.ts]) env.ram(0)[0x1234] ^= 0x5a;
    expect(twin.step(read(ECAM))).toMatchObject({ kind: 'dma-outside' });
  });

  test('an embedder DMA the model says must fault, done anyway, is a dma-model failure', async () => {
    const { twin } = await booted();
    // The model's Bus Master Enable of the test device (00:08.0, function 11) flipped: the core
    // and the model now disagree on whether the transfer may happen.
    twin.model.cfg[11][4] ^= 4;
    expect(twin.step({ k: 'dma', op: 'read', fn: 11, iova: 0x1000, length: 16, fill: 0 })).toMatchObject({ kind: 'dma-model' });
  });

  test('an MSI-X table read other than what the guest programmed is an interrupts failure', async () => {
    const { twin } = await booted();
    // The test device (00:08.0, function 11): its table is in BAR 2, mapped by the firmware.
    const base = twin.model.barBase(11, 2)!;
    twin.irq.tables.get(11)!.setUint32(0, 0x1234, true);
    expect(twin.step(read(Number(base)))).toMatchObject({ kind: 'interrupts' });
  });

  test('a master abort the model does not count is an abort failure', async () => {
    const { twin } = await booted();
    for (const env of [twin.wasm, twin.ts]) env.bus.core.countInvalid();
    expect(twin.step(read(ECAM))).toMatchObject({ kind: 'abort' });
  });

  test('an exception out of a guest access is an exception failure', async () => {
    const { twin } = await booted();
    for (const env of [twin.wasm, twin.ts]) env.bus.core.ioRead = () => { throw new RangeError('trap'); };
    expect(twin.step({ k: 'access', op: 'read', space: 'io', addr: 0xcfc, size: 4 })).toMatchObject({ kind: 'exception' });
  });
});

describe('reproducers', () => {
  const steps: Step[] = [
    { k: 'access', op: 'write', space: 'io', addr: 0xcf8, size: 4, value: 0x80000810 },
    { k: 'access', op: 'read', space: 'io', addr: 0xcfc, size: 4 },
    { k: 'mem', addr: 0x2000, hex: '0102' },
    { k: 'access', op: 'write', space: 'mmio', addr: 2n ** 53n + 2n, size: 8, value: (1n << 64n) - 1n },
    { k: 'access', op: 'read', space: 'mmio', addr: ECAM, size: 8 },
  ];

  test('guest accesses and RAM writes become a vpci text trace that vpci replay runs', async () => {
    const { text, ext } = formatReproducer(steps, { failure: { kind: 'divergence', step: 4, message: 'example\nsecond line' }, reads: [0xfffff000n, 0x12345n] });
    expect(ext).toBe('trace');
    expect(parseReproducer(text)).toEqual(steps);
    const events = readAll(new TextTraceReader(), text);
    const bus = await createBus({ backend: 'ts' });
    const summary = replayEvents(bus, events, { verify: true, ramBytes: 1 << 20 });
    expect(summary.records).toBe(4);
    expect(summary.memory.writes).toBe(1);
    expect(summary.verified).toBe(2);
  });

  test('a random topology travels inside its JSON reproducer', async () => {
    const topology = await randomTopology(7);
    const { text, ext } = formatReproducer([read(ECAM)], { failure: { kind: 'exception', step: 0, message: 'x' }, topology });
    expect(ext).toBe('json');
    const back = readReproducer(text);
    expect(back.topology).toEqual(topology);
    const target = await fuzzTarget(back.topology);
    expect((await replaySteps([...target.prologue, ...back.steps], target)).failure).toBeUndefined();
  });

  test('embedder steps and hostile numbers make a JSON step list', () => {
    const odd: Step[] = [...steps, { k: 'access', op: 'read', space: 'mmio', addr: NaN, size: 3 }, { k: 'dma', op: 'create', kind: 'translated' }];
    const { text, ext } = formatReproducer(odd, { failure: { kind: 'exception', step: 6, message: 'x' } });
    expect(ext).toBe('json');
    expect(parseReproducer(text)).toEqual(odd);
    expect(stepsFromJson(stepsToJson(odd))).toEqual(odd);
  });
});
