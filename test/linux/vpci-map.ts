// vpci's own view of a booted guest's bus, in the shapes the guest reports: every function at
// its current address with its IDs, and every BAR the guest assigned (address from the config
// space, size from the topology).
import type { Bus } from 'vpci';

export interface VpciBar {
  bdf: string;
  /** 0-5, or 6 for the expansion ROM. */
  index: number;
  space: 'mem' | 'io';
  start: bigint;
  end: bigint;
}

export interface VpciFunction {
  bdf: string;
  path: string;
  vendor: number;
  device: number;
  classCode: number;
  subsystemVendor: number;
  subsystem: number;
  revision: number;
}

/** "0000:01:00.0" → "01:00.0" (SeaBIOS's spelling). */
export function shortBdf(bdf: string): string {
  return bdf.slice(5);
}

export function vpciFunctions(bus: Bus): VpciFunction[] {
  return bus.functions().map((f) => {
    const bdf = bus.addressOf(f.path)!;
    const rd = (o: number, s: number) => bus.configRead(f.path, o, s);
    const bridge = (rd(0x0e, 1) & 0x7f) === 1;
    return {
      bdf, path: f.path, vendor: rd(0, 2), device: rd(2, 2), classCode: rd(8, 4) >>> 8, revision: rd(8, 1),
      subsystemVendor: bridge ? 0 : rd(0x2c, 2), subsystem: bridge ? 0 : rd(0x2e, 2),
    };
  });
}

/** Every implemented BAR (and ROM) with the address the guest programmed (0 when unassigned). */
export function vpciBars(bus: Bus): VpciBar[] {
  const out: VpciBar[] = [];
  for (const f of bus.functions()) {
    const bdf = bus.addressOf(f.path)!;
    const bridge = (bus.configRead(f.path, 0x0e, 1) & 0x7f) === 1;
    for (const { index, size } of f.barSizes) {
      let start: bigint;
      let space: 'mem' | 'io';
      if (index === 6) {
        start = BigInt((bus.configRead(f.path, bridge ? 0x38 : 0x30, 4) & 0xfffff800) >>> 0);
        space = 'mem';
      } else {
        const low = bus.configRead(f.path, 0x10 + 4 * index, 4);
        if (low & 1) {
          space = 'io';
          start = BigInt((low & 0xfffffffc) >>> 0);
        } else {
          space = 'mem';
          start = BigInt((low & 0xfffffff0) >>> 0);
          if (((low >>> 1) & 3) === 2) start |= BigInt(bus.configRead(f.path, 0x14 + 4 * index, 4)) << 32n;
        }
      }
      out.push({ bdf, index, space, start, end: start + size - 1n });
    }
  }
  return out;
}
