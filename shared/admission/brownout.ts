/**
 * @module Brownout: when the recent 5xx rate passes BROWNOUT_ERROR_RATE or the recent p95 passes
 * BROWNOUT_P95_MS (over BROWNOUT_WINDOW_S, once BROWNOUT_MIN_REQUESTS have been seen), writes are
 * refused with 503 BROWNOUT while reads are still served: fail-open reads, fail-closed writes.
 * It clears by itself as the window slides past the bad seconds.
 */
import type { Config } from "../config";
import { recentOutcomes } from "./recent-outcomes";

export type BrownoutState = { active: false } | { active: true; why: string };

export function brownoutState(service: string, config: Config, now = Date.now()): BrownoutState {
  const w = recentOutcomes(service).summary(config.BROWNOUT_WINDOW_S, now);
  if (w.total < config.BROWNOUT_MIN_REQUESTS) return { active: false };
  if (w.errorRate > config.BROWNOUT_ERROR_RATE) return { active: true, why: `5xx rate ${(w.errorRate * 100).toFixed(1)}% over ${config.BROWNOUT_WINDOW_S} s` };
  if (w.p95Ms > config.BROWNOUT_P95_MS) return { active: true, why: `p95 above ${config.BROWNOUT_P95_MS} ms over ${config.BROWNOUT_WINDOW_S} s` };
  return { active: false };
}

export const isRead = (method: string) => method === "GET" || method === "HEAD" || method === "OPTIONS";
