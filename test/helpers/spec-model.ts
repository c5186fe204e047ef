// An independent model of the write masks the specification (/tmp/semantics.md, "Config access
// rules") gives a function, computed from the function's config bytes and BAR sizes only. It is
// the oracle of the "every byte obeys its mask" tests: it does not use the product's mask code.

export interface SpecMasks {
  /** Writable bits per byte. */
  w: Uint8Array;
  /** Write-1-to-clear bits per byte. */
  c: Uint8Array;
  /** 1 where the specification does not pin the exact bits (e.g. PCIe Link Control). */
  unspecified: Uint8Array;
  /** Whether the function has a PCI Express capability. */
  express: boolean;
}

function put(a: Uint8Array, off: number, width: number, value: number | bigint): void {
  let v = BigInt(value) & ((1n << BigInt(8 * width)) - 1n);
  for (let i = 0; i < width; i++) {
    a[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function get(a: Uint8Array, off: number, width: number): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + a[off + i];
  return v;
}

/** The capability list, walked as the spec says: pointers & 0xfc, 0x40..0xfc, no repeats. */
export function specCaps(config: Uint8Array): { offset: number; id: number }[] {
  const out: { offset: number; id: number }[] = [];
  if ((get(config, 0x06, 2) & 0x10) === 0) return out;
  const seen = new Set<number>();
  let p = config[0x34] & 0xfc;
  while (p >= 0x40 && p <= 0xfc && !seen.has(p)) {
    seen.add(p);
    out.push({ offset: p, id: config[p] });
    p = config[p + 1] & 0xfc;
  }
  return out;
}

/**
 * The masks of a function with these config bytes. `barSizes`: index 0-5 = BARs, 6 = ROM;
 * BARs not listed are unimplemented. `size`: 256 or 4096.
 */
export function specMasks(config: Uint8Array, barSizes: Map<number, bigint>, size: number): SpecMasks {
  const w = new Uint8Array(size);
  const c = new Uint8Array(size);
  const unspecified = new Uint8Array(size);
  const headerType = config[0x0e] & 0x7f;
  const caps = specCaps(config);
  const express = caps.some((cap) => cap.id === 0x10);

  // Common header.
  put(w, 0x04, 2, 0x0547);
  put(c, 0x06, 2, 0xf900);
  w[0x0c] = 0xff;
  w[0x0d] = express ? 0 : 0xff;
  w[0x3c] = 0xff;

  const barCount = headerType === 1 ? 2 : 6;
  for (let i = 0; i < barCount; i++) {
    const sz = barSizes.get(i);
    if (sz === undefined) continue;
    const off = 0x10 + 4 * i;
    const low = get(config, off, 4);
    if (low & 1) {
      put(w, off, 4, ~(sz - 1n) & 0xfffffffcn);
    } else {
      put(w, off, 4, ~(sz - 1n) & 0xfffffff0n);
      if ((low & 6) === 4) put(w, off + 4, 4, ~((sz - 1n) >> 32n) & 0xffffffffn);
    }
  }
  const rom = barSizes.get(6);
  if (rom !== undefined) put(w, headerType === 1 ? 0x38 : 0x30, 4, (~(rom - 1n) & 0xfffff800n) | 1n);

  if (headerType === 1) {
    w[0x18] = 0xff;
    w[0x19] = 0xff;
    w[0x1a] = 0xff;
    w[0x1b] = express ? 0 : 0xff;
    w[0x1c] = 0xf0;
    w[0x1d] = 0xf0;
    put(c, 0x1e, 2, 0xf900);
    put(w, 0x20, 2, 0xfff0);
    put(w, 0x22, 2, 0xfff0);
    put(w, 0x24, 2, 0xfff0);
    put(w, 0x26, 2, 0xfff0);
    if ((config[0x24] & 0xf) === 1) {
      put(w, 0x28, 4, 0xffffffff);
      put(w, 0x2c, 4, 0xffffffff);
    }
    if ((config[0x1c] & 0xf) === 1) {
      put(w, 0x30, 2, 0xffff);
      put(w, 0x32, 2, 0xffff);
    }
    put(w, 0x3e, 2, 0x0bff);
    put(c, 0x3e, 2, 0x0400);
  }

  for (const { offset: at, id } of caps) {
    switch (id) {
      case 0x01: // PM: PMCSR bits 1:0 and 8 RW, 15 RW1C.
        put(w, at + 4, 2, 0x0103);
        put(c, at + 4, 2, 0x8000);
        break;
      case 0x05: { // MSI
        const control = get(config, at + 2, 2);
        const a64 = (control & 0x80) !== 0;
        const pvm = (control & 0x100) !== 0;
        put(w, at + 2, 2, 0x0071);
        put(w, at + 4, 4, 0xfffffffc);
        if (a64) put(w, at + 8, 4, 0xffffffff);
        put(w, at + (a64 ? 0x0c : 0x08), 2, 0xffff);
        if (pvm) {
          const vectors = 1 << Math.min(5, (control >> 1) & 7);
          put(w, at + (a64 ? 0x10 : 0x0c), 4, vectors === 32 ? 0xffffffff : (1 << vectors) - 1);
        }
        break;
      }
      case 0x11: // MSI-X: Function Mask (14) and Enable (15).
        put(w, at + 2, 2, 0xc000);
        break;
      case 0x10: { // PCI Express
        const type = (get(config, at + 2, 2) >> 4) & 0xf;
        const isPort = type === 0x4 || type === 0x6;
        put(w, at + 0x08, 2, 0x7fff);
        put(c, at + 0x0a, 2, 0x000f);
        // Link Control is "writable" without exact bits; registers past Link Status are not
        // described by the specification.
        unspecified[at + 0x10] = 1;
        unspecified[at + 0x11] = 1;
        if (isPort) put(c, at + 0x12, 2, 0xc000);
        for (let i = at + 0x14; i < Math.min(at + 0x3c, 256); i++) unspecified[i] = 1;
        break;
      }
      default: // vendor-specific and unknown capabilities: read-only
        break;
    }
  }
  if (size === 4096 && express) specExtendedMasks(config, caps, w, c);
  return { w, c, unspecified, express };
}

/**
 * The extended capabilities with writable bits: AER (PCIe Base 6.0 §7.8.4), with the error bits
 * vpci documents as implemented (uncorrectable 0x03fff030, correctable 0x0000f1c1) and the root
 * port registers when the PCI Express capability says Root Port or Root Complex Event Collector.
 * Every other extended capability here (DSN, raw bytes) is read-only.
 */
function specExtendedMasks(config: Uint8Array, caps: { offset: number; id: number }[], w: Uint8Array, c: Uint8Array): void {
  const pcie = caps.find((cap) => cap.id === 0x10)!.offset;
  const type = (get(config, pcie + 2, 2) >> 4) & 0xf;
  const seen = new Set<number>();
  for (let p = 0x100; p >= 0x100 && p <= 0xffc && !seen.has(p);) {
    seen.add(p);
    const header = get(config, p, 4);
    if (header === 0) break;
    if ((header & 0xffff) === 0x0001) {
      put(c, p + 0x04, 4, 0x03fff030); // Uncorrectable Error Status
      put(w, p + 0x08, 4, 0x03fff030); // Mask
      put(w, p + 0x0c, 4, 0x03fff030); // Severity
      put(c, p + 0x10, 4, 0x0000f1c1); // Correctable Error Status
      put(w, p + 0x14, 4, 0x0000f1c1); // Mask
      put(w, p + 0x18, 4, 0x00000140); // ECRC Generation and Check Enable
      if (type === 0x4 || type === 0xa) {
        put(w, p + 0x2c, 4, 0x00000007); // Root Error Command
        put(c, p + 0x30, 4, 0x0000007f); // Root Error Status
      }
    }
    p = (header >>> 20) & 0xffc;
  }
}
