#!/usr/bin/env node
// Fetches and builds a stock Linux guest for the v86-based real-guest test (see docs/linux-guest.md):
//   - SeaBIOS bios.bin (Debian `seabios`, 128 KiB image),
//   - a Debian i386 kernel (`linux-image-<abi>-686-unsigned`, the one `linux-image-686` points at),
//   - an initramfs (newc cpio, gzip'd) made of busybox-static:i386, the kernel's own virtio modules
//     and an /init that reports over the serial console and powers off.
// Everything goes into a cache directory (default node_modules/.cache/vpci-linux-guest/, override
// with VPCI_GUEST_CACHE); nothing binary is committed. Idempotent: packages already downloaded and
// extracted are reused; apt-get update runs only when apt has no candidate for what we need.
//
// Environment: VPCI_GUEST_CACHE (cache dir), VPCI_GUEST_KERNEL (kernel package name, e.g.
// linux-image-6.1.0-50-686-unsigned), VPCI_GUEST_FORCE=1 (re-download and re-extract).
// Needs Debian/apt; root only for `dpkg --add-architecture i386` and `apt-get update`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, lstatSync,
} from 'node:fs';
import { dirname, join, relative, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeNewc, readNewc } from './cpio.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cacheDir = resolve(process.env.VPCI_GUEST_CACHE || join(repoRoot, 'node_modules/.cache/vpci-linux-guest'));
const force = process.env.VPCI_GUEST_FORCE === '1';
const debDir = join(cacheDir, 'debs');
const extractRoot = join(cacheDir, 'extract');
const t0 = Date.now();
const timings = {};
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };

// Modules wanted from the kernel (by module name); their modules.dep closure is added.
const WANTED_MODULES = ['virtio', 'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_rng', 'virtio_blk'];
// Known write the guest does on /dev/vda: 512 bytes at byte offset 8192 (sector 16).
const BLK_WRITE_OFFSET = 8192;
const BLK_WRITE_UNIT = 'vpci-guest-blk!\n'; // 16 bytes, repeated 32 times
const BLK_WRITE_PATTERN = BLK_WRITE_UNIT.repeat(512 / BLK_WRITE_UNIT.length);
const BLK_HASH_BYTES = 4096; // the guest hashes the first 4 KiB of /dev/vda (before its write)
const HWRNG_BYTES = 64;

class SetupError extends Error {}
const fail = (msg) => { throw new SetupError(msg); };
const log = (msg) => console.log(`linux-guest: ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: opts.binary ? 'buffer' : 'utf8', env, maxBuffer: 1 << 28, ...opts });
  if (r.error) {
    if (r.error.code === 'ENOENT') fail(`'${cmd}' is not installed (needed for: ${cmd} ${args.join(' ')})`);
    fail(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  return r;
}
function runOk(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    const err = (opts.binary ? r.stderr?.toString() : r.stderr) || '';
    fail(`'${cmd} ${args.join(' ')}' exited ${r.status}${err ? `:\n${err.trim()}` : ''}`);
  }
  return r.stdout;
}
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const timed = (name, fn) => { const s = Date.now(); const r = fn(); timings[name] = Date.now() - s; return r; };

function requireRoot(what) {
  if (!isRoot()) fail(`${what} needs root; run this script as root (or run '${what}' yourself first)`);
}

/** Candidate version of PKG (may carry :arch) per `apt-cache policy`, or null. */
const candidates = new Map(); // apt-cache is slow (~0.5 s a call): memoised, cleared by apt-get update
function candidate(pkg) {
  if (!candidates.has(pkg)) {
    const out = run('apt-cache', ['policy', pkg]).stdout || '';
    const m = out.match(/^\s*Candidate:\s*(\S+)/m);
    candidates.set(pkg, m && m[1] !== '(none)' ? m[1] : null);
  }
  return candidates.get(pkg);
}

function ensureApt() {
  for (const tool of ['apt-get', 'apt-cache', 'dpkg', 'dpkg-deb']) {
    if (!has(tool)) fail(`'${tool}' not found: this script needs a Debian-based system with apt (Debian 12 "bookworm" tested)`);
  }
  const foreign = runOk('dpkg', ['--print-foreign-architectures']).split(/\s+/).filter(Boolean);
  const native = runOk('dpkg', ['--print-architecture']).trim();
  if (native !== 'i386' && !foreign.includes('i386')) {
    requireRoot('dpkg --add-architecture i386');
    log('adding the i386 architecture (dpkg --add-architecture i386)');
    runOk('dpkg', ['--add-architecture', 'i386']);
  }
  const ready = () => candidate('busybox-static:i386') && candidate('linux-image-686:i386') && candidate('seabios');
  if (!ready()) {
    requireRoot('apt-get update');
    log('apt has no candidate for busybox-static:i386 / linux-image-686:i386 / seabios: running apt-get update');
    const r = run('apt-get', ['update', '-qq']);
    candidates.clear();
    if (r.status !== 0) {
      // A partial failure (e.g. one mirror index mid-sync) is tolerable if what we need is now there.
      console.warn(`linux-guest: warning: apt-get update exited ${r.status}:\n${(r.stderr || '').trim()}`);
    }
    if (!ready()) {
      fail('after apt-get update apt still has no candidate for ' +
        ['busybox-static:i386', 'linux-image-686:i386', 'seabios'].filter((p) => !candidate(p)).join(', '));
    }
  }
}

/** The newest linux-image-<abi>-686-unsigned: the one the linux-image-686 metapackage depends on. */
function pickKernelPackage() {
  if (process.env.VPCI_GUEST_KERNEL) return process.env.VPCI_GUEST_KERNEL.replace(/:i386$/, '');
  const deps = runOk('apt-cache', ['depends', 'linux-image-686:i386']);
  const m = deps.match(/Depends:\s*(linux-image-(\d[\w.+-]*)-686)(?::i386)?\s*$/m);
  let pkg = m ? `${m[1]}-unsigned` : null;
  if (!pkg || !candidate(`${pkg}:i386`)) {
    // Fallback: highest ABI among linux-image-*-686-unsigned.
    const names = runOk('apt-cache', ['search', '--names-only', '^linux-image-[0-9].*-686-unsigned$'])
      .split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
    // linux-image-6.1.0-50-686-unsigned -> [6, 1, 0, 50]
    const abi = (n) => n.slice('linux-image-'.length).split(/[.-]/).slice(0, 4).map(Number);
    const cmp = (a, b) => { const x = abi(a), y = abi(b); for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; };
    pkg = names.filter((n) => candidate(`${n}:i386`)).sort(cmp).at(-1) ?? null;
  }
  if (!pkg) fail("no linux-image-*-686-unsigned package found in apt's lists");
  return pkg;
}

/** deb fields for each cached .deb: [{ file, Package, Version, Architecture }] */
function cachedDebs() {
  if (!existsSync(debDir)) return [];
  return readdirSync(debDir).filter((f) => f.endsWith('.deb')).map((f) => {
    const file = join(debDir, f);
    const r = run('dpkg-deb', ['-f', file, 'Package', 'Version', 'Architecture']);
    if (r.status !== 0) return null; // partial/corrupt download: ignored, re-fetched
    const fields = r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
    return { file, ...Object.fromEntries(fields) };
  }).filter(Boolean);
}

/** Downloads PKG (name[:arch]) at its candidate version into debDir unless already cached. */
function download(spec) {
  const [name, arch] = spec.split(':');
  const version = candidate(spec);
  if (!version) fail(`apt has no candidate for ${spec}`);
  const hit = cachedDebs().find((d) => d.Package === name && d.Version === version && (!arch || d.Architecture === arch || d.Architecture === 'all'));
  if (hit && !force) { log(`cached ${basename(hit.file)}`); return hit; }
  mkdirSync(debDir, { recursive: true });
  log(`apt-get download ${spec}=${version}`);
  // apt-get download writes into the current directory; as root it warns that it cannot drop to
  // the _apt user for a directory that user cannot write: harmless.
  const r = run('apt-get', ['download', '-qq', `${spec}=${version}`], { cwd: debDir });
  if (r.status !== 0) fail(`apt-get download ${spec}=${version} failed (exit ${r.status}):\n${(r.stderr || '').trim()}`);
  const got = cachedDebs().find((d) => d.Package === name && d.Version === version);
  if (!got) fail(`apt-get download ${spec} reported success but no matching .deb is in ${debDir}`);
  return got;
}

function extract(deb) {
  const dir = join(extractRoot, `${deb.Package}_${deb.Version.replace(/:/g, '%3a')}_${deb.Architecture}`);
  const marker = join(dir, '.vpci-extracted');
  if (existsSync(marker) && !force) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  runOk('dpkg-deb', ['-x', deb.file, dir]);
  writeFileSync(marker, `${deb.file}\n`);
  return dir;
}

function findFile(dir, pred) {
  const out = [];
  const walk = (d) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p); else if (pred(p, ent)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Reads a module file, decompressing .ko.xz / .ko.zst / .ko.gz (busybox insmod wants plain ELF). */
function readModule(path) {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? ['xz', '-dc'] : path.endsWith('.zst') ? ['zstd', '-dcq'] : path.endsWith('.gz') ? ['gzip', '-dc'] : null;
  if (!tool) fail(`unknown module compression: ${path}`);
  if (!has(tool[0])) fail(`${basename(path)} is compressed and '${tool[0]}' is not installed (Debian: apt-get install ${tool[0] === 'xz' ? 'xz-utils' : tool[0]})`);
  return runOk(tool[0], [...tool.slice(1), path], { binary: true });
}

const modName = (p) => basename(p).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');

/** `depends=` of a module (from its .modinfo strings): module names. */
function modinfoDepends(data) {
  const key = Buffer.from('\0depends=');
  const i = data.indexOf(key);
  if (i < 0) return [];
  const end = data.indexOf(0, i + key.length);
  return data.toString('utf8', i + key.length, end).split(',').filter(Boolean).map((n) => n.replace(/-/g, '_'));
}

/**
 * Resolves WANTED_MODULES to a load order (dependencies first); returns { order: [{ name, rel }],
 * builtin, missing }. Uses modules.dep when present; a .deb ships none (depmod makes it at install
 * time), so otherwise each module's own .modinfo `depends=` is read.
 */
function resolveModules(modDir) {
  const deps = new Map(); // rel path -> [rel deps]
  const byName = new Map();
  let depsOf = (rel) => deps.get(rel) ?? [];
  const depPath = join(modDir, 'modules.dep');
  if (existsSync(depPath)) {
    for (const line of readFileSync(depPath, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const rel = line.slice(0, i);
      deps.set(rel, line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
      byName.set(modName(rel), rel);
    }
  } else {
    for (const p of findFile(join(modDir, 'kernel'), (f) => /\.ko(\.(xz|zst|gz))?$/.test(f))) byName.set(modName(p), relative(modDir, p));
    depsOf = (rel) => { // read on demand: only the modules visited are opened
      if (!deps.has(rel)) {
        deps.set(rel, modinfoDepends(readModule(join(modDir, rel))).map((n) => byName.get(n) ?? fail(`${rel} depends on ${n}, which is not in the package`)));
      }
      return deps.get(rel);
    };
  }
  const builtinPath = join(modDir, 'modules.builtin');
  const builtin = new Set(existsSync(builtinPath) ? readFileSync(builtinPath, 'utf8').split('\n').filter(Boolean).map(modName) : []);
  const order = [];
  const seen = new Set();
  const visit = (rel, chain) => {
    if (seen.has(rel)) return;
    if (chain.includes(rel)) fail(`module dependency cycle: ${[...chain, rel].join(' -> ')}`);
    for (const d of depsOf(rel)) visit(d, [...chain, rel]);
    seen.add(rel);
    order.push({ name: modName(rel), rel });
  };
  const builtinHit = [];
  const missing = [];
  for (const name of WANTED_MODULES) {
    const rel = byName.get(name);
    if (rel) visit(rel, []);
    else if (builtin.has(name)) builtinHit.push(name);
    else missing.push(name);
  }
  // virtio_pci_legacy_dev exists only on kernels >= 5.16-ish; the rest are essential.
  const essential = missing.filter((m) => m !== 'virtio_pci_legacy_dev' && m !== 'virtio_pci_modern_dev');
  if (essential.length) fail(`kernel modules not found (neither modules.dep nor modules.builtin): ${essential.join(', ')}`);
  return { order, builtin: builtinHit, missing };
}

function initScript(kernelRelease, modules) {
  const insmods = modules.map((m) => `load ${m.name} /lib/modules/${m.name}.ko`).join('\n');
  return `#!/bin/busybox sh
# vpci real-guest /init (generated by scripts/linux-guest/setup.js; kernel ${kernelRelease}).
# Reports the PCI view of the guest over the serial console between the begin/end markers, then
# powers off. Expected kernel command line: console=ttyS0 (rdinit=/init is the default for an initramfs).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc   # before --install: it resolves /proc/self/exe
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/ttyS0 ] || mknod /dev/ttyS0 c 4 64
exec </dev/null >/dev/ttyS0 2>&1

section() { echo "--- $1 ---"; }
load() {
  if insmod "$2" 2>/tmp/insmod.err; then echo "insmod $1: ok"
  else echo "insmod $1: FAILED ($(cat /tmp/insmod.err))"; fi
}

echo "=== vpci-guest begin ==="
section uname; uname -a
section cmdline; cat /proc/cmdline
section modules
${insmods}
mdev -s 2>/dev/null
sleep 1
section lsmod; cat /proc/modules
section pci
for d in /sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] || continue
  drv=-; [ -L "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
  echo "$(basename "$d") vendor=$(cat "$d/vendor") device=$(cat "$d/device") class=$(cat "$d/class") subsys=$(cat "$d/subsystem_vendor"):$(cat "$d/subsystem_device") rev=$(cat "$d/revision" 2>/dev/null) irq=$(cat "$d/irq") driver=$drv"
  n=0
  while read -r start end flags; do
    [ "$start" = 0x0000000000000000 ] || echo "  resource$n $start $end $flags"
    n=$((n + 1))
  done < "$d/resource"
done
section virtio
for v in /sys/bus/virtio/devices/*; do
  [ -e "$v/device" ] || continue
  drv=-; [ -L "$v/driver" ] && drv=$(basename "$(readlink "$v/driver")")
  echo "$(basename "$v") device=$(cat "$v/device") vendor=$(cat "$v/vendor") features=$(cat "$v/features") status=$(cat "$v/status" 2>/dev/null) driver=$drv"
done
section iomem; cat /proc/iomem
section ioports; cat /proc/ioports
section interrupts; cat /proc/interrupts
section hwrng
echo "available: $(cat /sys/class/misc/hw_random/rng_available 2>/dev/null)"
echo "current: $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
if [ -c /dev/hwrng ]; then
  timeout 10 dd if=/dev/hwrng bs=${HWRNG_BYTES} count=1 2>/dev/null > /tmp/rng
  echo "bytes: $(wc -c < /tmp/rng)"
  od -An -tx1 -v /tmp/rng
else
  echo "no /dev/hwrng"
fi
section vda
if [ -b /dev/vda ]; then
  echo "size: $(blockdev --getsize64 /dev/vda)"
  echo "sectors: $(cat /sys/block/vda/size)"
  dd if=/dev/vda bs=${BLK_HASH_BYTES} count=1 2>/dev/null > /tmp/head
  echo "head${BLK_HASH_BYTES}.md5: $(md5sum < /tmp/head | cut -d' ' -f1)"
  echo "head${BLK_HASH_BYTES}.sha1: $(sha1sum < /tmp/head | cut -d' ' -f1)"
  i=0; : > /tmp/pattern
  while [ $i -lt ${512 / BLK_WRITE_UNIT.length} ]; do printf '${BLK_WRITE_UNIT.replace('\n', '\\n')}' >> /tmp/pattern; i=$((i + 1)); done
  if dd if=/tmp/pattern of=/dev/vda bs=512 seek=${BLK_WRITE_OFFSET / 512} count=1 conv=notrunc,fsync 2>/tmp/dd.err; then
    sync
    echo "write: ok offset=${BLK_WRITE_OFFSET} bytes=512 md5=$(md5sum < /tmp/pattern | cut -d' ' -f1)"
  else
    echo "write: FAILED ($(cat /tmp/dd.err))"
  fi
  echo 3 > /proc/sys/vm/drop_caches
  echo "readback.md5: $(dd if=/dev/vda bs=512 skip=${BLK_WRITE_OFFSET / 512} count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
else
  echo "no /dev/vda"
fi
section dmesg
dmesg | grep -iE 'virtio|pci|rng|vda' | tail -n 80
echo "=== vpci-guest end ==="
sync
poweroff -f
echo o > /proc/sysrq-trigger
while :; do sleep 3600; done
`;
}

function buildInitramfs(busyboxDir, modDir, modules, kernelRelease) {
  const bbPath = join(busyboxDir, 'bin/busybox');
  if (!existsSync(bbPath)) fail(`busybox-static has no bin/busybox at ${bbPath}`);
  const busybox = readFileSync(bbPath);
  // A static i386 ELF: EI_CLASS 1 (32-bit), e_machine 3 (EM_386).
  if (busybox.readUInt32BE(0) !== 0x7f454c46 || busybox[4] !== 1 || busybox.readUInt16LE(18) !== 3) fail(`${bbPath} is not an i386 ELF`);
  const entries = [
    { name: 'bin', type: 'dir' }, { name: 'sbin', type: 'dir' }, { name: 'usr', type: 'dir' },
    { name: 'usr/bin', type: 'dir' }, { name: 'usr/sbin', type: 'dir' }, { name: 'dev', type: 'dir' },
    { name: 'dev/console', type: 'char', major: 5, minor: 1, mode: 0o600 },
    { name: 'dev/ttyS0', type: 'char', major: 4, minor: 64, mode: 0o660 },
    { name: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
    { name: 'proc', type: 'dir' }, { name: 'sys', type: 'dir' }, { name: 'tmp', type: 'dir', mode: 0o1777 },
    { name: 'lib', type: 'dir' }, { name: 'lib/modules', type: 'dir' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', target: 'busybox' },
  ];
  const modInfo = [];
  for (const m of modules) {
    const data = readModule(join(modDir, m.rel));
    if (data.readUInt32BE(0) !== 0x7f454c46) fail(`${m.rel} did not decompress to an ELF object`);
    entries.push({ name: `lib/modules/${m.name}.ko`, data, mode: 0o644 });
    modInfo.push({ name: m.name, source: m.rel, size: data.length, sha256: sha256(data) });
  }
  const init = initScript(kernelRelease, modules);
  entries.push({ name: 'init', data: init, mode: 0o755 });
  const cpio = writeNewc(entries);
  const gz = gzipSync(cpio, { level: 9 });
  // Self-check: the archive reads back with the same names.
  const back = readNewc(gz).map((e) => e.name);
  if (back.join('\n') !== entries.map((e) => e.name).join('\n')) fail('initramfs read-back mismatch');
  return { gz, cpioSize: cpio.length, modInfo, entries: back, init };
}

function main() {
  log(`cache: ${cacheDir}`);
  mkdirSync(cacheDir, { recursive: true });
  timed('apt', ensureApt);
  const kernelPkg = timed('pickKernel', pickKernelPackage);
  log(`kernel package: ${kernelPkg}`);
  const debs = timed('download', () => ({
    seabios: download('seabios'),
    kernel: download(`${kernelPkg}:i386`),
    busybox: download('busybox-static:i386'),
  }));
  const dirs = timed('extract', () => Object.fromEntries(Object.entries(debs).map(([k, d]) => [k, extract(d)])));

  // bios.bin
  const biosSrc = join(dirs.seabios, 'usr/share/seabios/bios.bin');
  if (!existsSync(biosSrc)) fail(`seabios ${debs.seabios.Version} has no usr/share/seabios/bios.bin`);
  const bios = readFileSync(biosSrc);
  if (bios.length !== 128 * 1024) fail(`bios.bin is ${bios.length} bytes, expected 131072 (128 KiB)`);

  // kernel
  const vmlinuzSrc = findFile(join(dirs.kernel, 'boot'), (p) => basename(p).startsWith('vmlinuz-'));
  if (vmlinuzSrc.length !== 1) fail(`expected one boot/vmlinuz-* in ${kernelPkg}, found ${vmlinuzSrc.length}`);
  const kernelRelease = basename(vmlinuzSrc[0]).slice('vmlinuz-'.length);
  const vmlinuz = readFileSync(vmlinuzSrc[0]);
  if (vmlinuz.toString('ascii', 0x202, 0x206) !== 'HdrS') fail(`${vmlinuzSrc[0]} has no x86 boot protocol header`);
  const modDir = [join(dirs.kernel, 'lib/modules', kernelRelease), join(dirs.kernel, 'usr/lib/modules', kernelRelease)].find(existsSync);
  if (!modDir) fail(`no lib/modules/${kernelRelease} in ${kernelPkg}`);
  const { order, builtin, missing } = resolveModules(modDir);
  log(`modules (load order): ${order.map((m) => m.name).join(' ')}${builtin.length ? `; built in: ${builtin.join(' ')}` : ''}${missing.length ? `; absent: ${missing.join(' ')}` : ''}`);

  const initrd = timed('initramfs', () => buildInitramfs(dirs.busybox, modDir, order, kernelRelease));

  const outputs = { 'bios.bin': bios, vmlinuz, 'initramfs.cpio.gz': initrd.gz, init: Buffer.from(initrd.init) };
  for (const [name, data] of Object.entries(outputs)) {
    const p = join(cacheDir, name);
    if (!existsSync(p) || sha256(readFileSync(p)) !== sha256(data)) writeFileSync(p, data);
  }
  const file = (name) => ({ path: join(cacheDir, name), size: outputs[name].length, sha256: sha256(outputs[name]) });
  const pkg = (d) => ({ package: d.Package, version: d.Version, architecture: d.Architecture, deb: relative(cacheDir, d.file), debSize: statSync(d.file).size });
  const manifest = {
    generatedBy: 'scripts/linux-guest/setup.js',
    cacheDir,
    bios: { ...file('bios.bin'), ...pkg(debs.seabios), source: 'usr/share/seabios/bios.bin' },
    kernel: { ...file('vmlinuz'), ...pkg(debs.kernel), release: kernelRelease, source: relative(dirs.kernel, vmlinuzSrc[0]) },
    initramfs: {
      ...file('initramfs.cpio.gz'),
      format: 'newc cpio, gzip',
      uncompressedSize: initrd.cpioSize,
      busybox: pkg(debs.busybox),
      modules: initrd.modInfo,
      modulesBuiltin: builtin,
      modulesAbsent: missing,
      entries: initrd.entries,
      init: file('init'),
    },
    cmdline: 'console=ttyS0',
    report: {
      begin: '=== vpci-guest begin ===',
      end: '=== vpci-guest end ===',
      hwrngBytes: HWRNG_BYTES,
      vdaHashBytes: BLK_HASH_BYTES,
      vdaWrite: { offset: BLK_WRITE_OFFSET, length: 512, unit: BLK_WRITE_UNIT, md5: createHash('md5').update(BLK_WRITE_PATTERN).digest('hex') },
    },
    timingsMs: { ...timings, total: Date.now() - t0 },
  };
  writeFileSync(join(cacheDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  log(`bios.bin ${bios.length} B, vmlinuz ${vmlinuz.length} B (${kernelRelease}), initramfs.cpio.gz ${initrd.gz.length} B (${order.length} modules)`);
  log(`manifest: ${join(cacheDir, 'manifest.json')} (${Date.now() - t0} ms)`);
}

try {
  main();
} catch (e) {
  if (e instanceof SetupError) {
    console.error(`linux-guest: error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
