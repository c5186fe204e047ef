// The parts of a v86 emulator (npm package `v86`, checked against 0.5.462) the adapter relies on.
// None of them is v86's documented API: they are the fields and methods its own devices use, so
// the adapter checks each exists before touching anything and names what is missing when a v86
// version moved them. docs/v86.md lists them with what each is used for.

/** A port handler table entry: v86 calls readN(port) and writeN(value) with the entry's device as `this`. */
export interface V86PortEntry {
  /** A 1-byte `in` from the port. */
  read8: (port: number) => number;
  /** A 2-byte `in` starting at the port. */
  read16: (port: number) => number;
  /** A 4-byte `in` starting at the port. */
  read32: (port: number) => number;
  /** A 1-byte `out` to the port (v86 passes no port number to writes). */
  write8: (value: number) => void;
  /** A 2-byte `out` starting at the port. */
  write16: (value: number) => void;
  /** A 4-byte `out` starting at the port. */
  write32: (value: number) => void;
  /** The `this` of the handlers. */
  device: unknown;
}

/** `cpu.io`: the port table and the MMIO block registration. */
export interface V86Io {
  /** The 65,536 port entries. */
  ports: V86PortEntry[];
  /** How v86 devices install read handlers (checked present; the adapter edits `ports` itself). */
  register_read(port: number, device: object, r8?: (port: number) => number, r16?: (port: number) => number, r32?: (port: number) => number): void;
  /** How v86 devices install write handlers (checked present). */
  register_write(port: number, device: object, w8?: (value: number) => void, w16?: (value: number) => void, w32?: (value: number) => void): void;
  /** Serves [addr, addr + size) (128 KiB blocks) with the four functions; addresses arrive as signed 32-bit numbers. */
  mmap_register(addr: number, size: number, r8: (addr: number) => number, w8: (addr: number, value: number) => void,
    r32?: (addr: number) => number, w32?: (addr: number, value: number) => void): void;
  /** A port entry of v86's empty handlers. */
  create_empty_entry(): V86PortEntry;
  /** The handlers of a port no device registered (compared by identity to find free ports). */
  empty_port_read8: (port: number) => number;
  /** The write handler of a port no device registered. */
  empty_port_write: (value: number) => void;
}

/** `emulator.v86.cpu`: what the adapter touches. */
export interface V86Cpu {
  /** The port table and MMIO registration. */
  io: V86Io;
  /** Guest RAM size in bytes (a one-element typed array). */
  memory_size: ArrayLike<number>;
  /** The WebAssembly.Memory guest RAM lives in (at `mem8.byteOffset`). */
  wasm_memory: WebAssembly.Memory;
  /** A proxy over guest RAM that re-creates its view when the memory grows; has byteOffset. */
  mem8: { byteOffset: number };
  /** The MMIO handlers by 128 KiB block (index = address >>> 17). */
  memory_map_read8: ((addr: number) => number)[];
  /** Byte write handlers by block. */
  memory_map_write8: ((addr: number, value: number) => void)[];
  /** Dword read handlers by block. */
  memory_map_read32: ((addr: number) => number)[];
  /** Dword write handlers by block. */
  memory_map_write32: ((addr: number, value: number) => void)[];
  /** Raises ISA IRQ line `irq` of the 8259 PICs. */
  device_raise_irq(irq: number): void;
  /** Lowers ISA IRQ line `irq`. */
  device_lower_irq(irq: number): void;
  /** Drops compiled code for guest-physical [start, end): required after writing guest RAM. */
  jit_dirty_cache(start: number, end: number): void;
}

/** What attachToV86 accepts as the emulator: a V86 instance after `emulator-loaded`, or its `v86` object. */
export interface V86Emulator {
  /** v86's machine object; its `cpu` appears once the emulator has loaded. */
  v86?: { cpu?: unknown };
}

const FUNCTIONS: readonly string[] = ['device_raise_irq', 'device_lower_irq', 'jit_dirty_cache'];
const IO_FUNCTIONS: readonly string[] = ['register_read', 'register_write', 'mmap_register', 'create_empty_entry', 'empty_port_read8', 'empty_port_write'];
const BLOCK_TABLES: readonly string[] = ['memory_map_read8', 'memory_map_write8', 'memory_map_read32', 'memory_map_write32'];

/**
 * The v86 CPU object of an emulator, checked: every internal the adapter uses must be there.
 * Throws an Error naming the first one missing (the emulator not loaded yet, or a v86 version
 * that moved it).
 */
export function v86Cpu(emulator: V86Emulator): V86Cpu {
  const cpu = (emulator as { v86?: { cpu?: Record<string, unknown> } })?.v86?.cpu;
  const fail = (what: string): never => {
    throw new Error(`attachToV86: the emulator has no ${what} (create it with autostart: false and attach after its "emulator-loaded" event; checked against v86 0.5.462)`);
  };
  if (cpu === undefined || cpu === null || typeof cpu !== 'object') return fail('v86.cpu');
  for (const f of FUNCTIONS) if (typeof cpu[f] !== 'function') fail(`v86.cpu.${f}()`);
  const io = cpu.io as Record<string, unknown> | undefined;
  if (!io || typeof io !== 'object') return fail('v86.cpu.io');
  for (const f of IO_FUNCTIONS) if (typeof io[f] !== 'function') fail(`v86.cpu.io.${f}()`);
  if (!Array.isArray(io.ports) || io.ports.length !== 0x10000) fail('v86.cpu.io.ports table of 65,536 entries');
  for (const t of BLOCK_TABLES) if (!Array.isArray(cpu[t])) fail(`v86.cpu.${t} table`);
  const size = (cpu.memory_size as ArrayLike<number> | undefined)?.[0];
  if (typeof size !== 'number' || size <= 0) fail('v86.cpu.memory_size');
  if (!(cpu.wasm_memory instanceof WebAssembly.Memory)) fail('v86.cpu.wasm_memory');
  if (typeof (cpu.mem8 as { byteOffset?: unknown } | undefined)?.byteOffset !== 'number') fail('v86.cpu.mem8.byteOffset');
  return cpu as unknown as V86Cpu;
}
