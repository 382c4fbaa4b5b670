/**
 * @module Token-bucket admission (RATE_LIMIT_RPS, RATE_LIMIT_BURST) through leased batches from
 * the RateLimiter Durable Object: over the rate → 429 RATE_LIMIT with Retry-After. When the
 * limiter errors or is slow (LIMITER_TIMEOUT_MS): reads are admitted, writes get 503 NOT_READY
 * (docs/DECISIONS.md), and /readyz reports `limiter`.
 */
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { isRead } from "../admission/brownout";
import { LimiterUnavailable, TokenLeases, type LeaseSource } from "../admission/token-leases";
import { configOf, type Middleware, type RequestContext } from "../context";
import { shed, resourceBusy } from "../errors";
import { metrics } from "../metrics";
import { log } from "../log";

export interface RateLimiterEnv {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
}

const leases = new TokenLeases();

/** The bucket a request draws from: per service, or per client within the service. */
export function bucketKey(service: string, keyKnob: string, headers: Headers): string {
  if (keyKnob === "service") return service;
  const value = keyKnob === "ip" ? headers.get("cf-connecting-ip") : headers.get(keyKnob.slice("header:".length));
  return `${service}:client:${(value ?? "anonymous").slice(0, 128)}`;
}

export function limiterFor(rc: RequestContext<any>, key: string) {
  const namespace = (rc.env as RateLimiterEnv).RATE_LIMITER;
  return namespace.get(namespace.idFromName(key));
}

/** The limiter as a lease source whose RPCs are timed as `do` in Server-Timing (most requests make none). */
function leaseSourceFor(rc: RequestContext<any>, key: string): LeaseSource {
  const stub = limiterFor(rc, key);
  return { lease: (wanted, returned, spec) => rc.timing.measure("do", stub.lease(wanted, returned, spec)) };
}

export function withRateLimit(): Middleware {
  return (next) =>
    async function withRateLimit(request, rc) {
      const c = configOf(rc);
      const key = bucketKey(rc.service, c.RATE_LIMIT_KEY, request.headers);
      let result;
      try {
        result = await leases.take(key, () => leaseSourceFor(rc, key), {
          spec: { rate: c.RATE_LIMIT_RPS, burst: c.RATE_LIMIT_BURST },
          leaseMs: c.RATE_LIMIT_LEASE_MS,
          timeoutMs: c.LIMITER_TIMEOUT_MS,
        });
      } catch (error) {
        if (!(error instanceof LimiterUnavailable)) throw error;
        metrics.limiterErrors.inc();
        log.warn(rc, "rate limiter unavailable", { error: error.message });
        if (isRead(request.method)) return await next(request, rc); // fail open for reads
        throw shed(503, "NOT_READY", "rate limiter unavailable: writes are refused until it answers", 1_000);
      }
      // a quota refusal, not the node shedding: it does not count towards /readyz `shedding`
      if (!result.admitted) throw resourceBusy("RATE_LIMIT", "rate limit exceeded", result.retryAfterMs);
      return await next(request, rc);
    };
}
