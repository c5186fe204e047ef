// The two-backend runner: every step runs on a Wasm bus and a TypeScript bus built from the same
// topology, and on the reference models (model.ts, irq-model.ts); after every step (cheap checks)
// and every `checkEvery` steps (full checks) they must agree. The first disagreement is a Failure.
// fuzz/README.md "What it checks" has the full table.
//
// After every step:
//   - no exception: a guest access never throws, an embedder call throws only ArgumentError, no
//     Wasm trap (exception); no device model threw (model-error);
//   - both backends: the same outcome (read values, DMA results and bytes, signal results, error
//     texts), the same BAR effects, doorbell events, interrupt sink calls, DMA faults and device
//     model errors, the same guest RAM (divergence);
//   - the model: every config read (config-read); a read of an address nothing decodes reads all
//     ones (abort), of a BAR where no handler is 0 (region-table); the BAR effects (effects);
//     embedder DMA results and bytes, the accept or refuse of domain and RAM calls (dma-model);
//     guest RAM changes only where a function that could have done DMA in this step may write
//     (dma-outside); embedder signal results and messages, MSI-X table reads, every message allowed
//     by its capability, line events being changes (interrupts).
// Every `checkEvery` steps, and at the end of an episode:
//   - config planes: both backends byte for byte (divergence); the write masks never change
//     (mask-plane); config bytes equal the model's (read-only where the bits are neither writable nor
//     write-1-to-clear, config-model otherwise), except the bits the core sets by itself (Status
//     Interrupt Status, MSI Pending Bits: RefModel.volatileBits);
//   - INTx: each GSI's driver count on both cores and in the sink, as the model says (interrupts);
//   - the region table: both backends (divergence), and against the table the model rebuilds from
//     config space (region-table);
//   - counters: both backends (divergence) and the model's count of aborts and invalid accesses
//     (abort); device models' state on both backends (divergence).
import { Buffer } from 'node:buffer';
import type { ResolvedTopology } from '../src/topology/index.js';
import { Env, RAM, describe, pattern } from './env.js';
import type { Outcome } from './env.js';
import type { Layout } from './layout.js';
import { RefModel } from './model.js';
import { IrqModel } from './irq-model.js';
import type { SignalPrediction } from './irq-model.js';
import type { Decoded, ExpectedEffect } from './model.js';
import type { AccessStep, BatchStep, BusConfigStep, DmaStep, Step } from './steps.js';
import { showStep } from './steps.js';

/** What went wrong, and at which step. */
export interface Failure {
  kind: 'exception' | 'divergence' | 'config-read' | 'abort' | 'effects' | 'dma-model' | 'dma-outside' | 'mask-plane' | 'read-only' | 'config-model' | 'region-table' | 'interrupts' | 'model-error' | 'setup';
  /** Index of the step after which it was seen. */
  step: number;
  message: string;
}

export interface TwinOptions {
  /** Full checks every this many steps (1 = after every step). */
  checkEvery?: number;
}

const hex = (v: number | bigint) => `0x${v.toString(16)}`;
const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? hex(x) : x));

/** Runs steps on both backends and the model, checking as it goes. */
export class Twin {
  readonly model: RefModel;
  /** What each RAM region should hold, by index: what the guest wrote and DMA was allowed to. */
  private readonly shadow = new Map<number, Uint8Array>();
  private readonly pathIndex: Map<string, number>;
  /** Handler regions (device models, register files, doorbells): their offset in the BAR, once seen mapped. */
  private readonly handlerOffset = new Map<number, bigint>();
  /** Values every read returned on the Wasm backend, in order (for trace reproducers). */
  readonly reads: bigint[] = [];
  /** At a config-read or abort failure: which read (index into `reads`) and the model's value. */
  expectedRead: { index: number; value: bigint } | undefined;
  steps = 0;
  accesses = 0;
  /** What the steps made happen (from the Wasm backend), for the summary: coverage at a glance. */
  readonly happened = new Map<string, number>();
  private sinceFull = 0;
  private readonly checkEvery: number;

  readonly irq: IrqModel;

  private constructor(readonly wasm: Env, readonly ts: Env, readonly layout: Layout, topology: ResolvedTopology, options: TwinOptions) {
    this.model = new RefModel(layout, RAM.map((r) => ({ base: r.base, size: r.size })));
    this.irq = new IrqModel(layout, this.model, topology);
    RAM.forEach((r, i) => this.shadow.set(i, new Uint8Array(r.size)));
    this.pathIndex = new Map(layout.functions.map((f) => [f.path, f.index]));
    this.checkEvery = Math.max(1, options.checkEvery ?? 32);
  }

  static async create(topology: ResolvedTopology, layout: Layout, options: TwinOptions = {}): Promise<Twin> {
    const t = new Twin(await Env.create('wasm', topology), await Env.create('ts', topology), layout, topology, options);
    // The model names functions by topology index; the Bus adds them in that order, so slot = index.
    for (const f of layout.functions) {
      for (const env of [t.wasm, t.ts]) {
        if (env.bus.core.slotParent(f.index) !== f.parent || env.bus.core.planeByte(f.index, 0, 0) !== f.config[0]) {
          throw new Error(`fuzz: function ${f.path} is not in core slot ${f.index}`);
        }
      }
    }
    const setup = t.drain({ k: 'mem', addr: 0, hex: '', why: 'createBus' }, { reads: [], writers: new Map(), dma: undefined, dmaPossible: false, messages: true });
    t.learnRegions();
    t.regionLimit = Math.min(4095, Math.max(...[...Array(4096).keys()].slice(1).filter((id) => t.wasm.bus.core.regionInfo(id).kind !== 0)) + 64);
    if (setup) throw new Error(`fuzz: the bus as created: ${setup.kind}: ${setup.message}`);
    return t;
  }

  private fail(kind: Failure['kind'], message: string): Failure {
    return { kind, step: this.steps - 1, message };
  }

  /** Runs one step with its checks. */
  step(s: Step): Failure | undefined {
    this.steps++;
    this.sinceFull++;
    // The model goes first: it predicts from the state before the step.
    const plan = this.plan(s);
    const a = this.wasm.exec(s);
    const b = this.ts.exec(s);
    if (s.k === 'access') this.accesses++;
    else if (s.k === 'batch') this.accesses += s.ops.length;
    this.reads.push(...a.reads);
    if (a.crash !== undefined || b.crash !== undefined) {
      return this.fail('exception', `${showStep(s)}: wasm: ${a.crash !== undefined ? describe(a.crash) : 'ok'}; ts: ${b.crash !== undefined ? describe(b.crash) : 'ok'}` +
        stackOf(a.crash ?? b.crash));
    }
    if (a.text !== b.text) return this.fail('divergence', `${showStep(s)}: wasm ${a.text} / ts ${b.text}`);
    if (s.k === 'mem') this.memWrite(s.addr, s.hex);
    return this.checkPlan(s, plan, a) ?? this.drain(s, plan) ?? (plan.dmaPossible ? this.checkRam(plan.writers) : undefined) ??
      (this.sinceFull >= this.checkEvery ? this.full() : undefined);
  }

  // ---- Per step -------------------------------------------------------------------------------

  /** What the model expects of a step, computed before it runs. */
  private plan(s: Step): Plan {
    const m = this.model;
    const plan: Plan = { reads: [], writers: new Map(), dma: undefined, dmaPossible: s.k === 'batch' || s.k === 'dma', messages: s.k !== 'batch' };
    const guest = (o: { op: 'read' | 'write'; space: 'mmio' | 'io'; addr: number | bigint; size: number; value?: number | bigint }) => {
      const d = m.decode(o);
      if (d.kind === 'other') {
        // An access that reaches a BAR can reach a device model, which may DMA.
        for (const fn of m.ownersAt(d.space, d.addr)) {
          this.addWriter(plan, fn);
          plan.dmaPossible = true;
        }
      }
      const land = d.kind === 'other' ? this.landing(d.space, d.addr) : { kind: 'unknown' as const };
      // The counters: master aborts per space and direction, invalid accesses (CounterIndex 0-4).
      if (land.kind === 'abort') this.counters[(o.space === 'io' ? 2 : 0) + (o.op === 'write' ? 1 : 0)]++;
      if (d.kind === 'invalid') this.counters[4]++;
      if (d.kind === 'config' && d.txs.length > 1) plan.messages = false;
      const r = m.run(d);
      let value = r.value;
      if (land.kind === 'table' && validSize({ size: o.size, decoded: d } as PlannedRead)) {
        const v = o.op === 'write' ? (typeof o.value === 'bigint' ? BigInt.asUintN(64, o.value) : BigInt((o.value ?? 0) as number >>> 0) | (o.size === 8 ? BigInt(Math.floor(Number(o.value ?? 0) / 4294967296) >>> 0) << 32n : 0n)) : 0n;
        const masked = o.size === 8 ? v : v & ((1n << BigInt(8 * o.size)) - 1n);
        value = this.irq.tableAccess(land.fn, land.offset, o.size, o.op === 'write', masked);
      }
      if (o.op === 'read') plan.reads.push({ decoded: d, value, unknown: r.unknown ?? 0n, lands: land.kind, size: o.size });
    };
    if (s.k === 'access') guest(s);
    else if (s.k === 'cfg') this.planBusConfig(s, plan);
    else if (s.k === 'batch') for (const o of s.ops) guest({ ...o, addr: Number(o.addr) });
    else if (s.k === 'dma') plan.dma = this.planDma(s, plan);
    else if (s.k === 'irq') {
      if (s.op === 'route') plan.signal = { result: this.irq.route(s.seg, s.dev, s.pin, s.gsi) ? 'delivered' : 'argument' };
      else if (s.op === 'intx') plan.signal = { result: this.irq.pin(s.fn) !== 0 ? 'delivered' : 'argument' };
      else plan.signal = this.irq.signal(s.op, s.fn, s.vector);
    }
    return plan;
  }

  /**
   * `bus.configRead/configWrite`: a BDF goes as it is; a path goes to where the function answers
   * now (nowhere: all ones, nothing written); sizes 1, 2, 4 at offsets 0..0xFFF, else all ones.
   */
  private planBusConfig(s: BusConfigStep, plan: Plan): void {
    const m = this.model;
    let where: { seg: number; bus: number; dev: number; fn: number } | undefined;
    if (s.target.includes('/')) {
      const fn = this.pathIndex.get(s.target);
      where = fn === undefined ? undefined : m.addressOf(fn);
    } else {
      const x = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(s.target)!;
      where = { seg: Number.parseInt(x[1] ?? '0', 16), bus: Number.parseInt(x[2], 16), dev: Number.parseInt(x[3], 16), fn: Number(x[4]) };
    }
    const sizeOk = s.size === 1 || s.size === 2 || s.size === 4;
    const performed = sizeOk && Number.isInteger(s.offset) && s.offset >= 0 && s.offset <= 0xfff && where !== undefined;
    const target = performed ? m.functionAt(where!.seg, where!.bus, where!.dev, where!.fn) : -1;
    if (s.op === 'write') {
      if (target >= 0) m.write(target, s.offset, s.size, (s.value ?? 0) >>> 0);
      return;
    }
    const r = performed ? m.read(target, s.offset, s.size) : { value: sizeOk ? (s.size === 1 ? 0xff : s.size === 2 ? 0xffff : 0xffffffff) : 0xffffffff, unknown: 0 };
    plan.reads.push({ decoded: { kind: 'config', txs: [], size: s.size, pair: false }, value: BigInt(r.value), unknown: BigInt(r.unknown), lands: 'unknown', size: s.size });
  }

  private addWriter(plan: Plan, fn: number): void {
    const ranges = plan.writers.get(fn) ?? [];
    ranges.push(...this.model.writable(fn));
    plan.writers.set(fn, ranges);
  }

  /**
   * What an access at `addr` (not a config mechanism) should reach (README "Dispatch rules"):
   * nothing (a master abort: reads all ones), a BAR with no handler there (reads 0), or a handler
   * (a device model, register file, doorbell, MSI-X table or PBA: not predicted). Overlaps: the
   * higher priority wins (handlers 20 over whole BARs 10), then the lower region id.
   */
  private landing(space: 'mmio' | 'io', addr: number): Landing {
    const unknown = { kind: 'unknown' as const };
    if (space === 'io' ? addr >= 0x10000 : addr >= 2 ** 52) return { kind: 'abort' };
    if (space === 'io' && addr >= 0xcf8 && addr <= 0xcff) return unknown;
    if (space === 'mmio' && this.layout.ecam.some((w) => addr >= w.base && addr < w.base + (w.busEnd - w.busStart + 1) * 0x100000)) return unknown;
    const a = BigInt(addr);
    let best: { priority: number; id: number; fn: number; base: bigint } | undefined;
    const consider = (priority: number, id: number, fn: number, base: bigint) => {
      if (!best || priority > best.priority || (priority === best.priority && id < best.id)) best = { priority, id, fn, base };
    };
    for (const f of this.layout.functions) {
      const applied = this.model.applied[f.index];
      for (let i = 0; i < f.bars.length; i++) {
        const b = f.bars[i];
        const m = applied[i];
        if (!m.mapped || (b.kind === 'io') !== (space === 'io') || a < m.base || a >= m.base + b.size) continue;
        const id = this.barRegion.get(`${f.index} ${b.index}`);
        if (id === undefined) return unknown;
        consider(10, id, f.index, m.base);
        for (const h of this.handlers.filter((x) => x.fn === f.index && x.bar === b.index)) {
          let off = this.handlerOffset.get(h.id);
          if (off === undefined) {
            // Learned the first time the BAR is mapped (the region checks then hold it to it).
            const r = this.wasm.bus.core.regionInfo(h.id);
            if (r.size === 0) return unknown;
            off = BigInt(r.base) - m.base;
            this.handlerOffset.set(h.id, off);
          }
          if (a >= m.base + off && a < m.base + off + h.length) consider(20, h.id, f.index, m.base + off);
        }
      }
    }
    if (best === undefined) return { kind: 'abort' };
    if (best.priority === 10) return { kind: 'zero' };
    const h = this.handlers.find((x) => x.id === best!.id);
    if (h?.kind === 8) return { kind: 'table', fn: best.fn, offset: Number(a - best.base) };
    return unknown;
  }

  /** Region ids of whole BARs ("fn bar") and the handler regions over parts of BARs, as createBus made them. */
  private readonly barRegion = new Map<string, number>();
  private readonly handlers: { id: number; fn: number; bar: number; length: bigint; kind: number }[] = [];

  private learnRegions(): void {
    for (let id = 1; id <= 4095; id++) {
      const r = this.wasm.bus.core.regionInfo(id);
      if (r.kind === 0 || r.slot < 0) continue;
      if (r.kind === 4) {
        this.barRegion.set(`${r.slot} ${r.bar}`, id);
        continue;
      }
      this.handlers.push({ id, fn: r.slot, bar: r.bar, length: BigInt(r.length), kind: r.kind });
      const m = this.layout.functions[r.slot]?.msix;
      if (m && r.kind === 8) this.handlerOffset.set(id, BigInt(m.tableOffset));
      if (m && r.kind === 9) this.handlerOffset.set(id, BigInt(m.pbaOffset));
    }
  }

  private planDma(s: DmaStep, plan: Plan): DmaPlan {
    const m = this.model;
    switch (s.op) {
      case 'create': case 'detach': return { op: s.op };
      case 'addRam': return { op: s.op, accepts: m.ramAccepts(s.base, s.size, s.external) };
      case 'removeRam': return { op: s.op, accepts: m.ram.has(s.index) };
      case 'map': case 'unmap': case 'destroy': case 'attach':
        return { op: s.op, accepts: m.dmaAccepts(s.op, s as { domain: number }) };
      case 'read': case 'write': case 'readSg': case 'writeSg': {
        const write = s.op === 'write' || s.op === 'writeSg';
        const list: [number, number][] = 'list' in s ? s.list : [[s.iova, s.length]];
        if (write) this.addWriter(plan, s.fn);
        return { op: s.op, prediction: m.predict(s.fn, write, list) };
      }
    }
  }

  private checkPlan(s: Step, plan: Plan, a: Outcome): Failure | undefined {
    const m = this.model;
    // Config reads and master aborts.
    for (let i = 0; i < plan.reads.length; i++) {
      const r = plan.reads[i];
      const got = a.reads[i];
      const what = r.lands === 'table' ? 'msix table' : r.value !== undefined ? 'config' : r.lands === 'zero' ? 'BAR-without-handler' : r.lands === 'abort' ? 'master-abort' : undefined;
      if (what) this.happened.set(`reads checked against the model: ${what}`, (this.happened.get(`reads checked against the model: ${what}`) ?? 0) + 1);
      if (r.value !== undefined) {
        if ((got & ~r.unknown) !== (r.value & ~r.unknown)) {
          this.expectedRead = { index: this.reads.length - a.reads.length + i, value: r.value };
          if (r.lands === 'table') return this.fail('interrupts', `${showStep(s)}: MSI-X table read ${hex(got)}, the model of the table as the guest programmed it expects ${hex(r.value)}`);
          return this.fail('config-read', `${showStep(s)}${plan.reads.length > 1 ? ` (read ${i})` : ''}: read ${hex(got)}, the model expects ${hex(r.value)}${r.unknown ? ` (bits ${hex(r.unknown)} not compared)` : ''}; ${this.describeConfig(r.decoded)}`);
        }
      } else if ((r.lands === 'zero' || r.lands === 'abort') && validSize(r)) {
        const want = r.lands === 'zero' ? 0n : r.size === 8 ? (1n << 64n) - 1n : BigInt(r.size === 1 ? 0xff : r.size === 2 ? 0xffff : 0xffffffff);
        if (got !== want) {
          this.expectedRead = { index: this.reads.length - a.reads.length + i, value: want };
          return this.fail(r.lands === 'zero' ? 'region-table' : 'abort', r.lands === 'zero'
            ? `${showStep(s)}: the address is in a BAR with no handler there (it reads 0), but it read ${hex(got)}`
            : `${showStep(s)}: nothing should decode this address (a master abort reads all ones), but it read ${hex(got)}`);
        }
      }
    }
    if (s.k === 'batch') {
      const status = /status (\d*)/.exec(a.text)![1];
      let k = 0;
      for (let i = 0; i < s.ops.length; i++) {
        const o = s.ops[i];
        if (o.op !== 'read') continue;
        const r = plan.reads[k++];
        if (r.lands === 'abort' && status[i] !== '1') return this.fail('abort', `batch record ${i} (${json(o)}): status ${status[i]}, expected 1 (master abort)`);
        if (r.lands === 'zero' && status[i] !== '0') return this.fail('region-table', `batch record ${i} (${json(o)}): status ${status[i]}, expected 0 (a BAR with no handler there)`);
      }
    }
    if (s.k === 'irq' && plan.signal) {
      const p = plan.signal;
      const got = a.text.startsWith('ArgumentError') ? 'argument' : s.op === 'intx' || s.op === 'route' ? 'delivered' : a.text;
      if (got !== p.result) return this.fail('interrupts', `${showStep(s)}: ${a.text}, the model expects ${p.result === 'argument' ? 'an ArgumentError' : p.result}`);
      const msgs = this.wasm.irqLog.filter((x) => x.startsWith('msg'));
      if (s.op !== 'intx' && s.op !== 'route' && msgs.join('|') !== (p.message ?? '')) {
        return this.fail('interrupts', `${showStep(s)}: ${a.text}: messages [${msgs.join(', ')}], the model expects [${p.message ?? ''}]`);
      }
    }
    if (s.k !== 'dma' || plan.dma === undefined) return undefined;
    const d = plan.dma;
    const failed = a.text.startsWith('ArgumentError');
    switch (s.op) {
      case 'create':
        if (!failed) m.dmaApply('create', { domain: Number(a.text.split(' ')[1]), kind: s.kind });
        return undefined;
      case 'detach':
        if (!failed) m.dmaApply('detach', { fn: s.fn });
        return undefined;
      case 'addRam': case 'removeRam': {
        if (d.accepts === failed && !(failed && / table full$/.test(a.text))) {
          return this.fail('dma-model', `${showStep(s)}: ${a.text}, the model expects the call to be ${d.accepts ? 'accepted' : 'refused'}`);
        }
        if (failed) return undefined;
        if (s.op === 'removeRam') {
          m.ram.delete(s.index);
          this.shadow.delete(s.index);
          return undefined;
        }
        const index = Number(a.text.split(' ')[1]);
        m.ram.set(index, { base: s.base, size: s.size });
        // New RAM the core holds reads zero (never what an earlier region there held).
        const bytes = this.wasm.ram(index);
        const nonzero = bytes.findIndex((b) => b !== 0);
        if (nonzero >= 0) return this.fail('dma-model', `${showStep(s)}: the new RAM region ${index} holds ${hex(bytes[nonzero])} at ${hex(s.base + nonzero)}, not zero`);
        this.shadow.set(index, new Uint8Array(s.size));
        return undefined;
      }
      case 'map': case 'unmap': case 'destroy': case 'attach': {
        if (d.accepts === !failed) {
          if (!failed) {
            const bytes = m.dmaApply(s.op, s as never);
            if (s.op === 'unmap' && a.text !== `unmapped ${bytes}`) return this.fail('dma-model', `${showStep(s)}: ${a.text}, the model expects unmapped ${bytes}`);
          }
          return undefined;
        }
        // FULL (out of page tables or domains) is the one refusal the model does not predict.
        if (failed && / table full$/.test(a.text)) return undefined;
        return this.fail('dma-model', `${showStep(s)}: ${a.text}, the model expects the call to be ${d.accepts ? 'accepted' : 'refused'}`);
      }
      default: {
        const p = d.prediction!;
        const result = a.text.split(' ')[0];
        if (failed !== (p.result === 'argument')) return this.fail('dma-model', `${showStep(s)}: ${a.text}, the model expects ${p.result === 'argument' ? 'an ArgumentError' : p.result}`);
        if (failed) return undefined;
        if (result !== p.result) return this.fail('dma-model', `${showStep(s)}: ${result}, the model expects ${p.result}${p.result === 'ok' ? '' : ''}`);
        if (p.result !== 'ok') return undefined;
        const reading = s.op === 'read' || s.op === 'readSg';
        const data = reading ? a.data! : pattern(p.spans.reduce((n, x) => n + x.length, 0), (s as { fill: number }).fill);
        // Reads: each byte as RAM holds it. Writes: RAM as the elements left it (a later element
        // writes over an earlier one where they overlap).
        const want = new Map<number, number>();
        let at = 0;
        for (const span of p.spans) {
          for (let i = 0; i < span.length; i++) {
            if (reading) {
              const ram = this.wasm.ramSlice(span.gpa + i, 1)![0];
              if (ram !== data[at + i]) return this.fail('dma-model', `${showStep(s)}: byte ${at + i} (gpa ${hex(span.gpa + i)}) read ${hex(data[at + i])}, RAM holds ${hex(ram)}`);
            } else {
              want.set(span.gpa + i, data[at + i]);
            }
          }
          at += span.length;
        }
        for (const [gpa, v] of want) {
          const ram = this.wasm.ramSlice(gpa, 1)![0];
          if (ram !== v) return this.fail('dma-model', `${showStep(s)}: gpa ${hex(gpa)}: RAM holds ${hex(ram)}, the model expects ${hex(v)} from the transfer`);
        }
        return undefined;
      }
    }
  }

  private describeConfig(d: Decoded): string {
    if (d.kind === 'latch') return `CONFIG_ADDRESS ${hex(this.model.latch)}`;
    if (d.kind !== 'config') return d.kind;
    return d.txs.map((t) => `${t.seg}:${t.bus.toString(16)}:${t.dev.toString(16)}.${t.fn} reg ${hex(t.reg)} size ${t.size} -> ${t.target < 0 ? 'no function' : this.layout.functions[t.target].path}`).join('; ') || 'not performed';
  }

  /** Effects, events, interrupts, DMA faults and model errors: the same on both, effects as the model says. */
  private drain(s: Step, plan: Plan): Failure | undefined {
    const ea = this.wasm.bus.effects();
    const eb = this.ts.bus.effects();
    if (json(ea) !== json(eb)) return this.fail('divergence', `${showStep(s)}: BAR effects: wasm ${json(ea)} / ts ${json(eb)}`);
    const want = this.model.takeEffects();
    const got = ea.map((e) => ({ fn: this.pathIndex.get(e.bdf) ?? -1, bar: e.bar, kind: e.kind, oldBase: e.oldBase, newBase: e.newBase, size: e.size }));
    const key = (e: ExpectedEffect) => json([e.fn, e.bar, e.kind, e.oldBase, e.newBase, e.size]);
    const wk = want.map(key).sort();
    const gk = got.map(key).sort();
    if (wk.join() !== gk.join()) {
      return this.fail('effects', `${showStep(s)}: BAR effects ${json(ea)}, the model expects ${json(want.map((e) => ({ ...e, bdf: this.layout.functions[e.fn].path })))}`);
    }
    const va = this.wasm.bus.events();
    const vb = this.ts.bus.events();
    if (json(va) !== json(vb)) return this.fail('divergence', `${showStep(s)}: doorbell events: wasm ${json(va)} / ts ${json(vb)}`);
    const count = (k: string, n = 1) => { if (n) this.happened.set(k, (this.happened.get(k) ?? 0) + n); };
    count('bar effects', ea.length);
    count('doorbell events', va.length);
    const ia = this.wasm.irqLog.splice(0);
    count('interrupt messages', ia.filter((x) => x.startsWith('msg')).length);
    count('interrupt line changes', ia.filter((x) => x.startsWith('line')).length);
    const ib = this.ts.irqLog.splice(0);
    if (ia.join('|') !== ib.join('|')) return this.fail('divergence', `${showStep(s)}: interrupts: wasm [${ia.join(', ')}] / ts [${ib.join(', ')}]`);
    for (const e of ia) {
      const [what, x, y] = e.split(' ');
      if (what === 'line') {
        // A line event is a change: the sink hears "up" only when the line was down, and back.
        const gsi = Number(x);
        const up = y === '1';
        if (this.irq.sinkUp.has(gsi) === up) return this.fail('interrupts', `${showStep(s)}: the sink was told line ${gsi} went ${up ? 'up' : 'down'}, but it was already ${up ? 'up' : 'down'}`);
        if (up) this.irq.sinkUp.add(gsi);
        else this.irq.sinkUp.delete(gsi);
      } else if (plan.messages) {
        const fn = this.pathIndex.get(x);
        if (fn === undefined || !this.irq.allowed(fn, e)) {
          return this.fail('interrupts', `${showStep(s)}: ${e}: not a message the function's MSI/MSI-X capability allows now (enabled, unmasked, its address and data)`);
        }
      }
    }
    const fa = this.wasm.bus.dma.faults();
    const fb = this.ts.bus.dma.faults();
    if (json(fa) !== json(fb)) return this.fail('divergence', `${showStep(s)}: DMA faults: wasm ${json(fa)} / ts ${json(fb)}`);
    for (const f of fa) count(`dma faults: ${f.reason}`);
    const ma = this.wasm.modelErrors.splice(0);
    count('device model errors', ma.length);
    const mb = this.ts.modelErrors.splice(0);
    if (ma.join('|') !== mb.join('|')) return this.fail('divergence', `${showStep(s)}: device model errors: wasm [${ma.join(', ')}] / ts [${mb.join(', ')}]`);
    // The Bus contains a throwing device model (the access completes as a master abort), but the
    // built-in models document that nothing a guest or embedder does makes them throw.
    if (ma.length > 0) return this.fail('model-error', `${showStep(s)}: a device model threw: ${ma.join('; ')}`);
    return undefined;
  }

  private memWrite(addr: number, h: string): void {
    const n = h.length >>> 1;
    for (const [i, r] of this.model.ram) {
      if (addr >= r.base && addr + n <= r.base + r.size) {
        const shadow = this.shadow.get(i)!;
        for (let k = 0; k < n; k++) shadow[addr - r.base + k] = parseInt(h.slice(2 * k, 2 * k + 2), 16);
        return;
      }
    }
  }

  /** Guest RAM: the same on both backends; changed only where this step's DMA writers may write. */
  private checkRam(writers: Map<number, { base: number; end: number }[]>): Failure | undefined {
    for (const [i, region] of this.model.ram) {
      const a = this.wasm.ram(i);
      const b = this.ts.ram(i);
      if (Buffer.compare(a, b) !== 0) {
        const at = firstDifference(a, b);
        return this.fail('divergence', `guest RAM at ${hex(region.base + at)}: wasm ${hex(a[at])} / ts ${hex(b[at])}`);
      }
      const shadow = this.shadow.get(i)!;
      if (Buffer.compare(a, shadow) === 0) continue;
      const allowed = [...writers.values()].flat();
      for (let chunk = 0; chunk < a.length; chunk += 4096) {
        const x = a.subarray(chunk, chunk + 4096);
        const y = shadow.subarray(chunk, chunk + 4096);
        if (Buffer.compare(x, y) === 0) continue;
        for (let k = 0; k < x.length; k++) {
          if (x[k] === y[k]) continue;
          const gpa = region.base + chunk + k;
          if (!allowed.some((r) => gpa >= r.base && gpa < r.end)) {
            const who = [...writers.keys()].map((f) => this.layout.functions[f].path).join(', ') || 'none';
            return this.fail('dma-outside', `guest RAM at ${hex(gpa)} changed (${hex(y[k])} -> ${hex(x[k])}) where no function that could DMA in this step may write (writers: ${who})`);
          }
        }
        y.set(x);
      }
    }
    return undefined;
  }

  // ---- Full checks ----------------------------------------------------------------------------

  /** Config planes, region table and counters. */
  full(): Failure | undefined {
    this.sinceFull = 0;
    // Every 16th time (and when asked for at the end): the masks, every region id, bus.stats().
    const deep = this.fullChecks++ % 16 === 0;
    return this.checkRam(new Map()) ?? this.checkPlanes(deep) ?? this.checkLines(deep) ?? this.checkRegions(deep) ?? this.checkStats(deep) ?? this.checkDevices(deep);
  }

  /** Full checks with the deep part (the masks, all 4095 region ids, bus.stats()). */
  final(): Failure | undefined {
    this.fullChecks = 0;
    return this.full();
  }

  private fullChecks = 0;
  /** Region ids above this were never used (createBus allocates them all): the fast scan stops there. */
  private regionLimit = 4095;

  private checkPlanes(deep: boolean): Failure | undefined {
    const ca = this.wasm.bus.core;
    const cb = this.ts.bus.core;
    for (const f of this.layout.functions) {
      const model = this.model.cfg[f.index];
      const vol = this.model.volatileBits(f.index);
      for (let o = 0; o < f.size; o++) {
        const x = ca.planeByte(f.index, 0, o);
        const y = cb.planeByte(f.index, 0, o);
        if (x !== y) return this.fail('divergence', `config ${f.path} [${hex(o)}]: wasm ${hex(x)} / ts ${hex(y)}`);
        if (x !== model[o]) {
          const v = vol.get(o) ?? 0;
          const diff = (x ^ model[o]) & ~v;
          if (diff !== 0) {
            const ro = diff & ~(f.wmask[o] | f.w1cmask[o]);
            return this.fail(ro ? 'read-only' : 'config-model',
              `config ${f.path} [${hex(o)}] is ${hex(x)}, the model expects ${hex(model[o])}${ro ? `: read-only bits ${hex(ro)} changed (wmask ${hex(f.wmask[o])}, w1c ${hex(f.w1cmask[o])})` : ''}`);
          }
          model[o] = x;
        }
      }
      for (let o = 0; o < (deep ? f.size : 0); o++) {
        for (const [plane, want] of [[1, f.wmask], [2, f.w1cmask]] as const) {
          const x = ca.planeByte(f.index, plane, o);
          const y = cb.planeByte(f.index, plane, o);
          if (x !== want[o] || y !== want[o]) {
            return this.fail('mask-plane', `${plane === 1 ? 'wmask' : 'w1cmask'} ${f.path} [${hex(o)}]: wasm ${hex(x)}, ts ${hex(y)}, loaded ${hex(want[o])}`);
          }
        }
      }
    }
    return undefined;
  }

  /** The region table as the cores hold it (ids 1..limit), both the same; in bus.stats() terms. */
  private scanRegions(limit: number): RegionView[] | Failure {
    const out: RegionView[] = [];
    const ca = this.wasm.bus.core;
    const cb = this.ts.bus.core;
    for (let id = 1; id <= limit; id++) {
      const x = ca.regionInfo(id);
      const y = cb.regionInfo(id);
      if (x.kind !== y.kind || x.slot !== y.slot || x.bar !== y.bar || x.base !== y.base || x.size !== y.size || x.length !== y.length || x.reads !== y.reads || x.writes !== y.writes) {
        return this.fail('divergence', `region ${id}: wasm ${json(x)} / ts ${json(y)}`);
      }
      if (x.kind === 0) continue;
      const kind = REGION_KINDS[x.kind] ?? `kind ${x.kind}`;
      const f = x.slot >= 0 ? this.layout.functions[x.slot] : undefined;
      const bar = f?.bars.find((b) => b.index === x.bar);
      out.push({
        id, kind, bdf: x.slot >= 0 ? (f?.path ?? `slot ${x.slot}`) : undefined, bar: x.slot >= 0 ? x.bar : undefined,
        space: x.kind === 2 || x.kind === 3 || (kind !== 'msix-table' && kind !== 'msix-pba' && bar?.kind === 'io') ? 'io' : 'mmio',
        base: x.size === 0 ? null : BigInt(x.base), size: BigInt(x.size === 0 ? x.length : x.size),
        name: `${f?.path ?? ''} ${kind}${x.slot >= 0 ? ` BAR ${x.bar}` : ''} (region ${id})`,
      });
    }
    return out;
  }

  /** INTx: each GSI's count of driving functions, on both cores, in the sink, as the model says. */
  private checkLines(deep: boolean): Failure | undefined {
    const level = (fn: number) => (this.model.cfg[fn][6] & 0x08) !== 0;
    const want = this.irq.lineCounts(level);
    const gsis = deep ? [...Array(1024).keys()] : [...new Set([...this.irq.routedGsis(), ...want.keys(), ...this.irq.sinkUp])];
    for (const gsi of gsis) {
      const x = this.wasm.bus.core.lineLevel(gsi);
      const y = this.ts.bus.core.lineLevel(gsi);
      if (x !== y) return this.fail('divergence', `lineLevel(${gsi}): wasm ${x} / ts ${y}`);
      const w = want.get(gsi) ?? 0;
      if (x !== w) {
        const drivers = this.layout.functions.filter((f) => level(f.index) && this.irq.gsiOf(f.index) === gsi).map((f) => f.path);
        return this.fail('interrupts', `GSI ${gsi} is driven by ${x} functions, the model expects ${w} (functions at level high routed there: ${drivers.join(', ') || 'none'})`);
      }
      if (this.irq.sinkUp.has(gsi) !== (w > 0)) return this.fail('interrupts', `the sink last heard GSI ${gsi} go ${this.irq.sinkUp.has(gsi) ? 'up' : 'down'}, but ${w} functions drive it`);
    }
    return undefined;
  }

  private checkRegions(deep: boolean): Failure | undefined {
    const scanned = this.scanRegions(deep ? 4095 : this.regionLimit);
    if (!Array.isArray(scanned)) return scanned;
    const want = this.model.expectedRegions();
    const seen = new Set<string>();
    for (const r of scanned) {
      if (r.bdf === undefined) {
        const fixed = r.kind === 'cf8' ? r.base === 0xcf8n && r.size === 4n : r.kind === 'cfc' ? r.base === 0xcfcn && r.size === 4n
          : r.kind === 'ecam' ? this.layout.ecam.some((w) => BigInt(w.base) === r.base && BigInt((w.busEnd - w.busStart + 1) * 0x100000) === r.size) : false;
        if (!fixed) return this.fail('region-table', `unexpected region ${json(r)}`);
        continue;
      }
      const fn = this.pathIndex.get(r.bdf);
      if (fn === undefined) return this.fail('region-table', `region of an unknown function ${json(r)}`);
      const barBase = this.model.barBase(fn, r.bar!);
      if (r.kind === 'bar' || r.kind === 'msix-table' || r.kind === 'msix-pba') {
        const e = want.find((x) => x.fn === fn && x.bar === r.bar && x.kind === r.kind);
        const key = `${r.kind} ${fn} ${r.bar}`;
        if (seen.has(key)) return this.fail('region-table', `two ${r.kind} regions for ${r.bdf} BAR ${r.bar}`);
        seen.add(key);
        if (e === undefined) {
          if (r.base !== null) return this.fail('region-table', `${r.name} is mapped at ${hex(r.base)} (+${hex(r.size)}), the model rebuilt from config space says it is not mapped${this.barNote(fn, r.bar!)}`);
          continue;
        }
        if (r.base !== e.base || r.size !== e.size || r.space !== e.space) {
          return this.fail('region-table', `${r.name} is ${r.base === null ? 'not mapped' : `at ${r.space} ${hex(r.base)} +${hex(r.size)}`}, the model rebuilt from config space says ${e.space} ${hex(e.base)} +${hex(e.size)}${this.barNote(fn, r.bar!)}`);
        }
        continue;
      }
      // A handler over part of a BAR: mapped exactly while its BAR is, at a fixed offset in it.
      if ((r.base === null) !== (barBase === undefined)) {
        return this.fail('region-table', `${r.name} (${r.kind}) is ${r.base === null ? 'not mapped' : `mapped at ${hex(r.base)}`} while its BAR is ${barBase === undefined ? 'not mapped' : `at ${hex(barBase)}`}`);
      }
      if (r.base !== null && barBase !== undefined) {
        const off = r.base - barBase;
        const known = this.handlerOffset.get(r.id);
        if (known === undefined) this.handlerOffset.set(r.id, off);
        else if (known !== off) return this.fail('region-table', `${r.name} (${r.kind}) is at offset ${hex(off)} of its BAR, earlier at ${hex(known)}`);
      }
    }
    for (const e of want) {
      if (!seen.has(`${e.kind} ${e.fn} ${e.bar}`)) return this.fail('region-table', `no ${e.kind} region for ${this.layout.functions[e.fn].path} BAR ${e.bar}; the model expects ${e.space} ${hex(e.base)} +${hex(e.size)}`);
    }
    if (!deep) return undefined;
    // bus.regions() and bus.stats() say the same as the cores.
    const sa = this.wasm.bus.stats();
    const sb = this.ts.bus.stats();
    if (json(sa.regions) !== json(sb.regions)) return this.fail('divergence', `bus.stats().regions: wasm ${json(sa.regions)} / ts ${json(sb.regions)}`);
    const core = json(scanned.map((r) => [r.id, r.base, r.size]));
    const stats = json(sa.regions.map((r) => [r.id, r.base, r.size]));
    if (core !== stats) return this.fail('region-table', `bus.stats().regions ${stats} differs from the cores' regions ${core}`);
    const mapped = json(sa.regions.filter((r) => r.base !== null).map((r) => [r.id, r.base, r.size]));
    for (const env of [this.wasm, this.ts]) {
      const listed = json(env.bus.regions().map((r) => [r.id, r.base, r.size]));
      if (mapped !== listed) return this.fail('region-table', `bus.regions() (${env.bus.backend}) ${listed} differs from the mapped regions of stats() ${mapped}`);
    }
    return undefined;
  }

  private barNote(fn: number, bar: number): string {
    const f = this.layout.functions[fn];
    const b = f.bars.find((x) => x.index === bar);
    if (!b) return '';
    const c = this.model.cfg[fn];
    const dw = (o: number) => hex((c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24)) >>> 0);
    return ` (${b.kind} ${hex(b.size)}: register ${dw(b.reg)}${b.kind === 'mem64' ? ` upper ${dw(b.reg + 4)}` : ''}, Command ${dw(4)})`;
  }

  /** Device models' own state on both buses: virtio status and reset reason, disk images, test-device buffers. */
  private checkDevices(deep: boolean): Failure | undefined {
    for (const f of this.layout.functions) {
      if (!f.behaviour) continue;
      const x = this.wasm.bus.device(f.path) as DeviceView | undefined;
      const y = this.ts.bus.device(f.path) as DeviceView | undefined;
      const state = (d: DeviceView | undefined) => json({ status: d?.transport?.status, reason: d?.transport?.needsResetReason, served: d?.bytesServed });
      if (state(x) !== state(y)) return this.fail('divergence', `device ${f.path}: wasm ${state(x)} / ts ${state(y)}`);
      if (!deep) continue;
      for (const k of ['image', 'buffer'] as const) {
        const a = x?.[k];
        const b = y?.[k];
        if (a && b && Buffer.compare(a, b) !== 0) return this.fail('divergence', `device ${f.path} ${k}: wasm and ts differ at byte ${firstDifference(a, b)}`);
      }
    }
    return undefined;
  }

  /** What the model counted: master aborts (MMIO read, write, IO read, write), invalid accesses; then model errors and drops (0). */
  private readonly counters = [0, 0, 0, 0, 0, 0, 0, 0, 0];

  private checkStats(deep: boolean): Failure | undefined {
    const names = ['MMIO read aborts', 'MMIO write aborts', 'IO read aborts', 'IO write aborts', 'invalid accesses', 'model errors', 'dropped events', 'dropped effects', 'dropped interrupts'];
    for (let c = 0; c < 9; c++) {
      const x = this.wasm.bus.core.counterValue(c);
      const y = this.ts.bus.core.counterValue(c);
      if (x !== y) return this.fail('divergence', `counter ${names[c]}: wasm ${x} / ts ${y}`);
      if (x !== this.counters[c]) return this.fail('abort', `counter ${names[c]} is ${x}, the model counted ${this.counters[c]}`);
    }
    if (deep) {
      const sa = this.wasm.bus.stats();
      const sb = this.ts.bus.stats();
      if (json(sa) !== json(sb)) return this.fail('divergence', `bus.stats(): wasm ${json(sa)} / ts ${json(sb)}`);
    }
    const da = json(this.wasm.bus.dma.stats());
    const db = json(this.ts.bus.dma.stats());
    if (da !== db) return this.fail('divergence', `bus.dma.stats(): wasm ${da} / ts ${db}`);
    return undefined;
  }
}

/** What the fuzzer looks at in a device model instance (virtio transport, disk, test-device buffer). */
interface DeviceView {
  transport?: { status: number; needsResetReason?: string };
  bytesServed?: number;
  image?: Uint8Array;
  buffer?: Uint8Array;
}

/** Region kinds as bus.stats() names them (RegionKind numbers). */
const REGION_KINDS: Record<number, string> = { 1: 'ecam', 2: 'cf8', 3: 'cfc', 4: 'bar', 5: 'regfile', 6: 'doorbell', 7: 'model', 8: 'msix-table', 9: 'msix-pba' };

interface RegionView {
  id: number;
  kind: string;
  bdf?: string;
  bar?: number;
  space: 'mmio' | 'io';
  base: bigint | null;
  size: bigint;
  name: string;
}

interface PlannedRead {
  decoded: Decoded;
  /** The model's value for config reads; undefined for other reads. */
  value?: bigint;
  unknown: bigint;
  /** What the address reaches: nothing (all ones), a BAR with no handler there (0), an MSI-X table, or unknown. */
  lands: Landing['kind'];
  size: number;
}

interface DmaPlan {
  op: DmaStep['op'];
  accepts?: boolean;
  prediction?: ReturnType<RefModel['predict']>;
}

interface Plan {
  reads: PlannedRead[];
  /** Functions that may write guest RAM by DMA in this step, with the ranges each may write. */
  writers: Map<number, { base: number; end: number }[]>;
  dma: DmaPlan | undefined;
  /** Whether the step can change guest RAM (RAM is compared after it; otherwise at full checks). */
  dmaPossible: boolean;
  /** Whether the messages sent in the step are checked against the capabilities' state after it. */
  messages: boolean;
  /** An embedder interrupt call: what it should return and send. */
  signal?: SignalPrediction;
}

type Landing = { kind: 'abort' | 'zero' | 'unknown' } | { kind: 'table'; fn: number; offset: number };

/** A read the Bus performs (an invalid size or address is counted as invalid instead). */
function validSize(r: PlannedRead): boolean {
  return r.size === 1 || r.size === 2 || r.size === 4 || (r.size === 8 && r.decoded.kind === 'other' && r.decoded.space === 'mmio');
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function stackOf(e: unknown): string {
  return e instanceof Error && e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : '';
}

export type { AccessStep, BatchStep };
