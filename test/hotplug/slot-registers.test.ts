// The slot registers of a hot-plug capable root port (PCIe Base 6.0 §7.5.3.6-11) on both
// backends: what Slot Capabilities advertises, the reset values, Presence Detect and DLL Link
// Active, RW1C event bits, read-only state bits, Slot Control's writable bits and Command Completed.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { CARD, EMPTY_PORT, FULL_PORT, SlotCtl, SlotSta, slotRegs } from './helpers.js';
import { BACKENDS, hex } from '../helpers/vpci.js';

const HP_FEATURES = 0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x40; // ABP PCP AIP PIP HPS HPC
const DLLLARC = 1 << 20;
const DLLLA = 0x2000;

describe.each(BACKENDS)('hot-plug slot registers (%s)', (backend) => {
  it('a root port advertises a QEMU-like hot-plug slot: button, power controller, indicators, surprise, capable, its slot number', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    expect(hex(bus.configRead(EMPTY_PORT, r.cap + 2, 2) & 0x100), 'Slot Implemented').toBe('0x100');
    expect(hex(r.slotCap()), 'Slot Capabilities: physical slot 9, no MRL sensor, no interlock, command completed supported').toBe(hex(((9 << 19) | HP_FEATURES) >>> 0));
    expect(hex(r.linkCap() & DLLLARC), 'DLL Link Active Reporting Capable').toBe(hex(DLLLARC));
    expect(hex(slotRegs(bus, FULL_PORT).slotCap() >>> 19), 'the occupied port is slot 5').toBe('0x5');
  });

  it('a root port with hotplug: false has a plain slot: only the slot number, Slot Control and Status read-only', async () => {
    const bus = await createBus({ backend, topology: { devices: [{ bdf: '00:03.0', model: 'root-port', options: { hotplug: false, slot: 3 } }] } });
    const port = '0000:00:03.0';
    const r = slotRegs(bus, port);
    expect(hex(r.slotCap())).toBe(hex(3 << 19));
    expect(r.linkCap() & DLLLARC).toBe(0);
    r.setControl(0xffff);
    r.writeStatus(0xffff);
    expect(hex(r.control())).toBe('0x0');
    expect(hex(r.status())).toBe('0x0');
    expect(bus.device(port), 'no hotplug controller').toBeUndefined();
  });

  it('power-on state: presence and link follow what is in the slot; indicators and power as QEMU resets them; no event bits', async () => {
    const bus = await createBus({ backend });
    const empty = slotRegs(bus, EMPTY_PORT);
    expect(hex(empty.status()), 'empty: nothing present, nothing changed').toBe('0x0');
    expect(empty.linkStatus() & DLLLA).toBe(0);
    expect(hex(empty.control()), 'attention and power indicators off, power on, events disabled').toBe(hex(SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_OFF));
    const full = slotRegs(bus, FULL_PORT);
    expect(hex(full.status()), 'occupied: Presence Detect State only').toBe(hex(SlotSta.PDS));
    expect(hex(full.linkStatus() & DLLLA), 'link up').toBe(hex(DLLLA));
    expect(hex(full.control()), 'power indicator on').toBe(hex(SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_ON));
  });

  it('plugging sets Presence Detect State and Changed, DLL Link Active and DLL State Changed; unplugging clears the states and sets the changed bits', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    bus.plug(EMPTY_PORT, CARD);
    expect(hex(r.status())).toBe(hex(SlotSta.PDS | SlotSta.PDC | SlotSta.DLLSC));
    expect(hex(r.linkStatus() & DLLLA)).toBe(hex(DLLLA));
    r.writeStatus(SlotSta.PDC | SlotSta.DLLSC);
    bus.unplug(EMPTY_PORT);
    expect(hex(r.status())).toBe(hex(SlotSta.PDC | SlotSta.DLLSC));
    expect(r.linkStatus() & DLLLA).toBe(0);
  });

  it('slot status event bits are write-1-to-clear: 1 clears, 0 keeps, the read-only state bits ignore writes', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    bus.plug(EMPTY_PORT, CARD);
    bus.pressAttentionButton(EMPTY_PORT);
    const all = SlotSta.PDS | SlotSta.PDC | SlotSta.DLLSC | SlotSta.ABP;
    expect(hex(r.status())).toBe(hex(all));
    r.writeStatus(0);
    expect(hex(r.status()), 'writing 0 keeps every bit').toBe(hex(all));
    r.writeStatus(SlotSta.PDC);
    expect(hex(r.status()), 'writing 1 to PDC clears PDC only').toBe(hex(all & ~SlotSta.PDC));
    r.writeStatus(SlotSta.PDS | SlotSta.MRLSS | SlotSta.EIS);
    expect(hex(r.status()), 'Presence Detect State, MRL Sensor State and Interlock Status are read-only').toBe(hex(all & ~SlotSta.PDC));
    r.writeStatus(0xffff);
    expect(hex(r.status()), 'all event bits cleared; presence stays').toBe(hex(SlotSta.PDS));
  });

  it('slot control: the controls of the advertised features are writable (not MRLSCE, not EIC), and each change completes a command', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(0xffff);
    const writable = SlotCtl.ABPE | SlotCtl.PFDE | SlotCtl.PDCE | SlotCtl.CCIE | SlotCtl.HPIE | SlotCtl.AIC | SlotCtl.PIC | SlotCtl.PCC | SlotCtl.DLLSCE;
    expect(hex(r.control())).toBe(hex(writable));
    expect(hex(r.status() & SlotSta.CC), 'Command Completed').toBe(hex(SlotSta.CC));
    r.writeStatus(SlotSta.CC);
    expect(r.status() & SlotSta.CC).toBe(0);
    r.setControl(writable & ~SlotCtl.AIC | SlotCtl.ATTENTION_OFF & 0x40);
    expect(hex(r.status() & SlotSta.CC), 'another change, another command').toBe(hex(SlotSta.CC));
  });

  it('a Slot Control write of the value already there completes no command (vpci sees writes through the bytes they change)', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(r.control());
    expect(r.status() & SlotSta.CC).toBe(0);
  });

  it('Slot Status written by a guest leaves Slot Control alone: clearing Command Completed is not a command', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(SlotCtl.HPIE | SlotCtl.CCIE | SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_OFF);
    // A dword write covering both registers with Slot Control unchanged: only the status clears.
    bus.configWrite(EMPTY_PORT, r.cap + 0x18, 4, (r.control() | (SlotSta.CC << 16)) >>> 0);
    expect(r.status() & SlotSta.CC).toBe(0);
  });

  it('powering an occupied slot off takes the link down (DLL State Changed) and keeps the card; powering it on brings the link back', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, FULL_PORT);
    const card = `${FULL_PORT}/00.0`;
    r.setControl(r.control() | SlotCtl.PCC);
    expect(r.linkStatus() & DLLLA).toBe(0);
    expect(hex(r.status())).toBe(hex(SlotSta.PDS | SlotSta.DLLSC | SlotSta.CC));
    expect(bus.functions().some((f) => f.path === card), 'the card stays').toBe(true);
    r.writeStatus(0xffff);
    r.setControl(r.control() & ~SlotCtl.PCC);
    expect(hex(r.linkStatus() & DLLLA)).toBe(hex(DLLLA));
    expect(hex(r.status())).toBe(hex(SlotSta.PDS | SlotSta.DLLSC | SlotSta.CC));
  });

  it('a card plugged into a slot the guest powered off is present with the link down until the guest powers the slot on', async () => {
    const bus = await createBus({ backend });
    const r = slotRegs(bus, EMPTY_PORT);
    r.setControl(r.control() | SlotCtl.PCC);
    r.writeStatus(0xffff);
    bus.plug(EMPTY_PORT, CARD);
    expect(hex(r.status())).toBe(hex(SlotSta.PDS | SlotSta.PDC));
    expect(r.linkStatus() & DLLLA).toBe(0);
    r.setControl(r.control() & ~SlotCtl.PCC);
    expect(hex(r.linkStatus() & DLLLA)).toBe(hex(DLLLA));
    expect(hex(r.status())).toBe(hex(SlotSta.PDS | SlotSta.PDC | SlotSta.DLLSC | SlotSta.CC));
  });
});
