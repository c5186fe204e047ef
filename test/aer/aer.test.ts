// PCI Express Advanced Error Reporting on both backends: the AER extended capability's bytes and
// masks (status RW1C, mask and severity RW, defaults), and `bus.errors.report` /
// `DeviceContext.reportError`: Device Status bits, masked errors, severity, First Error Pointer
// and Header Log, the message and its enables, bridges' SERR# forwarding, the root port's Root
// Error Status and Error Source Identification, its MSI and INTx, a function without AER, and bad
// input refused with the field named and nothing changed.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import type { DeviceContext } from '../../src/devices/index.js';
import { ArgumentError } from '../../src/errors.js';
import { RecordingSink, piixGsi } from '../../src/interrupts/index.js';
import { resolveTopology } from '../../src/topology/index.js';
import type { Topology } from '../../src/topology/index.js';
import { BACKENDS, snapshotAll } from '../helpers/vpci.js';
import type { Backend } from '../helpers/vpci.js';

const RP = '0000:00:05.0';
const EP = '0000:00:05.0/00.0';
const RP2 = '0000:00:06.0';
const NOAER = '0000:00:06.0/00.0';
const CONVENTIONAL = '0000:00:07.0';

/** A PCI Express endpoint without an AER capability. */
const PCIE_NO_AER: FunctionDescriptor = {
  vendorId: 0x1b36, deviceId: 0x00f1, classCode: 0xff0000, capabilities: [{ id: 'pcie', portType: 'endpoint' }],
};

// Non-hotplug root ports: a hot-plug slot's controller drives the same INTx pin (see the report).
const TOPOLOGY: Topology = {
  devices: [
    { id: 'rp', bdf: '00:05.0', model: 'root-port', options: { hotplug: false } },
    { behind: 'rp', addr: '00.0', model: 'test-endpoint', options: { pcie: true } },
    { id: 'rp2', bdf: '00:06.0', model: 'root-port', options: { hotplug: false } },
    { behind: 'rp2', addr: '00.0', descriptor: PCIE_NO_AER },
    { bdf: '00:07.0', model: 'test-endpoint' },
  ],
};

// AER registers (PCIe Base 6.0 §7.8.4) and bits used below.
const UNCOR_STATUS = 0x04;
const UNCOR_MASK = 0x08;
const UNCOR_SEVER = 0x0c;
const COR_STATUS = 0x10;
const COR_MASK = 0x14;
const CAP = 0x18;
const HEADER_LOG = 0x1c;
const ROOT_COMMAND = 0x2c;
const ROOT_STATUS = 0x30;
const ROOT_ERR_SRC = 0x34;
const COMP_TIME = 14;
const COMP_ABORT = 15;
const MALF_TLP = 18;
const UNSUP = 20;
const RCVR = 0;
const BAD_TLP = 6;
const ADV_NONFATAL = 13;
// Device Control / Status at PCI Express capability + 8 / + 0x0a.
const CERE = 1;
const NFERE = 2;
const FERE = 4;
const URRE = 8;

const r32 = (bus: Bus, f: string, off: number) => bus.configRead(f, off, 4) >>> 0;

function capability(bus: Bus, f: string, id: number): number {
  for (let p = bus.configRead(f, 0x34, 1); p !== 0; p = bus.configRead(f, p + 1, 1)) if (bus.configRead(f, p, 1) === id) return p;
  throw new Error(`${f} has no capability ${id}`);
}

function extended(bus: Bus, f: string, id: number): number {
  for (let p = 0x100; p !== 0;) {
    const h = r32(bus, f, p);
    if ((h & 0xffff) === id) return p;
    p = h >>> 20;
  }
  throw new Error(`${f} has no extended capability ${id}`);
}

interface Rig {
  bus: Bus;
  sink: RecordingSink;
  /** AER offsets of the endpoint and the root port. */
  ep: number;
  rp: number;
  /** PCI Express capability offsets. */
  epPcie: number;
  rpPcie: number;
}

/**
 * The bus with bus numbers set as firmware would (root port 00:05.0 -> bus 1, 00:06.0 -> bus 2),
 * the root ports forwarding error messages (Bridge Control SERR# Enable) unless `forward` is
 * false, and the endpoint's Device Control reporting enables `devctl`.
 */
async function rig(backend: Backend, { forward = true, devctl = 0 }: { forward?: boolean; devctl?: number } = {}): Promise<Rig> {
  const sink = new RecordingSink();
  const bus = await createBus({ backend, topology: TOPOLOGY, interrupts: sink });
  bus.configWrite(RP, 0x18, 4, 0x00010100);
  bus.configWrite(RP2, 0x18, 4, 0x00020200);
  if (forward) {
    bus.configWrite(RP, 0x3e, 2, 0x0002);
    bus.configWrite(RP2, 0x3e, 2, 0x0002);
  }
  const epPcie = capability(bus, EP, 0x10);
  bus.configWrite(EP, epPcie + 8, 2, (bus.configRead(EP, epPcie + 8, 2) & ~0xf) | devctl);
  return { bus, sink, ep: extended(bus, EP, 1), rp: extended(bus, RP, 1), epPcie, rpPcie: capability(bus, RP, 0x10) };
}

const header = (start: number) => Uint8Array.from({ length: 16 }, (_, i) => (start + i) & 0xff);

describe.each(BACKENDS)('AER capability bytes and masks (%s)', (backend) => {
  it('an endpoint has AER version 2 at 0x100 with the specification defaults and no root registers', async () => {
    const { bus, ep } = await rig(backend);
    expect(ep).toBe(0x100);
    expect(r32(bus, EP, ep)).toBe(0x00020001); // ID 1, version 2, last in the list
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe(0);
    expect(r32(bus, EP, ep + UNCOR_MASK)).toBe(0);
    expect(r32(bus, EP, ep + UNCOR_SEVER)).toBe(0x00462030);
    expect(r32(bus, EP, ep + COR_STATUS)).toBe(0);
    expect(r32(bus, EP, ep + COR_MASK)).toBe(0x00002000);
    expect(r32(bus, EP, ep + CAP)).toBe(0x000000a0); // ECRC generation and check capable, FEP 0
    // Nothing past the Header Log: the Root Error Command offset is not writable on an endpoint.
    bus.configWrite(EP, ep + ROOT_COMMAND, 4, 0xffffffff);
    expect(r32(bus, EP, ep + ROOT_COMMAND)).toBe(0);
  });

  it('the root port links AER after its Device Serial Number and has the root registers', async () => {
    const { bus, rp } = await rig(backend);
    expect(rp).toBe(0x10c);
    expect((r32(bus, RP, 0x100) >>> 20)).toBe(0x10c);
    expect(r32(bus, RP, rp) & 0xfffff).toBe(0x20001);
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0xffffffff);
    expect(r32(bus, RP, rp + ROOT_COMMAND)).toBe(0x7);
    bus.configWrite(RP, rp + ROOT_STATUS, 4, 0xffffffff);
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0); // RW1C bits and a read-only message number 0
    bus.configWrite(RP, rp + ROOT_ERR_SRC, 4, 0xffffffff);
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0);
  });

  it('mask and severity take the implemented bits only; status, First Error Pointer and Header Log ignore guest writes of 0', async () => {
    const { bus, ep } = await rig(backend);
    bus.configWrite(EP, ep + UNCOR_MASK, 4, 0xffffffff);
    bus.configWrite(EP, ep + UNCOR_SEVER, 4, 0xffffffff);
    bus.configWrite(EP, ep + COR_MASK, 4, 0xffffffff);
    expect(r32(bus, EP, ep + UNCOR_MASK)).toBe(0x03fff030);
    expect(r32(bus, EP, ep + UNCOR_SEVER)).toBe(0x03fff030);
    expect(r32(bus, EP, ep + COR_MASK)).toBe(0x0000f1c1);
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 0xffffffff);
    bus.configWrite(EP, ep + COR_STATUS, 4, 0xffffffff);
    bus.configWrite(EP, ep + CAP, 4, 0xffffffff);
    bus.configWrite(EP, ep + HEADER_LOG, 4, 0xffffffff);
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe(0);
    expect(r32(bus, EP, ep + COR_STATUS)).toBe(0);
    expect(r32(bus, EP, ep + CAP)).toBe(0x000001e0); // only the two ECRC enables are writable
    expect(r32(bus, EP, ep + HEADER_LOG)).toBe(0);
  });
});

describe.each(BACKENDS)('errors.report on the function (%s)', (backend) => {
  it('status bits are write-1-to-clear: 1 clears a set bit, 0 leaves it', async () => {
    const { bus, ep } = await rig(backend);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_ABORT });
    bus.errors.report(EP, { kind: 'correctable', bit: BAD_TLP });
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe((1 << COMP_TIME) | (1 << COMP_ABORT));
    expect(r32(bus, EP, ep + COR_STATUS)).toBe(1 << BAD_TLP);
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 0);
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe((1 << COMP_TIME) | (1 << COMP_ABORT));
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 1 << COMP_TIME);
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe(1 << COMP_ABORT);
    bus.configWrite(EP, ep + COR_STATUS, 4, 1 << BAD_TLP);
    expect(r32(bus, EP, ep + COR_STATUS)).toBe(0);
  });

  it('Device Status records each class whatever the masks, and is write-1-to-clear', async () => {
    const { bus, ep, epPcie } = await rig(backend);
    bus.configWrite(EP, ep + UNCOR_MASK, 4, 0x03fff030);
    bus.configWrite(EP, ep + COR_MASK, 4, 0x0000f1c1);
    bus.errors.report(EP, { kind: 'correctable', bit: RCVR });
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP });
    bus.errors.report(EP, { kind: 'uncorrectable', bit: UNSUP });
    expect(bus.configRead(EP, epPcie + 0x0a, 2) & 0xf).toBe(0xf); // CED, NFED, FED, URD
    bus.configWrite(EP, epPcie + 0x0a, 2, 0x5);
    expect(bus.configRead(EP, epPcie + 0x0a, 2) & 0xf).toBe(0xa);
  });

  it('severity picks fatal or non-fatal: the default register, then as the guest sets it', async () => {
    const { bus, ep, epPcie } = await rig(backend, { devctl: NFERE | FERE });
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME })).toMatchObject({ severity: 'non-fatal', message: 'ERR_NONFATAL' });
    expect(bus.configRead(EP, epPcie + 0x0a, 2) & 0x6).toBe(0x2);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP })).toMatchObject({ severity: 'fatal', message: 'ERR_FATAL' });
    expect(bus.configRead(EP, epPcie + 0x0a, 2) & 0x6).toBe(0x6);
    bus.configWrite(EP, ep + UNCOR_SEVER, 4, (1 << COMP_TIME));
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME }).severity).toBe('fatal');
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP }).severity).toBe('non-fatal');
  });

  it('an unmasked uncorrectable error records the First Error Pointer and the header, byte 0 in bits 31:24', async () => {
    const { bus, ep } = await rig(backend);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME, header: header(0x10) }).logged).toBe(true);
    expect(r32(bus, EP, ep + CAP) & 0x1f).toBe(COMP_TIME);
    expect([0, 1, 2, 3].map((i) => r32(bus, EP, ep + HEADER_LOG + 4 * i))).toEqual([0x10111213, 0x14151617, 0x18191a1b, 0x1c1d1e1f]);
  });

  it('while the first error is pending, later ones set status only; once it is cleared the next one is logged', async () => {
    const { bus, ep } = await rig(backend);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME, header: header(0x10) });
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: UNSUP, header: header(0x80) }).logged).toBe(false);
    expect(r32(bus, EP, ep + CAP) & 0x1f).toBe(COMP_TIME);
    expect(r32(bus, EP, ep + HEADER_LOG)).toBe(0x10111213);
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe((1 << COMP_TIME) | (1 << UNSUP));
    // Clearing another bit does not free the log; clearing the one the pointer names does.
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 1 << UNSUP);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_ABORT, header: header(0x40) }).logged).toBe(false);
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 1 << COMP_TIME);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: UNSUP }).logged).toBe(true);
    expect(r32(bus, EP, ep + CAP) & 0x1f).toBe(UNSUP);
    // No header given: the log is recorded as zeros.
    expect([0, 1, 2, 3].map((i) => r32(bus, EP, ep + HEADER_LOG + 4 * i))).toEqual([0, 0, 0, 0]);
  });

  it('a masked error that sets the bit the First Error Pointer names again does not hold the log', async () => {
    const { bus, ep } = await rig(backend);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME, header: header(0x10) });
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 1 << COMP_TIME);
    bus.configWrite(EP, ep + UNCOR_MASK, 4, 1 << COMP_TIME);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME }).logged).toBe(false);
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe(1 << COMP_TIME);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_ABORT, header: header(0x30) }).logged).toBe(true);
    expect(r32(bus, EP, ep + CAP) & 0x1f).toBe(COMP_ABORT);
    expect(r32(bus, EP, ep + HEADER_LOG)).toBe(0x30313233);
  });

  it('a masked error sets its status bit and nothing else: no pointer, no log, no message', async () => {
    const { bus, ep, rp } = await rig(backend, { devctl: CERE | NFERE | FERE });
    bus.configWrite(EP, ep + UNCOR_MASK, 4, 1 << COMP_TIME);
    const masked = bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME, header: header(0x20) });
    expect(masked).toEqual({ severity: 'non-fatal', masked: true, logged: false, message: null, rootPort: null });
    expect(r32(bus, EP, ep + UNCOR_STATUS)).toBe(1 << COMP_TIME);
    expect(r32(bus, EP, ep + CAP) & 0x1f).toBe(0);
    expect(r32(bus, EP, ep + HEADER_LOG)).toBe(0);
    // Advisory Non-Fatal is masked by default.
    expect(bus.errors.report(EP, { kind: 'correctable', bit: ADV_NONFATAL })).toMatchObject({ masked: true, message: null });
    expect(r32(bus, EP, ep + COR_STATUS)).toBe(1 << ADV_NONFATAL);
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0);
    // The same errors unmasked are logged and sent.
    bus.configWrite(EP, ep + UNCOR_MASK, 4, 0);
    bus.configWrite(EP, ep + UNCOR_STATUS, 4, 1 << COMP_TIME);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME })).toMatchObject({ masked: false, logged: true, message: 'ERR_NONFATAL', rootPort: RP });
  });
});

describe.each(BACKENDS)('the error message and the root port (%s)', (backend) => {
  it('nothing is sent while Device Control and SERR# Enable are off', async () => {
    const { bus, rp } = await rig(backend);
    expect(bus.errors.report(EP, { kind: 'correctable', bit: RCVR }).message).toBeNull();
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP }).message).toBeNull();
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0);
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0);
  });

  it('ERR_COR: the root port records it received, then multiple, and the first requester ID', async () => {
    const { bus, rp } = await rig(backend, { devctl: CERE });
    expect(bus.errors.report(EP, { kind: 'correctable', bit: RCVR })).toEqual({ severity: 'correctable', masked: false, logged: false, message: 'ERR_COR', rootPort: RP });
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x01);
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0x0100); // bus 1, device 0, function 0
    // Renumber: the second message comes from 05:00.0, but the recorded source stays the first.
    bus.configWrite(RP, 0x18, 4, 0x00050500);
    bus.errors.report(EP, { kind: 'correctable', bit: BAD_TLP });
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x03);
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0x0100);
    // Cleared, the next message records its (new) source.
    bus.configWrite(RP, rp + ROOT_STATUS, 4, 0x03);
    bus.errors.report(EP, { kind: 'correctable', bit: BAD_TLP });
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0x0500);
  });

  it('ERR_NONFATAL then ERR_FATAL: received, multiple, both kinds, not first-fatal; the source in bits 31:16', async () => {
    const { bus, rp } = await rig(backend, { devctl: NFERE | FERE });
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x24); // ERR_FATAL/NONFATAL received, non-fatal received
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0x01000000);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP });
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x6c); // + multiple, fatal received
  });

  it('a first ERR_FATAL sets First Uncorrectable Fatal', async () => {
    const { bus, rp } = await rig(backend, { devctl: FERE });
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP }).message).toBe('ERR_FATAL');
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x54);
    // Non-fatal reporting is off: a non-fatal error sends nothing.
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME }).message).toBeNull();
  });

  it('SERR# Enable sends ERR_NONFATAL/ERR_FATAL without Device Control and sets Signaled System Error; not ERR_COR', async () => {
    const { bus, rp } = await rig(backend);
    bus.configWrite(EP, 0x04, 2, 0x0100);
    expect(bus.errors.report(EP, { kind: 'correctable', bit: RCVR }).message).toBeNull();
    expect(bus.configRead(EP, 0x06, 2) & 0x4000).toBe(0);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME }).message).toBe('ERR_NONFATAL');
    expect(bus.configRead(EP, 0x06, 2) & 0x4000).toBe(0x4000);
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x24);
  });

  it('an Unsupported Request needs UR Reporting Enable (or SERR# Enable) as well', async () => {
    const { bus } = await rig(backend, { devctl: NFERE });
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: UNSUP }).message).toBeNull();
    const { bus: bus2 } = await rig(backend, { devctl: NFERE | URRE });
    expect(bus2.errors.report(EP, { kind: 'uncorrectable', bit: UNSUP }).message).toBe('ERR_NONFATAL');
  });

  it('a root port without Bridge Control SERR# Enable does not take the message, but notes an uncorrectable one in Secondary Status', async () => {
    const { bus, rp } = await rig(backend, { forward: false, devctl: CERE | NFERE });
    expect(bus.errors.report(EP, { kind: 'correctable', bit: RCVR })).toMatchObject({ message: 'ERR_COR', rootPort: null });
    expect(bus.configRead(RP, 0x1e, 2) & 0x4000).toBe(0);
    expect(bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME })).toMatchObject({ message: 'ERR_NONFATAL', rootPort: null });
    expect(bus.configRead(RP, 0x1e, 2) & 0x4000).toBe(0x4000);
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0);
  });

  it('the root port interrupts by MSI when Root Error Command enables it: once per rise of the condition', async () => {
    const { bus, sink, rp } = await rig(backend, { devctl: CERE | NFERE });
    const msi = capability(bus, RP, 0x05);
    bus.configWrite(RP, msi + 4, 4, 0xfee00000);
    bus.configWrite(RP, msi + 8, 4, 0);
    bus.configWrite(RP, msi + 12, 2, 0x0045);
    bus.configWrite(RP, msi + 2, 2, 0x0001);
    // Not enabled in Root Error Command: status only.
    bus.errors.report(EP, { kind: 'correctable', bit: RCVR });
    expect(sink.messages(RP, 0x45)).toBe(0);
    // Enabling it while ERR_COR Received is set raises the interrupt (§6.2.4.1.2).
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0x1);
    expect(sink.messages(RP, 0x45)).toBe(1);
    bus.errors.report(EP, { kind: 'correctable', bit: BAD_TLP });
    expect(sink.messages(RP, 0x45)).toBe(1); // the condition was already true
    // Non-fatal is not enabled: no interrupt; the guest clears ERR_COR, then a new one interrupts.
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    expect(sink.messages(RP, 0x45)).toBe(1);
    bus.configWrite(RP, rp + ROOT_STATUS, 4, 0x03);
    bus.errors.report(EP, { kind: 'correctable', bit: RCVR });
    expect(sink.messages(RP, 0x45)).toBe(2);
    expect(sink.assertedLines()).toEqual([]);
  });

  it('without MSI the root port holds INTx while an enabled status bit is set; clearing the bits drops it', async () => {
    const { bus, sink, rp } = await rig(backend, { devctl: NFERE | FERE });
    const gsi = piixGsi(5, 1);
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0x6);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    expect(sink.level(gsi)).toBe(true);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: MALF_TLP });
    expect(sink.assertions(gsi)).toBe(1);
    // Clearing only Non-Fatal Error Messages Received leaves Fatal set: the line stays up.
    bus.configWrite(RP, rp + ROOT_STATUS, 4, 0x20);
    expect(sink.level(gsi)).toBe(true);
    bus.configWrite(RP, rp + ROOT_STATUS, 4, 0x7f);
    expect(sink.level(gsi)).toBe(false);
    // Disabling the enable drops it too.
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    expect(sink.level(gsi)).toBe(true);
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0);
    expect(sink.level(gsi)).toBe(false);
  });

  it('a snapshot restore sends no MSI again for a condition that already held', async () => {
    const { bus, rp } = await rig(backend, { devctl: CERE });
    const msi = capability(bus, RP, 0x05);
    bus.configWrite(RP, msi + 4, 4, 0xfee00000);
    bus.configWrite(RP, msi + 12, 2, 0x0046);
    bus.configWrite(RP, msi + 2, 2, 0x0001);
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0x1);
    bus.errors.report(EP, { kind: 'correctable', bit: RCVR });
    const blob = bus.snapshot();
    const sink = new RecordingSink();
    const other = await createBus({ backend, topology: TOPOLOGY, interrupts: sink });
    other.restore(blob);
    expect(sink.events).toEqual([]);
    // The restored condition is the watcher's starting point: clearing and a new error interrupt once.
    other.configWrite(RP, rp + ROOT_STATUS, 4, 0x1);
    other.errors.report(EP, { kind: 'correctable', bit: RCVR });
    expect(sink.messages(RP, 0x46)).toBe(1);
  });

  it('after a snapshot restore the guest clearing Root Error Status still drops INTx, and nothing is re-sent', async () => {
    const { bus, rp } = await rig(backend, { devctl: NFERE });
    const gsi = piixGsi(5, 1);
    bus.configWrite(RP, rp + ROOT_COMMAND, 4, 0x2);
    bus.errors.report(EP, { kind: 'uncorrectable', bit: COMP_TIME });
    const blob = bus.snapshot();
    const sink = new RecordingSink();
    const other = await createBus({ backend, topology: TOPOLOGY, interrupts: sink });
    other.restore(blob);
    expect(sink.events.filter((e) => e.kind === 'message')).toEqual([]);
    expect(other.interrupts.lineLevel(gsi)).toBe(1);
    other.configWrite(RP, rp + ROOT_STATUS, 4, 0x7f);
    expect(other.interrupts.lineLevel(gsi)).toBe(0);
  });

  it('a function without AER sets Device Status and sends the message; the root port logs it', async () => {
    const { bus, rp } = await rig(backend);
    const pcie = capability(bus, NOAER, 0x10);
    bus.configWrite(NOAER, pcie + 8, 2, CERE | NFERE | FERE);
    expect(bus.errors.report(NOAER, { kind: 'correctable', bit: BAD_TLP })).toEqual({ severity: 'correctable', masked: false, logged: false, message: 'ERR_COR', rootPort: RP2 });
    // Without a Severity register the default severities apply (Malformed TLP is fatal).
    expect(bus.errors.report(NOAER, { kind: 'uncorrectable', bit: MALF_TLP })).toMatchObject({ severity: 'fatal', message: 'ERR_FATAL', logged: false });
    expect(bus.configRead(NOAER, pcie + 0x0a, 2) & 0xf).toBe(0x5);
    expect(r32(bus, RP2, rp + ROOT_STATUS)).toBe(0x55);
    expect(r32(bus, RP2, rp + ROOT_ERR_SRC)).toBe(0x02000200);
    // The other root port saw nothing.
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0);
  });

  it("a root port's own error is logged in its own root registers, with its own requester ID", async () => {
    const { bus, rp, rpPcie } = await rig(backend, { forward: false });
    bus.configWrite(RP, rpPcie + 8, 2, CERE);
    expect(bus.errors.report(RP, { kind: 'correctable', bit: BAD_TLP })).toMatchObject({ message: 'ERR_COR', rootPort: RP });
    expect(r32(bus, RP, rp + COR_STATUS)).toBe(1 << BAD_TLP);
    expect(r32(bus, RP, rp + ROOT_STATUS)).toBe(0x01);
    expect(r32(bus, RP, rp + ROOT_ERR_SRC)).toBe(0x0028); // 00:05.0
  });

  it('a device model reports through its context', async () => {
    const topology = await resolveTopology(TOPOLOGY);
    let ctx: DeviceContext | undefined;
    topology.functions.find((f) => f.path === EP)!.behaviour = { attach(c) { ctx = c; return {}; } };
    const bus = await createBus({ backend, topology });
    bus.configWrite(RP, 0x18, 4, 0x00010100);
    bus.configWrite(RP, 0x3e, 2, 0x0002);
    const pcie = capability(bus, EP, 0x10);
    bus.configWrite(EP, pcie + 8, 2, NFERE | URRE);
    expect(ctx!.reportError({ kind: 'uncorrectable', bit: UNSUP, header: header(0) })).toMatchObject({ message: 'ERR_NONFATAL', rootPort: RP, logged: true });
    expect(r32(bus, EP, 0x100 + UNCOR_STATUS)).toBe(1 << UNSUP);
    expect(() => ctx!.reportError({ kind: 'uncorrectable', bit: 3 })).toThrow(ArgumentError);
  });
});

describe.each(BACKENDS)('errors.report refuses bad input and changes nothing (%s)', (backend) => {
  const cases: [string, string, unknown, RegExp][] = [
    ['an unknown function', '0000:00:1f.0', { kind: 'correctable', bit: 0 }, /errors\.report: bdf: .*00:1f\.0/],
    ['a malformed BDF', 'nonsense', { kind: 'correctable', bit: 0 }, /errors\.report: bdf/],
    ['a function without a PCI Express capability', CONVENTIONAL, { kind: 'correctable', bit: 0 }, /bdf: 0000:00:07\.0 has no PCI Express capability/],
    ['an unknown kind', EP, { kind: 'fatal', bit: 18 }, /error\.kind: "fatal"/],
    ['a kind that is not a string', EP, { kind: 1n, bit: 18 }, /error\.kind: 1 is not/],
    ['a bit out of range', EP, { kind: 'uncorrectable', bit: 32 }, /error\.bit: 32/],
    ['a fractional bit', EP, { kind: 'uncorrectable', bit: 1.5 }, /error\.bit: 1\.5/],
    ['an uncorrectable bit not implemented', EP, { kind: 'uncorrectable', bit: 3 }, /error\.bit: 3 is not an uncorrectable error .* implements \(0x03fff030\)/],
    ['a correctable bit not implemented', EP, { kind: 'correctable', bit: 1 }, /error\.bit: 1 is not a correctable error .* implements \(0x0000f1c1\)/],
    ['a PCIe 6.0 bit vpci does not implement', EP, { kind: 'uncorrectable', bit: 28 }, /error\.bit: 28/],
    ['a bit a function without AER does not have either', NOAER, { kind: 'correctable', bit: 2 }, /error\.bit: 2/],
    ['a header of 8 bytes', EP, { kind: 'uncorrectable', bit: COMP_TIME, header: new Uint8Array(8) }, /error\.header: must be a Uint8Array of 16 bytes/],
    ['a header that is an array', EP, { kind: 'uncorrectable', bit: COMP_TIME, header: Array(16).fill(0) }, /error\.header/],
    ['a header on a correctable error', EP, { kind: 'correctable', bit: RCVR, header: new Uint8Array(16) }, /error\.header: only an uncorrectable error/],
    ['no error object', EP, null, /error must be/],
  ];

  it.each(cases)('%s', async (_name, bdf, error, message) => {
    const { bus, sink } = await rig(backend, { devctl: CERE | NFERE | FERE | URRE });
    const before = snapshotAll(bus);
    let thrown: unknown;
    try {
      bus.errors.report(bdf, error as never);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ArgumentError);
    expect((thrown as Error).message).toMatch(message);
    expect(snapshotAll(bus)).toEqual(before);
    expect(sink.events).toEqual([]);
  });
});
