// The doorbell event queue (assembly/dispatch/doorbell.ts): 4096 events (EVENT_CAPACITY), then new
// events are dropped and counted while the doorbell's count still grows; draining is oldest first,
// at most 384 events of 32 bytes (what fits in staging) and at most `max` per call; wrap-around.
//
// Module state persists across the tests of this file; they run in order.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { staging } from "../config/store";
import { addRegion } from "../boundary";
import { access } from "../dispatch/access";
import { SPACE_MMIO, SPACE_IO } from "../dispatch/region-table";
import { counterValue, C_DROPPED_EVENTS, KIND_DOORBELL } from "../dispatch/regions";
import {
  doorbellCreate, doorbellCount, doorbellValid, eventsQueued, eventsDrain, EVENT_CAPACITY,
} from "../dispatch/doorbell";


const FIT: u32 = 12288 / 32; // 384
const BASE: u64 = 0x40000000;

const db = doorbellCreate();
const region = addRegion(SPACE_MMIO, <f64>BASE, 0x10000, 100, KIND_DOORBELL, db);

/** Rings the doorbell with event number n: offset n & 0xfff8, 8 bytes, value n * 3 + 2^40. */
function ring(n: u32): void {
  access(SPACE_MMIO, BASE + <u64>(n & 0xfff8), 8, true, <u64>n * 3 + (<u64>1 << 40));
}
function check(i: u32, n: u32): bool {
  const e = staging + <usize>i * 32;
  const ok = load<u32>(e) == <u32>region && load<u32>(e, 4) == 8 && load<u64>(e, 8) == <u64>(n & 0xfff8) &&
    load<u64>(e, 16) == <u64>n * 3 + (<u64>1 << 40);
  if (!ok) expect<u64>(load<u64>(e, 16)).toBe(<u64>n * 3 + (<u64>1 << 40), "event record " + i.toString() + " should be event " + n.toString());
  return ok;
}
/** Drains everything, checking that the events are `first`, `first + 1`, ...; returns how many. */
function drainChecked(first: u32): u32 {
  let seen: u32 = 0;
  let k = eventsDrain(0xffffffff);
  while (k != 0) {
    expect<u32>(k).toBeLessThanOrEqual(FIT);
    for (let i: u32 = 0; i < k; i++) if (!check(i, first + seen + i)) return seen;
    seen += k;
    k = eventsDrain(0xffffffff);
  }
  return seen;
}

describe("doorbell handles", () => {
  it("are indexes handed out in order; only created ones are valid", () => {
    expect<u32>(db).toBe(0);
    expect<bool>(doorbellValid(0)).toBe(true);
    expect<bool>(doorbellValid(1)).toBe(false);
    expect<u32>(doorbellCreate()).toBe(1);
    expect<bool>(doorbellValid(1)).toBe(true);
    expect<bool>(doorbellValid(0xffffffff)).toBe(false);
    expect<i32>(region).toBeGreaterThan(0);
  });
});

describe("event queue", () => {
  it("drains oldest first, at most `max` per call and at most 384 per call", () => {
    for (let n: u32 = 0; n < 500; n++) ring(n);
    expect<u32>(eventsQueued()).toBe(500);
    expect<u32>(eventsDrain(0)).toBe(0);
    expect<u32>(eventsDrain(2)).toBe(2);
    expect<bool>(check(0, 0) && check(1, 1)).toBe(true);
    expect<u32>(eventsDrain(1000)).toBe(FIT);
    for (let i: u32 = 0; i < FIT; i++) if (!check(i, 2 + i)) return;
    expect<u32>(drainChecked(2 + FIT)).toBe(500 - 2 - FIT);
    expect<u32>(eventsQueued()).toBe(0);
  });

  it("holds 4096 events; later ones are dropped and counted, the count still grows", () => {
    expect<u32>(EVENT_CAPACITY).toBe(4096);
    const count0 = doorbellCount(db);
    const dropped = counterValue(C_DROPPED_EVENTS);
    for (let n: u32 = 0; n < EVENT_CAPACITY; n++) ring(n);
    expect<f64>(counterValue(C_DROPPED_EVENTS)).toBe(dropped, "nothing dropped at exactly the capacity");
    for (let n: u32 = 0; n < 10; n++) ring(90000 + n);
    expect<u32>(eventsQueued()).toBe(EVENT_CAPACITY);
    expect<f64>(counterValue(C_DROPPED_EVENTS) - dropped).toBe(10);
    expect<u64>(doorbellCount(db) - count0).toBe(<u64>EVENT_CAPACITY + 10);
    expect<u64>(access(SPACE_MMIO, BASE, 4, false, 0)).toBe(doorbellCount(db) & 0xffffffff);
    expect<u32>(drainChecked(0)).toBe(EVENT_CAPACITY, "the kept events are the oldest, in order");
  });

  it("wraps around: partial drain then refill keeps the order", () => {
    const dropped = counterValue(C_DROPPED_EVENTS);
    for (let n: u32 = 0; n < EVENT_CAPACITY; n++) ring(n);
    expect<u32>(eventsDrain(FIT)).toBe(FIT);
    expect<u32>(eventsDrain(FIT)).toBe(FIT);
    for (let n: u32 = 0; n < 2 * FIT; n++) ring(EVENT_CAPACITY + n);
    expect<u32>(eventsQueued()).toBe(EVENT_CAPACITY);
    ring(77777);
    expect<f64>(counterValue(C_DROPPED_EVENTS) - dropped).toBe(1);
    expect<u32>(drainChecked(2 * FIT)).toBe(EVENT_CAPACITY);
  });

  it("events from IO doorbells and from several doorbells share the queue in order", () => {
    const other = doorbellCreate();
    const io = addRegion(SPACE_IO, 0x2000, 4, 100, KIND_DOORBELL, other);
    access(SPACE_IO, 0x2002, 2, true, 0xabcd);
    ring(5);
    access(SPACE_IO, 0x2000, 1, true, 0x1ff);
    expect<u32>(eventsDrain(10)).toBe(3);
    expect<u32>(load<u32>(staging)).toBe(<u32>io);
    expect<u32>(load<u32>(staging, 4)).toBe(2);
    expect<u64>(load<u64>(staging, 8)).toBe(2);
    expect<u64>(load<u64>(staging, 16)).toBe(0xabcd);
    expect<bool>(check(1, 5)).toBe(true);
    expect<u32>(load<u32>(staging, 64)).toBe(<u32>io);
    expect<u64>(load<u64>(staging, 64 + 16)).toBe(0xff);
    expect<u64>(doorbellCount(other)).toBe(2);
  });
});
