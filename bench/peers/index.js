// The peers on the same work, where installed: v86's PCI config path, QEMU's qtest replay. Each
// module records its own results; a peer that is not installed prints why and records nothing.
import { collected, record } from '../stats.js';

const quick = process.argv.includes('--quick');
for (const [name, path, fn] of [['v86', './v86.js', 'v86Peer'], ['qemu', './qemu.js', 'qemuPeer']]) {
  let mod;
  try {
    mod = await import(path);
  } catch (e) {
    console.log(`peers: ${name}: not available (${e.code === 'ERR_MODULE_NOT_FOUND' ? 'module not found' : e.message})`);
    continue;
  }
  const results = (await mod[fn]({ quick })) ?? [];
  for (const r of results) {
    // vpci replaying QEMU's qtest text (parse + replay) is its own suite beside the binary trace.
    const suite = r.input === 'qtest script' ? `${r.suite}-from-qtest-text` : r.suite;
    if (Array.isArray(r.samples)) record(suite, r.backend, r.unit, r.samples);
    else collected.push({ suite, backend: r.backend, unit: r.unit, median: r.median, min: r.min, max: r.max, runs: r.runs });
  }
}
