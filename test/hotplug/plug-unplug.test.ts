// bus.plug / bus.unplug / bus.pressAttentionButton / bus.requestUnplug on both backends: a card
// plugged after firmware ran gets BARs inside the port's reserved windows and works; after
// unplug nothing of it decodes, replayed accesses to its old BARs master-abort, its model's DMA
// moves nothing; the attention-button removal; errors leave the bus as it was.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError } from '../../src/errors.js';
import type { DeviceContext } from '../../src/devices/model-api.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import { firmwareDefaults, runFirmware, DEFAULT_HOTPLUG_RESERVE } from '../../src/firmware/index.js';
import { CARD, EMPTY_PORT, FULL_PORT, SlotCtl, SlotSta, assignCard, bootedBus, bridgeWindows, slotRegs } from './helpers.js';
import { records } from '../interrupts/helpers.js';
import { BACKENDS, snapshotAll } from '../helpers/vpci.js';

const CARD_PATH = `${EMPTY_PORT}/00.0`;
const TEST_DEVICE_ID = 0x7e570100;

/** Everything a caller can see of the bus's state, for "an error changed nothing" checks. */
function state(bus: Bus) {
  return {
    regions: bus.regions(),
    config: snapshotAll(bus),
    functions: bus.functions().map((f) => f.path),
    slot: slotRegs(bus, EMPTY_PORT).status(),
  };
}

describe.each(BACKENDS)('plug and unplug (%s)', (backend) => {
  it('firmware reserves bus numbers and windows below the empty hot-plug port', async () => {
    const bus = await bootedBus(backend);
    const secondary = bus.configRead(EMPTY_PORT, 0x19, 1);
    expect(secondary, 'a secondary bus for the empty slot').toBeGreaterThan(0);
    const w = bridgeWindows(bus, EMPTY_PORT);
    expect(BigInt(w.io!.limit - w.io!.base + 1)).toBe(DEFAULT_HOTPLUG_RESERVE.io);
    expect(BigInt(w.mem!.limit - w.mem!.base + 1)).toBe(DEFAULT_HOTPLUG_RESERVE.mem);
    expect(w.prefetch!.limit - w.prefetch!.base + 1n).toBe(DEFAULT_HOTPLUG_RESERVE.prefetch);
  });

  it('hotplugReserve: {} reserves nothing for the empty slot', async () => {
    const bus = await createBus({ backend });
    runFirmware(bus, firmwareDefaults(bus, { hotplugReserve: {} }));
    const w = bridgeWindows(bus, EMPTY_PORT);
    expect(w.mem).toBeUndefined();
  });

  it('a card plugged after firmware answers on the port\'s secondary bus; the guest assigns its BARs inside the port\'s windows and drives it', async () => {
    const bus = await bootedBus(backend);
    const secondary = bus.configRead(EMPTY_PORT, 0x19, 1);
    expect(bus.plug('00:09.0', { model: 'test-device', name: 'plugged test device' })).toBe(CARD_PATH);
    const at = `0000:${secondary.toString(16).padStart(2, '0')}:00.0`;
    expect(bus.addressOf(CARD_PATH)).toBe(at);
    expect(bus.configRead(at, 0, 4)).toBe(0x00fe1b36);
    const bars = assignCard(bus, EMPTY_PORT, at);
    const w = bridgeWindows(bus, EMPTY_PORT);
    for (const b of bars) {
      const inWindow = b.kind === 'io' ? b.base >= BigInt(w.io!.base) && b.base + b.size - 1n <= BigInt(w.io!.limit)
        : b.prefetchable ? b.base >= w.prefetch!.base && b.base + b.size - 1n <= w.prefetch!.limit
          : b.base >= BigInt(w.mem!.base) && b.base + b.size - 1n <= BigInt(w.mem!.limit);
      expect(inWindow, `BAR ${b.index} at 0x${b.base.toString(16)}`).toBe(true);
    }
    const bar0 = bars.find((b) => b.index === 0)!.base;
    expect(bus.mmioRead(bar0, 4), 'the ID register through the port\'s window').toBe(TEST_DEVICE_ID);
    bus.mmioWrite(bar0 + 4n, 4, 0x1234);
    expect(bus.mmioRead(bar0 + 4n, 4)).toBe(0x1234);
    expect([...new Set(bus.regions().filter((r) => r.bdf === CARD_PATH).map((r) => r.bar))].sort(), 'BAR 0 (registers) and BAR 2 (MSI-X) decode').toEqual([0, 2]);
  });

  it('the slot can be named by the port\'s BDF, its path, or the card\'s path or BDF; plug then unplug then plug again', async () => {
    const bus = await bootedBus(backend);
    expect(bus.plug('0000:00:09.0/00.0', CARD)).toBe(CARD_PATH);
    const at = bus.addressOf(CARD_PATH)!;
    bus.unplug(at);
    expect(bus.functions().some((f) => f.path === CARD_PATH)).toBe(false);
    bus.plug(EMPTY_PORT, CARD);
    bus.unplug(CARD_PATH);
    bus.plug('00:09.0', CARD);
    bus.unplug('00:09.0');
    expect(slotRegs(bus, EMPTY_PORT).status() & SlotSta.PDS).toBe(0);
  });

  it('plug and unplug between replayed batches: while plugged the records hit the card; after unplug none of its regions is mapped and the same records master-abort', async () => {
    const bus = await bootedBus(backend);
    bus.plug(EMPTY_PORT, { model: 'test-device' });
    const at = bus.addressOf(CARD_PATH)!;
    const bars = assignCard(bus, EMPTY_PORT, at);
    const bar0 = Number(bars.find((b) => b.index === 0)!.base);
    const batch = records([
      { op: 2, size: 4, address: bar0 + 4, value: 0xabcd },
      { op: 1, size: 4, address: bar0 + 4 },
      { op: 1, size: 4, address: bar0 },
    ]);
    const before = bus.replay(batch);
    expect(Array.from(before.status)).toEqual([0, 0, 0]);
    expect(before.results[1]).toBe(0xabcdn);
    expect(before.results[2]).toBe(BigInt(TEST_DEVICE_ID));
    const aborts = bus.stats().aborts.mmio;
    bus.unplug(EMPTY_PORT);
    expect(bus.regions().filter((r) => r.bdf === CARD_PATH)).toEqual([]);
    for (const b of bars) {
      const overlapping = bus.regions().filter((r) => r.space === (b.kind === 'io' ? 'io' : 'mmio') && r.base < b.base + b.size && b.base < r.base + r.size);
      expect(overlapping, `nothing decodes BAR ${b.index}'s old range`).toEqual([]);
    }
    const after = bus.replay(batch);
    expect(Array.from(after.status)).toEqual([1, 1, 1]);
    expect(after.results[1]).toBe(0xffffffffn);
    expect(bus.stats().aborts.mmio).toEqual({ reads: aborts.reads + 2, writes: aborts.writes + 1 });
    expect(bus.mmioRead(bar0, 4)).toBe(0xffffffff);
    expect(bus.configRead(at, 0, 4), 'nothing answers config cycles at its old BDF').toBe(0xffffffff);
    expect(bus.device(EMPTY_PORT)).toBeDefined();
    expect(() => bus.device(CARD_PATH)).toThrow(ArgumentError);
  });

  it('after unplug the card\'s model can move no byte by DMA, raise no interrupt, and was told (detach)', async () => {
    const bus = await bootedBus(backend);
    const ram = new Uint8Array(0x10000);
    bus.dma.addRam({ base: 0, size: ram.length, buffer: ram });
    let ctx: DeviceContext | undefined;
    let detached = 0;
    bus.plug(EMPTY_PORT, { ...CARD, behaviour: { attach: (c) => { ctx = c; return { detach: () => { detached++; } }; } } });
    assignCard(bus, EMPTY_PORT, bus.addressOf(CARD_PATH)!);
    expect(ctx!.dmaWrite(0x100, new Uint8Array([1, 2, 3, 4]))).toBe('ok');
    expect(Array.from(ram.subarray(0x100, 0x104))).toEqual([1, 2, 3, 4]);
    bus.unplug(EMPTY_PORT);
    expect(detached).toBe(1);
    const write = ctx!.dmaWrite(0x200, new Uint8Array([9, 9, 9, 9]));
    expect(write).not.toBe('ok');
    expect(Array.from(ram.subarray(0x200, 0x204)), 'no byte moved').toEqual([0, 0, 0, 0]);
    const into = new Uint8Array(4).fill(0x55);
    expect(ctx!.dmaRead(0x100, into)).not.toBe('ok');
    expect(Array.from(into), 'nothing read').toEqual([0x55, 0x55, 0x55, 0x55]);
    expect(ctx!.msi(0)).toBe('disabled');
  });

  it('requestUnplug presses the attention button; the card goes when the guest powers the slot off, and not before', async () => {
    const sink = new RecordingSink();
    const bus = await createBus({ backend, interrupts: sink });
    runFirmware(bus, firmwareDefaults(bus));
    const r = slotRegs(bus, EMPTY_PORT);
    bus.plug(EMPTY_PORT, { model: 'test-device' });
    assignCard(bus, EMPTY_PORT, bus.addressOf(CARD_PATH)!);
    r.setControl(SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_ON | SlotCtl.HPIE | SlotCtl.ABPE | SlotCtl.PDCE);
    r.writeStatus(0xffff);
    bus.requestUnplug(CARD_PATH);
    expect(hex16(r.status())).toBe(hex16(SlotSta.PDS | SlotSta.ABP));
    expect(sink.assertedLines().length, 'the button raised the hot-plug interrupt (INTx)').toBe(1);
    // What Linux's pciehp does: acknowledge, blink the power indicator, then (after 5 s) power off.
    r.writeStatus(SlotSta.ABP);
    r.setControl((r.control() & ~SlotCtl.PIC) | SlotCtl.POWER_INDICATOR_BLINK);
    expect(bus.functions().some((f) => f.path === CARD_PATH), 'still there').toBe(true);
    r.writeStatus(SlotSta.CC);
    r.setControl((r.control() & ~SlotCtl.PIC) | SlotCtl.POWER_INDICATOR_OFF | SlotCtl.PCC);
    expect(bus.functions().some((f) => f.path === CARD_PATH), 'removed at power-off').toBe(false);
    expect(bus.regions().filter((x) => x.bdf === CARD_PATH)).toEqual([]);
    expect(hex16(r.status())).toBe(hex16(SlotSta.PDC | SlotSta.DLLSC | SlotSta.CC));
    // Powering on the empty slot again: no card, no link.
    r.setControl(r.control() & ~SlotCtl.PCC);
    expect(r.linkStatus() & 0x2000).toBe(0);
  });

  it('the attention button alone removes nothing, even when the guest powers the slot off afterwards', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, FULL_PORT);
    bus.pressAttentionButton(FULL_PORT);
    expect(r.status() & SlotSta.ABP).toBe(SlotSta.ABP);
    r.setControl(r.control() | SlotCtl.PCC);
    expect(bus.functions().some((f) => f.path === `${FULL_PORT}/00.0`)).toBe(true);
  });

  it('a surprise unplug after requestUnplug removes the card at once and forgets the request', async () => {
    const bus = await createBus({ backend });
    bus.plug(EMPTY_PORT, CARD);
    bus.requestUnplug(EMPTY_PORT);
    bus.unplug(EMPTY_PORT);
    bus.plug(EMPTY_PORT, CARD);
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(r.control() | SlotCtl.PCC);
    expect(bus.functions().some((f) => f.path === CARD_PATH), 'the new card is not taken by the old request').toBe(true);
  });

  it('unplugging the topology\'s own card of a hot-plug port works like any other', async () => {
    const bus = await bootedBus(backend);
    const rng = `${FULL_PORT}/00.0`;
    expect(bus.regions().some((r) => r.bdf === rng)).toBe(true);
    bus.unplug(FULL_PORT);
    expect(bus.regions().some((r) => r.bdf === rng)).toBe(false);
    expect(hex16(slotRegs(bus, FULL_PORT).status())).toBe(hex16(SlotSta.PDC | SlotSta.DLLSC));
  });

  describe('errors name the place and leave the bus as it was', () => {
    const cases: [string, (bus: Bus) => void, RegExp][] = [
      ['plug into an occupied slot', (bus) => bus.plug(FULL_PORT, CARD), /plug: the slot of 0000:00:05\.0 is occupied by 0000:00:05\.0\/00\.0/],
      ['plug into a PCI-to-PCI bridge', (bus) => bus.plug('00:04.0', CARD), /plug: 0000:00:04\.0 is not a PCI Express port/],
      ['plug into an endpoint', (bus) => bus.plug('00:01.0', CARD), /plug: 0000:00:01\.0 is not a PCI Express port/],
      ['plug below a card', (bus) => bus.plug('00:05.0/00.0/00.0', CARD), /plug: 0000:00:05\.0\/00\.0 is not a PCI Express port/],
      ['plug at another address than 00.0', (bus) => bus.plug('00:09.0/01.0', CARD), /plug: 0000:00:09\.0\/01\.0: a card goes in at 00\.0/],
      ['plug an unknown model', (bus) => bus.plug(EMPTY_PORT, { model: 'nope' }), /plug: 0000:00:09\.0: device\.model: "nope" is not a model/],
      ['plug with a bad option', (bus) => bus.plug(EMPTY_PORT, { model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'mem32', size: 3000 }] } }), /plug: 0000:00:09\.0: device\.bars\[0\]\.size: 3000 is not a power of two/],
      ['plug with placement', (bus) => bus.plug(EMPTY_PORT, { model: 'test-endpoint', bdf: '00:1f.0' } as never), /device\.bdf: the caller places the device/],
      ['plug a template', (bus) => bus.plug(EMPTY_PORT, { template: { configHex: '00' } } as never), /device\.template: templates are not accepted/],
      ['plug neither model nor descriptor', (bus) => bus.plug(EMPTY_PORT, { name: 'x' }), /device: needs exactly one of "model" or "descriptor"/],
      ['plug a bridge', (bus) => bus.plug(EMPTY_PORT, { model: 'pci-bridge' }), /only endpoints \(header type 0\) can be plugged/],
      ['plug a model with a behaviour of the caller\'s', (bus) => bus.plug(EMPTY_PORT, { model: 'test-endpoint', behaviour: { attach: () => ({}) } }), /device\.behaviour: goes with "descriptor"/],
      ['plug into an unknown function', (bus) => bus.plug('00:1f.0', CARD), /bdf: 00:1f\.0 is not a function of the topology/],
      ['plug with a malformed name', (bus) => bus.plug('00:09.0/zz', CARD), /plug: /],
      ['unplug an empty slot', (bus) => bus.unplug(EMPTY_PORT), /unplug: the slot of 0000:00:09\.0 is empty/],
      ['unplug from a plain bridge', (bus) => bus.unplug('00:04.0/00.0'), /unplug: 0000:00:04\.0 is not a PCI Express port/],
      ['requestUnplug an empty slot', (bus) => bus.requestUnplug(EMPTY_PORT), /requestUnplug: the slot of 0000:00:09\.0 is empty/],
      ['press the button of a function without a slot', (bus) => bus.pressAttentionButton('00:01.0'), /pressAttentionButton: 0000:00:01\.0 is not a PCI Express port/],
    ];
    it.each(cases)('%s', async (_name, act, message) => {
      const bus = await bootedBus(backend);
      const before = state(bus);
      expect(() => act(bus)).toThrow(ArgumentError);
      expect(() => act(bus)).toThrow(message);
      expect(state(bus)).toEqual(before);
    });

    it('plug into a root port whose slot is not hot-plug capable', async () => {
      const bus = await createBus({ backend, topology: { devices: [{ bdf: '00:03.0', model: 'root-port', options: { hotplug: false } }] } });
      const regions = bus.regions();
      expect(() => bus.plug('00:03.0', CARD)).toThrow(/plug: 0000:00:03\.0 has a slot that is not hot-plug capable \(Slot Capabilities Hot-Plug Capable is 0\)/);
      expect(bus.functions().length).toBe(1);
      expect(bus.regions()).toEqual(regions);
    });

    it('plug into a cloned hot-plug port with no controller', async () => {
      const source = await createBus({ backend, topology: { devices: [{ bdf: '00:03.0', model: 'root-port' }] } });
      const hexDump = Array.from({ length: 4096 }, (_, i) => source.configRead('00:03.0', i, 1).toString(16).padStart(2, '0')).join('');
      const bus = await createBus({ backend, topology: { devices: [{ bdf: '00:03.0', template: { configHex: hexDump } }] } });
      expect(() => bus.plug('00:03.0', CARD)).toThrow(/has a hot-plug capable slot but no hot-plug controller/);
    });
  });
});

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}
