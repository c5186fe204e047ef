// Parses what the guest's /init prints between its begin and end markers (scripts/linux-guest/
// setup.js writes that /init): "--- name ---" sections, each turned into the values the
// real-guest test and `npm run demo:linux` compare with vpci's own view.

/** The text between the markers, split into sections by "--- name ---" lines (kernel log lines dropped). */
export function splitSections(serial, begin, end) {
  const from = serial.indexOf(begin);
  const to = serial.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`the guest's report is incomplete (markers "${begin}" / "${end}" not both found)`);
  const sections = {};
  let current;
  for (const raw of serial.slice(from + begin.length, to).split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '');
    const head = /^--- (.+) ---$/.exec(line);
    if (head) {
      current = head[1];
      sections[current] = [];
    } else if (current !== undefined && !/^\[\s*\d+\.\d+\] /.test(line)) {
      sections[current].push(line);
    }
  }
  return sections;
}

/** "--- pci ---": one entry per function Linux found, with its resources. */
export function parsePci(lines) {
  const out = [];
  for (const line of lines) {
    const f = /^(\S+) vendor=0x(\w+) device=0x(\w+) class=0x(\w+) subsys=0x(\w+):0x(\w+) rev=0x(\w+) irq=(\d+) driver=(\S+)/.exec(line);
    if (f) {
      out.push({
        bdf: f[1], vendor: parseInt(f[2], 16), device: parseInt(f[3], 16), classCode: parseInt(f[4], 16),
        subsystemVendor: parseInt(f[5], 16), subsystem: parseInt(f[6], 16), revision: parseInt(f[7], 16),
        irq: Number(f[8]), driver: f[9] === '-' ? undefined : f[9], resources: [],
      });
      continue;
    }
    const r = /^\s+resource(\d+) 0x(\w+) 0x(\w+) 0x(\w+)/.exec(line);
    if (r && out.length) out[out.length - 1].resources.push({ index: Number(r[1]), start: BigInt(`0x${r[2]}`), end: BigInt(`0x${r[3]}`), flags: parseInt(r[4], 16) });
  }
  return out;
}

/** /proc/iomem or /proc/ioports: { start, end, name, depth } per line. */
export function parseResourceTree(lines) {
  const out = [];
  for (const line of lines) {
    const m = /^(\s*)([0-9a-f]+)-([0-9a-f]+) : (.+)$/.exec(line);
    if (m) out.push({ depth: m[1].length / 2, start: BigInt(`0x${m[2]}`), end: BigInt(`0x${m[3]}`), name: m[4] });
  }
  return out;
}

/** /proc/interrupts: { irq, count, chip, names } for numbered lines. */
export function parseInterrupts(lines) {
  const out = [];
  for (const line of lines) {
    const m = /^\s*(\d+):\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m) out.push({ irq: Number(m[1]), count: Number(m[2]), chip: m[3], names: m[4].split(',').map((s) => s.trim()) });
  }
  return out;
}

/** "--- hwrng ---": the bytes the guest read from /dev/hwrng. */
export function parseHwrng(lines) {
  const bytes = [];
  for (const line of lines) {
    if (/^\s+[0-9a-f]{2}( [0-9a-f]{2})*\s*$/.test(line)) for (const h of line.trim().split(/\s+/)) bytes.push(parseInt(h, 16));
  }
  return Uint8Array.from(bytes);
}

/** "--- name ---" sections made of "key: value" lines. */
export function parseKeyValues(lines) {
  const out = {};
  for (const line of lines) {
    const m = /^([\w.]+): (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
