// TypeScript twin of assembly/dma/domains.ts: domains (identity, blocked, translated), the slot →
// domain attachment (domain 0 = the built-in identity domain, where slots start and return on
// detach), and map/unmap with the same checks in the same order.
import type { ConfigStore } from '../config-store.js';
import { Limits } from '../../backend.js';
import {
  DmaStatus, DomainType, GPA_LIMIT, IOVA_LIMIT, MAX_DOMAINS, PAGE_SIZE, PERM_READ, PERM_WRITE,
} from './layout.js';
import type { Iotlb } from './iotlb.js';
import { PageTables, leafGpa, leafPerms } from './page-table.js';

export const KIND_FREE = 0;
export const KIND_IDENTITY = 1;
export const KIND_BLOCKED = 2;
export const KIND_TRANSLATED = 3;

export class Domains {
  readonly kind = new Uint8Array(MAX_DOMAINS);
  readonly root = new Uint32Array(MAX_DOMAINS);
  private readonly attached = new Uint32Array(MAX_DOMAINS);
  readonly slotDomain = new Uint8Array(Limits.functions);
  readonly tables = new PageTables();
  lookupGpa = 0;
  lookupPerms = 0;

  constructor(private readonly store: ConfigStore, private readonly iotlb: Iotlb) {
    this.kind[0] = KIND_IDENTITY;
  }

  slotValid(slot: number): boolean {
    return slot >= 0 && slot < Limits.functions && this.store.sizeOf(slot) !== 0;
  }

  create(type: number): number {
    if (type > DomainType.TRANSLATED) return DmaStatus.RANGE;
    let id = 1;
    while (id < MAX_DOMAINS && this.kind[id] !== KIND_FREE) id++;
    if (id === MAX_DOMAINS) return DmaStatus.FULL;
    if (type === DomainType.TRANSLATED && !this.tables.room(1)) return DmaStatus.FULL;
    this.kind[id] = type + 1;
    this.root[id] = type === DomainType.TRANSLATED ? this.tables.alloc() : 0;
    this.attached[id] = 0;
    return id;
  }

  destroy(id: number): number {
    if (id === 0 || id >= MAX_DOMAINS) return DmaStatus.RANGE;
    const kind = this.kind[id];
    if (kind === KIND_FREE) return DmaStatus.NOT_FOUND;
    if (this.attached[id] !== 0) return DmaStatus.BUSY;
    if (kind === KIND_TRANSLATED) {
      this.tables.freeTable(this.root[id], 0);
      this.iotlb.dropDomain(id);
    }
    this.kind[id] = 0;
    this.root[id] = 0;
    return DmaStatus.OK;
  }

  type(id: number): number {
    if (id >= MAX_DOMAINS) return DmaStatus.RANGE;
    const kind = this.kind[id];
    return kind === KIND_FREE ? DmaStatus.NOT_FOUND : kind - 1;
  }

  private translatedCheck(id: number): number {
    if (id >= MAX_DOMAINS) return DmaStatus.RANGE;
    const kind = this.kind[id];
    if (kind === KIND_FREE) return DmaStatus.NOT_FOUND;
    return kind === KIND_TRANSLATED ? DmaStatus.OK : DmaStatus.RANGE;
  }

  map(id: number, iova: number, gpa: number, size: number, perms: number): number {
    const st = this.translatedCheck(id);
    if (st !== DmaStatus.OK) return st;
    if (perms === 0 || perms > (PERM_READ | PERM_WRITE)) return DmaStatus.RANGE;
    if (size === 0 || iova % PAGE_SIZE !== 0 || gpa % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) return DmaStatus.RANGE;
    if (iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova) return DmaStatus.RANGE;
    if (gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa) return DmaStatus.RANGE;
    const root = this.root[id];
    if (this.tables.anyMapped(root, 0, 0, iova, iova + size)) return DmaStatus.EXISTS;
    if (!this.tables.room(PageTables.forMap(iova, gpa, size))) return DmaStatus.FULL;
    this.tables.mapRange(root, iova, gpa, size, perms);
    return DmaStatus.OK;
  }

  unmap(id: number, iova: number, size: number): number {
    const st = this.translatedCheck(id);
    if (st !== DmaStatus.OK) return st;
    if (size === 0 || iova % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) return DmaStatus.RANGE;
    if (iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova) return DmaStatus.RANGE;
    if (!this.tables.room(this.tables.forUnmap(this.root[id], iova, iova + size))) return DmaStatus.FULL;
    const bytes = this.tables.unmapRange(this.root[id], 0, 0, iova, iova + size);
    this.iotlb.invalidate(id, iova, iova + size);
    return bytes;
  }

  lookup(id: number, iova: number): number {
    if (id >= MAX_DOMAINS) return DmaStatus.RANGE;
    const kind = this.kind[id];
    if (kind === KIND_FREE) return DmaStatus.NOT_FOUND;
    this.lookupGpa = 0;
    this.lookupPerms = 0;
    if (kind === KIND_IDENTITY) {
      if (iova < GPA_LIMIT) {
        this.lookupGpa = iova + 0; // -0 is 0 here, as in the Wasm core's u64
        this.lookupPerms = PERM_READ | PERM_WRITE;
      }
    } else if (kind === KIND_TRANSLATED && iova < IOVA_LIMIT && this.tables.walk(this.root[id], iova)) {
      const t = this.tables;
      this.lookupGpa = leafGpa(t.walkLeaf) + (iova % (t.walkLarge ? 2097152 : 4096));
      this.lookupPerms = leafPerms(t.walkLeaf);
    }
    return DmaStatus.OK;
  }

  /**
   * State load, after reset(): domain `id` of `type` exists again with no slot attached; a
   * translated one gets an empty root table.
   */
  restoreDomain(id: number, type: number): void {
    this.kind[id] = type + 1;
    this.root[id] = type === DomainType.TRANSLATED ? this.tables.alloc() : 0;
    this.attached[id] = 0;
  }

  /** State load: a valid slot joins an existing domain (the counts follow). */
  restoreAttachment(slot: number, domain: number): void {
    this.setDomain(slot, domain);
  }

  private setDomain(slot: number, domain: number): void {
    const old = this.slotDomain[slot];
    if (old !== 0) this.attached[old]--;
    if (domain !== 0) this.attached[domain]++;
    this.slotDomain[slot] = domain;
  }

  attach(slot: number, domain: number): number {
    if (!this.slotValid(slot)) return DmaStatus.NOT_FOUND;
    if (domain >= MAX_DOMAINS) return DmaStatus.RANGE;
    if (this.kind[domain] === KIND_FREE) return DmaStatus.NOT_FOUND;
    this.setDomain(slot, domain);
    return DmaStatus.OK;
  }

  detach(slot: number): number {
    if (!this.slotValid(slot)) return DmaStatus.NOT_FOUND;
    this.setDomain(slot, 0);
    return DmaStatus.OK;
  }

  domainOf(slot: number): number {
    return this.slotValid(slot) ? this.slotDomain[slot] : DmaStatus.NOT_FOUND;
  }

  slotReleased(slot: number): void {
    if (slot >= 0 && slot < Limits.functions) this.setDomain(slot, 0);
  }

  reset(): void {
    for (let id = 1; id < MAX_DOMAINS; id++) {
      if (this.kind[id] === KIND_TRANSLATED) this.tables.freeTable(this.root[id], 0);
      this.kind[id] = 0;
      this.root[id] = 0;
      this.attached[id] = 0;
    }
    this.slotDomain.fill(0);
  }
}
