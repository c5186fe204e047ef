// The reference model of interrupts (README "Interrupts", PCI 3.0 §6.2.4, §6.8.1, §6.8.2,
// PCI-to-PCI Bridge 1.2 §9.1), written from the documented rules:
//   - INTx: which GSIs are asserted and how many functions drive each, from each function's level
//     (Status bit 3, the device model's level), pin, Interrupt Disable, MSI/MSI-X enables, the
//     swizzle at every bridge and the routing table;
//   - MSI-X tables as the guest programs them (aligned dwords and qwords, Vector Control keeps its
//     mask bit), so table reads are predicted;
//   - what an embedder's msi/msix/notify call returns and the message it sends;
//   - whether a message the bus sends is one the function's capability allows now.
import { piixRoutes } from '../src/interrupts/index.js';
import type { ResolvedTopology } from '../src/topology/index.js';
import type { Layout } from './layout.js';
import type { RefModel } from './model.js';

const MAX_VECTOR = 0x7fffffff;

const cfg16 = (c: Uint8Array, o: number) => c[o] | (c[o + 1] << 8);
const cfg32 = (c: Uint8Array, o: number) => (c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24)) >>> 0;

/** What an embedder signal call should do. */
export interface SignalPrediction {
  result: 'delivered' | 'pending' | 'disabled' | 'argument';
  /** The message it sends, as the sink recorder writes it. */
  message?: string;
}

export class IrqModel {
  /** seg,device,pin -> GSI (absent: unrouted). */
  private readonly routes = new Map<string, number>();
  /** MSI-X tables by function: entries x 16 bytes. */
  readonly tables = new Map<number, DataView>();
  /** The GSIs the sink was told are up. */
  readonly sinkUp = new Set<number>();

  constructor(private readonly layout: Layout, private readonly model: RefModel, topology: ResolvedTopology) {
    const routes = topology.interrupts?.routes ?? piixRoutes(topology.segments.map((s) => s.segment));
    for (const r of routes) if (r.gsi !== null && r.gsi !== undefined) this.routes.set(`${r.segment},${r.device},${r.pin}`, r.gsi);
    for (const f of layout.functions) {
      if (!f.msix) continue;
      const t = new DataView(new ArrayBuffer(f.msix.entries * 16));
      // PCI 3.0 §6.8.2.9: every entry starts masked.
      for (let k = 0; k < f.msix.entries; k++) t.setUint32(k * 16 + 12, 1, true);
      this.tables.set(f.index, t);
    }
  }

  // ---- INTx -------------------------------------------------------------------------------------

  /** Whether `route(seg, dev, pin, gsi)` is accepted (service.route's documented ranges); applies it. */
  route(seg: number, dev: number, pin: number, gsi: number | null): boolean {
    const ok = (v: number, max: number, min = 0) => Number.isInteger(v) && v >= min && v <= max;
    if (!ok(seg, 15) || !ok(dev, 31) || !ok(pin, 4, 1)) return false;
    if (gsi !== null && !ok(gsi, 1023)) return false;
    if (gsi === null) this.routes.delete(`${seg},${dev},${pin}`);
    else this.routes.set(`${seg},${dev},${pin}`, gsi);
    return true;
  }

  /** The GSIs mentioned by the routing table. */
  routedGsis(): Set<number> {
    return new Set(this.routes.values());
  }

  pin(fn: number): number {
    const p = this.layout.functions[fn].config[0x3d];
    return p >= 1 && p <= 4 ? p : 0;
  }

  private msiEnabled(fn: number): boolean {
    const f = this.layout.functions[fn];
    const c = this.model.cfg[fn];
    return (f.msi !== undefined && (cfg16(c, f.msi.cap + 2) & 1) !== 0) || (f.msix !== undefined && (cfg16(c, f.msix.cap + 2) & 0x8000) !== 0);
  }

  /** The GSI a function's pin reaches: swizzled at every bridge up to the root bus, then routed. */
  gsiOf(fn: number): number | undefined {
    let pin = this.pin(fn);
    let f = this.layout.functions[fn];
    while (f.parent >= 0) {
      pin = ((pin - 1 + f.dev) % 4) + 1;
      f = this.layout.functions[f.parent];
    }
    return this.routes.get(`${f.seg},${f.dev},${pin}`);
  }

  /**
   * How many functions drive each GSI, given each function's level: a function drives its line
   * while its level is high, it has a pin, Interrupt Disable (Command bit 10) is clear and neither
   * MSI nor MSI-X is enabled.
   */
  lineCounts(level: (fn: number) => boolean): Map<number, number> {
    const out = new Map<number, number>();
    for (const f of this.layout.functions) {
      if (!level(f.index) || this.pin(f.index) === 0) continue;
      if ((cfg16(this.model.cfg[f.index], 4) & 0x400) !== 0 || this.msiEnabled(f.index)) continue;
      const gsi = this.gsiOf(f.index);
      if (gsi !== undefined) out.set(gsi, (out.get(gsi) ?? 0) + 1);
    }
    return out;
  }

  // ---- MSI-X table ------------------------------------------------------------------------------

  /**
   * A guest access to byte `offset` of function `fn`'s MSI-X table: aligned dwords and qwords
   * only (others read all ones and write nothing); Vector Control keeps only its mask bit. Returns
   * the value read (bigint), or undefined for writes.
   */
  tableAccess(fn: number, offset: number, size: number, write: boolean, value: bigint): bigint | undefined {
    const t = this.tables.get(fn)!;
    const valid = ((size === 4 && offset % 4 === 0) || (size === 8 && offset % 8 === 0)) && offset >= 0 && offset + size <= t.byteLength;
    if (!valid) return write ? undefined : (size === 8 ? (1n << 64n) - 1n : BigInt(size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff));
    if (!write) return size === 8 ? (BigInt(t.getUint32(offset + 4, true)) << 32n) | BigInt(t.getUint32(offset, true)) : BigInt(t.getUint32(offset, true));
    const put = (o: number, v: number) => t.setUint32(o, o % 16 === 12 ? v & 1 : v, true);
    put(offset, Number(value & 0xffffffffn));
    if (size === 8) put(offset + 4, Number((value >> 32n) & 0xffffffffn));
    return undefined;
  }

  // ---- Signals and messages ---------------------------------------------------------------------

  private msiVectors(fn: number): number {
    const c = this.model.cfg[fn];
    const control = cfg16(c, this.layout.functions[fn].msi!.cap + 2);
    return 1 << Math.min((control >> 4) & 7, (control >> 1) & 7, 5);
  }

  private msiMessage(fn: number, k: number): string {
    const f = this.layout.functions[fn];
    const m = f.msi!;
    const c = this.model.cfg[fn];
    const lo = BigInt(cfg32(c, m.cap + 4));
    const address = m.is64 ? (BigInt(cfg32(c, m.cap + 8)) << 32n) | lo : lo;
    const n = this.msiVectors(fn);
    const data = ((cfg16(c, m.dataReg) & ~(n - 1)) | k) >>> 0;
    return `msg ${f.path} 0x${address.toString(16)} 0x${data.toString(16)}`;
  }

  private msixMessage(fn: number, k: number): string {
    const t = this.tables.get(fn)!;
    const address = (BigInt(t.getUint32(k * 16 + 4, true)) << 32n) | BigInt(t.getUint32(k * 16, true));
    return `msg ${this.layout.functions[fn].path} 0x${address.toString(16)} 0x${t.getUint32(k * 16 + 8, true).toString(16)}`;
  }

  /** What `bus.interrupts.msi/msix/notify(fn, vector)` should do; `msiMask` is the MSI Mask Bits now. */
  signal(op: 'msi' | 'msix' | 'notify', fn: number, vector: number): SignalPrediction {
    const f = this.layout.functions[fn];
    const c = this.model.cfg[fn];
    if (!Number.isInteger(vector) || vector < 0 || vector > MAX_VECTOR) return { result: 'argument' };
    const msixOn = f.msix !== undefined && (cfg16(c, f.msix.cap + 2) & 0x8000) !== 0;
    const msiOn = f.msi !== undefined && (cfg16(c, f.msi.cap + 2) & 1) !== 0;
    if (op === 'msix' || (op === 'notify' && msixOn)) {
      if (!f.msix) return { result: 'argument' };
      if (vector >= f.msix.entries) return { result: 'argument' };
      if (!msixOn) return { result: 'disabled' };
      const t = this.tables.get(fn)!;
      if ((cfg16(c, f.msix.cap + 2) & 0x4000) !== 0 || (t.getUint32(vector * 16 + 12, true) & 1) !== 0) return { result: 'pending' };
      return { result: 'delivered', message: this.msixMessage(fn, vector) };
    }
    if (op === 'msi' || (op === 'notify' && msiOn)) {
      if (!f.msi) return { result: 'argument' };
      if (!msiOn) return { result: 'disabled' };
      if (vector >= this.msiVectors(fn)) return { result: 'argument' };
      if (f.msi.perVectorMask && ((cfg32(c, f.msi.maskReg) >>> vector) & 1) !== 0) return { result: 'pending' };
      return { result: 'delivered', message: this.msiMessage(fn, vector) };
    }
    return { result: 'disabled' };
  }

  /**
   * Whether a message the bus sent for `fn` is one its capabilities allow now: with MSI-X enabled
   * and Function Mask clear, an unmasked entry's address and data; with MSI enabled, the
   * capability's address and data with a vector below the enabled count in its low bits, not masked.
   */
  allowed(fn: number, message: string): boolean {
    const f = this.layout.functions[fn];
    const c = this.model.cfg[fn];
    // Both enabled is the guest's mistake (PCI 3.0 §6.8.2); each capability may then send its own.
    if (f.msix && (cfg16(c, f.msix.cap + 2) & 0xc000) === 0x8000) {
      const t = this.tables.get(fn)!;
      for (let k = 0; k < f.msix.entries; k++) {
        if ((t.getUint32(k * 16 + 12, true) & 1) === 0 && this.msixMessage(fn, k) === message) return true;
      }
    }
    if (f.msi && (cfg16(c, f.msi.cap + 2) & 1) !== 0) {
      for (let k = 0; k < this.msiVectors(fn); k++) {
        if (f.msi.perVectorMask && ((cfg32(c, f.msi.maskReg) >>> k) & 1) !== 0) continue;
        if (this.msiMessage(fn, k) === message) return true;
      }
    }
    return false;
  }
}
