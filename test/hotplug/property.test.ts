// Property: plug and unplug are the same as having built the bus with those cards. After any
// sequence of plugs, unplugs, BAR programming and decode toggles on a booted bus, the mapped
// regions (and the cards' config spaces) equal those of a bus built from scratch from a topology
// holding the cards now plugged, given the same config writes: the firmware's, then each card's
// own writes since it was plugged.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createBus } from '../../src/bus.js';
import type { Bus, PlugDevice } from '../../src/bus.js';
import { firmwareDefaults, runFirmware } from '../../src/firmware/index.js';
import type { ConfigAccess } from '../../src/firmware/index.js';
import type { Topology, TopologyDevice } from '../../src/topology/index.js';
import { CARD, assignCard } from './helpers.js';
import { BACKENDS } from '../helpers/vpci.js';

const PORTS = ['p1', 'p2', 'p3'];
const PORT_PATHS = ['0000:00:01.0', '0000:00:02.0', '0000:00:03.0'];

function baseTopology(): Topology {
  return {
    devices: [
      { bdf: '00:00.0', model: 'host-bridge' },
      ...PORTS.map((id, i): TopologyDevice => ({ id, bdf: `00:0${i + 1}.0`, model: 'root-port', options: { slot: i + 1 } })),
      { bdf: '00:04.0', model: 'test-endpoint' },
    ],
  };
}

const CARDS: PlugDevice[] = [
  CARD,
  { model: 'test-endpoint', name: 'endpoint' },
  { model: 'test-device', name: 'test device' },
  { model: 'test-endpoint', options: { bars: [{ index: 0, kind: 'io', size: '0x40' }, { index: 1, kind: 'mem32', size: '0x8000' }], rom: false } },
];

type Op =
  | { op: 'plug'; port: number; card: number }
  | { op: 'unplug'; port: number }
  | { op: 'program'; port: number; shift: number }
  | { op: 'decode'; port: number; command: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('plug' as const), port: fc.nat(2), card: fc.nat(CARDS.length - 1) }),
  fc.record({ op: fc.constant('unplug' as const), port: fc.nat(2) }),
  fc.record({ op: fc.constant('program' as const), port: fc.nat(2), shift: fc.nat(3) }),
  fc.record({ op: fc.constant('decode' as const), port: fc.nat(2), command: fc.nat(7) }),
);

type Write = [path: string, offset: number, size: number, value: number];

/** A config access that logs every write it forwards. */
function recording(bus: Bus, log: Write[]): ConfigAccess & Pick<Bus, 'configRead' | 'configWrite'> {
  return {
    configRead: (bdf: string, offset: number, size: number) => bus.configRead(bdf, offset, size),
    configWrite: (bdf: string, offset: number, size: number, value: number) => {
      log.push([bdf, offset, size, value]);
      bus.configWrite(bdf, offset, size, value);
    },
  };
}

/** Regions without their ids (allocated in creation order, which differs by construction). */
function regionsOf(bus: Bus) {
  return bus.regions().map(({ id: _id, ...r }) => r)
    .sort((a, b) => (a.space + a.name + String(a.base)).localeCompare(b.space + b.name + String(b.base)));
}

function cardConfig(bus: Bus, path: string): number[] {
  return Array.from({ length: 64 }, (_, i) => bus.configRead(path, i * 4, 4));
}

describe.each(BACKENDS)('plug/unplug keep the bus equal to one built with the cards (%s)', (backend) => {
  it('regions and card config spaces match a rebuilt bus after random plug/unplug/program sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        const bus = await createBus({ backend, topology: baseTopology() });
        const firmwareLog: Write[] = [];
        runFirmware(recording(bus, firmwareLog), firmwareDefaults(bus));
        const plugged: (number | undefined)[] = [undefined, undefined, undefined];
        const cardLogs: Write[][] = [[], [], []];
        for (const o of ops) {
          const port = PORT_PATHS[o.port];
          const card = `${port}/00.0`;
          if (o.op === 'plug') {
            if (plugged[o.port] !== undefined) continue;
            bus.plug(port, CARDS[o.card]);
            plugged[o.port] = o.card;
            cardLogs[o.port] = [];
          } else if (o.op === 'unplug') {
            if (plugged[o.port] === undefined) continue;
            bus.unplug(port);
            plugged[o.port] = undefined;
          } else if (plugged[o.port] !== undefined) {
            const access = recording(bus, cardLogs[o.port]);
            if (o.op === 'program') assignCard(access, port, card, o.shift);
            else access.configWrite(card, 0x04, 2, o.command);
          }
        }
        const topology = baseTopology();
        plugged.forEach((c, i) => {
          if (c === undefined) return;
          const { behaviour: _b, ...entry } = CARDS[c];
          topology.devices.push({ ...entry, behind: PORTS[i], addr: '00.0' } as TopologyDevice);
        });
        const rebuilt = await createBus({ backend, topology });
        for (const [bdf, off, size, value] of firmwareLog) rebuilt.configWrite(bdf, off, size, value);
        cardLogs.forEach((log, i) => {
          if (plugged[i] === undefined) return;
          for (const [path, off, size, value] of log) rebuilt.configWrite(path, off, size, value);
        });
        expect(regionsOf(bus)).toEqual(regionsOf(rebuilt));
        plugged.forEach((c, i) => {
          if (c === undefined) return;
          const path = `${PORT_PATHS[i]}/00.0`;
          expect(bus.addressOf(path)).toBe(rebuilt.addressOf(path));
          expect(cardConfig(bus, path)).toEqual(cardConfig(rebuilt, path));
        });
      }),
      { numRuns: 25, interruptAfterTimeLimit: 20_000 },
    );
  }, 60_000);
});
