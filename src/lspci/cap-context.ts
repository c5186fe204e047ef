// What a capability decoder gets to look at, and what it returns.
import type { ConfigReader } from './config-reader.js';

/** Inputs shared by all capability decoders. */
export interface CapContext {
  r: ConfigReader;
  vendor: number;
  device: number;
  /** Header layout (0 normal, 1 PCI bridge, 2 CardBus). */
  headerType: number;
  verbose: 1 | 2;
}

/** A decoded capability: the text after `Capabilities: [off] ` and the detail lines. */
export interface DecodedCap {
  header: string;
  /** Lines shown under the header at `-vv`, without the leading two tabs. */
  details: string[];
}

/** A decoded capability with nothing but its header. */
export function headerOnly(header: string): DecodedCap {
  return { header, details: [] };
}

/** Detail line for a capability whose body lies partly outside the captured bytes. */
export const TRUNCATED = '<truncated: capability runs past the end of the dump>';
