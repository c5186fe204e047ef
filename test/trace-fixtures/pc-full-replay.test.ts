// The QEMU 7.2 recording of pc-full replayed with --verify against its vpci topology
// (test/fixtures/qemu/pc-full.topology.json, built by scripts/build-qemu-fixture.js): every
// mismatch in the config-space part is explained here, and there are two, both named. The rest
// are reads of device registers behind BARs, which the templates do not model (they clone config
// space only): counted per device, so a change shows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import { TraceReplayer } from '../../src/replay/index.js';
import { QtestReader, readAll } from '../../src/trace/index.js';
import { loadTopologyFile } from '../../src/runtime/node/index.js';
import { BACKENDS } from '../helpers/vpci.js';
import { ROOT, SHARED_DATA } from '../helpers/shared-data.js';

/** Config-space reads where vpci answers otherwise than QEMU, and why. */
const EXPLAINED: Record<string, string> = {
  // PIIX3 PIRQ route control (0x60-0x63): QEMU implements these chipset registers; a template
  // clones the bytes but only the header, BARs and known capabilities are writable, so the
  // firmware's 0x0b0b0a0a does not stick (vpci routes INTx from its own table instead).
  '00:01.0 config 0x60': '0xb0b0a0a',
  // Reading CONFIG_ADDRESS back: vpci keeps bit 31 and bits 23:2 (README "Access rules"), QEMU
  // keeps bits 30:24 as written too.
  'CONFIG_ADDRESS (0xCF8)': '0x92345678',
};

describe.each(BACKENDS)('pc-full qtest log replayed with verification (%s backend)', (backend) => {
  it('the config-space part matches QEMU except for the explained registers', async () => {
    const topology = await loadTopologyFile(join(ROOT, 'test/fixtures/qemu/pc-full.topology.json'));
    const bus = await createBus({ backend, topology });
    const text = gunzipSync(readFileSync(join(SHARED_DATA, 'qemu/pc-full.qtest.log.gz')));
    const events = readAll(new QtestReader({ source: 'pc-full.qtest.log' }), text);
    const replayer = new TraceReplayer(bus, { verify: true, keepMismatches: Infinity });
    replayer.push(events);
    const s = replayer.finish();
    expect(s.records).toBeGreaterThan(19000);
    expect(s.verified).toBe(s.reads);
    const config = s.mismatchList.filter((m) => m.meaning.includes(' config ') || m.meaning.startsWith('CONFIG_'));
    const unexplained = config.filter((m) => !Object.keys(EXPLAINED).some((k) => m.meaning.startsWith(k) && EXPLAINED[k] === `0x${m.expected.toString(16)}`));
    expect(unexplained.map((m) => `line ${m.line}: ${m.meaning}: QEMU 0x${m.expected.toString(16)}, vpci 0x${m.actual.toString(16)}`)).toEqual([]);
    expect(config.length).toBeGreaterThan(0);
    // Everything else is MMIO/IO device state: registers and ROM contents behind BARs (no device
    // model behind a template; the meaning is decoded with the regions mapped at the end, so a
    // ROM the firmware disabled again reads "unclaimed"), and QEMU answering 0 where nothing is
    // mapped (its unassigned-memory reads) where vpci gives the PCI master abort, all ones.
    const rest = s.mismatchList.filter((m) => !config.includes(m));
    for (const m of rest) {
      expect(m.meaning, `line ${m.line}`).toMatch(/^0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7](\/[0-9a-f]{2}\.[0-7])* (BAR\d|ROM) \+0x|^unclaimed \(master abort\)$/);
    }
    expect(s.mismatches).toBe(s.mismatchList.length);
    expect(s.modelErrors).toBe(0);
  }, 60_000);
});
