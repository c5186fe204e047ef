// The v86 adapter (src/runtime/v86) against a real v86 emulator (npm package `v86`), built without
// a BIOS and never started: the tests drive it the way its CPU would, through its port table
// (`cpu.io.port_read/write*`, what an `in`/`out` instruction reaches) and its MMIO block table
// (`cpu.mmap_read/write*`), and check what reaches vpci, what stays v86's, and what detach gives
// back. Every test builds its own emulator (about 50 ms): attaching changes v86's tables.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadV86Emulator } from '../../scripts/v86-emulator.js';
import type { Mock } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { TopologyError } from '../../src/errors.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { Topology } from '../../src/topology/index.js';
import { attachToV86, v86Topology, V86Recorder } from '../../src/runtime/v86/index.js';
import type { AccessObserver, V86AttachOptions, V86Attachment } from '../../src/runtime/v86/index.js';
import type { V86Cpu, V86Io, V86PortEntry } from '../../src/runtime/v86/v86-internals.js';
import { BACKENDS, cf8 } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

// ---------------------------------------------------------------------------------------------
// v86, loaded once per test

/** What the tests use of v86's CPU beyond what the adapter relies on. */
interface TestIo extends V86Io {
  port_read8(port: number): number;
  port_read16(port: number): number;
  port_read32(port: number): number;
  port_write8(port: number, value: number): void;
  port_write16(port: number, value: number): void;
  port_write32(port: number, value: number): void;
  empty_port_write: (value: number) => void;
}
interface TestCpu extends V86Cpu {
  io: TestIo;
  mmap_read8(addr: number): number;
  mmap_write8(addr: number, value: number): void;
  mmap_read32(addr: number): number;
  mmap_write32(addr: number, value: number): void;
}
interface TestEmulator {
  v86: { cpu: TestCpu };
  add_listener(event: string, fn: () => void): void;
  destroy?(): Promise<void> | void;
}

const MEMORY = 32 << 20;
const BLOCK_SHIFT = 17;
const live: TestEmulator[] = [];

async function loadV86(): Promise<{ emulator: TestEmulator; cpu: TestCpu; io: TestIo }> {
  const emulator = (await loadV86Emulator({ memory_size: MEMORY })) as TestEmulator;
  live.push(emulator);
  const cpu = emulator.v86.cpu;
  return { emulator, cpu, io: cpu.io };
}

afterEach(async () => {
  for (const e of live.splice(0)) await e.destroy?.();
});

// ---------------------------------------------------------------------------------------------
// Helpers: config cycles and snapshots of v86's tables

/** A config write through v86's port table, as the guest's `out` instructions make it. */
function cfgWrite(io: TestIo, bus: number, dev: number, fn: number, off: number, size: 1 | 2 | 4, value: number): void {
  io.port_write32(0xcf8, cf8(bus, dev, fn, off));
  const port = 0xcfc + (off & 3);
  if (size === 4) io.port_write32(port, value);
  else if (size === 2) io.port_write16(port, value);
  else io.port_write8(port, value);
}

/** A config read through v86's port table (unsigned). */
function cfgRead(io: TestIo, bus: number, dev: number, fn: number, off: number, size: 1 | 2 | 4): number {
  io.port_write32(0xcf8, cf8(bus, dev, fn, off));
  const port = 0xcfc + (off & 3);
  return (size === 4 ? io.port_read32(port) : size === 2 ? io.port_read16(port) : io.port_read8(port)) >>> 0;
}

const COMMAND = 0x04;
const CMD_IO = 0x1;
const CMD_MEM = 0x2;
const CMD_MASTER = 0x4;

type BlockHandlers = [unknown, unknown, unknown, unknown];
function blockHandlers(cpu: V86Cpu, block: number): BlockHandlers {
  return [cpu.memory_map_read8[block], cpu.memory_map_write8[block], cpu.memory_map_read32[block], cpu.memory_map_write32[block]];
}

const blockOf = (addr: number) => addr >>> BLOCK_SHIFT;

/**
 * Identity of v86's table entries, asserted without handing them to the matcher: a failure would
 * try to print v86's device objects, some of which throw when inspected.
 */
function expectSame(actual: unknown, expected: unknown, what: string): void {
  expect(actual === expected, `${what} is v86's entry from before`).toBe(true);
}

function expectSameBlock(cpu: V86Cpu, block: number, before: BlockHandlers): void {
  blockHandlers(cpu, block).forEach((h, i) => expectSame(h, before[i], `block 0x${block.toString(16)} handler ${i}`));
}
const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/** The counters vpci keeps for one BAR. */
function barStats(bus: Bus, bdf: string, bar: number): { reads: number; writes: number } {
  const r = bus.stats().regions.find((s) => s.bdf === `0000:${bdf}` && s.bar === bar && s.kind === 'bar');
  return { reads: r?.reads ?? 0, writes: r?.writes ?? 0 };
}

function regionName(bus: Bus, bdf: string, bar: number): string {
  const r = bus.regions().find((s) => s.bdf === `0000:${bdf}` && s.bar === bar);
  if (!r) throw new Error(`${bdf} BAR ${bar} is not mapped`);
  return r.name;
}

/** RAM bytes of v86 at a guest-physical address (where its CPU reads them). */
function v86Ram(cpu: V86Cpu, gpa: number, length: number): Uint8Array {
  return new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset + gpa, length);
}

interface Rig {
  emulator: TestEmulator;
  cpu: TestCpu;
  io: TestIo;
  bus: Bus;
  attachment: V86Attachment;
  /** v86's port entries before attaching (a copy of the array). */
  portsBefore: V86PortEntry[];
}

/** A loaded emulator with a vpci bus of `topology` (default v86Topology()) attached. */
async function rig(backend: Backend, options: V86AttachOptions = {}, topology: Topology = v86Topology(), before?: (cpu: TestCpu) => void): Promise<Rig> {
  const { emulator, cpu, io } = await loadV86();
  const bus = await createBus({ backend, topology });
  before?.(cpu);
  const portsBefore = [...io.ports];
  const attachment = attachToV86(emulator, bus, options);
  return { emulator, cpu, io, bus, attachment, portsBefore };
}

/** Free MMIO addresses in this v86 (no RAM, no v86 device, no APIC block): checked, not assumed. */
function expectFree(attachment: V86Attachment, ...addrs: number[]): void {
  for (const a of addrs) {
    const own = attachment.v86Ranges.find((r) => a >= r.base && a < r.base + r.size);
    expect(own, `0x${a.toString(16)} is ${own?.what}`).toBeUndefined();
  }
}

// ---------------------------------------------------------------------------------------------

describe.each(BACKENDS)('v86 adapter (%s backend)', (backend) => {
  describe('config cycles', () => {
    it("reach vpci through v86's port table at 0xCF8 and 0xCFC-0xCFF, any width", async () => {
      const { io, bus, attachment } = await rig(backend);
      io.port_write32(0xcf8, 0x80000000);
      expect(io.port_read32(0xcfc) >>> 0).toBe(0x12378086);
      expect(io.port_read8(0xcfd)).toBe(0x80);
      expect(io.port_read16(0xcfe)).toBe(0x1237);
      expect(io.port_read32(0xcf8) >>> 0).toBe(0x80000000);
      // The PIIX3 at 00:01.0 and a device v86's own bus does not have: vpci answers, not v86.
      expect(cfgRead(io, 0, 1, 0, 0, 4)).toBe(0x70008086);
      expect(cfgRead(io, 0, 2, 0, 0, 4)).toBe(bus.configRead('00:02.0', 0, 4) >>> 0);
      expect(cfgRead(io, 0, 2, 0, 0, 4)).toBe(0x10441af4);
      expect(cfgRead(io, 0, 1, 0, 0x0b, 1)).toBe(0x06); // base class: bridge, through 0xCFF
      expect(cfgRead(io, 0, 1, 0, 0x0a, 2)).toBe(0x0601); // through 0xCFE
      // A write lands in vpci's config space.
      cfgWrite(io, 0, 4, 0, 0x3c, 1, 0x0b);
      expect(bus.configRead('00:04.0', 0x3c, 1)).toBe(0x0b);
      expect(attachment.stats().configAccesses).toBe(17);
      expect(attachment.stats().ioAccesses).toBe(0);
    });

    it("leaves 0xCF9 (the PIIX3 reset control) and 0xCFA-0xCFB to v86", async () => {
      const { io, portsBefore, attachment } = await rig(backend);
      for (const p of [0xcf9, 0xcfa, 0xcfb]) expectSame(io.ports[p], portsBefore[p], `port 0x${p.toString(16)}`);
      for (const p of [0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff]) expect(io.ports[p] !== portsBefore[p], `port 0x${p.toString(16)}`).toBe(true);
      expect(attachment.trapped().ports).toEqual([0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff]);
      expect(attachment.trapped().blocks).toEqual([]);
    });

    it('reports no conflicts on a fresh attach (the config ports are not BARs)', async () => {
      const { attachment } = await rig(backend);
      expect(attachment.conflicts()).toEqual([]);
    });
  });

  describe('BAR tracking', () => {
    it('traps the 128 KiB block of a memory BAR when decoding is enabled, and follows moves and disables', async () => {
      const MEM = 0xe1000000;
      const MOVED = 0xe2000000;
      const { cpu, io, bus, attachment } = await rig(backend);
      expectFree(attachment, MEM, MOVED);
      const original = blockHandlers(cpu, blockOf(MEM));
      const originalMoved = blockHandlers(cpu, blockOf(MOVED));

      cfgWrite(io, 0, 4, 0, 0x10, 4, MEM);
      expect(attachment.trapped().blocks, 'not trapped before Memory Space Enable').toEqual([]);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MEM | CMD_IO);
      expect(attachment.trapped().blocks).toEqual([blockOf(MEM)]);
      expect(cpu.memory_map_read8[blockOf(MEM)] !== original[0]).toBe(true);

      // The guest's accesses reach vpci: same answer as a twin bus given the same config, counted on the BAR.
      const twin = await createBus({ backend, topology: v86Topology() });
      twin.configWrite('00:04.0', 0x10, 4, MEM);
      twin.configWrite('00:04.0', COMMAND, 2, CMD_MEM | CMD_IO);
      expect(cpu.mmap_read32(MEM + 8) >>> 0).toBe(twin.mmioRead(MEM + 8, 4) >>> 0);
      expect(cpu.mmap_read8(MEM + 1)).toBe(twin.mmioRead(MEM + 1, 1));
      cpu.mmap_write32(MEM + 4, 0x12345678);
      cpu.mmap_write8(MEM + 0x10, 0x5a);
      expect(barStats(bus, '00:04.0', 0)).toEqual({ reads: 2, writes: 2 });
      expect(attachment.stats().mmioAccesses).toBe(4);
      // The rest of the block is vpci's too: nothing decodes there, so a master abort (all ones).
      expect(cpu.mmap_read32(MEM + 0x10000) >>> 0).toBe(0xffffffff);

      // Moved: the old block gets v86's handlers back, the new one is trapped.
      cfgWrite(io, 0, 4, 0, 0x10, 4, MOVED);
      expect(attachment.trapped().blocks).toEqual([blockOf(MOVED)]);
      expectSameBlock(cpu, blockOf(MEM), original);
      cpu.mmap_read32(MOVED);
      expect(barStats(bus, '00:04.0', 0).reads).toBe(3);
      expect(cpu.mmap_read32(MEM) >>> 0, "the old address is v86's unmapped memory again").toBe(0xffffffff);
      expect(barStats(bus, '00:04.0', 0).reads).toBe(3);

      // Memory Space Enable cleared: released.
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_IO);
      expect(attachment.trapped().blocks).toEqual([]);
      expectSameBlock(cpu, blockOf(MOVED), originalMoved);
    });

    it('traps the ports of an I/O BAR when I/O decoding is enabled, and gives them back when disabled', async () => {
      const PORT = 0xd000;
      const { io, bus, attachment, portsBefore } = await rig(backend);
      cfgWrite(io, 0, 4, 0, 0x14, 4, PORT);
      expect(attachment.trapped().ports).not.toContain(PORT);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_IO);
      const ports = range(PORT, 0x20);
      expect(attachment.trapped().ports).toEqual([0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff, ...ports]);
      for (const p of ports) expect(io.ports[p] !== portsBefore[p], `port 0x${p.toString(16)}`).toBe(true);
      expectSame(io.ports[PORT + 0x20], portsBefore[PORT + 0x20], 'the port after the BAR');

      expect(io.port_read8(PORT)).toBe(bus.ioRead(PORT, 1));
      io.port_read16(PORT + 2);
      io.port_read32(PORT + 4);
      io.port_write8(PORT + 0x1f, 0x11);
      io.port_write16(PORT + 8, 0x2222);
      io.port_write32(PORT + 0xc, 0x33333333);
      // bus.ioRead above was one more read.
      expect(barStats(bus, '00:04.0', 1)).toEqual({ reads: 4, writes: 3 });
      expect(attachment.stats().ioAccesses).toBe(6);

      cfgWrite(io, 0, 4, 0, COMMAND, 2, 0);
      expect(attachment.trapped().ports).toEqual([0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff]);
      for (const p of ports) expectSame(io.ports[p], portsBefore[p], `port 0x${p.toString(16)}`);
      expect(io.port_read8(PORT)).toBe(0xff);
      expect(barStats(bus, '00:04.0', 1).reads).toBe(4);
    });

    it('re-syncs only after config data writes, not after every write to a device port', async () => {
      const { io, attachment } = await rig(backend);
      cfgWrite(io, 0, 4, 0, 0x14, 4, 0xd000);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_IO);
      const syncs = attachment.stats().syncs;
      for (let i = 0; i < 10; i++) io.port_write8(0xd000, i);
      io.port_write32(0xcf8, cf8(0, 4, 0, 0));
      expect(attachment.stats().syncs).toBe(syncs);
      io.port_write32(0xcfc, 0);
      expect(attachment.stats().syncs).toBe(syncs + 1);
    });

    it('reaches a device behind the PCI-to-PCI bridge through its memory window', async () => {
      const WIN = 0xe4000000;
      const { cpu, io, bus, attachment } = await rig(backend);
      expectFree(attachment, WIN);
      cfgWrite(io, 0, 5, 0, 0x18, 4, 0x00010100); // primary 0, secondary 1, subordinate 1
      cfgWrite(io, 0, 5, 0, 0x20, 4, 0xe400e400); // memory window 0xE4000000-0xE40FFFFF
      cfgWrite(io, 0, 5, 0, COMMAND, 2, CMD_MEM);
      expect(cfgRead(io, 1, 0, 0, 0, 4)).toBe(0x00051b36);
      cfgWrite(io, 1, 0, 0, 0x10, 4, WIN);
      cfgWrite(io, 1, 0, 0, COMMAND, 2, CMD_MEM);
      expect(attachment.trapped().blocks).toContain(blockOf(WIN));
      cpu.mmap_read32(WIN + 0x100);
      expect(barStats(bus, '00:05.0/00.0', 0).reads).toBe(1);
      // Closing the window (memory decoding off on the bridge) hides the device and frees the block.
      cfgWrite(io, 0, 5, 0, COMMAND, 2, 0);
      expect(attachment.trapped().blocks).not.toContain(blockOf(WIN));
    });

    it('traps an ECAM window at attach and re-syncs after ECAM writes', async () => {
      const ECAM = 0xe0000000;
      const MEM = 0xe1000000;
      const topology: Topology = {
        segments: [{ segment: 0, ecam: { base: ECAM, buses: [0, 0] } }],
        devices: [{ bdf: '00:04.0', model: 'test-endpoint' }],
      };
      const { cpu, bus, attachment } = await rig(backend, {}, topology);
      expectFree(attachment, ECAM, MEM);
      expect(attachment.trapped().blocks).toEqual(range(blockOf(ECAM), 8));
      const cfg = ECAM + (4 << 15);
      expect(cpu.mmap_read32(cfg) >>> 0).toBe(0x00051b36);
      cpu.mmap_write32(cfg + 0x10, MEM);
      cpu.mmap_write8(cfg + COMMAND, CMD_MEM);
      expect(bus.configRead('00:04.0', 0x10, 4) >>> 0).toBe(MEM);
      expect(attachment.trapped().blocks).toEqual([...range(blockOf(ECAM), 8), blockOf(MEM)]);
      cpu.mmap_read32(MEM);
      expect(barStats(bus, '00:04.0', 0).reads).toBe(1);
    });
  });

  describe('conflicts', () => {
    it("leaves a BAR programmed over the local APIC block to v86 and reports it", async () => {
      const APIC = 0xfee00000;
      const { cpu, io, bus, attachment } = await rig(backend);
      const own = attachment.v86Ranges.find((r) => r.base === APIC);
      expect(own?.what).toBe('the local APIC page');
      const original = blockHandlers(cpu, blockOf(APIC));
      cfgWrite(io, 0, 4, 0, 0x10, 4, APIC);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MEM);
      expect(attachment.conflicts()).toEqual([{ space: 'mmio', region: regionName(bus, '00:04.0', 0), base: APIC, size: 0x1000 }]);
      expect(attachment.trapped().blocks).toEqual([]);
      expectSameBlock(cpu, blockOf(APIC), original);
      expect(() => cpu.mmap_read32(APIC)).not.toThrow();
      expect(barStats(bus, '00:04.0', 0)).toEqual({ reads: 0, writes: 0 });
      // Moved off it: the conflict is gone and the new place is vpci's.
      cfgWrite(io, 0, 4, 0, 0x10, 4, 0xe1000000);
      expect(attachment.conflicts()).toEqual([]);
      expect(attachment.trapped().blocks).toEqual([blockOf(0xe1000000)]);
    });

    it("leaves a BAR programmed over guest RAM to v86's RAM", async () => {
      const IN_RAM = 0x01000000;
      const { cpu, io, bus, attachment } = await rig(backend);
      const original = blockHandlers(cpu, blockOf(IN_RAM));
      cfgWrite(io, 0, 4, 0, 0x10, 4, IN_RAM);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MEM);
      expect(attachment.conflicts()).toEqual([{ space: 'mmio', region: regionName(bus, '00:04.0', 0), base: IN_RAM, size: 0x1000 }]);
      expect(attachment.trapped().blocks).toEqual([]);
      expectSameBlock(cpu, blockOf(IN_RAM), original);
    });

    it('leaves a BAR programmed over a block a v86 device registered to that device', async () => {
      const FB = 0xe8000000;
      const read8 = vi.fn(() => 0x42);
      const read32 = vi.fn(() => 0x42424242);
      const { cpu, io, bus, attachment } = await rig(backend, {}, v86Topology(), (c) => {
        c.io.mmap_register(FB, 0x40000, read8, () => {}, read32, () => {});
      });
      expect(attachment.v86Ranges).toContainEqual({ base: FB, size: 0x40000, what: expect.stringContaining('v86 device') });
      cfgWrite(io, 0, 4, 0, 0x10, 4, FB + 0x20000);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MEM);
      expect(attachment.conflicts()).toEqual([{ space: 'mmio', region: regionName(bus, '00:04.0', 0), base: FB + 0x20000, size: 0x1000 }]);
      expect(cpu.mmap_read32(FB + 0x20000)).toBe(0x42424242);
      expect(cpu.mmap_read8(FB + 0x20001)).toBe(0x42);
      expect(read32).toHaveBeenCalledOnce();
      expect(barStats(bus, '00:04.0', 0)).toEqual({ reads: 0, writes: 0 });
      expect(attachment.stats().mmioAccesses).toBe(0);
    });

    it("leaves v86's legacy ports (the PIT at 0x40-0x43, 0x43 write-only) to v86 under an I/O BAR", async () => {
      const { io, bus, attachment, portsBefore } = await rig(backend);
      expectSame(portsBefore[0x43].read8, io.empty_port_read8, 'port 0x43 read8');
      expect(portsBefore[0x43].write8 !== io.empty_port_write, 'port 0x43 write8 is the PIT\'s').toBe(true);
      cfgWrite(io, 0, 4, 0, 0x14, 4, 0x40);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_IO);
      expect(attachment.conflicts()).toEqual([{ space: 'io', region: regionName(bus, '00:04.0', 1), base: 0x40, size: 0x20 }]);
      for (const p of range(0x40, 4)) expectSame(io.ports[p], portsBefore[p], `port 0x${p.toString(16)}`);
      // The ports no v86 device uses are vpci's.
      expect(attachment.trapped().ports).toEqual([...range(0x44, 0x1c), 0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff]);
    });
  });

  describe('interrupts', () => {
    it("drive v86's PICs on the IRQ the PIIX3 PIRQ registers route each device's INTx to", async () => {
      let raise!: Mock<(irq: number) => void>;
      let lower!: Mock<(irq: number) => void>;
      const { io, bus, attachment } = await rig(backend, {}, v86Topology(), (cpu) => {
        raise = vi.fn<(irq: number) => void>();
        lower = vi.fn<(irq: number) => void>();
        cpu.device_raise_irq = raise;
        cpu.device_lower_irq = lower;
      });
      // PIRQ A-D = 10, 11, 5, 9 (distinct, so the swizzle shows).
      cfgWrite(io, 0, 1, 0, 0x60, 4, 0x09050b0a);
      // Device 4 INTA: PIRQ (4 - 1 + 0) & 3 = D.
      bus.interrupts.intx('00:04.0', true);
      expect(raise.mock.calls).toEqual([[9]]);
      expect(lower).not.toHaveBeenCalled();
      bus.interrupts.intx('00:04.0', false);
      expect(lower.mock.calls).toEqual([[9]]);
      // Device 2 INTA: PIRQ B; device 3 INTA: PIRQ C.
      bus.interrupts.intx('00:02.0', true);
      bus.interrupts.intx('00:03.0', true);
      expect(raise.mock.calls).toEqual([[9], [11], [5]]);
      // Rerouting PIRQ B moves the asserted line at once.
      cfgWrite(io, 0, 1, 0, 0x61, 1, 0x0e);
      expect(lower.mock.calls.at(-1)).toEqual([11]);
      expect(raise.mock.calls.at(-1)).toEqual([14]);
      expect(attachment.stats().lineChanges).toBe(raise.mock.calls.length + lower.mock.calls.length);
    });

    it('ignores lines above IRQ 15 and counts MSI messages as dropped', async () => {
      let raise!: Mock<(irq: number) => void>;
      const { io, bus, attachment } = await rig(backend, {}, v86Topology(), (cpu) => {
        raise = vi.fn<(irq: number) => void>();
        cpu.device_raise_irq = raise;
      });
      bus.interrupts.route(0, 4, 1, 20);
      bus.interrupts.intx('00:04.0', true);
      expect(raise).not.toHaveBeenCalled();
      expect(attachment.stats().lineChanges).toBe(0);
      // MSI on the test endpoint (capability at 0x48): address, data, enable, bus master.
      expect(cfgRead(io, 0, 4, 0, 0x48, 1)).toBe(0x05);
      cfgWrite(io, 0, 4, 0, 0x4c, 4, 0xfee00000);
      cfgWrite(io, 0, 4, 0, 0x54, 2, 0x41);
      cfgWrite(io, 0, 4, 0, 0x4a, 2, 0x0001);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      expect(bus.interrupts.msi('00:04.0', 0)).toBe('delivered');
      expect(attachment.stats().droppedMessages).toBe(1);
      expect(raise).not.toHaveBeenCalled();
    });

    it('leaves the sink alone with interrupts: false', async () => {
      const { emulator } = await loadV86();
      const bus = await createBus({ backend, topology: v86Topology() });
      const sink = new RecordingSink();
      bus.interrupts.setSink(sink);
      const attachment = attachToV86(emulator, bus, { interrupts: false });
      expect(bus.interrupts.sink).toBe(sink);
      // The embedder's own sink, set while attached, survives detach: the adapter never owned it.
      const later = new RecordingSink();
      bus.interrupts.setSink(later);
      attachment.detach();
      expect(bus.interrupts.sink).toBe(later);
    });

    it("detach takes down only its own sink: one the embedder set after attaching stays", async () => {
      const { bus, attachment } = await rig(backend);
      const later = new RecordingSink();
      bus.interrupts.setSink(later);
      attachment.detach();
      expect(bus.interrupts.sink).toBe(later);
    });
  });

  describe('DMA', () => {
    it("lands in v86's RAM and invalidates v86's compiled code there", async () => {
      let dirty!: Mock<(start: number, end: number) => void>;
      const { cpu, io, bus } = await rig(backend, {}, v86Topology(), (c) => {
        dirty = vi.fn<(start: number, end: number) => void>();
        c.jit_dirty_cache = dirty;
      });
      const bytes = Uint8Array.from(range(0, 300), (i) => (i * 7 + 3) & 0xff);
      expect(bus.dma.write('00:04.0', 0x1000, bytes), 'Bus Master Enable is still clear').toBe('bus-master-off');
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      expect(bus.dma.write('00:04.0', 0x1000, bytes)).toBe('ok');
      expect(v86Ram(cpu, 0x1000, bytes.length)).toEqual(bytes);
      expect(dirty.mock.calls).toEqual([[0x1000, 0x1000 + bytes.length]]);
      // Above 1 MiB (the second RAM piece): addresses are guest-physical, not offsets in the piece.
      expect(bus.dma.write('00:04.0', 0x200010, bytes.subarray(0, 16))).toBe('ok');
      expect(v86Ram(cpu, 0x200010, 16)).toEqual(bytes.subarray(0, 16));
      expect(dirty.mock.calls.at(-1)).toEqual([0x200010, 0x200020]);
      // Reads see what the guest's CPU wrote.
      v86Ram(cpu, 0x3000, 4).set([1, 2, 3, 4]);
      const into = new Uint8Array(4);
      expect(bus.dma.read('00:04.0', 0x3000, into)).toBe('ok');
      expect([...into]).toEqual([1, 2, 3, 4]);
    });

    it('refuses the legacy hole 0xA0000-0xFFFFF and addresses past the end of RAM', async () => {
      let dirty!: Mock<(start: number, end: number) => void>;
      const { cpu, io, bus } = await rig(backend, {}, v86Topology(), (c) => {
        dirty = vi.fn<(start: number, end: number) => void>();
        c.jit_dirty_cache = dirty;
      });
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      const before = v86Ram(cpu, 0xa0000, 16).slice();
      expect(bus.dma.write('00:04.0', 0xa0000, new Uint8Array(16).fill(0xaa))).toBe('outside-ram');
      expect(bus.dma.write('00:04.0', 0xffff0, new Uint8Array(16))).toBe('outside-ram');
      expect(bus.dma.write('00:04.0', 0x9fff8, new Uint8Array(16)), 'crossing into the hole').toBe('outside-ram');
      expect(bus.dma.write('00:04.0', MEMORY - 8, new Uint8Array(16))).toBe('outside-ram');
      expect(bus.dma.read('00:04.0', 0xc0000, new Uint8Array(4))).toBe('outside-ram');
      expect(v86Ram(cpu, 0xa0000, 16)).toEqual(before);
      expect(dirty).not.toHaveBeenCalled();
      // The edges are RAM.
      expect(bus.dma.write('00:04.0', 0x9fff0, new Uint8Array(16))).toBe('ok');
      expect(bus.dma.write('00:04.0', 0x100000, new Uint8Array(16))).toBe('ok');
      expect(bus.dma.write('00:04.0', MEMORY - 16, new Uint8Array(16))).toBe('ok');
    });

    it('gives vpci no RAM with ram: false', async () => {
      const { io, bus } = await rig(backend, { ram: false });
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      expect(bus.dma.write('00:04.0', 0x1000, new Uint8Array(4))).toBe('outside-ram');
    });
  });

  describe('detach', () => {
    it("gives back every port and block, the interrupt sink and the RAM", async () => {
      const { emulator, cpu, io } = await loadV86();
      const bus = await createBus({ backend, topology: v86Topology() });
      const sink = new RecordingSink();
      bus.interrupts.setSink(sink);
      const portsBefore = [...io.ports];
      const blocksBefore = [cpu.memory_map_read8, cpu.memory_map_write8, cpu.memory_map_read32, cpu.memory_map_write32].map((t) => [...t]);
      io.port_write32(0xcf8, 0x80001000); // v86's own bus, 00:02.0
      const v86Id = io.port_read32(0xcfc) >>> 0;
      const lines: string[] = [];
      const attachment = attachToV86(emulator, bus, { firmwareLog: (l) => lines.push(l) });

      cfgWrite(io, 0, 4, 0, 0x10, 4, 0xe1000000);
      cfgWrite(io, 0, 4, 0, 0x14, 4, 0xd000);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MEM | CMD_IO | CMD_MASTER);
      expect(attachment.trapped().blocks.length).toBe(1);
      expect(attachment.trapped().ports.length).toBe(5 + 0x20);
      expect(io.ports[0x402] !== portsBefore[0x402], 'port 0x402 wrapped').toBe(true);
      expect(bus.interrupts.sink).not.toBe(sink);
      expect(bus.dma.write('00:04.0', 0x1000, new Uint8Array(4))).toBe('ok');

      attachment.detach();
      expect(attachment.trapped()).toEqual({ ports: [], blocks: [] });
      const changedPorts = range(0, 0x10000).filter((p) => io.ports[p] !== portsBefore[p]);
      expect(changedPorts).toEqual([]);
      const tables = [cpu.memory_map_read8, cpu.memory_map_write8, cpu.memory_map_read32, cpu.memory_map_write32];
      tables.forEach((t, i) => {
        const changed = range(0, 2 ** 15).filter((b) => t[b] !== blocksBefore[i][b]);
        expect(changed, `table ${i}`).toEqual([]);
      });
      expect(bus.interrupts.sink).toBe(sink);
      bus.interrupts.intx('00:04.0', true);
      expect(sink.events.length).toBe(0); // PIRQs still disabled: nothing routed
      expect(bus.dma.write('00:04.0', 0x1000, new Uint8Array(4))).toBe('outside-ram');
      // v86's own PCI bus answers again.
      io.port_write32(0xcf8, 0x80001000);
      expect(io.port_read32(0xcfc) >>> 0).toBe(v86Id);
      // Config writes after detach no longer move anything in v86's tables.
      bus.configWrite('00:04.0', 0x10, 4, 0xe2000000);
      expect(attachment.trapped()).toEqual({ ports: [], blocks: [] });
      expect(() => attachment.detach()).not.toThrow();
    });

    it('after a detach, a second attach of the same bus works', async () => {
      const { emulator, io } = await loadV86();
      const bus = await createBus({ backend, topology: v86Topology() });
      attachToV86(emulator, bus).detach();
      const again = attachToV86(emulator, bus);
      expect(cfgRead(io, 0, 1, 0, 0, 4)).toBe(0x70008086);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      expect(bus.dma.write('00:04.0', 0x1000, new Uint8Array(4))).toBe('ok');
      again.detach();
    });
  });

  describe('the firmware debug port', () => {
    it("hands complete lines to firmwareLog, reads back 0xE9, and keeps v86's handler", async () => {
      let v86Writes = 0;
      const lines: string[] = [];
      const { io } = await rig(backend, { firmwareLog: (l) => lines.push(l) }, v86Topology(), (cpu) => {
        const entry = cpu.io.ports[0x402];
        const original = entry.write8;
        entry.write8 = function (this: unknown, v: number) { v86Writes++; original.call(this, v); };
      });
      for (const c of 'SeaBIOS\nhi') io.port_write8(0x402, c.charCodeAt(0));
      expect(lines).toEqual(['SeaBIOS']);
      io.port_write8(0x402, 0x0a);
      expect(lines).toEqual(['SeaBIOS', 'hi']);
      expect(v86Writes).toBe(11);
      expect(io.port_read8(0x402)).toBe(0xe9);
    });
  });

  describe('observer', () => {
    it('sees each access vpci served with its op, space, address, size and value', async () => {
      const seen: [string, string, number, number, number][] = [];
      const observer: AccessObserver = { access: (op, space, addr, size, value) => { seen.push([op, space, addr, size, value]); } };
      const { cpu, io } = await rig(backend, { observer });
      io.port_write32(0xcf8, 0x80000000);
      io.port_read32(0xcfc);
      io.port_read8(0xcfd);
      io.port_read16(0xcfe);
      cfgWrite(io, 0, 4, 0, 0x10, 4, 0xe1000000);
      cfgWrite(io, 0, 4, 0, COMMAND, 1, CMD_MEM);
      seen.length = 0;
      cpu.mmap_write32(0xe1000010, 0xdeadbeef);
      cpu.mmap_write8(0xe1000020, 0x7f);
      cpu.mmap_read32(0xe1000010);
      cpu.mmap_read8(0xe1000020);
      cpu.mmap_read32(0xe1010000); // in the trapped block, outside the BAR: still served (a master abort)
      expect(seen).toEqual([
        ['write', 'mmio', 0xe1000010, 4, 0xdeadbeef],
        ['write', 'mmio', 0xe1000020, 1, 0x7f],
        ['read', 'mmio', 0xe1000010, 4, 0],
        ['read', 'mmio', 0xe1000020, 1, 0],
        ['read', 'mmio', 0xe1010000, 4, 0xffffffff],
      ]);
    });

    it('sees config cycles in order, reads with the value the guest got', async () => {
      const seen: [string, string, number, number, number][] = [];
      const observer: AccessObserver = { access: (op, space, addr, size, value) => { seen.push([op, space, addr, size, value]); } };
      const { io } = await rig(backend, { observer });
      io.port_write32(0xcf8, 0x80000000);
      io.port_read32(0xcfc);
      io.port_read8(0xcfd);
      io.port_read16(0xcfe);
      io.port_write16(0xcfc + 0, 0x0000);
      io.port_read8(0xcf9); // v86's: not seen
      expect(seen).toEqual([
        ['write', 'io', 0xcf8, 4, 0x80000000],
        ['read', 'io', 0xcfc, 4, 0x12378086],
        ['read', 'io', 0xcfd, 1, 0x80],
        ['read', 'io', 0xcfe, 2, 0x1237],
        ['write', 'io', 0xcfc, 2, 0],
      ]);
    });

    it("hears of the RAM a device reads by DMA, at its guest-physical address", async () => {
      const dma: [number, number[]][] = [];
      const observer: AccessObserver = { access: () => {}, dmaRead: (gpa, bytes) => { dma.push([gpa, [...bytes]]); } };
      const { cpu, io, bus } = await rig(backend, { observer });
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      v86Ram(cpu, 0x200100, 3).set([9, 8, 7]);
      bus.dma.read('00:04.0', 0x200100, new Uint8Array(3));
      expect(dma).toEqual([[0x200100, [9, 8, 7]]]);
    });

    it('a V86Recorder records accesses and DMA reads', async () => {
      const recorder = new V86Recorder();
      const { cpu, io, bus } = await rig(backend, { observer: recorder });
      io.port_write32(0xcf8, 0x80000000);
      io.port_read32(0xcfc);
      cfgWrite(io, 0, 4, 0, COMMAND, 2, CMD_MASTER);
      v86Ram(cpu, 0x5000, 2).set([0xab, 0xcd]);
      bus.dma.read('00:04.0', 0x5000, new Uint8Array(2));
      expect(recorder.count).toBe(5);
      const events = recorder.eventList();
      expect(events[0]).toEqual({ op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n });
      expect(events[1]).toEqual({ op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12378086n });
      expect(events[4]).toEqual({ op: 'memwrite', addr: 0x5000n, data: Uint8Array.from([0xab, 0xcd]) });
      const capped = new V86Recorder({ maxEvents: 1 });
      capped.access('read', 'io', 0xcfc, 4, 0);
      capped.access('read', 'io', 0xcfc, 4, 0);
      expect(capped.count).toBe(1);
      expect(capped.truncated).toBe(true);
    });
  });
});

describe('attachToV86 refuses', () => {
  const withEcam = (base: number, buses: [number, number]): Topology => ({
    segments: [{ segment: 0, ecam: { base, buses } }],
    devices: [{ bdf: '00:04.0', model: 'test-endpoint' }],
  });

  it.each([
    { what: 'guest RAM', base: 0, buses: [0, 0] as [number, number], message: /0x0-0xfffff collides with 0x0-0x1ffffff, guest RAM/ },
    { what: 'the I/O APIC page', base: 0xfec00000, buses: [0, 0] as [number, number], message: /0xfec00000-0xfecfffff collides with 0xfec00000-0xfec1ffff, the I\/O APIC page/ },
    { what: 'the local APIC page', base: 0xfee00000, buses: [0, 0] as [number, number], message: /0xfee00000-0xfeefffff collides with 0xfee00000-0xfee1ffff, the local APIC page/ },
    { what: 'above 4 GiB', base: 0xfff00000, buses: [0, 1] as [number, number], message: /0xfff00000-0x1000fffff reaches above 4 GiB/ },
  ])('an ECAM window over $what, naming the range, and leaves v86 untouched', async ({ base, buses, message }) => {
    const { emulator, cpu, io } = await loadV86();
    const bus = await createBus({ backend: 'ts', topology: withEcam(base, buses) });
    const sink = new RecordingSink();
    bus.interrupts.setSink(sink);
    const portsBefore = [...io.ports];
    const blocksBefore = [...cpu.memory_map_read8];
    let error: unknown;
    try {
      attachToV86(emulator, bus);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('segments(0).ecam');
    for (const p of [0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x402]) expectSame(io.ports[p], portsBefore[p], `port 0x${p.toString(16)}`);
    expect(range(0, 2 ** 15).filter((b) => cpu.memory_map_read8[b] !== blocksBefore[b])).toEqual([]);
    expect(bus.interrupts.sink).toBe(sink);
    expect(() => bus.dma.ram(0)).toThrow(/no such RAM region/);
  });

  it('an emulator without the internals it needs, naming what is missing', async () => {
    const bus = await createBus({ backend: 'ts', topology: v86Topology() });
    expect(() => attachToV86({}, bus)).toThrow(/no v86\.cpu \(create it with autostart: false/);
    expect(() => attachToV86({ v86: {} }, bus)).toThrow(/no v86\.cpu /);
    expect(() => attachToV86({ v86: { cpu: {} } }, bus)).toThrow(/no v86\.cpu\.device_raise_irq\(\)/);
    const { cpu, io } = await loadV86();
    const portsBefore = [...io.ports];
    const without = (over: Record<string, PropertyDescriptor>) => ({ v86: { cpu: Object.create(cpu, over) as unknown } });
    expect(() => attachToV86(without({ jit_dirty_cache: { value: undefined } }), bus)).toThrow(/no v86\.cpu\.jit_dirty_cache\(\)/);
    expect(() => attachToV86(without({ io: { value: Object.create(io, { mmap_register: { value: undefined } }) } }), bus))
      .toThrow(/no v86\.cpu\.io\.mmap_register\(\)/);
    expect(() => attachToV86(without({ io: { value: Object.create(io, { ports: { value: [] } }) } }), bus))
      .toThrow(/no v86\.cpu\.io\.ports table of 65,536 entries/);
    expect(() => attachToV86(without({ memory_map_read32: { value: undefined } }), bus)).toThrow(/no v86\.cpu\.memory_map_read32 table/);
    expect(() => attachToV86(without({ wasm_memory: { value: new ArrayBuffer(8) } }), bus)).toThrow(/no v86\.cpu\.wasm_memory/);
    for (const p of [0xcf8, 0xcfc]) expectSame(io.ports[p], portsBefore[p], `port 0x${p.toString(16)}`);
  });
});
