/**
 * @module A facet is one service's slice of a worker: its routes, readiness checks, /version
 * features and metric refreshers. The interop, overlay and edge workers serve one facet each;
 * micronode mounts them all by listing them.
 */
import type { ConfigEnv } from "./config";
import type { RequestContext } from "./context";
import type { Router } from "./middleware/router";
import type { ReadinessCheck } from "./ops/readiness";

/**
 * A facet over `E`, the slice of Env its routes, checks and gauges need (each facet exports its
 * own). A worker mounts it only if the worker's Env has every binding of that slice: `Facet<E>` is
 * a `Facet<W>` exactly when `W` extends `E`.
 */
export interface Facet<E extends ConfigEnv = ConfigEnv> {
  routes: Router<E>;
  checks?: readonly ReadinessCheck<E>[];
  features?: (rc: RequestContext<E>) => string[];
  beforeScrape?: (rc: RequestContext<E>) => Promise<void>;
}
