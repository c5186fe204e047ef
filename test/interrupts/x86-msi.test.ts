// decodeX86Msi against the Intel SDM vol. 3 §11.11 layout (table-driven, then every field through
// an independent bit model), and RecordingSink's bookkeeping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordingSink, decodeX86Msi, encodeX86Msi } from '../../src/interrupts/index.js';
import type { X86Msi } from '../../src/interrupts/index.js';

describe('decodeX86Msi', () => {
  const cases: [string, bigint, number, Partial<X86Msi>][] = [
    ['fixed, edge, physical to APIC 0', 0xfee00000n, 0x0030, {
      valid: true, destination: 0, vector: 0x30, deliveryMode: 'fixed', trigger: 'edge', level: 'deassert',
      destinationMode: 'physical', redirectionHint: false, extendedDestination: 0,
    }],
    ['destination ID is address bits 19:12', 0xfee3f000n, 0x41, { valid: true, destination: 0x3f, vector: 0x41 }],
    ['destination 0xff (broadcast in physical mode)', 0xfeeff000n, 0x20, { destination: 0xff }],
    ['RH is bit 3, DM bit 2', 0xfee0100cn, 0x20, { redirectionHint: true, destinationMode: 'logical', destination: 1 }],
    ['DM alone', 0xfee00004n, 0x20, { redirectionHint: false, destinationMode: 'logical' }],
    ['lowest priority (001)', 0xfee00000n, 0x0120, { deliveryMode: 'lowest-priority', vector: 0x20 }],
    ['SMI (010)', 0xfee00000n, 0x0200, { deliveryMode: 'smi', vector: 0 }],
    ['011 is reserved', 0xfee00000n, 0x0300, { deliveryMode: 'reserved' }],
    ['NMI (100)', 0xfee00000n, 0x0400, { deliveryMode: 'nmi' }],
    ['INIT (101)', 0xfee00000n, 0x0500, { deliveryMode: 'init' }],
    ['110 is reserved', 0xfee00000n, 0x0600, { deliveryMode: 'reserved' }],
    ['ExtINT (111)', 0xfee00000n, 0x0700, { deliveryMode: 'extint' }],
    ['level bit 14: assert', 0xfee00000n, 0x4020, { level: 'assert', trigger: 'edge' }],
    ['trigger bit 15: level, asserting', 0xfee00000n, 0xc020, { level: 'assert', trigger: 'level' }],
    ['level-triggered deassert', 0xfee00000n, 0x8020, { level: 'deassert', trigger: 'level' }],
    ['data bits 31:16 and 13:11 are reserved: ignored', 0xfee00000n, 0xffff3820, { vector: 0x20, deliveryMode: 'fixed', trigger: 'edge', level: 'deassert' }],
    ['vector 0xff', 0xfee00000n, 0xff, { vector: 0xff }],
    ['extended destination: address bits 11:5', 0xfee00fe0n, 0x20, { extendedDestination: 0x7f, destination: 0, redirectionHint: false, destinationMode: 'physical' }],
    ['bit 4 is not part of the extended destination', 0xfee00010n, 0x20, { extendedDestination: 0 }],
    ['extended destination 1 = APIC ID 0x100 with destination 0', 0xfee00020n, 0x20, { extendedDestination: 1, destination: 0 }],
    ['outside the window: not valid', 0xfed00000n, 0x20, { valid: false, vector: 0x20 }],
    ['0xFEF00000: not valid', 0xfef00000n, 0x20, { valid: false }],
    ['0xFEE window above 4 GiB: not valid', 0x1_fee00000n, 0x20, { valid: false, destination: 0 }],
    ['an ordinary RAM address: not valid', 0x1000n, 0x20, { valid: false }],
    ['last byte of the window', 0xfeefffffn, 0x20, { valid: true, destination: 0xff }],
  ];
  it.each(cases)('%s', (_, address, data, want) => {
    expect(decodeX86Msi(address, data)).toMatchObject(want);
  });

  it('every field is the bits the SDM names, for any address and data', () => {
    const modes = ['fixed', 'lowest-priority', 'smi', 'reserved', 'nmi', 'init', 'reserved', 'extint'];
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 0xffffffff }), (address, data) => {
      const bit = (v: bigint, n: number) => (v >> BigInt(n)) & 1n;
      const bits = (v: bigint, hi: number, lo: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
      const d = BigInt(data);
      expect(decodeX86Msi(address, data)).toEqual({
        valid: bits(address, 63, 20) === 0xfee,
        destination: bits(address, 19, 12),
        extendedDestination: bits(address, 11, 5),
        vector: bits(d, 7, 0),
        deliveryMode: modes[bits(d, 10, 8)],
        trigger: bit(d, 15) ? 'level' : 'edge',
        level: bit(d, 14) ? 'assert' : 'deassert',
        destinationMode: bit(address, 2) ? 'logical' : 'physical',
        redirectionHint: bit(address, 3) === 1n,
      });
    }));
  });

  it('encodeX86Msi builds what decodeX86Msi reads back', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('fixed', 'lowest-priority', 'smi', 'nmi', 'init', 'extint' as const),
      fc.constantFrom('edge', 'level' as const), fc.constantFrom('assert', 'deassert' as const),
      fc.constantFrom('physical', 'logical' as const), fc.boolean(),
      (destination, vector, deliveryMode, trigger, level, destinationMode, redirectionHint) => {
        const m = encodeX86Msi({ destination, vector, deliveryMode, trigger, level, destinationMode, redirectionHint });
        expect(decodeX86Msi(BigInt(m.address), m.data)).toEqual({
          valid: true, destination, extendedDestination: 0, vector, deliveryMode, trigger, level, destinationMode, redirectionHint,
        });
      }));
  });
});

describe('RecordingSink', () => {
  it('records lines and messages in arrival order, with x86 decodings', () => {
    const s = new RecordingSink();
    s.line(10, true);
    s.message(0xfee01000n, 0x4031, '0000:00:01.0');
    s.line(10, false);
    s.message(0x8000_0000n, 7, '0000:00:02.0');
    expect(s.events).toEqual([
      { kind: 'line', gsi: 10, level: true },
      { kind: 'message', bdf: '0000:00:01.0', address: 0xfee01000n, data: 0x4031, x86: decodeX86Msi(0xfee01000n, 0x4031) },
      { kind: 'line', gsi: 10, level: false },
      { kind: 'message', bdf: '0000:00:02.0', address: 0x80000000n, data: 7 },
    ]);
  });

  it('counts assertions per GSI and keeps each line\'s level', () => {
    const s = new RecordingSink();
    s.line(10, true);
    s.line(10, false);
    s.line(10, true);
    s.line(11, true);
    s.line(11, false);
    s.line(5, false);
    expect([s.assertions(10), s.assertions(11), s.assertions(5), s.assertions(99)]).toEqual([2, 1, 0, 0]);
    expect([s.level(10), s.level(11), s.level(5), s.level(99)]).toEqual([true, false, false, false]);
    expect(s.assertedLines()).toEqual([10]);
  });

  it('counts x86 messages per (function, vector); others separately', () => {
    const s = new RecordingSink();
    s.message(0xfee00000n, 0x31, 'a');
    s.message(0xfee02000n, 0x4031, 'a');
    s.message(0xfee00000n, 0x32, 'a');
    s.message(0xfee00000n, 0x31, 'b');
    s.message(0x1_fee00000n, 0x31, 'a');
    expect([s.messages('a', 0x31), s.messages('a', 0x32), s.messages('b', 0x31), s.messages('b', 0x32)]).toEqual([2, 1, 1, 0]);
    expect(s.otherMessages()).toBe(1);
  });

  it('reset forgets events, counts and levels', () => {
    const s = new RecordingSink();
    s.line(3, true);
    s.message(0xfee00000n, 0x31, 'a');
    s.message(0x10n, 0, 'a');
    s.reset();
    expect(s.events).toEqual([]);
    expect([s.assertions(3), s.level(3), s.messages('a', 0x31), s.otherMessages()]).toEqual([0, false, 0, 0]);
    s.line(3, true);
    expect(s.assertions(3)).toBe(1);
  });
});
