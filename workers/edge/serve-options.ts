/**
 * @module How the edge answers Range on assets and CAS objects: multipart only when
 * EDGE_MULTI_RANGE is on, at most EDGE_MAX_RANGES range-specs, every answer counted.
 */
import { configOf, type RequestContext } from "../../shared/context";
import type { ServeOptions } from "../../shared/http/representation";
import { metrics } from "../../shared/metrics";

export function edgeRangeOptions(rc: RequestContext<any>): ServeOptions {
  const c = configOf(rc);
  return { multiRange: c.EDGE_MULTI_RANGE, maxRanges: c.EDGE_MAX_RANGES, onRange: (result) => metrics.edgeRanges.inc({ result }) };
}
