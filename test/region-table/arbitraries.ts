// fast-check generators for region-table tests: addresses that cluster around interesting places
// (level boundaries, page edges, the 2^52 ceiling) so overlaps, shared pages and splits are common.
import fc from 'fast-check';
import { IO_LIMIT, MMIO_LIMIT } from './model.js';

/** Places where levels split: page, 2 MiB, 1 GiB, 512 GiB boundaries, and the top of the space. */
export const MMIO_ANCHORS = [
  0, 0x1000, 0xfeb00000, 2 ** 32 - 0x1000, 2 ** 32, 2 ** 39 - 0x2000, 2 ** 39, 2 ** 40 + 0x7f0,
  2 ** 51, MMIO_LIMIT - 2 ** 30, MMIO_LIMIT - 0x40,
];
export const IO_ANCHORS = [0, 0x60, 0x3f8, 0xcf8, 0x1000, 0xc000, IO_LIMIT - 0x20];

function clamp(v: number, limit: number): number {
  return Math.min(Math.max(v, 0), limit - 1);
}

export const mmioAddress: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...MMIO_ANCHORS),
  fc.tuple(fc.constantFrom(...MMIO_ANCHORS), fc.integer({ min: -0x3000, max: 0x3000 }))
    .map(([a, d]) => clamp(a + d, MMIO_LIMIT)),
  fc.tuple(fc.constantFrom(...MMIO_ANCHORS), fc.integer({ min: 0, max: 255 })).map(([a, k]) => clamp(a + k * 16, MMIO_LIMIT)),
  fc.tuple(fc.constantFrom(...MMIO_ANCHORS), fc.integer({ min: -512, max: 512 }))
    .map(([a, k]) => clamp(a + k * 2 ** 21, MMIO_LIMIT)),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([h, l]) => h * 2 ** 32 + l),
);

export const mmioSize: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.constantFrom(16, 32, 256, 4096, 0x4000, 2 ** 21, 2 ** 28, 2 ** 30, 64 * 2 ** 30, 2 ** 39, 2 ** 51),
  fc.integer({ min: 1, max: 64 }).map((k) => k * 4096),
  fc.integer({ min: 1, max: 2 ** 31 }),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.integer({ min: 1, max: 2 ** 32 - 1 })).map(([h, l]) => h * 2 ** 32 + l),
);

export const ioAddress: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...IO_ANCHORS),
  fc.tuple(fc.constantFrom(...IO_ANCHORS), fc.integer({ min: -64, max: 64 })).map(([a, d]) => clamp(a + d, IO_LIMIT)),
  fc.integer({ min: 0, max: IO_LIMIT - 1 }),
);

export const ioSize: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: 16 }),
  fc.constantFrom(1, 4, 8, 0x20, 0x100, 0x1000, IO_LIMIT),
  fc.integer({ min: 1, max: IO_LIMIT }),
);

/** A valid-looking mapping (it may still run past the space's end: that is rejected alike). */
export const mappingArb = (ids: fc.Arbitrary<number>) => fc.oneof(
  { weight: 3, arbitrary: fc.record({ id: ids, space: fc.constant(0), base: mmioAddress, size: mmioSize, priority: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ id: ids, space: fc.constant(1), base: ioAddress, size: ioSize, priority: fc.integer({ min: 0, max: 3 }) }) },
);

/** Numbers that are not valid arguments, or are only after coercion. */
export const oddNumber = fc.constantFrom(
  -1, 0, 4095, 4096, 65535, 2 ** 31, 2 ** 32, 2 ** 32 + 3, -(2 ** 32) + 7, 0.5, 1.5, NaN, Infinity, -Infinity,
  2 ** 52, 2 ** 52 - 1, 2 ** 53, 2 ** 64, 256, 255, 2, -0,
);
