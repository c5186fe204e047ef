// FunctionDescriptor.registers (device-specific registers in 0x40-0xFF): every
// bad register is refused with a DescriptorError naming the entry and field (bad width, outside
// 0x40-0xFF, misaligned, overlapping a capability or another register, a value or mask wider than
// the register), and in a topology with a TopologyError under the device's path; good registers
// hold their power-on value, exactly their writable bits take writes (at any access width) and
// nothing else in the area does, on both backends.
import { describe, expect, it } from 'vitest';
import { buildPlanes } from '../../src/config/index.js';
import type { DeviceRegister, FunctionDescriptor } from '../../src/config/index.js';
import { DescriptorError, TopologyError } from '../../src/errors.js';
import { resolveTopology } from '../../src/topology/index.js';
import { BACKENDS, makeBus, merge, onesOf } from '../helpers/vpci.js';

const BASE: FunctionDescriptor = { vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000 };
const reg = (offset: number, width: 1 | 2 | 4, value = 0, writable = 0): DeviceRegister => ({ offset, width, value, writable });

/** buildPlanes refuses the descriptor with a DescriptorError at `path` whose problem matches. */
function refused(d: Partial<FunctionDescriptor> | Record<string, unknown>, path: string, problem: RegExp): void {
  let error: unknown;
  try {
    buildPlanes({ ...BASE, ...d } as FunctionDescriptor);
  } catch (e) {
    error = e;
  }
  expect(error, `${path} must be refused`).toBeInstanceOf(DescriptorError);
  expect((error as DescriptorError).path).toBe(path);
  expect((error as DescriptorError).problem).toMatch(problem);
}

describe('descriptor registers: refusals', () => {
  it('a width other than 1, 2 or 4', () => {
    for (const width of [0, 3, 8, '4', undefined, null, 2.5]) {
      refused({ registers: [{ offset: 0x60, width, value: 0 }] }, 'registers[0].width', /is not 1, 2 or 4/);
    }
  });

  it('an offset outside 0x40-0xFF (the standard header is not the descriptor\'s to redefine)', () => {
    refused({ registers: [reg(0x3c, 4)] }, 'registers[0].offset', /not an integer in 0x40\.\.0xfc/);
    refused({ registers: [reg(0x00, 1)] }, 'registers[0].offset', /0x40\.\.0xff/);
    refused({ registers: [reg(0x100, 1)] }, 'registers[0].offset', /0x40\.\.0xff/);
    refused({ registers: [reg(0x100, 4)] }, 'registers[0].offset', /0x40\.\.0xfc/);
    refused({ registers: [reg(0xfe, 4)] }, 'registers[0].offset', /0x40\.\.0xfc/);
    refused({ registers: [reg(-4, 4)] }, 'registers[0].offset', /0x40\.\.0xfc/);
    refused({ registers: [{ offset: '0x60', width: 1 }] }, 'registers[0].offset', /"0x60" is not an integer/);
    // The edges are fine.
    expect(() => buildPlanes({ ...BASE, registers: [reg(0x40, 4), reg(0xfc, 4)] })).not.toThrow();
    expect(() => buildPlanes({ ...BASE, registers: [reg(0xff, 1), reg(0xfe, 1)] })).not.toThrow();
  });

  it('an offset not aligned to the width', () => {
    refused({ registers: [reg(0x41, 2)] }, 'registers[0].offset', /0x41 is not aligned to its width 2/);
    refused({ registers: [reg(0x62, 4)] }, 'registers[0].offset', /0x62 is not aligned to its width 4/);
    refused({ registers: [reg(0x61, 4)] }, 'registers[0].offset', /not aligned/);
    expect(() => buildPlanes({ ...BASE, registers: [reg(0x61, 1), reg(0x62, 2)] })).not.toThrow();
  });

  it('a register overlapping a capability structure (PM at 0x40-0x47), wherever the capability was placed', () => {
    const pm = { capabilities: [{ id: 'pm' as const }] };
    for (const [offset, width] of [[0x40, 4], [0x44, 4], [0x46, 2], [0x47, 1]] as const) {
      refused({ ...pm, registers: [reg(offset, width)] }, 'registers[0].offset', /overlaps a capability or another register/);
    }
    expect(() => buildPlanes({ ...BASE, ...pm, registers: [reg(0x48, 4)] })).not.toThrow();
    // A capability at a given offset.
    const msiAt80 = { capabilities: [{ id: 'msi' as const, vectors: 1 as const, offset: 0x80 }] };
    refused({ ...msiAt80, registers: [reg(0x84, 4)] }, 'registers[0].offset', /overlaps/);
    expect(() => buildPlanes({ ...BASE, ...msiAt80, registers: [reg(0x40, 4), reg(0x7c, 4)] })).not.toThrow();
  });

  it('registers overlapping each other, naming the later entry', () => {
    refused({ registers: [reg(0x60, 4), reg(0x62, 2)] }, 'registers[1].offset', /0x62\.\.0x63 overlaps a capability or another register/);
    refused({ registers: [reg(0x63, 1), reg(0x60, 4)] }, 'registers[1].offset', /0x60\.\.0x63 overlaps/);
    refused({ registers: [reg(0x70, 1), reg(0x80, 2), reg(0x80, 2)] }, 'registers[2].offset', /overlaps/);
  });

  it('a value or writable mask wider than the register', () => {
    refused({ registers: [reg(0x60, 1, 0x100)] }, 'registers[0].value', /0x0\.\.0xff/);
    refused({ registers: [reg(0x60, 2, 0, 0x10000)] }, 'registers[0].writable', /0x0\.\.0xffff/);
    refused({ registers: [reg(0x60, 4, 2 ** 32)] }, 'registers[0].value', /0x0\.\.0xffffffff/);
    refused({ registers: [reg(0x60, 4, -1)] }, 'registers[0].value', /is not an integer/);
    refused({ registers: [{ offset: 0x60, width: 1, writable: 0.5 }] }, 'registers[0].writable', /is not an integer/);
  });

  it('the third entry is named as registers[2]; a non-array or a non-object entry is named too', () => {
    refused({ registers: [reg(0x60, 1), reg(0x61, 1), reg(0x62, 3 as 1)] }, 'registers[2].width', /is not 1, 2 or 4/);
    refused({ registers: { offset: 0x60 } }, 'registers', /must be an array/);
    refused({ registers: [reg(0x60, 1), null] }, 'registers[1]', /must be \{ offset, width, value, writable \}/);
    refused({ registers: [5] }, 'registers[0]', /must be/);
  });

  it('in a topology the error names the device and the field; JSON "0x.." strings are numbers there', async () => {
    const text = JSON.stringify({
      devices: [
        { bdf: '00:00.0', model: 'host-bridge' },
        { bdf: '00:02.0', descriptor: { ...BASE, registers: [{ offset: '0x60', width: 1 }, { offset: '0x64', width: 4 }, { offset: '0x66', width: 2 }] } },
      ],
    });
    let error: unknown;
    try {
      await resolveTopology(text, { source: 't.json' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as TopologyError).path).toBe('devices[1].descriptor.registers[2].offset');
    expect((error as TopologyError).message).toBe('t.json: devices[1].descriptor.registers[2].offset: 0x66..0x67 overlaps a capability or another register');
    const good = await resolveTopology(JSON.stringify({
      devices: [{ bdf: '00:02.0', descriptor: { ...BASE, registers: [{ offset: '0x60', width: 2, value: '0xbeef', writable: '0xff00' }] } }],
    }));
    expect(good.functions[0].planes.config[0x60]).toBe(0xef);
    expect(good.functions[0].planes.wmask[0x61]).toBe(0xff);
  });
});

const REGISTERS: DeviceRegister[] = [
  reg(0x40, 1, 0x5a, 0xf0),
  reg(0x42, 2, 0x1234, 0x0ff0),
  reg(0x44, 4, 0xdeadbeef, 0xffff0000),
  reg(0x60, 4, 0x80808080, 0xffffffff),
  reg(0xfc, 4, 0x01020304, 0),
  reg(0xf8, 2, 0xffff, 0x8001),
];

describe.each(BACKENDS)('descriptor registers on a bus (%s)', (backend) => {
  const topology = { devices: [{ bdf: '00:02.0', descriptor: { ...BASE, registers: REGISTERS } }] };

  it('hold their power-on values; unused bytes of 0x40-0xFF read 0', async () => {
    const bus = await makeBus(backend, topology);
    for (const r of REGISTERS) expect(bus.configRead('00:02.0', r.offset, r.width), `0x${r.offset.toString(16)}`).toBe(r.value);
    expect(bus.configRead('00:02.0', 0x41, 1)).toBe(0);
    expect(bus.configRead('00:02.0', 0x80, 4)).toBe(0);
    expect(bus.configRead('00:02.0', 0x34, 1), 'no capability list').toBe(0);
    expect(bus.configRead('00:02.0', 0x06, 2) & 0x10, 'Status: no Capabilities List bit').toBe(0);
  });

  it('exactly the writable bits take writes of ones and zeros, at the register\'s width', async () => {
    const bus = await makeBus(backend, topology);
    for (const r of REGISTERS) {
      for (const v of [onesOf(r.width), 0]) {
        const before = bus.configRead('00:02.0', r.offset, r.width);
        bus.configWrite('00:02.0', r.offset, r.width, v);
        expect(bus.configRead('00:02.0', r.offset, r.width), `0x${r.offset.toString(16)} <- 0x${v.toString(16)}`).toBe(merge(before, v, r.writable!, 0));
      }
    }
  });

  it('byte writes inside a wider register, and dword writes across several, follow the same masks', async () => {
    const bus = await makeBus(backend, topology);
    bus.configWrite('00:02.0', 0x47, 1, 0x11);
    bus.configWrite('00:02.0', 0x44, 1, 0x00);
    expect(bus.configRead('00:02.0', 0x44, 4), 'low half read-only, high half writable').toBe(0x11adbeef);
    // One dword over the byte register at 0x40, the unused 0x41 and the word at 0x42.
    bus.configWrite('00:02.0', 0x40, 4, 0xffffffff);
    // 0x40: (0x5a & ~0xf0) | 0xf0; 0x41: unused; 0x42: (0x1234 & ~0x0ff0) | 0x0ff0.
    expect(bus.configRead('00:02.0', 0x40, 4)).toBe(0x1ff400fa);
    bus.configWrite('00:02.0', 0x61, 2, 0x0b0a);
    expect(bus.configRead('00:02.0', 0x60, 4)).toBe(0x800b0a80);
  });

  it('the rest of 0x40-0xFF stays read-only zero', async () => {
    const bus = await makeBus(backend, topology);
    const taken = new Set<number>();
    for (const r of REGISTERS) for (let b = 0; b < r.width; b++) taken.add(r.offset + b);
    for (let off = 0x40; off < 0x100; off++) {
      if (taken.has(off)) continue;
      bus.configWrite('00:02.0', off, 1, 0xff);
      expect(bus.configRead('00:02.0', off, 1), `0x${off.toString(16)}`).toBe(0);
    }
  });

  it('registers sit beside capabilities: both work, the capability list is intact', async () => {
    const bus = await makeBus(backend, {
      devices: [{ bdf: '00:02.0', descriptor: { ...BASE, capabilities: [{ id: 'pm' }], registers: [reg(0x48, 4, 0, 0xffffffff), reg(0x4c, 1, 7, 0)] } }],
    });
    expect(bus.configRead('00:02.0', 0x34, 1)).toBe(0x40);
    expect(bus.configRead('00:02.0', 0x40, 1)).toBe(0x01);
    expect(bus.configRead('00:02.0', 0x41, 1), 'PM is the last capability').toBe(0);
    bus.configWrite('00:02.0', 0x48, 4, 0xcafef00d);
    expect(bus.configRead('00:02.0', 0x48, 4)).toBe(0xcafef00d);
    expect(bus.configRead('00:02.0', 0x4c, 1)).toBe(7);
    expect(bus.configRead('00:02.0', 0x41, 1)).toBe(0);
  });
});
