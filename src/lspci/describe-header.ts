// The identity and command/status part of a function's description.
import { classNameWithCode, progIfName } from './class-names.js';
import { walkCapabilities } from './capability-walk.js';
import type { ConfigReader } from './config-reader.js';
import { hex } from './hex.js';
import { CardBus, Cmd, HeaderType, Reg, Sts } from './registers.js';
import { flag, flags } from './text.js';

const DEVSEL = ['fast', 'medium', 'slow', '??'];
/** Capability ID of the bridge subsystem vendor/device IDs. */
const BRIDGE_SUBSYSTEM_CAP = 0x0d;

/**
 * `lspci -nn`-style title without vendor names: `Host bridge [0600]: Device [8086:1237]
 * (rev 02) (prog-if 00 [Normal decode])`. Like lspci, the prog-if is shown when non-zero or
 * when it has a name.
 */
export function describeTitle(r: ConfigReader): string {
  const classCode = r.u16(Reg.classCode);
  const rev = r.u8(Reg.revision);
  const progIf = r.u8(Reg.progIf);
  let out = `${classNameWithCode(classCode)}: Device [${hex(r.u16(Reg.vendorId), 4)}:${hex(r.u16(Reg.deviceId), 4)}]`;
  if (rev !== 0) out += ` (rev ${hex(rev, 2)})`;
  const progName = progIfName(classCode, progIf);
  if (progIf !== 0 || progName !== undefined) {
    out += ` (prog-if ${hex(progIf, 2)}${progName === undefined ? '' : ` [${progName}]`})`;
  }
  return out;
}

/** Where a function's subsystem IDs live: a header register, or for PCI bridges a capability. */
function subsystemOffset(r: ConfigReader, type: number): number | undefined {
  if (type === HeaderType.normal) return Reg.subsystemVendor;
  if (type === HeaderType.cardbus) return CardBus.subsystemVendor;
  if (type !== HeaderType.bridge) return undefined;
  const cap = walkCapabilities(r, type).caps.find((c) => c.id === BRIDGE_SUBSYSTEM_CAP);
  return cap !== undefined && r.has(cap.offset, 8) ? cap.offset + 4 : undefined;
}

/**
 * `Subsystem: Device [1af4:1100]`, or undefined when the function reports none (vendor 0 or
 * all-ones). Type-1 headers have no subsystem registers; the bridge subsystem capability
 * supplies them instead.
 */
export function describeSubsystem(r: ConfigReader, type: number): string | undefined {
  const at = subsystemOffset(r, type);
  if (at === undefined) return undefined;
  const vendor = r.u16(at);
  if (vendor === 0 || vendor === 0xffff) return undefined;
  return `Subsystem: Device [${hex(vendor, 4)}:${hex(r.u16(at + 2), 4)}]`;
}

const PCI_BRIDGE_CLASS = 0x0604;
const BRIDGE_BASE_CLASS = 0x06;

/**
 * lspci's consistency warning: a PCI-to-PCI bridge class needs a type-1 header, and bridge
 * headers (type 1 and CardBus) need a bridge base class. Unknown layouts are flagged too.
 */
export function describeHeaderWarning(r: ConfigReader, type: number): string | undefined {
  const classCode = r.u16(Reg.classCode);
  const invalid = `!!! Invalid class ${hex(classCode, 4)} for header type ${hex(type, 2)}`;
  if (type === HeaderType.normal) return classCode === PCI_BRIDGE_CLASS ? invalid : undefined;
  if (type === HeaderType.bridge || type === HeaderType.cardbus) return classCode >> 8 !== BRIDGE_BASE_CLASS ? invalid : undefined;
  return `!!! Unknown header type ${hex(type, 2)}`;
}

/** `DEVSEL=fast` decoding of the two DEVSEL timing bits of a status register. */
export function devsel(status: number): string {
  return DEVSEL[(status & Sts.devselMask) >> 9] ?? '??';
}

/** `Control: I/O+ Mem+ BusMaster- ...`. */
export function describeControl(r: ConfigReader): string {
  return `Control: ${flags(r.u16(Reg.command), [
    ['I/O', Cmd.io], ['Mem', Cmd.memory], ['BusMaster', Cmd.master], ['SpecCycle', Cmd.special],
    ['MemWINV', Cmd.invalidate], ['VGASnoop', Cmd.vgaPalette], ['ParErr', Cmd.parity],
    ['Stepping', Cmd.wait], ['SERR', Cmd.serr], ['FastB2B', Cmd.fastBack], ['DisINTx', Cmd.intxDisable],
  ])}`;
}

/** `Status: Cap+ 66MHz- ... DEVSEL=fast ... INTx-`. */
export function describeStatus(r: ConfigReader): string {
  const s = r.u16(Reg.status);
  return (
    `Status: ${flags(s, [['Cap', Sts.capList], ['66MHz', Sts.mhz66], ['UDF', Sts.udf], ['FastB2B', Sts.fastBack], ['ParErr', Sts.parity]])} ` +
    `DEVSEL=${devsel(s)} ` +
    `${flags(s, [['>TAbort', Sts.sigTargetAbort], ['<TAbort', Sts.recTargetAbort], ['<MAbort', Sts.recMasterAbort], ['>SERR', Sts.sigSystemError], ['<PERR', Sts.detParity]])} ` +
    flag('INTx', s & Sts.intx)
  );
}

/**
 * `Latency: 64 (500ns min, 750ns max), Cache Line Size: 64 bytes`, shown (as lspci does) only
 * for bus masters, since the timer means nothing for a function that never initiates.
 * MIN_GNT/MAX_LAT exist only in type-0 headers; both count 250 ns units.
 */
export function describeLatency(r: ConfigReader, type: number): string | undefined {
  if ((r.u16(Reg.command) & Cmd.master) === 0) return undefined;
  let out = `Latency: ${r.u8(Reg.latencyTimer)}`;
  if (type === HeaderType.normal) {
    const min = r.u8(Reg.minGnt);
    const max = r.u8(Reg.maxLat);
    const parts = [min !== 0 ? `${min * 250}ns min` : '', max !== 0 ? `${max * 250}ns max` : ''].filter((p) => p !== '');
    if (parts.length > 0) out += ` (${parts.join(', ')})`;
  }
  const cacheLine = r.u8(Reg.cacheLineSize);
  if (cacheLine !== 0) out += `, Cache Line Size: ${cacheLine * 4} bytes`;
  return out;
}

/** `Interrupt: pin A routed to IRQ 11` when a pin or line is set; pins past D print `?`. */
export function describeInterrupt(r: ConfigReader): string | undefined {
  const pin = r.u8(Reg.interruptPin);
  const line = r.u8(Reg.interruptLine);
  if (pin === 0 && line === 0) return undefined;
  const pinName = pin >= 1 && pin <= 4 ? String.fromCharCode(0x40 + pin) : '?';
  return `Interrupt: pin ${pinName} routed to IRQ ${line}`;
}

/** The one-line summary of `lspci -v`: `Flags: bus master, fast devsel, latency 0, IRQ 11`. */
export function describeFlagsLine(r: ConfigReader): string {
  const cmd = r.u16(Reg.command);
  const status = r.u16(Reg.status);
  const parts: string[] = [];
  if (cmd & Cmd.master) parts.push('bus master');
  if (cmd & Cmd.vgaPalette) parts.push('VGA palette snoop');
  if (cmd & Cmd.wait) parts.push('stepping');
  if (cmd & Cmd.fastBack) parts.push('fast Back2Back');
  if (status & Sts.mhz66) parts.push('66MHz');
  if (status & Sts.udf) parts.push('user-definable features');
  parts.push(`${devsel(status)} devsel`);
  if (cmd & Cmd.master) parts.push(`latency ${r.u8(Reg.latencyTimer)}`);
  const line = r.u8(Reg.interruptLine);
  if (line !== 0) parts.push(`IRQ ${line}`);
  return `Flags: ${parts.join(', ')}`;
}
