// Which format a trace is in, from its first bytes (4 KiB is plenty).
import { BINARY_MAGIC, BinaryTraceReader } from './binary.js';
import { KvmTraceReader } from './kvm.js';
import { QtestReader } from './qtest.js';
import type { ReaderOptions, TraceReader } from './reader.js';
import { TEXT_HEADER, TextTraceReader } from './text.js';

/**
 * A trace format `detectFormat` recognizes: vpci binary or text, a QEMU qtest log or script, or
 * Linux KVM trace events.
 */
export type TraceFormat = 'vpci-binary' | 'vpci-text' | 'qtest-log' | 'qtest' | 'kvm';

const QTEST_COMMANDS = /^(out[bwl]|in[bwl]|read[bwlq]?|write[bwlq]?|memset|b64read|b64write|clock_step|clock_set|irq_intercept_in|irq_intercept_out|set_irq_in|endianness)(\s|$)/;
const TEXT_RECORD = /^(R|W)\s+(mmio|io)\s|^(MW|MR|CLOCK|IRQ|META)\s/;

/** The format of a trace from its first bytes, or undefined when none fits. */
export function detectFormat(firstBytes: Uint8Array | string): TraceFormat | undefined {
  if (typeof firstBytes !== 'string') {
    const n = Math.min(firstBytes.length, BINARY_MAGIC.length);
    if (n > 0 && BINARY_MAGIC.slice(0, n).every((b, i) => firstBytes[i] === b)) return 'vpci-binary';
    if (firstBytes.subarray(0, 4096).includes(0)) return undefined;
  }
  const text = typeof firstBytes === 'string' ? firstBytes.slice(0, 4096)
    : new TextDecoder('utf-8').decode(firstBytes.subarray(0, 4096));
  const lines = text.split('\n');
  if (typeof firstBytes !== 'string' || text.length === 4096) lines.pop(); // may be cut short
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith(TEXT_HEADER)) return 'vpci-text';
    if (/^\[[RSI] \+?[0-9.]+\]/.test(line)) return 'qtest-log';
    if (/(?:^|\s)(?:kvm:)?kvm_(mmio|pio):\s/.test(line)) return 'kvm';
    if (line.startsWith('#')) {
      if (/^# tracer:/.test(line)) return 'kvm';
      continue;
    }
    if (TEXT_RECORD.test(line)) return 'vpci-text';
    if (QTEST_COMMANDS.test(line)) return 'qtest';
    // ftrace/perf lines of other events before the first kvm_mmio/kvm_pio: keep looking.
    if (/\[[0-9]+\].*\s[0-9]+\.[0-9]+:\s/.test(line)) continue;
    return undefined;
  }
  return undefined;
}

/** A streaming reader for a format. */
export function createReader(format: TraceFormat, options: ReaderOptions = {}): TraceReader {
  switch (format) {
    case 'vpci-binary':
      return new BinaryTraceReader(options);
    case 'vpci-text':
      return new TextTraceReader(options);
    case 'qtest':
    case 'qtest-log':
      return new QtestReader(options);
    case 'kvm':
      return new KvmTraceReader(options);
  }
}
