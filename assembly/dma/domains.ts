// IOMMU domains and the slot → domain attachment.
//
//   per domain (0..255): kind u8 (0 free, 1 identity, 2 blocked, 3 translated) | root u32
//                        | attached u32 (slots attached; not kept for domain 0)
//   per slot  (0..4095): domain u8 (0 = the built-in identity domain)
//
// Domain 0 is the built-in identity domain: every slot starts in it and returns to it on detach
// (Linux returns a device to its group's default domain on iommu_detach_device; with no vIOMMU
// programmed a device's DMA is untranslated). A guest that must not DMA is attached to a
// blocked domain explicitly.
import {
  OK, ERR_RANGE, ERR_FULL, ERR_NOT_FOUND, ERR_EXISTS, ERR_BUSY, MAX_DOMAINS, DOMAIN_TRANSLATED,
  DOMAIN_IDENTITY, IOVA_LIMIT, GPA_LIMIT, PAGE_SIZE, PERM_READ, PERM_WRITE,
} from "./layout";
import { MAX_FUNCTIONS } from "../config/layout";
import { sizeOf } from "../config/store";
import {
  tableAlloc, tableFree, anyMapped, mapRange, unmapRange, walk, walkLeaf, walkLarge, leafGpa, leafPerms, tablesRoom,
  tablesForMap, tablesForUnmap,
} from "./page-table";
import { iotlbInvalidate, iotlbDropDomain } from "./iotlb";

export const KIND_FREE: u32 = 0;
export const KIND_IDENTITY: u32 = 1;
export const KIND_BLOCKED: u32 = 2;
export const KIND_TRANSLATED: u32 = 3;

const dKind: usize = heap.alloc(<usize>MAX_DOMAINS);
const dRoot: usize = heap.alloc(<usize>MAX_DOMAINS << 2);
const dAttached: usize = heap.alloc(<usize>MAX_DOMAINS << 2);
const slotDomain: usize = heap.alloc(<usize>MAX_FUNCTIONS);
memory.fill(dKind, 0, <usize>MAX_DOMAINS);
memory.fill(dRoot, 0, <usize>MAX_DOMAINS << 2);
memory.fill(dAttached, 0, <usize>MAX_DOMAINS << 2);
memory.fill(slotDomain, 0, <usize>MAX_FUNCTIONS);
store<u8>(dKind, <u8>KIND_IDENTITY);

// @ts-ignore: decorator
@inline export function kindOf(domain: u32): u32 {
  return <u32>load<u8>(dKind + <usize>domain);
}

// @ts-ignore: decorator
@inline export function rootOf(domain: u32): usize {
  return <usize>load<u32>(dRoot + (<usize>domain << 2));
}

/** The domain of a valid slot. */
// @ts-ignore: decorator
@inline export function domainOfSlot(slot: i32): u32 {
  return <u32>load<u8>(slotDomain + <usize>slot);
}

/** A slot holding a function (the store's rule). */
// @ts-ignore: decorator
@inline export function slotValid(slot: i32): bool {
  return slot >= 0 && <u32>slot < MAX_FUNCTIONS && sizeOf(slot) != 0;
}

/** A new domain of `type` (0 identity, 1 blocked, 2 translated): its id (1..255), ERR_RANGE for
 * a bad type, ERR_FULL when 255 domains exist. */
export function domainCreate(type: u32): i32 {
  if (type > DOMAIN_TRANSLATED) return ERR_RANGE;
  let id: u32 = 1;
  while (id < MAX_DOMAINS && kindOf(id) != KIND_FREE) id++;
  if (id == MAX_DOMAINS) return ERR_FULL;
  if (type == DOMAIN_TRANSLATED && !tablesRoom(1)) return ERR_FULL;
  store<u8>(dKind + <usize>id, <u8>(type + 1));
  store<u32>(dRoot + (<usize>id << 2), type == DOMAIN_TRANSLATED ? <u32>tableAlloc() : 0);
  store<u32>(dAttached + (<usize>id << 2), 0);
  return <i32>id;
}

/** Frees a domain and its tables: ERR_RANGE for 0 or past 255, ERR_NOT_FOUND, ERR_BUSY while a
 * slot is attached. */
export function domainDestroy(id: u32): i32 {
  if (id == 0 || id >= MAX_DOMAINS) return ERR_RANGE;
  const kind = kindOf(id);
  if (kind == KIND_FREE) return ERR_NOT_FOUND;
  if (load<u32>(dAttached + (<usize>id << 2)) != 0) return ERR_BUSY;
  if (kind == KIND_TRANSLATED) {
    tableFree(rootOf(id), 0);
    iotlbDropDomain(id);
  }
  store<u8>(dKind + <usize>id, 0);
  store<u32>(dRoot + (<usize>id << 2), 0);
  return OK;
}

/** The type of a domain (0..2), or ERR_RANGE / ERR_NOT_FOUND. */
export function domainType(id: u32): i32 {
  if (id >= MAX_DOMAINS) return ERR_RANGE;
  const kind = kindOf(id);
  return kind == KIND_FREE ? ERR_NOT_FOUND : <i32>(kind - 1);
}

/** A translated domain's id checked: OK, or the status to return. */
function translatedCheck(id: u32): i32 {
  if (id >= MAX_DOMAINS) return ERR_RANGE;
  const kind = kindOf(id);
  if (kind == KIND_FREE) return ERR_NOT_FOUND;
  return kind == KIND_TRANSLATED ? OK : ERR_RANGE;
}

/**
 * Maps IOVA [iova, iova + size) to guest-physical [gpa, gpa + size) in translated domain `id`
 * with `perms` (1 read, 2 write, 3 both). Page sizes are chosen by alignment (page-table.ts).
 * ERR_RANGE: not a translated domain, perms not 1..3, size 0, anything not 4 KiB aligned, the
 * IOVA range past 2^48 or the GPA range past 2^52. ERR_EXISTS: a page of the range is already
 * mapped (unmap first, as VFIO requires). ERR_FULL: the page tables could outgrow MAX_TABLES.
 * A refused call changes nothing.
 */
export function domainMap(id: u32, iova: u64, gpa: u64, size: u64, perms: u32): i32 {
  const st = translatedCheck(id);
  if (st != OK) return st;
  if (perms == 0 || perms > (PERM_READ | PERM_WRITE)) return ERR_RANGE;
  if (size == 0 || ((iova | gpa | size) & (PAGE_SIZE - 1)) != 0) return ERR_RANGE;
  if (iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova) return ERR_RANGE;
  if (gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa) return ERR_RANGE;
  const root = rootOf(id);
  if (anyMapped(root, 0, 0, iova, iova + size)) return ERR_EXISTS;
  if (!tablesRoom(tablesForMap(iova, gpa, size))) return ERR_FULL;
  mapRange(root, iova, gpa, size, perms);
  return OK;
}

/**
 * Unmaps [iova, iova + size) from translated domain `id` and invalidates the IOTLB there.
 * Returns the bytes that were mapped (unmapped holes are skipped; a 2 MiB page partly covered
 * is split so that exactly the range goes), or ERR_RANGE / ERR_NOT_FOUND as domainMap (size 0,
 * unaligned, past 2^48), or ERR_FULL when a split would outgrow MAX_TABLES (nothing changed).
 */
export function domainUnmap(id: u32, iova: u64, size: u64): i64 {
  const st = translatedCheck(id);
  if (st != OK) return <i64>st;
  if (size == 0 || ((iova | size) & (PAGE_SIZE - 1)) != 0) return <i64>ERR_RANGE;
  if (iova >= IOVA_LIMIT || size > IOVA_LIMIT - iova) return <i64>ERR_RANGE;
  if (!tablesRoom(tablesForUnmap(rootOf(id), iova, iova + size))) return <i64>ERR_FULL;
  const bytes = unmapRange(rootOf(id), 0, 0, iova, iova + size);
  iotlbInvalidate(id, iova, iova + size);
  return <i64>bytes;
}

/** Result of domainLookup. */
export let lookupGpa: u64 = 0;
export let lookupPerms: u32 = 0;

/**
 * What domain `id` does with `iova` (no IOTLB, no fault): lookupGpa/lookupPerms, perms 0 when
 * nothing is mapped. Identity: the same address with both perms below 2^52; blocked: nothing.
 * Returns OK, or ERR_RANGE / ERR_NOT_FOUND for a bad id.
 */
export function domainLookup(id: u32, iova: u64): i32 {
  if (id >= MAX_DOMAINS) return ERR_RANGE;
  const kind = kindOf(id);
  if (kind == KIND_FREE) return ERR_NOT_FOUND;
  lookupGpa = 0;
  lookupPerms = 0;
  if (kind == KIND_IDENTITY) {
    if (iova < GPA_LIMIT) {
      lookupGpa = iova;
      lookupPerms = PERM_READ | PERM_WRITE;
    }
  } else if (kind == KIND_TRANSLATED && iova < IOVA_LIMIT && walk(rootOf(id), iova)) {
    lookupGpa = leafGpa(walkLeaf) + (iova & (walkLarge ? 0x1fffff : 0xfff));
    lookupPerms = leafPerms(walkLeaf);
  }
  return OK;
}

export function setDomain(slot: i32, domain: u32): void {
  const old = domainOfSlot(slot);
  if (old != 0) store<u32>(dAttached + (<usize>old << 2), load<u32>(dAttached + (<usize>old << 2)) - 1);
  if (domain != 0) store<u32>(dAttached + (<usize>domain << 2), load<u32>(dAttached + (<usize>domain << 2)) + 1);
  store<u8>(slotDomain + <usize>slot, <u8>domain);
}

/** Attaches a function to a domain: ERR_NOT_FOUND (no function in the slot, or no such domain),
 * ERR_RANGE (domain id past 255). */
export function dmaAttach(slot: i32, domain: u32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  if (domain >= MAX_DOMAINS) return ERR_RANGE;
  if (kindOf(domain) == KIND_FREE) return ERR_NOT_FOUND;
  setDomain(slot, domain);
  return OK;
}

/** Back to the built-in identity domain (0). */
export function dmaDetach(slot: i32): i32 {
  if (!slotValid(slot)) return ERR_NOT_FOUND;
  setDomain(slot, DOMAIN_IDENTITY);
  return OK;
}

/** The domain a slot is attached to, or ERR_NOT_FOUND. */
export function dmaDomainOf(slot: i32): i32 {
  return slotValid(slot) ? <i32>domainOfSlot(slot) : ERR_NOT_FOUND;
}

/** The function in `slot` is being removed: its slot returns to the identity domain, so a
 * function added later in the slot starts there. Safe for any number. */
export function dmaSlotReleased(slot: i32): void {
  if (slot >= 0 && <u32>slot < MAX_FUNCTIONS) setDomain(slot, DOMAIN_IDENTITY);
}

/**
 * State load, after domainsReset: domain `id` (1..255) of `type` (0..2) exists again with no
 * slot attached; a translated one gets an empty root table (the caller reserved the tables).
 */
export function domainRestore(id: u32, type: u32): void {
  store<u8>(dKind + <usize>id, <u8>(type + 1));
  store<u32>(dRoot + (<usize>id << 2), type == DOMAIN_TRANSLATED ? <u32>tableAlloc() : 0);
  store<u32>(dAttached + (<usize>id << 2), 0);
}

export function domainsReset(): void {
  for (let id: u32 = 1; id < MAX_DOMAINS; id++) {
    if (kindOf(id) == KIND_TRANSLATED) tableFree(rootOf(id), 0);
    store<u8>(dKind + <usize>id, 0);
    store<u32>(dRoot + (<usize>id << 2), 0);
    store<u32>(dAttached + (<usize>id << 2), 0);
  }
  memory.fill(slotDomain, 0, <usize>MAX_FUNCTIONS);
}
