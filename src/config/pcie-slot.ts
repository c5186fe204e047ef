// The slot and link registers of the PCI Express capability that native hotplug uses, as offsets
// from the capability and bit masks (PCIe Base 6.0 §7.5.3.6-7.5.3.11; the same values as Linux's
// include/uapi/linux/pci_regs.h PCI_EXP_SLT*/LNK*). Shared by the capability writer (bytes and
// masks), the hotplug controller (src/devices/hotplug/) and tests.

/** Offsets inside the PCI Express capability (PCIe Base 6.0 §7.5.3). */
export const PcieReg = {
  /** PCI Express Capabilities register (16 bits). */
  FLAGS: 0x02,
  LINK_CAPABILITIES: 0x0c,
  LINK_STATUS: 0x12,
  SLOT_CAPABILITIES: 0x14,
  SLOT_CONTROL: 0x18,
  SLOT_STATUS: 0x1a,
} as const;

/** PCI Express Capabilities register (§7.5.3.2). */
export const PcieFlags = {
  /** Slot Implemented (bit 8): the port's link goes to a slot. */
  SLOT_IMPLEMENTED: 0x0100,
  /** Interrupt Message Number (bits 13:9): the MSI/MSI-X vector hotplug and PME events use. */
  IRQ_SHIFT: 9,
} as const;

/** Link Capabilities (§7.5.3.6). */
export const LinkCap = {
  /** Data Link Layer Link Active Reporting Capable (bit 20). */
  DLLLARC: 0x0010_0000,
} as const;

/** Link Status (§7.5.3.8). */
export const LinkSta = {
  /** Data Link Layer Link Active (bit 13). */
  DLLLA: 0x2000,
} as const;

/** Slot Capabilities (§7.5.3.9). */
export const SlotCap = {
  ATTENTION_BUTTON: 0x01,
  POWER_CONTROLLER: 0x02,
  MRL_SENSOR: 0x04,
  ATTENTION_INDICATOR: 0x08,
  POWER_INDICATOR: 0x10,
  HOT_PLUG_SURPRISE: 0x20,
  HOT_PLUG_CAPABLE: 0x40,
  ELECTROMECHANICAL_INTERLOCK: 0x0002_0000,
  NO_COMMAND_COMPLETED: 0x0004_0000,
  /** Physical Slot Number, bits 31:19 (13 bits). */
  SLOT_NUMBER_SHIFT: 19,
  SLOT_NUMBER_MAX: 0x1fff,
} as const;

/** Slot Control (§7.5.3.10). */
export const SlotCtl = {
  /** Attention Button Pressed Enable. */
  ABPE: 0x0001,
  /** Power Fault Detected Enable. */
  PFDE: 0x0002,
  /** MRL Sensor Changed Enable. */
  MRLSCE: 0x0004,
  /** Presence Detect Changed Enable. */
  PDCE: 0x0008,
  /** Command Completed Interrupt Enable. */
  CCIE: 0x0010,
  /** Hot-Plug Interrupt Enable. */
  HPIE: 0x0020,
  /** Attention Indicator Control (01b on, 10b blink, 11b off). */
  AIC: 0x00c0,
  ATTENTION_OFF: 0x00c0,
  /** Power Indicator Control (01b on, 10b blink, 11b off). */
  PIC: 0x0300,
  POWER_INDICATOR_ON: 0x0100,
  POWER_INDICATOR_BLINK: 0x0200,
  POWER_INDICATOR_OFF: 0x0300,
  /** Power Controller Control: 0 power on, 1 power off. */
  PCC: 0x0400,
  /** Electromechanical Interlock Control (writes of 1 toggle the interlock; reads 0). */
  EIC: 0x0800,
  /** Data Link Layer State Changed Enable. */
  DLLSCE: 0x1000,
} as const;

/** Slot Status (§7.5.3.11). */
export const SlotSta = {
  /** Attention Button Pressed (RW1C). */
  ABP: 0x0001,
  /** Power Fault Detected (RW1C). */
  PFD: 0x0002,
  /** MRL Sensor Changed (RW1C). */
  MRLSC: 0x0004,
  /** Presence Detect Changed (RW1C). */
  PDC: 0x0008,
  /** Command Completed (RW1C). */
  CC: 0x0010,
  /** MRL Sensor State (RO): 0 closed. */
  MRLSS: 0x0020,
  /** Presence Detect State (RO): 1 a card is present. */
  PDS: 0x0040,
  /** Electromechanical Interlock Status (RO). */
  EIS: 0x0080,
  /** Data Link Layer State Changed (RW1C). */
  DLLSC: 0x0100,
} as const;

/**
 * The Slot Control bits a guest may write, from what Slot Capabilities (and Link Capabilities'
 * DLLLARC) say the slot has: a control for a feature the slot lacks is read-only zero, as §7.5.3.10
 * permits. EIC is left read-only: writes of 1 are meant to toggle an interlock, which needs a write
 * hook rather than a mask, and no slot vpci builds has one.
 */
export function slotControlWritable(slotCap: number, linkCap: number): number {
  let m = 0;
  if (slotCap & SlotCap.ATTENTION_BUTTON) m |= SlotCtl.ABPE;
  if (slotCap & SlotCap.POWER_CONTROLLER) m |= SlotCtl.PFDE | SlotCtl.PCC;
  if (slotCap & SlotCap.MRL_SENSOR) m |= SlotCtl.MRLSCE;
  if (slotCap & SlotCap.HOT_PLUG_CAPABLE) {
    m |= SlotCtl.PDCE | SlotCtl.HPIE;
    if (!(slotCap & SlotCap.NO_COMMAND_COMPLETED)) m |= SlotCtl.CCIE;
  }
  if (slotCap & SlotCap.ATTENTION_INDICATOR) m |= SlotCtl.AIC;
  if (slotCap & SlotCap.POWER_INDICATOR) m |= SlotCtl.PIC;
  if (linkCap & LinkCap.DLLLARC) m |= SlotCtl.DLLSCE;
  return m;
}

/** The Slot Status event bits that can ever be set (RW1C), by the same rule. */
export function slotStatusW1c(slotCap: number, linkCap: number): number {
  let m = 0;
  if (slotCap & SlotCap.ATTENTION_BUTTON) m |= SlotSta.ABP;
  if (slotCap & SlotCap.POWER_CONTROLLER) m |= SlotSta.PFD;
  if (slotCap & SlotCap.MRL_SENSOR) m |= SlotSta.MRLSC;
  if (slotCap & SlotCap.HOT_PLUG_CAPABLE) {
    m |= SlotSta.PDC;
    if (!(slotCap & SlotCap.NO_COMMAND_COMPLETED)) m |= SlotSta.CC;
  }
  if (linkCap & LinkCap.DLLLARC) m |= SlotSta.DLLSC;
  return m;
}

/**
 * The hot-plug events of Slot Status that are enabled in Slot Control (PCIe Base 6.0 §6.7.3.4:
 * each event's status bit with its enable bit; DLLSC's enable sits at bit 12).
 */
export function enabledSlotEvents(control: number, status: number): number {
  const low = status & control & (SlotSta.ABP | SlotSta.PFD | SlotSta.MRLSC | SlotSta.PDC | SlotSta.CC);
  const dll = (status & SlotSta.DLLSC) !== 0 && (control & SlotCtl.DLLSCE) !== 0 ? SlotSta.DLLSC : 0;
  return low | dll;
}
