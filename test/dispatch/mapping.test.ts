// Conformance: BAR mappings follow the guest. Decode bits in Command (bit 0 for IO BARs, bit 1
// for memory BARs and the ROM), the ROM enable bit, BAR moves, 64-bit BARs written in halves
// (the lower dword staged, the upper dword moving the BAR; both orders, sizing probes, Command
// and Status writes in between), invalid addresses, and the effects reported for each change
// (exactly once, none when nothing changes).
import { describe, expect, test } from 'vitest';
import { BACKENDS, cf8, ecam } from '../helpers/vpci.js';
import {
  BIG, BRIDGE, CMD_IO, CMD_MEM, EP, LATE, TOPOLOGY, barRegionStats, canon, effect, makeDBus, mappedBarKeys, normEffects,
  sameBdf, whereMapped,
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

  test('a function loaded with decode on (the Firecracker virtio-blk template: Command 0x0406) is mapped at load', async () => {
    const bus = await makeDBus(backend);
    expect(bus.configRead('00:02.0', 0x04, 2)).toBe(0x0406);
    expect(whereMapped(bus, '00:02.0', 0)).toBe(0x40_00080000n);
    expect(bus.mmioRead(0x40_00080000, 4), 'unbacked BAR').toBe(0);
    // The same guest rules apply from there: clearing the memory bit unmaps it.
    bus.effects();
    bus.configWrite('00:02.0', 0x04, 2, 0x0404);
    expect(normEffects(bus.effects())).toEqual([effect('00:02.0', 0, 'mem64', 0x40_00080000n, null, 0x80000n)]);
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

  test('a 64-bit BAR written low half then high half: the low half is staged (still mapped at the old address, no effect), the high half moves it once', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    const old = 0x1_c0000000n;
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', null, old, 0x4000n)]);
    bus.configWrite(EP, 0x18, 4, B);
    expect(bus.configRead(EP, 0x18, 4), 'the register holds the new low dword').toBe(0xd0000004);
    expect(bus.effects(), 'staged: no effect').toEqual([]);
    expect(whereMapped(bus, EP, 2), 'staged: still at the old address').toBe(old);
    expect(bus.mmioRead(0x1_c0000000, 4), 'old address still decodes (unbacked BAR)').toBe(0);
    expect(bus.mmioRead(0x1_d0000000, 4), 'half-written address').toBe(0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0x2);
    expect(normEffects(bus.effects()), 'exactly one move, old -> new').toEqual([effect(EP, 2, 'mem64', old, 0x2_d0000000n, 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBe(0x2_d0000000n);
    expect(bus.mmioRead(0x2_d0000000, 8)).toBe(0n);
    expect(bus.mmioRead(0x1_c0000000, 4), 'old address released').toBe(0xffffffff);
    expect(bus.mmioRead(0x1_d0000000, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(0x2_c0000000, 4), 'never at new high + old low').toBe(0xffffffff);
  });

  test('a 64-bit BAR written high half first: moves at once with the current low dword; the following low write is staged until the next upper or Command write', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x1c, 4, 0x3);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x1_c0000000n, 0x3_c0000000n, 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBe(0x3_c0000000n);
    expect(bus.mmioRead(0x3_c0000000, 4), 'new high half + current low half').toBe(0);
    expect(bus.mmioRead(0x1_c0000000, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x18, 4, B);
    expect(bus.effects(), 'the low write is staged').toEqual([]);
    expect(whereMapped(bus, EP, 2)).toBe(0x3_c0000000n);
    expect(bus.mmioRead(0x3_d0000000, 4)).toBe(0xffffffff);
    // A Command write (bytes 4-5) applies the staged low half.
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x3_c0000000n, 0x3_d0000000n, 0x4000n)]);
    expect(bus.mmioRead(0x3_d0000000, 4)).toBe(0);
    expect(bus.mmioRead(0x3_c0000000, 4)).toBe(0xffffffff);
  });

  test('writing the low half twice stages only the registers: the BAR stays put until an upper write (even of an unchanged value) moves it', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, B);
    bus.configWrite(EP, 0x18, 4, 0xe0000000);
    expect(bus.effects()).toEqual([]);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(A));
    expect(bus.mmioRead(A, 4)).toBe(0);
    expect(bus.mmioRead(B, 4)).toBe(0xffffffff);
    expect(bus.mmioRead(0xe0000000, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(normEffects(bus.effects()), 'the upper write applies the last low value').toEqual([effect(EP, 2, 'mem64', BigInt(A), 0xe0000000n, 0x4000n)]);
    expect(bus.mmioRead(0xe0000000, 4)).toBe(0);
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);
  });

  test('sizing probe of both halves then restore of both, decode on: unmapped from the upper probe to the upper restore, then at the original address again', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x5);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    const orig = 0x5_c0000000n;
    const lo = bus.configRead(EP, 0x18, 4);
    const hi = bus.configRead(EP, 0x1c, 4);
    bus.configWrite(EP, 0x18, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 2), 'low probe: staged').toBe(orig);
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x1c, 4, 0xffffffff);
    expect(bus.configRead(EP, 0x18, 4)).toBe(0xffffc004);
    expect(bus.configRead(EP, 0x1c, 4)).toBe(0xffffffff);
    expect(whereMapped(bus, EP, 2), 'upper probe: the address is past 2^52').toBeNull();
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', orig, null, 0x4000n)]);
    bus.configWrite(EP, 0x18, 4, lo);
    expect(whereMapped(bus, EP, 2), 'low restore: staged, still unmapped').toBeNull();
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x1c, 4, hi);
    expect(whereMapped(bus, EP, 2)).toBe(orig);
    expect(bus.mmioRead(orig, 4)).toBe(0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', null, orig, 0x4000n)]);
  });

  test('sizing probe of one half at a time (probe low, restore low, probe high, restore high): the low probe changes nothing, the high probe unmaps, its restore maps back', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 0x5);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    const orig = 0x5_c0000000n;
    const v18 = bus.configRead(EP, 0x18, 4);
    bus.configWrite(EP, 0x18, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 2), 'probing 18').toBe(orig);
    bus.configWrite(EP, 0x18, 4, v18);
    expect(whereMapped(bus, EP, 2), 'restored 18').toBe(orig);
    expect(bus.effects(), 'the low probe and restore change nothing').toEqual([]);
    const v1c = bus.configRead(EP, 0x1c, 4);
    bus.configWrite(EP, 0x1c, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 2), 'probing 1c').toBeNull();
    expect(bus.mmioRead(orig, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x1c, 4, v1c);
    expect(whereMapped(bus, EP, 2), 'restored 1c').toBe(orig);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', orig, null, 0x4000n), effect(EP, 2, 'mem64', null, orig, 0x4000n)]);
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

  test('a Command write applies the current registers to a 64-bit BAR with a staged low half', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, B);
    expect(whereMapped(bus, EP, 2), 'staged').toBe(BigInt(A));
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    expect(normEffects(bus.effects()), 'one move, A -> B').toEqual([effect(EP, 2, 'mem64', BigInt(A), BigInt(B), 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(B));
    // Upper writes move it at once, to wherever both halves point.
    bus.configWrite(EP, 0x1c, 4, 1);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', BigInt(B), 0x1_d0000000n, 0x4000n)]);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x1_d0000000n, BigInt(B), 0x4000n)]);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(B));
    // A byte write to Command (byte 5) is a Command write too.
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x05, 1, 0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', BigInt(B), BigInt(A), 0x4000n)]);
  });

  test('a write to Status alone (0x06) is not a Command write: a staged low half stays staged, no effect', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.configWrite(EP, 0x18, 4, B);
    bus.effects();
    bus.configWrite(EP, 0x06, 2, 0xf900);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(A));
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x07, 1, 0xf9);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(A));
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(normEffects(bus.effects()), 'the staged low half is applied by the upper write').toEqual([effect(EP, 2, 'mem64', BigInt(A), BigInt(B), 0x4000n)]);
  });

  test('a staged low half stays staged across a write to another BAR of the function', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.configWrite(EP, 0x18, 4, B);
    bus.effects();
    bus.configWrite(EP, 0x14, 4, 0xe0000000);
    expect(whereMapped(bus, EP, 2)).toBe(BigInt(A));
    expect(whereMapped(bus, EP, 1)).toBe(0xe0000000n);
    expect(normEffects(bus.effects()), 'only BAR 1 moved').toEqual([effect(EP, 1, 'mem32', null, 0xe0000000n, 0x1000n)]);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', BigInt(A), BigInt(B), 0x4000n)]);
  });

  test('a 64-bit BAR of 8 GiB (no address bits in its low dword) is one BAR 0, mapped up to the 2^52 limit', async () => {
    const bus = await fresh(backend);
    const size = 2n ** 33n;
    // Programmed with decode off, then applied by a Command write: no half-write rule involved.
    const put = (addr: bigint) => {
      bus.configWrite(BIG, 0x04, 2, 0);
      bus.configWrite(BIG, 0x10, 4, Number(addr & 0xffffffffn));
      bus.configWrite(BIG, 0x14, 4, Number(addr >> 32n));
      bus.configWrite(BIG, 0x04, 2, CMD_MEM);
    };
    const bars = bus.stats().regions.filter((r) => sameBdf(r.bdf, BIG)).map((r) => [r.bar, r.size]);
    expect(bars, 'one region: BAR 0, 8 GiB').toEqual([[0, size]]);
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

  test('the upper dword of an 8 GiB 64-bit BAR is not a BAR of its own: writing it alone maps nothing at a 4 GiB-aligned 16-byte range', async () => {
    const bus = await fresh(backend);
    bus.configWrite(BIG, 0x04, 2, CMD_MEM);
    bus.configWrite(BIG, 0x14, 4, 0xc0000000);
    bus.configWrite(BIG, 0x10, 4, 0);
    expect(mappedBarKeys(bus).filter((k) => k.startsWith(canon(BIG))), 'the address 0xc0000000_00000000 is past 2^52').toEqual([]);
    expect(bus.mmioRead(0xc0000000, 4), 'nothing at the upper dword value read as a 32-bit address').toBe(0xffffffff);
    expect(bus.effects()).toEqual([]);
    // With decode on, an upper write alone moves it (its low dword holds no address bits).
    bus.configWrite(BIG, 0x14, 4, 0x10);
    expect(normEffects(bus.effects())).toEqual([effect(BIG, 0, 'mem64', null, 0x10_00000000n, 2n ** 33n)]);
    expect(bus.mmioRead(0x11_fffffffc, 4), 'the last dword of the 8 GiB').toBe(0);
  });

  test('changing only the high half of a decoded 64-bit BAR moves it at once (one effect); rewriting the low half with its value changes nothing', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x1c, 4, 1);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.configWrite(EP, 0x18, 4, A); // low half unchanged: staged, nothing moves
    expect(bus.effects()).toEqual([]);
    bus.configWrite(EP, 0x1c, 4, 2); // high half changed: moves now
    expect(whereMapped(bus, EP, 2)).toBe(0x2_c0000000n);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x1_c0000000n, 0x2_c0000000n, 0x4000n)]);
    bus.configWrite(EP, 0x18, 4, A);
    expect(whereMapped(bus, EP, 2)).toBe(0x2_c0000000n);
    expect(bus.effects()).toEqual([]);
    // A byte write to the upper dword moves it too.
    bus.configWrite(EP, 0x1d, 1, 0x01);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x2_c0000000n, 0x102_c0000000n, 0x4000n)]);
    // ... and to an invalid address (at or past 2^52) it unmaps.
    bus.configWrite(EP, 0x1f, 1, 0x01);
    expect(normEffects(bus.effects())).toEqual([effect(EP, 2, 'mem64', 0x102_c0000000n, null, 0x4000n)]);
  });

  test('invalid addresses are never mapped: 0, IO past 0xFFFF, 32-bit BARs and the ROM ending at 2^32; valid edges are', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x04, 2, CMD_IO | CMD_MEM);
    // mem32 4 KiB: the last byte must be below 0xFFFFFFFF (as in QEMU): the page below the top
    // page is valid; the top page (where the all-ones sizing probe points) and 0 are not.
    bus.configWrite(EP, 0x14, 4, 0xffffe000);
    expect(whereMapped(bus, EP, 1)).toBe(0xffffe000n);
    expect(bus.mmioRead(0xffffeffc, 4)).toBe(0);
    bus.configWrite(EP, 0x14, 4, 0xfffff000);
    expect(whereMapped(bus, EP, 1), 'mem32 ending at 2^32').toBeNull();
    expect(bus.mmioRead(0xfffffffc, 4)).toBe(0xffffffff);
    bus.configWrite(EP, 0x14, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 1), 'the sizing probe').toBeNull();
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
    // ROM: 0 with the enable bit is not mapped; the 64 KiB below the top 64 KiB of 4 GiB is, the
    // top 64 KiB is not (its last byte is 0xFFFFFFFF).
    bus.configWrite(EP, 0x30, 4, 1);
    expect(whereMapped(bus, EP, 6)).toBeNull();
    bus.configWrite(EP, 0x30, 4, 0xfffe0001);
    expect(whereMapped(bus, EP, 6)).toBe(0xfffe0000n);
    bus.configWrite(EP, 0x30, 4, 0xffff0001);
    expect(whereMapped(bus, EP, 6), 'ROM ending at 2^32').toBeNull();
    bus.configWrite(EP, 0x30, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 6), 'the ROM sizing probe with the enable bit').toBeNull();
    // 64-bit 16 KiB: the sizing value (all ones) is past 2^52.
    bus.configWrite(EP, 0x18, 4, 0xffffffff);
    bus.configWrite(EP, 0x1c, 4, 0xffffffff);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.configWrite(EP, 0x1c, 4, 0x00100000);
    expect(whereMapped(bus, EP, 2), 'at 2^52 + 0xffffc000: past the limit').toBeNull();
    bus.configWrite(EP, 0x1c, 4, 0x000fffff);
    expect(whereMapped(bus, EP, 2), 'the upper write moves it with the current low dword: the last 16 KiB below 2^52').toBe(2n ** 52n - 0x4000n);
    expect(bus.mmioRead(2 ** 52 - 4, 4)).toBe(0);
    bus.configWrite(EP, 0x18, 4, 0);
    expect(whereMapped(bus, EP, 2), 'low half staged').toBe(2n ** 52n - 0x4000n);
    bus.configWrite(EP, 0x1c, 4, 0);
    expect(whereMapped(bus, EP, 2), 'both halves 0: address 0').toBeNull();
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

  test('an 8-byte ECAM write of a 64-bit BAR is two dword writes, low first: one move, straight to the new address', async () => {
    const bus = await fresh(backend);
    bus.configWrite(EP, 0x18, 4, A);
    bus.configWrite(EP, 0x04, 2, CMD_MEM);
    bus.effects();
    bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0x7_d0000000n);
    expect(bus.configRead(EP, 0x18, 4)).toBe(0xd0000004);
    expect(bus.configRead(EP, 0x1c, 4)).toBe(7);
    expect(whereMapped(bus, EP, 2)).toBe(0x7_d0000000n);
    expect(normEffects(bus.effects()), 'one effect: the low dword is staged, the high dword moves it').toEqual([
      effect(EP, 2, 'mem64', BigInt(A), 0x7_d0000000n, 0x4000n),
    ]);
    expect(bus.mmioRead(0x7_d0000000, 4)).toBe(0);
    expect(bus.mmioRead(A, 4)).toBe(0xffffffff);
    // The 8-byte sizing probe unmaps it (one effect); the 8-byte restore maps it back (one effect).
    bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0xffffffffffffffffn);
    expect(whereMapped(bus, EP, 2)).toBeNull();
    bus.mmioWrite(ecam(0, 1, 0, 0x18), 8, 0x7_d0000000n);
    expect(normEffects(bus.effects())).toEqual([
      effect(EP, 2, 'mem64', 0x7_d0000000n, null, 0x4000n),
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
