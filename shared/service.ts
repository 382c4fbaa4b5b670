/**
 * @module The hardened request path every worker runs (DESIGN.md §2), in order. Workers only
 * choose their facet routers and readiness checks.
 */
import type { ConfigEnv } from "./config";
import type { Handler, RouteHandler } from "./context";
import {
  firstMatch,
  pipeline,
  routeNotFound,
  withBodyCap,
  withConfigGate,
  withCorrId,
  withErrorEnvelope,
  withInflightLimit,
  withMetrics,
  withOps,
  withTimeout,
} from "./middleware";
import { createOpsRouter, type OpsOptions } from "./ops/routes";
import { serve } from "./worker";

export interface ServiceOptions extends OpsOptions {
  /** Name in metrics and logs. */
  service: string;
  /** Facet routers, tried in order; the first Response wins, else 404. */
  routes: RouteHandler[];
}

export function hardenedService<E extends ConfigEnv>(options: ServiceOptions) {
  const handle: Handler = pipeline(
    withCorrId(), //                       prepare: X-Corr-ID in and out
    withMetrics(), //                      golden metrics, with the real status of every answer
    withErrorEnvelope(), //                one exit: anything thrown becomes the JSON envelope
    withOps(createOpsRouter(options)), //  /healthz /readyz /version /metrics bypass admission
    withConfigGate(), //                   invalid config → 503 NOT_READY
    withInflightLimit(), //                admission: in-flight cap
    withTimeout(), //                      deadline for everything below
    withBodyCap(), //                      declared Content-Length over the cap → 413
  )(firstMatch(options.routes, routeNotFound));
  return serve<E>(options.service, handle);
}
