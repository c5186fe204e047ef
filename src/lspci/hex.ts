// Fixed-width lower-case hex, the only number style lspci uses for addresses and IDs.

/** `value` as lower-case hex padded with zeros to at least `width` digits. */
export function hex(value: number | bigint, width: number): string {
  return value.toString(16).padStart(width, '0');
}
