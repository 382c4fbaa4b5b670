/**
 * @module In-flight cap per isolate (`MAX_INFLIGHT`, default 512): past it new requests are shed
 * with 503 BACKPRESSURE instead of queueing without bound. Maintains `inflight_requests`.
 */
import { configOf, type Middleware } from "../context";
import { shed } from "../errors";
import { metrics } from "../metrics";

const SHED_RETRY_MS = 1_000;
let inflight = 0;

export function withInflightLimit(): Middleware {
  return (next) =>
    async function withInflightLimit(request, rc) {
      if (inflight >= configOf(rc).MAX_INFLIGHT) {
        throw shed(503, "BACKPRESSURE", "too many requests in flight", SHED_RETRY_MS);
      }
      inflight++;
      metrics.inflight.set({ service: rc.service }, inflight);
      try {
        return await next(request, rc);
      } finally {
        inflight--;
        metrics.inflight.set({ service: rc.service }, inflight);
      }
    };
}
