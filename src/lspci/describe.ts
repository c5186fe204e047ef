// Human-readable decoding of config spaces in the style of `lspci -v` / `lspci -vv`.
import { functionKey, needsDomain, slotName, sortFunctions } from './bdf.js';
import { ConfigReader } from './config-reader.js';
import { describeCardBus, describeBridgeControl, describeBridgeWindows, describeSecondaryStatus } from './describe-bridge.js';
import { type SizeByIndex, describeRegions, describeRom } from './describe-bars.js';
import { describeCapabilities } from './describe-capabilities.js';
import {
  describeControl,
  describeFlagsLine,
  describeHeaderWarning,
  describeInterrupt,
  describeLatency,
  describeStatus,
  describeSubsystem,
  describeTitle,
} from './describe-header.js';
import { HeaderType, Reg, headerType } from './registers.js';
import type { BarSize, FunctionDump } from './types.js';

/** Options of {@link describeFunctions}. */
export interface DescribeOptions {
  /** 1 for an `lspci -v`-like summary, 2 for `lspci -vv`-like detail. */
  verbose: 1 | 2;
  /** BAR/ROM sizes per function, keyed `SSSS:BB:DD.F`; config bytes alone cannot tell them. */
  barSizes?: Map<string, BarSize[]>;
}

function sizesFor(fn: FunctionDump, barSizes: Map<string, BarSize[]> | undefined): SizeByIndex {
  return new Map((barSizes?.get(functionKey(fn)) ?? []).map((b) => [b.index, b.size]));
}

/** Body lines (without the leading tab) of one function. */
function describeBody(fn: FunctionDump, options: DescribeOptions): string[] {
  const r = new ConfigReader(fn.config);
  const type = headerType(fn.config);
  const vv = options.verbose >= 2;
  const sizes = sizesFor(fn, options.barSizes);
  const lines: string[] = [];
  const push = (line: string | undefined): void => {
    if (line !== undefined) lines.push(line);
  };

  push(describeHeaderWarning(r, type));
  // Nothing past the common header can be interpreted in an unknown layout.
  if (type > HeaderType.cardbus) return lines;
  push(describeSubsystem(r, type));
  if (vv) {
    push(describeControl(r));
    push(describeStatus(r));
    push(describeLatency(r, type));
    push(describeInterrupt(r));
  } else {
    push(describeFlagsLine(r));
  }

  if (type === HeaderType.normal) {
    lines.push(...describeRegions(r, type, sizes));
    push(describeRom(r, type, sizes));
  } else if (type === HeaderType.bridge) {
    lines.push(...describeRegions(r, type, sizes));
    lines.push(...describeBridgeWindows(r));
    if (vv) push(describeSecondaryStatus(r));
    push(describeRom(r, type, sizes));
    if (vv) lines.push(...describeBridgeControl(r));
  } else {
    lines.push(...describeRegions(r, type, sizes));
    lines.push(...describeCardBus(r, options.verbose));
  }

  const ctx = { r, vendor: r.u16(Reg.vendorId), device: r.u16(Reg.deviceId), headerType: type, verbose: options.verbose };
  lines.push(...describeCapabilities(ctx));
  return lines;
}

/**
 * Describe functions the way `lspci -v` (verbose 1) or `lspci -vv` (verbose 2) does, using
 * lspci's vocabulary but our own layout: a `-nn`-style title without vendor names, subsystem,
 * command/status flags, latency and interrupt, `Region N:` lines with sizes when `barSizes`
 * has them, expansion ROM, bridge bus numbers and windows, and both capability lists (walked
 * defensively: loops, pointers into the header or past the dump are reported, not followed).
 * Unlike lspci 3.9 reading a dump, the upper half of a 64-bit BAR is never shown as a region.
 */
export function describeFunctions(fns: FunctionDump[], options: DescribeOptions): string {
  const withDomain = needsDomain(fns);
  let out = '';
  for (const fn of sortFunctions(fns)) {
    out += `${slotName(fn, withDomain)} ${describeTitle(new ConfigReader(fn.config))}\n`;
    for (const line of describeBody(fn, options)) out += `\t${line}\n`;
    out += '\n';
  }
  return out;
}
