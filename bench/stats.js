// Side-by-side measurement helpers: alternate the contenders (A B A B ...) so machine drift hits
// both alike, and report medians with min and max.

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs each contender's `run(iterations)` `rounds` times, alternating, after a warm-up; returns
 * per contender { name, opsPerSecond: { median, min, max }, samples } and per-round ratios.
 */
export function alternate(contenders, { iterations, rounds = 9, warmup = 2 }) {
  for (let w = 0; w < warmup; w++) for (const c of contenders) c.run(iterations);
  const samples = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    contenders.forEach((c, i) => {
      const t0 = performance.now();
      c.run(iterations);
      const seconds = (performance.now() - t0) / 1000;
      samples[i].push(iterations / seconds);
    });
  }
  return contenders.map((c, i) => ({
    name: c.name,
    samples: samples[i],
    opsPerSecond: { median: median(samples[i]), min: Math.min(...samples[i]), max: Math.max(...samples[i]) },
  }));
}

/** "12.3 M/s". */
export function rate(v) {
  return v >= 1e6 ? `${(v / 1e6).toFixed(1)} M/s` : `${(v / 1e3).toFixed(1)} k/s`;
}
