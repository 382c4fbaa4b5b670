/**
 * @module Token-bucket admission through leased batches from RateLimiter Durable Objects: one
 * bucket per client (RATE_LIMIT_RPS, RATE_LIMIT_BURST), keyed by its capability token's id when it
 * presents a valid one, else its IP, and a service-wide bucket over all clients
 * (RATE_LIMIT_SERVICE_RPS, RATE_LIMIT_SERVICE_BURST); RATE_LIMIT_SCOPE picks which apply (both by
 * default). Over either → 429 RATE_LIMIT with Retry-After. When the limiter errors or is slow
 * (LIMITER_TIMEOUT_MS): reads are admitted, writes get 503 NOT_READY (docs/DECISIONS.md), and
 * /readyz reports `limiter`.
 */
import { isRead } from "../admission/brownout";
import type { RateLimiterRpc } from "../admission/rate-limiter-rpc";
import { LimiterUnavailable, TokenLeases, type LeaseSource, type TakeResult } from "../admission/token-leases";
import { keyringOfEnv, verifiedTokenId } from "../capability";
import type { ConfigEnv } from "../config";
import { configOf, type Middleware, type RequestContext } from "../context";
import { shed, resourceBusy } from "../errors";
import { metrics } from "../metrics";
import { bearerToken } from "./require-capability";
import { singletonStub } from "../singleton-stub";
import { log } from "../log";

export interface RateLimiterEnv {
  RATE_LIMITER: DurableObjectNamespace<RateLimiterRpc>;
}
/** A request that draws from the rate limiter's buckets. */
export type RateLimiterContext = RequestContext<RateLimiterEnv & ConfigEnv>;

const leases = new TokenLeases();

/** Longest client identity kept in a bucket name. */
const MAX_CLIENT_KEY = 128;

/**
 * Who the client is, for its bucket: with `auto`, the id of the capability token it presents when
 * the token verifies (attenuations share it, so a client cannot escape its limit by attenuating),
 * else its IP; or the IP, or a header's value. Unknown → "anonymous" (one bucket for all of them).
 */
export function clientKeyOf(request: Request, rc: RequestContext, keyKnob: string): string {
  if (keyKnob.startsWith("header:")) return (request.headers.get(keyKnob.slice("header:".length)) ?? "anonymous").slice(0, MAX_CLIENT_KEY);
  if (keyKnob === "auto") {
    const token = bearerToken(request);
    const keyring = token ? keyringOfEnv(rc.env) : null;
    // an invalid token is refused by the route later; until then the client is its IP
    const id = token && keyring ? verifiedTokenId(token, keyring) : null;
    if (id) return `token:${id}`;
  }
  const ip = request.headers.get("cf-connecting-ip");
  return ip ? `ip:${ip.slice(0, MAX_CLIENT_KEY)}` : "anonymous";
}

/** The bucket names a request draws from, in order: the client's, then the service's. */
export function bucketsOf(service: string, scope: "client" | "service" | "both", clientKey: string): { name: string; scope: "client" | "service" }[] {
  const client = { name: `${service}:client:${clientKey}`, scope: "client" as const };
  const whole = { name: service, scope: "service" as const };
  return scope === "client" ? [client] : scope === "service" ? [whole] : [client, whole];
}

export function limiterFor(rc: RateLimiterContext, key: string) {
  const namespace = rc.env.RATE_LIMITER;
  // the service-wide bucket is one object for the deployment: DO_LOCATION_HINT places it
  return key === rc.service ? singletonStub(namespace, key, rc.env) : namespace.get(namespace.idFromName(key));
}

/** The limiter as a lease source whose RPCs are timed as `do` in Server-Timing (most requests make none). */
function leaseSourceFor(rc: RateLimiterContext, key: string): LeaseSource {
  const stub = limiterFor(rc, key);
  return {
    lease: (wanted, returned, spec) => {
      metrics.limiterLeaseCalls.inc();
      return rc.timing.measure("do", stub.lease(wanted, returned, spec));
    },
  };
}

export function withRateLimit(): Middleware<RateLimiterEnv & ConfigEnv> {
  return (next) =>
    async function withRateLimit(request, rc) {
      const c = configOf(rc);
      const clientKey = c.RATE_LIMIT_SCOPE === "service" ? "" : clientKeyOf(request, rc, c.RATE_LIMIT_KEY);
      for (const bucket of bucketsOf(rc.service, c.RATE_LIMIT_SCOPE, clientKey)) {
        const spec = bucket.scope === "client" ? { rate: c.RATE_LIMIT_RPS, burst: c.RATE_LIMIT_BURST } : { rate: c.RATE_LIMIT_SERVICE_RPS, burst: c.RATE_LIMIT_SERVICE_BURST };
        let result: TakeResult;
        try {
          result = await leases.take(bucket.name, () => leaseSourceFor(rc, bucket.name), { spec, leaseMs: c.RATE_LIMIT_LEASE_MS, timeoutMs: c.LIMITER_TIMEOUT_MS, maxKeys: c.RATE_LIMIT_MAX_KEYS });
          metrics.limiterLeases.set({}, leases.size);
        } catch (error) {
          if (!(error instanceof LimiterUnavailable)) throw error;
          metrics.limiterErrors.inc();
          log.warn(rc, "rate limiter unavailable", { error: error.message });
          if (isRead(request.method)) return await next(request, rc); // fail open for reads
          throw shed(503, "NOT_READY", "rate limiter unavailable: writes are refused until it answers", 1_000);
        }
        // a quota refusal, not the node shedding: it does not count towards /readyz `shedding`
        if (!result.admitted) {
          metrics.rateLimited.inc({ scope: bucket.scope });
          throw resourceBusy("RATE_LIMIT", bucket.scope === "client" ? "rate limit exceeded for this client" : "rate limit exceeded for the service", result.retryAfterMs);
        }
      }
      return await next(request, rc);
    };
}
