// Pulls structure out of `lspci -vv` text so tests can compare it with ours.

/** One `Capabilities: [...]` entry with its detail lines (leading tabs removed). */
export interface CapLines {
  offset: number;
  header: string;
  details: string[];
}

/** One function's block of verbose lspci-style text. */
export interface FunctionBlock {
  slot: string;
  title: string;
  lines: string[];
  caps: CapLines[];
}

const CAP = /^\tCapabilities: \[([0-9a-f]+)(?: v\d+)?\] (.*)$/;

/** Split `lspci -v`/`-vv` (or describeFunctions) output into per-function blocks. */
export function parseVerbose(text: string): Map<string, FunctionBlock> {
  const blocks = new Map<string, FunctionBlock>();
  for (const chunk of text.split('\n\n')) {
    const lines = chunk.split('\n').filter((l) => l !== '');
    if (lines.length === 0) continue;
    const [title, ...body] = lines;
    const slot = title!.split(' ')[0]!;
    const caps: CapLines[] = [];
    for (const line of body) {
      const m = CAP.exec(line);
      if (m !== null) caps.push({ offset: parseInt(m[1]!, 16), header: m[2]!, details: [] });
      else if (line.startsWith('\t\t') && caps.length > 0) caps.at(-1)!.details.push(line.slice(2));
      else if (line.startsWith('\tCapabilities:')) caps.push({ offset: -1, header: line.slice('\tCapabilities: '.length), details: [] });
    }
    blocks.set(slot, { slot, title: title!, lines: body, caps });
  }
  return blocks;
}

/** The capability's name as lspci's vocabulary has it: the header up to its first colon. */
export function capName(header: string): string {
  return header.split(':')[0]!;
}

/**
 * Whether our capability header says what lspci's does. lspci 3.9 has no name for the virtio
 * PCI-config-access, shared-memory and vendor structures and prints `<unknown>`; we name them.
 */
export function sameCapHeader(ours: string, lspci: string): boolean {
  if (ours === lspci) return true;
  return lspci === 'Vendor Specific Information: VirtIO: <unknown>' && /^Vendor Specific Information: VirtIO: \w+$/.test(ours);
}
