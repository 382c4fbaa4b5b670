/**
 * @module The RateLimiter Durable Object's RPC contract (durable-objects/rate-limiter.ts
 * implements it): what the isolate's lease table (token-leases.ts) and readiness call.
 */

export interface BucketSpec {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the most tokens available at once. */
  burst: number;
}

export interface Lease {
  granted: number;
  /** When the next token will be available if none was granted (ms from now). */
  retryAfterMs: number;
}

export interface RateLimiterRpc extends Rpc.DurableObjectBranded {
  /** Take up to `wanted` tokens, first putting back `returned` unused ones from an expired lease. */
  lease(wanted: number, returned: number, spec: BucketSpec): Promise<Lease>;
  /** Tokens available now (for readiness and tests). */
  available(spec: BucketSpec): Promise<number>;
}
