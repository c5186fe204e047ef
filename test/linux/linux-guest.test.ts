// The real-guest test: SeaBIOS and a stock Debian i386 kernel boot in v86 with vpci attached as the
// PCI bus (src/runtime/v86), and what the firmware and Linux report is compared with vpci's own
// view: enumeration and BAR assignment, the function list, /proc/iomem and /proc/ioports, the
// virtio-rng bytes, virtio-blk reads and writes, interrupts. The boot is recorded, and the
// recording replays on both backends with zero mismatches. Needs `node scripts/linux-guest/setup.js`
// (npm test runs it) and about 15 s of CPU.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
// The booted bus comes from the built package (boot.js imports 'vpci'), so everything here does too.
import { createBus, TraceReplayer, trace, virtio } from 'vpci';
import { v86Topology } from 'vpci/v86';
import type { BootResult } from '../../scripts/linux-guest/boot.js';
import { bootLinuxGuest, BEGIN, END } from '../../scripts/linux-guest/boot.js';
import {
  parseHwrng, parseInterrupts, parseKeyValues, parsePci, parseResourceTree, splitSections,
} from '../../scripts/linux-guest/report.js';
import { shortBdf, vpciBars, vpciFunctions } from './vpci-map.js';

const BOOT_TIMEOUT = 240_000;
const BLK_WRITE = { offset: 8192, unit: 'vpci-guest-blk!\n', length: 512 };

let boot: BootResult;
let sections: Record<string, string[]>;

beforeAll(async () => {
  boot = await bootLinuxGuest({ backend: 'wasm', record: true, timeoutMs: BOOT_TIMEOUT });
  sections = splitSections(boot.serial, BEGIN, END);
}, BOOT_TIMEOUT + 30_000);

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const hex = (v: bigint) => v.toString(16);

describe('SeaBIOS on vpci', () => {
  it('finds every function of the topology', () => {
    const found = boot.firmwareLog.map((l) => /^Found (\d+) PCI devices/.exec(l)).find(Boolean);
    expect(found, boot.firmwareLog.join('\n')).toBeTruthy();
    expect(Number(found![1])).toBe(boot.bus.functions().length);
    expect(boot.firmwareLog).toContain('Running on QEMU (i440fx)');
  });

  it('assigned every BAR, and vpci holds the addresses it logged', () => {
    const mapped = boot.firmwareLog.flatMap((l) => {
      const m = /^PCI: map device bdf=(\S+)\s+bar (\d+), addr ([0-9a-f]+), size ([0-9a-f]+) \[(io|mem|prefmem)\]/.exec(l);
      return m ? [{ bdf: m[1], index: Number(m[2]), addr: BigInt(`0x${m[3]}`), size: BigInt(`0x${m[4]}`) }] : [];
    });
    const bars = vpciBars(boot.bus);
    expect(mapped.length).toBe(bars.length);
    for (const b of bars) {
      const m = mapped.find((x) => x.bdf === shortBdf(b.bdf) && x.index === b.index);
      expect(m, `${b.bdf} BAR ${b.index}`).toBeDefined();
      expect(hex(m!.addr)).toBe(hex(b.start));
      expect(hex(m!.size)).toBe(hex(b.end - b.start + 1n));
    }
  });

  it('programmed the PIIX3 PIRQ routing the bus now uses', () => {
    expect(boot.firmwareLog.some((l) => l.startsWith('PIIX3/PIIX4 init: elcr='))).toBe(true);
    const pirqs = [0, 1, 2, 3].map((i) => boot.bus.configRead('00:01.0', 0x60 + i, 1) & 0x8f);
    expect(pirqs.every((b) => b < 16)).toBe(true);
    // Device 2 INTA is PIRQ (2 - 1 + 0) & 3 = B.
    expect(boot.bus.interrupts.routeOf(0, 2, 1)).toBe(pirqs[1]);
  });
});

describe('Linux on vpci', () => {
  it('lists every function with the IDs vpci holds', () => {
    const guest = parsePci(sections.pci);
    const ours = vpciFunctions(boot.bus);
    expect(guest.map((g) => g.bdf).sort()).toEqual(ours.map((f) => f.bdf).sort());
    for (const f of ours) {
      const g = guest.find((x) => x.bdf === f.bdf)!;
      expect({ vendor: g.vendor, device: g.device, classCode: g.classCode, revision: g.revision }, f.bdf)
        .toEqual({ vendor: f.vendor, device: f.device, classCode: f.classCode, revision: f.revision });
      if ((boot.bus.configRead(f.path, 0x0e, 1) & 0x7f) === 0) {
        expect([g.subsystemVendor, g.subsystem], f.bdf).toEqual([f.subsystemVendor, f.subsystem]);
      }
    }
    // Linux's own virtio_pci driver bound both virtio functions.
    expect(guest.filter((g) => g.driver === 'virtio-pci').map((g) => g.bdf).sort()).toEqual(['0000:00:02.0', '0000:00:03.0']);
  });

  it('/proc/iomem and /proc/ioports hold exactly vpci\'s BARs and the bridge windows', () => {
    const isBdf = (n: string) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(n);
    const key = (bdf: string, s: bigint, e: bigint) => `${bdf} ${hex(s)}-${hex(e)}`;
    const bars = vpciBars(boot.bus);
    for (const [section, space] of [['iomem', 'mem'], ['ioports', 'io']] as const) {
      const guest = parseResourceTree(sections[section]).filter((r) => isBdf(r.name)).map((r) => key(r.name, r.start, r.end)).sort();
      const ours = bars.filter((b) => b.space === space).map((b) => key(b.bdf, b.start, b.end)).sort();
      expect(guest, section).toEqual(ours);
    }
    // The bridge's windows as vpci decodes them (config bytes the firmware wrote).
    const memBase = BigInt(boot.bus.configRead('00:05.0', 0x20, 2) & 0xfff0) << 16n;
    const memLimit = (BigInt(boot.bus.configRead('00:05.0', 0x22, 2) & 0xfff0) << 16n) | 0xfffffn;
    const window = parseResourceTree(sections.iomem).find((r) => r.name === 'PCI Bus 0000:01');
    expect(window && `${hex(window.start)}-${hex(window.end)}`).toBe(`${hex(memBase)}-${hex(memLimit)}`);
  });

  it('reads from /dev/hwrng the bytes vpci\'s seeded virtio-rng produced', () => {
    const got = parseHwrng(sections.hwrng);
    expect(got.length).toBe(64);
    const rng = boot.bus.device<virtio.VirtioRngInstance>('00:02.0')!;
    expect(rng.bytesServed).toBeGreaterThanOrEqual(64);
    // The device fills each request from the generator in order; Linux's buffers are whole words.
    const stream = new Uint8Array(rng.bytesServed);
    new virtio.SeededBytes(7).fill(stream);
    expect(Buffer.from(stream).indexOf(Buffer.from(got))).toBeGreaterThanOrEqual(0);
  });

  it('sees the virtio-blk image: its size, its pattern, and writes land in the host buffer', () => {
    const vda = parseKeyValues(sections.vda);
    const blk = boot.bus.device<virtio.VirtioBlkInstance>('00:03.0')!;
    expect(Number(vda.size)).toBe(blk.image.length);
    expect(vda['head4096.md5']).toBe(md5(virtio.blkPattern(blk.image.length).subarray(0, 4096)));
    const written = blk.image.subarray(BLK_WRITE.offset, BLK_WRITE.offset + BLK_WRITE.length);
    expect(Buffer.from(written).toString('latin1')).toBe(BLK_WRITE.unit.repeat(BLK_WRITE.length / BLK_WRITE.unit.length));
    expect(vda.write).toBe(`ok offset=${BLK_WRITE.offset} bytes=${BLK_WRITE.length} md5=${md5(written)}`);
    expect(vda['readback.md5']).toBe(md5(written));
  });

  it('counts the devices\' interrupts on the IRQs vpci routes them to', () => {
    const lines = parseInterrupts(sections.interrupts);
    const guest = parsePci(sections.pci);
    for (const [bdf, name] of [['0000:00:02.0', 'virtio0'], ['0000:00:03.0', 'virtio1']]) {
      const line = lines.find((l) => l.names.includes(name));
      expect(line, name).toBeDefined();
      expect(line!.count).toBeGreaterThan(0);
      expect(line!.chip).toBe('XT-PIC');
      const dev = Number.parseInt(bdf.slice(8, 10), 16);
      expect(line!.irq).toBe(boot.bus.interrupts.routeOf(0, dev, 1));
      expect(guest.find((g) => g.bdf === bdf)!.irq).toBe(line!.irq);
    }
    expect(boot.attachment.stats().lineChanges).toBeGreaterThan(0);
    expect(boot.attachment.conflicts()).toEqual([]);
  });
});

describe('the recorded boot', () => {
  it('replays on both backends with every read verified and no mismatch', async () => {
    const recorded = boot.recorder!.trace();
    const events = trace.readAll(new trace.BinaryTraceReader(), recorded);
    const accesses = events.filter((e) => e.op === 'read' || e.op === 'write').length;
    expect(accesses).toBeGreaterThan(1000);
    expect(events.some((e) => e.op === 'memwrite')).toBe(true);
    for (const backend of ['wasm', 'ts'] as const) {
      const bus = await createBus({ backend, topology: v86Topology() });
      const replayer = new TraceReplayer(bus, { verify: true, ramBytes: 96 << 20 });
      replayer.push(events);
      const summary = replayer.finish();
      expect({ backend, records: summary.records, mismatches: summary.mismatches, aborts: summary.aborts > 0 })
        .toEqual({ backend, records: accesses, mismatches: 0, aborts: summary.aborts > 0 });
      expect(summary.verified).toBe(events.filter((e) => e.op === 'read').length);
      // The devices did the same work: the guest's block write lands in the replay's disk too.
      const blk = bus.device<virtio.VirtioBlkInstance>('00:03.0')!;
      expect(md5(blk.image.subarray(BLK_WRITE.offset, BLK_WRITE.offset + BLK_WRITE.length)))
        .toBe(md5(boot.bus.device<virtio.VirtioBlkInstance>('00:03.0')!.image.subarray(BLK_WRITE.offset, BLK_WRITE.offset + BLK_WRITE.length)));
    }
  });
});
