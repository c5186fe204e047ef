// Side-by-side measurement helpers: alternate the contenders (A B A B ...) so machine drift hits
// both alike, and report medians with min and max.

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Every result the suites record in this process, for bench/results/latest.json and the chart:
 * `{ suite, backend, unit, median, min, max, runs }` (suite names: README "Benchmarks").
 */
export const collected = [];

/** Records one result (a suite whose numbers do not come from alternate()). */
export function record(suite, backend, unit, samples) {
  collected.push({ suite, backend, unit, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length });
}

/**
 * Runs each contender's `run(iterations)` `rounds` times, alternating, after a warm-up; returns
 * per contender { name, opsPerSecond: { median, min, max }, samples } and per-round ratios.
 * With `record: { suite, unit, backends, scale }` the results also go to `collected`, one per
 * contender under `backends[i]` ('wasm', 'ts', 'limit', a peer; null skips one).
 */
export function alternate(contenders, { iterations, rounds = 9, warmup = 2, record: rec }) {
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
  const out = contenders.map((c, i) => ({
    name: c.name,
    samples: samples[i],
    opsPerSecond: { median: median(samples[i]), min: Math.min(...samples[i]), max: Math.max(...samples[i]) },
  }));
  if (rec) {
    out.forEach((o, i) => {
      const backend = rec.backends ? rec.backends[i] : o.name;
      if (backend) record(rec.suite, backend, rec.unit ?? 'per second', o.samples.map((v) => v * (rec.scale ?? 1)));
    });
  }
  return out;
}

/** A stable suite name from a label: lower case, words joined by '-'. */
export function slug(prefix, label) {
  return `${prefix}-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/** "12.3 M/s". */
export function rate(v) {
  return v >= 1e6 ? `${(v / 1e6).toFixed(1)} M/s` : `${(v / 1e3).toFixed(1)} k/s`;
}
