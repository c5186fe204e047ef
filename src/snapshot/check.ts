// Reading a decoded snapshot value with its shape checked: each accessor names the place of the
// value it rejects (`devices["0000:00:06.0"].common.status: 300 is not an integer 0..255`), so a
// model's loadState can check everything before it changes anything.
import type { PlainValue } from './codec.js';
import { SnapshotError } from './errors.js';

/** A decoded value and the place it came from. */
export class StateReader {
  constructor(readonly value: PlainValue | undefined, readonly place: string) {}

  private fail(problem: string): never {
    throw new SnapshotError(this.place, problem);
  }

  private describe(): string {
    const v = this.value;
    if (v === undefined) return 'missing';
    if (v === null) return 'null';
    if (v instanceof Uint8Array) return `${v.length} bytes`;
    if (v instanceof Uint32Array) return `${v.length} words`;
    if (Array.isArray(v)) return `an array of ${v.length}`;
    if (typeof v === 'object') return 'an object';
    if (typeof v === 'string') return `"${v.slice(0, 40)}"`;
    return String(v);
  }

  /** The field `key` of an object. */
  get(key: string): StateReader {
    const v = this.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array || v instanceof Uint32Array) {
      this.fail(`${this.describe()} is not an object`);
    }
    return new StateReader(Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined, `${this.place}.${key}`);
  }

  /** Whether the object has field `key`. */
  has(key: string): boolean {
    const v = this.value;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Uint32Array) &&
      Object.prototype.hasOwnProperty.call(v, key);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`${this.describe()} is not an integer ${min}..${max}`);
    return v;
  }

  /** A boolean. */
  bool(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`${this.describe()} is not a boolean`);
    return this.value;
  }

  /** A string. */
  str(): string {
    if (typeof this.value !== 'string') this.fail(`${this.describe()} is not a string`);
    return this.value;
  }

  /** A bigint in [min, max]. */
  big(min: bigint, max: bigint): bigint {
    const v = this.value;
    if (typeof v !== 'bigint' || v < min || v > max) this.fail(`${this.describe()} is not an integer ${min}..${max}`);
    return v;
  }

  /** Bytes, exactly `length` of them when given. */
  bytes(length?: number): Uint8Array {
    const v = this.value;
    if (!(v instanceof Uint8Array)) this.fail(`${this.describe()} is not bytes`);
    if (length !== undefined && v.length !== length) this.fail(`${v.length} bytes, expected ${length}`);
    return v;
  }

  /** 32-bit words, exactly `length` of them when given. */
  words(length?: number): Uint32Array {
    const v = this.value;
    if (!(v instanceof Uint32Array)) this.fail(`${this.describe()} is not 32-bit words`);
    if (length !== undefined && v.length !== length) this.fail(`${v.length} words, expected ${length}`);
    return v;
  }

  /** The elements of an array, exactly `length` of them when given. */
  items(length?: number): StateReader[] {
    const v = this.value;
    if (!Array.isArray(v)) this.fail(`${this.describe()} is not an array`);
    if (length !== undefined && v.length !== length) this.fail(`an array of ${v.length}, expected ${length}`);
    return v.map((e, i) => new StateReader(e, `${this.place}[${i}]`));
  }

  /** null, or what `read` makes of the value. */
  optional<T>(read: (r: StateReader) => T): T | undefined {
    return this.value === null || this.value === undefined ? undefined : read(this);
  }
}
