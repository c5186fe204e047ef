// The soak's workload: trace-synth's 'random' profile (src/trace-synth/synthesize.ts) written
// straight into 24-byte batch records (docs/batch-records.md), a chunk at a time, so a billion
// accesses never exist as TraceEvent objects. The same choices as the profile: 60% reads; 85% of
// accesses go to a region mapped after boot (picked uniformly, writes never to the ECAM window or
// 0xCFC), with a size that fits, naturally aligned nine times in ten; the rest go anywhere (30% IO
// ports, else a 32-bit MMIO address), writes there turned into reads when they would hit a config
// mechanism. Reads carry no expected value: nothing recorded them.
//
// On top of the profile (it never writes config space), each chunk can move BARs: it starts with
// ECAM writes that put `barMoves` 32-bit memory BARs of root-bus functions at random new places
// and ends with writes that put them back, so the region table maps BARs at new addresses about
// 2 x barMoves times per 16,384 accesses all through the run.

/** Records per bus.replay call: the core's batch capacity (BATCH_CAPACITY). */
export const CHUNK = 16384;
const RECORD_WORDS = 6;
const TWO32 = 4294967296;

const MMIO_READ = 1;
const MMIO_WRITE = 2;
const IO_READ = 3;
const IO_WRITE = 4;

/** Probabilities of the 'random' profile, as u32 thresholds. */
const READ = Math.floor(0.6 * TWO32);
const MAPPED = Math.floor(0.85 * TWO32);
const UNALIGNED = Math.floor(0.1 * TWO32);
const IO_ANYWHERE = Math.floor(0.3 * TWO32);
/** Region kinds the profile never writes: a write would rearrange the bus. */
const CONFIG_KINDS = new Set(['ecam', 'cfc']);
/** Where moved BARs land: a 32-bit MMIO range clear of the default ECAM window (0xB0000000..). */
const MOVE_LOW = 0xc0000000;
const MOVE_HIGH = 0xf0000000;

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('soak: the record writer assumes a little-endian host');

/**
 * trace-synth's Prng (src/trace-synth/prng.ts): xorshift32 (13, 17, 5) with the seed spread by a
 * multiplicative hash, so the soak's seeds mean what the profile's seeds mean.
 */
export function prng(seed) {
  let s = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  s ^= s >>> 16;
  let x = s === 0 ? 0x6d2b79f5 : s;
  const u32 = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let i = 0; i < 4; i++) u32();
  return u32;
}

/** A number in [0, n) for n up to 2^53 (two draws above 2^32). */
function below(u32, n) {
  if (n <= TWO32) return Math.floor((u32() / TWO32) * n);
  return Math.floor(((u32() + u32() / TWO32) / TWO32) * n);
}

/**
 * The generator over a booted bus: `fill(words, count)` writes `count` records into a Uint32Array
 * over the record bytes and returns how many of them are BAR moves. The hot loop keeps the
 * generator state in a local and the regions in typed arrays: generating must stay well ahead of
 * the core.
 */
export class RandomWorkload {
  /**
   * @param {object} o
   * @param {import('../dist/types/src/bus.js').Bus} o.bus a bus after boot (BARs programmed)
   * @param {number} o.seed
   * @param {number} o.barMoves BARs moved (and put back) per chunk
   * @param {(bdf: string) => {seg:number,bus:number,dev:number,fn:number}} o.parseBdf
   */
  constructor({ bus, seed, barMoves, parseBdf }) {
    this.u32 = prng(seed);
    const regions = bus.regions();
    if (regions.length === 0) throw new Error('soak: no region is mapped after boot');
    const n = regions.length;
    this.io = new Uint8Array(n);
    this.base = new Float64Array(n);
    this.size = new Float64Array(n);
    /** How many access sizes fit: 1..3 (IO: 1, 2, 4) or 1..4 (MMIO: 1, 2, 4, 8). */
    this.sizes = new Uint8Array(n);
    this.config = [];
    const writable = [];
    regions.forEach((r, i) => {
      this.io[i] = r.space === 'io' ? 1 : 0;
      this.base[i] = Number(r.base);
      this.size[i] = Number(r.size);
      let k = 0;
      while (k < (r.space === 'io' ? 3 : 4) && 2 ** k <= this.size[i]) k++;
      this.sizes[i] = Math.max(1, k);
      if (CONFIG_KINDS.has(r.kind)) this.config.push({ io: this.io[i], base: this.base[i], end: this.base[i] + this.size[i] });
      else writable.push(i);
    });
    this.all = Int32Array.from(regions, (_, i) => i);
    this.writable = Int32Array.from(writable);
    this.barMoves = barMoves;
    this.movable = barMoves > 0 ? movableBars(bus, parseBdf) : [];
    if (barMoves > 0 && this.movable.length === 0) throw new Error('soak: --bar-moves: no 32-bit memory BAR on a root bus to move');
  }

  /** Fills `count` records into `w`; returns the number of BAR moves among them. */
  fill(w, count) {
    const u32 = this.u32;
    let first = 0;
    let last = count;
    const moves = count > 2 * this.barMoves ? this.barMoves : 0;
    for (let m = 0; m < moves; m++) {
      const bar = this.movable[below(u32, this.movable.length)];
      const slots = Math.floor((MOVE_HIGH - MOVE_LOW) / bar.size);
      const to = MOVE_LOW + below(u32, slots) * bar.size;
      put(w, first++, MMIO_WRITE, 4, bar.ecam, to, 0);
      // Put back in reverse order, so a BAR picked twice ends where it started.
      put(w, --last, MMIO_WRITE, 4, bar.ecam, bar.base, 0);
    }
    const { io: rio, base: rbase, size: rsize, sizes: rsizes, all, writable } = this;
    for (let i = first; i < last; i++) {
      let read = u32() < READ;
      let io;
      let size;
      let addr;
      if (u32() < MAPPED) {
        const list = read ? all : writable;
        const r = list[Math.floor((u32() / TWO32) * list.length)];
        io = rio[r] === 1;
        size = 1 << Math.floor((u32() / TWO32) * rsizes[r]);
        const rs = rsize[r];
        const span = rs > size ? rs - size + 1 : 1;
        let offset = span <= TWO32 ? Math.floor((u32() / TWO32) * span) : below(u32, span);
        if (u32() >= UNALIGNED) offset -= offset % size;
        addr = rbase[r] + offset;
      } else {
        io = u32() < IO_ANYWHERE;
        if (io) {
          size = 1 << Math.floor((u32() / TWO32) * 3);
          addr = Math.floor((u32() / TWO32) * (0x10000 - size + 1));
        } else {
          size = 1 << Math.floor((u32() / TWO32) * 4);
          addr = (u32() & ~(size - 1)) >>> 0;
        }
        // Writes keep clear of the config mechanisms here too.
        if (!read && this.hitsConfig(io, addr, size)) read = true;
      }
      const o = i * RECORD_WORDS;
      w[o + 1] = 0;
      w[o + 2] = addr >>> 0;
      w[o + 3] = Math.floor(addr / TWO32);
      if (read) {
        w[o] = (io ? IO_READ : MMIO_READ) | (size << 8);
        w[o + 4] = 0;
        w[o + 5] = 0;
      } else {
        w[o] = (io ? IO_WRITE : MMIO_WRITE) | (size << 8);
        w[o + 4] = size === 1 ? u32() & 0xff : size === 2 ? u32() & 0xffff : u32();
        w[o + 5] = size === 8 ? u32() : 0;
      }
    }
    return 2 * moves;
  }

  hitsConfig(io, addr, size) {
    for (const r of this.config) if ((r.io === 1) === io && addr + size > r.base && addr < r.end) return true;
    return false;
  }
}

function put(w, i, op, size, addr, lo, hi) {
  const o = i * RECORD_WORDS;
  w[o] = op | (size << 8);
  w[o + 1] = 0;
  w[o + 2] = addr >>> 0;
  w[o + 3] = Math.floor(addr / TWO32);
  w[o + 4] = lo >>> 0;
  w[o + 5] = hi >>> 0;
}

/**
 * 32-bit memory BARs of functions on a root bus, mapped below the move range's top and smaller
 * than it, with their ECAM register address and where boot put them.
 */
function movableBars(bus, parseBdf) {
  const out = [];
  for (const r of bus.regions()) {
    if (r.kind !== 'bar' || r.space !== 'mmio' || r.bar === undefined || r.bar > 5 || !r.bdf || r.bdf.includes('/')) continue;
    const a = parseBdf(r.bdf);
    const ecam = bus.topology.segments.find((s) => s.segment === a.seg)?.ecam;
    if (!ecam || a.bus < ecam.busStart || a.bus > ecam.busEnd) continue;
    const reg = 0x10 + 4 * r.bar;
    const type = (bus.configRead(r.bdf, reg, 4) >>> 1) & 3;
    const size = Number(r.size);
    if (type !== 0 || size > (MOVE_HIGH - MOVE_LOW) / 2) continue;
    const at = ecam.base + (a.bus - ecam.busStart) * 0x100000 + ((a.dev << 15) | (a.fn << 12) | reg);
    out.push({ bdf: r.bdf, bar: r.bar, base: Number(r.base), size, ecam: at });
  }
  return out;
}
