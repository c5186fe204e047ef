// Numbers in topology files: JSON numbers, or "0x..." / decimal strings for values past 2^53.

/** Parses a JSON number or numeric string; returns a reason string when it is not one. */
export function parseNumberOrReason(value: unknown): number | bigint | string {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : `${value} is not an integer below 2^53 (write it as a "0x..." string)`;
  if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value.trim())) {
    const big = BigInt(value.trim());
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  return `${JSON.stringify(value)} is not a number or a "0x..." string`;
}

/**
 * Converts "0x..." strings to numbers (or bigints past 2^53) throughout a descriptor or options
 * object read from JSON, so one file format serves every numeric field.
 */
export function normalizeNumbers(value: unknown): unknown {
  if (typeof value === 'string' && /^0x[0-9a-fA-F]+$/.test(value)) {
    const big = BigInt(value);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (Array.isArray(value)) return value.map(normalizeNumbers);
  // Binary data a caller passes in code (a disk image) is not a JSON object to walk.
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value;
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) return value;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeNumbers(v)]));
  }
  return value;
}
