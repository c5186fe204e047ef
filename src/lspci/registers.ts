// Offsets and bits of the PCI configuration header (PCI Local Bus Specification 3.0, ch. 6;
// PCI-to-PCI Bridge Architecture 1.2, ch. 3) used by the decoders.

/** Type-independent header fields. */
export const Reg = {
  vendorId: 0x00,
  deviceId: 0x02,
  command: 0x04,
  status: 0x06,
  revision: 0x08,
  progIf: 0x09,
  classCode: 0x0a,
  cacheLineSize: 0x0c,
  latencyTimer: 0x0d,
  headerType: 0x0e,
  bar0: 0x10,
  subsystemVendor: 0x2c,
  subsystemId: 0x2e,
  romType0: 0x30,
  capPointer: 0x34,
  interruptLine: 0x3c,
  interruptPin: 0x3d,
  minGnt: 0x3e,
  maxLat: 0x3f,
} as const;

/** Type-1 (PCI-to-PCI bridge) header fields. */
export const Bridge = {
  primaryBus: 0x18,
  secondaryBus: 0x19,
  subordinateBus: 0x1a,
  secLatency: 0x1b,
  ioBase: 0x1c,
  ioLimit: 0x1d,
  secStatus: 0x1e,
  memBase: 0x20,
  memLimit: 0x22,
  prefBase: 0x24,
  prefLimit: 0x26,
  prefBaseUpper: 0x28,
  prefLimitUpper: 0x2c,
  ioBaseUpper: 0x30,
  ioLimitUpper: 0x32,
  rom: 0x38,
  control: 0x3e,
} as const;

/** Type-2 (CardBus bridge) header fields. */
export const CardBus = {
  capPointer: 0x14,
  secStatus: 0x16,
  primaryBus: 0x18,
  cardBus: 0x19,
  subordinateBus: 0x1a,
  latency: 0x1b,
  memBase0: 0x1c,
  ioBase0: 0x2c,
  control: 0x3e,
  subsystemVendor: 0x40,
  subsystemId: 0x42,
} as const;

/** Command register bits. */
export const Cmd = {
  io: 0x1,
  memory: 0x2,
  master: 0x4,
  special: 0x8,
  invalidate: 0x10,
  vgaPalette: 0x20,
  parity: 0x40,
  wait: 0x80,
  serr: 0x100,
  fastBack: 0x200,
  intxDisable: 0x400,
} as const;

/** Status register bits (the secondary status register of a bridge uses the same layout). */
export const Sts = {
  intx: 0x8,
  capList: 0x10,
  mhz66: 0x20,
  udf: 0x40,
  fastBack: 0x80,
  parity: 0x100,
  devselMask: 0x600,
  sigTargetAbort: 0x800,
  recTargetAbort: 0x1000,
  recMasterAbort: 0x2000,
  sigSystemError: 0x4000,
  detParity: 0x8000,
} as const;

/** Layouts selected by the low 7 bits of the header-type register. */
export const HeaderType = { normal: 0, bridge: 1, cardbus: 2 } as const;

/** Header layout of a function (multi-function bit stripped). */
export function headerType(config: Uint8Array): number {
  return (config[Reg.headerType] ?? 0) & 0x7f;
}
