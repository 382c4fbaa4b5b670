/**
 * @module The retry budget for upstream calls: base 50 ms, cap 800 ms, 3 retries, full jitter
 * (each wait is uniform in [0, min(cap, base·2^n)]), and only for failures worth retrying.
 */
export interface RetryBudget {
  baseMs: number;
  maxMs: number;
  retries: number;
}

/** The wait before retry number `n` (0-based). */
export const backoffMs = (budget: RetryBudget, n: number, random = Math.random) => random() * Math.min(budget.maxMs, budget.baseMs * 2 ** n);

/** 503, 504 and timeouts are transient; anything else is an answer. */
export const isRetryable = (outcome: { status?: number; timedOut?: boolean; networkError?: boolean }) =>
  outcome.timedOut === true || outcome.networkError === true || outcome.status === 503 || outcome.status === 504;
