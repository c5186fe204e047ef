// Batch replay (assembly/dispatch/replay.ts): the v1 record layout (24 bytes: op, size, flags,
// reserved, address, value), per-record results and statuses, expected values and mismatch indices,
// unknown ops, the capacity clamp, and that a batch behaves exactly like the same per-access calls.
//
// Module state persists across the tests of this file: every test uses its own addresses.
//
// The as-pect build compiles assembly/index.ts into every spec (as-pect.asconfig.json extends
// asconfig.json), so its start-up code has mapped 0xCF8 and 0xCFC; the specs do not map them again.
import { addFunction, loadPlanes, staging } from "../config/store";
import { OK, PLANE_SIZE, PLANES_SIZE } from "../config/layout";
import { addRegion } from "../boundary";
import { access, lastStatus } from "../dispatch/access";
import { barAttach } from "../dispatch/bar-mapper";
import { SPACE_MMIO, SPACE_IO } from "../dispatch/region-table";
import { counterValue, KIND_REGFILE, KIND_DOORBELL, KIND_HOST, C_INVALID } from "../dispatch/regions";
import { regfileCreate } from "../dispatch/regfile";
import { doorbellCreate, doorbellCount } from "../dispatch/doorbell";
import { effectsDrain } from "../dispatch/effects";
import {
  replayBatch, batchAddress, resultsAddress, statusAddress, mismatchAddress, batchCapacity,
  RECORD_BYTES, BATCH_CAPACITY, OP_MMIO_READ, OP_MMIO_WRITE, OP_IO_READ, OP_IO_WRITE,
} from "../dispatch/replay";


// ---- helpers ----------------------------------------------------------------------------------
function rec(i: u32, op: u32, size: u32, flags: u32, addr: u64, value: u64): void {
  const r = <usize>batchAddress() + <usize>i * 24;
  store<u8>(r, <u8>op);
  store<u8>(r, <u8>size, 1);
  store<u16>(r, <u16>flags, 2);
  store<u32>(r, 0, 4);
  store<u64>(r, addr, 8);
  store<u64>(r, value, 16);
}
function result(i: u32): u64 {
  return load<u64>(<usize>resultsAddress() + (<usize>i << 3));
}
function status(i: u32): u8 {
  return load<u8>(<usize>statusAddress() + <usize>i);
}
function mismatch(k: u32): u32 {
  return load<u32>(<usize>mismatchAddress() + (<usize>k << 2));
}
function counters(): f64[] {
  const c: f64[] = [];
  for (let i: u32 = 0; i < 8; i++) c.push(counterValue(i));
  return c;
}
function delta(before: f64[]): string {
  const now = counters();
  let s = "";
  for (let i = 0; i < 8; i++) s += (i > 0 ? "," : "") + (<i64>(now[i] - before[i])).toString();
  return s;
}
function effects(): string {
  let s = "";
  let n = effectsDrain(0xffffffff);
  while (n != 0) {
    for (let i: u32 = 0; i < n; i++) {
      const e = staging + <usize>i * 40;
      s += load<u32>(e).toString() + "/" + load<u32>(e, 4).toString() + "/" + load<u32>(e, 12).toString() + "/" +
        load<u64>(e, 16).toString(16) + "/" + load<u64>(e, 24).toString(16) + ";";
    }
    n = effectsDrain(0xffffffff);
  }
  return s;
}
function regfile(size: u32, first: u32): u32 {
  memory.fill(staging, 0, 8192);
  for (let i: u32 = 0; i < size; i++) {
    store<u8>(staging + <usize>i, <u8>(first + i));
    store<u8>(staging + 4096 + <usize>i, 0xff);
  }
  return regfileCreate(size);
}

const RF_BASE: u64 = 0x50000000;
const rf = regfile(16, 0x10); // 10..1f
const rfRegion = addRegion(SPACE_MMIO, <f64>RF_BASE, 16, 100, KIND_REGFILE, rf);
const db = doorbellCreate();
const dbRegion = addRegion(SPACE_IO, 0x2000, 4, 100, KIND_DOORBELL, db);
const hostRegion = addRegion(SPACE_MMIO, 0x51000000, 0x100, 100, KIND_HOST, 9);

describe("layout and capacity", () => {
  it("24-byte records, 16384 of them; the buffers do not overlap", () => {
    expect<u32>(RECORD_BYTES).toBe(24);
    expect<u32>(BATCH_CAPACITY).toBe(16384);
    expect<u32>(batchCapacity()).toBe(16384);
    const rb = batchAddress(), re = rb + 16384 * 24;
    const sb = resultsAddress(), se = sb + 16384 * 8;
    const tb = statusAddress(), te = tb + 16384;
    const mb = mismatchAddress(), me = mb + 16384 * 4;
    expect<bool>(re <= sb || se <= rb).toBe(true, "records / results");
    expect<bool>(re <= tb || te <= rb).toBe(true, "records / statuses");
    expect<bool>(re <= mb || me <= rb).toBe(true, "records / mismatches");
    expect<bool>(se <= tb || te <= sb).toBe(true, "results / statuses");
    expect<bool>(se <= mb || me <= sb).toBe(true, "results / mismatches");
    expect<bool>(te <= mb || me <= tb).toBe(true, "statuses / mismatches");
    expect<i32>(rfRegion).toBeGreaterThan(0);
    expect<i32>(dbRegion).toBeGreaterThan(0);
    expect<i32>(hostRegion).toBeGreaterThan(0);
  });
});

describe("results and statuses", () => {
  it("per record: the value read (0 for writes) and 0 ok / 1 master abort / 2 invalid", () => {
    access(SPACE_IO, 0xcf8, 4, true, 0x80001234);
    const before = counters();
    rec(0, OP_MMIO_READ, 4, 0, RF_BASE, 0);
    rec(1, OP_MMIO_WRITE, 8, 0, RF_BASE + 8, 0x8877665544332211);
    rec(2, OP_MMIO_READ, 8, 0, RF_BASE + 8, 0);
    rec(3, OP_MMIO_READ, 2, 0, 0x60000000, 0);
    rec(4, OP_MMIO_WRITE, 4, 0, 0x60000000, 0);
    rec(5, OP_IO_READ, 4, 0, 0xcf8, 0);
    rec(6, OP_IO_WRITE, 4, 0, 0x2000, 7);
    rec(7, OP_IO_READ, 4, 0, 0x2000, 0);
    rec(8, 0, 4, 0, RF_BASE, 0);
    rec(9, 5, 4, 0, RF_BASE, 0);
    rec(10, 255, 4, 0, RF_BASE, 0);
    rec(11, OP_MMIO_READ, 3, 0, RF_BASE, 0);
    rec(12, OP_IO_READ, 8, 0, 0x2000, 0);
    rec(13, OP_MMIO_WRITE, 0, 0, RF_BASE, 0xffffffff);
    rec(14, OP_MMIO_READ, 8, 0, 0x51000000, 0);
    rec(15, OP_IO_READ, 1, 0, 0x10000, 0);
    rec(16, OP_MMIO_READ, 1, 0, 0xffffffffffffffff, 0);
    // reserved bytes and flag bits other than bit 0 are ignored
    store<u32>(<usize>batchAddress() + 0 * 24 + 4, 0xdeadbeef);
    store<u16>(<usize>batchAddress() + 2 * 24 + 2, 0xfffe);
    expect<u32>(replayBatch(17)).toBe(0);
    const want: u64[] = [
      0x13121110, 0, 0x8877665544332211, 0xffff, 0, 0x80001234, 0, 1,
      0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff, 0xffffffff, 0xffffffff, 0,
      0xffffffffffffffff, 0xff, 0xff,
    ];
    const st: u8[] = [0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 1, 1];
    for (let i: u32 = 0; i < 17; i++) {
      expect<u64>(result(i)).toBe(want[i], "result " + i.toString());
      expect<u8>(status(i)).toBe(st[i], "status " + i.toString());
    }
    // aborts: mmio r 2 w 1, io r 1; invalid: 3 ops + 3 sizes
    expect<string>(delta(before)).toBe("2,1,1,0,6,0,0,0");
    expect<u64>(doorbellCount(db)).toBe(1);
  });

  it("replayBatch(0) runs nothing; counts past the capacity are clamped to 16384", () => {
    const before = counters();
    rec(0, 0, 4, 0, 0, 0);
    expect<u32>(replayBatch(0)).toBe(0);
    expect<string>(delta(before)).toBe("0,0,0,0,0,0,0,0");
    memory.fill(<usize>batchAddress(), 0, <usize>BATCH_CAPACITY * 24); // op 0 everywhere: invalid
    expect<u32>(replayBatch(0xffffffff)).toBe(0);
    expect<f64>(counterValue(C_INVALID) - before[C_INVALID]).toBe(<f64>BATCH_CAPACITY);
    expect<u8>(status(BATCH_CAPACITY - 1)).toBe(2);
    expect<u64>(result(BATCH_CAPACITY - 1)).toBe(0xffffffffffffffff);
    expect<u32>(replayBatch(BATCH_CAPACITY + 1)).toBe(0);
    expect<f64>(counterValue(C_INVALID) - before[C_INVALID]).toBe(2 * <f64>BATCH_CAPACITY);
  });
});

describe("expected values", () => {
  it("reads with flag bit 0 whose result differs are listed by index, in order; the count is returned", () => {
    rec(0, OP_MMIO_READ, 4, 1, RF_BASE, 0x13121110); // match
    rec(1, OP_MMIO_READ, 4, 1, RF_BASE, 0x13121111); // mismatch
    rec(2, OP_MMIO_READ, 4, 0, RF_BASE, 0x99999999); // no flag: never a mismatch
    rec(3, OP_MMIO_WRITE, 4, 1, RF_BASE + 4, 0x17161514); // a write: never a mismatch
    rec(4, OP_MMIO_READ, 2, 1, 0x60000000, 0xffff); // abort: all ones match
    rec(5, OP_MMIO_READ, 2, 1, 0x60000000, 0xffffffff); // abort: compared as 0xffff
    rec(6, 9, 4, 1, RF_BASE, 0); // unknown op: not a read
    rec(7, OP_IO_READ, 4, 1, 0x2000, 0); // doorbell count 1
    rec(8, OP_MMIO_READ, 8, 1, RF_BASE + 8, 0x8877665544332211); // from the previous test
    rec(9, OP_MMIO_READ, 3, 1, RF_BASE, 0xffffffff); // invalid size: result 0xffffffff matches
    rec(10, OP_MMIO_READ, 8, 0xffff, RF_BASE, 0); // mismatch
    rec(11, OP_MMIO_READ, 4, 0xfffe, RF_BASE, 0); // bit 0 clear: no
    expect<u32>(replayBatch(12)).toBe(4);
    expect<u32>(mismatch(0)).toBe(1);
    expect<u32>(mismatch(1)).toBe(5);
    expect<u32>(mismatch(2)).toBe(7);
    expect<u32>(mismatch(3)).toBe(10);
  });
});

describe("a batch is the per-access path", () => {
  it("config writes inside a batch move BARs for the records after them, with the same results, counters and effects", () => {
    // 00:05.0 with BAR1 mem32 4 KiB, Command writable
    memory.fill(staging, 0, <usize>PLANES_SIZE);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x04), 0x7);
    store<u32>(staging + <usize>(PLANE_SIZE + 0x14), 0xfffff000);
    const slot = addFunction(0, 0, 5, 0, 256);
    expect<i32>(loadPlanes(slot)).toBe(OK);
    expect<i32>(barAttach(slot)).toBe(OK);
    effects();
    // the sequence: read the BAR's address (abort), program it through 0xCF8/0xCFC, read (0),
    // write the regfile, read it back, turn decode off, read (abort)
    const n: u32 = 10;
    const ops: u32[] = [OP_MMIO_READ, OP_IO_WRITE, OP_IO_WRITE, OP_IO_WRITE, OP_IO_WRITE, OP_MMIO_READ, OP_MMIO_WRITE, OP_MMIO_READ, OP_IO_WRITE, OP_MMIO_READ];
    const sizes: u32[] = [4, 4, 4, 4, 2, 8, 2, 4, 2, 4];
    const addrs: u64[] = [0x70000000, 0xcf8, 0xcfc, 0xcf8, 0xcfc, 0x70000ff8, RF_BASE + 2, RF_BASE, 0xcfc, 0x70000000];
    const vals: u64[] = [0, 0x80002814, 0x70000000, 0x80002804, 0x2, 0, 0xbeef, 0, 0, 0];
    // per access
    const before1 = counters();
    const res1: u64[] = [];
    const st1: u8[] = [];
    for (let i: u32 = 0; i < n; i++) {
      const op = ops[i];
      const space = op == OP_MMIO_READ || op == OP_MMIO_WRITE ? SPACE_MMIO : SPACE_IO;
      const write = op == OP_MMIO_WRITE || op == OP_IO_WRITE;
      const v = access(space, addrs[i], <i32>sizes[i], write, vals[i]);
      res1.push(write ? 0 : v);
      st1.push(lastStatus);
    }
    const d1 = delta(before1);
    const e1 = effects();
    // the same as a batch (the BAR is unmapped again, the regfile holds the same bytes)
    for (let i: u32 = 0; i < n; i++) rec(i, ops[i], sizes[i], 0, addrs[i], vals[i]);
    const before2 = counters();
    expect<u32>(replayBatch(n)).toBe(0);
    const d2 = delta(before2);
    const e2 = effects();
    for (let i: u32 = 0; i < n; i++) {
      expect<u64>(result(i)).toBe(res1[i], "result " + i.toString());
      expect<u8>(status(i)).toBe(st1[i], "status " + i.toString());
    }
    expect<string>(d2).toBe(d1);
    expect<string>(e2).toBe(e1);
    // and what they were
    expect<u8>(st1[0]).toBe(1);
    expect<u64>(res1[5]).toBe(0, "the BAR mapped by record 4 reads 0 in record 5");
    expect<u8>(st1[5]).toBe(0);
    expect<u64>(res1[7]).toBe(0xbeef1110);
    expect<u8>(st1[9]).toBe(1);
    expect<string>(d1).toBe("2,0,0,0,0,0,0,0");
    expect<string>(e1).toBe(slot.toString() + "/1/2/0/70000000;" + slot.toString() + "/1/1/70000000/0;");
  });
});
