// One backend under fuzz: a bus on the Wasm core or the TypeScript twin, its guest RAM (one region
// the embedder owns at 0, as `vpci replay` sets it up, and one the core holds above 4 GiB), and
// recorders for what leaves the bus (interrupt sink calls, device-model errors). `exec` runs a
// step and describes its outcome as a string, so the two backends' outcomes compare with `===`.
import { createBus } from '../src/bus.js';
import type { Bus } from '../src/bus.js';
import type { BackendKind } from '../src/core/backend.js';
import { ArgumentError } from '../src/errors.js';
import type { ResolvedTopology } from '../src/topology/index.js';
import type { Step } from './steps.js';

/**
 * Guest RAM of a fuzz bus: region 0 at 0 (the embedder's buffer, as `vpci replay --ram-mib 1` has
 * it), region 1 above 4 GiB and region 2 right after region 0 (both held by the core), so that
 * transfers cross from the embedder's RAM into the core's and 2 MiB pages span two regions.
 */
export const RAM = [
  { base: 0, size: 1 << 20, external: true },
  { base: 0x1_0000_0000, size: 64 << 10, external: false },
  { base: 1 << 20, size: 64 << 10, external: false },
] as const;

/** What a step did on one backend. */
export interface Outcome {
  /** The result as text ("=0x12", "ok", "ArgumentError: ...", "delivered", ...). */
  text: string;
  /** The values reads returned, in order (for trace reproducers). */
  reads: bigint[];
  /** Bytes a DMA read returned. */
  data?: Uint8Array;
  /** An exception that is not an ArgumentError of an embedder call: always a failure. */
  crash?: unknown;
}

/** A RAM region a bus has now, by the index addRam returned. */
export interface RamRegion {
  base: number;
  size: number;
  /** The embedder's bytes (undefined: RAM the core holds). */
  external?: Uint8Array;
}

export class Env {
  readonly irqLog: string[] = [];
  readonly modelErrors: string[] = [];
  /** The RAM regions, by index. */
  readonly regions = new Map<number, RamRegion>();

  private constructor(readonly bus: Bus, readonly paths: string[]) {}

  static async create(backend: BackendKind, topology: ResolvedTopology): Promise<Env> {
    let env: Env | undefined;
    const bus = await createBus({
      backend, topology,
      onError: (error) => env?.modelErrors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
      interrupts: {
        line: (gsi, level) => { env?.irqLog.push(`line ${gsi} ${level ? 1 : 0}`); },
        message: (address, data, bdf) => { env?.irqLog.push(`msg ${bdf} 0x${address.toString(16)} 0x${data.toString(16)}`); },
      },
    });
    env = new Env(bus, topology.functions.map((f) => f.path));
    for (const r of RAM) env.addRam(r.base, r.size, r.external);
    return env;
  }

  private addRam(base: number, size: number, external: boolean): number {
    const bytes = external ? new Uint8Array(size) : undefined;
    const index = this.bus.dma.addRam({ base, size, buffer: bytes });
    this.regions.set(index, { base, size, external: bytes });
    return index;
  }

  /** The bytes of RAM region `index` now (a fresh view for RAM the core holds: its memory may grow). */
  ram(index: number): Uint8Array {
    const r = this.regions.get(index)!;
    return r.external ?? this.bus.dma.ram(index);
  }

  /** Bytes at guest-physical `gpa`, if all of them are in one RAM region. */
  ramSlice(gpa: number, length: number): Uint8Array | undefined {
    for (const [i, r] of this.regions) {
      if (gpa >= r.base && gpa + length <= r.base + r.size) return this.ram(i).subarray(gpa - r.base, gpa - r.base + length);
    }
    return undefined;
  }

  /** Runs one step. */
  exec(s: Step): Outcome {
    const reads: bigint[] = [];
    const bus = this.bus;
    const guest = s.k === 'access' || s.k === 'batch' || s.k === 'mem';
    try {
      switch (s.k) {
        case 'access': {
          if (s.op === 'read') {
            const v: number | bigint = s.space === 'mmio' ? bus.mmioRead(s.addr, s.size) : bus.ioRead(s.addr as number, s.size);
            reads.push(BigInt(v));
            return { text: `=${v.toString(16)}${typeof v === 'bigint' ? 'n' : ''}`, reads };
          }
          if (s.space === 'mmio') bus.mmioWrite(s.addr, s.size, s.value ?? 0);
          else bus.ioWrite(s.addr as number, s.size, s.value as number);
          return { text: 'ok', reads };
        }
        case 'batch': {
          const records = new Uint8Array(s.ops.length * 24);
          const view = new DataView(records.buffer);
          s.ops.forEach((o, i) => {
            const at = i * 24;
            view.setUint8(at, (o.space === 'io' ? 3 : 1) + (o.op === 'write' ? 1 : 0));
            view.setUint8(at + 1, o.size);
            view.setUint16(at + 2, o.op === 'read' && o.expected !== undefined ? 1 : 0, true);
            view.setBigUint64(at + 8, o.addr, true);
            view.setBigUint64(at + 16, (o.op === 'write' ? o.value : o.expected) ?? 0n, true);
          });
          const r = bus.replay(records);
          s.ops.forEach((o, i) => { if (o.op === 'read') reads.push(r.results[i]); });
          return { text: `${[...r.results].map((v) => v.toString(16)).join(',')} status ${[...r.status].join('')} mismatches ${r.mismatches.join(',')}`, reads };
        }
        case 'mem': {
          const data = hex(s.hex);
          const at = this.ramSlice(s.addr, data.length);
          if (at) at.set(data);
          return { text: at ? 'ok' : 'outside', reads };
        }
        case 'dma':
          return { text: this.dma(s), reads, data: this.lastRead };
        case 'irq':
          return { text: this.irq(s), reads };
        case 'cfg':
          if (s.op === 'read') {
            const v = bus.configRead(s.target, s.offset, s.size);
            reads.push(BigInt(v));
            return { text: `=${v.toString(16)}`, reads };
          }
          bus.configWrite(s.target, s.offset, s.size, s.value ?? 0);
          return { text: 'ok', reads };
      }
    } catch (error) {
      if (!guest && error instanceof ArgumentError) return { text: `ArgumentError: ${error.message}`, reads };
      return { text: `threw ${describe(error)}`, reads, crash: error };
    }
  }

  private lastRead: Uint8Array | undefined;

  private dma(s: Extract<Step, { k: 'dma' }>): string {
    const d = this.bus.dma;
    this.lastRead = undefined;
    switch (s.op) {
      case 'create': return `domain ${d.createDomain(s.kind)}`;
      case 'destroy': d.destroyDomain(s.domain); return 'ok';
      case 'map': d.map(s.domain, { iova: s.iova, gpa: s.gpa, size: s.size, read: s.read, write: s.write }); return 'ok';
      case 'unmap': return `unmapped ${d.unmap(s.domain, s.iova, s.size)}`;
      case 'attach': d.attach(this.paths[s.fn], s.domain); return 'ok';
      case 'detach': d.detach(this.paths[s.fn]); return 'ok';
      case 'read': {
        const into = new Uint8Array(s.length);
        const r = d.read(this.paths[s.fn], s.iova, into);
        this.lastRead = into;
        return `${r} ${digest(into)}`;
      }
      case 'write': return d.write(this.paths[s.fn], s.iova, pattern(s.length, s.fill));
      case 'readSg': {
        const into = new Uint8Array(s.list.reduce((n, [, len]) => n + len, 0));
        const r = d.readSg(this.paths[s.fn], s.list.map(([iova, length]) => ({ iova, length })), into);
        this.lastRead = into;
        return `${r} ${digest(into)}`;
      }
      case 'writeSg': {
        const total = s.list.reduce((n, [, len]) => n + len, 0);
        return d.writeSg(this.paths[s.fn], s.list.map(([iova, length]) => ({ iova, length })), pattern(total, s.fill));
      }
      case 'addRam': return `ram ${this.addRam(s.base, s.size, s.external)}`;
      case 'removeRam':
        d.removeRam(s.index);
        this.regions.delete(s.index);
        return 'ok';
    }
  }

  private irq(s: Extract<Step, { k: 'irq' }>): string {
    const i = this.bus.interrupts;
    switch (s.op) {
      case 'intx': i.intx(this.paths[s.fn], s.level); return 'ok';
      case 'msi': return i.msi(this.paths[s.fn], s.vector);
      case 'msix': return i.msix(this.paths[s.fn], s.vector);
      case 'notify': return i.notify(this.paths[s.fn], s.vector);
      case 'route': i.route(s.seg, s.dev, s.pin, s.gsi); return 'ok';
    }
  }
}

/** The bytes an embedder DMA write or writeSg step moves: a pattern from its fill byte. */
export function pattern(length: number, fill: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (fill + i * 0x9d + (i >>> 8)) & 0xff;
  return out;
}

function hex(h: string): Uint8Array {
  const out = new Uint8Array(h.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A short fingerprint of bytes (FNV-1a) for outcome texts. */
export function digest(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return `${b.length}:${(h >>> 0).toString(16)}`;
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
