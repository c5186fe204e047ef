// The hot-plug interrupt (PCIe Base 6.0 §6.7.3.4) on both backends: an MSI each time "HPIE and an
// enabled event pending" turns true; INTx asserted while it holds (and Interrupt Disable / an
// enabled MSI keeping the pin quiet), deasserted when the guest clears the status bits.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { piixGsi, RecordingSink } from '../../src/interrupts/index.js';
import { CARD, EMPTY_PORT, SlotCtl, SlotSta, capOffset, slotRegs } from './helpers.js';
import { BACKENDS } from '../helpers/vpci.js';

const GSI = piixGsi(9, 1);
const VECTOR = 0x61;
const OFF = SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_OFF;

async function sinkBus(backend: 'wasm' | 'ts'): Promise<{ bus: Bus; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, interrupts: sink });
  return { bus, sink };
}

/** Enables the port's MSI (one vector, x86 message to VECTOR). */
function enableMsi(bus: Bus): void {
  const msi = capOffset(bus, EMPTY_PORT, 0x05);
  bus.configWrite(EMPTY_PORT, msi + 4, 4, 0xfee00000);
  bus.configWrite(EMPTY_PORT, msi + 8, 4, 0);
  bus.configWrite(EMPTY_PORT, msi + 0x0c, 2, VECTOR);
  bus.configWrite(EMPTY_PORT, msi + 2, 2, 1);
}

describe.each(BACKENDS)('hot-plug interrupt (%s)', (backend) => {
  it('MSI: one message when an enabled event arrives with HPIE set, none while it stays pending, another after the guest cleared it', async () => {
    const { bus, sink } = await sinkBus(backend);
    const r = slotRegs(bus, EMPTY_PORT);
    enableMsi(bus);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.PDCE);
    r.writeStatus(SlotSta.CC);
    expect(sink.messages(EMPTY_PORT, VECTOR), 'Command Completed is not enabled (CCIE 0)').toBe(0);
    bus.plug(EMPTY_PORT, CARD);
    expect(sink.messages(EMPTY_PORT, VECTOR)).toBe(1);
    bus.pressAttentionButton(EMPTY_PORT);
    expect(sink.messages(EMPTY_PORT, VECTOR), 'ABPE is 0: no message').toBe(1);
    r.writeStatus(0xffff);
    bus.unplug(EMPTY_PORT);
    expect(sink.messages(EMPTY_PORT, VECTOR), 'PDC cleared, then set again: a new message').toBe(2);
    expect(sink.assertedLines(), 'no INTx while MSI is enabled').toEqual([]);
  });

  it('MSI: an event pending when the guest sets HPIE sends a message then; events with HPIE 0 send none', async () => {
    const { bus, sink } = await sinkBus(backend);
    const r = slotRegs(bus, EMPTY_PORT);
    enableMsi(bus);
    r.setControl(OFF | SlotCtl.PDCE);
    bus.plug(EMPTY_PORT, CARD);
    expect(sink.messages(EMPTY_PORT, VECTOR)).toBe(0);
    r.setControl(OFF | SlotCtl.PDCE | SlotCtl.HPIE);
    expect(sink.messages(EMPTY_PORT, VECTOR)).toBe(1);
  });

  it('Command Completed raises the interrupt when CCIE and HPIE are set', async () => {
    const { bus, sink } = await sinkBus(backend);
    const r = slotRegs(bus, EMPTY_PORT);
    enableMsi(bus);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.CCIE);
    expect(sink.messages(EMPTY_PORT, VECTOR)).toBe(1);
    r.writeStatus(SlotSta.CC);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.CCIE | SlotCtl.ABPE);
    expect(sink.messages(EMPTY_PORT, VECTOR)).toBe(2);
  });

  it('INTx: asserted while HPIE and an enabled event are set, deasserted when the guest clears the status bits', async () => {
    const { bus, sink } = await sinkBus(backend);
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.PDCE | SlotCtl.DLLSCE);
    bus.plug(EMPTY_PORT, CARD);
    expect(sink.level(GSI)).toBe(true);
    expect(bus.configRead(EMPTY_PORT, 0x06, 2) & 0x08, 'Interrupt Status').toBe(0x08);
    r.writeStatus(SlotSta.PDC);
    expect(sink.level(GSI), 'DLL State Changed is still pending and enabled').toBe(true);
    r.writeStatus(SlotSta.DLLSC);
    expect(sink.level(GSI)).toBe(false);
    expect(bus.configRead(EMPTY_PORT, 0x06, 2) & 0x08).toBe(0);
    bus.pressAttentionButton(EMPTY_PORT);
    expect(sink.level(GSI), 'ABPE is 0').toBe(false);
  });

  it('INTx: clearing HPIE deasserts; Interrupt Disable keeps the pin quiet while the event stays pending', async () => {
    const { bus, sink } = await sinkBus(backend);
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.PDCE);
    bus.plug(EMPTY_PORT, CARD);
    expect(sink.level(GSI)).toBe(true);
    r.setControl(OFF | SlotCtl.PDCE);
    expect(sink.level(GSI)).toBe(false);
    bus.configWrite(EMPTY_PORT, 0x04, 2, 0x400);
    r.setControl(OFF | SlotCtl.PDCE | SlotCtl.HPIE);
    expect(sink.level(GSI), 'Interrupt Disable').toBe(false);
    bus.configWrite(EMPTY_PORT, 0x04, 2, 0);
    expect(sink.level(GSI)).toBe(true);
  });

  it('a guest handler called from the sink sees all of the event\'s bits already set', async () => {
    let seen = -1;
    const bus = await createBus({
      backend,
      interrupts: {
        line: (_gsi, level) => { if (level) seen = bus.configRead(EMPTY_PORT, slotRegs(bus, EMPTY_PORT).cap + 0x1a, 2); },
        message: () => {},
      },
    });
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(OFF | SlotCtl.HPIE | SlotCtl.PDCE);
    r.writeStatus(SlotSta.CC);
    bus.plug(EMPTY_PORT, CARD);
    expect(seen).toBe(SlotSta.PDS | SlotSta.PDC | SlotSta.DLLSC);
  });
});
