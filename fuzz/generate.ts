// The step generator: random and structure-aware guest and embedder actions. It aims at what the
// topology has (BARs, Command, bridges' bus numbers and windows, power states, MSI and MSI-X
// capabilities, virtio structures, the test device's registers) wherever the guest has put them
// now (it asks the reference model where BARs are mapped and where functions answer), and mixes in
// garbage: random registers, unaligned and invalid sizes, hostile numbers, garbage descriptors in
// guest RAM, DMA domains churned under the devices. Deterministic for a seed and the model's state.
import type { ConfigAccess } from '../src/firmware/index.js';
import { runFirmware } from '../src/firmware/index.js';
import { createBus } from '../src/bus.js';
import type { ResolvedTopology } from '../src/topology/index.js';
import type { BarLayout, FunctionLayout, Layout } from './layout.js';
import type { RefModel } from './model.js';
import { Rng } from './rng.js';
import type { AccessStep, BatchStep, DmaStep, IrqStep, Step } from './steps.js';
import { bytesHex } from './steps.js';
import { RAM } from './env.js';

const TWO32 = 4294967296;

/**
 * Where RAM comes and goes (addRam/removeRam steps): above 8 GiB; right after RAM region 2
 * (transfers then run across the boundary); over region 0 (refused: overlap); misaligned (refused).
 */
const HOT_RAM = [
  { base: 0x2_0000_0000, size: 0x4000 },
  { base: RAM[2].base + RAM[2].size, size: 0x4000 },
  { base: 0x80000, size: 0x4000 },
  { base: 0x2_0000_0800, size: 0x4000 },
];

/**
 * The config writes firmware makes to enumerate the topology (bus numbers, BARs, windows,
 * Command, Interrupt Line), recorded on a scratch bus and replayed as ECAM writes: the prologue of
 * most episodes, so that devices are reachable and mapped before the chaos starts.
 */
export async function firmwareSteps(topology: ResolvedTopology, layout: Layout): Promise<Step[]> {
  const scratch = await createBus({ backend: 'ts', topology });
  const ecam = layout.ecam.find((w) => w.seg === 0);
  const steps: Step[] = [];
  const access: ConfigAccess = {
    configRead: (bdf, offset, size) => scratch.configRead(bdf, offset, size),
    configWrite: (bdf, offset, size, value) => {
      scratch.configWrite(bdf, offset, size, value);
      const m = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(bdf);
      if (!m || !ecam || Number.parseInt(m[1] ?? '0', 16) !== 0) return;
      const addr = ecam.base + ((Number.parseInt(m[2], 16) - ecam.busStart) << 20) + (Number.parseInt(m[3], 16) << 15) + (Number(m[4]) << 12) + offset;
      steps.push({ k: 'access', op: 'write', space: 'mmio', addr, size, value: value >>> 0, why: 'firmware' });
    },
  };
  runFirmware(access, { policy: 'largest-first' });
  return steps;
}

/** Per virtio device: the queue the generator set up last (its driver-side bookkeeping). */
interface QueueState {
  size: number;
  desc: number;
  avail: number;
  used: number;
  /** The avail idx the generator last published. */
  idx: number;
}

export class Generator {
  private readonly rng: Rng;
  private readonly fs: FunctionLayout[];
  private readonly queues = new Map<string, QueueState>();

  constructor(seed: number, private readonly layout: Layout, private readonly model: RefModel) {
    this.rng = new Rng(seed);
    this.fs = layout.functions;
  }

  /** The next action: one or a few steps. */
  next(): Step[] {
    const r = this.rng;
    const action = r.weighted<() => Step[]>([
      [26, () => this.configAccess()],
      [7, () => this.barProgram()],
      [5, () => this.commandFlip()],
      [5, () => this.bridgeProgram()],
      [3, () => this.powerProgram()],
      [4, () => this.msiProgram()],
      [6, () => this.msixProgram()],
      [16, () => this.mmioDevice()],
      [2, () => this.virtioBringup()],
      [8, () => this.virtioKick()],
      [5, () => this.testDeviceDma()],
      [4, () => this.randomAccess()],
      [3, () => this.ioAccess()],
      [3, () => this.batch()],
      [9, () => this.dmaChurn()],
      [4, () => this.irqChurn()],
      [2, () => this.ramGarbage()],
      [3, () => this.busConfig()],
    ]);
    return action();
  }

  // ---- Helpers --------------------------------------------------------------------------------

  private fnWith(pred: (f: FunctionLayout) => boolean): FunctionLayout | undefined {
    const list = this.fs.filter(pred);
    return list.length ? this.rng.pick(list) : undefined;
  }

  private cfgValue(fn: number, reg: number, size: number): number {
    const c = this.model.cfg[fn];
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (c[reg + i] ?? 0);
    return v;
  }

  /**
   * A config access to function `fn` (or, with fn -1, to a random address), through ECAM or
   * 0xCF8/0xCFC. Returns the steps (CF8 needs a latch write first unless it already holds it).
   */
  private config(fn: number, reg: number, size: number, op: 'read' | 'write', value: number | bigint = 0, why = 'config'): Step[] {
    const r = this.rng;
    let seg = 0;
    let bus: number;
    let dev: number;
    let func: number;
    const a = fn >= 0 ? this.model.addressOf(fn) : undefined;
    if (a) ({ seg, bus, dev, fn: func } = a);
    else if (fn >= 0) {
      const f = this.fs[fn];
      bus = f.parent < 0 ? f.bus : r.int(8);
      dev = f.dev;
      func = f.fn;
    } else {
      bus = r.chance(0.7) ? r.int(8) : r.int(256);
      dev = r.int(32);
      func = r.int(8);
    }
    const ecam = this.layout.ecam.find((w) => w.seg === seg);
    const viaCf8 = seg === 0 && reg < 0x100 && (ecam === undefined || r.chance(0.45)) && size !== 8;
    if (!viaCf8 && ecam) {
      const addr = ecam.base + (bus - ecam.busStart) * 0x100000 + (dev << 15) + (func << 12) + reg;
      if (addr < ecam.base) return [];
      return [op === 'read' ? { k: 'access', op, space: 'mmio', addr, size, why: `${why} (ecam)` }
        : { k: 'access', op, space: 'mmio', addr, size, value: size === 8 ? BigInt.asUintN(64, BigInt(value)) : Number(value) >>> 0, why: `${why} (ecam)` }];
    }
    const steps: Step[] = [];
    let latch = (0x80000000 | (bus << 16) | (dev << 11) | (func << 8) | (reg & 0xfc)) >>> 0;
    if (r.chance(0.03)) latch = (latch ^ (1 << r.int(32))) >>> 0; // a reserved or enable bit flipped
    if (this.model.latch !== ((latch & 0x80fffffc) >>> 0) || r.chance(0.1)) {
      steps.push({ k: 'access', op: 'write', space: 'io', addr: 0xcf8, size: 4, value: latch, why: 'cf8 latch' });
    }
    const port = 0xcfc + (reg & 3);
    steps.push(op === 'read' ? { k: 'access', op, space: 'io', addr: port, size, why: `${why} (cf8)` }
      : { k: 'access', op, space: 'io', addr: port, size, value: Number(value) >>> 0, why: `${why} (cf8)` });
    return steps;
  }

  /** A value to write over a register of `size` bytes holding `current`. */
  private value(current: number, size: number): number {
    const r = this.rng;
    const mask = size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return r.weighted<() => number>([
      [3, () => r.u32() & mask],
      [2, () => mask],
      [2, () => 0],
      [4, () => (current ^ (1 << r.int(8 * size))) & mask],
      [1, () => current],
      [1, () => r.int(16)],
    ])() >>> 0;
  }

  /** A register offset worth poking in `f`'s config space. */
  private register(f: FunctionLayout): number {
    const r = this.rng;
    const caps = f.caps.length ? f.caps : [{ offset: 0x40, id: 0 }];
    return r.weighted<() => number>([
      [6, () => 0x04],
      [2, () => 0x06],
      [6, () => 0x10 + 4 * r.int(f.bridge ? 2 : 6)],
      [2, () => (f.bridge ? 0x38 : 0x30)],
      [f.bridge ? 6 : 0, () => 0x18 + r.int(4)],
      [f.bridge ? 6 : 0, () => 0x1c + r.int(0x18)],
      [f.bridge ? 2 : 0, () => 0x3e],
      [2, () => 0x3c + r.int(2)],
      [5, () => { const c = r.pick(caps); return c.offset + r.int(16); }],
      [f.extCaps.length ? 2 : 0, () => { const c = r.pick(f.extCaps); return c.offset + r.int(16); }],
      [2, () => r.int(0x40)],
      [2, () => r.int(f.size)],
      [1, () => r.int(0x1000)],
    ])();
  }

  private size(): number {
    return this.rng.weighted([[2, 1], [2, 2], [6, 4]]);
  }

  // ---- Config space ---------------------------------------------------------------------------

  private configAccess(): Step[] {
    const r = this.rng;
    const fn = r.chance(0.92) ? r.int(this.fs.length) : -1;
    const f = fn >= 0 ? this.fs[fn] : undefined;
    let reg = f ? this.register(f) : r.int(0x1000);
    let size = this.size();
    if (r.chance(0.85)) reg -= reg % size; // aligned; otherwise maybe crossing a dword (not performed)
    if (r.chance(0.03)) size = r.pick([0, 3, 5, 8, 16]);
    if (r.chance(0.5)) return this.config(fn, reg, size, 'read', 0, 'config read');
    const cur = fn >= 0 ? this.cfgValue(fn, reg, Math.min(size, 4)) : 0;
    return this.config(fn, reg, size, 'write', this.value(cur, Math.min(size, 4) || 4), 'config write');
  }

  /** BAR sizing probes and moves: inside windows, overlapping other BARs, unaligned, 64-bit halves. */
  private barProgram(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.bars.length > 0);
    if (!f) return [];
    const b = r.pick(f.bars);
    const steps: Step[] = [];
    if (r.chance(0.3)) {
      // The sizing probe: all ones, read back, restore (sometimes with decode left on).
      const old = this.cfgValue(f.index, b.reg, 4);
      if (r.chance(0.6)) steps.push(...this.config(f.index, 4, 2, 'write', this.cfgValue(f.index, 4, 2) & ~3, 'bar probe: decode off'));
      steps.push(...this.config(f.index, b.reg, 4, 'write', 0xffffffff, 'bar probe'));
      steps.push(...this.config(f.index, b.reg, 4, 'read', 0, 'bar probe read'));
      if (b.kind === 'mem64') {
        steps.push(...this.config(f.index, b.reg + 4, 4, 'write', 0xffffffff, 'bar probe (upper)'));
        steps.push(...this.config(f.index, b.reg + 4, 4, 'read', 0, 'bar probe read'));
      }
      steps.push(...this.config(f.index, b.reg, 4, 'write', old, 'bar restore'));
      if (b.kind === 'mem64' && r.chance(0.8)) steps.push(...this.config(f.index, b.reg + 4, 4, 'write', this.cfgValue(f.index, b.reg + 4, 4), 'bar restore (upper)'));
      if (r.chance(0.7)) steps.push(...this.config(f.index, 4, 2, 'write', this.cfgValue(f.index, 4, 2) | (b.kind === 'io' ? 1 : 2), 'bar probe: decode on'));
      return steps;
    }
    const base = this.barAddress(f, b);
    const low = Number(base & 0xffffffffn) | (b.kind === 'io' ? 1 : 0) | (b.kind === 'rom' ? (r.chance(0.7) ? 1 : 0) : 0);
    const high = Number(base >> 32n);
    if (b.kind === 'mem64') {
      const order = r.weighted([[6, 'low-high'], [2, 'high-low'], [1, 'low only'], [1, 'high only'], [1, 'qword']]);
      if (order === 'qword') steps.push(...this.config(f.index, b.reg, 8, 'write', (BigInt(high) << 32n) | BigInt(low >>> 0), 'bar move (qword)'));
      if (order === 'low-high' || order === 'low only') steps.push(...this.config(f.index, b.reg, 4, 'write', low, 'bar move (low)'));
      if (order !== 'low only' && order !== 'qword') steps.push(...this.config(f.index, b.reg + 4, 4, 'write', high, 'bar move (high)'));
      if (order === 'high-low') steps.push(...this.config(f.index, b.reg, 4, 'write', low, 'bar move (low)'));
    } else {
      steps.push(...this.config(f.index, b.reg, r.chance(0.9) ? 4 : 2, 'write', low, 'bar move'));
    }
    if (r.chance(0.5)) steps.push(...this.config(f.index, 4, 2, 'write', this.cfgValue(f.index, 4, 2) | (b.kind === 'io' ? 1 : 2), 'decode on'));
    return steps;
  }

  /** Where to put a BAR: inside the window above, over another BAR, random, edges, garbage. */
  private barAddress(f: FunctionLayout, b: BarLayout): bigint {
    const r = this.rng;
    const align = (v: bigint) => v - (v % b.size);
    const others = this.fs.flatMap((g) => g.bars.map((x, i) => ({ g, x, base: this.model.applied[g.index][i] })))
      .filter((o) => o.base.mapped && (o.x.kind === 'io') === (b.kind === 'io'));
    const choice = r.weighted<() => bigint>([
      [4, () => {
        if (b.kind === 'io') return align(BigInt(0x1000 + r.int(0xf000)));
        return align(BigInt(0xc0000000 + r.int(0x3ec00000)));
      }],
      [3, () => (others.length ? align(r.pick(others).base.base + BigInt(r.int(0x2000))) : 0n)],
      [2, () => {
        const p = f.parent;
        if (p < 0) return align(BigInt(0xc0000000 + r.int(0x10000000)));
        const c = this.model.cfg[p];
        if (b.kind === 'io') return align(BigInt((c[0x1c] & 0xf0) << 8) + BigInt(r.int(0x1000)));
        const lo = BigInt((c[0x20] | (c[0x21] << 8)) & 0xfff0) << 16n;
        return align(lo + BigInt(r.int(0x100000)));
      }],
      [1, () => 0n],
      [1, () => BigInt(b.kind === 'io' ? 0xcf8 : 0xb0000000 + r.int(0x1000000))],
      [1, () => (b.kind === 'mem64' ? align((BigInt(r.int(0x100000)) << 32n) + BigInt(r.u32())) : align(BigInt(0xffffffff - r.int(0x100000))))],
      [1, () => (b.kind === 'mem64' ? (1n << 52n) - b.size * BigInt(r.int(3)) : BigInt(r.u32()))],
      [1, () => BigInt(r.u32()) | (b.kind === 'mem64' && r.chance(0.5) ? BigInt(r.u32()) << 32n : 0n)],
    ])();
    return choice;
  }

  private commandFlip(): Step[] {
    const r = this.rng;
    const f = this.rng.chance(0.3) ? this.fnWith((x) => x.bridge) ?? this.rng.pick(this.fs) : this.rng.pick(this.fs);
    const cur = this.cfgValue(f.index, 4, 2);
    const bit = r.weighted([[3, 0], [4, 1], [4, 2], [2, 10], [1, 6], [1, 8], [1, r.int(16)]]);
    const v = r.chance(0.2) ? r.int(0x10000) : cur ^ (1 << bit);
    const size = r.weighted([[6, 2], [2, 4], [2, 1]]);
    if (size === 4) return this.config(f.index, 4, 4, 'write', v | (r.chance(0.5) ? 0xffff0000 : 0), 'command (dword, status w1c)');
    if (size === 1) return this.config(f.index, 4 + (r.chance(0.8) ? 0 : 1), 1, 'write', r.chance(0.8) ? v & 0xff : v >> 8, 'command (byte)');
    return this.config(f.index, 4, 2, 'write', v, 'command');
  }

  /** Bus numbers (valid, overlapping, garbage) and windows (covering the BARs below, random, closed). */
  private bridgeProgram(): Step[] {
    const r = this.rng;
    const b = this.fnWith((x) => x.bridge);
    if (!b) return this.configAccess();
    const what = r.weighted([[4, 'buses'], [5, 'memory'], [3, 'pref'], [3, 'io'], [1, 'control']]);
    if (what === 'buses') {
      const sec = r.weighted<() => number>([[4, () => 1 + r.int(4)], [1, () => 0], [1, () => r.int(256)]])();
      const sub = r.weighted<() => number>([[4, () => sec + r.int(4)], [1, () => 0xff], [1, () => r.int(256)]])() & 0xff;
      const prim = r.chance(0.8) ? 0 : r.int(256);
      const v = prim | (sec << 8) | (sub << 16) | (r.chance(0.9) ? 0 : r.int(256) << 24);
      if (r.chance(0.3)) return this.config(b.index, 0x19, 1, 'write', sec, 'bridge secondary bus');
      return this.config(b.index, 0x18, 4, 'write', v >>> 0, 'bridge bus numbers');
    }
    if (what === 'control') return this.config(b.index, 0x3e, 2, 'write', r.int(0x10000), 'bridge control');
    // A window covering the BAR of a function below (often), or anything.
    const below = this.fs.filter((f) => f.parent === b.index);
    const child = below.length ? r.pick(below) : undefined;
    const io = what === 'io';
    const bars = child?.bars.filter((x) => (x.kind === 'io') === io) ?? [];
    let lo: number;
    let hi: number;
    if (bars.length && r.chance(0.7)) {
      const x = r.pick(bars);
      const c = this.model.cfg[child!.index];
      const addr = Number((BigInt((c[x.reg] | (c[x.reg + 1] << 8) | (c[x.reg + 2] << 16) | (c[x.reg + 3] << 24)) >>> 0) & ~0xfn));
      lo = addr;
      hi = addr + Number(x.size) - 1 + (r.chance(0.3) ? r.int(0x200000) : 0);
      if (r.chance(0.15)) hi = addr + Number(x.size) / 2; // partly covered: the BAR must not decode
    } else {
      lo = r.u32();
      hi = r.chance(0.2) ? lo - 1 : lo + r.int(0x1000000);
    }
    if (io) {
      const v = ((lo >>> 8) & 0xf0) | (((hi >>> 8) & 0xf0) << 8);
      const steps = this.config(b.index, 0x1c, 2, 'write', v, 'bridge io window');
      if (r.chance(0.3)) steps.push(...this.config(b.index, 0x30, 4, 'write', r.chance(0.7) ? 0 : r.u32(), 'bridge io upper'));
      return steps;
    }
    const v = (((lo >>> 16) & 0xfff0) | (((hi >>> 16) & 0xfff0) << 16)) >>> 0;
    if (what === 'memory') return this.config(b.index, 0x20, 4, 'write', v, 'bridge memory window');
    const steps = this.config(b.index, 0x24, 4, 'write', v, 'bridge prefetchable window');
    if (r.chance(0.5)) {
      const upper = r.chance(0.6) ? 0 : r.int(0x100);
      steps.push(...this.config(b.index, 0x28, 4, 'write', upper, 'bridge pref upper base'));
      steps.push(...this.config(b.index, 0x2c, 4, 'write', upper + (r.chance(0.8) ? 0 : r.int(4)), 'bridge pref upper limit'));
    }
    return steps;
  }

  /**
   * Power states through PMCSR (PCI Bus PM 1.2 §3.2.4): a function leaves D0 for D3hot, D1 or D2
   * (refused where PMC does not support them), mostly comes back within the action, with accesses
   * to its BARs at their programmed addresses (or, for a bridge, those of the functions below it)
   * and embedder DMA by it in between; sometimes a 64-bit BAR's lower dword is left staged before
   * a transition; PMCSR's other bits (PME_En, PME_Status W1C, read-only bits) go along. A function
   * left out of D0 is most often brought back by the next power action, so that the rest of the
   * episode has it decoding again.
   */
  private powerProgram(): Step[] {
    const r = this.rng;
    const m = this.model;
    const asleep = this.fnWith((x) => m.pmCap[x.index] !== 0 && m.powerState(x.index) !== 0);
    const f = asleep && r.chance(0.7) ? asleep : this.fnWith((x) => m.pmCap[x.index] !== 0);
    if (!f) return this.configAccess();
    const reg = m.pmCap[f.index] + 4;
    const pmcsr = (state: number, why: string): Step[] => {
      const cur = this.cfgValue(f.index, reg, 4);
      const other = r.weighted<() => number>([[8, () => cur], [1, () => cur | 0x8000], [1, () => cur ^ 0x100], [1, () => r.u32()], [1, () => 0xffffffff]])();
      const v = ((other & ~3) | state) >>> 0;
      const size = r.weighted([[3, 1], [3, 2], [4, 4]]);
      return this.config(f.index, reg, size, 'write', size === 4 ? v : v & (size === 1 ? 0xff : 0xffff), why);
    };
    if (m.powerState(f.index) !== 0) {
      return pmcsr(r.weighted([[8, 0], [1, 1], [1, 2], [1, 3]]), 'power: back to D0');
    }
    const steps: Step[] = [];
    const mem64 = f.bars.filter((b) => b.kind === 'mem64');
    if (mem64.length && r.chance(0.2)) {
      const b = r.pick(mem64);
      steps.push(...this.config(f.index, b.reg, 4, 'write', Number(this.barAddress(f, b) & 0xffffffffn), 'power: bar low staged'));
    }
    // D1 and D2 more often where PMC supports them (bits 9, 10): only then do they take effect.
    const pmc = this.cfgValue(f.index, reg - 2, 2);
    const state = r.weighted([[6, 3], [pmc & 0x200 ? 4 : 2, 1], [pmc & 0x400 ? 4 : 2, 2]]);
    steps.push(...pmcsr(state, `power: D0 -> D${state}`));
    if (r.chance(0.25)) return steps;
    // What the guest and the embedder try while it sleeps: its BARs (or those below a bridge) where
    // their registers put them, DMA by it (or below it), PMCSR read back.
    const below = (x: FunctionLayout): FunctionLayout[] => this.fs.filter((c) => c.parent === x.index).flatMap((c) => [c, ...below(c)]);
    const targets = [f, ...below(f)];
    for (let k = r.int(4); k > 0; k--) {
      const t = r.pick(targets);
      const what = r.weighted([[4, 'bar'], [2, 'dma'], [1, 'pmcsr']]);
      if (what === 'bar' && t.bars.length) {
        const b = r.pick(t.bars);
        const c = m.cfg[t.index];
        const lo = (c[b.reg] | (c[b.reg + 1] << 8) | (c[b.reg + 2] << 16) | (c[b.reg + 3] << 24)) >>> 0;
        const hi = b.kind === 'mem64' ? (c[b.reg + 4] | (c[b.reg + 5] << 8) | (c[b.reg + 6] << 16) | (c[b.reg + 7] << 24)) >>> 0 : 0;
        const base = hi * TWO32 + ((lo & (b.kind === 'io' ? 0xfffffffc : b.kind === 'rom' ? 0xfffff800 : 0xfffffff0)) >>> 0);
        if (base < 2 ** 52) steps.push(this.mmioAt(b.kind === 'io' ? 'io' : 'mmio', base + r.int(Math.min(Number(b.size), 0x1000)), `power: asleep ${t.kind} bar ${b.index}`));
      } else if (what === 'dma') {
        steps.push({ k: 'dma', op: r.chance(0.5) ? 'read' : 'write', fn: t.index, iova: this.iova(t.index), length: 1 + r.int(64), fill: r.int(256) });
      } else {
        steps.push(...this.config(f.index, reg, 2, 'read', 0, 'power: pmcsr read'));
      }
    }
    if (r.chance(0.85)) steps.push(...pmcsr(0, 'power: back to D0'));
    return steps;
  }

  private msiProgram(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.msi !== undefined);
    if (!f) return this.configAccess();
    const m = f.msi!;
    const what = r.weighted([[4, 'control'], [2, 'address'], [2, 'data'], [m.perVectorMask ? 4 : 0, 'mask'], [m.perVectorMask ? 1 : 0, 'pending']]);
    switch (what) {
      case 'control': {
        const cur = this.cfgValue(f.index, m.cap + 2, 2);
        const v = r.chance(0.5) ? cur ^ 1 : (cur & ~0x71) | (r.chance(0.7) ? 1 : 0) | (r.int(8) << 4);
        return this.config(f.index, m.cap + 2, 2, 'write', v, 'msi control');
      }
      case 'address': return this.config(f.index, m.cap + 4, 4, 'write', r.chance(0.7) ? 0xfee00000 + (r.int(256) << 12) : r.u32(), 'msi address');
      case 'data': return this.config(f.index, m.dataReg, 2, 'write', r.int(0x10000), 'msi data');
      case 'mask': return this.config(f.index, m.maskReg, 4, 'write', r.chance(0.5) ? 0 : r.u32(), 'msi mask');
      default: return this.config(f.index, m.pendingReg, 4, r.chance(0.5) ? 'read' : 'write', r.u32(), 'msi pending');
    }
  }

  private msixProgram(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.msix !== undefined);
    if (!f) return this.configAccess();
    const m = f.msix!;
    if (r.chance(0.35)) {
      const cur = this.cfgValue(f.index, m.cap + 2, 2);
      const v = r.weighted<() => number>([[4, () => cur ^ 0x8000], [3, () => cur ^ 0x4000], [2, () => (cur & 0x3fff) | 0x8000], [1, () => r.int(0x10000)]])();
      return this.config(f.index, m.cap + 2, 2, 'write', v, 'msix control');
    }
    const base = this.model.barBase(f.index, r.chance(0.85) ? m.tableBar : m.pbaBar);
    if (base === undefined) return this.barProgram();
    const pba = r.chance(0.15);
    const entry = r.int(m.entries + 1);
    let offset = pba ? m.pbaOffset + 8 * r.int(Math.ceil(m.entries / 64) + 1) : m.tableOffset + 16 * entry + r.pick([0, 4, 8, 12]);
    let size = r.weighted([[6, 4], [2, 8], [1, 2], [1, 1]]);
    if (size === 8 && offset % 8 !== 0 && r.chance(0.7)) offset -= 4;
    if (r.chance(0.05)) offset += r.int(4);
    const addr = Number(base) + offset;
    if (r.chance(0.35)) return [{ k: 'access', op: 'read', space: 'mmio', addr, size, why: pba ? 'msix pba' : 'msix table read' }];
    let value: number | bigint;
    if (offset % 16 === 12 || (size === 8 && offset % 16 === 8)) {
      const ctl = r.chance(0.5) ? 0 : r.chance(0.8) ? 1 : r.u32();
      value = size === 8 ? (BigInt(ctl) << 32n) | BigInt(r.u32()) : ctl;
    } else {
      const lo = r.chance(0.7) ? 0xfee00000 + (r.int(256) << 12) : r.u32();
      value = size === 8 ? (BigInt(r.chance(0.8) ? 0 : r.u32()) << 32n) | BigInt(lo) : lo;
    }
    if (size < 8 && typeof value === 'number') value &= size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    if (size < 8) value = Number(value) >>> 0;
    return [{ k: 'access', op: 'write', space: 'mmio', addr, size, value, why: pba ? 'msix pba write' : 'msix table write' }];
  }

  // ---- MMIO to devices ------------------------------------------------------------------------

  /** An access somewhere in a mapped BAR (or near its edges), mostly where device models answer. */
  private mmioDevice(): Step[] {
    const r = this.rng;
    const mapped = this.fs.flatMap((f) => f.bars.map((b, i) => ({ f, b, m: this.model.applied[f.index][i] }))).filter((x) => x.m.mapped);
    if (mapped.length === 0) return this.barProgram();
    const behaviour = mapped.filter((x) => x.f.behaviour);
    const { f, b, m } = r.chance(0.8) && behaviour.length ? r.pick(behaviour) : r.pick(mapped);
    let offset: number;
    const v = f.virtio;
    if (v && r.chance(0.6)) {
      const s = r.pick([v.common, v.common, v.notify, v.isr, v.device].filter((x) => x !== undefined && x.bar === b.index));
      if (s) return this.virtioRegister(f, m.base, s.offset);
    }
    if (f.kind === 'test-device' && b.index === 0 && r.chance(0.7)) {
      offset = r.weighted<() => number>([[8, () => r.pick([0, 4, 8, 0xc, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38])], [3, () => 0x1000 + r.int(0x1000)], [1, () => r.int(0x2000)]])();
    } else {
      const size = Number(b.size > 0x100000n ? 0x100000n : b.size);
      offset = r.weighted<() => number>([[6, () => r.int(size)], [2, () => size - r.int(8)], [1, () => -r.int(8)], [1, () => size + r.int(8)]])();
    }
    return [this.mmioAt(b.kind === 'io' ? 'io' : 'mmio', Number(m.base) + offset, `${f.kind} bar ${b.index}`)];
  }

  /** A random read or write at `addr` with a random size and value. */
  private mmioAt(space: 'mmio' | 'io', addr: number, why: string): AccessStep {
    const r = this.rng;
    let size = space === 'io' ? r.weighted([[2, 1], [2, 2], [4, 4]]) : r.weighted([[2, 1], [2, 2], [5, 4], [2, 8]]);
    if (r.chance(0.02)) size = r.pick([0, 3, 5, 16]);
    if (r.chance(0.5)) return { k: 'access', op: 'read', space, addr, size, why: `${why} read` };
    const value: number | bigint = size === 8 ? r.u64() : r.weighted<() => number>([[4, () => r.u32()], [2, () => r.int(16)], [1, () => 0]])() & (size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1);
    return { k: 'access', op: 'write', space, addr, size, value: typeof value === 'number' ? value >>> 0 : value, why: `${why} write` };
  }

  /** A virtio common-config field, a notify doorbell, ISR or device config. */
  private virtioRegister(f: FunctionLayout, base: bigint, structOffset: number): Step[] {
    const r = this.rng;
    const v = f.virtio!;
    const at = Number(base) + structOffset;
    if (v.common && structOffset === v.common.offset) {
      const field = r.pick([[0x00, 4], [0x04, 4], [0x08, 4], [0x0c, 4], [0x10, 2], [0x12, 2], [0x14, 1], [0x15, 1], [0x16, 2], [0x18, 2], [0x1a, 2], [0x1c, 2], [0x1e, 2], [0x20, 4], [0x24, 4], [0x28, 4], [0x2c, 4], [0x30, 4], [0x34, 4], [0x20, 8], [0x28, 8]] as const);
      const [off, size] = field;
      if (r.chance(0.4)) return [{ k: 'access', op: 'read', space: 'mmio', addr: at + off, size, why: 'virtio common read' }];
      const value = off === 0x14 ? r.pick([0, 1, 3, 0xb, 0xf, 0x40, 0x80, r.int(256)])
        : off === 0x16 ? r.pick([0, 0, 1, 2, r.int(0x10000)])
          : off === 0x18 ? r.pick([1, 2, 16, 64, 256, 3, 0, r.int(0x10000)])
            : off >= 0x20 ? (size === 8 ? BigInt(this.ramAddress(16)) : this.ramAddress(16))
              : this.value(0, size);
      return [{ k: 'access', op: 'write', space: 'mmio', addr: at + off, size, value: typeof value === 'number' ? value >>> 0 : value, why: 'virtio common write' }];
    }
    if (v.notify && structOffset === v.notify.offset) {
      const q = r.chance(0.9) ? 0 : r.int(4);
      return [{ k: 'access', op: 'write', space: 'mmio', addr: at + q * v.notify.multiplier + (r.chance(0.05) ? r.int(4) : 0), size: r.chance(0.8) ? 2 : r.pick([1, 4, 8]), value: q, why: 'virtio notify' }];
    }
    return [{ k: 'access', op: 'read', space: 'mmio', addr: at + r.int(8), size: r.pick([1, 1, 2, 4, 8]), why: structOffset === v.isr?.offset ? 'virtio isr read' : 'virtio device config read' }];
  }

  /** A guest-physical address for rings and buffers: mostly in RAM region 0, sometimes elsewhere. */
  private ramAddress(align: number): number {
    const r = this.rng;
    const a = r.weighted<() => number>([
      [10, () => 0x1000 + r.int(0xf0000)],
      [1, () => RAM[0].size - r.int(64)],
      [1, () => RAM[1].base + r.int(RAM[1].size)],
      [1, () => RAM[2].base + r.int(RAM[2].size + 64)],
      [1, () => r.pick(HOT_RAM).base + r.int(0x4000)],
      [1, () => r.u32()],
      [1, () => 0],
    ])();
    return a - (a % align);
  }

  /** Brings a virtio device up as a driver would (with hostile choices along the way). */
  private virtioBringup(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.virtio?.common !== undefined && x.behaviour);
    if (!f) return this.configAccess();
    const c = f.virtio!.common!;
    const base = this.model.barBase(f.index, c.bar);
    if (base === undefined) return this.barProgram();
    const at = Number(base) + c.offset;
    const w = (off: number, size: number, value: number | bigint, why: string): AccessStep => ({ k: 'access', op: 'write', space: 'mmio', addr: at + off, size, value, why });
    const steps: Step[] = [];
    const cmd = this.cfgValue(f.index, 4, 2);
    if ((cmd & 6) !== 6 && r.chance(0.8)) steps.push(...this.config(f.index, 4, 2, 'write', cmd | 6, 'virtio: memory + bus master'));
    steps.push(w(0x14, 1, 0, 'virtio reset'), w(0x14, 1, 1, 'virtio status'), w(0x14, 1, 3, 'virtio status'));
    const ring = (r.chance(0.8) ? 1 << 28 : 0) | (r.chance(0.7) ? 1 << 29 : 0);
    steps.push(w(0x08, 4, 0, 'virtio feature select'), w(0x0c, 4, ring | (r.chance(0.1) ? r.u32() : 0), 'virtio features'));
    steps.push(w(0x08, 4, 1, 'virtio feature select'), w(0x0c, 4, r.chance(0.9) ? 1 | (r.chance(0.5) ? 2 : 0) : r.int(8), 'virtio features'));
    steps.push(w(0x14, 1, 0xb, 'virtio features ok'));
    const size = r.pick([1, 2, 4, 8, 16, 64]);
    const desc = r.chance(0.9) ? 0x10000 + r.int(0x80) * 0x1000 : this.ramAddress(16);
    const avail = r.chance(0.9) ? desc + 16 * size : this.ramAddress(2);
    const used = r.chance(0.9) ? ((avail + 6 + 2 * size + 0xfff) & ~0xfff) : this.ramAddress(4);
    steps.push(w(0x16, 2, 0, 'virtio queue select'), w(0x18, 2, size, 'virtio queue size'));
    steps.push(w(0x20, 4, desc >>> 0, 'virtio queue desc'), w(0x24, 4, Math.floor(desc / TWO32), 'virtio queue desc hi'));
    steps.push(w(0x28, 8, BigInt(avail), 'virtio queue driver'), w(0x30, 4, used >>> 0, 'virtio queue device'), w(0x34, 4, Math.floor(used / TWO32), 'virtio queue device hi'));
    steps.push(w(0x1a, 2, r.chance(0.8) ? 0 : r.int(4), 'virtio queue vector'), w(0x10, 2, r.chance(0.8) ? 1 : 0xffff, 'virtio config vector'));
    // Zeroed rings, as a driver allocates them.
    steps.push({ k: 'mem', addr: avail, hex: '00'.repeat(Math.min(6 + 2 * size, 0x200)), why: 'virtio ring init' });
    steps.push({ k: 'mem', addr: used, hex: '00'.repeat(Math.min(6 + 8 * size, 0x400)), why: 'virtio ring init' });
    steps.push(w(0x1c, 2, 1, 'virtio queue enable'), w(0x14, 1, 0xf, 'virtio driver ok'));
    this.queues.set(f.path, { size, desc, avail, used, idx: 0 });
    if (f.msix && r.chance(0.6)) {
      steps.push(...this.config(f.index, f.msix.cap + 2, 2, 'write', 0x8000, 'msix enable'));
      const tb = this.model.barBase(f.index, f.msix.tableBar);
      if (tb !== undefined) {
        for (let k = 0; k < Math.min(2, f.msix.entries); k++) {
          const e = Number(tb) + f.msix.tableOffset + 16 * k;
          steps.push({ k: 'access', op: 'write', space: 'mmio', addr: e, size: 8, value: 0xfee00000n + BigInt(k << 12), why: 'msix table write' });
          steps.push({ k: 'access', op: 'write', space: 'mmio', addr: e + 8, size: 8, value: BigInt(0x30 + k), why: 'msix table write' });
        }
      }
    }
    return steps;
  }

  /** Descriptors (valid-looking or garbage) and an avail entry in guest RAM, then the doorbell. */
  private virtioKick(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.virtio?.notify !== undefined && x.behaviour);
    if (!f) return this.configAccess();
    const q = this.queues.get(f.path);
    if (!q) return this.virtioBringup();
    const steps: Step[] = [];
    const n = r.weighted([[5, 1], [3, 2], [2, 3], [1, 1 + r.int(8)]]);
    const head = r.chance(0.9) ? r.int(q.size) : r.int(0x10000);
    const table = new Uint8Array(16 * Math.max(1, Math.min(q.size, 16)));
    const dv = new DataView(table.buffer);
    const blk = f.kind === 'virtio-blk';
    for (let k = 0; k < Math.min(n, table.length / 16); k++) {
      const idx = (head + k) % (table.length / 16);
      const at = idx * 16;
      const garbage = r.chance(0.25);
      const addr = garbage ? (r.chance(0.5) ? r.u64() : BigInt(this.ramAddress(1))) : BigInt(0x40000 + r.int(0x80000));
      const len = garbage ? r.weighted<() => number>([[2, () => r.u32()], [2, () => r.int(0x2000)], [1, () => 0]])() : (blk && k === 0 ? 16 : 1 + r.int(0x800));
      let flags = (k + 1 < n ? 1 : 0) | (blk && k === 0 ? 0 : 2);
      if (garbage) flags = r.pick([0, 1, 2, 3, 4, 5, 6, 7, r.int(0x10000)]);
      const next = garbage && r.chance(0.5) ? r.int(q.size + 2) : (idx + 1) % (table.length / 16);
      dv.setBigUint64(at, addr, true);
      dv.setUint32(at + 8, len >>> 0, true);
      dv.setUint16(at + 12, flags, true);
      dv.setUint16(at + 14, next, true);
    }
    if (r.chance(0.1)) {
      // An indirect table somewhere in RAM, referenced by the head descriptor.
      const ind = this.ramAddress(16);
      const entries = r.pick([1, 2, 4, 0x1000]);
      dv.setBigUint64((head % (table.length / 16)) * 16, BigInt(ind), true);
      dv.setUint32((head % (table.length / 16)) * 16 + 8, entries * 16 + (r.chance(0.1) ? 1 : 0), true);
      dv.setUint16((head % (table.length / 16)) * 16 + 12, r.chance(0.8) ? 4 : 5, true);
      const garbage = new Uint8Array(Math.min(entries, 4) * 16);
      for (let i = 0; i < garbage.length; i++) garbage[i] = r.int(256);
      if (ind + garbage.length <= RAM[0].size) steps.push({ k: 'mem', addr: ind, hex: bytesHex(garbage), why: 'virtio indirect table' });
    }
    if (blk && !r.chance(0.2)) {
      // A request header where the first descriptor points: type, reserved, sector.
      const h = new Uint8Array(16);
      const hv = new DataView(h.buffer);
      hv.setUint32(0, r.pick([0, 1, 4, 8, r.u32()]), true);
      hv.setBigUint64(8, BigInt(r.chance(0.8) ? r.int(2048) : r.u32()), true);
      const first = dv.getBigUint64((head % (table.length / 16)) * 16, true);
      if (first + 16n <= BigInt(RAM[0].size)) steps.push({ k: 'mem', addr: Number(first), hex: bytesHex(h), why: 'virtio-blk header' });
    }
    if (q.desc + table.length <= RAM[0].size) steps.push({ k: 'mem', addr: q.desc, hex: bytesHex(table), why: 'virtio descriptors' });
    const idx = r.weighted<() => number>([[8, () => q.idx + 1], [1, () => q.idx + r.int(q.size + 3)], [1, () => r.int(0x10000)]])() & 0xffff;
    const entry = new Uint8Array(2);
    entry[0] = head & 0xff;
    entry[1] = head >> 8;
    const slot = q.avail + 4 + 2 * (q.idx % q.size);
    if (slot + 2 <= RAM[0].size) steps.push({ k: 'mem', addr: slot, hex: bytesHex(entry), why: 'virtio avail entry' });
    if (q.avail + 4 <= RAM[0].size) steps.push({ k: 'mem', addr: q.avail, hex: bytesHex(new Uint8Array([r.chance(0.9) ? 0 : 1, 0, idx & 0xff, idx >> 8])), why: 'virtio avail idx' });
    q.idx = idx;
    const nb = this.model.barBase(f.index, f.virtio!.notify!.bar);
    if (nb !== undefined) steps.push({ k: 'access', op: 'write', space: 'mmio', addr: Number(nb) + f.virtio!.notify!.offset, size: 2, value: 0, why: 'virtio notify' });
    if (r.chance(0.3) && f.virtio!.isr) {
      const ib = this.model.barBase(f.index, f.virtio!.isr.bar);
      if (ib !== undefined) steps.push({ k: 'access', op: 'read', space: 'mmio', addr: Number(ib) + f.virtio!.isr.offset, size: 1, why: 'virtio isr read' });
    }
    return steps;
  }

  /** The test device's DMA engine: addresses in RAM, at its edges, outside, through mapped IOVAs. */
  private testDeviceDma(): Step[] {
    const r = this.rng;
    const f = this.fnWith((x) => x.kind === 'test-device');
    if (!f) return this.dmaChurn();
    const base = this.model.barBase(f.index, 0);
    if (base === undefined) return this.barProgram();
    const at = Number(base);
    const steps: Step[] = [];
    const w = (off: number, size: number, value: number | bigint, why: string): AccessStep => ({ k: 'access', op: 'write', space: 'mmio', addr: at + off, size, value, why });
    const busAddr = this.iova(f.index);
    const bufOff = r.chance(0.9) ? r.int(0x800) : r.int(0x2000);
    const toRam = r.chance(0.5);
    const [src, dst] = toRam ? [bufOff, busAddr] : [busAddr, bufOff];
    if (r.chance(0.5)) {
      steps.push(w(0x20, 8, BigInt(src), 'test-device dma src'), w(0x28, 8, BigInt(dst), 'test-device dma dst'));
    } else {
      steps.push(w(0x20, 4, src >>> 0, 'test-device dma src'), w(0x24, 4, Math.floor(src / TWO32) >>> 0, 'test-device dma src hi'));
      steps.push(w(0x28, 4, dst >>> 0, 'test-device dma dst'), w(0x2c, 4, Math.floor(dst / TWO32) >>> 0, 'test-device dma dst hi'));
    }
    steps.push(w(0x30, 4, r.weighted<() => number>([[6, () => r.int(0x400)], [2, () => 0x1000 - bufOff], [1, () => 0x1001], [1, () => 0]])() >>> 0, 'test-device dma len'));
    const cmd = 1 | (toRam ? 2 : 0) | (r.chance(0.3) ? 4 | (r.int(6) << 8) : 0);
    steps.push(w(0x34, 4, cmd, 'test-device dma start'));
    if (r.chance(0.5)) steps.push({ k: 'access', op: 'read', space: 'mmio', addr: at + 0x38, size: 4, why: 'test-device dma status' });
    return steps;
  }

  /** A bus address for a function's DMA: a mapped IOVA of its domain, RAM, edges, or anything. */
  private iova(fn: number): number {
    const r = this.rng;
    const dom = this.model.domains.get(this.model.attached[fn]);
    if (dom && dom.kind === 'translated' && dom.pages.size && r.chance(0.7)) {
      const pages = [...dom.pages.keys()];
      return r.pick(pages) * 4096 + r.weighted<() => number>([[4, () => r.int(4096)], [1, () => 4096 - r.int(16)]])();
    }
    return this.ramAddress(1) + (r.chance(0.1) ? r.int(4096) : 0);
  }

  // ---- Other guest accesses -------------------------------------------------------------------

  private randomAccess(): Step[] {
    const r = this.rng;
    const space = r.chance(0.8) ? 'mmio' : 'io';
    const hostile = r.chance(0.1);
    const addr: number | bigint = hostile
      ? r.pick<number | bigint>([-1, 1.5, NaN, 2 ** 64, 2 ** 53, 2 ** 52, 2 ** 52 - 4, (1n << 64n) - 1n, 1n << 52n, -1n, 1n << 64n, Infinity])
      : space === 'io' ? r.int(0x10004) : r.weighted<() => number>([[3, () => 0xb0000000 + r.int(0x10000000)], [3, () => 0xc0000000 + r.int(0x3f000000)], [1, () => r.u32()], [1, () => r.u32() * 4096]])();
    const step = this.mmioAt(space, 0, 'random');
    return [{ ...step, addr, why: hostile ? 'hostile address' : step.why }];
  }

  private ioAccess(): Step[] {
    const r = this.rng;
    const port = r.weighted<() => number>([[5, () => 0xcf8 + r.int(8)], [1, () => 0xcf4 + r.int(4)], [1, () => 0xd00 + r.int(4)], [2, () => {
      const io = this.fs.flatMap((f) => f.bars.map((b, i) => ({ b, m: this.model.applied[f.index][i] }))).filter((x) => x.b.kind === 'io' && x.m.mapped);
      return io.length ? (() => { const x = r.pick(io); return Number(x.m.base) + r.int(Number(x.b.size) + 4); })() : r.int(0x10000);
    }]])();
    const s = this.mmioAt('io', port, 'io');
    if (port === 0xcf8 && s.op === 'write' && s.size === 4 && r.chance(0.5)) s.value = (0x80000000 | (r.int(8) << 16) | (r.int(32) << 11) | (r.int(8) << 8) | r.int(256)) >>> 0;
    return [s];
  }

  /** A few guest accesses run inside the core as batch records (bus.replay). */
  private batch(): Step[] {
    const r = this.rng;
    const ops: BatchStep['ops'] = [];
    const n = 1 + r.int(12);
    while (ops.length < n) {
      for (const s of this.next()) {
        if (s.k !== 'access' || typeof s.addr !== 'number' || !Number.isSafeInteger(s.addr) || s.addr < 0) continue;
        if (!(s.size === 1 || s.size === 2 || s.size === 4 || (s.size === 8 && s.space === 'mmio'))) continue;
        if (s.space === 'io' && s.addr > 0xffff) continue;
        const mask = (1n << BigInt(8 * s.size)) - 1n;
        if (s.op === 'write') ops.push({ op: 'write', space: s.space, addr: BigInt(s.addr), size: s.size as 1, value: BigInt(s.value ?? 0) & mask });
        else ops.push({ op: 'read', space: s.space, addr: BigInt(s.addr), size: s.size as 1, expected: r.chance(0.2) ? BigInt(r.u32()) & mask : undefined });
      }
      if (r.chance(0.1)) break;
    }
    return ops.length ? [{ k: 'batch', ops }] : [];
  }

  /** Config through the Bus API, by BDF (where the guest put things, or not) or by path. */
  private busConfig(): Step[] {
    const r = this.rng;
    const f = r.pick(this.fs);
    const h = (v: number, n: number) => v.toString(16).padStart(n, '0');
    const a = this.model.addressOf(f.index);
    const target = r.chance(0.4) ? f.path
      : a && r.chance(0.8) ? `${r.chance(0.5) ? `${h(a.seg, 4)}:` : ''}${h(a.bus, 2)}:${h(a.dev, 2)}.${a.fn}`
        : `${h(r.int(8), 2)}:${h(r.int(32), 2)}.${r.int(8)}`;
    let offset = this.register(f);
    let size = this.size();
    if (r.chance(0.85)) offset -= offset % size;
    if (r.chance(0.03)) size = r.pick([0, 3, 8]);
    if (r.chance(0.02)) offset = r.pick([-1, 0x1000, 1.5]);
    if (r.chance(0.5)) return [{ k: 'cfg', op: 'read', target, offset, size }];
    const cur = this.cfgValue(f.index, Math.max(0, Math.floor(offset)) & 0xffc, 4);
    return [{ k: 'cfg', op: 'write', target, offset, size, value: this.value(cur, Math.min(size, 4) || 4) }];
  }

  private ramGarbage(): Step[] {
    const r = this.rng;
    const len = 1 + r.int(64);
    const addr = r.int(RAM[0].size - len);
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = r.int(256);
    return [{ k: 'mem', addr, hex: bytesHex(b), why: 'ram garbage' }];
  }

  // ---- Embedder churn -------------------------------------------------------------------------

  private dmaFn(): number {
    const r = this.rng;
    const f = r.chance(0.8) ? this.fnWith((x) => x.behaviour) ?? r.pick(this.fs) : r.pick(this.fs);
    return f.index;
  }

  /** Now and then a number no embedder should pass (the call must throw ArgumentError, and nothing else). */
  private hostile(v: number): number {
    const r = this.rng;
    return r.chance(0.03) ? r.pick([-4096, -1, 1.5, NaN, Infinity, 2 ** 53 + 4096, 2 ** 64, 2 ** 48, 2 ** 52, 2 ** 32 + 1]) : v;
  }

  private dmaChurn(): Step[] {
    const r = this.rng;
    const m = this.model;
    const ids = [...m.domains.keys()];
    const translated = ids.filter((id) => m.domains.get(id)!.kind === 'translated');
    const anyDomain = () => (r.chance(0.9) && ids.length ? r.pick(ids) : r.int(260));
    const op = r.weighted<DmaStep['op']>([
      [ids.length < 10 ? 3 : 0.3, 'create'], [1, 'destroy'], [6, 'map'], [3, 'unmap'], [4, 'attach'], [2, 'detach'],
      [3, 'read'], [3, 'write'], [1, 'readSg'], [1, 'writeSg'], [0.7, 'addRam'], [0.5, 'removeRam'],
    ]);
    switch (op) {
      case 'create': return [{ k: 'dma', op, kind: r.weighted([[6, 'translated'], [2, 'identity'], [2, 'blocked']] as const) }];
      case 'destroy': return [{ k: 'dma', op, domain: this.hostile(anyDomain()) }];
      case 'addRam': {
        const h = r.pick(HOT_RAM);
        return [{ k: 'dma', op, base: this.hostile(h.base), size: r.chance(0.9) ? h.size : r.pick([0, 0x800, 0x100000]), external: r.chance(0.5) }];
      }
      case 'removeRam': {
        const present = [...m.ram.keys()];
        const hot = present.filter((i) => i >= RAM.length);
        return [{ k: 'dma', op, index: hot.length && r.chance(0.85) ? r.pick(hot) : r.chance(0.8) ? r.pick(present) : r.int(8) }];
      }
      case 'attach': return [{ k: 'dma', op, fn: this.dmaFn(), domain: this.hostile(anyDomain()) }];
      case 'detach': return [{ k: 'dma', op, fn: this.dmaFn() }];
      case 'map': {
        const domain = translated.length && r.chance(0.9) ? r.pick(translated) : anyDomain();
        const large = r.chance(0.15);
        const iova = r.weighted<() => number>([[6, () => this.ramAddress(4096) - (this.ramAddress(4096) % 4096)], [3, () => r.int(0x1000) * 4096], [1, () => (large ? r.int(8) * 0x200000 : 2 ** 48 - 4096 * r.int(4))], [1, () => r.u32()]])();
        const gpa = r.weighted<() => number>([[6, () => r.weighted([[6, RAM[0].base], [2, RAM[1].base], [1, RAM[2].base], [1, RAM[0].size - 8 * 4096]]) + r.int(64) * 4096], [1, () => r.int(0x100000) * 4096], [1, () => r.u32()]])();
        const size = large ? 0x200000 : r.weighted<() => number>([[6, () => 4096 * (1 + r.int(16))], [1, () => 0], [1, () => 4096 * r.int(600)], [1, () => r.int(0x10000)]])();
        return [{ k: 'dma', op, domain: this.hostile(domain), iova: this.hostile(large ? iova - (iova % 0x200000) : iova), gpa: this.hostile(large ? gpa - (gpa % 0x200000) : gpa), size: this.hostile(size), read: r.chance(0.8), write: r.chance(0.7) }];
      }
      case 'unmap': {
        const domain = translated.length && r.chance(0.9) ? r.pick(translated) : anyDomain();
        const pages = [...(m.domains.get(domain)?.pages.keys() ?? [])];
        const iova = pages.length && r.chance(0.8) ? r.pick(pages) * 4096 - 4096 * r.int(2) : r.int(0x1000) * 4096;
        return [{ k: 'dma', op, domain: this.hostile(domain), iova: this.hostile(Math.max(0, iova) + (r.chance(0.05) ? 1 : 0)), size: this.hostile(4096 * (1 + r.int(r.chance(0.2) ? 600 : 8))) }];
      }
      case 'read': case 'write': {
        const fn = this.dmaFn();
        const length = r.weighted<() => number>([[6, () => r.int(64)], [3, () => r.int(0x2000)], [1, () => 0]])();
        return [{ k: 'dma', op, fn, iova: this.hostile(this.iova(fn)), length: r.chance(0.01) ? (1 << 20) + 1 : length, fill: r.int(256) }];
      }
      case 'readSg': case 'writeSg': {
        const fn = this.dmaFn();
        const list: [number, number][] = [];
        for (let k = 1 + r.int(5); k > 0; k--) list.push([this.hostile(this.iova(fn)), r.chance(0.1) ? 0 : r.int(0x1800)]);
        return [{ k: 'dma', op, fn, list, fill: r.int(256) }];
      }
    }
  }

  private irqChurn(): Step[] {
    const r = this.rng;
    const op = r.weighted<IrqStep['op']>([[3, 'intx'], [2, 'msi'], [3, 'msix'], [2, 'notify'], [1, 'route']]);
    const fn = this.dmaFn();
    const vector = r.weighted<() => number>([[8, () => r.int(4)], [1, () => r.int(40)], [1, () => r.pick([-1, 1.5, 2 ** 32 + 1, 2048])]])();
    switch (op) {
      case 'intx': return [{ k: 'irq', op, fn, level: r.chance(0.5) }];
      case 'route': return [{ k: 'irq', op, seg: r.chance(0.9) ? 0 : r.int(17), dev: r.int(33), pin: r.int(6), gsi: r.chance(0.2) ? null : r.chance(0.9) ? r.int(24) : r.int(1100) }];
      default: return [{ k: 'irq', op, fn, vector }];
    }
  }
}

export type { DmaStep };
