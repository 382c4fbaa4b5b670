// The perf gate's verdict, as a pure function of measured runs: medians per side, then the
// seeds' limits (p95 +10%, throughput -10%, memory +15%, cold start +15%).

export const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * @param {Array<{p95_ms: Record<string, number>, throughput_rps: number, rss_max_bytes: number, cold_start_ms: number}>} base
 * @param {typeof base} head
 * @param {{p95_rise:number, throughput_fall:number, memory_rise:number, cold_start_rise:number, p95_floor_ms:number}} limits
 */
export function compareRuns(base, head, limits) {
  const checks = [];
  const relative = (b, h) => (h - b) / b;
  const routes = [...new Set([...base, ...head].flatMap((r) => Object.keys(r.p95_ms)))].sort();
  for (const route of routes) {
    const b = median(base.map((r) => r.p95_ms[route]));
    const h = median(head.map((r) => r.p95_ms[route]));
    const rise = relative(b, h);
    checks.push({ metric: `p95 ${route}`, base: b, head: h, change: rise, limit: `+${limits.p95_rise * 100}%`, ok: !(rise > limits.p95_rise && h - b > limits.p95_floor_ms) });
  }
  const tb = median(base.map((r) => r.throughput_rps));
  const th = median(head.map((r) => r.throughput_rps));
  checks.push({ metric: "throughput req/s", base: tb, head: th, change: relative(tb, th), limit: `-${limits.throughput_fall * 100}%`, ok: !(relative(tb, th) < -limits.throughput_fall) });
  const mb = median(base.map((r) => r.rss_max_bytes));
  const mh = median(head.map((r) => r.rss_max_bytes));
  checks.push({ metric: "server RSS bytes", base: mb, head: mh, change: relative(mb, mh), limit: `+${limits.memory_rise * 100}%`, ok: !(relative(mb, mh) > limits.memory_rise) });
  const cb = median(base.map((r) => r.cold_start_ms));
  const ch = median(head.map((r) => r.cold_start_ms));
  checks.push({ metric: "cold start ms", base: cb, head: ch, change: relative(cb, ch), limit: `+${limits.cold_start_rise * 100}%`, ok: !(relative(cb, ch) > limits.cold_start_rise) });
  for (const c of checks) if (!Number.isFinite(c.base) || !Number.isFinite(c.head)) c.ok = false;
  return { ok: checks.every((c) => c.ok), checks };
}
