// The chipset models of QEMU's pc machine, on both backends: the 'i440fx' host bridge (identity,
// subsystem, revision, writable PAM and SMRAM bytes, the pam0 option) and the 'piix3' ISA bridge
// (identity, class, the multi-function bit beside a sibling, power-on register values) with its
// PIRQ router: the four PIRQRC bytes at 0x60-0x63 route every root-bus device's pins by
// (device - 1 + pin - 1) mod 4, whichever way the guest writes them (CF8/CFC bytes and dwords,
// ECAM, bus.configWrite, a batch replay), disabled and reserved values unroute, an asserted line
// moves to the new IRQ at once, and a snapshot restored into a fresh bus brings the routing and the
// model's view back.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import type { Piix3Instance } from '../../src/devices/index.js';
import { TopologyError } from '../../src/errors.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, cf8, ecam } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';
import { OP, records } from '../dispatch/helpers.js';

const HOST = '00:00.0';
const ISA = '00:01.0';
const PIRQRC = 0x60;

/** QEMU's PIIX3 wiring, restated: root-bus device d's pin p (1 = INTA) drives PIRQ (d - 1 + p - 1) mod 4. */
const pirqOf = (device: number, pin: number): number => (((device - 1 + pin - 1) % 4) + 4) % 4;

/** What a PIRQRC byte routes to: bits 3:0 unless bit 7 (disable) is set or the IRQ is reserved. */
function irqOf(byte: number): number | null {
  if (byte & 0x80) return null;
  const irq = byte & 0x0f;
  return [0, 1, 2, 8, 13].includes(irq) ? null : irq;
}

/**
 * The chipset at 00:00.0 and 00:01.0 (with a pinless sibling at 00:01.1, as QEMU's IDE), then a pin on each PIRQ: 00:02.0 INTA (PIRQB), the two
 * functions of 00:03 (INTA: PIRQC, INTB: PIRQD), the test device at 00:04.0 (INTA: PIRQD), and an
 * endpoint behind the bridge at 00:05.0 whose INTA reaches the root bus as (5, INTA): PIRQA.
 */
const TOPOLOGY: Topology = {
  devices: [
    { bdf: HOST, model: 'i440fx' },
    { bdf: ISA, model: 'piix3' },
    { bdf: '00:01.1', model: 'test-endpoint', name: 'IDE function (no pin)', options: { interruptPin: 0 } },
    { bdf: '00:02.0', model: 'test-endpoint', options: { interruptPin: 1 } },
    { bdf: '00:03.0', model: 'test-endpoint', options: { interruptPin: 1 } },
    { bdf: '00:03.1', model: 'test-endpoint', options: { interruptPin: 2 } },
    { bdf: '00:04.0', model: 'test-device' },
    { id: 'br', bdf: '00:05.0', model: 'pci-bridge' },
    { behind: 'br', addr: '00.0', model: 'test-endpoint', options: { interruptPin: 1 } },
  ],
};

/** Each pin of the topology: the function path and the PIRQ it ends on. */
const PINS = [
  { path: '0000:00:02.0', pirq: 1 },
  { path: '0000:00:03.0', pirq: 2 },
  { path: '0000:00:03.1', pirq: 3 },
  { path: '0000:00:04.0', pirq: 3 },
  { path: '0000:00:05.0/00.0', pirq: 0 },
];

async function chipsetBus(backend: Backend, topology: Topology = TOPOLOGY): Promise<{ bus: Bus; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, topology, interrupts: sink });
  return { bus, sink };
}

/** Every root-bus (device, pin) of segment 0 and the GSI it is routed to now. */
function routing(bus: Bus, segment = 0): (number | null)[] {
  const out: (number | null)[] = [];
  for (let device = 0; device < 32; device++) for (let pin = 1; pin <= 4; pin++) out.push(bus.interrupts.routeOf(segment, device, pin));
  return out;
}

/** The routing the four PIRQRC bytes call for. */
function expectedRouting(bytes: readonly number[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let device = 0; device < 32; device++) for (let pin = 1; pin <= 4; pin++) out.push(irqOf(bytes[pirqOf(device, pin)]));
  return out;
}

/** Writes PIRQRC[n] with a CF8 address and a byte write to 0xCFC + n, as SeaBIOS's outb does. */
function cf8Byte(bus: Bus, n: number, value: number): void {
  bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, PIRQRC));
  bus.ioWrite(0xcfc + n, 1, value);
}

const dword = (bytes: readonly number[]): number => (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;

describe.each(BACKENDS)('i440fx host bridge (%s)', (backend) => {
  it('identifies as 8086:1237 rev 02, host bridge class, subsystem 1af4:1100, single function', async () => {
    const { bus } = await chipsetBus(backend);
    expect(bus.configRead(HOST, 0x00, 4)).toBe(0x12378086);
    expect(bus.configRead(HOST, 0x08, 4)).toBe(0x06000002);
    expect(bus.configRead(HOST, 0x2c, 4)).toBe(0x11001af4);
    expect(bus.configRead(HOST, 0x0e, 1)).toBe(0x00);
    expect(bus.configRead(HOST, 0x3d, 1), 'no interrupt pin').toBe(0);
  });

  it('PAM0-PAM6 and SMRAM hold their power-on values and read back what firmware writes', async () => {
    const { bus } = await chipsetBus(backend);
    for (let off = 0x59; off <= 0x5f; off++) expect(bus.configRead(HOST, off, 1), `PAM at 0x${off.toString(16)}`).toBe(0);
    expect(bus.configRead(HOST, 0x72, 1), 'SMRAM resets to 0x02').toBe(0x02);
    // SeaBIOS's make_bios_writable / make_bios_readonly write PAM bytes one at a time.
    for (let off = 0x59; off <= 0x5f; off++) bus.configWrite(HOST, off, 1, 0x30 + off - 0x59);
    for (let off = 0x59; off <= 0x5f; off++) expect(bus.configRead(HOST, off, 1)).toBe(0x30 + off - 0x59);
    // Dword and word writes reach the same bytes.
    bus.configWrite(HOST, 0x5c, 4, 0x33221100);
    expect(bus.configRead(HOST, 0x5c, 4)).toBe(0x33221100);
    bus.configWrite(HOST, 0x72, 1, 0x0a);
    expect(bus.configRead(HOST, 0x72, 1)).toBe(0x0a);
    // The identity stays read-only.
    bus.configWrite(HOST, 0x00, 4, 0);
    expect(bus.configRead(HOST, 0x00, 4)).toBe(0x12378086);
  });

  it('the pam0 option sets PAM0\'s power-on value (and nothing else)', async () => {
    const { bus } = await chipsetBus(backend, { devices: [{ bdf: HOST, model: 'i440fx', options: { pam0: 0x10 } }] });
    expect(bus.configRead(HOST, 0x59, 1)).toBe(0x10);
    expect(bus.configRead(HOST, 0x5a, 1)).toBe(0);
    bus.configWrite(HOST, 0x59, 1, 0x30);
    expect(bus.configRead(HOST, 0x59, 1)).toBe(0x30);
    // A topology file may spell it as a "0x.." string.
    const fromJson = await createBus({ backend, topology: JSON.stringify({ devices: [{ bdf: HOST, model: 'i440fx', options: { pam0: '0x10' } }] }) });
    expect(fromJson.configRead(HOST, 0x59, 1)).toBe(0x10);
  });

  it('refuses a pam0 that is not a byte, naming the option', async () => {
    for (const pam0 of [0x100, -1, 1.5, '0x10x']) {
      const topology = { devices: [{ bdf: HOST, model: 'i440fx', options: { pam0 } }] };
      await expect(createBus({ backend, topology })).rejects.toBeInstanceOf(TopologyError);
      await expect(createBus({ backend, topology })).rejects.toThrow(/devices\[0\]\.options\.pam0: .* is not a byte/);
    }
  });
});

describe.each(BACKENDS)('piix3 ISA bridge (%s)', (backend) => {
  it('identifies as 8086:7000, ISA bridge class 0x060100, subsystem 1af4:1100, no interrupt pin', async () => {
    const { bus } = await chipsetBus(backend);
    expect(bus.configRead(ISA, 0x00, 4)).toBe(0x70008086);
    expect(bus.configRead(ISA, 0x08, 4) >>> 8).toBe(0x060100);
    expect(bus.configRead(ISA, 0x2c, 4)).toBe(0x11001af4);
    expect(bus.configRead(ISA, 0x3d, 1)).toBe(0);
  });

  it('is multi-function beside its sibling (QEMU\'s IDE at 01.1): Header Type 0x80 on function 0 only', async () => {
    const { bus } = await chipsetBus(backend);
    expect(bus.configRead(ISA, 0x0e, 1), 'endpoint layout, multi-function bit').toBe(0x80);
    expect(bus.configRead('00:01.1', 0x0e, 1)).toBe(0x00);
  });

  // The bit follows the functions present (README "Access rules"; piix3.ts leaves it to the core):
  // a PIIX3 modelled without its IDE, USB and ACPI functions is a single-function device.
  it('alone at its device, it reads Header Type 0x00', async () => {
    const { bus } = await chipsetBus(backend, { devices: [{ bdf: HOST, model: 'i440fx' }, { bdf: ISA, model: 'piix3' }] });
    expect(bus.configRead(ISA, 0x0e, 1)).toBe(0x00);
  });

  it('resets its chipset registers as QEMU does: PIRQs disabled (0x80), IORT 0x4d, XBCS 0x03, APIC base 0x08', async () => {
    const { bus } = await chipsetBus(backend);
    expect(bus.configRead(ISA, PIRQRC, 4)).toBe(0x80808080);
    expect(bus.configRead(ISA, 0x4c, 1)).toBe(0x4d);
    expect(bus.configRead(ISA, 0x4e, 1)).toBe(0x03);
    expect(bus.configRead(ISA, 0x69, 1)).toBe(0x02);
    expect(bus.configRead(ISA, 0x70, 1)).toBe(0x80);
    expect(bus.configRead(ISA, 0x76, 2)).toBe(0x0c0c);
    expect(bus.configRead(ISA, 0x78, 1)).toBe(0x02);
    expect(bus.configRead(ISA, 0xa0, 1)).toBe(0x08);
  });
});

describe.each(BACKENDS)('piix3 PIRQ routing (%s)', (backend) => {
  it('before firmware programs PIRQRC every root-bus line is unrouted, whatever the topology\'s default table', async () => {
    const { bus, sink } = await chipsetBus(backend);
    expect(routing(bus).every((g) => g === null)).toBe(true);
    expect(bus.device<Piix3Instance>(ISA)!.pirqs).toEqual([null, null, null, null]);
    for (const p of PINS) bus.interrupts.intx(p.path, true);
    expect(sink.events, 'an unrouted pin reaches no line').toEqual([]);
  });

  it('byte writes through CF8/CFC route each PIRQ as SeaBIOS programs it (10, 10, 11, 11)', async () => {
    const { bus } = await chipsetBus(backend);
    const bytes = [0x80, 0x80, 0x80, 0x80];
    [10, 10, 11, 11].forEach((irq, n) => {
      cf8Byte(bus, n, irq);
      bytes[n] = irq;
      expect(routing(bus), `after PIRQRC[${'ABCD'[n]}] = ${irq}`).toEqual(expectedRouting(bytes));
    });
    expect(bus.device<Piix3Instance>(ISA)!.pirqs).toEqual([10, 10, 11, 11]);
    // Spot checks of the swizzle, independent of the helpers: 00:02.0 INTA is PIRQB, 00:03.0 INTB is PIRQD.
    expect(bus.interrupts.routeOf(0, 2, 1)).toBe(10);
    expect(bus.interrupts.routeOf(0, 3, 2)).toBe(11);
    expect(bus.interrupts.routeOf(0, 0, 1), 'device 0 INTA wraps to PIRQD').toBe(11);
  });

  it('distinct IRQs per PIRQ show the swizzle for every device and pin of the root bus', async () => {
    const { bus } = await chipsetBus(backend);
    const bytes = [3, 5, 9, 14];
    bytes.forEach((irq, n) => cf8Byte(bus, n, irq));
    expect(routing(bus)).toEqual(expectedRouting(bytes));
    for (let device = 0; device < 32; device++) {
      for (let pin = 1; pin <= 4; pin++) expect(bus.interrupts.routeOf(0, device, pin)).toBe(bytes[(device + pin + 2) & 3]);
    }
  });

  it('bus.configWrite of bytes and words, a dword through CFC, and ECAM writes route alike', async () => {
    const { bus } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC + 2, 1, 7);
    expect(routing(bus)).toEqual(expectedRouting([0x80, 0x80, 7, 0x80]));
    bus.configWrite(ISA, PIRQRC, 2, 0x0b0a);
    expect(routing(bus)).toEqual(expectedRouting([10, 11, 7, 0x80]));

    let bytes = [5, 6, 7, 9];
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, PIRQRC));
    bus.ioWrite(0xcfc, 4, dword(bytes));
    expect(routing(bus), 'dword write to 0xCFC').toEqual(expectedRouting(bytes));

    bytes = [12, 11, 10, 9];
    bus.configWrite(ISA, PIRQRC, 4, dword(bytes));
    expect(routing(bus), 'dword bus.configWrite').toEqual(expectedRouting(bytes));

    bytes = [15, 14, 12, 11];
    bus.mmioWrite(ecam(0, 1, 0, PIRQRC), 4, dword(bytes));
    expect(routing(bus), 'ECAM dword').toEqual(expectedRouting(bytes));
    bus.mmioWrite(ecam(0, 1, 0, PIRQRC + 3), 1, 4);
    bytes[3] = 4;
    expect(routing(bus), 'ECAM byte').toEqual(expectedRouting(bytes));
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, PIRQRC));
    bus.ioWrite(0xcfe, 2, 0x0305);
    bytes[2] = 5;
    bytes[3] = 3;
    expect(routing(bus), 'word write to 0xCFE').toEqual(expectedRouting(bytes));
    expect(bus.device<Piix3Instance>(ISA)!.pirqs).toEqual([15, 14, 5, 3]);
  });

  it('writes elsewhere leave the routing alone, and CF8 writes alone change nothing', async () => {
    const { bus } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC, 4, dword([10, 10, 11, 11]));
    const before = routing(bus);
    bus.configWrite(ISA, 0x64, 4, 0x0a0a0a0a);
    bus.configWrite(HOST, PIRQRC, 4, 0x80808080);
    bus.configWrite('00:02.0', 0x3c, 1, 5);
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, PIRQRC));
    expect(routing(bus)).toEqual(before);
    // A config write to another function at the same offset through CF8/CFC is not the PIIX3's.
    bus.ioWrite(0xcf8, 4, cf8(0, 0, 0, PIRQRC));
    bus.ioWrite(0xcfc, 4, 0x80808080);
    expect(routing(bus)).toEqual(before);
    expect(bus.configRead(HOST, PIRQRC, 4)).toBe(0x80808080);
  });

  it('bit 7 (disable) and the reserved IRQs 0, 1, 2, 8 and 13 unroute; IRQs 3-7, 9-12, 14, 15 route', async () => {
    const { bus } = await chipsetBus(backend);
    for (let irq = 0; irq < 16; irq++) {
      bus.configWrite(ISA, PIRQRC + 1, 1, irq);
      const expected = [0, 1, 2, 8, 13].includes(irq) ? null : irq;
      expect(bus.interrupts.routeOf(0, 2, 1), `PIRQRC[B] = ${irq}`).toBe(expected);
      expect(bus.device<Piix3Instance>(ISA)!.pirqs[1]).toBe(expected);
      bus.configWrite(ISA, PIRQRC + 1, 1, 0x80 | irq);
      expect(bus.interrupts.routeOf(0, 2, 1), `PIRQRC[B] = 0x${(0x80 | irq).toString(16)}`).toBeNull();
    }
    bus.configWrite(ISA, PIRQRC, 4, dword([11, 10, 9, 5]));
    bus.configWrite(ISA, PIRQRC, 4, 0x80808080);
    expect(routing(bus).every((g) => g === null)).toBe(true);
  });

  it('an asserted line moves to the new IRQ at once: old IRQ low, new IRQ high', async () => {
    const { bus, sink } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC + 1, 1, 10);
    bus.interrupts.intx('00:02.0', true);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 10, level: true }]);
    sink.reset();
    cf8Byte(bus, 1, 11);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 10, level: false }, { kind: 'line', gsi: 11, level: true }]);
    expect(bus.interrupts.lineLevel(10)).toBe(0);
    expect(bus.interrupts.lineLevel(11)).toBe(1);
    sink.reset();
    // Disabled: the line drops and nothing else rises.
    bus.configWrite(ISA, PIRQRC + 1, 1, 0x8b);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 11, level: false }]);
    sink.reset();
    // Enabled again while the pin is still asserted: the new IRQ rises.
    bus.mmioWrite(ecam(0, 1, 0, PIRQRC + 1), 1, 5);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 5, level: true }]);
    sink.reset();
    bus.interrupts.intx('00:02.0', false);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 5, level: false }]);
  });

  it('a shared line stays high while another pin still drives it; the moved pin raises its new IRQ', async () => {
    const { bus, sink } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC, 4, dword([0x80, 10, 10, 0x80]));
    bus.interrupts.intx('00:02.0', true); // PIRQB
    bus.interrupts.intx('00:03.0', true); // PIRQC
    expect(sink.events).toEqual([{ kind: 'line', gsi: 10, level: true }]);
    expect(bus.interrupts.lineLevel(10)).toBe(2);
    sink.reset();
    bus.configWrite(ISA, PIRQRC + 2, 1, 11);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 11, level: true }]);
    expect(bus.interrupts.lineLevel(10)).toBe(1);
    expect(bus.interrupts.lineLevel(11)).toBe(1);
  });

  it('a pin behind a bridge follows the PIRQ of the bridge\'s root-bus (device, swizzled pin)', async () => {
    const { bus, sink } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC, 4, dword([9, 0x80, 0x80, 0x80]));
    bus.interrupts.intx('0000:00:05.0/00.0', true);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 9, level: true }]);
    sink.reset();
    bus.configWrite(ISA, PIRQRC, 1, 12);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 9, level: false }, { kind: 'line', gsi: 12, level: true }]);
  });

  it('every pin of the topology reaches the IRQ of its PIRQ', async () => {
    const { bus, sink } = await chipsetBus(backend);
    const bytes = [3, 4, 5, 6];
    bus.configWrite(ISA, PIRQRC, 4, dword(bytes));
    for (const p of PINS) {
      sink.reset();
      bus.interrupts.intx(p.path, true);
      bus.interrupts.intx(p.path, false);
      expect(sink.events, p.path).toEqual([{ kind: 'line', gsi: bytes[p.pirq], level: true }, { kind: 'line', gsi: bytes[p.pirq], level: false }]);
    }
  });

  it('INTx a device model raises (the test device) moves with its PIRQ; without a sink poll() shows the same', async () => {
    const bus = await createBus({ backend, topology: TOPOLOGY });
    const TD = '00:04.0';
    bus.configWrite(TD, 0x10, 4, 0xfe000000);
    bus.configWrite(TD, 0x04, 2, 0x0002);
    bus.configWrite(ISA, PIRQRC + 3, 1, 10); // the test device's INTA is PIRQD
    bus.mmioWrite(0xfe000000 + 0x08, 4, 0); // IRQ_RAISE vector 0: INTx (no MSI/MSI-X enabled)
    expect(bus.mmioRead(0xfe000000 + 0x14, 4), 'IRQ_RESULT: INTx asserted').toBe(3);
    expect(bus.interrupts.poll()).toEqual([{ kind: 'line', gsi: 10, level: true }]);
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, PIRQRC));
    bus.ioWrite(0xcff, 1, 14);
    expect(bus.interrupts.poll()).toEqual([{ kind: 'line', gsi: 10, level: false }, { kind: 'line', gsi: 14, level: true }]);
    bus.mmioWrite(0xfe000000 + 0x0c, 4, 1); // IRQ_ACK
    expect(bus.interrupts.poll()).toEqual([{ kind: 'line', gsi: 14, level: false }]);
  });

  it('a batch replay writing the PIRQ bytes (CF8/CFC and ECAM records) routes after the batch, moving asserted lines', async () => {
    const { bus, sink } = await chipsetBus(backend);
    bus.configWrite(ISA, PIRQRC + 1, 1, 10);
    bus.interrupts.intx('00:02.0', true);
    sink.reset();
    const batch = records([
      { op: OP.IO_WRITE, size: 4, address: 0xcf8, value: cf8(0, 1, 0, PIRQRC) },
      { op: OP.IO_WRITE, size: 1, address: 0xcfc, value: 5 },
      { op: OP.IO_WRITE, size: 1, address: 0xcfd, value: 11 },
      { op: OP.MMIO_WRITE, size: 2, address: ecam(0, 1, 0, PIRQRC + 2), value: 0x0f0e },
    ]);
    const r = bus.replay(batch);
    expect(Array.from(r.status)).toEqual([0, 0, 0, 0]);
    expect(routing(bus)).toEqual(expectedRouting([5, 11, 14, 15]));
    expect(bus.device<Piix3Instance>(ISA)!.pirqs).toEqual([5, 11, 14, 15]);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 10, level: false }, { kind: 'line', gsi: 11, level: true }]);
  });

  it('a PIRQ on segment 1 routes only segment 1\'s root bus', async () => {
    const topology: Topology = {
      segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } }, { segment: 1, ecam: { base: '0xc0000000', buses: [0, 0] } }],
      devices: [
        { bdf: '0001:00:01.0', model: 'piix3' },
        { bdf: '0001:00:02.0', model: 'test-endpoint' },
        { bdf: '00:02.0', model: 'test-endpoint' },
      ],
    };
    const { bus } = await chipsetBus(backend, topology);
    expect(bus.interrupts.routeOf(0, 2, 1), 'segment 0 keeps its PIIX table').toBe(10);
    expect(bus.interrupts.routeOf(1, 2, 1)).toBeNull();
    bus.configWrite('0001:00:01.0', PIRQRC, 4, dword([3, 4, 5, 6]));
    expect(routing(bus, 1)).toEqual(expectedRouting([3, 4, 5, 6]));
    expect(bus.interrupts.routeOf(0, 2, 1)).toBe(10);
    expect(bus.interrupts.routeOf(0, 3, 1)).toBe(11);
  });
});

describe('piix3 routing across snapshot and restore', () => {
  const PAIRS: [Backend, Backend][] = [['wasm', 'ts'], ['ts', 'wasm'], ['wasm', 'wasm'], ['ts', 'ts']];

  it.each(PAIRS)('%s -> %s: a fresh bus restored from a snapshot routes as the PIRQ bytes say, asserted lines included', async (from, to) => {
    const { bus: a } = await chipsetBus(from);
    const bytes = [9, 10, 11, 0x80];
    a.configWrite(ISA, PIRQRC, 4, dword(bytes));
    a.interrupts.intx('00:03.0', true); // PIRQC -> 11
    const blob = a.snapshot();

    const { bus: b, sink } = await chipsetBus(to);
    // The fresh bus had its own, different routing before the restore.
    b.configWrite(ISA, PIRQRC, 4, dword([3, 4, 5, 6]));
    sink.reset();
    b.restore(blob);
    expect(b.configRead(ISA, PIRQRC, 4)).toBe(dword(bytes));
    expect(routing(b)).toEqual(expectedRouting(bytes));
    expect(routing(b)).toEqual(routing(a));
    expect(b.device<Piix3Instance>(ISA)!.pirqs, 'the model\'s view follows the restored bytes').toEqual([9, 10, 11, null]);
    expect(b.interrupts.lineLevel(11)).toBe(1);

    // And the routing keeps working from there: a change moves the restored asserted line.
    sink.reset();
    b.configWrite(ISA, PIRQRC + 2, 1, 7);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 11, level: false }, { kind: 'line', gsi: 7, level: true }]);
  });

  it.each(BACKENDS)('%s: restoring a power-on snapshot into a programmed bus unroutes everything again', async (backend) => {
    const { bus: a } = await chipsetBus(backend);
    const blob = a.snapshot();
    const { bus: b } = await chipsetBus(backend);
    b.configWrite(ISA, PIRQRC, 4, dword([10, 10, 11, 11]));
    b.restore(blob);
    expect(routing(b).every((g) => g === null)).toBe(true);
    expect(b.device<Piix3Instance>(ISA)!.pirqs).toEqual([null, null, null, null]);
  });
});

