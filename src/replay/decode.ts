// Says what an access meant, for mismatch reports: "00:02.0 config 0x10 BAR0" for a config cycle
// through 0xCF8/0xCFC or ECAM, "00:07.0 BAR4 +0x3000" for a BAR, "unclaimed" otherwise.
import type { Bus } from '../bus.js';
import { Reg } from '../config/index.js';

const REG_NAMES = new Map<number, string>(Object.entries(Reg).map(([k, v]) => [v, k]));
const h2 = (v: number) => v.toString(16).padStart(2, '0');

/** A register's name when the offset starts one of the standard header's registers, else ''. */
function registerName(reg: number): string {
  if (reg >= 0x10 && reg < 0x28 && (reg & 3) === 0) return `BAR${(reg - 0x10) >> 2}`;
  return REG_NAMES.get(reg) ?? '';
}

/** "SS:BB:DD.F config 0xRR NAME". */
export function configMeaning(seg: number, bus: number, dev: number, fn: number, reg: number): string {
  const where = `${seg === 0 ? '' : `${seg.toString(16).padStart(4, '0')}:`}${h2(bus)}:${h2(dev)}.${fn}`;
  const name = registerName(reg);
  return `${where} config 0x${reg.toString(16)}${name ? ` ${name}` : ''}`;
}

/**
 * The meaning of an access: `latch` is CONFIG_ADDRESS as the trace had set it when the access
 * happened (for 0xCFC-0xCFF). MMIO is looked up in the ECAM windows and the regions mapped now.
 */
export function accessMeaning(bus: Bus, space: 'mmio' | 'io', addr: bigint, latch: number): string {
  if (space === 'io') {
    if (addr === 0xcf8n) return 'CONFIG_ADDRESS (0xCF8)';
    if (addr >= 0xcfcn && addr <= 0xcffn) {
      if ((latch & 0x80000000) === 0) return 'CONFIG_DATA with CONFIG_ADDRESS disabled';
      return configMeaning(0, (latch >>> 16) & 0xff, (latch >>> 11) & 31, (latch >>> 8) & 7, (latch & 0xfc) + Number(addr - 0xcfcn));
    }
  }
  if (space === 'mmio') {
    for (const s of bus.topology.segments) {
      if (!s.ecam) continue;
      const base = BigInt(s.ecam.base);
      const end = base + BigInt((s.ecam.busEnd - s.ecam.busStart + 1) << 20);
      if (addr >= base && addr < end) {
        const off = Number(addr - base);
        return configMeaning(s.segment, s.ecam.busStart + (off >>> 20), (off >>> 15) & 31, (off >>> 12) & 7, off & 0xfff);
      }
    }
  }
  const r = bus.regions().find((x) => x.space === space && addr >= x.base && addr < x.base + x.size);
  if (!r) return 'unclaimed (master abort)';
  const what = r.bdf !== undefined ? `${r.bdf}${r.bar !== undefined ? ` ${r.bar === 6 ? 'ROM' : `BAR${r.bar}`}` : ''}` : r.name;
  return `${what} +0x${(addr - r.base).toString(16)} (${r.kind})`;
}
