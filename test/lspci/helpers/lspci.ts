// Runs the real lspci (pciutils) on dump text. The tests compare our output with it, so a
// missing lspci must fail the tests loudly rather than skip them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL_HINT = 'lspci (pciutils) is required by these tests; run `node scripts/ensure-test-tools.js` to install it';
/** lspci cannot reach kmod in a dump-only run; that warning is expected and harmless. */
const HARMLESS_STDERR = /^lspci: Unable to load libkmod resources: error -?\d+$/;
/** Where distributions put the PCI ID database lspci reads. */
const PCI_IDS_CANDIDATES = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids', '/usr/share/pci.ids', '/usr/local/share/pci.ids'];

let scratch: string | undefined;
let counter = 0;

function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'vpci-lspci-'));
  return scratch;
}

/** Remove the temp files written by this helper (call from afterAll). */
export function cleanupLspciScratch(): void {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** Write `text` to a fresh temp file and return its path. */
export function writeTemp(text: string, name = 'dump.txt'): string {
  const file = join(scratchDir(), `${counter++}-${name}`);
  writeFileSync(file, text);
  return file;
}

/** Run lspci with `args`; throws (failing the test) if lspci is missing or complains. */
export function lspci(args: string[]): string {
  // Names only from the ID file given (or the system pci.ids), never from udev's hwdb: a machine
  // with udev installed (Chromium pulls it in) would otherwise name vendors a classes-only file lacks.
  const res = spawnSync('lspci', ['-O', 'hwdb.disable=1', ...args], { encoding: 'utf8' });
  if (res.error !== undefined) {
    const code = (res.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? INSTALL_HINT : `cannot run lspci: ${res.error.message}`);
  }
  const unexpected = res.stderr.split('\n').filter((l) => l !== '' && !HARMLESS_STDERR.test(l));
  if (res.status !== 0 || unexpected.length > 0) {
    throw new Error(`lspci ${args.join(' ')} failed (status ${res.status}): ${unexpected.join(' | ')}`);
  }
  return res.stdout;
}

/** `lspci -F <file with text> ...args`. */
export function lspciOnDump(text: string, args: string[]): string {
  return lspci(['-F', writeTemp(text), ...args]);
}

/**
 * A pci.ids holding only the class section of the system database: lspci then knows class
 * names but no vendors, which is exactly what our titles print.
 */
export function classesOnlyIds(): string {
  const source = PCI_IDS_CANDIDATES.find((p) => existsSync(p));
  if (source === undefined) throw new Error(`no pci.ids found in ${PCI_IDS_CANDIDATES.join(', ')}; ${INSTALL_HINT}`);
  const text = readFileSync(source, 'utf8');
  const start = text.search(/^C [0-9a-f]{2} /m);
  if (start < 0) throw new Error(`${source} has no class section`);
  return writeTemp(text.slice(start), 'classes.ids');
}

/** The pci.ids class section as [class code, name] pairs (subclasses as 0xCCSS). */
export function pciIdsClasses(): Array<[number, string]> {
  const file = classesOnlyIds();
  const out: Array<[number, string]> = [];
  let base = -1;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const c = /^C ([0-9a-f]{2})\s+(.*)$/.exec(line);
    if (c !== null) {
      base = parseInt(c[1]!, 16);
      continue;
    }
    const s = /^\t([0-9a-f]{2})\s+(.*)$/.exec(line);
    if (s !== null && base >= 0) out.push([(base << 8) | parseInt(s[1]!, 16), s[2]!]);
  }
  return out;
}
