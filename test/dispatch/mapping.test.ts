// Conformance: BAR mappings follow the guest. Decode bits in Command (bit 0 for IO BARs, bit 1
// for memory BARs and the ROM), the ROM enable bit, BAR moves, 64-bit BARs written in halves
// (both orders, sizing probes, Command writes in between), invalid addresses, and the effects
// reported for each change (exactly once, none when nothing changes).
import { describe, expect, test } from 'vitest';
import { BACKENDS, cf8, ecam } from '../helpers/vpci.js';
import {
  BIG, BRIDGE, CMD_IO, CMD_MEM, EP, LATE, TOPOLOGY, barRegionStats, canon, effect, makeDBus, mappedBarKeys, normEffects,
  whereMapped,
} from './helpers.js';
import type { DBus } from './helpers.js';

const A = 0xc0000000;
const B = 0xd0000000;

async function fresh(backend: 'wasm' | 'ts'): Promise<DBus> {
  const bus = await makeDBus(backend, TOPOLOGY);
  bus.effects();
  return bus;
}

describe.each(BACKENDS)('BAR mappings follow Command, BAR and ROM registers (%s backend)', (backend) => {
  test('nothing of the conformance topology is mapped at load (Command 0): no BAR regions, no effects', async () => {
    const bus = await makeDBus(backend, TOPOLOGY);
    expect(mappedBarKeys(bus)).toEqual([]);
    expect(bus.effects()).toEqual([]);
  });

  test('a memory BAR is mapped only while Command bit 1 is set', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    expect(bus.effects(), 'moving an undecoded BAR').toEqual([]);
    expect(whereMapped(bus, EP, 1)).toBeNull();
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);

    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', null, BigInt(A), 0x1000n)]);
    expect(whereMapped(bus, EP, 1)).toBe(BigInt(A));
    expect(bus.mmioRead(A, 4), 'unbacked BAR reads 0').toBe(0);
    expect(bus.mmioRead(A + 0xfff, 1)).toBe(0);
    expect(bus.mmioRead(A + 0x1000, 4), 'one past the BAR').toBe(0xffffffff);

    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', BigInt(A), null, 0x1000n)]);
    expect(whereMapped(bus, EP, 1)).toBeNull();
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);

    bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM | 0x4);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', null, BigInt(A), 0x1000n)]);
    bus.configWrite(EP, 0x04, 1, 0);
    expect(normEffects(bus.effects()), 'a byte write to Command').toEqual([effect(EP, 1, 'mem32', BigInt(A), null, 0x1000n)]);
  });

  test('an IO BAR is mapped only while Command bit 0 is set', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    expect(bus.effects()).toEqual([]);
    expect(bus.ioRead(0xc000, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(bus.effects(), 'the memory bit does not map IO BARs').toEqual([]);
    expect(bus.ioRead(0xc000, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 0, 'io', null, 0xc000n, 0x100n)]);
    expect(bus.ioRead(0xc000, 4)).toBe(0);
    expect(bus.ioRead(0xc0ff, 1)).toBe(0);
    expect(bus.ioRead(0xc100, 1)).toBe(0xff);
    expect(bus.ioRead(0xbfff, 1)).toBe(0xff);
    bus.configWrite(EP, 0x04, 2, 0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 0, 'io', 0xc000n, null, 0x100n)]);
    expect(bus.ioRead(0xc000, 4)).toBe(0xffffffff);
  });

  test('the IO bit does not map memory BARs or the ROM', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x30, 4, B | 1);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(bus.effects()).toEqual([]);
    expect(mappedBarKeys(bus)).toEqual([]);
  });

  test('the ROM needs Command bit 1 and its enable bit; moving and disabling it follow at once', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.configWrite(EP, 0x30, 4, B);
    expect(bus.effects(), 'enable bit clear').toEqual([]);
    expect(whereMapped(bus, EP, 6)).toBeNull();
    bus.configWrite(EP, 0x30, 4, B | 1);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 6, 'rom', null, BigInt(B), 0x10000n)]);
    expect(bus.mmioRead(B + 0xfffc, 4)).toBe(0);
    expect(bus.mmioRead(B + 0x10000, 4)).toBe(0xffffffff);
    // Address bits below the ROM size are not writable: 0xd0012345 | 1 reads 0xd0010001.
    bus.configWrite(EP, 0x30, 4, 0xd0012345 | 1);
    expect(bus.configRead(EP, 0x30, 4)).toBe(0xd0010001);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 6, 'rom', BigInt(B), 0xd0010000n, 0x10000n)]);
    bus.configWrite(EP, 0x30, 1, 0x00);
    expect(normEffects(bus.effects()), 'clearing the enable bit with a byte write').toEqual([effect(EP, 6, 'rom', 0xd0010000n, null, 0x10000n)]);
    bus.configWrite(EP, 0x30, 1, 0x01);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 6, 'rom', null, 0xd0010000n, 0x10000n)]);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 6, 'rom', 0xd0010000n, null, 0x10000n)]);
  });

  test('moving a decoded 32-bit BAR remaps it at once and reports one effect old -> new', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x14, 4, B);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', BigInt(A), BigInt(B), 0x1000n)]);
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(B, 4)).toBe(0);
    // A byte write to the top byte moves it too.
    bus.configWrite(EP, 0x17, 1, 0xe0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', BigInt(B), 0xe0000000n, 0x1000n)]);
    // Address bits below the size are read-only: 0xe0000abc reads back 0xe0000000: nothing changes.
    bus.configWrite(EP, 0x14, 4, 0xe0000abc);
    expect(bus.effects()).toEqual([]);
  });

  test('moving a decoded IO BAR remaps it at once', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x04, 2, CMD_IO);
    bus.effects();
    bus.configWrite(EP, 0x10, 4, 0xd100);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 0, 'io', 0xc000n, 0xd100n, 0x100n)]);
    expect(bus.ioRead(0xc000, 1)).toBe(0xff);
    expect(bus.ioRead(0xd1ff, 1)).toBe(0);
  });

  test('a 64-bit BAR written low half then high half: unmapped in between, mapped where both halves say', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const old = 0x1_c0000000n;
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', null, old, 0x4000n)]);
    bus.configWrite(EP, 0x18, 4, B);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', old, null, 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    expect(bus.mmioRead(0x1_c0000000, 4), 'old address').toBe(0xffffffff);
    expect(bus.mmioRead(0x1_d0000000, 4), 'half-written address').toBe(0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0x2);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', null, 0x2_d0000000n, 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBe(0x2_d0000000n);
    expect(bus.mmioRead(0x2_d0000000, 8)).toBe(0n);
  });

  test('a 64-bit BAR written high half then low half: the same', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x1c, 4, 0x3);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x1_c0000000n, null, 0x4000n)]);
    expect(bus.mmioRead(0x3_c0000000, 4), 'half-written address').toBe(0xffffffff);
    bus.configWrite(EP, 0x18, 4, B);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', null, 0x3_d0000000n, 0x4000n)]);
    expect(bus.mmioRead(0x3_d0000000, 4)).toBe(0);
  });

  test('writing the same half twice keeps the BAR unmapped until the other half is written', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, B);
    bus.configWrite(EP, 0x18, 4, 0xe0000000);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', BigInt(A), null, 0x4000n)]);
    expect(bus.mmioRead(0xe0000000, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(normEffects(bus.effects()), 'high half rewritten with its value completes the pair').toEqual([effect(EP, 2, 'mem64', null, 0xe0000000n, 0x4000n)]);
  });

  test('sizing probe of both halves then restore of both, decode on: mapped at the original address again', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x5);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    const orig = 0x5_c0000000n;
    const lo = bus.configRead(EP, 0x18, 4);
    const hi = bus.configRead(EP, 0x1c, 4);
    bus.configWrite(EP, 0x18, 4, 0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0xffffffff);
    expect(bus.configRead(EP, 0x18, 4)).toBe(0xffffc004);
    expect(bus.configRead(EP, 0x1c, 4)).toBe(0xffffffff);
    expect(whereMapped(bus, EP, 2), 'during the probe').toBeNull();
    bus.configWrite(EP, 0x18, 4, lo);
    bus.configWrite(EP, 0x1c, 4, hi);
    expect(whereMapped(bus, EP, 2)).toBe(orig);
    expect(bus.mmioRead(orig, 4)).toBe(0);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', orig, null, 0x4000n),
      effect(EP, 2, 'mem64', null, orig, 0x4000n),
    ]);
  });

  test('sizing probe of one half at a time (probe low, restore low, probe high, restore high): mapped at the original address', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x5);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    const orig = 0x5_c0000000n;
    for (const reg of [0x18, 0x1c]) {
      const v = bus.configRead(EP, reg, 4);
      bus.configWrite(EP, reg, 4, 0xffffffff);
      expect(whereMapped(bus, EP, 2), `probing ${reg.toString(16)}`).toBeNull();
      bus.configWrite(EP, reg, 4, v);
      expect(whereMapped(bus, EP, 2), `restored ${reg.toString(16)}`).toBe(orig);
    }
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', orig, null, 0x4000n), effect(EP, 2, 'mem64', null, orig, 0x4000n),
      effect(EP, 2, 'mem64', orig, null, 0x4000n), effect(EP, 2, 'mem64', null, orig, 0x4000n),
    ]);
  });

  test('a write that leaves a 64-bit half unchanged keeps the mapping and reports nothing', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0);
    bus.configWrite(EP, 0x18, 1, 0x00);
    bus.configWrite(EP, 0x18, 4, A | 0x3ff0); // bits below the 16 KiB size are read-only
    expect(bus.effects()).toEqual([]);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(A));
  });

  test('a Command write applies the current registers to a half-written 64-bit BAR and clears the pending half', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, B);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', BigInt(A), null, 0x4000n),
      effect(EP, 2, 'mem64', null, BigInt(B), 0x4000n),
    ]);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(B));
    // Pending was cleared: a later high-half write that changes the address unmaps again.
    bus.configWrite(EP, 0x1c, 4, 1);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(whereMapped(bus, EP, 2), 'the high half back at the committed address').toBe(BigInt(B));
  });

  test('a half-written 64-bit BAR stays unmapped across a write to another BAR of the function', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.configWrite(EP, 0x18, 4, B);
    bus.configWrite(EP, 0x14, 4, 0xe0000000);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    expect(whereMapped(bus, EP, 1)).toBe(0xe0000000n);
  });

  test('the whole 64-bit BAR above 4 GiB and up to the 2^52 limit; huge BARs', async () => {
    const bus = await fresh(backend);
    const size = 2n ** 33n;
    // BAR0-1 of 00:06.0: mem64 prefetchable 8 GiB; the low dword holds no address bits.
    bus.configWrite(BIG, 0x04, 2, CMD_MEM);
    // High half first: the low dword has no address bits, so writing it never changes the target;
    // it completes the pair the high-half write left pending.
    const put = (addr: bigint) => {
      bus.configWrite(BIG, 0x14, 4, Number(addr >> 32n));
      bus.configWrite(BIG, 0x10, 4, Number(addr & 0xffffffffn));
    };
    put(2n ** 52n - size);
    expect(whereMapped(bus, BIG, 0), 'ends exactly at 2^52').toBe(2n ** 52n - size);
    expect(bus.mmioRead(2 ** 52 - 8, 8)).toBe(0n);
    put(2n ** 52n);
    expect(whereMapped(bus, BIG, 0), 'at 2^52').toBeNull();
    put(2n ** 40n);
    expect(whereMapped(bus, BIG, 0)).toBe(2n ** 40n);
    put(0xffffffffn << 32n);
    expect(whereMapped(bus, BIG, 0), 'high half all ones').toBeNull();
    put(0n);
    expect(whereMapped(bus, BIG, 0), 'address 0').toBeNull();
    expect(normEffects(bus.effects())).toEqual([
      effect(BIG, 0, 'mem64', null, 2n ** 52n - size, size),
      effect(BIG, 0, 'mem64', 2n ** 52n - size, null, size),
      effect(BIG, 0, 'mem64', null, 2n ** 40n, size),
      effect(BIG, 0, 'mem64', 2n ** 40n, null, size),
    ]);
  });

  test('changing only the high half of a decoded 64-bit BAR leaves it unmapped until the low half or Command is written', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, A); // low half unchanged: nothing pending
    bus.configWrite(EP, 0x1c, 4, 2); // high half changed: pending
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.configWrite(EP, 0x18, 4, A); // the other half, rewritten with its value, completes the pair
    expect(whereMapped(bus, EP, 2)).toBe(0x2_c0000000n);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', 0x1_c0000000n, null, 0x4000n),
      effect(EP, 2, 'mem64', null, 0x2_c0000000n, 0x4000n),
    ]);
  });

  test('invalid addresses are never mapped: 0, IO past 0xFFFF; valid edges are', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM);
    // mem32 4 KiB: the top page of 4 GiB is valid, 0 is not.
    bus.configWrite(EP, 0x14, 4, 0xfffff000);
    expect(whereMapped(bus, EP, 1)).toBe(0xfffff000n);
    expect(bus.mmioRead(0xfffffffc, 4)).toBe(0);
    bus.configWrite(EP, 0x14, 4, 0);
    expect(whereMapped(bus, EP, 1)).toBeNull();
    // IO 256 B: 0xff00 is the last valid place; 0x10000 and 0xffffff00 are past the space.
    bus.configWrite(EP, 0x10, 4, 0xff00);
    expect(whereMapped(bus, EP, 0)).toBe(0xff00n);
    expect(bus.ioRead(0xffff, 1)).toBe(0);
    bus.configWrite(EP, 0x10, 4, 0x10000);
    expect(whereMapped(bus, EP, 0), 'IO at 0x10000').toBeNull();
    bus.configWrite(EP, 0x10, 4, 0xffffff00);
    expect(whereMapped(bus, EP, 0), 'IO at 0xffffff00').toBeNull();
    expect(bus.ioRead(0xff00, 1)).toBe(0xff);
    bus.configWrite(EP, 0x10, 4, 0);
    expect(whereMapped(bus, EP, 0), 'IO at 0').toBeNull();
    // ROM: 0 with the enable bit is not mapped; the top 64 KiB of 4 GiB is.
    bus.configWrite(EP, 0x30, 4, 1);
    expect(whereMapped(bus, EP, 6)).toBeNull();
    bus.configWrite(EP, 0x30, 4, 0xffff0001);
    expect(whereMapped(bus, EP, 6)).toBe(0xffff0000n);
    // 64-bit 16 KiB: the sizing value (all ones) is past 2^52.
    bus.configWrite(EP, 0x18, 4, 0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.configWrite(EP, 0x1c, 4, 0x000fffff);
    expect(whereMapped(bus, EP, 2), 'pending: only the high half written').toBeNull();
    bus.configWrite(EP, 0x18, 4, 0xffffc000);
    expect(whereMapped(bus, EP, 2), 'the last 16 KiB below 2^52').toBe(2n ** 52n - 0x4000n);
  });

  test('a Command write maps every BAR and the ROM of the function at once, one effect each in BAR order', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x10, 4, 0xc000);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x18, 4, 0);
    bus.configWrite(EP, 0x1c, 4, 0x10);
    bus.configWrite(EP, 0x20, 4, B);
    bus.configWrite(EP, 0x24, 4, 0xc100);
    bus.configWrite(EP, 0x30, 4, 0xe0000001);
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x04, 4, CMD_IO | CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 0, 'io', null, 0xc000n, 0x100n),
      effect(EP, 1, 'mem32', null, BigInt(A), 0x1000n),
      effect(EP, 2, 'mem64', null, 0x10_00000000n, 0x4000n),
      effect(EP, 4, 'mem32', null, BigInt(B), 0x10000n),
      effect(EP, 5, 'io', null, 0xc100n, 0x20n),
      effect(EP, 6, 'rom', null, 0xe0000000n, 0x10000n),
    ]);
    expect(mappedBarKeys(bus)).toEqual([
      `${canon(EP)}#0@0xc000`, `${canon(EP)}#1@0xc0000000`, `${canon(EP)}#2@0x1000000000`,
      `${canon(EP)}#4@0xd0000000`, `${canon(EP)}#5@0xc100`, `${canon(EP)}#6@0xe0000000`,
    ].sort());
    // Other functions are untouched.
    expect(whereMapped(bus, LATE, 0)).toBeNull();
  });

  test('no effect when nothing changes', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x04, 2, CMD_MEM | 0x4); // bus master: no decode change
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.configWrite(EP, 0x14, 4, A); // same address
    bus.configWrite(EP, 0x0c, 1, 0x10); // cache line size
    bus.configWrite(EP, 0x3c, 1, 0x0b); // interrupt line
    bus.configWrite(EP, 0x06, 2, 0xffff); // Status (RW1C): not Command
    bus.configWrite(EP, 0x10, 4, 0xc000); // IO BAR moved while IO decode is off
    bus.configWrite(EP, 0x30, 4, B); // ROM moved, enable bit clear
    bus.configWrite(EP, 0x16, 4, 0xd0000000); // dword-crossing: dropped
    bus.configWrite('00:1f.0', 0x04, 2, CMD_MEM); // absent function
    bus.mmioRead(A, 4);
    bus.mmioWrite(A, 4, 1);
    expect(bus.effects()).toEqual([]);
    expect(whereMapped(bus, EP, 1)).toBe(BigInt(A));
  });

  test('effects drain: a second call returns nothing new', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(bus.effects()).toHaveLength(1);
    expect(bus.effects()).toEqual([]);
  });

  test('the effect queue keeps the first 1024 and counts the rest in droppedEffects', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x14, 4, A);
    for (let i = 0; i < 550; i++) {
      bus.configWrite(EP, 0x04, 2, CMD_MEM);
      bus.configWrite(EP, 0x04, 2, 0);
    }
    const list = normEffects(bus.effects());
    expect(list).toHaveLength(1024);
    expect(list[0]).toEqual(effect(EP, 1, 'mem32', null, BigInt(A), 0x1000n));
    expect(list[1]).toEqual(effect(EP, 1, 'mem32', BigInt(A), null, 0x1000n));
    expect(list[1023]).toEqual(effect(EP, 1, 'mem32', BigInt(A), null, 0x1000n));
    expect(bus.stats().droppedEffects).toBe(1100 - 1024);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(bus.effects(), 'room again after draining').toHaveLength(1);
  });

  test('writes through ECAM and through 0xCF8/0xCFC move BARs like configWrite', async () => {
    const bus = await fresh(backend);
    bus.mmioWrite(ecam(0, 1, 0, 0x14), 4, A);
    bus.mmioWrite(ecam(0, 1, 0, 0x04), 2, CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', null, BigInt(A), 0x1000n)]);
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x14));
    bus.ioWrite(0xcfc, 4, B);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', BigInt(A), BigInt(B), 0x1000n)]);
    bus.ioWrite(0xcf8, 4, cf8(0, 1, 0, 0x04));
    bus.ioWrite(0xcfc, 2, 0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 1, 'mem32', BigInt(B), null, 0x1000n)]);
  });

  test('an 8-byte ECAM write of a 64-bit BAR is two dword writes, low first: the BAR ends mapped at the new address', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0x7_d0000000n);
    expect(bus.configRead(EP, 0x18, 4)).toBe(0xd0000004);
    expect(bus.configRead(EP, 0x1c, 4)).toBe(7);
    expect(whereMapped(bus, EP, 2)).toBe(0x7_d0000000n);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', BigInt(A), null, 0x4000n),
      effect(EP, 2, 'mem64', null, 0x7_d0000000n, 0x4000n),
    ]);
  });

  test('a type 1 bridge: BARs 0-1 and the ROM at 0x38 follow its Command register', async () => {
    const bus = await fresh(backend);
    bus.configWrite(BRIDGE, 0x10, 4, A);
    bus.configWrite(BRIDGE, 0x14, 4, 0xe000);
    bus.configWrite(BRIDGE, 0x38, 4, B | 1);
    bus.configWrite(BRIDGE, 0x04, 2, CMD_IO | CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([
      effect(BRIDGE, 0, 'mem32', null, BigInt(A), 0x1000n),
      effect(BRIDGE, 1, 'io', null, 0xe000n, 0x10n),
      effect(BRIDGE, 6, 'rom', null, BigInt(B), 0x8000n),
    ]);
    bus.configWrite(BRIDGE, 0x30, 4, 0xe0000001); // 0x30 is not the ROM on a type 1 header
    expect(bus.effects()).toEqual([]);
    expect(bus.ioRead(0xe00f, 1)).toBe(0);
  });

  test('every implemented BAR has a region in stats() from the start, unmapped ones with base null', async () => {
    const bus = await fresh(backend);
    const st = bus.stats();
    const bars = st.regions.filter((r) => r.bdf !== undefined && r.bar !== undefined);
    const keys = bars.map((r) => `${canon(r.bdf!)}#${r.bar}`);
    expect(keys).toEqual([
      `${canon(EP)}#0`, `${canon(EP)}#1`, `${canon(EP)}#2`, `${canon(EP)}#4`, `${canon(EP)}#5`, `${canon(EP)}#6`,
      `${canon('00:05.0')}#0`, `${canon('00:05.0')}#1`,
      `${canon(LATE)}#0`, `${canon(LATE)}#1`, `${canon(LATE)}#2`, `${canon(LATE)}#6`,
      `${canon(BRIDGE)}#0`, `${canon(BRIDGE)}#1`, `${canon(BRIDGE)}#6`,
      `${canon(BIG)}#0`,
    ]);
    const ids = bars.map((r) => r.id);
    expect(ids, 'ids in topology order').toEqual([...ids].sort((a, b) => a - b));
    expect(bars.every((r) => r.base === null)).toBe(true);
    expect(bars.map((r) => r.size)).toEqual([0x100n, 0x1000n, 0x4000n, 0x10000n, 0x20n, 0x10000n, 0x1000n, 0x100n, 0x1000n, 0x100n, 0x100000n, 0x800n, 0x1000n, 0x10n, 0x8000n, 2n ** 33n]);
    expect(barRegionStats(bus, EP, 6).id).toBeGreaterThan(barRegionStats(bus, EP, 5).id);
  });
});
