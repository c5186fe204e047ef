// `Capabilities:` lines of both capability lists.
import type { CapContext } from './cap-context.js';
import { CapId, decodeCapability } from './capabilities.js';
import { type CapWalk, walkCapabilities, walkExtendedCapabilities } from './capability-walk.js';
import { decodeExtendedCapability } from './ext-capabilities.js';
import { hex } from './hex.js';

const EXTENDED_SPACE = 4096;
/** PCI-X 2.0 status bits (266/533 MHz capable) that imply an extended config space. */
const PCIX_266_533 = 0xc0000000;

/**
 * Only PCI Express and PCI-X 2.0 functions have an extended config space; for anything else
 * the bytes at 0x100 are not a capability list (a conventional device may alias its 256-byte
 * space there), so the list is not walked.
 */
function hasExtendedSpace(ctx: CapContext, walk: CapWalk): boolean {
  if (ctx.r.length < EXTENDED_SPACE) return false;
  return walk.caps.some(
    (c) => c.id === CapId.express || (c.id === CapId.pciX && (ctx.r.u32(c.offset + 4) & PCIX_266_533) !== 0),
  );
}

/**
 * Lines for the standard capability list and, for PCIe functions with a 4096-byte dump, the
 * extended list. Lines are relative to the function body: details carry one leading tab.
 */
export function describeCapabilities(ctx: CapContext): string[] {
  const lines: string[] = [];
  const std = walkCapabilities(ctx.r, ctx.headerType);
  for (const cap of std.caps) {
    const decoded = decodeCapability(ctx, cap.offset, cap.id);
    lines.push(`Capabilities: [${hex(cap.offset, 2)}] ${decoded.header}`);
    if (ctx.verbose >= 2) lines.push(...decoded.details.map((d) => `\t${d}`));
  }
  if (std.problem !== undefined) lines.push(`Capabilities: [${hex(std.problem.offset, 2)}] ${std.problem.text}`);

  if (!hasExtendedSpace(ctx, std)) return lines;
  const ext = walkExtendedCapabilities(ctx.r);
  for (const cap of ext.caps) {
    const decoded = decodeExtendedCapability(ctx, cap.offset, cap.id);
    const version = ctx.verbose >= 2 ? ` v${cap.version ?? 0}` : '';
    lines.push(`Capabilities: [${hex(cap.offset, 3)}${version}] ${decoded.header}`);
    if (ctx.verbose >= 2) lines.push(...decoded.details.map((d) => `\t${d}`));
  }
  const problem = ext.problem;
  if (problem !== undefined) {
    const version = ctx.verbose >= 2 && problem.version !== undefined ? ` v${problem.version}` : '';
    lines.push(`Capabilities: [${hex(problem.offset, 3)}${version}] ${problem.text}`);
  }
  return lines;
}
