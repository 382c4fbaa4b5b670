/**
 * @module How the edge answers GET/HEAD of assets and CAS objects: Range (multipart only when
 * EDGE_MULTI_RANGE is on, at most EDGE_MAX_RANGES specs, every answer counted) and active
 * content (assets: EDGE_ACTIVE_CONTENT; CAS objects, which anyone who can store can address:
 * always attachments).
 */
import { configOf, type RequestContext } from "../../shared/context";
import type { ServeOptions } from "../../shared/http/representation";
import { metrics } from "../../shared/metrics";

function rangeOptions(rc: RequestContext): ServeOptions {
  const c = configOf(rc);
  return { multiRange: c.EDGE_MULTI_RANGE, maxRanges: c.EDGE_MAX_RANGES, onRange: (result) => metrics.edgeRanges.inc({ result }) };
}

export const assetServeOptions = (rc: RequestContext): ServeOptions => ({ ...rangeOptions(rc), activeContent: configOf(rc).EDGE_ACTIVE_CONTENT });

export const casServeOptions = (rc: RequestContext): ServeOptions => ({ ...rangeOptions(rc), activeContent: "attachment" });
