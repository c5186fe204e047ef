// The native hot-plug controller of a PCI Express root or downstream port's slot (PCIe Base 6.0
// §6.7): it keeps Presence Detect State and Data Link Layer Link Active in step with what is in the
// slot, sets the event bits of Slot Status, completes the guest's Slot Control commands, and
// raises the hot-plug interrupt. The registers live in the port's config planes (masks from
// src/config/pcie-slot.ts), so both cores answer guest accesses to them; this controller only
// changes them device-side (`configPoke`) and watches them (`watchConfig`).
//
// What vpci decides where the specification leaves room (see docs/devices.md "Hotplug"):
// - Link: DLL Link Active = a card is present and Power Controller Control says power on. The
//   function stays in the core while the slot is powered off (vpci does not model slot power to a
//   function); a guest following §6.7 does not touch it until the link is up.
// - Reset: Power Controller Control 0 (on), attention indicator off, power indicator on when a card
//   is present at power-on, off when the slot is empty. (QEMU powers empty slots off at reset;
//   with vpci a card plugged before any guest driver ran links up at once, and a guest that
//   powered the empty slot off, as Linux's pciehp does, sees the link come up when it powers the
//   slot on.)
// - Commands: the bus sees config writes through the bytes they change, so a write that changes
//   Slot Control is a command and completes at once (Command Completed set); a write of the value
//   already there completes no command. A batch replay is checked once at its end: several Slot
//   Control writes in one batch complete as one command.
// - Removal: after `requestRemoval` (the attention button is pressed for the guest, as QEMU does for
//   device_del), the guest turning the slot's power off (Power Controller Control 0 -> 1) removes
//   the card. Power off without a removal request only takes the link down.
import { LinkSta, PcieFlags, PcieReg, SlotCap, SlotCtl, SlotSta, enabledSlotEvents } from '../../config/index.js';
import type { DeviceBehaviour, DeviceContext, DeviceInstance, DeviceState } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';

const CAP_PCIE = 0x10;
const CAPABILITY_LIST = 0x34;
const INTERRUPT_PIN = 0x3d;

/** What the bus does for a slot's controller: take the card out (every function in the slot). */
export interface HotplugHost {
  /** Removes the functions in the slot and reports the slot empty (`present(false)`). */
  removeCard(): void;
}

/** The PCI Express capability's offset, walked as a guest would (0 when absent; loops end the walk). */
function findPcie(ctx: DeviceContext): number {
  let p = ctx.configRead(CAPABILITY_LIST, 1) & 0xfc;
  for (let hops = 0; p >= 0x40 && hops < 48; hops++) {
    if (ctx.configRead(p, 1) === CAP_PCIE) return p;
    p = ctx.configRead(p + 1, 1) & 0xfc;
  }
  return 0;
}

/**
 * A hot-plug capable slot's controller: the device instance of a port model whose slot is
 * hot-plug capable ('root-port' by default). The bus drives it (`bus.plug`, `bus.unplug`,
 * `bus.pressAttentionButton`, `bus.requestUnplug`); the guest drives it through Slot Control.
 */
export class HotplugSlot implements DeviceInstance {
  /** Offset of the PCI Express capability. */
  private readonly cap: number;
  private readonly hasPin: boolean;
  /** Slot Control as the controller last saw it: a difference is a guest command. */
  private control: number;
  /** A removal was requested: the guest powering the slot off takes the card out. */
  private removal = false;
  /** The hot-plug interrupt condition as last evaluated (§6.7.3.4): HPIE and an enabled event pending. */
  private line = false;
  private host: HotplugHost | undefined;
  private detached = false;
  /**
   * Register updates in progress: the interrupt waits until all of one event's bits are set, so a
   * guest handler the sink calls synchronously sees Presence and the link already changed.
   */
  private updating = 0;

  constructor(private readonly ctx: DeviceContext) {
    this.cap = findPcie(ctx);
    const slotCap = this.cap === 0 ? 0 : ctx.configRead(this.cap + PcieReg.SLOT_CAPABILITIES, 4);
    const flags = this.cap === 0 ? 0 : ctx.configRead(this.cap + PcieReg.FLAGS, 2);
    if ((flags & PcieFlags.SLOT_IMPLEMENTED) === 0 || (slotCap & SlotCap.HOT_PLUG_CAPABLE) === 0) {
      throw new Error('the hotplug controller needs a PCI Express capability with a hot-plug capable slot');
    }
    this.hasPin = ctx.configRead(INTERRUPT_PIN, 1) !== 0;
    this.control = this.read(PcieReg.SLOT_CONTROL);
    ctx.watchConfig(this.cap + PcieReg.SLOT_CONTROL, 2, () => this.onControl());
    ctx.watchConfig(this.cap + PcieReg.SLOT_STATUS, 2, () => this.evaluate());
  }

  /**
   * Called by the bus once the functions of the topology are in: whether a card is in the slot at
   * power-on (Presence Detect State, link, power indicator; no event bits: nothing changed).
   */
  connect(host: HotplugHost, occupied: boolean): void {
    this.host = host;
    if (!occupied) return;
    this.setControl((this.control & ~SlotCtl.PIC) | SlotCtl.POWER_INDICATOR_ON);
    this.poke(PcieReg.SLOT_STATUS, this.read(PcieReg.SLOT_STATUS) | SlotSta.PDS);
    this.setLinkBits(this.powered());
  }

  /** Whether Presence Detect State says a card is in the slot. */
  get occupied(): boolean {
    return (this.read(PcieReg.SLOT_STATUS) & SlotSta.PDS) !== 0;
  }

  /** Whether a removal was requested and the guest has not yet powered the slot off. */
  get removalRequested(): boolean {
    return this.removal;
  }

  /**
   * A card went in (true) or came out (false): Presence Detect State follows and Presence Detect
   * Changed is set; the link goes up (a powered slot) or down, setting DLL State Changed when it
   * changes; the hot-plug interrupt follows.
   */
  present(present: boolean): void {
    if (this.detached) return;
    if (!present) this.removal = false;
    this.update(() => {
      const status = this.read(PcieReg.SLOT_STATUS);
      this.poke(PcieReg.SLOT_STATUS, (present ? status | SlotSta.PDS : status & ~SlotSta.PDS) | SlotSta.PDC);
      this.link(present && this.powered());
    });
  }

  /** The attention button was pressed: Attention Button Pressed is set (and the interrupt follows). */
  pressButton(): void {
    if (this.detached) return;
    this.update(() => this.poke(PcieReg.SLOT_STATUS, this.read(PcieReg.SLOT_STATUS) | SlotSta.ABP));
  }

  /** Presses the button and removes the card once the guest powers the slot off. */
  requestRemoval(): void {
    if (this.detached) return;
    this.removal = true;
    this.pressButton();
  }

  detach(): void {
    this.detached = true;
  }

  saveState(): DeviceState {
    return { control: this.control, removal: this.removal, line: this.line };
  }

  loadState(r: StateReader): void {
    const control = r.get('control').int(0, 0xffff);
    const removal = r.get('removal').bool();
    const line = r.get('line').bool();
    this.control = control;
    this.removal = removal;
    this.line = line;
  }

  private powered(): boolean {
    return (this.control & SlotCtl.PCC) === 0;
  }

  /** A guest write changed Slot Control: one command (§6.7.3.2), completed at once. */
  private onControl(): void {
    if (this.detached) return;
    const now = this.read(PcieReg.SLOT_CONTROL);
    const old = this.control;
    if (now === old) return;
    this.control = now;
    this.update(() => {
      if ((old ^ now) & SlotCtl.PCC) {
        if (!this.powered() && this.removal && this.occupied && this.host) {
          // The guest accepted the removal and cut the power: take the card out (QEMU's
          // pcie_cap_slot_write_config does the same on power-off).
          this.removal = false;
          this.link(false);
          this.host.removeCard();
        } else {
          this.link(this.powered() && this.occupied);
        }
      }
      this.poke(PcieReg.SLOT_STATUS, this.read(PcieReg.SLOT_STATUS) | SlotSta.CC);
    });
  }

  /** Runs register updates, then evaluates the interrupt once. */
  private update(fn: () => void): void {
    this.updating++;
    try {
      fn();
    } finally {
      this.updating--;
    }
    this.evaluate();
  }

  /** DLL Link Active to `up`; a change sets Data Link Layer State Changed (§7.5.3.11). */
  private link(up: boolean): void {
    if (this.setLinkBits(up)) this.poke(PcieReg.SLOT_STATUS, this.read(PcieReg.SLOT_STATUS) | SlotSta.DLLSC);
  }

  /** Sets DLL Link Active; whether it changed. */
  private setLinkBits(up: boolean): boolean {
    const status = this.read(PcieReg.LINK_STATUS);
    const next = up ? status | LinkSta.DLLLA : status & ~LinkSta.DLLLA;
    if (next === status) return false;
    this.poke(PcieReg.LINK_STATUS, next);
    return true;
  }

  /**
   * The hot-plug interrupt (PCIe Base 6.0 §6.7.3.4): INTx is asserted while HPIE is set and an
   * enabled event's status bit is set (the core drops it while Interrupt Disable or MSI/MSI-X is
   * on); an MSI/MSI-X message goes each time that condition turns from false to true, to the
   * vector the Interrupt Message Number names.
   */
  private evaluate(): void {
    if (this.detached || this.updating > 0) return;
    const control = this.read(PcieReg.SLOT_CONTROL);
    const cond = (control & SlotCtl.HPIE) !== 0 && enabledSlotEvents(control, this.read(PcieReg.SLOT_STATUS)) !== 0;
    if (cond === this.line) return;
    this.line = cond;
    if (cond) this.ctx.notify((this.read(PcieReg.FLAGS) >> PcieFlags.IRQ_SHIFT) & 0x1f);
    if (this.hasPin) this.ctx.intx(cond);
  }

  /** Slot Control set by the controller itself (reset values): not a guest command. */
  private setControl(value: number): void {
    this.control = value;
    this.poke(PcieReg.SLOT_CONTROL, value);
  }

  private read(reg: number): number {
    return this.ctx.configRead(this.cap + reg, reg === PcieReg.LINK_CAPABILITIES || reg === PcieReg.SLOT_CAPABILITIES ? 4 : 2);
  }

  private poke(reg: number, value: number): void {
    this.ctx.configPoke(this.cap + reg, 2, value & 0xffff);
  }
}

/** The behaviour of a port with a hot-plug capable slot: its controller, made per bus at attach. */
export function hotplugSlotBehaviour(): DeviceBehaviour {
  return { attach: (ctx) => new HotplugSlot(ctx) };
}
