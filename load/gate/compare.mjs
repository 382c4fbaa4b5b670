// The perf gate's verdict, as a pure function of measured runs: medians per side, then the
// seeds' limits (p95 +10%, throughput -10%, memory +15%, cold start +15%, CPU per request +10%,
// shed rate +0.5 percentage points), read from load/scenarios.json.

export const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * @param {Array<{p95_ms: Record<string, number>, throughput_rps: number, rss_max_bytes: number, cold_start_ms: number, cpu_ms_per_request?: Record<string, number>, shed_rate?: Record<string, number>}>} base
 * @param {typeof base} head
 * @param {{p95_rise:number, throughput_fall:number, memory_rise:number, cold_start_rise:number, p95_floor_ms:number, cpu_per_request_rise?:number, shed_rate_rise_pp?:number}} limits
 */
export function compareRuns(base, head, limits) {
  const checks = [];
  const relative = (b, h) => (h - b) / b;
  // keys both sides measured: a route or scenario an older build cannot serve is not compared
  const shared = (field) => {
    const seen = (runs) => new Set(runs.flatMap((r) => Object.keys(r[field] ?? {})));
    const inBase = seen(base);
    return [...seen(head)].filter((k) => inBase.has(k)).sort();
  };
  const routes = shared("p95_ms");
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
  // per scenario: CPU per request of the server process, and the share of requests shed
  if (limits.cpu_per_request_rise !== undefined) {
    for (const scenario of shared("cpu_ms_per_request")) {
      const b = median(base.map((r) => r.cpu_ms_per_request?.[scenario]));
      const h = median(head.map((r) => r.cpu_ms_per_request?.[scenario]));
      checks.push({ metric: `CPU ms/request ${scenario}`, base: b, head: h, change: relative(b, h), limit: `+${limits.cpu_per_request_rise * 100}%`, ok: !(relative(b, h) > limits.cpu_per_request_rise) });
    }
  }
  if (limits.shed_rate_rise_pp !== undefined) {
    for (const scenario of shared("shed_rate")) {
      const b = median(base.map((r) => r.shed_rate?.[scenario]));
      const h = median(head.map((r) => r.shed_rate?.[scenario]));
      // percentage points, not percent: 0 → 0.4% shed is a rise of 0.4 pp
      checks.push({ metric: `shed rate ${scenario}`, base: b, head: h, change: h - b, limit: `+${limits.shed_rate_rise_pp} pp`, ok: !((h - b) * 100 > limits.shed_rate_rise_pp) });
    }
  }
  for (const c of checks) if (!Number.isFinite(c.base) || !Number.isFinite(c.head)) c.ok = false;
  return { ok: checks.every((c) => c.ok), checks };
}
