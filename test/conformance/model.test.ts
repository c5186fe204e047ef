// Conformance by property: for random device descriptors (BAR kinds and sizes, ROMs, PM, MSI,
// MSI-X, PCIe, vendor capabilities, extended capabilities, both header types), random guest
// writes give exactly what the specification's masks (an independent model, helpers/spec-model)
// predict, byte by byte, and never touch another byte.
import fc from 'fast-check';
import { describe, test } from 'vitest';
import { createBus } from '../../src/bus.js';
import { resolveTopology } from '../../src/topology/index.js';
import { descriptorArb } from '../helpers/arbitraries.js';
import { specMasks } from '../helpers/spec-model.js';
import { BACKENDS, hex, poke, snapshot, walkCaps } from '../helpers/vpci.js';

const writeArb = fc.record({
  reg: fc.oneof({ weight: 8, arbitrary: fc.nat(0xff) }, { weight: 1, arbitrary: fc.nat(0xfff) }),
  size: fc.constantFrom(1, 2, 4),
  value: fc.oneof(fc.nat(0xffffffff), fc.constantFrom(0, 0xffffffff)),
});

/** The first power-management capability (ID 1) in the list (PCI 3.0 §6.7), with PMCSR in the first 256 bytes; 0 if none. */
function firstPm(config: Uint8Array): number {
  if (!(config[0x06] & 0x10)) return 0;
  let p = config[0x34] & 0xfc;
  for (let hops = 0; p >= 0x40 && hops < 48; hops++) {
    if (config[p] === 0x01) return p + 8 <= 256 ? p : 0;
    p = config[p + 1] & 0xfc;
  }
  return 0;
}

describe.each(BACKENDS)('random descriptors follow the specification write masks (%s backend)', (backend) => {
  test('every write of a random sequence changes exactly the masked bits of its own bytes', async () => {
    await fc.assert(
      fc.asyncProperty(descriptorArb, fc.array(writeArb, { maxLength: 120, size: 'max' }), fc.option(fc.nat()), async (descriptor, writes, noise) => {
        const topology = await resolveTopology({ devices: [{ bdf: '00:01.0', descriptor }] });
        const bus = await createBus({ backend, topology });
        const f = topology.functions[0];
        const size = f.planes.size;
        const initial = snapshot(bus, '00:01.0', size);
        const m = specMasks(initial, new Map(f.barSizes.map((b) => [b.index, b.size])), size);
        if ((size === 4096) !== m.express) throw new Error(`config space of ${size} bytes, PCIe capability: ${m.express}`);
        // Device-side state: every error bit set, or random bytes everywhere (the masks stay).
        let x = (noise ?? 0) | 1;
        const rnd = () => {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          return x & 0xff;
        };
        // MSI's Message Control says what the function implements (read-only, device-defined), so
        // it keeps its bytes; its Pending Bits are the device's to change (the interrupt core sends
        // and clears a pending vector the guest unmasks): the model reads them back.
        const msi = walkCaps(bus, '00:01.0').filter((c) => c.id === 0x05).map((c) => c.offset);
        const deviceOwned: number[] = [];
        for (const cap of msi) {
          const control = initial[cap + 2] | (initial[cap + 3] << 8);
          if (control & 0x100) deviceOwned.push(...[0, 1, 2, 3].map((i) => cap + ((control & 0x80) ? 0x14 : 0x10) + i));
        }
        const keep = new Set(msi.flatMap((cap) => [cap + 2, cap + 3]));
        poke(bus, '00:01.0', 0, initial.map((v, i) => (keep.has(i) ? v : noise === null ? v | m.c[i] : rnd())));
        const model = snapshot(bus, '00:01.0', size);
        // PCI Bus PM 1.2 §3.2.4: a write of a power state the function does not support (D1, D2
        // without PMC bits 9, 10) leaves PowerState as it was; masks cannot say it, so the model
        // applies it after them. The PM capability is the first with ID 1 in the list the planes
        // now hold (the noise may have rewritten the list).
        const pm = firstPm(model);
        // Every byte once with ones and zeros, then the random writes.
        const all = [
          ...Array.from({ length: 256 }, (_, reg) => ({ reg, size: 1, value: 0xff })),
          ...Array.from({ length: 256 }, (_, reg) => ({ reg, size: 1, value: 0 })),
          ...writes,
        ];
        for (const w of all) {
          bus.configWrite('00:01.0', w.reg, w.size, w.value);
          const ok = (w.reg & 3) + w.size <= 4 && w.reg < size;
          const oldState = pm === 0 ? 0 : model[pm + 4] & 3;
          for (let i = 0; ok && i < w.size; i++) {
            const at = w.reg + i;
            const v = (w.value >>> (8 * i)) & 0xff;
            model[at] = m.unspecified[at]
              ? bus.configRead('00:01.0', at, 1)
              : (((model[at] & ~m.w[at]) | (v & m.w[at])) & ~(v & m.c[at])) & 0xff;
          }
          if (pm !== 0 && ok && w.reg <= pm + 4 && pm + 4 < w.reg + w.size) {
            const state = model[pm + 4] & 3;
            const pmc = model[pm + 2] | (model[pm + 3] << 8);
            if ((state === 1 && !(pmc & 0x200)) || (state === 2 && !(pmc & 0x400))) model[pm + 4] = (model[pm + 4] & ~3) | oldState;
          }
          for (const at of deviceOwned) model[at] = bus.configRead('00:01.0', at, 1);
          const lane = w.reg & ~3;
          if (lane < size) {
            const got = bus.configRead('00:01.0', lane, 4);
            const want = (model[lane] | (model[lane + 1] << 8) | (model[lane + 2] << 16) | (model[lane + 3] << 24)) >>> 0;
            if (got !== want) {
              throw new Error(`after writing ${hex(w.value)} (${w.size} bytes) at ${hex(w.reg)}: dword ${hex(lane)} reads ${hex(got)}, the masks give ${hex(want)}`);
            }
          }
        }
        const final = snapshot(bus, '00:01.0', size);
        const at = final.findIndex((b, i) => b !== model[i]);
        if (at >= 0) throw new Error(`byte ${hex(at)} is ${hex(final[at])}, the masks give ${hex(model[at])}`);
      }),
      { numRuns: 300 },
    );
  });
});
