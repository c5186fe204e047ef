// A brute-force reference for the DMA translator, written from the rules rather than from the
// cores: domains are plain maps of 4 KiB IOVA pages (a 2 MiB mapping is 512 entries), RAM is a
// list, a transfer is checked piece by piece (a piece never crosses a 4 KiB page, and RAM edges
// are page aligned) and then copied byte by byte in request order.
import {
  BUFFER_SIZE, FAULT_CAPACITY, FAULT_STATUS, GPA_LIMIT, IOVA_LIMIT, Reason,
} from '../../src/core/ts/dma/layout.js';
import type { DmaFault } from '../../src/core/ts/dma/external.js';

const PAGE = 4096;

export interface ModelRam { base: number; size: number; bytes: Uint8Array }
interface ModelDomain { type: number; pages: Map<number, { gpa: number; perms: number }> }

export class DmaModel {
  readonly ram: (ModelRam | undefined)[] = [];
  readonly domains = new Map<number, ModelDomain>([[0, { type: 0, pages: new Map() }]]);
  readonly slotDomain = new Map<number, number>();
  readonly busMaster = new Map<number, boolean>();
  readonly buffer = new Uint8Array(BUFFER_SIZE);
  faults: DmaFault[] = [];
  counters = { faults: 0, dropped: 0, transfers: 0, bytes: 0 };

  addRam(index: number, base: number, bytes: Uint8Array): void {
    this.ram[index] = { base, size: bytes.length, bytes };
  }

  createDomain(id: number, type: number): void {
    this.domains.set(id, { type, pages: new Map() });
  }

  /** domainMap's status by the rules (no overlap, alignment, limits), applied when OK. */
  map(id: number, iova: number, gpa: number, size: number, perms: number): number {
    const d = this.domains.get(id);
    if (d === undefined) return -4;
    if (d.type !== 2 || perms < 1 || perms > 3) return -1;
    if (size === 0 || iova % PAGE || gpa % PAGE || size % PAGE) return -1;
    if (iova + size > IOVA_LIMIT || gpa + size > GPA_LIMIT) return -1;
    for (let p = iova / PAGE; p < (iova + size) / PAGE; p++) if (d.pages.has(p)) return -2;
    for (let k = 0; k < size / PAGE; k++) d.pages.set(iova / PAGE + k, { gpa: gpa + k * PAGE, perms });
    return 0;
  }

  unmap(id: number, iova: number, size: number): number {
    const d = this.domains.get(id);
    if (d === undefined) return -4;
    if (d.type !== 2) return -1;
    if (size === 0 || iova % PAGE || size % PAGE || iova + size > IOVA_LIMIT) return -1;
    let bytes = 0;
    for (const p of [...d.pages.keys()]) {
      if (p >= iova / PAGE && p < (iova + size) / PAGE) {
        d.pages.delete(p);
        bytes += PAGE;
      }
    }
    return bytes;
  }

  private ramAt(gpa: number): { r: ModelRam; off: number } | undefined {
    for (const r of this.ram) if (r && gpa >= r.base && gpa < r.base + r.size) return { r, off: gpa - r.base };
    return undefined;
  }

  private fault(slot: number, iova: number, length: number, dir: number, reason: number): number {
    this.counters.faults++;
    if (this.faults.length >= FAULT_CAPACITY) this.counters.dropped++;
    else this.faults.push({ slot, iova, length, dir, reason });
    return FAULT_STATUS - reason;
  }

  /**
   * A transfer of `elems` ([iova, length] pairs, packed in the buffer from bufOffset) for a slot
   * that exists. Returns 0 or the fault status; the external-segment count is not modelled.
   */
  dma(slot: number, dir: number, elems: Array<[number, number]>, bufOffset: number): number {
    const total = elems.reduce((s, [, l]) => s + l, 0);
    if (total === 0) return 0;
    const first = elems.find(([, l]) => l > 0)!;
    if (!this.busMaster.get(slot)) return this.fault(slot, first[0], first[1], dir, Reason.BUS_MASTER);
    const d = this.domains.get(this.slotDomain.get(slot) ?? 0)!;
    if (d.type === 1) return this.fault(slot, first[0], first[1], dir, Reason.BLOCKED);
    const need = dir === 0 ? 1 : 2;
    const pieces: Array<{ r: ModelRam; off: number; n: number; at: number }> = [];
    let at = bufOffset;
    for (const [iova, len] of elems) {
      let pos = iova;
      let left = len;
      while (left > 0) {
        const n = Math.min(PAGE - (pos % PAGE), left);
        let gpa: number;
        if (d.type === 0) {
          gpa = pos;
          if (pos >= GPA_LIMIT) return this.fault(slot, pos, len - (pos - iova), dir, Reason.OUTSIDE_RAM);
        } else {
          const m = pos < IOVA_LIMIT ? d.pages.get(Math.floor(pos / PAGE)) : undefined;
          if (m === undefined) return this.fault(slot, pos, len - (pos - iova), dir, Reason.UNMAPPED);
          if ((m.perms & need) === 0) return this.fault(slot, pos, len - (pos - iova), dir, Reason.PERMISSION);
          gpa = m.gpa + (pos % PAGE);
        }
        const hit = this.ramAt(gpa);
        if (hit === undefined) return this.fault(slot, pos, len - (pos - iova), dir, Reason.OUTSIDE_RAM);
        pieces.push({ r: hit.r, off: hit.off, n, at });
        pos += n;
        left -= n;
        at += n;
      }
    }
    for (const p of pieces) {
      for (let i = 0; i < p.n; i++) {
        if (dir === 0) this.buffer[p.at + i] = p.r.bytes[p.off + i];
        else p.r.bytes[p.off + i] = this.buffer[p.at + i];
      }
    }
    this.counters.transfers++;
    this.counters.bytes += total;
    return 0;
  }

  /** The guest-physical bytes a slot may touch with `dir` now (the property's bound). */
  allowed(slot: number, dir: number): (gpa: number) => boolean {
    if (!this.busMaster.get(slot)) return () => false;
    const d = this.domains.get(this.slotDomain.get(slot) ?? 0)!;
    if (d.type === 0) return () => true;
    if (d.type === 1) return () => false;
    const need = dir === 0 ? 1 : 2;
    const ok = new Set<number>();
    for (const m of d.pages.values()) if (m.perms & need) ok.add(m.gpa / PAGE);
    return (gpa) => ok.has(Math.floor(gpa / PAGE));
  }
}
