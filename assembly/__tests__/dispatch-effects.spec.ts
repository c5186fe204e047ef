// The effects ring (assembly/dispatch/effects.ts): the record layout, oldest-first draining into the
// staging area (at most 307 records of 40 bytes per call, and at most `max`), the capacity
// (EFFECT_CAPACITY = 1024), dropping and counting beyond it, and wrap-around.
//
// Module state persists across the tests of this file; they run in order and each starts from an
// empty ring.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, slotWrite, staging } from "../config/store";
import { OK, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { barAttach } from "../dispatch/bar-mapper";
import { effectBarMoved, effectsQueued, effectsDrain, EFFECT_CAPACITY } from "../dispatch/effects";
import { counterValue, C_DROPPED_EFFECTS } from "../dispatch/regions";

const FIT: u32 = 12288 / 40; // 307

function drainAll(): u32 {
  let n: u32 = 0;
  let k = effectsDrain(0xffffffff);
  while (k != 0) {
    n += k;
    k = effectsDrain(0xffffffff);
  }
  return n;
}
function at(i: u32): usize {
  return staging + <usize>i * 40;
}
/** Queues a synthetic effect whose fields all derive from `n`. */
function queue(n: u32): void {
  effectBarMoved(<i32>n, n % 7, 1 + n % 4, (n & 1) != 0, <u64>n << 12, (n & 2) != 0, (<u64>n << 20) + 0x100000000, <u64>n + 1);
}
function check(i: u32, n: u32): bool {
  const e = at(i);
  const ok = load<u32>(e) == n && load<u32>(e, 4) == n % 7 && load<u32>(e, 8) == 1 + n % 4 &&
    load<u32>(e, 12) == (((n & 1) != 0 ? 1 : 0) | ((n & 2) != 0 ? 2 : 0)) &&
    load<u64>(e, 16) == ((n & 1) != 0 ? <u64>n << 12 : 0) &&
    load<u64>(e, 24) == ((n & 2) != 0 ? (<u64>n << 20) + 0x100000000 : 0) &&
    load<u64>(e, 32) == <u64>n + 1;
  if (!ok) expect<u32>(load<u32>(e)).toBe(n, "record " + i.toString() + " is not effect " + n.toString());
  return ok;
}

describe("effect records", () => {
  it("a real BAR move is queued with slot, bar, kind, flags, old and new base, size", () => {
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x04), 0x2);
    store<u32>(staging + 0x14, 0x00000000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x14), 0xffff0000);
    const slot = addFunction(0, 1, 0, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    expect<u32>(effectsQueued()).toBe(0);
    slotWrite(slot, 0x14, 4, 0x12340000);
    slotWrite(slot, 0x04, 2, 2);
    slotWrite(slot, 0x14, 4, 0x56780000);
    expect<u32>(effectsQueued()).toBe(2);
    expect<u32>(effectsDrain(10)).toBe(2);
    expect<u32>(effectsQueued()).toBe(0);
    let e = at(0);
    expect<i32>(load<i32>(e)).toBe(slot);
    expect<u32>(load<u32>(e, 4)).toBe(1);
    expect<u32>(load<u32>(e, 8)).toBe(2); // mem32
    expect<u32>(load<u32>(e, 12)).toBe(2); // new mapped only
    expect<u64>(load<u64>(e, 16)).toBe(0);
    expect<u64>(load<u64>(e, 24)).toBe(0x12340000);
    expect<u64>(load<u64>(e, 32)).toBe(0x10000);
    e = at(1);
    expect<u32>(load<u32>(e, 12)).toBe(3);
    expect<u64>(load<u64>(e, 16)).toBe(0x12340000);
    expect<u64>(load<u64>(e, 24)).toBe(0x56780000);
    slotWrite(slot, 0x04, 2, 0);
    expect<u32>(effectsDrain(10)).toBe(1);
    e = at(0);
    expect<u32>(load<u32>(e, 12)).toBe(1);
    expect<u64>(load<u64>(e, 16)).toBe(0x56780000);
    expect<u64>(load<u64>(e, 24)).toBe(0, "newBase 0 when not mapped");
  });

  it("an unmapped side reports base 0 whatever base was passed", () => {
    effectBarMoved(3, 2, 3, false, 0x1234, false, 0x5678, 16);
    expect<u32>(effectsDrain(1)).toBe(1);
    expect<u32>(load<u32>(at(0), 12)).toBe(0);
    expect<u64>(load<u64>(at(0), 16)).toBe(0);
    expect<u64>(load<u64>(at(0), 24)).toBe(0);
  });
});

describe("draining", () => {
  it("oldest first, at most `max` per call, and at most 307 (what fits in staging)", () => {
    for (let n: u32 = 0; n < 400; n++) queue(n);
    expect<u32>(effectsQueued()).toBe(400);
    expect<u32>(effectsDrain(0)).toBe(0);
    expect<u32>(effectsDrain(3)).toBe(3);
    for (let i: u32 = 0; i < 3; i++) if (!check(i, i)) return;
    expect<u32>(effectsDrain(0xffffffff)).toBe(FIT);
    for (let i: u32 = 0; i < FIT; i++) if (!check(i, 3 + i)) return;
    expect<u32>(effectsQueued()).toBe(400 - 3 - FIT);
    expect<u32>(effectsDrain(1000)).toBe(400 - 3 - FIT);
    for (let i: u32 = 0; i < 400 - 3 - FIT; i++) if (!check(i, 3 + FIT + i)) return;
    expect<u32>(effectsDrain(1000)).toBe(0);
  });
});

describe("capacity", () => {
  it("holds EFFECT_CAPACITY (1024); further effects are dropped and counted", () => {
    expect<u32>(EFFECT_CAPACITY).toBe(1024);
    const dropped = counterValue(C_DROPPED_EFFECTS);
    for (let n: u32 = 0; n < EFFECT_CAPACITY; n++) queue(n);
    expect<f64>(counterValue(C_DROPPED_EFFECTS)).toBe(dropped, "nothing dropped at exactly the capacity");
    queue(5000);
    queue(5001);
    queue(5002);
    expect<u32>(effectsQueued()).toBe(EFFECT_CAPACITY);
    expect<f64>(counterValue(C_DROPPED_EFFECTS) - dropped).toBe(3);
    // the kept ones are the oldest 1024, in order
    let seen: u32 = 0;
    let k = effectsDrain(0xffffffff);
    while (k != 0) {
      for (let i: u32 = 0; i < k; i++) if (!check(i, seen + i)) return;
      seen += k;
      k = effectsDrain(0xffffffff);
    }
    expect<u32>(seen).toBe(EFFECT_CAPACITY);
  });

  it("after draining, the ring has room again, and it wraps around keeping the order", () => {
    const dropped = counterValue(C_DROPPED_EFFECTS);
    // the ring's head is somewhere in the middle after the previous tests; fill, drain part, refill
    for (let n: u32 = 0; n < EFFECT_CAPACITY; n++) queue(n);
    expect<u32>(effectsDrain(FIT)).toBe(FIT);
    for (let n: u32 = 0; n < FIT; n++) queue(10000 + n);
    expect<u32>(effectsQueued()).toBe(EFFECT_CAPACITY);
    queue(99999);
    expect<f64>(counterValue(C_DROPPED_EFFECTS) - dropped).toBe(1);
    let seen: u32 = 0;
    let k = effectsDrain(0xffffffff);
    while (k != 0) {
      for (let i: u32 = 0; i < k; i++) {
        const idx = seen + i;
        const want = idx < EFFECT_CAPACITY - FIT ? FIT + idx : 10000 + (idx - (EFFECT_CAPACITY - FIT));
        if (!check(i, want)) return;
      }
      seen += k;
      k = effectsDrain(0xffffffff);
    }
    expect<u32>(seen).toBe(EFFECT_CAPACITY);
    expect<u32>(drainAll()).toBe(0);
  });

  it("BAR moves beyond the capacity are dropped and counted, and the mapping still changes", () => {
    drainAll();
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x04), 0x2);
    store<u32>(staging + 0x14, 0xa0000000);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x14), 0xfffff000);
    const slot = addFunction(0, 2, 0, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    const dropped = counterValue(C_DROPPED_EFFECTS);
    for (let i: u32 = 0; i < 1100; i++) slotWrite(slot, 0x04, 2, (i & 1) == 0 ? 2 : 0);
    expect<u32>(effectsQueued()).toBe(EFFECT_CAPACITY);
    expect<f64>(counterValue(C_DROPPED_EFFECTS) - dropped).toBe(1100 - <f64>EFFECT_CAPACITY);
    expect<u32>(drainAll()).toBe(EFFECT_CAPACITY);
  });
});
