/**
 * @module Readiness checks of the admission layer, on every worker: the rate limiter answers,
 * no brownout, not shedding above READY_SHED_RATE. Each is "degraded": the service still serves
 * some traffic while it fails. Readiness is about the node: a full mailbox topic is back-pressure
 * on that topic (429 to its senders), which any client can cause, so it is not a check here.
 */
import type { ConfigEnv } from "../config";
import type { ReadinessCheck } from "../ops/readiness";
import { limiterFor, type RateLimiterEnv } from "../middleware/with-rate-limit";
import { brownoutState } from "./brownout";
import { recentOutcomes } from "./recent-outcomes";

export const admissionChecks: ReadinessCheck<RateLimiterEnv & ConfigEnv>[] = [
  {
    name: "limiter",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: true }; // reported as config
      const c = rc.configResult.config;
      let timer: ReturnType<typeof setTimeout> | null = null;
      try {
        await Promise.race([
          (async () => await limiterFor(rc, rc.service).available({ rate: c.RATE_LIMIT_RPS, burst: c.RATE_LIMIT_BURST }))(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${c.LIMITER_TIMEOUT_MS} ms`)), c.LIMITER_TIMEOUT_MS))),
        ]);
        return { ok: true };
      } catch (error) {
        return { ok: false, degraded: true, detail: `rate limiter unavailable (reads admitted, writes refused): ${(error as Error)?.message ?? error}` };
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
    },
  },
  {
    name: "brownout",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: true };
      const state = brownoutState(rc.service, rc.configResult.config);
      return state.active ? { ok: false, degraded: true, detail: `writes paused: ${state.why}` } : { ok: true };
    },
  },
  {
    name: "shedding",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: true };
      const c = rc.configResult.config;
      const w = recentOutcomes(rc.service).summary(c.BROWNOUT_WINDOW_S);
      if (w.total < c.BROWNOUT_MIN_REQUESTS || w.shedRate <= c.READY_SHED_RATE) return { ok: true };
      return { ok: false, degraded: true, detail: `${(w.shedRate * 100).toFixed(1)}% of requests shed over ${c.BROWNOUT_WINDOW_S} s` };
    },
  },
];
