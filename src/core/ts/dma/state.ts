// The DMA part of the TypeScript twin's saveState/loadState (src/core/state.ts DmaState): the
// same content, checks and order as assembly/state/ (saveDma, loadDma in load.ts).
import type { DmaState } from '../../state.js';
import { Limits, Status } from '../../backend.js';
import { intIn, isU32, isU64 } from '../state-values.js';
import type { Domains } from './domains.js';
import { KIND_FREE, KIND_TRANSLATED } from './domains.js';
import type { FaultLog } from './faults.js';
import type { Iotlb } from './iotlb.js';
import { indexOf } from './iotlb.js';
import type { RamMap } from './ram.js';
import {
  Counter, DomainType, FAULT_CAPACITY, GPA_LIMIT, IOTLB_ENTRIES, IOVA_LIMIT, LARGE_SIZE, MAX_DOMAINS, MAX_INTERNAL_RAM,
  MAX_RAM, MAX_TABLES, PAGE_SIZE,
} from './layout.js';

const COUNTER_NAMES = ['iotlbHits', 'iotlbMisses', 'faults', 'faultsDropped', 'transfers', 'bytes'] as const;

/** Distinct chunks of `chunk` bytes [iova, end) touches that `last` (the previous one) has not. */
function newChunks(iova: number, end: number, chunk: number, last: number): number {
  const first = Math.floor(iova / chunk);
  return Math.floor((end - 1) / chunk) - first + 1 - (first === last ? 1 : 0);
}

export class DmaStateIo {
  /** Internal RAM arrays the next load uses, by index (made by prepare, before anything changes). */
  private prepared: (Uint8Array | undefined)[] = [];

  constructor(
    private readonly ram: RamMap,
    private readonly domains: Domains,
    private readonly iotlb: Iotlb,
    private readonly faults: FaultLog,
  ) {}

  save(): DmaState {
    const c = this.faults.counters;
    const ram = [];
    for (let i = 0; i < MAX_RAM; i++) {
      if (!this.ram.isUsed(i)) continue;
      const data = this.ram.data[i];
      ram.push({
        index: i, base: this.ram.base[i], size: this.ram.end[i] - this.ram.base[i], internal: data !== undefined,
        data: data === undefined ? null : data.slice(),
      });
    }
    const d = this.domains;
    const domains = [];
    for (let id = 1; id < MAX_DOMAINS; id++) {
      if (d.kind[id] === KIND_FREE) continue;
      domains.push({ id, type: d.kind[id] - 1, mappings: d.kind[id] === KIND_TRANSLATED ? d.tables.runs(d.root[id]) : [] });
    }
    const attachments = [];
    for (let slot = 0; slot < Limits.functions; slot++) {
      if (d.slotValid(slot) && d.slotDomain[slot] !== 0) attachments.push({ slot, domain: d.slotDomain[slot] });
    }
    return {
      counters: {
        iotlbHits: c[Counter.IOTLB_HITS], iotlbMisses: c[Counter.IOTLB_MISSES], faults: c[Counter.FAULTS],
        faultsDropped: c[Counter.FAULTS_DROPPED], transfers: c[Counter.TRANSFERS], bytes: c[Counter.BYTES],
      },
      ram, domains, attachments, iotlb: this.iotlb.saveState(), faults: this.faults.saveState(),
    };
  }

  /** OK, or RANGE / MISMATCH with nothing changed (the same rules and order as loadDma in Wasm). */
  check(s: DmaState): number {
    for (const name of COUNTER_NAMES) if (!isU64(s.counters[name])) return Status.RANGE;
    // RAM: the state's regions by index; the embedder's must be this core's.
    if (s.ram.length > MAX_RAM) return Status.RANGE;
    const ramSize: number[] = [];
    const ramInternal: boolean[] = [];
    let prev = -1;
    for (const r of s.ram) {
      const length = r.data === null ? -1 : r.data.length;
      if (!intIn(r.index, 0, MAX_RAM - 1) || !isU64(r.base) || !isU64(r.size) || length > MAX_INTERNAL_RAM) return Status.RANGE;
      if (r.index <= prev) return Status.RANGE;
      prev = r.index;
      if (r.size === 0 || r.base % PAGE_SIZE !== 0 || r.size % PAGE_SIZE !== 0 || r.base >= GPA_LIMIT || r.size > GPA_LIMIT - r.base) return Status.RANGE;
      if (r.internal ? r.size > MAX_INTERNAL_RAM || length !== r.size : length !== -1) return Status.RANGE;
      for (const o of s.ram) {
        if (o.index >= r.index) break;
        if (o.base < r.base + r.size && r.base < o.base + o.size) return Status.RANGE;
      }
      const m = this.ram;
      if (!r.internal && !(m.isUsed(r.index) && m.data[r.index] === undefined && m.base[r.index] === r.base && m.end[r.index] - m.base[r.index] === r.size)) {
        return Status.MISMATCH;
      }
      ramSize[r.index] = r.size;
      ramInternal[r.index] = r.internal;
    }
    for (let i = 0; i < MAX_RAM; i++) {
      if (this.ram.isUsed(i) && this.ram.data[i] === undefined && (ramSize[i] === undefined || ramInternal[i])) return Status.MISMATCH;
    }
    // Domains, their leaves, and the page tables they need.
    if (s.domains.length > MAX_DOMAINS - 1) return Status.RANGE;
    const domainType: number[] = [];
    let tables = 0;
    let prevId = 0;
    for (const dom of s.domains) {
      if (!intIn(dom.id, 1, MAX_DOMAINS - 1) || !intIn(dom.type, 0, DomainType.TRANSLATED)) return Status.RANGE;
      if (dom.id <= prevId) return Status.RANGE;
      if (dom.type !== DomainType.TRANSLATED && dom.mappings.length !== 0) return Status.RANGE;
      domainType[dom.id] = dom.type;
      if (dom.type === DomainType.TRANSLATED) tables++;
      prevId = dom.id;
      let end = 0;
      let last1 = -1;
      let last2 = -1;
      let last3 = -1;
      for (const m of dom.mappings) {
        if (!isU64(m.iova) || !isU64(m.gpa) || !isU64(m.size) || !intIn(m.perms, 1, 3) || !isU64(m.pageSize)) return Status.RANGE;
        const large = m.pageSize === LARGE_SIZE;
        if (!large && m.pageSize !== PAGE_SIZE) return Status.RANGE;
        if (m.size === 0 || m.iova % m.pageSize !== 0 || m.gpa % m.pageSize !== 0 || m.size % m.pageSize !== 0 || m.iova >= IOVA_LIMIT ||
          m.size > IOVA_LIMIT - m.iova || m.gpa >= GPA_LIMIT || m.size > GPA_LIMIT - m.gpa || m.iova < end) return Status.RANGE;
        end = m.iova + m.size;
        tables += newChunks(m.iova, end, 2 ** 39, last1) + newChunks(m.iova, end, 2 ** 30, last2);
        last1 = Math.floor((end - 1) / 2 ** 39);
        last2 = Math.floor((end - 1) / 2 ** 30);
        if (!large) {
          tables += newChunks(m.iova, end, LARGE_SIZE, last3);
          last3 = Math.floor((end - 1) / LARGE_SIZE);
        }
        if (tables > MAX_TABLES) return Status.RANGE;
      }
    }
    if (s.attachments.length > Limits.functions) return Status.RANGE;
    let prevSlot = -1;
    for (const a of s.attachments) {
      if (!intIn(a.slot, 0, Limits.functions - 1) || !intIn(a.domain, 1, MAX_DOMAINS - 1)) return Status.RANGE;
      if (a.slot <= prevSlot || !this.domains.slotValid(a.slot) || domainType[a.domain] === undefined) return Status.RANGE;
      prevSlot = a.slot;
    }
    if (s.iotlb.length > IOTLB_ENTRIES) return Status.RANGE;
    let prevIndex = -1;
    for (const e of s.iotlb) {
      if (!intIn(e.domain, 1, MAX_DOMAINS - 1) || !isU64(e.page) || !isU32(e.spanLo) || !isU32(e.spanHi) ||
        !intIn(e.region, 0, MAX_RAM - 1) || !isU64(e.regionOffset) || !intIn(e.perms, 1, 3)) return Status.RANGE;
      const psize = e.large ? LARGE_SIZE : PAGE_SIZE;
      if (domainType[e.domain] !== DomainType.TRANSLATED || e.page >= IOVA_LIMIT / psize) return Status.RANGE;
      if (e.spanLo >= e.spanHi || e.spanHi > psize || ramSize[e.region] === undefined) return Status.RANGE;
      const span = e.spanHi - e.spanLo;
      if (span > ramSize[e.region] || e.regionOffset > ramSize[e.region] - span) return Status.RANGE;
      const index = indexOf(e.page, e.domain, e.large ? 1 : 0);
      if (index <= prevIndex) return Status.RANGE;
      prevIndex = index;
    }
    if (s.faults.length > FAULT_CAPACITY) return Status.RANGE;
    for (const f of s.faults) {
      if (!intIn(f.slot, 0, Limits.functions - 1) || !isU64(f.iova) || !isU32(f.length) || !intIn(f.dir, 0, 1) || !intIn(f.reason, 1, 5)) {
        return Status.RANGE;
      }
    }
    return Status.OK;
  }

  /** After check: the memory the state needs (internal RAM), taken before anything changes. */
  prepare(s: DmaState): number {
    this.prepared = [];
    for (const r of s.ram) {
      if (!r.internal) continue;
      const have = this.ram.data[r.index];
      if (have !== undefined && have.length === r.size) {
        this.prepared[r.index] = have;
        continue;
      }
      try {
        this.prepared[r.index] = new Uint8Array(r.size);
      } catch {
        this.prepared = [];
        return Status.FULL; // the host's memory limit, as a failed memory.grow in Wasm
      }
    }
    return Status.OK; // page tables: the twin's come from the JS heap, and check() bounded them by MAX_TABLES
  }

  /** After check and prepare: the DMA state becomes `s`. */
  load(s: DmaState): void {
    this.ram.reset();
    for (const r of s.ram) {
      let bytes: Uint8Array | undefined;
      if (r.internal) {
        bytes = this.prepared[r.index]!;
        bytes.set(r.data!);
      }
      this.ram.restore(r.index, r.base, r.size, bytes);
    }
    this.prepared = [];
    const d = this.domains;
    d.reset();
    for (const dom of s.domains) {
      d.restoreDomain(dom.id, dom.type);
      for (const m of dom.mappings) d.tables.mapLeaves(d.root[dom.id], m.iova, m.gpa, m.size, m.perms, m.pageSize === LARGE_SIZE);
    }
    for (const a of s.attachments) d.restoreAttachment(a.slot, a.domain);
    this.iotlb.flush();
    for (const e of s.iotlb) this.iotlb.fill(e.domain, e.page, e.large ? 1 : 0, e.spanLo, e.spanHi, e.region, e.regionOffset, e.perms);
    this.faults.loadState(s.faults);
    const c = this.faults.counters;
    COUNTER_NAMES.forEach((name, i) => { c[i] = s.counters[name]; });
  }
}

