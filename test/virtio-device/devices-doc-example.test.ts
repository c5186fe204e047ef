// The worked example of docs/devices.md, as written there, on both backends: a counter register
// that raises MSI-X vector 0 on every write, attached to a resolved topology by an embedder.
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus.js';
import type { DeviceBehaviour } from '../../src/devices/index.js';
import type { FunctionDescriptor } from '../../src/config/index.js';
import { runFirmware } from '../../src/firmware/index.js';
import { RecordingSink } from '../../src/interrupts/index.js';
import { resolveTopology } from '../../src/topology/index.js';
import { BACKENDS } from '../helpers/vpci.js';

function counterDevice(o: { start?: number } = {}): { descriptor: FunctionDescriptor; behaviour: DeviceBehaviour } {
  const descriptor: FunctionDescriptor = {
    vendorId: 0x1b36, deviceId: 0x00ff, classCode: 0x00ff00, revision: 1,
    bars: [{ index: 0, kind: 'mem32', size: 0x1000 }],
    capabilities: [{ id: 'msix', tableSize: 1, tableBar: 0, tableOffset: 0x800, pbaBar: 0, pbaOffset: 0xc00 }],
  };
  const behaviour: DeviceBehaviour = {
    attach(ctx) {
      let count = o.start ?? 0;
      ctx.bar(0, {
        read: (offset, size) => (offset === 0x00 && size === 4 ? count : 0),
        write: (offset, size, value) => {
          if (offset !== 0x04 || size !== 4) return;
          count = (count + Number(value)) >>> 0;
          ctx.msix(0);
        },
      }, { offset: 0, length: 0x800 });
      return { reset() { count = o.start ?? 0; } };
    },
  };
  return { descriptor, behaviour };
}

describe.each(BACKENDS)('docs/devices.md worked example (%s)', (backend) => {
  it('counts, and each ADD sends MSI-X vector 0 once the guest enabled it', async () => {
    const counter = counterDevice();
    const topology = await resolveTopology({ devices: [{ bdf: '00:08.0', descriptor: counter.descriptor }] });
    topology.functions.find((f) => f.path === '0000:00:08.0')!.behaviour = counter.behaviour;
    const sink = new RecordingSink();
    const bus = await createBus({ backend, topology, interrupts: sink });
    runFirmware(bus);
    const bar0 = (bus.configRead('00:08.0', 0x10, 4) & ~0xf) >>> 0;
    bus.mmioWrite(bar0 + 0x04, 4, 2);
    expect(sink.events).toEqual([]);
    bus.mmioWrite(bar0 + 0x800, 4, 0xfee00000);
    bus.mmioWrite(bar0 + 0x808, 4, 0x41);
    bus.mmioWrite(bar0 + 0x80c, 4, 0);
    let msix = bus.configRead('00:08.0', 0x34, 1);
    while (bus.configRead('00:08.0', msix, 1) !== 0x11) msix = bus.configRead('00:08.0', msix + 1, 1);
    bus.configWrite('00:08.0', msix + 2, 2, 0x8000);
    bus.mmioWrite(bar0 + 0x04, 4, 5);
    expect(bus.mmioRead(bar0 + 0x00, 4)).toBe(7);
    expect(sink.messages('0000:00:08.0', 0x41)).toBe(1);
    bus.device('00:08.0')!.reset!();
    expect(bus.mmioRead(bar0 + 0x00, 4)).toBe(0);
  });
});
