// The Bus's DMA service: what device models and embedders call. The core validates and
// translates every transfer (bus mastering, IOMMU domain, IOTLB, guest RAM bounds) and lists its
// segments; this layer then copies each segment once, straight between guest RAM (the core's
// memory or the embedder's ArrayBuffer) and the caller's bytes. Scatter-gather goes through the
// core's transfer buffer.
import type { CoreBackend } from '../core/backend.js';
import { statusText } from '../core/backend.js';
import {
  BUFFER_SIZE, Counter, DIR_READ, DIR_WRITE, DomainType, FAULT_STATUS, MAX_SG, PERM_READ, PERM_WRITE, Reason,
  SEGMENT_BYTES, SEGMENT_INTERNAL, SG_BYTES, runSegments, readFaults, readSegments,
} from '../core/ts/dma/index.js';
import { ArgumentError } from '../errors.js';
import type { DmaFaultRecord, DmaResult, DmaStats, DomainKind, MapOptions, RamOptions, SgElement } from './types.js';

const REASONS: Record<number, Exclude<DmaResult, 'ok'>> = {
  [Reason.BUS_MASTER]: 'bus-master-off',
  [Reason.BLOCKED]: 'blocked',
  [Reason.UNMAPPED]: 'unmapped',
  [Reason.PERMISSION]: 'permission',
  [Reason.OUTSIDE_RAM]: 'outside-ram',
};
const DOMAIN_TYPES: Record<DomainKind, number> = {
  identity: DomainType.IDENTITY, blocked: DomainType.BLOCKED, translated: DomainType.TRANSLATED,
};

/** An index or id the core takes as u32: anything else would be wrapped or truncated there. */
function checkId(op: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ArgumentError(`dma: ${op}: ${what} ${String(v)} is not an integer id`);
}

/** Addresses and sizes are numbers (the core range-checks them); other types are caller bugs. */
function checkNumber(op: string, what: string, v: unknown): void {
  if (typeof v !== 'number') throw new ArgumentError(`dma: ${op}: ${what} ${typeof v === 'bigint' ? `${v}n` : String(v)} is not a number`);
}

/** Several at once (setup calls, off the transfer path). */
function checkNumbers(op: string, values: Record<string, unknown>): void {
  for (const [what, v] of Object.entries(values)) checkNumber(op, what, v);
}

function bytesOf(b: ArrayBuffer | SharedArrayBuffer | Uint8Array): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

/**
 * DMA on behalf of a bus's functions (`bus.dma`): guest RAM, IOMMU domains and their mappings,
 * transfers checked against Bus Master Enable and the function's domain, and the fault log. Bad
 * arguments and operations the core refuses throw ArgumentError; transfers return a DmaResult.
 */
export class DmaService {
  /** The embedder's RAM bytes by region index (undefined for RAM the core holds). */
  private readonly external: (Uint8Array | undefined)[] = [];
  /** Regions whose bytes come from a function (refreshed before each transfer), by index. */
  private readonly getters = new Map<number, () => Uint8Array>();
  /** Regions whose owner wants to hear of DMA writes, by index. */
  private readonly writeListeners = new Map<number, (offset: number, length: number) => void>();
  /** Regions whose owner wants to hear of DMA reads, by index. */
  private readonly readListeners = new Map<number, (offset: number, length: number) => void>();

  constructor(
    private readonly core: CoreBackend,
    /** The slot of a function of the topology (throws ArgumentError for anything else). */
    private readonly slotOf: (bdf: string) => number,
    private readonly bdfOf: (slot: number) => string,
  ) {}

  private fail(what: string, status: number): never {
    throw new ArgumentError(`dma: ${what}: ${statusText(status)}`);
  }

  /**
   * The slot of `bdf`, with errors that name the operation. Not cached here: a guest BDF names
   * whatever function answers there now, which changes when bridges are renumbered (the bus
   * caches the parsing; the lookup is one core call).
   */
  private slot(op: string, bdf: string): number {
    try {
      return this.slotOf(bdf);
    } catch (e) {
      throw new ArgumentError(`dma: ${op}: ${(e as Error).message}`);
    }
  }

  /** Adds guest RAM; returns its region index. */
  addRam(o: RamOptions): number {
    checkNumbers('addRam', { base: o.base, size: o.size });
    if (o.onWrite !== undefined && typeof o.onWrite !== 'function') throw new ArgumentError('dma: addRam: onWrite must be a function');
    if (o.onRead !== undefined && typeof o.onRead !== 'function') throw new ArgumentError('dma: addRam: onRead must be a function');
    const getter = typeof o.buffer === 'function' ? o.buffer : undefined;
    const buffer = o.buffer === undefined ? undefined : getter ? getter() : bytesOf(o.buffer as ArrayBuffer | Uint8Array);
    if (getter && !(buffer instanceof Uint8Array)) throw new ArgumentError('dma: addRam: the buffer function must return a Uint8Array');
    if (buffer && buffer.length < o.size) throw new ArgumentError(`dma: addRam: the buffer holds ${buffer.length} bytes, fewer than size ${o.size}`);
    if ((o.onWrite || o.onRead) && !buffer) throw new ArgumentError('dma: addRam: onWrite and onRead need a buffer (they report transfers into the embedder\'s own RAM)');
    const index = this.core.dma.ramAdd(o.base, o.size, buffer ? 0 : 1);
    if (index < 0) this.fail(`addRam(base 0x${o.base.toString(16)}, size 0x${o.size.toString(16)}) (4 KiB aligned, no overlap, at most 64 regions, internal at most 1 GiB - 4 KiB)`, index);
    this.external[index] = buffer;
    if (getter) this.getters.set(index, getter);
    if (o.onWrite) this.writeListeners.set(index, o.onWrite);
    if (o.onRead) this.readListeners.set(index, o.onRead);
    return index;
  }

  /** Removes a RAM region by index. */
  removeRam(index: number): void {
    checkId('removeRam', 'index', index);
    const status = this.core.dma.ramRemove(index);
    if (status < 0) this.fail(`removeRam(${index})`, status);
    this.external[index] = undefined;
    this.getters.delete(index);
    this.writeListeners.delete(index);
    this.readListeners.delete(index);
  }

  /** The bytes of a RAM region: the embedder's own, or a fresh view of the core's memory. */
  ram(index: number): Uint8Array {
    checkId('ram', 'index', index);
    const bytes = this.externalRam()[index] ?? this.core.dma.ramBytes(index);
    if (!bytes) throw new ArgumentError(`dma: ram(${index}): no such RAM region`);
    return bytes;
  }

  /** Creates an IOMMU domain; returns its id. */
  createDomain(kind: DomainKind): number {
    if (typeof kind !== 'string' || !Object.hasOwn(DOMAIN_TYPES, kind)) throw new ArgumentError(`dma: createDomain: "${String(kind)}" is not identity, blocked or translated`);
    const id = this.core.dma.domainCreate(DOMAIN_TYPES[kind]);
    if (id < 0) this.fail('createDomain', id);
    return id;
  }

  /** Destroys a domain (it must have no functions attached). */
  destroyDomain(id: number): void {
    checkId('destroyDomain', 'domain', id);
    const status = this.core.dma.domainDestroy(id);
    if (status < 0) this.fail(`destroyDomain(${id})`, status);
  }

  /** Maps a range in a translated domain (4 KiB aligned, not mapped already). */
  map(domain: number, o: MapOptions): void {
    checkId('map', 'domain', domain);
    checkNumbers('map', { iova: o.iova, gpa: o.gpa, size: o.size });
    const perms = (o.read ?? true ? PERM_READ : 0) | (o.write ?? true ? PERM_WRITE : 0);
    const status = this.core.dma.domainMap(domain, o.iova, o.gpa, o.size, perms);
    if (status < 0) {
      this.fail(`map(domain ${domain}, iova 0x${o.iova.toString(16)}, gpa 0x${o.gpa.toString(16)}, size 0x${o.size.toString(16)}) (translated domain, 4 KiB aligned, not mapped already, a read or write permission)`, status);
    }
  }

  /** Unmaps [iova, iova+size); returns how many bytes were mapped there. */
  unmap(domain: number, iova: number, size: number): number {
    checkId('unmap', 'domain', domain);
    checkNumbers('unmap', { iova, size });
    const r = this.core.dma.domainUnmap(domain, iova, size);
    if (r < 0) this.fail(`unmap(domain ${domain}, iova 0x${iova.toString(16)}, size 0x${size.toString(16)})`, r);
    return r;
  }

  /** Puts a function's DMA through `domain` (by path or current BDF). */
  attach(bdf: string, domain: number): void {
    checkId('attach', 'domain', domain);
    const status = this.core.dma.dmaAttach(this.slot('attach', bdf), domain);
    if (status < 0) this.fail(`attach(${bdf}, domain ${domain})`, status);
  }

  /** Back to the identity domain, as Linux returns a device to its default domain. */
  detach(bdf: string): void {
    const status = this.core.dma.dmaDetach(this.slot('detach', bdf));
    if (status < 0) this.fail(`detach(${bdf})`, status);
  }

  /** A core result: segment count, a fault, or an embedder error (its text built only then). */
  private outcome(what: () => string, status: number): DmaResult | number {
    if (status >= 0) return status;
    if (status <= FAULT_STATUS - 1) return REASONS[FAULT_STATUS - status] ?? this.fail(what(), status);
    return this.fail(what(), status);
  }

  private checkLength(op: string, length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > BUFFER_SIZE) {
      throw new ArgumentError(`dma: ${op}: a transfer of ${length} bytes; one transfer moves 0..${BUFFER_SIZE} bytes`);
    }
  }

  /**
   * Copies a validated transfer's segments (listed by the core's translate call) straight between
   * guest RAM and the caller's bytes: one copy, where staging through the transfer buffer took two.
   */
  private segmentsArea: Uint8Array | undefined;
  private segmentsData: DataView | undefined;

  private copySegments(count: number, dir: number, bytes: Uint8Array): void {
    const d = this.core.dma;
    const area = d.dmaSegments();
    if (area !== this.segmentsArea) {
      this.segmentsArea = area;
      this.segmentsData = new DataView(area.buffer, area.byteOffset, area.byteLength);
    }
    const v = this.segmentsData!;
    for (let k = 0; k < count; k++) {
      const at = k * SEGMENT_BYTES;
      const offset = v.getFloat64(at, true);
      const region = v.getUint32(at + 8, true);
      const n = v.getUint32(at + 12, true);
      const t = v.getUint32(at + 16, true);
      const internal = (v.getUint32(at + 20, true) & SEGMENT_INTERNAL) !== 0;
      const ram = internal ? d.ramBytes(region)! : this.externalRam()[region]!;
      if (dir === DIR_READ) {
        bytes.set(ram.subarray(offset, offset + n), t);
        if (!internal) this.readListeners.get(region)?.(offset, n);
      } else {
        ram.set(bytes.subarray(t, t + n), offset);
        if (!internal) this.writeListeners.get(region)?.(offset, n);
      }
    }
  }

  /** Tells the owners of external RAM which bytes a scatter-gather transfer read or wrote. */
  private reportSg(count: number, listeners: Map<number, (offset: number, length: number) => void>): void {
    if (listeners.size === 0) return;
    for (const s of readSegments(this.core.dma.dmaSegments(), count)) {
      if (!s.internal) listeners.get(s.region)?.(s.offset, s.length);
    }
  }

  /** Reads guest memory at `iova` on behalf of a function into `into` (all of it, or nothing). */
  read(bdf: string, iova: number, into: Uint8Array): DmaResult {
    this.checkLength('read', into.length);
    checkNumber('read', 'iova', iova);
    const r = this.outcome(() => `read(${bdf}, 0x${iova.toString(16)})`, this.core.dma.dmaTranslate(this.slot('read', bdf), iova, into.length, DIR_READ));
    if (typeof r === 'string') return r;
    this.copySegments(r, DIR_READ, into);
    return 'ok';
  }

  /** Writes `data` to guest memory at `iova` on behalf of a function (all of it, or nothing). */
  write(bdf: string, iova: number, data: Uint8Array): DmaResult {
    this.checkLength('write', data.length);
    checkNumber('write', 'iova', iova);
    const r = this.outcome(() => `write(${bdf}, 0x${iova.toString(16)})`, this.core.dma.dmaTranslate(this.slot('write', bdf), iova, data.length, DIR_WRITE));
    if (typeof r === 'string') return r;
    this.copySegments(r, DIR_WRITE, data);
    return 'ok';
  }

  private loadSg(op: string, list: readonly SgElement[]): number {
    if (list.length > MAX_SG) throw new ArgumentError(`dma: ${op}: a scatter-gather list of ${list.length} elements; at most ${MAX_SG}`);
    const v = new DataView(this.core.dma.dmaSgList().buffer, this.core.dma.dmaSgList().byteOffset, MAX_SG * SG_BYTES);
    let total = 0;
    list.forEach((e, k) => {
      if (typeof e.iova !== 'number') checkNumber(op, `sg[${k}].iova`, e.iova);
      if (typeof e.length !== 'number') checkNumber(op, `sg[${k}].length`, e.length);
      if (!Number.isInteger(e.length) || e.length < 0 || e.length > BUFFER_SIZE) {
        throw new ArgumentError(`dma: ${op}: sg[${k}].length: ${e.length} is not 0..${BUFFER_SIZE}`);
      }
      v.setFloat64(k * SG_BYTES, e.iova, true);
      v.setUint32(k * SG_BYTES + 8, e.length, true);
      total += e.length;
    });
    this.checkLength(op, total);
    return total;
  }

  /** Gathers the elements' bytes, one after another, into `into` (its length is their sum). */
  readSg(bdf: string, list: readonly SgElement[], into: Uint8Array): DmaResult {
    const slot = this.slot('readSg', bdf);
    const total = this.loadSg('readSg', list);
    if (into.length !== total) throw new ArgumentError(`dma: readSg: into holds ${into.length} bytes, the list ${total}`);
    const d = this.core.dma;
    const r = this.outcome(() => `readSg(${bdf})`, d.dmaSg(slot, list.length, DIR_READ, 0));
    if (typeof r === 'string') return r;
    if (r > 0) {
      runSegments(d.dmaSegments(), r, DIR_READ, d.dmaBuffer(), 0, this.externalRam());
      this.reportSg(r, this.readListeners);
    }
    into.set(d.dmaBuffer().subarray(0, total));
    return 'ok';
  }

  /** Scatters `data` over the elements, in order (its length is their sum). */
  writeSg(bdf: string, list: readonly SgElement[], data: Uint8Array): DmaResult {
    const slot = this.slot('writeSg', bdf);
    const total = this.loadSg('writeSg', list);
    if (data.length !== total) throw new ArgumentError(`dma: writeSg: data holds ${data.length} bytes, the list ${total}`);
    const d = this.core.dma;
    d.dmaBuffer().set(data);
    const r = this.outcome(() => `writeSg(${bdf})`, d.dmaSg(slot, list.length, DIR_WRITE, 0));
    if (typeof r === 'string') return r;
    if (r > 0) {
      runSegments(d.dmaSegments(), r, DIR_WRITE, d.dmaBuffer(), 0, this.externalRam());
      this.reportSg(r, this.writeListeners);
    }
    return 'ok';
  }

  /** The fault log since the last call, oldest first (the core keeps 256; the rest are counted). */
  faults(): DmaFaultRecord[] {
    const d = this.core.dma;
    const out: DmaFaultRecord[] = [];
    for (;;) {
      const n = d.dmaFaultsDrain(0xffffffff);
      if (n === 0) return out;
      for (const f of readFaults(d.dmaFaultArea(), n)) {
        out.push({
          bdf: this.bdfOf(f.slot), iova: f.iova, length: f.length,
          direction: f.dir === DIR_READ ? 'read' : 'write', reason: REASONS[f.reason],
        });
      }
    }
  }

  /** The DMA counters. */
  stats(): DmaStats {
    const c = (i: number) => this.core.dma.dmaCounter(i);
    return {
      iotlbHits: c(Counter.IOTLB_HITS), iotlbMisses: c(Counter.IOTLB_MISSES), faults: c(Counter.FAULTS),
      droppedFaults: c(Counter.FAULTS_DROPPED), transfers: c(Counter.TRANSFERS), bytes: c(Counter.BYTES),
    };
  }

  /** Indexes of the RAM regions whose bytes the embedder owns (a snapshot carries their contents). */
  externalIndexes(): number[] {
    return this.external.flatMap((b, i) => (b ? [i] : []));
  }

  /** The external RAM views, those that come from a function fetched anew. */
  private externalRam(): (Uint8Array | undefined)[] {
    for (const [index, get] of this.getters) this.external[index] = get();
    return this.external;
  }
}
