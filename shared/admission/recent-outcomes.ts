/**
 * @module A sliding window of recent request outcomes, per second: count, 5xx, shed, and a
 * latency histogram, so brownout and readiness can ask "what is the 5xx rate / p95 / shed rate
 * over the last N seconds" in O(window) without keeping every request.
 */
import { LATENCY_BUCKETS } from "../metrics";

interface Second {
  at: number;
  total: number;
  errors: number;
  shed: number;
  latency: number[]; // counts per LATENCY_BUCKETS entry, plus one overflow slot
}

export interface WindowSummary {
  total: number;
  errorRate: number;
  shedRate: number;
  /** Upper bound of the bucket holding the 95th percentile, in ms (Infinity past the last bucket). */
  p95Ms: number;
}

const HISTORY_S = 600;

export class RecentOutcomes {
  readonly #seconds: Second[] = [];

  record(status: number, latencySeconds: number, shed: boolean, now = Date.now()): void {
    const at = Math.floor(now / 1000);
    let current = this.#seconds[this.#seconds.length - 1];
    if (!current || current.at !== at) {
      current = { at, total: 0, errors: 0, shed: 0, latency: new Array(LATENCY_BUCKETS.length + 1).fill(0) };
      this.#seconds.push(current);
      while (this.#seconds.length > 0 && this.#seconds[0]!.at <= at - HISTORY_S) this.#seconds.shift();
    }
    current.total++;
    if (status >= 500) current.errors++;
    if (shed) current.shed++;
    const bucket = LATENCY_BUCKETS.findIndex((le) => latencySeconds <= le);
    current.latency[bucket === -1 ? LATENCY_BUCKETS.length : bucket]!++;
  }

  summary(windowSeconds: number, now = Date.now()): WindowSummary {
    const from = Math.floor(now / 1000) - windowSeconds + 1;
    let total = 0;
    let errors = 0;
    let shed = 0;
    const latency = new Array(LATENCY_BUCKETS.length + 1).fill(0);
    for (const s of this.#seconds) {
      if (s.at < from) continue;
      total += s.total;
      errors += s.errors;
      shed += s.shed;
      s.latency.forEach((n, i) => (latency[i] += n));
    }
    let p95Ms = 0;
    if (total > 0) {
      const rank = Math.ceil(total * 0.95);
      let seen = 0;
      for (let i = 0; i < latency.length; i++) {
        seen += latency[i];
        if (seen >= rank) {
          p95Ms = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! * 1000 : Infinity;
          break;
        }
      }
    }
    return { total, errorRate: total ? errors / total : 0, shedRate: total ? shed / total : 0, p95Ms };
  }
}

/** The isolate's windows, one per service. */
const windows = new Map<string, RecentOutcomes>();
export const recentOutcomes = (service: string) => {
  let w = windows.get(service);
  if (!w) windows.set(service, (w = new RecentOutcomes()));
  return w;
};
