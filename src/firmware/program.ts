// Writes an allocation into config space: BARs, ROM BARs, bridge windows, Command and Interrupt
// Line. Nothing here decides anything; enumerate.ts has done that before the first write.
import type { Allocation, AssignedWindow } from './allocate/index.js';
import type { ConfigAccess } from './config-access.js';
import { Command, Reg } from '../config/index.js';
import { PciRoot } from './pci-root.js';
import type { ScanNode } from './scan.js';

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);

/**
 * A bridge's window registers (PCI-to-PCI Bridge 1.2 §3.2.5.6-9). A closed window has its base
 * above its limit. The low nibbles (addressing type) are read-only and keep their values.
 */
export function writeWindow(access: ConfigAccess, bdf: string, w: AssignedWindow): void {
  const open = w.size > 0n;
  const last = w.base + w.size - 1n;
  if (w.kind === 'io') {
    access.configWrite(bdf, Reg.IO_BASE, 1, open ? Number((w.base >> 8n) & 0xf0n) : 0xf0);
    access.configWrite(bdf, Reg.IO_LIMIT, 1, open ? Number((last >> 8n) & 0xf0n) : 0x00);
    access.configWrite(bdf, Reg.IO_BASE_UPPER16, 2, open ? Number((w.base >> 16n) & 0xffffn) : 0);
    access.configWrite(bdf, Reg.IO_LIMIT_UPPER16, 2, open ? Number((last >> 16n) & 0xffffn) : 0);
  } else if (w.kind === 'mem') {
    access.configWrite(bdf, Reg.MEMORY_BASE, 2, open ? Number((w.base >> 16n) & 0xfff0n) : 0xfff0);
    access.configWrite(bdf, Reg.MEMORY_LIMIT, 2, open ? Number((last >> 16n) & 0xfff0n) : 0);
  } else {
    access.configWrite(bdf, Reg.PREF_MEMORY_BASE, 2, open ? Number((w.base >> 16n) & 0xfff0n) : 0xfff0);
    access.configWrite(bdf, Reg.PREF_MEMORY_LIMIT, 2, open ? Number((lo32(last) >>> 16) & 0xfff0) : 0);
    access.configWrite(bdf, Reg.PREF_BASE_UPPER32, 4, open ? hi32(w.base) : 0xffffffff);
    access.configWrite(bdf, Reg.PREF_LIMIT_UPPER32, 4, open ? hi32(last) : 0);
  }
}

export interface ProgramPlan {
  allocation: Allocation;
  nodes: Map<string, ScanNode>;
  /** Interrupt Line per bdf (functions with an interrupt pin). */
  lines: Map<string, number>;
  /** Kinds of the BARs each function keeps at the address they held (not in the allocation). */
  kept: Map<string, string[]>;
}

/**
 * Programs BARs and windows with decode off, then turns decode on: IO Space for functions with IO
 * BARs (bridges: an open IO window), Memory Space for memory BARs or ROMs (bridges: an open memory
 * or prefetchable window), Bus Master for every function that has a BAR and for bridges (they must
 * forward their devices' DMA upstream). The seed sets all three on every function; vpci sets what
 * the function uses, as SeaBIOS does.
 */
export function programAllocation(access: ConfigAccess, plan: ProgramPlan): void {
  const root = new PciRoot(access);
  for (const fa of plan.allocation.functions) {
    const node = plan.nodes.get(fa.bdf)!;
    const [, command] = root.getStatusCommand(node.f);
    root.setCommand(node.f, command & ~(Command.IO_SPACE | Command.MEMORY_SPACE));
    for (const bar of fa.bars) {
      if (bar.kind === 'rom') root.setRom(node.f, Number(bar.base));
      else if (bar.kind === 'mem64') root.setBar64(node.f, bar.index, bar.base);
      else root.setBar32(node.f, bar.index, Number(bar.base));
    }
  }
  for (const b of plan.allocation.bridges) for (const w of b.windows) writeWindow(access, b.bdf, w);
  const bridges = new Map(plan.allocation.bridges.map((b) => [b.bdf, b]));
  const allocated = new Map(plan.allocation.functions.map((f) => [f.bdf, f]));
  for (const [bdf, node] of plan.nodes) {
    const line = plan.lines.get(bdf);
    if (line !== undefined) access.configWrite(bdf, Reg.INTERRUPT_LINE, 1, line);
    let enable = 0;
    const bars = [...(allocated.get(bdf)?.bars.map((b) => b.kind) ?? []), ...(plan.kept.get(bdf) ?? [])];
    if (bars.includes('io')) enable |= Command.IO_SPACE;
    if (bars.some((k) => k !== 'io')) enable |= Command.MEMORY_SPACE;
    if (bars.length > 0) enable |= Command.BUS_MASTER;
    const bridge = bridges.get(bdf);
    if (bridge) {
      for (const w of bridge.windows) {
        if (w.size === 0n) continue;
        enable |= w.kind === 'io' ? Command.IO_SPACE : Command.MEMORY_SPACE;
      }
      enable |= Command.BUS_MASTER;
    }
    if (enable === 0) continue;
    const [, command] = root.getStatusCommand(node.f);
    root.setCommand(node.f, command | enable);
  }
}
