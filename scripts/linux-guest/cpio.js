// A minimal writer and reader for the "newc" cpio format (the one the Linux kernel unpacks as an
// initramfs: magic 070701, ASCII-hex header fields, 4-byte alignment). No dependencies beyond node:.
//
//   import { writeNewc, readNewc } from './cpio.js';
//   const buf = writeNewc([{ name: 'bin', type: 'dir' }, { name: 'bin/x', data: bytes, mode: 0o755 }]);
//
// CLI: `node scripts/linux-guest/cpio.js list FILE[.gz]` prints `mode size name` per entry
// (gzip'd input is detected by its magic bytes).
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TYPE_BITS = { dir: S_IFDIR, file: S_IFREG, symlink: S_IFLNK, char: S_IFCHR };

const hex8 = (n) => (n >>> 0).toString(16).padStart(8, '0');
const pad4 = (n) => (4 - (n % 4)) % 4;

/**
 * entries: { name, type?: 'file'|'dir'|'symlink'|'char', mode?: perms, data?: Buffer|string,
 *            target?: string (symlink), major?, minor? (char device), uid?, gid?, mtime? }
 * Names are relative (no leading '/'); parents must come before children. Output is deterministic
 * (mtime 0 unless given, inodes numbered in order).
 */
export function writeNewc(entries) {
  const chunks = [];
  let ino = 1;
  const push = (name, mode, data, opts = {}) => {
    const nameBuf = Buffer.from(name + '\0', 'utf8');
    const fields = [
      ino++, mode, opts.uid ?? 0, opts.gid ?? 0, opts.nlink ?? 1, opts.mtime ?? 0, data.length,
      0, 0, opts.major ?? 0, opts.minor ?? 0, nameBuf.length, 0,
    ];
    const header = Buffer.from('070701' + fields.map(hex8).join(''), 'ascii');
    chunks.push(header, nameBuf, Buffer.alloc(pad4(header.length + nameBuf.length)));
    chunks.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (!(type in TYPE_BITS)) throw new Error(`cpio: unknown entry type ${type} for ${e.name}`);
    const name = e.name.replace(/^\/+/, '');
    if (!name) throw new Error('cpio: empty entry name');
    const perms = e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : type === 'char' ? 0o600 : 0o644);
    let data = Buffer.alloc(0);
    if (type === 'file') data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8');
    if (type === 'symlink') data = Buffer.from(e.target, 'utf8');
    push(name, TYPE_BITS[type] | (perms & 0o7777), data, {
      uid: e.uid, gid: e.gid, mtime: e.mtime, nlink: type === 'dir' ? 2 : 1, major: e.major, minor: e.minor,
    });
  }
  push('TRAILER!!!', 0, Buffer.alloc(0), { nlink: 1 });
  return Buffer.concat(chunks);
}

/** Parses a newc archive (gzip'd or not); returns [{ name, mode, type, size, data, major, minor }]. */
export function readNewc(input) {
  let buf = input;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const out = [];
  let off = 0;
  for (;;) {
    if (off + 110 > buf.length) throw new Error(`cpio: truncated header at ${off}`);
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701' && magic !== '070702') throw new Error(`cpio: bad magic ${JSON.stringify(magic)} at ${off}`);
    const f = (i) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = f(1), size = f(6), major = f(9), minor = f(10), namesize = f(11);
    const nameStart = off + 110;
    const name = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + pad4(110 + namesize);
    if (dataStart + size > buf.length) throw new Error(`cpio: truncated data for ${name}`);
    off = dataStart + size + pad4(size);
    if (name === 'TRAILER!!!') break;
    const t = mode & 0o170000;
    const type = t === S_IFDIR ? 'dir' : t === S_IFREG ? 'file' : t === S_IFLNK ? 'symlink' : t === S_IFCHR ? 'char' : 'other';
    out.push({ name, mode, type, size, data: buf.subarray(dataStart, dataStart + size), major, minor });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, file] = process.argv.slice(2);
  if (cmd !== 'list' || !file) {
    console.error('usage: node cpio.js list FILE[.gz]');
    process.exit(2);
  }
  for (const e of readNewc(readFileSync(file))) {
    const extra = e.type === 'symlink' ? ` -> ${e.data.toString('utf8')}` : e.type === 'char' ? ` (char ${e.major},${e.minor})` : '';
    console.log(`${e.mode.toString(8).padStart(6, '0')} ${String(e.size).padStart(9)} ${e.name}${extra}`);
  }
}
