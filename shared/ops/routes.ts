/**
 * @module The ops surface every worker serves: `/healthz`, `/readyz`, `/version`, `/metrics`.
 * These bypass admission, so they answer even while the service sheds load.
 */
import packageJson from "../../package.json";
import type { RequestContext } from "../context";
import { JSON_CONTENT_TYPE } from "../errors";
import { PROMETHEUS_CONTENT_TYPE, registry } from "../metrics";
import { isolateId } from "../metrics/isolate";
import { createRouter, type Router } from "../middleware/router";
import { authCheck, configCheck, evaluateReadiness, type ReadinessCheck } from "./readiness";
import { keyringOf } from "../capability";
import { parseKnobs, type ConfigEnv } from "../config";
import { requireCapabilityUnder } from "../middleware/require-capability";
import { log } from "../log";

export interface OpsOptions<E extends ConfigEnv> {
  /** Checks besides `config`, which is always included. */
  checks?: readonly ReadinessCheck<E>[];
  /** Capabilities shown by /version, e.g. ["interop", "amnesia"]. */
  features?: (rc: RequestContext<E>) => string[];
  /** Refresh gauges that are read from elsewhere (a DO, a store) just before /metrics renders. */
  beforeScrape?: (rc: RequestContext<E>) => Promise<void>;
}

/** Seconds a client or balancer should wait before asking /readyz again. */
const READY_RETRY_AFTER_S = 5;

const json = (body: unknown, status = 200, headers: HeadersInit = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", ...headers },
  });

export function createOpsRouter<E extends ConfigEnv>(options: OpsOptions<E> = {}): Router<E> {
  const checks = [configCheck, authCheck, ...(options.checks ?? [])];
  return createRouter<E>({
    "/healthz": { GET: async () => json({ ok: true }), HEAD: async () => new Response(null, { status: 200 }) },
    "/readyz": {
      GET: async (_request, rc) => {
        const report = await evaluateReadiness(checks, rc);
        if (report.ready) return json({ ready: true });
        return json(
          { ready: false, degraded: report.degraded, missing: report.missing, retry_after: READY_RETRY_AFTER_S, detail: report.detail },
          503,
          { "Retry-After": String(READY_RETRY_AFTER_S) },
        );
      },
    },
    "/version": {
      GET: async (_request, rc) => {
        const config = rc.configResult.ok ? rc.configResult.config : undefined;
        return json({
          version: packageJson.version,
          git: config?.BUILD_GIT_SHA ?? "unknown",
          build: config?.BUILD_TIME ?? "unknown",
          features: options.features?.(rc) ?? [],
        });
      },
    },
    "/metrics": {
      GET: async (request, rc) => {
        // still served while the configuration is invalid: judged by the knobs it needs alone
        const knobs = rc.configResult.ok ? rc.configResult.config : parseKnobs(rc.env, ["METRICS_PUBLIC", "CAP_ROOT_KEY", "CAP_ROOT_KEY_PREVIOUS"]);
        if (!knobs.METRICS_PUBLIC) requireCapabilityUnder(keyringOf(knobs), request, { op: "metrics" });
        try {
          await options.beforeScrape?.(rc);
        } catch (error) {
          // A gauge source being down must not hide every other metric.
          log.warn(rc, "metrics refresh failed", { error: String(error) });
        }
        // one isolate's memory: the label keeps scrapes of different isolates apart
        return new Response(registry.render({ isolate: isolateId() }), { headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" } });
      },
    },
  });
}
