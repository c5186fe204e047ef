// MSI (PCI 3.0 §6.8.1): a signalled vector k becomes the message (address, data with its low
// log2(n) bits replaced by k), n = the enabled vector count. With per-vector masking a masked
// vector sets its Pending bit instead, and is sent when the guest unmasks it.
import { OK, ERR_RANGE, ERR_NOT_FOUND } from "../config/layout";
import { PENDING, ERR_DISABLED } from "./layout";
import { stateOf, irqAttached, cfg16, cfg32, setCfg32 } from "./state";
import { queueMessage } from "./events";

/** Where a function's MSI registers are, from its Message Control. */
class MsiLayout {
  enabled: bool = false;
  vectors: u32 = 1;
  perVectorMask: bool = false;
  addressLow: u32 = 0;
  addressHigh: u32 = 0;
  data: u32 = 0;
  maskReg: u32 = 0;
  pendingReg: u32 = 0;
}

const m = new MsiLayout();

function read(slot: i32, cap: u32): MsiLayout {
  const control = cfg16(slot, cap + 2);
  const mmc = (control >> 1) & 7;
  const mme = (control >> 4) & 7;
  let log = mme < mmc ? mme : mmc;
  if (log > 5) log = 5;
  const is64 = (control & 0x80) != 0;
  const dataReg = cap + (is64 ? 12 : 8);
  m.enabled = (control & 1) != 0;
  m.vectors = <u32>1 << log;
  m.perVectorMask = (control & 0x100) != 0;
  m.addressLow = cfg32(slot, cap + 4);
  m.addressHigh = is64 ? cfg32(slot, cap + 8) : 0;
  m.data = cfg16(slot, dataReg);
  m.maskReg = dataReg + 4;
  m.pendingReg = dataReg + 8;
  return m;
}

function send(slot: i32, l: MsiLayout, k: u32): void {
  queueMessage(slot, l.addressLow, l.addressHigh, (l.data & ~(l.vectors - 1)) | k);
}

export function msiSignal(slot: i32, vector: i32): i32 {
  if (!irqAttached(slot)) return ERR_NOT_FOUND;
  const cap = load<u32>(stateOf(slot), 8);
  if (cap == 0) return ERR_NOT_FOUND;
  const l = read(slot, cap);
  if (!l.enabled) return ERR_DISABLED;
  if (vector < 0 || <u32>vector >= l.vectors) return ERR_RANGE;
  const k = <u32>vector;
  if (l.perVectorMask && (cfg32(slot, l.maskReg) >> k) & 1) {
    setCfg32(slot, l.pendingReg, cfg32(slot, l.pendingReg) | (<u32>1 << k));
    return PENDING;
  }
  send(slot, l, k);
  return OK;
}

/** After a write to Message Control or the Mask Bits: send what is pending and now unmasked. */
export function msiWritten(slot: i32): void {
  const cap = load<u32>(stateOf(slot), 8);
  if (cap == 0) return;
  const l = read(slot, cap);
  if (!l.enabled || !l.perVectorMask) return;
  for (let k: u32 = 0; k < l.vectors; k++) {
    const pending = cfg32(slot, l.pendingReg);
    if (((pending >> k) & 1) == 0 || ((cfg32(slot, l.maskReg) >> k) & 1) != 0) continue;
    setCfg32(slot, l.pendingReg, pending & ~(<u32>1 << k));
    send(slot, l, k);
  }
}

/** The dwords whose writes msiWritten follows: Message Control's and, with masking, the Mask Bits'. */
export function msiHookedDwords(slot: i32, cap: u32): u32 {
  const l = read(slot, cap);
  return (cap >> 2) | (l.perVectorMask ? (l.maskReg >> 2) << 8 : 0);
}
