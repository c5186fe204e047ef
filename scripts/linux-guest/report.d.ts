// Types of report.js, for the TypeScript that imports it (test/linux/).
export interface GuestPciFunction {
  bdf: string;
  vendor: number;
  device: number;
  classCode: number;
  subsystemVendor: number;
  subsystem: number;
  revision: number;
  irq: number;
  driver: string | undefined;
  resources: { index: number; start: bigint; end: bigint; flags: number }[];
}
export interface ResourceLine { depth: number; start: bigint; end: bigint; name: string }
export interface InterruptLine { irq: number; count: number; chip: string; names: string[] }

export function splitSections(serial: string, begin: string, end: string): Record<string, string[]>;
export function parsePci(lines: string[]): GuestPciFunction[];
export function parseResourceTree(lines: string[]): ResourceLine[];
export function parseInterrupts(lines: string[]): InterruptLine[];
export function parseHwrng(lines: string[]): Uint8Array;
export function parseKeyValues(lines: string[]): Record<string, string>;
