import { describe, expect, it } from "vitest";
import { LimiterUnavailable, TokenLeases, batchSize } from "../shared/admission/token-leases";
import type { BucketSpec, Lease } from "../durable-objects/rate-limiter";

/** Lease sources are the seam to the RateLimiter DO; these exercise the isolate-side rules. */
const options = (over: Partial<{ leaseMs: number; timeoutMs: number; maxKeys: number }> = {}) => ({ spec: { rate: 100, burst: 50 }, leaseMs: 1000, timeoutMs: 50, maxKeys: 1000, ...over });

function countingSource(grant: (wanted: number, returned: number) => Lease) {
  const calls: { wanted: number; returned: number }[] = [];
  return {
    calls,
    source: { lease: async (wanted: number, returned: number, _spec: BucketSpec) => (calls.push({ wanted, returned }), grant(wanted, returned)) },
  };
}

describe("TokenLeases (isolate side of the rate limiter)", () => {
  it("sizes a lease as one lease period at the full rate, within [1, burst]", () => {
    expect(batchSize({ spec: { rate: 500, burst: 250 }, leaseMs: 50, timeoutMs: 1 })).toBe(25);
    expect(batchSize({ spec: { rate: 1, burst: 5 }, leaseMs: 50, timeoutMs: 1 })).toBe(1);
    expect(batchSize({ spec: { rate: 10000, burst: 20 }, leaseMs: 50, timeoutMs: 1 })).toBe(20);
  });

  it("spends a lease locally and asks once for concurrent requests (single flight)", async () => {
    const { calls, source } = countingSource((wanted) => ({ granted: wanted, retryAfterMs: 0 }));
    const leases = new TokenLeases();
    const results = await Promise.all(Array.from({ length: 50 }, () => leases.take("k", () => source, options())));
    expect(results.every((r) => r.admitted)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("remembers an empty bucket until its next token is due", async () => {
    const { calls, source } = countingSource(() => ({ granted: 0, retryAfterMs: 200 }));
    const leases = new TokenLeases();
    const first = await leases.take("k", () => source, options());
    const second = await leases.take("k", () => source, options());
    expect(first.admitted).toBe(false);
    expect(second).toMatchObject({ admitted: false });
    expect(calls).toHaveLength(1);
  });

  it("hands unused tokens of an expired lease back with the next request", async () => {
    const { calls, source } = countingSource((wanted) => ({ granted: wanted, retryAfterMs: 0 }));
    const leases = new TokenLeases();
    await leases.take("k", () => source, options({ leaseMs: 20 }));
    await new Promise((r) => setTimeout(r, 40));
    await leases.take("k", () => source, options({ leaseMs: 20 }));
    expect(calls[1]!.returned).toBe(calls[0]!.wanted - 1);
  });

  it("turns a failing or slow limiter into LimiterUnavailable", async () => {
    const leases = new TokenLeases();
    const failing = {
      lease: async (): Promise<Lease> => {
        throw new Error("boom");
      },
    };
    await expect(leases.take("a", () => failing, options())).rejects.toBeInstanceOf(LimiterUnavailable);
    const slow = { lease: () => new Promise<Lease>(() => {}) };
    await expect(leases.take("b", () => slow, options({ timeoutMs: 30 }))).rejects.toThrow(/within 30 ms/);
  });
});
