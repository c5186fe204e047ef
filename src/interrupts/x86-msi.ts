// x86 MSI message decoding (Intel SDM vol. 3, §11.11 "Message Signalled Interrupts"; §10.11 in
// older editions). What a local APIC makes of the address and data a function writes.
//
//   address (32-bit; the message window is 0xFEE0_0000-0xFEEF_FFFF, below 4 GiB)
//   31        20 19          12 11         5 4    3    2    1  0
//  +-----------+--------------+------------+----+----+----+-----+
//  |   0xFEE   | destination  | ext. dest. | -  | RH | DM |  -  |
//  +-----------+--------------+------------+----+----+----+-----+
//
//   data
//   31      16   15     14    13   11 10       8 7          0
//  +----------+-------+-------+-------+----------+------------+
//  | reserved | TM    | level |   -   | delivery |   vector   |
//  +----------+-------+-------+-------+----------+------------+

/** An x86 MSI's delivery mode (data bits 10:8). */
export type X86DeliveryMode = 'fixed' | 'lowest-priority' | 'smi' | 'nmi' | 'init' | 'extint' | 'reserved';

/** An MSI message decoded as a local APIC reads it (Intel SDM vol. 3 §11.11). */
export interface X86Msi {
  /** Bits 63:20 of the address are 0xFEE: a write to the interrupt message window. */
  valid: boolean;
  /** Address bits 19:12: the destination APIC ID (physical) or logical destination. */
  destination: number;
  /**
   * Address bits 11:5, reserved in the SDM. Hypervisors that advertise the "extended destination
   * ID" feature (KVM: KVM_FEATURE_MSI_EXT_DEST_ID, Linux Documentation/virt/kvm/cpuid.rst; Xen:
   * XEN_HVM_CPUID_EXT_DEST_ID, xen/include/public/arch-x86/cpuid.h) take them as destination ID
   * bits 14:8, for APIC IDs up to 32767 without interrupt remapping. Only meaningful there.
   */
  extendedDestination: number;
  /** Data bits 7:0. */
  vector: number;
  /** Data bits 10:8: 000 fixed, 001 lowest priority, 010 SMI, 100 NMI, 101 INIT, 111 ExtINT; 011 and 110 reserved. */
  deliveryMode: X86DeliveryMode;
  /** Data bit 15: 0 edge, 1 level. */
  trigger: 'edge' | 'level';
  /** Data bit 14: 1 assert, 0 deassert (the SDM: don't care for edge-triggered messages). */
  level: 'assert' | 'deassert';
  /** Address bit 2 (DM): how the destination is read when RH is set. */
  destinationMode: 'physical' | 'logical';
  /** Address bit 3 (RH): redirect to the lowest-priority processor among the destinations. */
  redirectionHint: boolean;
}

const DELIVERY_MODES: readonly X86DeliveryMode[] = ['fixed', 'lowest-priority', 'smi', 'reserved', 'nmi', 'init', 'reserved', 'extint'];

/**
 * Decodes an MSI message as an x86 local APIC reads it. `valid` is false when the address is not
 * in the interrupt message window (bits 31:20 = 0xFEE, and the upper dword of a 64-bit address
 * 0: the SDM places the window at 4 GiB - 18 MiB); the other fields are decoded either way.
 */
export function decodeX86Msi(address: bigint, data: number): X86Msi {
  const a = BigInt.asUintN(64, address);
  const lo = Number(a & 0xffffffffn);
  const d = data >>> 0;
  return {
    valid: a >> 20n === 0xfeen,
    destination: (lo >>> 12) & 0xff,
    extendedDestination: (lo >>> 5) & 0x7f,
    vector: d & 0xff,
    deliveryMode: DELIVERY_MODES[(d >>> 8) & 7],
    trigger: (d & 0x8000) !== 0 ? 'level' : 'edge',
    level: (d & 0x4000) !== 0 ? 'assert' : 'deassert',
    destinationMode: (lo & 4) !== 0 ? 'logical' : 'physical',
    redirectionHint: (lo & 8) !== 0,
  };
}

/** The message for (destination, vector) with the usual fields: fixed, edge, physical, no RH. */
export function encodeX86Msi(o: {
  destination: number; vector: number; deliveryMode?: X86DeliveryMode; trigger?: 'edge' | 'level';
  level?: 'assert' | 'deassert'; destinationMode?: 'physical' | 'logical'; redirectionHint?: boolean;
}): { address: number; data: number } {
  const mode = o.deliveryMode === undefined ? 0 : DELIVERY_MODES.indexOf(o.deliveryMode);
  const address = (0xfee00000 | ((o.destination & 0xff) << 12) | (o.redirectionHint ? 8 : 0) | (o.destinationMode === 'logical' ? 4 : 0)) >>> 0;
  const data = ((o.vector & 0xff) | ((mode < 0 ? 0 : mode) << 8) | (o.level === 'deassert' ? 0 : 0x4000) | (o.trigger === 'level' ? 0x8000 : 0)) >>> 0;
  return { address, data };
}
