// The Wasm core's state image (assembly/state/image.ts) to and from a CoreState, driven by the
// one schema both cores follow (src/core/state.ts): numbers and booleans as f64, bytes as an f64
// length and the bytes padded to 8, RAM bytes as a length only (-1 for none: the contents go
// straight between the state and the core's RAM), lists as an f64 count and the items.
import { CORE_STATE_SCHEMA } from '../src/core/state.js';
import type { CoreState, Field, Schema } from '../src/core/state.js';

const pad8 = (n: number): number => (n + 7) & ~7;

function fieldSize(f: Field, v: unknown): number {
  if (f === 'num' || f === 'bool' || f === 'ram') return 8;
  if (f === 'bytes') return 8 + pad8((v as Uint8Array).length);
  if ('list' in f) {
    let n = 8;
    for (const item of v as unknown[]) n += fieldSize(f.list, item);
    return n;
  }
  return recordSize(f.record, v);
}

function recordSize(schema: Schema, v: unknown): number {
  let n = 0;
  for (const [name, f] of schema) n += fieldSize(f, (v as Record<string, unknown>)[name]);
  return n;
}

/** Writes a state of the schema's shape (stateShapeFits) from offset 0 of a view. */
class ImageWriter {
  private at = 0;
  constructor(private readonly view: DataView, private readonly bytes: Uint8Array) {}

  field(f: Field, v: unknown): void {
    if (f === 'num') return this.num(v as number);
    if (f === 'bool') return this.num(v ? 1 : 0);
    if (f === 'ram') return this.num(v === null ? -1 : (v as Uint8Array).length);
    if (f === 'bytes') {
      const b = v as Uint8Array;
      this.num(b.length);
      this.bytes.set(b, this.at);
      this.bytes.fill(0, this.at + b.length, this.at + pad8(b.length));
      this.at += pad8(b.length);
      return;
    }
    if ('list' in f) {
      const items = v as unknown[];
      this.num(items.length);
      for (const item of items) this.field(f.list, item);
      return;
    }
    this.record(f.record, v);
  }

  record(schema: Schema, v: unknown): void {
    for (const [name, f] of schema) this.field(f, (v as Record<string, unknown>)[name]);
  }

  private num(v: number): void {
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }
}

/** Reads an image the core wrote (trusted: the core's own output) into plain data. */
class ImageReader {
  private at = 0;
  constructor(private readonly view: DataView, private readonly bytes: Uint8Array) {}

  field(f: Field): unknown {
    if (f === 'num') return this.num();
    if (f === 'bool') return this.num() !== 0;
    if (f === 'ram') {
      const n = this.num();
      return n < 0 ? null : new Uint8Array(n); // filled by the caller from the core's RAM
    }
    if (f === 'bytes') {
      const n = this.num();
      const b = this.bytes.slice(this.at, this.at + n);
      this.at += pad8(n);
      return b;
    }
    if ('list' in f) {
      const n = this.num();
      const items: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = this.field(f.list);
      return items;
    }
    return this.record(f.record);
  }

  record(schema: Schema): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const [name, f] of schema) o[name] = this.field(f);
    return o;
  }

  private num(): number {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
}

/** The image size of a state of the schema's shape. */
export function imageSize(state: CoreState): number {
  return recordSize(CORE_STATE_SCHEMA, state);
}

/** Writes the image of a state of the schema's shape into `out` (imageSize bytes). */
export function writeImage(state: CoreState, out: Uint8Array): void {
  new ImageWriter(new DataView(out.buffer, out.byteOffset, out.byteLength), out).record(CORE_STATE_SCHEMA, state);
}

/** The CoreState of an image the core wrote; RAM data arrays are allocated, not yet filled. */
export function readImage(image: Uint8Array): CoreState {
  return new ImageReader(new DataView(image.buffer, image.byteOffset, image.byteLength), image).record(CORE_STATE_SCHEMA) as unknown as CoreState;
}
