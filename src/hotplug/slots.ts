// The bus's hot-plug slots (PCIe Base 6.0 §6.7): which port a plug/unplug call names, what goes
// into its slot and how it comes out. The slot registers and the hot-plug interrupt are the
// port's controller's (src/devices/hotplug/slot.ts); functions come and go through the bus's
// run-time primitive (addFunction/removeFunction). `bus.plug` and friends delegate here.
import { ArgumentError, TopologyError } from '../errors.js';
import { CapId, PcieFlags, PcieReg, SlotCap, walkCapabilities } from '../config/index.js';
import type { ConfigPlanes } from '../config/index.js';
import { canonicalPath } from '../topology/bdf.js';
import { resolveDevice } from '../topology/index.js';
import type { ResolvedFunction, TopologyDevice } from '../topology/index.js';
import type { DeviceBehaviour, DeviceInstance } from '../devices/model-api.js';
import { HotplugSlot } from '../devices/hotplug/index.js';

/** A card for `bus.plug`: a topology device entry without placement, optionally with the embedder's behaviour. */
export type PlugDevice = Omit<TopologyDevice, 'bdf' | 'behind' | 'addr' | 'id' | 'template'> & { behaviour?: DeviceBehaviour };

/** What the slots need of the bus. */
export interface HotplugHost {
  /** The functions present, parents indexed. */
  functions(): readonly ResolvedFunction[];
  /** Whether a function with this path is present. */
  has(path: string): boolean;
  /** The device model instance of a function, by path. */
  instance(path: string): DeviceInstance | undefined;
  /** The path of the function a BDF or path names now (ArgumentError otherwise). */
  pathOf(bdfOrPath: string): string;
  /** A function's config bytes as the device sees them. */
  configRead(path: string, offset: number, size: number): number;
  addFunction(where: { below: string; dev: number; fn: number }, source: { planes: ConfigPlanes; behaviour?: DeviceBehaviour; name?: string; kind?: string; barSizes?: { index: number; size: bigint }[] }): string;
  removeFunction(path: string): void;
}

/** The hot-plug side of a bus (see the module comment). */
export class HotplugSlots {
  constructor(private readonly host: HotplugHost) {}

  /** Hands a port's hot-plug controller, if it has one, its host side and whether its slot is occupied. */
  connect(path: string): void {
    const instance = this.host.instance(path);
    if (instance instanceof HotplugSlot) instance.connect({ removeCard: () => this.ejectCard(path) }, this.cardOf(path).length > 0);
  }

  /** The functions in a port's slot (everything below it), parents before children. */
  private cardOf(portPath: string): ResolvedFunction[] {
    return this.host.functions().filter((f) => f.path.startsWith(`${portPath}/`));
  }

  /** Removes every function in the slot, deepest first, then tells the controller the slot is empty. */
  private ejectCard(portPath: string): void {
    for (const f of this.cardOf(portPath).reverse()) this.host.removeFunction(f.path);
    (this.host.instance(portPath) as HotplugSlot | undefined)?.present(false);
  }

  /**
   * The hot-plug port a plug/unplug call names: the port itself (its path, or the BDF it answers
   * at now), or a function path below it ("00:09.0/00.0", which need not exist yet), or the BDF a
   * function in the slot answers at. ArgumentError, naming `what` and the place, when it names no
   * port with a hot-plug capable slot and a controller.
   */
  private hotplugPort(what: string, target: string): { path: string; slot: HotplugSlot } {
    if (typeof target !== 'string') throw new ArgumentError(`${what}: ${String(target)} is not a port's path or BDF`);
    let portPath: string | undefined;
    if (target.includes('/')) {
      const c = canonicalPath(target);
      if ('reason' in c) throw new ArgumentError(`${what}: ${c.reason} (a slot is named like "00:09.0" or "00:09.0/00.0")`);
      // A path naming a hot-plug port (one below a switch, say) is that port; otherwise the slot
      // of the port it is below.
      const own = this.host.has(c.path) ? this.host.instance(c.path) : undefined;
      portPath = own instanceof HotplugSlot ? c.path : c.path.slice(0, c.path.lastIndexOf('/'));
      if (!this.host.has(portPath)) throw new ArgumentError(`${what}: ${portPath} is not a function of the bus`);
    } else {
      const path = this.host.pathOf(target);
      const live = this.host.functions();
      const f = live.find((x) => x.path === path)!;
      const parent = f.parent >= 0 ? live[f.parent].path : undefined;
      portPath = this.host.instance(path) instanceof HotplugSlot || parent === undefined ? path : parent;
    }
    const slot = this.host.instance(portPath);
    if (slot instanceof HotplugSlot) return { path: portPath, slot };
    throw new ArgumentError(`${what}: ${portPath} ${this.whyNotHotplug(portPath)}`);
  }

  /** Why a function is not a hot-plug port, from its config space as a guest reads it. */
  private whyNotHotplug(path: string): string {
    const f = this.host.functions().find((x) => x.path === path)!;
    const read = (offset: number, size: number) => this.host.configRead(path, offset, size);
    const pcie = walkCapabilities(f.planes.config).find((c) => c.id === CapId.PCIE)?.offset;
    if ((read(0x0e, 1) & 0x7f) !== 1 || pcie === undefined) return 'is not a PCI Express port (no slot to plug into)';
    if ((read(pcie + PcieReg.FLAGS, 2) & PcieFlags.SLOT_IMPLEMENTED) === 0) return 'is a PCI Express port without a slot (Slot Implemented is 0)';
    if ((read(pcie + PcieReg.SLOT_CAPABILITIES, 4) & SlotCap.HOT_PLUG_CAPABLE) === 0) return 'has a slot that is not hot-plug capable (Slot Capabilities Hot-Plug Capable is 0)';
    return 'has a hot-plug capable slot but no hot-plug controller (the \'root-port\' model provides one; a template or descriptor does not)';
  }

  /**
   * Plugs a card into a root port's hot-plug slot, as a person would (PCIe Base 6.0 §6.7): the
   * device becomes function 00.0 below the port, then the slot reports it — Presence Detect State
   * and Changed, DLL Link Active and DLL State Changed (when the slot is powered) — and raises the
   * hot-plug interrupt if the guest enabled it. `slot` names the port ("00:09.0", its path, or
   * "00:09.0/00.0"); `device` is a topology device entry without placement: `{ model, options,
   * name }` or `{ descriptor, name }` (with, optionally, a `behaviour` of the embedder's). Returns the new function's path. The guest (or `runFirmware`
   * style config writes) then assigns its BARs inside the port's windows. ArgumentError, bus
   * unchanged, for a slot that is occupied or not hot-plug capable, a malformed entry (the field
   * named), or a bridge (it would need bus numbers firmware did not reserve).
   */
  plug(slot: string, device: PlugDevice): string {
    const port = this.hotplugPort('plug', slot);
    if (slot.includes('/')) {
      const c = canonicalPath(slot);
      if (!('reason' in c) && c.path !== port.path && c.path !== `${port.path}/00.0`) {
        throw new ArgumentError(`plug: ${c.path}: a card goes in at 00.0 below the port (${port.path}/00.0)`);
      }
    }
    const card = this.cardOf(port.path);
    if (card.length > 0) throw new ArgumentError(`plug: the slot of ${port.path} is occupied by ${card[0].path} (${card[0].name}); unplug it first`);
    const { behaviour, ...entry } = (device ?? {}) as PlugDevice;
    if (behaviour !== undefined && (entry.descriptor === undefined || typeof behaviour?.attach !== 'function')) {
      throw new ArgumentError(`plug: ${port.path}: device.behaviour: goes with "descriptor" and must be { attach(context) } (a model brings its own)`);
    }
    let built;
    try {
      built = resolveDevice(entry as TopologyDevice);
    } catch (e) {
      if (e instanceof TopologyError) throw new ArgumentError(`plug: ${port.path}: ${e.path ? `${e.path}: ` : ''}${e.problem}`);
      throw e;
    }
    if (behaviour !== undefined) built = { ...built, behaviour };
    if ((built.planes.config[0x0e] & 0x7f) !== 0) {
      throw new ArgumentError(`plug: ${port.path}: device: only endpoints (header type 0) can be plugged; a bridge would need bus numbers firmware did not reserve`);
    }
    const path = this.host.addFunction({ below: port.path, dev: 0, fn: 0 }, built);
    port.slot.present(true);
    return path;
  }

  /**
   * Takes the card out of a hot-plug slot at once (a surprise removal, §6.7.3.3): every function
   * in the slot is removed (`removeFunction`: BARs unmapped, interrupts released, DMA detached, the
   * model detached), then the slot reports it — Presence Detect State 0 with Changed, DLL Link
   * Active 0 with State Changed — and raises the hot-plug interrupt if enabled. `slot` names the
   * port or a function in the slot (path or BDF). ArgumentError, bus unchanged, for an empty slot
   * or a function that is not in a hot-plug slot.
   */
  unplug(slot: string): void {
    const port = this.hotplugPort('unplug', slot);
    if (this.cardOf(port.path).length === 0) throw new ArgumentError(`unplug: the slot of ${port.path} is empty`);
    this.ejectCard(port.path);
  }

  /**
   * Presses the attention button of a hot-plug slot (the port, or a function in its slot):
   * Attention Button Pressed is set and the hot-plug interrupt follows if the guest enabled it.
   */
  pressAttentionButton(slot: string): void {
    this.hotplugPort('pressAttentionButton', slot).slot.pressButton();
  }

  /**
   * Asks the guest to give up the card in a slot, as QEMU's device_del does for native hotplug:
   * the attention button is pressed, and when the guest then powers the slot off (Slot Control
   * Power Controller Control 0 -> 1, what Linux's pciehp does after its 5-second grace period) the
   * card is removed as by `unplug`. ArgumentError for an empty slot.
   */
  requestUnplug(slot: string): void {
    const port = this.hotplugPort('requestUnplug', slot);
    if (this.cardOf(port.path).length === 0) throw new ArgumentError(`requestUnplug: the slot of ${port.path} is empty`);
    port.slot.requestRemoval();
  }
}
