/**
 * @module RateLimiter: one token bucket per key (a service, or a client key within it). Isolates
 * do not ask per request: they lease small batches of tokens with a short expiry and hand back
 * what they did not use with their next lease, so the object is off the hot path. Tokens never
 * exceed the burst and refill at the rate, so over any T seconds the tokens granted (and so the
 * requests admitted) are at most rate·T + burst; leases only move tokens in time, by at most one
 * lease per isolate. State is memory only: after an eviction a bucket starts full.
 */
import { DurableObject } from "cloudflare:workers";
import type { BucketSpec, Lease, RateLimiterRpc } from "../shared/admission/rate-limiter-rpc";

export type { BucketSpec, Lease } from "../shared/admission/rate-limiter-rpc";

export class RateLimiter extends DurableObject implements RateLimiterRpc {
  #tokens: number | null = null;
  #updatedAt = 0;

  #refill(spec: BucketSpec, now: number): number {
    if (this.#tokens === null) this.#tokens = spec.burst; // a new (or evicted) bucket starts full
    this.#tokens = Math.min(spec.burst, this.#tokens + ((now - this.#updatedAt) / 1000) * spec.rate);
    this.#updatedAt = now;
    return this.#tokens;
  }

  /** Take up to `wanted` tokens, first putting back `returned` unused ones from an expired lease. */
  async lease(wanted: number, returned: number, spec: BucketSpec): Promise<Lease> {
    const now = Date.now();
    let tokens = this.#refill(spec, now);
    tokens = Math.min(spec.burst, tokens + Math.max(0, returned));
    const granted = Math.max(0, Math.min(Math.floor(tokens), Math.floor(wanted)));
    this.#tokens = tokens - granted;
    const missing = granted > 0 ? 0 : 1 - this.#tokens;
    return { granted, retryAfterMs: granted > 0 ? 0 : Math.ceil((missing / spec.rate) * 1000) };
  }

  /** Tokens available now (for readiness and tests). */
  async available(spec: BucketSpec): Promise<number> {
    return this.#refill(spec, Date.now());
  }
}
