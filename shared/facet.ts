/**
 * @module A facet is one service's slice of a worker: its routes, readiness checks, /version
 * features and metric refreshers. The interop, overlay and edge workers serve one facet each;
 * micronode mounts them all by listing them.
 */
import type { RequestContext } from "./context";
import type { Router } from "./middleware/router";
import type { ReadinessCheck } from "./ops/readiness";

export interface Facet {
  routes: Router;
  checks?: readonly ReadinessCheck[];
  features?: (rc: RequestContext<any>) => string[];
  beforeScrape?: (rc: RequestContext<any>) => Promise<void>;
}
