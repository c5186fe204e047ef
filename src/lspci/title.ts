// The per-function title line of lspci's default (non-verbose, name-resolving) listing.
import { className } from './class-names.js';
import { ConfigReader } from './config-reader.js';
import { hex } from './hex.js';
import { Reg } from './registers.js';

/**
 * What lspci prints after the slot name when its ID database knows the class but not the
 * vendor: `Host bridge: Device 8086:1237 (rev 02)`. The revision appears only when non-zero;
 * the prog-if only in verbose listings, so it is absent here.
 */
export function titleText(config: Uint8Array): string {
  const r = new ConfigReader(config);
  const classCode = r.u16(Reg.classCode);
  const rev = r.u8(Reg.revision);
  const ids = `${hex(r.u16(Reg.vendorId), 4)}:${hex(r.u16(Reg.deviceId), 4)}`;
  return `${className(classCode)}: Device ${ids}${rev !== 0 ? ` (rev ${hex(rev, 2)})` : ''}`;
}
