// A hot-plug slot's controller across a snapshot: the slot registers come back with the config
// space, the controller's own state (the last Slot Control seen, the interrupt condition, a pending
// removal request) with the port's model state — and restoring is not a guest command.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { piixGsi, RecordingSink } from '../../src/interrupts/index.js';
import { SnapshotError } from '../../src/snapshot/index.js';
import { CARD, EMPTY_PORT, FULL_PORT, SlotCtl, SlotSta, slotRegs } from './helpers.js';
import { BACKENDS } from '../helpers/vpci.js';

const GSI = piixGsi(5, 1);

describe.each(BACKENDS)('hot-plug slot and snapshots (%s, restored on the other backend)', (backend) => {
  const other = backend === 'wasm' ? 'ts' : 'wasm';

  it('slot registers, the asserted interrupt and a pending removal request survive; the restore completes no command', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, FULL_PORT);
    r.setControl(SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_ON | SlotCtl.HPIE | SlotCtl.ABPE);
    r.writeStatus(SlotSta.CC);
    bus.requestUnplug(FULL_PORT);
    const blob = bus.snapshot();

    const sink = new RecordingSink();
    const restored = await createBus({ backend: other, interrupts: sink });
    restored.restore(blob);
    const q = slotRegs(restored, FULL_PORT);
    expect(q.status(), 'no Command Completed from the restore').toBe(r.status());
    expect(q.control()).toBe(r.control());
    expect(q.status() & SlotSta.ABP).toBe(SlotSta.ABP);
    // The interrupt condition came along: clearing the event deasserts the line (a level the
    // restored core holds), and a new press asserts it again.
    expect(restored.configRead(FULL_PORT, 0x06, 2) & 0x08, 'Interrupt Status: INTx held').toBe(0x08);
    q.writeStatus(SlotSta.ABP);
    expect(restored.configRead(FULL_PORT, 0x06, 2) & 0x08, 'released when the event is cleared').toBe(0);
    expect(sink.level(GSI)).toBe(false);
    restored.pressAttentionButton(FULL_PORT);
    expect(sink.level(GSI)).toBe(true);
    // The removal request came along: powering the slot off takes the card out.
    q.setControl(q.control() | SlotCtl.PCC);
    expect(restored.functions().some((f) => f.path === `${FULL_PORT}/00.0`)).toBe(false);
  });

  it('a bus whose slot contents changed refuses to snapshot', async () => {
    const bus = await createBus({ backend });
    bus.plug(EMPTY_PORT, CARD);
    expect(() => bus.snapshot()).toThrow(SnapshotError);
  });
});
