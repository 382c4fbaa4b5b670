// Per-route latency recording with HDR histograms (microsecond resolution), status counts and a
// per-second timeline for the plots.
import hdr from "hdr-histogram-js";

const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

/**
 * A percentile of `histogram` in ms, never above its recorded maximum: HDR answers a percentile with
 * the highest value of its bucket (up to 0.1% above what was recorded), while `maxValue` is exact,
 * so an unclamped p99 or p100 could read above the max.
 */
export const percentileMs = (histogram, p) => Math.min(histogram.getValueAtPercentile(p), histogram.maxValue) / 1000;

export class RouteStats {
  constructor(route) {
    this.route = route;
    this.histogram = newHistogram();
    this.statuses = {};
    this.errors = {};
    this.count = 0;
    this.timeline = new Map(); // second → histogram
  }

  record(latencyMs, status, second) {
    const micros = Math.max(1, Math.round(latencyMs * 1000));
    this.histogram.recordValue(micros);
    let bucket = this.timeline.get(second);
    if (!bucket) this.timeline.set(second, (bucket = newHistogram()));
    bucket.recordValue(micros);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.count++;
  }

  recordError(kind, latencyMs, second) {
    this.record(latencyMs, "error", second);
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  summary(durationS) {
    const ms = (p) => percentileMs(this.histogram, p);
    const ok = Object.entries(this.statuses).reduce((n, [s, c]) => (isSuccess(s) ? n + c : n), 0);
    const shed = (this.statuses["429"] ?? 0) + (this.statuses["503"] ?? 0);
    return {
      route: this.route,
      requests: this.count,
      rps: round(this.count / durationS),
      p50_ms: round(ms(50)),
      p95_ms: round(ms(95)),
      p99_ms: round(ms(99)),
      max_ms: round(this.histogram.maxValue / 1000),
      failures: this.count - ok,
      failure_rate: this.count ? round(1 - ok / this.count, 6) : 0,
      shed,
      shed_rate: this.count ? round(shed / this.count, 6) : 0,
      statuses: this.statuses,
      errors: this.errors,
      timeline: [...this.timeline.entries()]
        .sort(([a], [b]) => a - b)
        .map(([second, h]) => ({ second, count: h.totalCount, p50_ms: round(percentileMs(h, 50)), p95_ms: round(percentileMs(h, 95)), p99_ms: round(percentileMs(h, 99)), max_ms: round(h.maxValue / 1000) })),
      percentiles: [50, 75, 90, 95, 99, 99.9, 100].map((p) => ({ p, ms: round(ms(p)) })),
    };
  }
}

export const isSuccess = (status) => /^(2\d\d|304)$/.test(String(status));
export const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Merge route summaries into totals. */
export function totals(routeSummaries, durationS) {
  const requests = routeSummaries.reduce((n, r) => n + r.requests, 0);
  const failures = routeSummaries.reduce((n, r) => n + r.failures, 0);
  const shed = routeSummaries.reduce((n, r) => n + r.shed, 0);
  return {
    requests,
    achieved_rps: round(requests / durationS),
    failures,
    failure_rate: requests ? round(failures / requests, 6) : 0,
    shed_rate: requests ? round(shed / requests, 6) : 0,
  };
}
