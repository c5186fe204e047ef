// Streaming line splitting for the line formats: chunks of text or UTF-8 bytes in, whole lines
// (numbered from 1) out. A line may be split across any number of chunks, a UTF-8 character
// across two byte chunks; "\r\n" and "\n" both end a line.

/** The longest line accepted (a qtest `write` of a large buffer is one long line). */
export const MAX_LINE_CHARS = 1 << 26;

export class LineSplitter {
  private decoder = new TextDecoder('utf-8');
  private pending = '';
  private nextLine = 1;

  /** Feeds a chunk; calls `onLine` for every line it completes. */
  push(chunk: string | Uint8Array, onLine: (text: string, line: number) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let buf = this.pending + text;
    let start = 0;
    for (let nl = buf.indexOf('\n', start); nl !== -1; nl = buf.indexOf('\n', start)) {
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(buf.slice(start, end), this.nextLine++);
      start = nl + 1;
    }
    buf = buf.slice(start);
    if (buf.length > MAX_LINE_CHARS) throw new RangeError(`line ${this.nextLine} is longer than ${MAX_LINE_CHARS} characters`);
    this.pending = buf;
  }

  /** Ends the input: the last line, when it has no newline. */
  end(onLine: (text: string, line: number) => void): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest.length > 0) {
      const text = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
      onLine(text, this.nextLine++);
    }
  }

  /** The number the next line will get. */
  get line(): number {
    return this.nextLine;
  }
}

/**
 * An unsigned integer in C `strtoull(s, 0)` style, as qtest parses its arguments: 0x... hex,
 * 0... octal, otherwise decimal. Undefined when `s` is not one.
 */
export function parseUint(s: string): bigint | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt(s);
  if (/^0[0-7]+$/.test(s)) return BigInt(`0o${s.slice(1)}`);
  if (/^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

/** Hex digits (optionally with 0x) to bytes, or undefined. */
export function hexToBytes(s: string): Uint8Array | undefined {
  const h = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (with or without padding) to bytes, or undefined. */
export function base64ToBytes(s: string): Uint8Array | undefined {
  const t = s.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(t) || t.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((t.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of t) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
