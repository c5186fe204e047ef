// MSI and MSI-X capabilities (PCI Local Bus 3.0 §6.8).
import { type CapContext, type DecodedCap, TRUNCATED } from './cap-context.js';
import { hex } from './hex.js';
import { flag } from './text.js';

/**
 * `MSI: Enable+ Count=1/4 Maskable- 64bit+` (Count = enabled/capable vectors) with the message
 * address and data, and mask/pending bits when per-vector masking is supported.
 */
export function decodeMsi(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const ctl = r.u16(off + 2);
  const is64 = (ctl & 0x80) !== 0;
  const maskable = (ctl & 0x100) !== 0;
  const header =
    `MSI: ${flag('Enable', ctl & 1)} Count=${1 << ((ctl >> 4) & 7)}/${1 << ((ctl >> 1) & 7)} ` +
    `${flag('Maskable', maskable)} ${flag('64bit', is64)}`;
  const dataAt = off + (is64 ? 0xc : 0x8);
  const length = dataAt + 2 + (maskable ? 10 : 0) - off;
  if (!r.has(off, length)) return { header, details: [TRUNCATED] };
  const address = is64 ? hex(r.u64(off + 4), 16) : hex(r.u32(off + 4), 8);
  const details = [`Address: ${address}  Data: ${hex(r.u16(dataAt), 4)}`];
  if (maskable) details.push(`Masking: ${hex(r.u32(dataAt + 4), 8)}  Pending: ${hex(r.u32(dataAt + 8), 8)}`);
  return { header, details };
}

/** `MSI-X: Enable+ Count=4 Masked-` with the BAR and offset of the vector table and PBA. */
export function decodeMsix(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const ctl = r.u16(off + 2);
  const header = `MSI-X: ${flag('Enable', ctl & 0x8000)} Count=${(ctl & 0x7ff) + 1} ${flag('Masked', ctl & 0x4000)}`;
  if (!r.has(off, 12)) return { header, details: [TRUNCATED] };
  const table = r.u32(off + 4);
  const pba = r.u32(off + 8);
  return {
    header,
    details: [
      `Vector table: BAR=${table & 7} offset=${hex((table & ~7) >>> 0, 8)}`,
      `PBA: BAR=${pba & 7} offset=${hex((pba & ~7) >>> 0, 8)}`,
    ],
  };
}
