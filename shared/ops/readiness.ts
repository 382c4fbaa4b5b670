/**
 * @module Readiness: each worker lists checks; `/readyz` runs them all and answers 200 only
 * when every one passes. A check reports what would fail right now, never a guess.
 */
import type { ConfigEnv } from "../config";
import type { RequestContext } from "../context";

export interface CheckResult {
  ok: boolean;
  /** True when the service still serves some traffic (e.g. reads) while this check fails. */
  degraded?: boolean;
  detail?: string;
}

/** A check that needs the bindings of `E` (a property, not a method, so that the compiler holds a worker to them). */
export interface ReadinessCheck<E extends ConfigEnv = ConfigEnv> {
  /** Shown in `missing` when the check fails: `config`, `store`, `store_capacity`, ... */
  name: string;
  run: (rc: RequestContext<E>) => Promise<CheckResult>;
}

export interface ReadinessReport {
  ready: boolean;
  degraded: boolean;
  missing: string[];
  detail: Record<string, string>;
}

/** How long one check may take before it counts as failing. */
const CHECK_TIMEOUT_MS = 2_000;

export const configCheck: ReadinessCheck = {
  name: "config",
  async run(rc) {
    return rc.configResult.ok ? { ok: true } : { ok: false, detail: rc.configResult.errors.join("; ") };
  },
};

/**
 * Without a capability root key the node serves public reads and refuses every write (default
 * deny): degraded, and named `auth` so whoever deployed it sees why.
 */
export const authCheck: ReadinessCheck = {
  name: "auth",
  async run(rc) {
    if (!rc.configResult.ok || rc.configResult.config.CAP_ROOT_KEY) return { ok: true };
    return { ok: false, degraded: true, detail: "CAP_ROOT_KEY is not set: public reads are served, writes are refused with 503 NOT_CONFIGURED (docs/SECURITY.md)" };
  },
};

export async function evaluateReadiness<E extends ConfigEnv>(checks: readonly ReadinessCheck<E>[], rc: RequestContext<E>): Promise<ReadinessReport> {
  const results: (readonly [string, CheckResult])[] = await Promise.all(
    checks.map(async (check) => {
      try {
        let timer: ReturnType<typeof setTimeout> | null = null;
        const timeout = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
        });
        const result = await Promise.race([check.run(rc), timeout]);
        if (timer !== null) clearTimeout(timer);
        return [check.name, result] as const;
      } catch (error) {
        return [check.name, { ok: false, detail: String((error as Error)?.message ?? error) }] as const;
      }
    }),
  );
  const failed = results.filter(([, r]) => !r.ok);
  const detail: Record<string, string> = {};
  for (const [name, r] of failed) if (r.detail) detail[name] = r.detail;
  return {
    ready: failed.length === 0,
    degraded: failed.length > 0 && failed.every(([, r]) => r.degraded === true),
    missing: failed.map(([name]) => name),
    detail,
  };
}
