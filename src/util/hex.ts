// Hex text helpers shared by templates and topology files.

/** Decodes a string of hex digit pairs (whitespace allowed); returns undefined if malformed. */
export function tryHexToBytes(text: string): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Decodes hex digit pairs; throws on malformed text (for trusted, built-in constants). */
export function hexToBytes(text: string): Uint8Array {
  const bytes = tryHexToBytes(text);
  if (!bytes) throw new Error('malformed built-in hex constant');
  return bytes;
}

/** `0x`-prefixed lower-case hex of a number or bigint. */
export function hex(value: number | bigint, digits = 0): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
