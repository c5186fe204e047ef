// A self-describing binary encoding of plain data — what snapshots are made of: null, booleans,
// numbers (f64), bigints, strings, Uint8Array, Uint32Array, arrays and objects with string keys.
// Every value starts with a one-byte tag; lengths are u32 little-endian. Decoding checks every
// length against the bytes left, so a truncated or corrupted body fails with the path of the
// value it was reading, never with a RangeError or a half-built result.

/** A value the codec carries. */
export type PlainValue =
  | null | boolean | number | bigint | string | Uint8Array | Uint32Array
  | PlainValue[] | { [key: string]: PlainValue };

const enum Tag { NULL = 0, FALSE = 1, TRUE = 2, NUMBER = 3, BIGINT = 4, STRING = 5, BYTES = 6, U32S = 7, ARRAY = 8, OBJECT = 9 }

/** Nesting deeper than this is refused on decode (a hostile blob must not exhaust the stack). */
const MAX_DEPTH = 64;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Grows as values are appended; `bytes()` returns the encoding. */
class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.room(1); this.buf[this.at++] = v; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.at, v, true); this.at += 4; }
  f64(v: number): void { this.room(8); this.view.setFloat64(this.at, v, true); this.at += 8; }
  raw(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.at); this.at += b.length; }
  bytes(): Uint8Array { return this.buf.slice(0, this.at); }
}

function encodeValue(w: Writer, v: PlainValue, path: string): void {
  if (v === null) return w.u8(Tag.NULL);
  switch (typeof v) {
    case 'boolean': return w.u8(v ? Tag.TRUE : Tag.FALSE);
    case 'number': w.u8(Tag.NUMBER); return w.f64(v);
    case 'bigint': {
      const s = utf8.encode(v.toString());
      w.u8(Tag.BIGINT); w.u32(s.length); return w.raw(s);
    }
    case 'string': {
      const s = utf8.encode(v);
      w.u8(Tag.STRING); w.u32(s.length); return w.raw(s);
    }
    default: break;
  }
  if (v instanceof Uint8Array) {
    w.u8(Tag.BYTES); w.u32(v.length); return w.raw(v);
  }
  if (v instanceof Uint32Array) {
    w.u8(Tag.U32S); w.u32(v.length);
    return w.raw(new Uint8Array(Uint32Array.from(v).buffer)); // host order is little-endian on every platform vpci runs on
  }
  if (Array.isArray(v)) {
    w.u8(Tag.ARRAY); w.u32(v.length);
    v.forEach((e, i) => encodeValue(w, e, `${path}[${i}]`));
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    w.u8(Tag.OBJECT); w.u32(keys.length);
    for (const k of keys) {
      const s = utf8.encode(k);
      w.u32(s.length); w.raw(s);
      encodeValue(w, v[k], path ? `${path}.${k}` : k);
    }
    return;
  }
  throw new TypeError(`${path || 'value'}: ${Object.prototype.toString.call(v)} is not plain data a snapshot can hold`);
}

/** Encodes `value`; throws TypeError naming the path of anything that is not plain data. */
export function encodePlain(value: PlainValue): Uint8Array {
  const w = new Writer();
  encodeValue(w, value, '');
  return w.bytes();
}

/** Why a body did not decode, and where: the path of the value being read. */
export class DecodeProblem extends Error {
  override name = 'DecodeProblem';
  constructor(readonly path: string, readonly problem: string) {
    super(`${path || 'body'}: ${problem}`);
  }
}

class Reader {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  get left(): number { return this.b.length - this.at; }
  need(n: number, path: string, what: string): void {
    if (n > this.left) throw new DecodeProblem(path, `${what} needs ${n} bytes, ${this.left} are left (truncated?)`);
  }
  u8(path: string): number { this.need(1, path, 'a tag'); return this.b[this.at++]; }
  u32(path: string, what: string): number { this.need(4, path, what); const v = this.view.getUint32(this.at, true); this.at += 4; return v; }
  f64(path: string): number { this.need(8, path, 'a number'); const v = this.view.getFloat64(this.at, true); this.at += 8; return v; }
  take(n: number, path: string, what: string): Uint8Array { this.need(n, path, what); const s = this.b.subarray(this.at, this.at + n); this.at += n; return s; }
  text(n: number, path: string, what: string): string {
    try {
      return fromUtf8.decode(this.take(n, path, what));
    } catch (e) {
      if (e instanceof DecodeProblem) throw e;
      throw new DecodeProblem(path, `${what} is not UTF-8`);
    }
  }
}

function decodeValue(r: Reader, path: string, depth: number): PlainValue {
  if (depth > MAX_DEPTH) throw new DecodeProblem(path, `nested deeper than ${MAX_DEPTH} levels`);
  const tag = r.u8(path);
  switch (tag) {
    case Tag.NULL: return null;
    case Tag.FALSE: return false;
    case Tag.TRUE: return true;
    case Tag.NUMBER: return r.f64(path);
    case Tag.BIGINT: {
      const s = r.text(r.u32(path, 'a bigint length'), path, 'a bigint');
      if (!/^-?\d+$/.test(s)) throw new DecodeProblem(path, `"${s.slice(0, 40)}" is not an integer`);
      return BigInt(s);
    }
    case Tag.STRING: return r.text(r.u32(path, 'a string length'), path, 'a string');
    case Tag.BYTES: return r.take(r.u32(path, 'a byte count'), path, 'bytes').slice();
    case Tag.U32S: {
      const n = r.u32(path, 'a word count');
      r.need(n * 4, path, `${n} words`);
      const bytes = r.take(n * 4, path, 'words').slice();
      return new Uint32Array(bytes.buffer);
    }
    case Tag.ARRAY: {
      const n = r.u32(path, 'an array length');
      // Each element takes at least one byte: a count beyond what is left is corruption.
      r.need(n, path, `${n} elements`);
      const out: PlainValue[] = [];
      for (let i = 0; i < n; i++) out.push(decodeValue(r, `${path}[${i}]`, depth + 1));
      return out;
    }
    case Tag.OBJECT: {
      const n = r.u32(path, 'a field count');
      r.need(n * 5, path, `${n} fields`);
      const out: { [key: string]: PlainValue } = {};
      for (let i = 0; i < n; i++) {
        const key = r.text(r.u32(path, 'a key length'), path, 'a key');
        if (key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) throw new DecodeProblem(path, `the key "${key}" is not allowed or given twice`);
        out[key] = decodeValue(r, path ? `${path}.${key}` : key, depth + 1);
      }
      return out;
    }
    default: throw new DecodeProblem(path, `unknown tag ${tag}`);
  }
}

/** Decodes a whole body; throws DecodeProblem (with the path) on anything malformed or left over. */
export function decodePlain(bytes: Uint8Array): PlainValue {
  const r = new Reader(bytes);
  const v = decodeValue(r, '', 0);
  if (r.left !== 0) throw new DecodeProblem('', `${r.left} bytes follow the end of the value`);
  return v;
}
