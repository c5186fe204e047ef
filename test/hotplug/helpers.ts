// Shared pieces of the hotplug suites: the slot registers by offset, and what a guest OS does
// after a hotplug event — read the port's windows and assign the new card's BARs inside them with
// config writes (sizing by the all-ones probe), then enable decoding.
import type { Bus } from '../../src/bus.js';
import { createBus } from '../../src/bus.js';
import { firmwareDefaults, runFirmware } from '../../src/firmware/index.js';
import { PcieReg, SlotCtl, SlotSta } from '../../src/config/index.js';
import type { Topology } from '../../src/topology/index.js';

export { PcieReg, SlotCtl, SlotSta };

/** The empty hot-plug slot of the default topology, and the occupied one. */
export const EMPTY_PORT = '0000:00:09.0';
export const FULL_PORT = '0000:00:05.0';

export function pcieCap(bus: Bus, bdf: string): number {
  let p = bus.configRead(bdf, 0x34, 1) & 0xfc;
  for (let hops = 0; p >= 0x40 && hops < 48; hops++) {
    if (bus.configRead(bdf, p, 1) === 0x10) return p;
    p = bus.configRead(bdf, p + 1, 1) & 0xfc;
  }
  throw new Error(`${bdf} has no PCI Express capability`);
}

export function capOffset(bus: Bus, bdf: string, id: number): number {
  let p = bus.configRead(bdf, 0x34, 1) & 0xfc;
  for (let hops = 0; p >= 0x40 && hops < 48; hops++) {
    if (bus.configRead(bdf, p, 1) === id) return p;
    p = bus.configRead(bdf, p + 1, 1) & 0xfc;
  }
  throw new Error(`${bdf} has no capability 0x${id.toString(16)}`);
}

/** Reads and writes of a port's slot registers (offsets from the PCIe capability). */
export function slotRegs(bus: Bus, port: string) {
  const cap = pcieCap(bus, port);
  return {
    cap,
    slotCap: () => bus.configRead(port, cap + PcieReg.SLOT_CAPABILITIES, 4),
    control: () => bus.configRead(port, cap + PcieReg.SLOT_CONTROL, 2),
    status: () => bus.configRead(port, cap + PcieReg.SLOT_STATUS, 2),
    linkStatus: () => bus.configRead(port, cap + PcieReg.LINK_STATUS, 2),
    linkCap: () => bus.configRead(port, cap + PcieReg.LINK_CAPABILITIES, 4),
    setControl: (v: number) => bus.configWrite(port, cap + PcieReg.SLOT_CONTROL, 2, v),
    writeStatus: (v: number) => bus.configWrite(port, cap + PcieReg.SLOT_STATUS, 2, v),
  };
}

/** A bus of the default topology after the platform firmware ran (bus numbers, windows, BARs). */
export async function bootedBus(backend: 'wasm' | 'ts', topology?: Topology): Promise<Bus> {
  const bus = await createBus({ backend, topology });
  runFirmware(bus, firmwareDefaults(bus));
  return bus;
}

/** A bridge's windows as its registers say (PCI-to-PCI Bridge 1.2 §3.2.5.6-9); undefined when closed. */
export function bridgeWindows(bus: Pick<Bus, 'configRead'>, bridge: string) {
  const ioBase = bus.configRead(bridge, 0x1c, 1);
  const ioLimit = bus.configRead(bridge, 0x1d, 1);
  const ioUpper = bus.configRead(bridge, 0x30, 4);
  const io = { base: (((ioUpper & 0xffff) * 0x10000) + ((ioBase & 0xf0) << 8)), limit: (((ioUpper >>> 16) * 0x10000) + ((ioLimit & 0xf0) << 8) + 0xfff) };
  const memBase = bus.configRead(bridge, 0x20, 2);
  const memLimit = bus.configRead(bridge, 0x22, 2);
  const mem = { base: (memBase & 0xfff0) * 0x10000, limit: (memLimit & 0xfff0) * 0x10000 + 0xfffff };
  const pBase = bus.configRead(bridge, 0x24, 2);
  const pLimit = bus.configRead(bridge, 0x26, 2);
  const pBaseHi = bus.configRead(bridge, 0x28, 4);
  const pLimitHi = bus.configRead(bridge, 0x2c, 4);
  const prefetch = {
    base: (BigInt(pBaseHi) << 32n) + BigInt((pBase & 0xfff0) * 0x10000),
    limit: (BigInt(pLimitHi) << 32n) + BigInt((pLimit & 0xfff0) * 0x10000 + 0xfffff),
  };
  return {
    io: io.base <= io.limit ? io : undefined,
    mem: mem.base <= mem.limit ? mem : undefined,
    prefetch: prefetch.base <= prefetch.limit ? prefetch : undefined,
  };
}

export interface AssignedBar { index: number; kind: 'io' | 'mem32' | 'mem64'; prefetchable: boolean; base: bigint; size: bigint }

/**
 * What a guest OS does with a card that just arrived: sizes every BAR with the all-ones probe and
 * places it naturally aligned inside the port's windows (IO, memory, or prefetchable for a
 * prefetchable BAR), programs it, and turns on IO, memory decoding and bus mastering.
 */
export function assignCard(bus: Pick<Bus, 'configRead' | 'configWrite'>, port: string, card: string, shift = 0): AssignedBar[] {
  const windows = bridgeWindows(bus, port);
  const next = { io: BigInt(windows.io?.base ?? 0), mem: BigInt(windows.mem?.base ?? 0), prefetch: windows.prefetch?.base ?? 0n };
  const out: AssignedBar[] = [];
  bus.configWrite(card, 0x04, 2, 0);
  for (let i = 0; i < 6; i++) {
    const reg = 0x10 + 4 * i;
    const original = bus.configRead(card, reg, 4);
    bus.configWrite(card, reg, 4, 0xffffffff);
    const probed = bus.configRead(card, reg, 4);
    bus.configWrite(card, reg, 4, original);
    if (probed === 0) continue;
    const isIo = (original & 1) === 1;
    const is64 = !isIo && (original & 6) === 4;
    let size: bigint;
    if (isIo) {
      size = BigInt(((~(probed & 0xfffffffc)) & 0xffff) + 1);
    } else if (is64) {
      bus.configWrite(card, reg + 4, 4, 0xffffffff);
      const hi = bus.configRead(card, reg + 4, 4);
      const mask = (BigInt(hi) << 32n) | BigInt((probed & 0xfffffff0) >>> 0);
      size = ((~mask) & 0xffffffffffffffffn) + 1n;
    } else {
      size = BigInt((~(probed & 0xfffffff0) >>> 0) + 1);
    }
    const prefetchable = !isIo && (original & 8) !== 0;
    const space = isIo ? 'io' : prefetchable && windows.prefetch ? 'prefetch' : 'mem';
    const limit = space === 'io' ? BigInt(windows.io!.limit) : space === 'mem' ? BigInt(windows.mem!.limit) : windows.prefetch!.limit;
    // `shift` leaves that many BAR-sized holes first where they fit (so placements vary).
    const aligned = (next[space] + size - 1n) & ~(size - 1n);
    const shifted = aligned + BigInt(shift) * size;
    const base = shifted + size - 1n <= limit ? shifted : aligned;
    next[space] = base + size;
    if (base + size - 1n > limit) throw new Error(`BAR ${i} (0x${size.toString(16)}) does not fit in the port's ${space} window`);
    bus.configWrite(card, reg, 4, Number(base & 0xffffffffn) | (original & (isIo ? 0x3 : 0xf)));
    if (is64) bus.configWrite(card, reg + 4, 4, Number(base >> 32n));
    out.push({ index: i, kind: isIo ? 'io' : is64 ? 'mem64' : 'mem32', prefetchable, base, size });
    if (is64) i++;
  }
  bus.configWrite(card, 0x04, 2, 0x0007);
  return out;
}

/** A card with one 4 KiB mem32 BAR, one 64 KiB 64-bit prefetchable BAR and a 256-byte IO BAR. */
export const CARD = {
  descriptor: {
    vendorId: 0x1b36, deviceId: 0x00f0, classCode: 0x00ff00, interruptPin: 1,
    bars: [
      { index: 0, kind: 'mem32' as const, size: 0x1000 },
      { index: 2, kind: 'mem64' as const, size: 0x10000, prefetchable: true },
      { index: 4, kind: 'io' as const, size: 0x100 },
    ],
  },
  name: 'hotplugged card',
};
