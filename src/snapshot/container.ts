// The snapshot blob: a fixed header, then the body (the codec's encoding of one object).
//
//   0  "VPCISNAP"            magic, 8 bytes
//   8  u32 format version    SNAPSHOT_VERSION; a newer one is refused, not guessed at
//  12  u32 flags             0 (reserved)
//  16  u32 body length       bytes after the header
//  20  u32 CRC-32 of body    a flipped bit anywhere is caught before anything is decoded
//  24  body
//
// All little-endian. The body is self-describing (named fields, see codec.ts), so a reader can
// show what a snapshot holds without the bus that wrote it.
import { crc32 } from './crc32.js';
import { DecodeProblem, decodePlain, encodePlain } from './codec.js';
import type { PlainValue } from './codec.js';
import { SnapshotError } from './errors.js';

/** The format version this vpci writes and the newest it reads. */
export const SNAPSHOT_VERSION = 1;
/** The first 8 bytes of every snapshot. */
export const SNAPSHOT_MAGIC = new Uint8Array([0x56, 0x50, 0x43, 0x49, 0x53, 0x4e, 0x41, 0x50]); // "VPCISNAP"
/** Bytes before the body. */
export const SNAPSHOT_HEADER_SIZE = 24;

/** Wraps an encoded body in the header. */
export function writeContainer(body: PlainValue): Uint8Array {
  const encoded = encodePlain(body);
  if (encoded.length > 0xffffffff) {
    throw new SnapshotError('body', `${encoded.length} bytes: a snapshot body holds at most 4 GiB - 1 (its length is a u32); leave the embedder's RAM out (externalRam: false)`);
  }
  const out = new Uint8Array(SNAPSHOT_HEADER_SIZE + encoded.length);
  const view = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, 0);
  view.setUint32(8, SNAPSHOT_VERSION, true);
  view.setUint32(12, 0, true);
  view.setUint32(16, encoded.length, true);
  view.setUint32(20, crc32(encoded), true);
  out.set(encoded, SNAPSHOT_HEADER_SIZE);
  return out;
}

/** Checks the header and the CRC, then decodes the body; SnapshotError names what is wrong. */
export function readContainer(blob: Uint8Array): PlainValue {
  if (!(blob instanceof Uint8Array)) throw new SnapshotError('blob', `expected a Uint8Array, got ${Object.prototype.toString.call(blob)}`);
  if (blob.length < SNAPSHOT_HEADER_SIZE) throw new SnapshotError('header', `truncated: ${blob.length} bytes, a snapshot has at least ${SNAPSHOT_HEADER_SIZE}`);
  if (!SNAPSHOT_MAGIC.every((b, i) => blob[i] === b)) throw new SnapshotError('header.magic', 'not a vpci snapshot (it does not start with "VPCISNAP")');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const version = view.getUint32(8, true);
  if (version === 0 || version > SNAPSHOT_VERSION) {
    throw new SnapshotError('header.version', `format version ${version} is not one this vpci reads (1..${SNAPSHOT_VERSION}); a newer vpci wrote it`);
  }
  const flags = view.getUint32(12, true);
  if (flags !== 0) throw new SnapshotError('header.flags', `0x${flags.toString(16)}: no flags are defined in version ${version}`);
  const length = view.getUint32(16, true);
  const body = blob.subarray(SNAPSHOT_HEADER_SIZE);
  if (body.length < length) throw new SnapshotError('body', `truncated: the header announces ${length} bytes of body, ${body.length} are there`);
  if (body.length > length) throw new SnapshotError('body', `${body.length - length} bytes follow the announced ${length} bytes of body`);
  const expected = view.getUint32(20, true);
  const actual = crc32(body);
  if (actual !== expected) {
    throw new SnapshotError('body', `corrupted: CRC-32 0x${actual.toString(16).padStart(8, '0')}, the header says 0x${expected.toString(16).padStart(8, '0')}`);
  }
  try {
    return decodePlain(body);
  } catch (e) {
    if (e instanceof DecodeProblem) throw new SnapshotError(e.path ? `body.${e.path}` : 'body', e.problem);
    throw e;
  }
}
