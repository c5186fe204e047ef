// Random PCI topologies for the allocation bench, from a seeded PRNG so a run can be repeated
// exactly (`--seed N`). Every function has 1-4 BARs plus maybe a ROM; memory BARs 16 B .. 1 GiB
// (most small, a few huge, like NICs next to GPUs), IO BARs 4..256 B, 64-bit and prefetchable
// mixes; bridges up to three deep with 16/32-bit IO, 32/64-bit or no prefetchable window, some
// hotplug-capable.

/** xorshift32: small, fast, and the same sequence on every engine. Returns floats in [0, 1). */
export function prng(seed) {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const pick = (rnd, weighted) => {
  const total = weighted.reduce((s, [w]) => s + w, 0);
  let r = rnd() * total;
  for (const [w, v] of weighted) if ((r -= w) < 0) return v;
  return weighted[weighted.length - 1][1];
};
const int = (rnd, lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pow2 = (rnd, lo, hi) => 1n << BigInt(int(rnd, lo, hi));

/** Memory BAR sizes: 60% 16 B-64 KiB, 30% 128 KiB-16 MiB, 8% 32-256 MiB, 2% 512 MiB-1 GiB. */
function memSize(rnd) {
  const [lo, hi] = pick(rnd, [[60, [4, 16]], [30, [17, 24]], [8, [25, 28]], [2, [29, 30]]]);
  return pow2(rnd, lo, hi);
}

function bars(rnd, slots) {
  const out = [];
  const count = int(rnd, 1, slots === 2 ? 1 : 4);
  let index = 0;
  for (let n = 0; n < count && index < slots; n++) {
    const kind = pick(rnd, [[15, 'io'], [35, 'mem32'], [5, 'mem32p'], [15, 'mem64'], [30, 'mem64p']]);
    if (kind === 'io') { out.push({ index, kind: 'io', prefetchable: false, size: pow2(rnd, 2, 8) }); index++; continue; }
    const wide = kind.startsWith('mem64');
    if (wide && index + 1 >= slots) break;
    out.push({ index, kind: wide ? 'mem64' : 'mem32', prefetchable: kind.endsWith('p'), size: memSize(rnd) });
    index += wide ? 2 : 1;
  }
  if (rnd() < 0.25) out.push({ index: 6, kind: 'rom', prefetchable: false, size: pow2(rnd, 11, 20) });
  return out;
}

function node(rnd, depth, bdf) {
  if (depth < 3 && rnd() < 0.3) {
    const children = [];
    const n = int(rnd, 1, 4);
    for (let d = 0; d < n; d++) children.push(node(rnd, depth + 1, `${bdf}/${d.toString(16).padStart(2, '0')}.0`));
    const hasPrefetchWindow = rnd() < 0.9;
    return {
      bdf,
      bars: rnd() < 0.1 ? [{ index: 0, kind: 'mem32', prefetchable: false, size: 16n * 1024n }] : [],
      io32: rnd() < 0.5,
      prefetch64: hasPrefetchWindow && rnd() < 0.8,
      hasPrefetchWindow,
      hotplug: rnd() < 0.3,
      children,
    };
  }
  return { bdf, bars: bars(rnd, 6) };
}

/** `count` root-bus trees (2-8 functions each, functions named by path). */
export function topologies(seed, count) {
  const rnd = prng(seed);
  const out = [];
  for (let t = 0; t < count; t++) {
    const n = int(rnd, 2, 8);
    const children = [];
    for (let d = 0; d < n; d++) children.push(node(rnd, 0, `00:${(d + 1).toString(16).padStart(2, '0')}.0`));
    out.push(children);
  }
  return out;
}
