// The snapshot container and its body encoding: every plain value round-trips exactly; a
// truncated, bit-flipped, future-version or foreign blob is refused with a SnapshotError that names
// the header field or the body and says why.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePlain, encodePlain, readContainer, writeContainer, SNAPSHOT_HEADER_SIZE, SNAPSHOT_VERSION, SnapshotError } from '../../src/snapshot/index.js';
import type { PlainValue } from '../../src/snapshot/index.js';

const plain = fc.letrec<{ value: PlainValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.double(), fc.bigInt(), fc.string(),
    fc.uint8Array({ maxLength: 64 }), fc.uint32Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 5 }).map((o) => ({ ...o })),
  ),
})).value;

/** The error `f` throws, checked to be a SnapshotError. */
function refusal(f: () => unknown): SnapshotError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return e as SnapshotError;
  }
  throw new Error('expected a SnapshotError, nothing was thrown');
}

describe('the body encoding', () => {
  it('round-trips every plain value exactly (NaN, -0, bigints, typed arrays, nesting)', () => {
    fc.assert(fc.property(plain, (v) => {
      expect(decodePlain(encodePlain(v))).toEqual(v);
    }), { numRuns: 300 });
    expect(Object.is(decodePlain(encodePlain(-0)), -0)).toBe(true);
  });

  it('refuses values that are not plain data, naming the path', () => {
    expect(() => encodePlain({ a: [1, new Map() as unknown as PlainValue] })).toThrow('a[1]: [object Map] is not plain data');
    expect(() => encodePlain({ f: new Float64Array(2) as unknown as PlainValue })).toThrow('f: [object Float64Array]');
  });

  it('a body cut anywhere fails to decode, never throws anything but its own error', () => {
    const body = encodePlain({ name: 'x', list: [1, 2n, new Uint8Array([1, 2, 3])], nested: { words: new Uint32Array([7, 8]) } });
    for (let n = 0; n < body.length; n++) {
      expect(() => decodePlain(body.subarray(0, n))).toThrow(/needs|truncated|tag/);
    }
  });

  it('a hostile length or nesting depth is refused before anything is allocated for it', () => {
    // An array claiming 2^32-1 elements in a 5-byte body.
    expect(() => decodePlain(new Uint8Array([8, 0xff, 0xff, 0xff, 0xff]))).toThrow(/4294967295 elements needs 4294967295 bytes, 0 are left/);
    // 80 levels of one-element arrays: tag 8, count 1 (u32 little-endian).
    const deep = new Uint8Array(400).map((_, i) => (i % 5 === 0 ? 8 : i % 5 === 1 ? 1 : 0));
    expect(() => decodePlain(deep)).toThrow(/nested deeper than 64 levels/);
  });
});

describe('the container', () => {
  const blob = writeContainer({ format: 'test', data: new Uint8Array(1000).map((_, i) => i) });

  it('reads back what it wrote', () => {
    expect(readContainer(blob)).toEqual({ format: 'test', data: new Uint8Array(1000).map((_, i) => i) });
  });

  it('a truncated blob: names the header or says how much body is missing', () => {
    expect(refusal(() => readContainer(blob.subarray(0, 10))).message).toBe(`snapshot: header: truncated: 10 bytes, a snapshot has at least ${SNAPSHOT_HEADER_SIZE}`);
    const cut = blob.subarray(0, blob.length - 7);
    expect(refusal(() => readContainer(cut)).message).toBe(`snapshot: body: truncated: the header announces ${blob.length - SNAPSHOT_HEADER_SIZE} bytes of body, ${blob.length - SNAPSHOT_HEADER_SIZE - 7} are there`);
  });

  it('any flipped bit is caught: magic, version, flags, length or the CRC-32 over the body', () => {
    for (let bit = 0; bit < blob.length * 8; bit += 7) {
      const bad = blob.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      const e = refusal(() => readContainer(bad));
      expect(e.message).toMatch(/^snapshot: (header\.(magic|version|flags)|body): /);
    }
  });

  it('a future version is refused as such', () => {
    const future = blob.slice();
    new DataView(future.buffer).setUint32(8, SNAPSHOT_VERSION + 1, true);
    expect(refusal(() => readContainer(future)).message).toBe(`snapshot: header.version: format version ${SNAPSHOT_VERSION + 1} is not one this vpci reads (1..${SNAPSHOT_VERSION}); a newer vpci wrote it`);
  });

  it('something else entirely is not a vpci snapshot', () => {
    expect(refusal(() => readContainer(new TextEncoder().encode('{"hello": "world", "padding": "..........."}'))).message)
      .toBe('snapshot: header.magic: not a vpci snapshot (it does not start with "VPCISNAP")');
    expect(refusal(() => readContainer('VPCISNAP' as unknown as Uint8Array)).message).toBe('snapshot: blob: expected a Uint8Array, got [object String]');
  });
});
