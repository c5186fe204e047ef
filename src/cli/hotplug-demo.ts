// The demo's hotplug section: a card goes into the first empty hot-plug slot after firmware ran,
// a guest (config cycles and MMIO only, as pciehp and the PCI core would) sees the slot events and
// the interrupt, assigns the card's BARs inside the window firmware reserved below the port, uses
// the card, and then the card is pulled: the slot reports it and its regions are gone.
import type { Bus } from '../bus.js';
import { HotplugSlot } from '../devices/hotplug/index.js';
import { CapId, PcieReg, SlotCtl, SlotSta, walkCapabilities } from '../config/index.js';
import { RecordingSink } from '../interrupts/index.js';
import { TestDeviceReg } from '../devices/index.js';

const hex = (v: number | bigint, width = 0) => `0x${v.toString(16).padStart(width, '0')}`;
const VECTOR = 0x62;

/** Slot Status bits by name, as lspci -vv prints them. */
function statusText(status: number): string {
  const names: [number, string][] = [
    [SlotSta.PDS, 'PresDet+'], [SlotSta.PDC, 'PresDetChg+'], [SlotSta.DLLSC, 'DLLStateChg+'], [SlotSta.ABP, 'AttnBtn+'], [SlotSta.CC, 'CmdCplt+'],
  ];
  const set = names.filter(([bit]) => status & bit).map(([, n]) => n);
  return `${hex(status, 4)}${set.length ? ` (${set.join(' ')})` : ''}`;
}

/** The path of the first hot-plug port whose slot is empty, if any. */
function emptySlot(bus: Bus): string | undefined {
  return bus.functions().find((f) => {
    const d = bus.device(f.path);
    return d instanceof HotplugSlot && !d.occupied && bus.addressOf(f.path) !== undefined;
  })?.path;
}

/** Plugs a test device into the first empty hot-plug slot, drives it, unplugs it; the lines to print (undefined: no empty slot). */
export function hotplugDemoText(bus: Bus): string | undefined {
  const port = emptySlot(bus);
  if (port === undefined) return undefined;
  const lines: string[] = [];
  const sink = new RecordingSink();
  bus.interrupts.setSink(sink);
  const config = bus.functions().find((f) => f.path === port)!.planes.config;
  const cap = walkCapabilities(config).find((c) => c.id === CapId.PCIE)!.offset;
  const msi = walkCapabilities(config).find((c) => c.id === CapId.MSI)?.offset;
  const at = bus.addressOf(port)!;
  const status = () => bus.configRead(at, cap + PcieReg.SLOT_STATUS, 2);
  const linkUp = () => (bus.configRead(at, cap + PcieReg.LINK_STATUS, 2) & 0x2000) !== 0;
  const messages = () => sink.messages(port, VECTOR);

  // The guest's hotplug driver: MSI on, hot-plug interrupt for presence, link and button events.
  if (msi !== undefined) {
    bus.configWrite(at, msi + 4, 4, 0xfee00000);
    bus.configWrite(at, msi + 8, 4, 0);
    bus.configWrite(at, msi + 0x0c, 2, VECTOR);
    bus.configWrite(at, msi + 2, 2, 1);
  }
  bus.configWrite(at, cap + PcieReg.SLOT_CONTROL, 2,
    SlotCtl.ATTENTION_OFF | SlotCtl.POWER_INDICATOR_OFF | SlotCtl.HPIE | SlotCtl.PDCE | SlotCtl.DLLSCE | SlotCtl.ABPE);
  bus.configWrite(at, cap + PcieReg.SLOT_STATUS, 2, 0xffff);
  const secondary = bus.configRead(at, 0x19, 1);
  lines.push(`${port}: empty hot-plug slot ${bus.configRead(at, cap + PcieReg.SLOT_CAPABILITIES, 4) >>> 19}, secondary bus ${hex(secondary, 2)}; ` +
    `guest enabled MSI (vector ${hex(VECTOR)}) and HPIE, PDCE, DLLSCE, ABPE in Slot Control`);

  const card = bus.plug(port, { model: 'test-device', name: 'hotplugged test device' });
  const cardAt = bus.addressOf(card)!;
  lines.push(`bus.plug("${port}", { model: "test-device" }) -> ${card}, answers at ${cardAt}`);
  lines.push(`  Slot Status ${statusText(status())}, DLL Link Active ${linkUp() ? 1 : 0}; MSI messages: ${messages()}`);
  bus.configWrite(at, cap + PcieReg.SLOT_STATUS, 2, SlotSta.PDC | SlotSta.DLLSC);
  lines.push(`  guest acknowledges: Slot Status ${statusText(status())}`);

  // What the OS then does: read the port's windows, size the BARs, place them inside.
  const memBase = (bus.configRead(at, 0x20, 2) & 0xfff0) * 0x10000;
  const memLimit = (bus.configRead(at, 0x22, 2) & 0xfff0) * 0x10000 + 0xfffff;
  lines.push(`  window below the port (reserved by firmware): memory ${hex(memBase, 8)}-${hex(memLimit, 8)}`);
  let next = memBase;
  const bars: { index: number; base: number; size: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const reg = 0x10 + 4 * i;
    const original = bus.configRead(cardAt, reg, 4);
    bus.configWrite(cardAt, reg, 4, 0xffffffff);
    const probed = bus.configRead(cardAt, reg, 4);
    if (probed === 0 || (original & 1) !== 0) {
      bus.configWrite(cardAt, reg, 4, original);
      continue;
    }
    // The test device's BARs are 32-bit memory (a 64-bit one would take the next entry too).
    const size = (~(probed & 0xfffffff0) >>> 0) + 1;
    const base = Math.ceil(next / size) * size;
    next = base + size;
    bus.configWrite(cardAt, reg, 4, base);
    bars.push({ index: i, base, size });
  }
  bus.configWrite(cardAt, 0x04, 2, 0x0006);
  lines.push(`  guest assigns ${bars.map((b) => `BAR ${b.index} (${hex(b.size)}) at ${hex(b.base, 8)}`).join(', ')}; memory decode and bus mastering on`);
  const bar0 = bars.find((b) => b.index === 0)!.base;
  const id = bus.mmioRead(bar0 + TestDeviceReg.ID, 4);
  bus.mmioWrite(bar0 + TestDeviceReg.SCRATCH, 4, 0xcafe);
  lines.push(`  ID register ${hex(id, 8)}; SCRATCH written 0xcafe, reads ${hex(bus.mmioRead(bar0 + TestDeviceReg.SCRATCH, 4), 8)}`);
  const regions = bus.regions().filter((r) => r.bdf === card).length;

  bus.unplug(port);
  lines.push(`bus.unplug("${port}"): the card is pulled`);
  lines.push(`  Slot Status ${statusText(status())}, DLL Link Active ${linkUp() ? 1 : 0}; MSI messages: ${messages()}`);
  lines.push(`  regions of the card: ${bus.regions().filter((r) => r.bdf === card).length} (were ${regions}); ` +
    `BAR 0's old address reads ${hex(bus.mmioRead(bar0, 4), 8)} (master abort); ${cardAt} vendor ID reads ${hex(bus.configRead(cardAt, 0, 2), 4)}`);
  bus.configWrite(at, cap + PcieReg.SLOT_STATUS, 2, SlotSta.PDC | SlotSta.DLLSC);
  lines.push(`  guest acknowledges: Slot Status ${statusText(status())}: the slot is empty again`);
  bus.interrupts.setSink(undefined);
  return `${lines.join('\n')}\n`;
}
