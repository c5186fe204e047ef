// Bridge-specific header fields: bus numbers, forwarding windows, secondary status and bridge
// control (PCI-to-PCI Bridge Architecture 1.2 §3.2; PC Card 8.0 for CardBus bridges).
import type { ConfigReader } from './config-reader.js';
import { devsel } from './describe-header.js';
import { hex } from './hex.js';
import { Bridge, CardBus, Cmd, Reg, Sts } from './registers.js';
import { flags, sizeSuffix } from './text.js';

/** `base-limit [size=..]`, or `[disabled]` when the limit lies below the base. */
function range(base: bigint, limit: bigint, width: number): string {
  const text = `${hex(base, width)}-${hex(limit, width)}`;
  return base <= limit ? `${text}${sizeSuffix(limit - base + 1n)}` : `${text} [disabled]`;
}

/** `Bus: primary=00, secondary=01, subordinate=01, sec-latency=0`. */
function busLine(r: ConfigReader): string {
  return (
    `Bus: primary=${hex(r.u8(Bridge.primaryBus), 2)}, secondary=${hex(r.u8(Bridge.secondaryBus), 2)}, ` +
    `subordinate=${hex(r.u8(Bridge.subordinateBus), 2)}, sec-latency=${r.u8(Bridge.secLatency)}`
  );
}

/** I/O window: 4K granular, 16-bit or (type 1 in the low nibble) 32-bit addressing. */
function ioWindow(r: ConfigReader): string {
  const b = r.u8(Bridge.ioBase);
  const l = r.u8(Bridge.ioLimit);
  const type = b & 0xf;
  if (type !== (l & 0xf) || type > 1) return `!!! Unknown I/O range types ${b.toString(16)}/${l.toString(16)}`;
  let base = BigInt((b & 0xf0) << 8);
  let limit = BigInt(((l & 0xf0) << 8) | 0xfff);
  if (type === 1) {
    base |= BigInt(r.u16(Bridge.ioBaseUpper)) << 16n;
    limit |= BigInt(r.u16(Bridge.ioLimitUpper)) << 16n;
  }
  return `I/O behind bridge: ${range(base, limit, type === 1 ? 8 : 4)} [${type === 1 ? 32 : 16}-bit]`;
}

/** Non-prefetchable memory window: 1M granular, always 32-bit. */
function memoryWindow(r: ConfigReader): string {
  const b = r.u16(Bridge.memBase);
  const l = r.u16(Bridge.memLimit);
  if ((b & 0xf) !== 0 || (l & 0xf) !== 0) return `!!! Unknown memory range types ${b.toString(16)}/${l.toString(16)}`;
  const base = BigInt(b & 0xfff0) << 16n;
  const limit = (BigInt(l & 0xfff0) << 16n) | 0xfffffn;
  return `Memory behind bridge: ${range(base, limit, 8)} [32-bit]`;
}

/** Prefetchable window: 1M granular, 32-bit or (type 1) 64-bit with upper registers. */
function prefetchableWindow(r: ConfigReader): string {
  const b = r.u16(Bridge.prefBase);
  const l = r.u16(Bridge.prefLimit);
  const type = b & 0xf;
  if (type !== (l & 0xf) || type > 1) {
    return `!!! Unknown prefetchable memory range types ${b.toString(16)}/${l.toString(16)}`;
  }
  let base = BigInt(b & 0xfff0) << 16n;
  let limit = (BigInt(l & 0xfff0) << 16n) | 0xfffffn;
  if (type === 1) {
    base |= BigInt(r.u32(Bridge.prefBaseUpper)) << 32n;
    limit |= BigInt(r.u32(Bridge.prefLimitUpper)) << 32n;
  }
  return `Prefetchable memory behind bridge: ${range(base, limit, type === 1 ? 16 : 8)} [${type === 1 ? 64 : 32}-bit]`;
}

/** Bus numbers and the three forwarding windows of a PCI-to-PCI bridge. */
export function describeBridgeWindows(r: ConfigReader): string[] {
  return [busLine(r), ioWindow(r), memoryWindow(r), prefetchableWindow(r)];
}

/** `Secondary status: ...`: the status register of the bridge's secondary interface. */
export function describeSecondaryStatus(r: ConfigReader): string {
  const s = r.u16(Bridge.secStatus);
  return (
    `Secondary status: ${flags(s, [['66MHz', Sts.mhz66], ['FastB2B', Sts.fastBack], ['ParErr', Sts.parity]])} ` +
    `DEVSEL=${devsel(s)} ` +
    flags(s, [['>TAbort', Sts.sigTargetAbort], ['<TAbort', Sts.recTargetAbort], ['<MAbort', Sts.recMasterAbort], ['<SERR', Sts.sigSystemError], ['<PERR', Sts.detParity]])
  );
}

/** The two `BridgeCtl:` lines (the second is a continuation, indented one level deeper). */
export function describeBridgeControl(r: ConfigReader): string[] {
  const c = r.u16(Bridge.control);
  return [
    `BridgeCtl: ${flags(c, [['Parity', 0x1], ['SERR', 0x2], ['NoISA', 0x4], ['VGA', 0x8], ['VGA16', 0x10], ['MAbort', 0x20], ['>Reset', 0x40], ['FastB2B', 0x80]])}`,
    `\t${flags(c, [['PriDiscTmr', 0x100], ['SecDiscTmr', 0x200], ['DiscTmrStat', 0x400], ['DiscTmrSERREn', 0x800]])}`,
  ];
}

/** Bus numbers, the two memory and two I/O windows, and bridge control of a CardBus bridge. */
export function describeCardBus(r: ConfigReader, verbose: number): string[] {
  const cmd = r.u16(Reg.command);
  const ctl = r.u16(CardBus.control);
  const lines = [
    `Bus: primary=${hex(r.u8(CardBus.primaryBus), 2)}, secondary=${hex(r.u8(CardBus.cardBus), 2)}, ` +
      `subordinate=${hex(r.u8(CardBus.subordinateBus), 2)}, sec-latency=${r.u8(CardBus.latency)}`,
  ];
  for (let i = 0; i < 2; i++) {
    const base = (r.u32(CardBus.memBase0 + 8 * i) & ~0xfff) >>> 0;
    const limit = (r.u32(CardBus.memBase0 + 4 + 8 * i) | 0xfff) >>> 0;
    const off = (cmd & Cmd.memory) === 0 || base > limit;
    const pref = (ctl & (0x100 << i)) !== 0;
    lines.push(`Memory window ${i}: ${hex(base, 8)}-${hex(limit, 8)}${off ? ' [disabled]' : ''}${pref ? ' (prefetchable)' : ''}`);
  }
  for (let i = 0; i < 2; i++) {
    const rawBase = r.u32(CardBus.ioBase0 + 8 * i);
    let base = (rawBase & ~3) >>> 0;
    let limit = (r.u32(CardBus.ioBase0 + 4 + 8 * i) | 3) >>> 0;
    if ((rawBase & 1) === 0) {
      base &= 0xffff;
      limit &= 0xffff;
    }
    const off = (cmd & Cmd.io) === 0 || base > limit;
    lines.push(`I/O window ${i}: ${hex(base, 8)}-${hex(limit, 8)}${off ? ' [disabled]' : ''}`);
  }
  if (verbose >= 2) {
    lines.push(
      `BridgeCtl: ${flags(ctl, [['Parity', 0x1], ['SERR', 0x2], ['ISA', 0x4], ['VGA', 0x8], ['MAbort', 0x20], ['>Reset', 0x40], ['16bInt', 0x80], ['PostWrite', 0x400]])}`,
    );
  }
  return lines;
}
