// Power Management capability (PCI Bus Power Management Interface 1.2, ch. 3).
import { type CapContext, type DecodedCap, TRUNCATED } from './cap-context.js';
import { flag } from './text.js';

/** Auxiliary current encodings of PMC bits 8:6, in mA. */
const AUX_CURRENT = [0, 55, 100, 160, 220, 270, 320, 375];

/** `Power Management version 3` with the PMC flags and the PMCSR state. */
export function decodePowerManagement(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const pmc = r.u16(off + 2);
  const header = `Power Management version ${pmc & 7}`;
  if (!r.has(off, 8)) return { header, details: [TRUNCATED] };
  const pme = (bit: number): string => ((pmc >> (11 + bit)) & 1 ? '+' : '-');
  const csr = r.u16(off + 4);
  return {
    header,
    details: [
      `Flags: ${flag('PMEClk', pmc & 0x8)} ${flag('DSI', pmc & 0x20)} ${flag('D1', pmc & 0x200)} ${flag('D2', pmc & 0x400)} ` +
        `AuxCurrent=${AUX_CURRENT[(pmc >> 6) & 7]}mA PME(D0${pme(0)},D1${pme(1)},D2${pme(2)},D3hot${pme(3)},D3cold${pme(4)})`,
      `Status: D${csr & 3} ${flag('NoSoftRst', csr & 0x8)} ${flag('PME-Enable', csr & 0x100)} ` +
        `DSel=${(csr >> 9) & 0xf} DScale=${(csr >> 13) & 3} ${flag('PME', csr & 0x8000)}`,
    ],
  };
}
