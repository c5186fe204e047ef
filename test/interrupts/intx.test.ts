// INTx through the Bus on both backends: the swizzle at every bridge (PCI-to-PCI Bridge 1.2 §9.1)
// and the routing table to a GSI, shared lines (level-triggered, wired-OR), Interrupt Disable and
// Interrupt Status (PCI 3.0 §6.2.2, §6.2.3), the topology's "interrupts" field, runtime re-routing,
// and the firmware writing Interrupt Line from the bus's own table.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { Bus } from '../../src/bus.js';
import { ArgumentError, TopologyError } from '../../src/errors.js';
import { piixGsi, RecordingSink } from '../../src/interrupts/index.js';
import { piixRoute, routeFromTable, runFirmware } from '../../src/firmware/index.js';
import { firmwareDefaults } from '../../src/firmware/index.js';
import type { Topology, TopologyDevice } from '../../src/topology/index.js';
import { BACKENDS, sinkBus } from './helpers.js';

/** (device number, pin) -> (device number of the bridge above, pin there): PCI-to-PCI Bridge 1.2 §9.1. */
const swizzle = (device: number, pin: number) => ((pin - 1 + device) % 4) + 1;

/**
 * br0 at 00:05.0; br1 behind it at 02.0; sixteen endpoints behind br1 at devices 0-15, whose
 * (device mod 4, pin) pairs are all sixteen combinations; one endpoint right behind br0 (03.0,
 * INTD); one on the root bus (00:01.0, INTA); one with no pin (00:02.0).
 */
function bridged(routing?: Topology['interrupts']): Topology {
  const below: TopologyDevice[] = Array.from({ length: 16 }, (_, i) => ({
    behind: 'br1', addr: `${i.toString(16).padStart(2, '0')}.0`, model: 'test-endpoint', options: { interruptPin: (Math.floor(i / 4) % 4) + 1 },
  }));
  return {
    devices: [
      { bdf: '00:01.0', model: 'test-endpoint' },
      { bdf: '00:02.0', model: 'test-endpoint', options: { interruptPin: 0 } },
      { id: 'br0', bdf: '00:05.0', model: 'pci-bridge' },
      { id: 'br1', behind: 'br0', addr: '02.0', model: 'pci-bridge' },
      { behind: 'br0', addr: '03.0', model: 'test-endpoint', options: { interruptPin: 4 } },
      ...below,
    ],
    ...(routing === undefined ? {} : { interrupts: routing }),
  };
}

/** Every endpoint of bridged(): its path, its pin, and the root-bus (device, pin) its INTx arrives on. */
function endpoints(): { path: string; pin: number; root: { device: number; pin: number } }[] {
  const out = [
    { path: '0000:00:01.0', pin: 1, root: { device: 1, pin: 1 } },
    { path: '0000:00:05.0/03.0', pin: 4, root: { device: 5, pin: swizzle(3, 4) } },
  ];
  for (let i = 0; i < 16; i++) {
    const pin = (Math.floor(i / 4) % 4) + 1;
    out.push({ path: `0000:00:05.0/02.0/${i.toString(16).padStart(2, '0')}.0`, pin, root: { device: 5, pin: swizzle(2, swizzle(i, pin)) } });
  }
  return out;
}

/** A table that routes br0's four pins to GSIs 21-24 and 00:01.0's INTA to 7. */
const TABLE: Topology['interrupts'] = {
  routing: [
    { device: 5, pin: 1, gsi: 21 }, { device: 5, pin: 2, gsi: 22 }, { device: 5, pin: 3, gsi: 23 }, { device: 5, pin: 4, gsi: 24 },
    { device: 1, pin: 1, gsi: 7 },
  ],
};
const tableGsi = (device: number, pin: number) => (device === 5 ? 20 + pin : device === 1 && pin === 1 ? 7 : null);

describe.each(BACKENDS)('INTx on the %s backend', (backend) => {
  it('a pin reaches the GSI of the root-bus (device, pin) it swizzles to, through two bridge levels (PIIX routing)', async () => {
    const { bus, sink } = await sinkBus(backend, bridged());
    for (const e of endpoints()) {
      const gsi = piixGsi(e.root.device, e.root.pin);
      sink.reset();
      bus.interrupts.intx(e.path, true);
      expect(sink.events, e.path).toEqual([{ kind: 'line', gsi, level: true }]);
      expect(bus.interrupts.lineLevel(gsi)).toBe(1);
      bus.interrupts.intx(e.path, false);
      expect(sink.events, e.path).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
      expect(bus.interrupts.lineLevel(gsi)).toBe(0);
    }
  });

  it('with a routing table in the topology, each pin reaches the table\'s GSI; unrouted pins reach nothing', async () => {
    const { bus, sink } = await sinkBus(backend, bridged(TABLE));
    for (const e of endpoints()) {
      const gsi = tableGsi(e.root.device, e.root.pin);
      sink.reset();
      bus.interrupts.intx(e.path, true);
      bus.interrupts.intx(e.path, false);
      expect(sink.events, e.path).toEqual(gsi === null ? [] : [{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
    }
    expect(bus.interrupts.routeOf(0, 5, 3)).toBe(23);
    expect(bus.interrupts.routeOf(0, 4, 1)).toBeNull();
  });

  it('the firmware writes Interrupt Line from the bus\'s table (vpci enumerate\'s options), 0xFF where nothing is routed', async () => {
    const bus = await createBus({ backend, topology: bridged(TABLE) });
    runFirmware(bus, firmwareDefaults(bus));
    for (const e of endpoints()) {
      expect(bus.configRead(e.path, 0x3c, 1), e.path).toBe(tableGsi(e.root.device, e.root.pin) ?? 0xff);
    }
    // The default PIIX table gives what piixRoute gives, which is also runFirmware's own default.
    for (const options of [undefined, 'cli'] as const) {
      const piix = await createBus({ backend, topology: bridged() });
      runFirmware(piix, options === 'cli' ? firmwareDefaults(piix) : {});
      for (const e of endpoints()) expect(piix.configRead(e.path, 0x3c, 1)).toBe(piixRoute(e.root.device, e.root.pin));
    }
  });

  it('a shared line is asserted once by the first function and deasserted once by the last', async () => {
    const { bus, sink } = await sinkBus(backend, {
      devices: [{ bdf: '00:01.0', model: 'test-endpoint' }, { bdf: '00:02.0', model: 'test-endpoint' }, { bdf: '00:03.0', model: 'test-endpoint', options: { interruptPin: 3 } }],
      interrupts: { routing: [{ device: 1, pin: 1, gsi: 5 }, { device: 2, pin: 1, gsi: 5 }, { device: 3, pin: 3, gsi: 5 }] },
    });
    bus.interrupts.intx('00:01.0', true);
    bus.interrupts.intx('00:02.0', true);
    bus.interrupts.intx('00:03.0', true);
    expect(bus.interrupts.lineLevel(5)).toBe(3);
    bus.interrupts.intx('00:01.0', true); // already asserted: no change
    bus.interrupts.intx('00:01.0', false);
    bus.interrupts.intx('00:03.0', false);
    expect(bus.interrupts.lineLevel(5)).toBe(1);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 5, level: true }]);
    bus.interrupts.intx('00:02.0', false);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 5, level: true }, { kind: 'line', gsi: 5, level: false }]);
    expect(sink.assertions(5)).toBe(1);
    expect(bus.interrupts.lineLevel(5)).toBe(0);
  });

  it('Interrupt Disable (Command bit 10) takes the function off its line and gives it back', async () => {
    const { bus, sink } = await sinkBus(backend);
    const gsi = piixGsi(1, 1);
    bus.interrupts.intx('00:01.0', true);
    bus.configWrite('00:01.0', 0x04, 2, 0x0400);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }]);
    expect(bus.interrupts.lineLevel(gsi)).toBe(0);
    // Status still shows the device's request.
    expect(bus.configRead('00:01.0', 0x06, 2) & 0x08).toBe(0x08);
    bus.configWrite('00:01.0', 0x04, 4, 0x0002); // a dword write to Command: bit 10 clear again
    expect(sink.events.at(-1)).toEqual({ kind: 'line', gsi, level: true });
    // Asserting while disabled raises nothing; enabling then does.
    bus.interrupts.intx('00:01.0', false);
    sink.reset();
    bus.configWrite('00:01.0', 0x05, 1, 0x04);
    bus.interrupts.intx('00:01.0', true);
    expect(sink.events).toEqual([]);
    bus.configWrite('00:01.0', 0x05, 1, 0x00);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }]);
  });

  it('Interrupt Status (Status bit 3) follows the pin, whatever the gating, and the guest cannot write it', async () => {
    const { bus } = await sinkBus(backend);
    const status = () => bus.configRead('00:01.0', 0x06, 2) & 0x08;
    expect(status()).toBe(0);
    bus.interrupts.intx('00:01.0', true);
    expect(status()).toBe(0x08);
    bus.configWrite('00:01.0', 0x06, 2, 0x0008); // not RW1C
    expect(status()).toBe(0x08);
    bus.configWrite('00:01.0', 0x04, 2, 0x0400);
    expect(status()).toBe(0x08);
    bus.interrupts.intx('00:01.0', false);
    expect(status()).toBe(0);
    bus.configWrite('00:01.0', 0x06, 1, 0xff);
    expect(status()).toBe(0);
  });

  it('route() moves an asserted line at once; null unroutes it', async () => {
    const { bus, sink } = await sinkBus(backend);
    const gsi = piixGsi(1, 1);
    bus.interrupts.intx('00:01.0', true);
    bus.interrupts.route(0, 1, 1, 40);
    expect(bus.interrupts.routeOf(0, 1, 1)).toBe(40);
    expect(sink.events).toEqual([{ kind: 'line', gsi, level: true }, { kind: 'line', gsi, level: false }, { kind: 'line', gsi: 40, level: true }]);
    bus.interrupts.route(0, 1, 1, null);
    expect(bus.interrupts.routeOf(0, 1, 1)).toBeNull();
    expect(sink.events.at(-1)).toEqual({ kind: 'line', gsi: 40, level: false });
    expect(bus.interrupts.lineLevel(40)).toBe(0);
    bus.interrupts.route(0, 1, 1, 1023);
    expect(sink.events.at(-1)).toEqual({ kind: 'line', gsi: 1023, level: true });
  });

  it('routing "none": INTx reaches no line, and the firmware writes 0xFF', async () => {
    const { bus, sink } = await sinkBus(backend, { devices: [{ bdf: '00:01.0', model: 'test-endpoint' }], interrupts: { routing: 'none' } });
    bus.interrupts.intx('00:01.0', true);
    expect(sink.events).toEqual([]);
    expect(bus.configRead('00:01.0', 0x06, 2) & 0x08).toBe(0x08);
    for (let pin = 1; pin <= 4; pin++) expect(bus.interrupts.routeOf(0, 1, pin)).toBeNull();
    runFirmware(bus, { irqRoute: routeFromTable(bus.interrupts) });
    expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0xff);
  });

  it('GSIs above 254 are written to Interrupt Line as 0xFF; each segment has its own table', async () => {
    const bus = await createBus({
      backend,
      topology: {
        segments: [{ segment: 0, ecam: { base: '0xb0000000', buses: [0, 255] } }, { segment: 1, ecam: { base: '0xa0000000', buses: [0, 15] } }],
        devices: [{ bdf: '00:01.0', model: 'test-endpoint' }, { bdf: '00:02.0', model: 'test-endpoint' }, { bdf: '0001:00:01.0', model: 'test-endpoint' }],
        interrupts: { routing: [{ device: 1, pin: 1, gsi: 300 }, { device: 2, pin: 1, gsi: 254 }, { segment: 1, device: 1, pin: 1, gsi: '0x30' }] },
      },
    });
    const sink = new RecordingSink();
    bus.interrupts.setSink(sink);
    runFirmware(bus, firmwareDefaults(bus));
    expect(bus.configRead('00:01.0', 0x3c, 1)).toBe(0xff);
    expect(bus.configRead('00:02.0', 0x3c, 1)).toBe(254);
    expect(bus.configRead('0001:00:01.0', 0x3c, 1)).toBe(0x30);
    bus.interrupts.intx('00:01.0', true);
    bus.interrupts.intx('0001:00:01.0', true);
    expect(sink.events).toEqual([{ kind: 'line', gsi: 300, level: true }, { kind: 'line', gsi: 0x30, level: true }]);
  });

  it('a function behind a bridge is named by its path or by the BDF it answers at now', async () => {
    const { bus, sink } = await sinkBus(backend, bridged());
    runFirmware(bus);
    const path = '0000:00:05.0/02.0/00.0';
    const at = bus.addressOf(path)!;
    bus.interrupts.intx(at, true);
    expect(sink.events).toEqual([{ kind: 'line', gsi: piixGsi(5, swizzle(2, 1)), level: true }]);
    expect(bus.configRead(path, 0x06, 2) & 0x08).toBe(0x08);
  });

  it('bad calls are ArgumentErrors naming the call, the function and the core status', async () => {
    const { bus } = await sinkBus(backend, bridged());
    expect(() => bus.interrupts.intx('00:02.0', true)).toThrow(ArgumentError);
    expect(() => bus.interrupts.intx('00:02.0', true)).toThrow('interrupts: intx(00:02.0, true): value out of range (the function has no interrupt pin)');
    expect(() => bus.interrupts.intx('00:09.0', true)).toThrow(/^interrupts: intx: bdf: 00:09.0 is not a function of the topology/);
    expect(() => bus.interrupts.route(0, 32, 1, 5)).toThrow('interrupts: route(segment 0, device 32, pin 1, gsi 5): value out of range');
    expect(() => bus.interrupts.route(0, 1, 0, 5)).toThrow(ArgumentError);
    expect(() => bus.interrupts.route(16, 1, 1, 5)).toThrow(ArgumentError);
    expect(() => bus.interrupts.route(0, 1, 1, 1024)).toThrow(/gsi 0\.\.1023, or null/);
    expect(() => bus.interrupts.route(0, 1, 1.5, 5)).toThrow(ArgumentError);
    expect(() => bus.interrupts.routeOf(0, 1, 5)).toThrow(ArgumentError);
    expect(() => bus.interrupts.lineLevel(1024)).toThrow(ArgumentError);
    expect(() => bus.interrupts.lineLevel(-1)).toThrow(ArgumentError);
    // Nothing changed.
    expect(bus.interrupts.routeOf(0, 1, 1)).toBe(piixGsi(1, 1));
  });
});

describe('the topology\'s "interrupts" field', () => {
  const base = (interrupts: unknown) => ({ devices: [{ bdf: '00:01.0', model: 'test-endpoint' }], interrupts }) as Topology;
  it.each([
    [{ routing: [{ device: 1, pin: 1, gsi: 5 }, { device: 2, pin: 1, gsi: 5 }, { device: 3, pin: 5, gsi: 5 }] }, 'interrupts.routing[2].pin: 5 is not 1..4'],
    [{ routing: [{ device: 32, pin: 1, gsi: 5 }] }, 'interrupts.routing[0].device: 32 is not 0..31'],
    [{ routing: [{ device: 1, pin: 1, gsi: 1024 }] }, 'interrupts.routing[0].gsi: 1024 is not 0..1023'],
    [{ routing: [{ device: 1, pin: 1 }] }, 'interrupts.routing[0].gsi: is missing'],
    [{ routing: [{ device: 1, pin: 1, gsi: 'ten' }] }, 'interrupts.routing[0].gsi: "ten" is not a number or a "0x..." string'],
    [{ routing: [{ device: 1, pin: 1, gsi: 1.5 }] }, 'interrupts.routing[0].gsi: 1.5 is not an integer'],
    [{ routing: [{ segment: 2, device: 1, pin: 1, gsi: 5 }] }, 'interrupts.routing[0].segment: segment 2 is not declared in "segments"'],
    [{ routing: [{ segment: 16, device: 1, pin: 1, gsi: 5 }] }, 'interrupts.routing[0].segment: 16 is not 0..15'],
    [{ routing: [{ device: 1, pin: 1, gsi: 5, line: 3 }] }, 'interrupts.routing[0].line: is not a routing field'],
    [{ routing: [{ device: 1, pin: 1, gsi: 5 }, { segment: 0, device: 1, pin: 1, gsi: 6 }] }, 'interrupts.routing[1]: segment 0 device 1 pin 1 is already routed by interrupts.routing[0]'],
    [{ routing: [7] }, 'interrupts.routing[0]: must be an object'],
    [{ routing: 'apic' }, 'interrupts.routing: "apic" is not "piix", "none" or an array'],
    [{ routes: [] }, 'interrupts.routes: is not an interrupts field (routing)'],
    ['piix', 'interrupts: must be an object'],
  ])('%j is refused: %s', async (interrupts, message) => {
    const err = await createBus({ backend: 'ts', topology: base(interrupts), source: 'topo.json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as Error).message).toContain(`topo.json: ${message}`);
  });

  it('"piix" (the default) routes every root device and pin of every segment; "0x" strings are numbers', async () => {
    const bus = await createBus({
      backend: 'ts',
      topology: { segments: [{ segment: 0 }, { segment: 3, ecam: { base: '0xa0000000', buses: [0, 3] } }], devices: [{ bdf: '00:01.0', model: 'test-endpoint' }] },
    });
    expect(bus.topology.interrupts.routing).toBe('piix');
    for (const seg of [0, 3]) for (let d = 0; d < 32; d++) for (let p = 1; p <= 4; p++) expect(bus.interrupts.routeOf(seg, d, p)).toBe(piixGsi(d, p));
    expect(bus.interrupts.routeOf(1, 0, 1)).toBeNull();
    const table = await createBus({ backend: 'ts', topology: base({ routing: [{ device: '0x1f', pin: '4', gsi: '0x3ff' }] }) });
    expect(table.topology.interrupts).toEqual({ routing: 'table', routes: [{ segment: 0, device: 31, pin: 4, gsi: 1023 }] });
    expect(table.interrupts.routeOf(0, 31, 4)).toBe(1023);
    expect(table.interrupts.routeOf(0, 1, 1)).toBeNull();
  });

  it('a resolved topology made without the field gets PIIX routing', async () => {
    const resolved = (await createBus({ backend: 'ts', topology: base({ routing: 'none' }) })).topology;
    const { interrupts: _, ...bare } = resolved;
    const bus: Bus = await createBus({ backend: 'ts', topology: bare as typeof resolved });
    expect(bus.interrupts.routeOf(0, 1, 1)).toBe(piixGsi(1, 1));
  });
});
