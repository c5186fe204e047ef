// Standard headers (PCI Local Bus 3.0 §6.2 for type 0, PCI-to-PCI Bridge 1.2 §3.2 for type 1):
// the fields every function has and which of their bits a guest may write.
import type { ConfigPlanes } from './planes.js';
import {
  Reg, STATUS_W1C, StatusBits, COMMAND_WRITABLE, BRIDGE_CONTROL_WRITABLE, BRIDGE_CONTROL_W1C,
} from './registers.js';

/**
 * Write masks of the header fields common to both types, given the bytes already in place
 * (from a descriptor or a dump): Command, Status RW1C, Cache Line Size, Latency Timer
 * (read-only zero on PCI Express, PCIe Base 6.0 §7.5.1.1.7), Interrupt Line.
 */
export function applyCommonHeaderMasks(planes: ConfigPlanes, express: boolean): void {
  planes.masks(Reg.COMMAND, 2, COMMAND_WRITABLE);
  planes.masks(Reg.STATUS, 2, 0, STATUS_W1C);
  planes.masks(Reg.CACHE_LINE_SIZE, 1, 0xff);
  planes.masks(Reg.LATENCY_TIMER, 1, express ? 0 : 0xff);
  planes.masks(Reg.INTERRUPT_LINE, 1, 0xff);
}

/**
 * Write masks of a type 1 header's bridge fields: bus numbers, the secondary latency timer,
 * the I/O, memory and prefetchable windows (low nibbles are the read-only addressing type),
 * their upper halves when the type says 32-bit I/O or 64-bit prefetchable, Secondary Status
 * RW1C, and Bridge Control.
 */
export function applyBridgeHeaderMasks(planes: ConfigPlanes, express: boolean): void {
  planes.masks(Reg.PRIMARY_BUS, 1, 0xff);
  planes.masks(Reg.SECONDARY_BUS, 1, 0xff);
  planes.masks(Reg.SUBORDINATE_BUS, 1, 0xff);
  planes.masks(Reg.SEC_LATENCY_TIMER, 1, express ? 0 : 0xff);
  planes.masks(Reg.IO_BASE, 1, 0xf0);
  planes.masks(Reg.IO_LIMIT, 1, 0xf0);
  planes.masks(Reg.SEC_STATUS, 2, 0, STATUS_W1C);
  planes.masks(Reg.MEMORY_BASE, 2, 0xfff0);
  planes.masks(Reg.MEMORY_LIMIT, 2, 0xfff0);
  planes.masks(Reg.PREF_MEMORY_BASE, 2, 0xfff0);
  planes.masks(Reg.PREF_MEMORY_LIMIT, 2, 0xfff0);
  const pref64 = (planes.config[Reg.PREF_MEMORY_BASE] & 0xf) === 1;
  planes.masks(Reg.PREF_BASE_UPPER32, 4, pref64 ? 0xffffffff : 0);
  planes.masks(Reg.PREF_LIMIT_UPPER32, 4, pref64 ? 0xffffffff : 0);
  const io32 = (planes.config[Reg.IO_BASE] & 0xf) === 1;
  planes.masks(Reg.IO_BASE_UPPER16, 2, io32 ? 0xffff : 0);
  planes.masks(Reg.IO_LIMIT_UPPER16, 2, io32 ? 0xffff : 0);
  planes.masks(Reg.BRIDGE_CONTROL, 2, BRIDGE_CONTROL_WRITABLE, BRIDGE_CONTROL_W1C);
}

/** The read-only identity bytes of either header type. */
export interface Identity {
  vendorId: number;
  deviceId: number;
  classCode: number;
  revision: number;
  headerType: 0 | 1;
  interruptPin: number;
  statusBits: number;
  capabilityPointer: number;
  subsystemVendorId: number;
  subsystemId: number;
}

/** Writes the identity fields (all read-only) of a freshly built header. */
export function writeIdentity(planes: ConfigPlanes, id: Identity): void {
  planes.ro(Reg.VENDOR_ID, 2, id.vendorId);
  planes.ro(Reg.DEVICE_ID, 2, id.deviceId);
  planes.ro(Reg.STATUS, 2, id.statusBits | (id.capabilityPointer ? StatusBits.CAP_LIST : 0));
  planes.ro(Reg.REVISION_ID, 1, id.revision);
  planes.ro(Reg.CLASS_PROG, 1, id.classCode & 0xff);
  planes.ro(Reg.CLASS_PROG + 1, 2, id.classCode >>> 8);
  planes.ro(Reg.HEADER_TYPE, 1, id.headerType);
  planes.ro(Reg.CAPABILITY_LIST, 1, id.capabilityPointer);
  planes.ro(Reg.INTERRUPT_PIN, 1, id.interruptPin);
  if (id.headerType === 0) {
    planes.ro(Reg.SUBSYSTEM_VENDOR_ID, 2, id.subsystemVendorId);
    planes.ro(Reg.SUBSYSTEM_ID, 2, id.subsystemId);
  }
}
