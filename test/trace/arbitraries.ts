import fc from 'fast-check';
import type { TraceAccess, TraceEvent } from '../../src/trace/index.js';

const mask = (size: number): bigint => (1n << BigInt(size * 8)) - 1n;

export const access: fc.Arbitrary<TraceAccess> = fc
  .record({
    write: fc.boolean(),
    io: fc.boolean(),
    sizeIx: fc.integer({ min: 0, max: 3 }),
    addr: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    hasExpected: fc.boolean(),
  })
  .map(({ write, io, sizeIx, addr, value, hasExpected }) => {
    const size = ([1, 2, 4, io ? 4 : 8] as const)[sizeIx]!;
    const a: TraceAccess = { op: write ? 'write' : 'read', space: io ? 'io' : 'mmio', addr: io ? addr & 0xffffn : addr, size };
    if (write) a.value = value & mask(size);
    else if (hasExpected) a.expected = value & mask(size);
    return a;
  });

const word = fc.stringMatching(/^[a-z/_][a-z0-9/_.-]{0,12}$/);

export const event: fc.Arbitrary<TraceEvent> = fc.oneof(
  { weight: 6, arbitrary: access },
  fc.record({ addr: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) })
    .map(({ addr, data }) => ({ op: 'memwrite' as const, addr, data })),
  fc.record({ addr: fc.bigInt({ min: 0n, max: 1n << 40n }), data: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }), size: fc.integer({ min: 1, max: 40 }) })
    .map(({ addr, data, size }): TraceEvent => (data ? { op: 'memread', addr, size: data.length, expected: data } : { op: 'memread', addr, size })),
  fc.record({ set: fc.boolean(), ns: fc.option(fc.bigInt({ min: 0n, max: 1n << 63n }), { nil: undefined }), now: fc.option(fc.bigInt({ min: 0n, max: 1n << 63n }), { nil: undefined }) })
    .map(({ set, ns, now }): TraceEvent => {
      const e: TraceEvent = { op: 'clock', mode: set ? 'set' : 'step' };
      if (ns !== undefined || set) e.ns = ns ?? 0n;
      if (now !== undefined) e.expected = now;
      return e;
    }),
  fc.record({ line: fc.nat(1000), level: fc.integer({ min: -5, max: 5 }), path: fc.option(fc.tuple(word, word), { nil: undefined }) })
    .map(({ line, level, path }): TraceEvent => (path ? { op: 'irq', line, level, inject: { path: path[0], name: path[1] } } : { op: 'irq', line, level })),
  fc.record({ command: word, args: fc.array(word, { maxLength: 3 }), reply: fc.option(word, { nil: undefined }) })
    .map(({ command, args, reply }): TraceEvent => (reply === undefined ? { op: 'meta', command, args } : { op: 'meta', command, args, reply })),
);
