// The reference model: what the bus should do, written from the documented rules (README "Access
// rules", "Dispatch rules", docs/limits.md, the PCI and PCI-to-PCI bridge specifications), without
// the cores' code. It keeps its own copy of every function's config space and predicts:
//   - which function a config cycle reaches (ECAM, 0xCF8/0xCFC, bus numbers of the bridges),
//   - every config byte after a write (the write and write-1-to-clear masks),
//   - the value of every config read,
//   - where each BAR, ROM, MSI-X table and PBA is mapped (Command decode bits, valid addresses,
//     bridge windows, 64-bit BARs staged until their upper dword is written), and the BAR effects,
//   - which guest RAM a function may write by DMA (Bus Master Enable up the tree, its IOMMU domain),
//     and what an embedder DMA transfer returns,
//   - power states (PCI Bus PM 1.2): PowerState is PMCSR bits 1:0 of the PM capability; a function
//     not in D0 decodes no BAR or ROM and does no DMA, a bridge in D3hot forwards nothing downstream
//     (and no DMA upstream), a write of an unsupported D1/D2 leaves PowerState as it was.
// The checks (twin.ts) compare the cores against it.
import type { AccessStep } from './steps.js';
import type { FunctionLayout, Layout } from './layout.js';

const TWO32 = 4294967296;
const TWO52 = 2 ** 52;
const TWO48 = 2 ** 48;
const PAGE = 4096;
const ECAM_BUS = 0x100000;
/** PMCSR PowerState values (PCI Bus PM 1.2 §3.2.4); 1 and 2 are D1 and D2. */
const D0 = 0;
const D3HOT = 3;

/** A config transaction a guest access turned into: one dword-contained 1/2/4-byte access. */
export interface ConfigTx {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  reg: number;
  size: number;
  write: boolean;
  value: number;
  /** The function it reaches (model routing), or -1. */
  target: number;
}

/** How the model sees a guest access. */
export type Decoded =
  | { kind: 'config'; txs: ConfigTx[]; size: number; /** 8-byte ECAM reads: two dwords. */ pair: boolean }
  | { kind: 'latch'; write: boolean; size: number; offset: number; value: number }
  | { kind: 'invalid' }
  | { kind: 'other'; space: 'mmio' | 'io'; addr: number };

/** A BAR mapping as the model expects it. */
export interface Mapping {
  mapped: boolean;
  base: bigint;
}

export interface ExpectedRegion {
  space: 'mmio' | 'io';
  base: bigint;
  size: bigint;
  fn: number;
  bar: number;
  kind: 'bar' | 'msix-table' | 'msix-pba';
}

export interface ExpectedEffect {
  fn: number;
  bar: number;
  kind: string;
  oldBase: bigint | null;
  newBase: bigint | null;
  size: bigint;
}

interface DomainModel {
  kind: 'identity' | 'blocked' | 'translated';
  /** 4 KiB page number -> guest-physical page base and permissions. */
  pages: Map<number, { gpa: number; read: boolean; write: boolean }>;
}

/** What a transfer should do: its result and, when 'ok', where its bytes go. */
export interface DmaPrediction {
  /** 'argument': the call is refused with an ArgumentError (a bus address or length out of range). */
  result: 'ok' | 'bus-master-off' | 'blocked' | 'unmapped' | 'permission' | 'outside-ram' | 'argument';
  /** Guest-physical pieces in transfer order. */
  spans: { gpa: number; length: number }[];
}

const cfg16 = (c: Uint8Array, o: number) => c[o] | (c[o + 1] << 8);
const cfg32 = (c: Uint8Array, o: number) => (c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24)) >>> 0;

function isInteger(v: number | bigint): boolean {
  return typeof v === 'bigint' || Number.isInteger(v);
}

export class RefModel {
  /** Each function's config space as the model expects it. */
  readonly cfg: Uint8Array[];
  /** CONFIG_ADDRESS (0xCF8) as latched. */
  latch = 0;
  /** Per function, per entry of `layout.bars`: where the BAR is mapped now. */
  readonly applied: Mapping[][];
  /** Effects since the last `takeEffects`. */
  private effects: ExpectedEffect[] = [];
  private routed = false;
  /** Current bus number per function (-1: no config cycle reaches it). */
  private readonly busNumber: Int16Array;
  /** seg<<16 | bus<<8 | devfn -> function index. */
  private readonly byAddress = new Map<number, number>();
  private readonly children: number[][];
  readonly domains = new Map<number, DomainModel>([[0, { kind: 'identity', pages: new Map() }]]);
  readonly attached: number[];
  /**
   * Per function: the offset of its power-management capability, 0 when it has none. Found once,
   * in the config bytes as the bus loads them (the capability list is read-only to the guest).
   */
  readonly pmCap: number[];

  /** The RAM regions by index, as the embedder added and removed them. */
  readonly ram = new Map<number, { base: number; size: number }>();

  constructor(readonly layout: Layout, ram: { base: number; size: number }[]) {
    ram.forEach((r, i) => this.ram.set(i, r));
    const fs = layout.functions;
    this.cfg = fs.map((f) => f.config.slice());
    // README "Access rules": function 0's multi-function bit follows the functions present.
    const where = (f: FunctionLayout) => `${f.parent < 0 ? `${f.seg}:${f.bus}` : `below ${f.parent}`}:${f.dev}`;
    for (const f of fs) {
      if (f.fn !== 0) continue;
      const others = fs.some((g) => g !== f && where(g) === where(f));
      this.cfg[f.index][0x0e] = others ? this.cfg[f.index][0x0e] | 0x80 : this.cfg[f.index][0x0e] & 0x7f;
    }
    // An occupied hot-plug slot comes up with its power indicator on (Slot Control PIC 01b), set by
    // the slot's controller at power-on as QEMU's pcie_cap_slot_reset does.
    for (const f of fs) {
      const p = f.pcie;
      if (p === undefined || (f.config[p + 3] & 0x01) === 0 || (f.config[p + 0x14] & 0x40) === 0) continue;
      if (fs.some((c) => c.parent === f.index)) this.cfg[f.index][p + 0x19] = (this.cfg[f.index][p + 0x19] & ~0x03) | 0x01;
    }
    this.busNumber = new Int16Array(fs.length).fill(-1);
    this.children = fs.map((f) => fs.filter((c) => c.parent === f.index).map((c) => c.index)
      .sort((a, b) => (fs[a].dev * 8 + fs[a].fn) - (fs[b].dev * 8 + fs[b].fn)));
    this.attached = fs.map(() => 0);
    this.pmCap = fs.map((f) => findPmCapability(this.cfg[f.index]));
    this.applied = fs.map((f) => f.bars.map(() => ({ mapped: false, base: 0n })));
    // What createBus maps at once (BARs with an address and decode on in the loaded planes): the
    // effects the bus reports before the first step.
    for (const f of fs) this.refreshFunction(f.index);
  }

  // ---- Config routing (PCI-to-PCI Bridge 1.2 §3.2.5.3; README "Bridges and root ports") -------

  /**
   * Root buses answer their own numbers. A bridge on a bus that config cycles reach claims its
   * secondary number when it lies inside the range its own bus forwards, is not above its
   * subordinate, and no bus answers it yet (root buses first, then bridges by dev.fn, depth
   * first); the functions below it answer there, and its own bridges get [secondary,
   * min(subordinate, range end)].
   */
  private route(): void {
    if (this.routed) return;
    this.routed = true;
    const fs = this.layout.functions;
    this.busNumber.fill(-1);
    this.byAddress.clear();
    const segs = [...new Set(fs.map((f) => f.seg))].sort((a, b) => a - b);
    for (const seg of segs) {
      const taken = new Set<number>();
      const roots = fs.filter((f) => f.parent < 0 && f.seg === seg);
      const buses = [...new Set(roots.map((f) => f.bus))].sort((a, b) => a - b);
      for (const b of buses) taken.add(b);
      for (const b of buses) {
        const onBus = roots.filter((f) => f.bus === b).sort((x, y) => (x.dev * 8 + x.fn) - (y.dev * 8 + y.fn));
        for (const f of onBus) this.place(f.index, b);
        this.routeBelow(onBus.map((f) => f.index), 0, 255, taken);
      }
    }
  }

  private place(fn: number, bus: number): void {
    const f = this.layout.functions[fn];
    this.busNumber[fn] = bus;
    this.byAddress.set((f.seg << 16) | (bus << 8) | (f.dev << 3) | f.fn, fn);
  }

  private routeBelow(onBus: number[], lo: number, hi: number, taken: Set<number>): void {
    for (const b of onBus) {
      if (!this.isBridge(b)) continue;
      const c = this.cfg[b];
      const secondary = c[0x19];
      const subordinate = c[0x1a];
      if (secondary < lo || secondary > hi || secondary > subordinate || taken.has(secondary)) continue;
      taken.add(secondary);
      for (const child of this.children[b]) this.place(child, secondary);
      this.routeBelow(this.children[b], secondary, Math.min(subordinate, hi), taken);
    }
  }

  private isBridge(fn: number): boolean {
    return (this.cfg[fn][0x0e] & 0x7f) === 1;
  }

  /** The function a config cycle to seg:bus:dev.fn reaches now, or -1. */
  functionAt(seg: number, bus: number, dev: number, fn: number): number {
    this.route();
    return this.byAddress.get((seg << 16) | (bus << 8) | (dev << 3) | fn) ?? -1;
  }

  /** Where a function answers config cycles now, or undefined. */
  addressOf(fn: number): { seg: number; bus: number; dev: number; fn: number } | undefined {
    this.route();
    const b = this.busNumber[fn];
    if (b < 0) return undefined;
    const f = this.layout.functions[fn];
    return { seg: f.seg, bus: b, dev: f.dev, fn: f.fn };
  }

  // ---- Decoding guest accesses (README "Access rules") ------------------------------------------

  /** What a guest access is: config cycles, the CONFIG_ADDRESS latch, invalid, or something else. */
  decode(s: { op: 'read' | 'write'; space: 'mmio' | 'io'; addr: number | bigint; size: number; value?: number | bigint }): Decoded {
    const write = s.op === 'write';
    if (s.space === 'io') {
      if (!(s.size === 1 || s.size === 2 || s.size === 4)) return { kind: 'invalid' };
      const a = s.addr;
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= 2 ** 64) return { kind: 'invalid' };
      const port = a > 0xffffffff ? 0x10000 : a;
      const value = write ? lowBytes(s.value ?? 0, s.size) : 0;
      if (port >= 0xcf8 && port <= 0xcfb) return { kind: 'latch', write, size: s.size, offset: port - 0xcf8, value };
      if (port >= 0xcfc && port <= 0xcff) {
        const offset = port - 0xcfc;
        const l = this.latch;
        if ((l & 0x80000000) === 0 || offset + s.size > 4) return { kind: 'config', txs: [], size: s.size, pair: false };
        const tx = this.tx(0, (l >>> 16) & 0xff, (l >>> 11) & 0x1f, (l >>> 8) & 7, (l & 0xfc) + offset, s.size, write, value);
        return { kind: 'config', txs: [tx], size: s.size, pair: false };
      }
      return { kind: 'other', space: 'io', addr: port };
    }
    if (!(s.size === 1 || s.size === 2 || s.size === 4 || s.size === 8)) return { kind: 'invalid' };
    let addr: number;
    if (typeof s.addr === 'bigint') {
      if (s.addr < 0n || s.addr >= 1n << 64n) return { kind: 'invalid' };
      addr = s.addr >= 1n << 52n ? TWO52 : Number(s.addr);
    } else {
      if (!isInteger(s.addr) || s.addr < 0 || s.addr >= 2 ** 64) return { kind: 'invalid' };
      addr = s.addr;
    }
    for (const w of this.layout.ecam) {
      const end = w.base + (w.busEnd - w.busStart + 1) * ECAM_BUS;
      if (addr < w.base || addr >= end) continue;
      const offset = addr - w.base;
      const bus = w.busStart + Math.floor(offset / ECAM_BUS);
      const dev = Math.floor(offset / 0x8000) & 0x1f;
      const fn = Math.floor(offset / 0x1000) & 7;
      const reg = offset % 0x1000;
      if (s.size === 8) {
        if ((reg & 7) !== 0) return { kind: 'config', txs: [], size: 8, pair: true };
        const [lo, hi] = write ? halves(s.value ?? 0) : [0, 0];
        return {
          kind: 'config', size: 8, pair: true,
          txs: [this.tx(w.seg, bus, dev, fn, reg, 4, write, lo), this.tx(w.seg, bus, dev, fn, reg + 4, 4, write, hi)],
        };
      }
      return { kind: 'config', size: s.size, pair: false, txs: [this.tx(w.seg, bus, dev, fn, reg, s.size, write, write ? lowBytes(s.value ?? 0, s.size) : 0)] };
    }
    return { kind: 'other', space: 'mmio', addr };
  }

  private tx(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, write: boolean, value: number): ConfigTx {
    return { seg, bus, dev, fn, reg, size, write, value, target: -1 };
  }

  /**
   * Runs a decoded access against the model: applies writes, returns the value a read should
   * return (bigint for 8 bytes) and the bits of it that the model cannot know (bits the core
   * changes by itself: see `volatileBits`).
   */
  run(d: Decoded): { value?: bigint; unknown?: bigint } {
    if (d.kind === 'latch') {
      if (d.write) {
        if (d.offset === 0 && d.size === 4) this.latch = (d.value & 0x80fffffc) >>> 0;
        return {};
      }
      return { value: BigInt(d.offset === 0 && d.size === 4 ? this.latch : ones(d.size)) };
    }
    if (d.kind !== 'config') return {};
    if (d.txs.length === 0) return { value: d.pair ? (1n << 64n) - 1n : BigInt(ones(d.size)) };
    let value = 0n;
    let unknown = 0n;
    d.txs.forEach((t, i) => {
      t.target = this.functionAt(t.seg, t.bus, t.dev, t.fn);
      const shift = BigInt(32 * i);
      if (t.write) {
        if (t.target >= 0) this.write(t.target, t.reg, t.size, t.value);
        return;
      }
      const r = this.read(t.target, t.reg, t.size);
      value |= BigInt(r.value) << shift;
      unknown |= BigInt(r.unknown) << shift;
    });
    return d.txs[0].write ? {} : { value, unknown };
  }

  /** A config read of a function (-1: none answers). */
  read(fn: number, reg: number, size: number): { value: number; unknown: number } {
    const performed = (size === 1 || size === 2 || size === 4) && (reg & 3) + size <= 4;
    if (fn < 0 || !performed || reg >= this.layout.functions[fn].size) return { value: ones(size), unknown: 0 };
    let value = 0;
    let unknown = 0;
    const c = this.cfg[fn];
    const vol = this.volatileBits(fn);
    for (let i = size - 1; i >= 0; i--) {
      value = value * 256 + c[reg + i];
      unknown = unknown * 256 + (vol.get(reg + i) ?? 0);
    }
    return { value, unknown };
  }

  /**
   * Config bits the core changes without a config write, which the model does not follow: Status
   * bit 3 Interrupt Status (a device model's INTx level, PCI 3.0 §6.2.3) and the MSI Pending Bits
   * register (set when a masked vector is signalled, cleared when it is sent, §6.8.1.7). Everything
   * else changes only through config writes and the masks.
   */
  volatileBits(fn: number): Map<number, number> {
    const out = new Map<number, number>([[0x06, 0x08]]);
    const f = this.layout.functions[fn];
    const msi = f.msi;
    if (msi?.perVectorMask) for (let i = 0; i < 4; i++) out.set(msi.pendingReg + i, 0xff);
    // A hot-plug slot's controller (src/devices/hotplug) sets Slot Status events and DLL Link
    // Active itself (PCIe Base 6.0 §6.7.3), in answer to Slot Control writes and cards coming and going.
    const p = f.pcie;
    if (p !== undefined && (f.config[p + 3] & 0x01) !== 0 && (f.config[p + 0x14] & 0x40) !== 0) {
      for (const o of [p + 0x12, p + 0x13, p + 0x1a, p + 0x1b]) out.set(o, 0xff);
    }
    return out;
  }

  /** A config write reaching function `fn` (one dword-contained transaction). */
  write(fn: number, reg: number, size: number, value: number): void {
    const f = this.layout.functions[fn];
    if (!((size === 1 || size === 2 || size === 4) && (reg & 3) + size <= 4) || reg >= f.size) return;
    const c = this.cfg[fn];
    const pm = this.pmCap[fn];
    const stateBefore = pm !== 0 ? c[pm + 4] & 3 : D0;
    for (let i = 0; i < size; i++) {
      const v = Math.floor(value / 2 ** (8 * i)) & 0xff;
      const wm = f.wmask[reg + i];
      const w1 = f.w1cmask[reg + i];
      c[reg + i] = ((c[reg + i] & ~wm) | (v & wm)) & ~(v & w1) & 0xff;
    }
    this.afterWrite(fn, reg, size);
    if (pm !== 0 && reg >>> 2 === (pm + 4) >>> 2) this.afterPmcsrWrite(fn, pm, stateBefore);
  }

  /**
   * A guest wrote the PMCSR dword (PCI Bus PM 1.2 §3.2.4); `before` is PowerState before the write.
   * A D1 or D2 that PMC does not support (bits 9 and 10) is discarded: PowerState keeps its old
   * value, the write's other bits stay. Otherwise entering or leaving D0 re-applies the function's
   * BARs and ROM (as a Command write does: a 64-bit BAR's staged lower dword counts from now), and a
   * bridge entering or leaving D3hot re-applies every BAR below it.
   */
  private afterPmcsrWrite(fn: number, pm: number, before: number): void {
    const c = this.cfg[fn];
    const after = c[pm + 4] & 3;
    if (after === before) return;
    const pmc = cfg16(c, pm + 2);
    if ((after === 1 && (pmc & 0x200) === 0) || (after === 2 && (pmc & 0x400) === 0)) {
      c[pm + 4] = (c[pm + 4] & ~3) | before;
      return;
    }
    if ((before === D0) !== (after === D0)) this.refreshFunction(fn);
    if ((before === D3HOT) !== (after === D3HOT) && this.isBridge(fn)) this.refreshBelow(fn);
  }

  /** PMCSR PowerState of a function (0 D0, 1 D1, 2 D2, 3 D3hot); D0 without a PM capability. */
  powerState(fn: number): number {
    const pm = this.pmCap[fn];
    return pm === 0 ? D0 : this.cfg[fn][pm + 4] & 3;
  }

  /**
   * README "Dispatch rules": a write to Command or to a 32-bit/IO/ROM BAR re-applies at once; a
   * 64-bit BAR moves when its upper dword is written (its lower dword alone is staged); a
   * bridge's Command and windows re-apply every BAR below it; its bus numbers re-route.
   */
  private afterWrite(fn: number, reg: number, size: number): void {
    const f = this.layout.functions[fn];
    const touches = (lo: number, hi: number) => reg <= hi && reg + size - 1 >= lo;
    const dword = reg >>> 2;
    if (touches(4, 5)) {
      this.refreshFunction(fn);
      if (f.bridge) this.refreshBelow(fn);
      return;
    }
    if (f.bridge && dword === 6) {
      this.routed = false;
      return;
    }
    if (f.bridge && dword >= 7 && dword <= 12) {
      this.refreshBelow(fn);
      return;
    }
    f.bars.forEach((b, i) => {
      if (b.kind === 'mem64') {
        if (dword === (b.reg >>> 2) + 1) this.refreshBar(fn, i);
      } else if (dword === b.reg >>> 2) {
        this.refreshBar(fn, i);
      }
    });
  }

  private refreshFunction(fn: number): void {
    this.layout.functions[fn].bars.forEach((_b, i) => this.refreshBar(fn, i));
  }

  private refreshBelow(bridge: number): void {
    for (const child of this.children[bridge]) {
      this.refreshFunction(child);
      this.refreshBelow(child);
    }
  }

  /** Where a BAR should be mapped per its config bytes now (README "Dispatch rules"). */
  target(fn: number, i: number): Mapping {
    const f = this.layout.functions[fn];
    const b = f.bars[i];
    const c = this.cfg[fn];
    const command = cfg16(c, 4);
    const none = { mapped: false, base: 0n };
    // PCI Bus PM 1.2 §5.3: in D1-D3hot a function answers config cycles only.
    if (this.powerState(fn) !== D0) return none;
    let base: bigint;
    let limit: bigint;
    if (b.kind === 'io') {
      if ((command & 1) === 0) return none;
      base = BigInt((cfg32(c, b.reg) & 0xfffffffc) >>> 0);
      limit = 0x10000n;
    } else if (b.kind === 'mem32') {
      if ((command & 2) === 0) return none;
      base = BigInt((cfg32(c, b.reg) & 0xfffffff0) >>> 0);
      limit = 0xffffffffn;
    } else if (b.kind === 'mem64') {
      if ((command & 2) === 0) return none;
      base = (BigInt(cfg32(c, b.reg + 4)) << 32n) | BigInt((cfg32(c, b.reg) & 0xfffffff0) >>> 0);
      limit = 1n << 52n;
    } else {
      const rom = cfg32(c, b.reg);
      if ((command & 2) === 0 || (rom & 1) === 0) return none;
      base = BigInt((rom & 0xfffff800) >>> 0);
      limit = 0xffffffffn;
    }
    if (base === 0n || base + b.size > limit) return none;
    if (!this.forwarded(fn, b.kind === 'io', base, b.size)) return none;
    return { mapped: true, base };
  }

  /**
   * Whether every bridge above `fn` forwards [base, base + size) downstream (PCI-to-PCI Bridge 1.2
   * §3.2.5.6-9): it is not in D3hot (then it forwards config cycles only; D1 and D2 still forward),
   * its decode bit is on and the range lies wholly inside its IO window, or inside its memory or
   * prefetchable memory window.
   */
  forwarded(fn: number, io: boolean, base: bigint, size: bigint): boolean {
    const inside = (lo: bigint, hi: bigint) => lo <= hi && base >= lo && base + size - 1n <= hi;
    for (let p = this.layout.functions[fn].parent; p >= 0; p = this.layout.functions[p].parent) {
      const c = this.cfg[p];
      if ((c[0x0e] & 0x7f) !== 1) return false;
      if (this.powerState(p) === D3HOT) return false;
      if (io) {
        if ((c[4] & 1) === 0) return false;
        const io32 = (c[0x1c] & 0xf) === 1;
        const lo = BigInt((c[0x1c] & 0xf0) << 8) + (io32 ? BigInt(cfg16(c, 0x30)) << 16n : 0n);
        const hi = BigInt(((c[0x1d] & 0xf0) << 8) | 0xfff) + (io32 ? BigInt(cfg16(c, 0x32)) << 16n : 0n);
        if (!inside(lo, hi)) return false;
        continue;
      }
      if ((c[4] & 2) === 0) return false;
      const memLo = BigInt(cfg16(c, 0x20) & 0xfff0) << 16n;
      const memHi = (BigInt(cfg16(c, 0x22) & 0xfff0) << 16n) | 0xfffffn;
      if (inside(memLo, memHi)) continue;
      const p64 = (c[0x24] & 0xf) === 1;
      const prefLo = (BigInt(cfg16(c, 0x24) & 0xfff0) << 16n) + (p64 ? BigInt(cfg32(c, 0x28)) << 32n : 0n);
      const prefHi = ((BigInt(cfg16(c, 0x26) & 0xfff0) << 16n) | 0xfffffn) + (p64 ? BigInt(cfg32(c, 0x2c)) << 32n : 0n);
      if (!inside(prefLo, prefHi)) return false;
    }
    return true;
  }

  private refreshBar(fn: number, i: number): void {
    const t = this.target(fn, i);
    const a = this.applied[fn][i];
    if (a.mapped === t.mapped && (!t.mapped || a.base === t.base)) return;
    const b = this.layout.functions[fn].bars[i];
    this.effects.push({
      fn, bar: b.index, kind: b.kind, oldBase: a.mapped ? a.base : null, newBase: t.mapped ? t.base : null, size: b.size,
    });
    a.mapped = t.mapped;
    a.base = t.base;
  }

  takeEffects(): ExpectedEffect[] {
    const e = this.effects;
    this.effects = [];
    return e;
  }

  /** Where BAR index `bar` (6 = ROM) of a function is mapped now, if it is. */
  barBase(fn: number, bar: number): bigint | undefined {
    const i = this.layout.functions[fn].bars.findIndex((b) => b.index === bar);
    if (i < 0) return undefined;
    const a = this.applied[fn][i];
    return a.mapped ? a.base : undefined;
  }

  /** The BAR, ROM, MSI-X table and PBA regions that should be mapped now. */
  expectedRegions(): ExpectedRegion[] {
    const out: ExpectedRegion[] = [];
    for (const f of this.layout.functions) {
      f.bars.forEach((b, i) => {
        const a = this.applied[f.index][i];
        if (a.mapped) out.push({ space: b.kind === 'io' ? 'io' : 'mmio', base: a.base, size: b.size, fn: f.index, bar: b.index, kind: 'bar' });
      });
      const m = f.msix;
      if (m) {
        const t = this.barBase(f.index, m.tableBar);
        if (t !== undefined) out.push({ space: 'mmio', base: t + BigInt(m.tableOffset), size: BigInt(m.entries * 16), fn: f.index, bar: m.tableBar, kind: 'msix-table' });
        const p = this.barBase(f.index, m.pbaBar);
        if (p !== undefined) out.push({ space: 'mmio', base: p + BigInt(m.pbaOffset), size: BigInt(Math.ceil(m.entries / 64) * 8), fn: f.index, bar: m.pbaBar, kind: 'msix-pba' });
      }
    }
    return out;
  }

  /** The functions with a BAR mapped over `addr` (whose device models an access there can reach). */
  ownersAt(space: 'mmio' | 'io', addr: number): number[] {
    const out: number[] = [];
    const a = BigInt(Math.floor(addr));
    for (const f of this.layout.functions) {
      f.bars.forEach((b, i) => {
        const m = this.applied[f.index][i];
        if (m.mapped && (b.kind === 'io') === (space === 'io') && a >= m.base && a < m.base + b.size && !out.includes(f.index)) out.push(f.index);
      });
    }
    return out;
  }

  // ---- DMA (README "Embedding", docs/limits.md "DMA translator") --------------------------------

  /**
   * Bus Master Enable on the function and on every bridge above it (PCI-to-PCI Bridge 1.2 §3.2.2);
   * the function in D0 (PCI Bus PM 1.2 §5.3: in D1-D3hot it initiates nothing) and no bridge above
   * it in D3hot (its secondary bus is off; in D1 or D2 it still forwards).
   */
  mastering(fn: number): boolean {
    if (this.powerState(fn) !== D0) return false;
    for (let s = fn; s >= 0; s = this.layout.functions[s].parent) {
      if ((this.cfg[s][4] & 4) === 0) return false;
      if (s !== fn && this.powerState(s) === D3HOT) return false;
    }
    return true;
  }

  private ramAt(gpa: number): { base: number; size: number } | undefined {
    for (const r of this.ram.values()) if (gpa >= r.base && gpa < r.base + r.size) return r;
    return undefined;
  }

  /** Whether addRam should take the region (docs/limits.md "RAM region shape": 4 KiB aligned, no overlap). */
  ramAccepts(base: number, size: number, external: boolean): boolean {
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < 0 || size <= 0 || base % PAGE !== 0 || size % PAGE !== 0) return false;
    if (base + size > TWO52 || (!external && size > 2 ** 30 - PAGE) || this.ram.size >= 64) return false;
    for (const r of this.ram.values()) if (base < r.base + r.size && r.base < base + size) return false;
    return true;
  }

  /** What a transfer of the elements should do (validated whole: all or nothing). */
  predict(fn: number, write: boolean, list: readonly [number, number][]): DmaPrediction {
    const spans: DmaPrediction['spans'] = [];
    // docs/limits.md "numbers in DMA calls", "bytes per transfer": integers in [0, 2^64), 1 MiB.
    const u64 = (v: number) => v >= 0 && v < 2 ** 64 && Math.floor(v) === v;
    if (list.some(([iova, len]) => !u64(iova) || !Number.isInteger(len) || len < 0 || len > 1 << 20) ||
      list.reduce((n, [, len]) => n + len, 0) > 1 << 20) return { result: 'argument', spans };
    if (list.every(([, len]) => len === 0)) return { result: 'ok', spans };
    if (!this.mastering(fn)) return { result: 'bus-master-off', spans };
    const dom = this.domains.get(this.attached[fn])!;
    if (dom.kind === 'blocked') return { result: 'blocked', spans };
    for (const [iova, len] of list) {
      let pos = iova;
      let left = len;
      while (left > 0) {
        let gpa: number;
        let room: number;
        if (dom.kind === 'identity') {
          if (pos >= TWO52) return { result: 'outside-ram', spans };
          gpa = pos;
          room = left;
        } else {
          if (pos >= TWO48) return { result: 'unmapped', spans };
          const page = dom.pages.get(Math.floor(pos / PAGE));
          if (!page) return { result: 'unmapped', spans };
          if (write ? !page.write : !page.read) return { result: 'permission', spans };
          gpa = page.gpa + (pos % PAGE);
          room = PAGE - (pos % PAGE);
        }
        const r = this.ramAt(gpa);
        if (!r) return { result: 'outside-ram', spans };
        const n = Math.min(left, room, r.base + r.size - gpa);
        const last = spans[spans.length - 1];
        if (last && last.gpa + last.length === gpa) last.length += n;
        else spans.push({ gpa, length: n });
        pos += n;
        left -= n;
      }
    }
    return { result: 'ok', spans };
  }

  /** Guest-physical ranges a function may write by DMA now. */
  writable(fn: number): { base: number; end: number }[] {
    if (!this.mastering(fn)) return [];
    const dom = this.domains.get(this.attached[fn])!;
    if (dom.kind === 'blocked') return [];
    if (dom.kind === 'identity') return [...this.ram.values()].map((r) => ({ base: r.base, end: r.base + r.size }));
    const out: { base: number; end: number }[] = [];
    for (const p of dom.pages.values()) if (p.write) out.push({ base: p.gpa, end: p.gpa + PAGE });
    return out;
  }

  /** Whether the core should accept the call (the calls' documented checks). */
  dmaAccepts(op: 'map' | 'unmap' | 'destroy' | 'attach', a: { domain: number; iova?: number; gpa?: number; size?: number; read?: boolean; write?: boolean }): boolean {
    const dom = this.domains.get(a.domain);
    if (op === 'attach') return dom !== undefined;
    if (op === 'destroy') return a.domain !== 0 && dom !== undefined && !this.attached.includes(a.domain);
    if (!dom || dom.kind !== 'translated') return false;
    const { iova = 0, gpa = 0, size = 0 } = a;
    if (![iova, gpa, size].every((v) => Number.isInteger(v) && v >= 0)) return false;
    if (size <= 0 || iova % PAGE !== 0 || size % PAGE !== 0 || iova >= TWO48 || size > TWO48 - iova) return false;
    if (op === 'unmap') return true;
    if (!(a.read || a.write) || gpa % PAGE !== 0 || gpa >= TWO52 || size > TWO52 - gpa) return false;
    const first = iova / PAGE;
    const end = (iova + size) / PAGE;
    if (end - first > dom.pages.size) {
      for (const p of dom.pages.keys()) if (p >= first && p < end) return false;
    } else {
      for (let p = first; p < end; p++) if (dom.pages.has(p)) return false;
    }
    return true;
  }

  /** Follows a call the core accepted. Returns unmap's byte count. */
  dmaApply(op: 'create' | 'map' | 'unmap' | 'destroy' | 'attach' | 'detach', a: { domain?: number; kind?: DomainModel['kind']; fn?: number; iova?: number; gpa?: number; size?: number; read?: boolean; write?: boolean }): number {
    switch (op) {
      case 'create': this.domains.set(a.domain!, { kind: a.kind!, pages: new Map() }); return 0;
      case 'destroy': this.domains.delete(a.domain!); return 0;
      case 'attach': this.attached[a.fn!] = a.domain!; return 0;
      case 'detach': this.attached[a.fn!] = 0; return 0;
      case 'map': {
        const pages = this.domains.get(a.domain!)!.pages;
        for (let k = 0; k < a.size! / PAGE; k++) pages.set(a.iova! / PAGE + k, { gpa: a.gpa! + k * PAGE, read: !!a.read, write: !!a.write });
        return 0;
      }
      case 'unmap': {
        const pages = this.domains.get(a.domain!)!.pages;
        let bytes = 0;
        if (pages.size < a.size! / PAGE) {
          for (const k of [...pages.keys()]) {
            if (k >= a.iova! / PAGE && k < (a.iova! + a.size!) / PAGE) { pages.delete(k); bytes += PAGE; }
          }
        } else {
          for (let k = a.iova! / PAGE; k < (a.iova! + a.size!) / PAGE; k++) if (pages.delete(k)) bytes += PAGE;
        }
        return bytes;
      }
    }
  }

  /** The function layouts (for the generator). */
  get functions(): FunctionLayout[] {
    return this.layout.functions;
  }
}

/**
 * The power-management capability (ID 01h) of a function's config bytes, or 0: the first in the
 * standard list from 0x34 (Status bit 4 set), at most 48 hops, pointers masked to dwords, a pointer
 * below 0x40 ending the list (PCI 3.0 §6.7). One whose PMCSR would lie past byte 256 (at 0xFC) is
 * none, and the walk does not go on past it.
 */
export function findPmCapability(c: Uint8Array): number {
  if ((cfg16(c, 0x06) & 0x10) === 0) return 0;
  let ptr = c[0x34] & 0xfc;
  for (let hops = 0; ptr >= 0x40 && hops < 48; hops++) {
    if (c[ptr] === 0x01) return ptr + 8 > 0x100 ? 0 : ptr;
    ptr = c[ptr + 1] & 0xfc;
  }
  return 0;
}

/** All ones for a config access of `size` bytes (1, 2, 4; other sizes a dword). */
export function ones(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/** The low `size` bytes of a value as the bus passes it on (numbers: `>>> 0` first, as the Bus does). */
function lowBytes(v: number | bigint, size: number): number {
  if (typeof v === 'bigint') return Number(BigInt.asUintN(size * 8 > 32 ? 32 : size * 8, v));
  const n = v >>> 0;
  return size === 4 ? n : n & ((1 << (8 * size)) - 1);
}

/** An 8-byte value's halves as `Bus.mmioWrite` passes them to the core. */
function halves(v: number | bigint): [number, number] {
  if (typeof v === 'bigint') return [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
  return [v >>> 0, Math.floor(v / TWO32) >>> 0];
}

export { TWO32 };
