/**
 * @module The hardened request path every worker runs (DESIGN.md §2), in order. Workers only
 * choose their facet routers and readiness checks.
 */
import type { ConfigEnv } from "./config";
import type { MetricsDatasetEnv } from "./metrics/analytics-engine";
import type { RateLimiterEnv } from "./middleware/with-rate-limit";
import type { Handler } from "./context";
import type { Facet } from "./facet";
import {
  firstMatch,
  pipeline,
  routeNotFound,
  withBodyCap,
  withBodyDrain,
  withConfigGate,
  withCorrId,
  withErrorEnvelope,
  withInflightLimit,
  withMetrics,
  withOps,
  withRateLimit,
  withBrownout,
  withHeaderCap,
  withNosniff,
  withTimeout,
} from "./middleware";
import { admissionChecks } from "./admission/readiness";
import { createOpsRouter } from "./ops/routes";
import type { ReadinessCheck } from "./ops/readiness";
import type { RouteEntry } from "./middleware/router";
import { createApiDocsRouter } from "./openapi/serve";
import { serve } from "./worker";

/** What the hardened request path itself needs of a worker's Env, besides its facets' slices. */
export type ServiceEnv = ConfigEnv & RateLimiterEnv & MetricsDatasetEnv;

/** `E`: the worker's Env, which must have every binding of each facet's slice. */
export interface ServiceOptions<E extends ServiceEnv> {
  /** Name in metrics and logs. */
  service: string;
  /** Facets, whose routers are tried in order (first Response wins, else 404). */
  facets: Facet<E>[];
  /** The worker's OpenAPI document (JSON), generated at build time (`npm run openapi`): served at /openapi.json and /docs. */
  document: string;
}

/** The readiness checks a service's /readyz runs besides `config` and `auth`: admission's and its facets', each once. */
export function facetChecks<E extends ServiceEnv>(facets: Facet<E>[]): ReadinessCheck<E>[] {
  return [...admissionChecks, ...facets.flatMap((f) => f.checks ?? [])].filter((c, i, all) => all.findIndex((o) => o.name === c.name) === i);
}

/** A worker's fetch, which also lists every route its routers registered (the API document's test reads it). */
export type ServiceFetch<E> = ((request: Request, env: E, exec: ExecutionContext) => Promise<Response>) & { readonly routes: readonly RouteEntry[] };

export function hardenedService<E extends ServiceEnv>({ service, facets, document }: ServiceOptions<E>): ServiceFetch<E> {
  const ops = createOpsRouter<E>({
    checks: facetChecks(facets),
    features: (rc) => [...new Set(facets.flatMap((f) => f.features?.(rc) ?? []))],
    beforeScrape: async (rc) => {
      await Promise.all(facets.map((f) => f.beforeScrape?.(rc)));
    },
  });
  const routers = [...facets.map((f) => f.routes), createApiDocsRouter(document)];
  const handle: Handler<E> = pipeline<E>(
    withNosniff(), //                      X-Content-Type-Options: nosniff on every answer
    withCorrId(), //                       prepare: X-Corr-ID in and out
    withMetrics(), //                      golden metrics, with the real status of every answer
    withBodyDrain(), //                    unread bodies drained (bounded): keep-alive survives refusals
    withErrorEnvelope(), //                one exit: anything thrown becomes the JSON envelope
    withHeaderCap(), //                    oversized headers → 431, before anything reads them
    withOps(ops), //                       /healthz /readyz /version /metrics bypass admission
    withConfigGate(), //                   invalid config → 503 NOT_READY
    withBrownout(), //                     recent 5xx/p95 too high → writes 503 BROWNOUT, reads served
    withRateLimit(), //                    token bucket (leased from a DO) → 429 RATE_LIMIT
    withInflightLimit(), //                in-flight cap → 503 BACKPRESSURE
    withTimeout(), //                      deadline for everything below
    withBodyCap(), //                      declared Content-Length over the cap → 413
  )(firstMatch<E>(routers, routeNotFound));
  return Object.assign(serve<E>(service, handle), { routes: [ops, ...routers].flatMap((r) => r.routes) });
}
