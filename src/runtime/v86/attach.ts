// attachToV86: puts a vpci bus in place of v86's own PCI bus. The guest's config cycles
// (0xCF8-0xCFF) go to vpci; the ports and 128 KiB MMIO blocks vpci's BARs, bridge windows and ECAM
// windows cover are trapped and follow every change the guest makes; device DMA reaches v86's RAM
// (invalidating v86's compiled code where it writes); INTx lines drive v86's 8259 PICs.
// The library comes in through its entry: dist/v86.js imports it as the package 'vpci' (one copy
// of every class, so instanceof holds for errors thrown here).
import type { Bus, InterruptSink } from '../../index.js';
import { BLOCKS, BLOCK_SHIFT, checkTopologyForV86, unmappedHandler, v86OwnRanges } from './v86-ranges.js';
import type { V86Range } from './v86-ranges.js';
import { v86Cpu } from './v86-internals.js';
import type { V86Cpu, V86Emulator, V86PortEntry } from './v86-internals.js';

/** What the adapter reports of each guest access vpci served (a recorder takes these). */
export interface AccessObserver {
  /** A completed access: `value` is what a read returned or what a write carried. */
  access(op: 'read' | 'write', space: 'mmio' | 'io', addr: number, size: 1 | 2 | 4, value: number): void;
  /** Guest RAM a device read by DMA during the access being served (before `access` reports it). */
  dmaRead?(gpa: number, bytes: Uint8Array): void;
}

/** Options of attachToV86. */
export interface V86AttachOptions {
  /** Give vpci v86's RAM for DMA (default true). */
  ram?: boolean;
  /** Deliver vpci's interrupts into v86 (default true): replaces the bus's interrupt sink. */
  interrupts?: boolean;
  /** Told of every access vpci served (e.g. a V86Recorder). */
  observer?: AccessObserver;
  /**
   * Lines the firmware writes to its debug port 0x402 (SeaBIOS's log), v86's own logging kept. The
   * port then reads 0xE9, as QEMU's debugcon does, or SeaBIOS would stop writing to it.
   */
  firmwareLog?: (line: string) => void;
}

/** A range of vpci's that v86 serves itself (the guest programmed a BAR over it). */
export interface V86Conflict {
  space: 'mmio' | 'io';
  /** The vpci region ("00:02.0 BAR 4"). */
  region: string;
  base: number;
  size: number;
}

/** Counters of the adapter. */
export interface V86AdapterStats {
  configAccesses: number;
  mmioAccesses: number;
  ioAccesses: number;
  /** Interrupt line changes delivered to v86's PICs. */
  lineChanges: number;
  /** MSI/MSI-X messages dropped: v86 has no APIC to take them (its guests do not enable MSI). */
  droppedMessages: number;
  /** Times the trapped ports and blocks were brought in line with vpci's regions. */
  syncs: number;
}

/** What attachToV86 returns: the state of the attachment and `detach`. */
export interface V86Attachment {
  readonly bus: Bus;
  /** Guest-physical ranges v86 serves itself (vpci never gets them). */
  readonly v86Ranges: readonly V86Range[];
  /** The adapter's counters. */
  stats(): V86AdapterStats;
  /** vpci regions the guest put where v86 serves itself (their accesses reach v86, not vpci). */
  conflicts(): V86Conflict[];
  /** Ports and MMIO blocks trapped now. */
  trapped(): { ports: number[]; blocks: number[] };
  /** Hands everything back to v86 (ports, blocks, RAM, the interrupt sink). */
  detach(): void;
}

// 0xCF9 stays v86's: it is the PIIX3 reset control register there, not part of the config mechanism.
const CONFIG_PORTS = [0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff];
const DEBUG_PORT = 0x402;
const DEBUGCON_READBACK = 0xe9;
/** Conventional RAM ends at 640 KiB; 0xA0000-0xFFFFF is VGA memory and ROM in v86, not DMA targets. */
const LOW_RAM_END = 0xa0000;
const HIGH_RAM_START = 0x100000;
const NUM_IRQS = 16;

/**
 * Attaches `bus` to a v86 emulator in place of v86's own PCI bus. Call it after the emulator's
 * "emulator-loaded" event and before it runs (create it with `autostart: false`). Throws when the
 * emulator lacks an internal the adapter needs, and TopologyError when the bus's ECAM window
 * collides with a range v86 serves itself.
 */
export function attachToV86(emulator: V86Emulator, bus: Bus, options: V86AttachOptions = {}): V86Attachment {
  const cpu = v86Cpu(emulator);
  const unmapped = unmappedHandler(cpu);
  const own = v86OwnRanges(cpu, unmapped);
  checkTopologyForV86(bus.topology, own);
  return new Attachment(cpu, bus, own, unmapped, options);
}

class Attachment implements V86Attachment {
  private readonly counters: V86AdapterStats = { configAccesses: 0, mmioAccesses: 0, ioAccesses: 0, lineChanges: 0, droppedMessages: 0, syncs: 0 };
  /** v86's entries of the ports the adapter took, to give back. */
  private readonly savedPorts = new Map<number, V86PortEntry>();
  /** Trapped blocks, with v86's handlers to give back. */
  private readonly savedBlocks = new Map<number, [V86Cpu['memory_map_read8'][number], V86Cpu['memory_map_write8'][number], V86Cpu['memory_map_read32'][number], V86Cpu['memory_map_write32'][number]]>();
  private readonly portEntries = new Map<number, V86PortEntry>();
  private conflictList: V86Conflict[] = [];
  private readonly ramIndexes: number[] = [];
  private readonly previousSink: InterruptSink | undefined;
  /** The sink delivering to v86's PICs, when `interrupts` is on. */
  private readonly ownSink: InterruptSink | undefined;
  private readonly ecam: { base: number; end: number }[];
  private readonly io: V86Cpu['io'];
  /** v86's entry of the firmware debug port, when wrapped. */
  private savedDebug: V86PortEntry | undefined;
  private readonly observer: AccessObserver | undefined;
  private attached = true;

  // MMIO handlers shared by every trapped block: v86 passes addresses as signed 32-bit numbers.
  private readonly mmioRead8 = (addr: number): number => this.mmio('read', addr >>> 0, 1, 0);
  private readonly mmioWrite8 = (addr: number, value: number): void => { this.mmio('write', addr >>> 0, 1, value & 0xff); };
  private readonly mmioRead32 = (addr: number): number => this.mmio('read', addr >>> 0, 4, 0) | 0;
  private readonly mmioWrite32 = (addr: number, value: number): void => { this.mmio('write', addr >>> 0, 4, value >>> 0); };

  constructor(
    private readonly cpu: V86Cpu,
    readonly bus: Bus,
    readonly v86Ranges: readonly V86Range[],
    private readonly unmapped: (addr: number) => number,
    options: V86AttachOptions,
  ) {
    this.io = cpu.io;
    this.observer = options.observer;
    this.ecam = bus.topology.segments.flatMap((s) => (s.ecam ? [{ base: s.ecam.base, end: s.ecam.base + (s.ecam.busEnd - s.ecam.busStart + 1) * 2 ** 20 }] : []));
    for (const port of CONFIG_PORTS) this.takePort(port);
    if (options.firmwareLog) this.wrapDebugPort(options.firmwareLog);
    if (options.ram !== false) this.addRam();
    this.previousSink = bus.interrupts.sink;
    if (options.interrupts !== false) {
      this.ownSink = {
        line: (gsi, level) => {
          if (gsi >= NUM_IRQS) return;
          this.counters.lineChanges++;
          if (level) this.cpu.device_raise_irq(gsi);
          else this.cpu.device_lower_irq(gsi);
        },
        message: () => { this.counters.droppedMessages++; },
      };
      bus.interrupts.setSink(this.ownSink);
    }
    this.sync();
  }

  /** v86's RAM below 640 KiB and from 1 MiB up, for DMA; writes invalidate v86's compiled code there. */
  private addRam(): void {
    const size = this.cpu.memory_size[0];
    const view = (base: number, length: number) => () => new Uint8Array(this.cpu.wasm_memory.buffer, this.cpu.mem8.byteOffset + base, length);
    const pieces = [{ base: 0, size: Math.min(size, LOW_RAM_END) }, { base: HIGH_RAM_START, size: size - HIGH_RAM_START }];
    for (const p of pieces) {
      if (p.size <= 0) continue;
      const bytes = view(p.base, p.size);
      const observer = this.observer;
      this.ramIndexes.push(this.bus.dma.addRam({
        base: p.base, size: p.size, buffer: bytes,
        onWrite: (offset, length) => this.cpu.jit_dirty_cache(p.base + offset, p.base + offset + length),
        onRead: observer?.dmaRead ? (offset, length) => observer.dmaRead!(p.base + offset, bytes().subarray(offset, offset + length)) : undefined,
      }));
    }
  }

  private mmio(op: 'read' | 'write', addr: number, size: 1 | 4, value: number): number {
    this.counters.mmioAccesses++;
    if (op === 'read') {
      const v = this.bus.mmioRead(addr, size);
      this.observer?.access('read', 'mmio', addr, size, v);
      return v;
    }
    this.bus.mmioWrite(addr, size, value);
    this.observer?.access('write', 'mmio', addr, size, value);
    // A write into an ECAM window is a config write: BARs and windows may have moved.
    if (this.ecam.length !== 0 && this.ecam.some((w) => addr >= w.base && addr < w.end)) this.sync();
    return 0;
  }

  private ioAccess(op: 'read' | 'write', port: number, size: 1 | 2 | 4, value: number): number {
    const config = port === 0xcf8 || (port >= 0xcfc && port <= 0xcff);
    if (config) this.counters.configAccesses++;
    else this.counters.ioAccesses++;
    if (op === 'read') {
      const v = this.bus.ioRead(port, size);
      this.observer?.access('read', 'io', port, size, v);
      return v;
    }
    this.bus.ioWrite(port, size, value);
    this.observer?.access('write', 'io', port, size, value);
    // Only a config data write can move a BAR or window (a device's own ports above 0xCFC cannot).
    if (config && port >= 0xcfc) this.sync();
    return 0;
  }

  /** The port table entry that sends a port's accesses to vpci (made once per port). */
  private entryFor(port: number): V86PortEntry {
    let e = this.portEntries.get(port);
    if (e === undefined) {
      e = {
        read8: () => this.ioAccess('read', port, 1, 0),
        read16: () => this.ioAccess('read', port, 2, 0),
        read32: () => this.ioAccess('read', port, 4, 0) | 0,
        write8: (v) => { this.ioAccess('write', port, 1, v & 0xff); },
        write16: (v) => { this.ioAccess('write', port, 2, v & 0xffff); },
        write32: (v) => { this.ioAccess('write', port, 4, v >>> 0); },
        device: this,
      };
      this.portEntries.set(port, e);
    }
    return e;
  }

  private takePort(port: number): void {
    if (!this.savedPorts.has(port)) this.savedPorts.set(port, this.io.ports[port]);
    this.io.ports[port] = this.entryFor(port);
  }

  private releasePort(port: number): void {
    const saved = this.savedPorts.get(port);
    if (saved === undefined) return;
    this.io.ports[port] = saved;
    this.savedPorts.delete(port);
  }

  /**
   * A port no v86 device registered: both directions still v86's empty handlers (register_read and
   * register_write each set all three widths of their direction, so read8 and write8 tell). A
   * write-only port (the PIT's 0x43, the RTC's 0x70) has an empty read8 but is v86's.
   */
  private portIsFree(port: number): boolean {
    if (this.savedPorts.has(port)) return true;
    const e = this.io.ports[port];
    return e.read8 === this.io.empty_port_read8 && e.write8 === this.io.empty_port_write;
  }

  private takeBlock(block: number): void {
    const c = this.cpu;
    if (!this.savedBlocks.has(block)) {
      this.savedBlocks.set(block, [c.memory_map_read8[block], c.memory_map_write8[block], c.memory_map_read32[block], c.memory_map_write32[block]]);
    }
    c.memory_map_read8[block] = this.mmioRead8;
    c.memory_map_write8[block] = this.mmioWrite8;
    c.memory_map_read32[block] = this.mmioRead32;
    c.memory_map_write32[block] = this.mmioWrite32;
  }

  private releaseBlock(block: number): void {
    const saved = this.savedBlocks.get(block);
    if (saved === undefined) return;
    const c = this.cpu;
    [c.memory_map_read8[block], c.memory_map_write8[block], c.memory_map_read32[block], c.memory_map_write32[block]] = saved;
    this.savedBlocks.delete(block);
  }

  private blockIsFree(block: number): boolean {
    if (this.savedBlocks.has(block)) return true;
    if (this.cpu.memory_map_read8[block] !== this.unmapped) return false;
    const base = block * 2 ** BLOCK_SHIFT;
    return !this.v86Ranges.some((r) => base < r.base + r.size && r.base < base + 2 ** BLOCK_SHIFT);
  }

  /**
   * Brings the trapped ports and blocks in line with vpci's regions: takes what the regions now
   * cover (where v86 has nothing of its own), gives back what they no longer cover.
   */
  private sync(): void {
    if (!this.attached) return;
    this.counters.syncs++;
    const wantPorts = new Set<number>(CONFIG_PORTS);
    const wantBlocks = new Set<number>();
    const conflicts: V86Conflict[] = [];
    for (const r of this.bus.regions()) {
      // The config mechanism's own ports are taken above: 0xCF9-0xCFB stay v86's.
      if (r.kind === 'cf8' || r.kind === 'cfc') continue;
      const base = Number(r.base);
      const size = Number(r.size);
      if (r.space === 'io') {
        let clash = false;
        for (let p = base; p < Math.min(base + size, 0x10000); p++) {
          if (wantPorts.has(p)) continue;
          if (this.portIsFree(p)) wantPorts.add(p);
          else clash = true;
        }
        if (clash) conflicts.push({ space: 'io', region: r.name, base, size });
      } else {
        if (base >= 2 ** 32) continue;
        let clash = false;
        const last = Math.min(base + size - 1, 2 ** 32 - 1);
        for (let b = Math.floor(base / 2 ** BLOCK_SHIFT); b <= Math.floor(last / 2 ** BLOCK_SHIFT) && b < BLOCKS; b++) {
          if (wantBlocks.has(b)) continue;
          if (this.blockIsFree(b)) wantBlocks.add(b);
          else clash = true;
        }
        if (clash) conflicts.push({ space: 'mmio', region: r.name, base, size });
      }
    }
    for (const p of [...this.savedPorts.keys()]) if (!wantPorts.has(p)) this.releasePort(p);
    for (const b of [...this.savedBlocks.keys()]) if (!wantBlocks.has(b)) this.releaseBlock(b);
    for (const p of wantPorts) if (this.io.ports[p] !== this.portEntries.get(p)) this.takePort(p);
    for (const b of wantBlocks) if (this.cpu.memory_map_read8[b] !== this.mmioRead8) this.takeBlock(b);
    this.conflictList = conflicts;
  }

  /** Keeps v86's handler of the firmware debug port and hands each complete line to `log`. */
  private wrapDebugPort(log: (line: string) => void): void {
    const entry = this.io.ports[DEBUG_PORT];
    const original = entry.write8;
    let line = '';
    const wrapped = { ...entry };
    // QEMU's debugcon reads back 0xE9: SeaBIOS keeps logging to the port only when it does.
    wrapped.read8 = () => DEBUGCON_READBACK;
    wrapped.write8 = function (this: unknown, value: number) {
      original.call(entry.device, value);
      if (value === 0x0a) {
        log(line);
        line = '';
      } else {
        line += String.fromCharCode(value & 0xff);
      }
    };
    this.savedDebug = entry;
    this.io.ports[DEBUG_PORT] = wrapped;
  }

  stats(): V86AdapterStats {
    return { ...this.counters };
  }

  conflicts(): V86Conflict[] {
    return this.conflictList.map((c) => ({ ...c }));
  }

  trapped(): { ports: number[]; blocks: number[] } {
    return { ports: [...this.savedPorts.keys()].sort((a, b) => a - b), blocks: [...this.savedBlocks.keys()].sort((a, b) => a - b) };
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    for (const p of [...this.savedPorts.keys()]) this.releasePort(p);
    for (const b of [...this.savedBlocks.keys()]) this.releaseBlock(b);
    if (this.savedDebug) this.io.ports[DEBUG_PORT] = this.savedDebug;
    for (const i of this.ramIndexes) this.bus.dma.removeRam(i);
    // Only our own sink is taken down: with `interrupts: false`, or after the embedder set another
    // sink, the sink now set is theirs.
    if (this.ownSink !== undefined && this.bus.interrupts.sink === this.ownSink) this.bus.interrupts.setSink(this.previousSink);
  }
}
