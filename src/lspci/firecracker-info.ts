// The `.info` files recorded from a Firecracker guest (see the reference data README): a
// `key=value` header line summarising sysfs attributes, followed by the sysfs `resource` lines.
import { DumpFormatError } from './errors.js';
import { parseResourceLines, splitLines, type SysfsResources } from './sysfs-resource.js';

/** Identity, interrupt and BAR information of one function from a Firecracker `.info` file. */
export interface FirecrackerInfo extends SysfsResources {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  vendor: number;
  device: number;
  /** 24-bit class code: base class, subclass, programming interface. */
  classCode: number;
  irq: number;
  subsystemVendor: number;
  subsystemDevice: number;
}

const BDF = /^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;
const NUMBER = /^(?:0x[0-9a-fA-F]+|[0-9]+)$/;
const NUMERIC_KEYS = ['vendor', 'device', 'class', 'irq', 'subsystem_vendor', 'subsystem_device'] as const;

/**
 * Parse a Firecracker `.info` file: `bdf=SSSS:BB:DD.F vendor=0x.. device=0x.. class=0x..
 * irq=N subsystem_vendor=0x.. subsystem_device=0x..` on line 1, sysfs resource lines after it.
 *
 * @param source label used in error messages, usually the file name
 * @throws DumpFormatError naming `source` and the line for a missing or malformed field
 */
export function parseFirecrackerInfo(text: string, source: string): FirecrackerInfo {
  const lines = splitLines(text);
  const header = lines[0];
  if (header === undefined || header.trim() === '') throw new DumpFormatError(source, 1, 'missing "bdf=... vendor=..." header line');

  const fields = new Map<string, string>();
  for (const token of header.trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) throw new DumpFormatError(source, 1, `expected key=value, found "${token}"`);
    fields.set(token.slice(0, eq), token.slice(eq + 1));
  }

  const bdfText = fields.get('bdf');
  if (bdfText === undefined) throw new DumpFormatError(source, 1, 'missing bdf= field');
  const bdf = BDF.exec(bdfText);
  if (bdf === null) throw new DumpFormatError(source, 1, `bad bdf "${bdfText}" (expected SSSS:BB:DD.F)`);

  const numbers = {} as Record<(typeof NUMERIC_KEYS)[number], number>;
  for (const key of NUMERIC_KEYS) {
    const value = fields.get(key);
    if (value === undefined) throw new DumpFormatError(source, 1, `missing ${key}= field`);
    if (!NUMBER.test(value)) throw new DumpFormatError(source, 1, `bad number "${value}" for ${key}`);
    numbers[key] = Number(value);
  }
  const dev = parseInt(bdf[3] ?? '', 16);
  if (dev > 0x1f) throw new DumpFormatError(source, 1, `device number ${bdf[3]} out of range (00-1f)`);

  return {
    seg: parseInt(bdf[1] ?? '', 16),
    bus: parseInt(bdf[2] ?? '', 16),
    dev,
    fn: parseInt(bdf[4] ?? '', 10),
    vendor: numbers.vendor,
    device: numbers.device,
    classCode: numbers.class,
    irq: numbers.irq,
    subsystemVendor: numbers.subsystem_vendor,
    subsystemDevice: numbers.subsystem_device,
    ...parseResourceLines(lines.slice(1), source, 2),
  };
}
