/**
 * @module The isolate's side of rate limiting: per bucket key, a small batch of tokens leased
 * from the RateLimiter Durable Object and spent locally until it runs out or expires. One lease
 * request per key is in flight at a time (single flight); an empty bucket is remembered until its
 * next token is due, so a flood of refused requests does not become a flood of RPCs.
 *
 * Requests share only data here: the request that renews a lease makes the RPC and awaits it;
 * others wait on the `renewing` flag with timers of their own. Awaiting the renewer's promise from
 * another request broke under load ("Cannot perform I/O on behalf of a different request"), and
 * that error escaped as a 500.
 *
 * A renewal asks for a token for every request waiting on it (up to the burst), so a burst from
 * one client costs a few RPCs (one takes what the bucket holds, the next learns it is empty), not
 * one per batch: with batches of 2, a burst's waiters renewed in turn, a chain of RPCs that could
 * outlast their timeout, and then reads failed open (the soak's limiter drill, docs/PERFORMANCE.md).
 *
 * Keys come from clients (their token's id, IP or a header), so the table is bounded
 * (`maxKeys`): past it, leases with nothing left to spend, hand back or wait for are dropped
 * first, then the oldest others. A dropped lease only means the key's next request leases anew.
 */
import type { BucketSpec, Lease } from "./rate-limiter-rpc";

export interface LeaseSource {
  lease(wanted: number, returned: number, spec: BucketSpec): Promise<Lease>;
}

export interface LeaseOptions {
  spec: BucketSpec;
  leaseMs: number;
  timeoutMs: number;
  /** Keys with a local lease at most (RATE_LIMIT_MAX_KEYS). */
  maxKeys: number;
}

export type TakeResult = { admitted: true } | { admitted: false; retryAfterMs: number };

/** The limiter did not answer (error or timeout). */
export class LimiterUnavailable extends Error {}

interface LocalLease {
  tokens: number;
  expiresAt: number;
  /** Tokens of an expired lease, handed back with the next request. */
  unused: number;
  deniedUntil: number;
  /** A lease RPC is in flight (made by one request; the others wait on this flag). */
  renewing: boolean;
  /** Requests waiting for the RPC in flight: the next renewal asks for their tokens too. */
  waiting: number;
}

/** How often a request waiting for another's lease RPC looks again. */
const WAIT_STEP_MS = 1;

/** Tokens per lease: enough for one lease period at the full rate, at least 1, at most the burst. */
export const batchSize = ({ spec, leaseMs }: Pick<LeaseOptions, "spec" | "leaseMs"> & Partial<LeaseOptions>) => Math.max(1, Math.min(spec.burst, Math.ceil((spec.rate * leaseMs) / 1000)));

/** Tokens a renewal asks for: a batch, or one for the renewing request and each waiting one if more, at most the burst. */
export const tokensWanted = (options: Pick<LeaseOptions, "spec" | "leaseMs">, waiting: number) => Math.max(batchSize(options), Math.min(options.spec.burst, waiting + 1));

export class TokenLeases {
  readonly #leases = new Map<string, LocalLease>();

  /** Keys holding a local lease now. */
  get size(): number {
    return this.#leases.size;
  }

  async take(key: string, source: () => LeaseSource, options: LeaseOptions): Promise<TakeResult> {
    // a lease holds tokens of one bucket spec: new limits start from a fresh lease
    const local = `${key}|${options.spec.rate}|${options.spec.burst}`;
    let lease = this.#leases.get(local);
    if (!lease) {
      if (this.#leases.size >= options.maxKeys) this.#makeRoom(options.maxKeys);
      this.#leases.set(local, (lease = { tokens: 0, expiresAt: 0, unused: 0, deniedUntil: 0, renewing: false, waiting: 0 }));
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = Date.now();
      // Expire only before waiting: a batch that just arrived is spent even if this request
      // resumed late (under load it can wake after the lease period), else it would starve.
      if (attempt === 0 && lease.tokens > 0 && lease.expiresAt <= now) {
        lease.unused += lease.tokens;
        lease.tokens = 0;
      }
      if (lease.tokens > 0) {
        lease.tokens--;
        return { admitted: true };
      }
      if (lease.deniedUntil > now) return { admitted: false, retryAfterMs: lease.deniedUntil - now };
      if (lease.renewing) {
        lease.waiting++;
        try {
          await waitWhileRenewing(lease, options.timeoutMs);
        } finally {
          lease.waiting--;
        }
      } else {
        lease.renewing = true;
        try {
          await this.#renew(lease, source(), options);
        } finally {
          lease.renewing = false;
        }
      }
    }
    // the fresh batch went to other waiting requests
    return { admitted: false, retryAfterMs: Math.ceil(1000 / options.spec.rate) };
  }

  /**
   * Bring the table under `maxKeys` with room to spare (down to 3/4 of it), so a stream of new
   * keys sweeps once per quarter of the cap, not on every request: idle leases first (expired,
   * not refused, no RPC in flight), then the oldest of the rest.
   */
  #makeRoom(maxKeys: number, now = Date.now()): void {
    const target = Math.floor((maxKeys * 3) / 4);
    for (const [key, lease] of this.#leases) {
      if (this.#leases.size <= target) return;
      if (!lease.renewing && lease.waiting === 0 && lease.expiresAt <= now && lease.deniedUntil <= now) this.#leases.delete(key);
    }
    for (const key of this.#leases.keys()) {
      if (this.#leases.size <= target) return;
      this.#leases.delete(key); // a request still holding it finishes with its own reference
    }
  }

  async #renew(lease: LocalLease, source: LeaseSource, options: LeaseOptions): Promise<void> {
    const returned = lease.unused;
    lease.unused = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LimiterUnavailable(`rate limiter did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      // awaited inside an async function at once, so an RPC rejection is never seen as unhandled
      const call = (async () => await source.lease(tokensWanted(options, lease.waiting), returned, options.spec))();
      const result = await Promise.race([call, timeout]);
      const now = Date.now();
      lease.tokens += result.granted;
      lease.expiresAt = now + options.leaseMs;
      if (result.granted === 0) lease.deniedUntil = now + result.retryAfterMs;
    } catch (error) {
      lease.unused += returned; // not handed back: keep them for the next try
      throw error instanceof LimiterUnavailable ? error : new LimiterUnavailable(`rate limiter failed: ${(error as Error)?.message ?? error}`);
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }
}

/** Wait, on this request's own timers, until no lease RPC is in flight (or the limiter's timeout). */
async function waitWhileRenewing(lease: LocalLease, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (lease.renewing) {
    if (Date.now() >= deadline) throw new LimiterUnavailable(`rate limiter did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}
