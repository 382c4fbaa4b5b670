/**
 * @module The one exit for errors: anything thrown below becomes the JSON envelope with the
 * request's corr id. Unknown throws are logged, reported to Sentry when configured, and
 * answered 500. Shed responses (those with a retry hint) are counted in `rejected_total`.
 */
import type { Middleware } from "../context";
import { errorResponse, toHttpError } from "../errors";
import { metrics } from "../metrics";
import { reportError } from "../sentry";
import { errorText, log } from "../log";

export function withErrorEnvelope(): Middleware {
  return (next) =>
    async function withErrorEnvelope(request, rc) {
      try {
        return await next(request, rc);
      } catch (thrown) {
        const { error, unexpected } = toHttpError(thrown);
        if (unexpected) {
          log.error(rc, "unexpected error", { error: errorText(thrown) });
          reportError(thrown, request, rc);
        }
        if (error.retryAfterMs !== undefined && error.reason) metrics.rejected.inc({ reason: error.reason });
        if (error.reason === "BACKPRESSURE") metrics.busyRejections.inc({ endpoint: rc.route });
        return errorResponse(error, rc.corrId, request.method);
      }
    };
}
