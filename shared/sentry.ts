/**
 * @module Error reporting: unexpected exceptions go to Sentry through toucan-js when
 * `SENTRY_DSN` is set; without a DSN nothing is constructed and nothing is sent. Delivery runs
 * in `waitUntil`, so it never delays the response. docs/DECISIONS.md records why toucan-js
 * (measured: a third of @sentry/cloudflare's bundle and cold-start cost); this module is the
 * only place that knows which SDK is used.
 */
import { Toucan } from "toucan-js";
import type { RequestContext } from "./context";
import { metrics } from "./metrics";
import { log } from "./log";

export function reportError(error: unknown, request: Request, rc: RequestContext): void {
  if (!rc.configResult.ok || !rc.configResult.config.SENTRY_DSN) return;
  const { SENTRY_DSN, SENTRY_ENVIRONMENT, BUILD_GIT_SHA } = rc.configResult.config;
  try {
    const sentry = new Toucan({
      dsn: SENTRY_DSN,
      context: rc.exec,
      request,
      environment: SENTRY_ENVIRONMENT,
      release: BUILD_GIT_SHA,
      // headers may carry signatures or tokens: send none
      requestDataOptions: { allowedHeaders: ["user-agent", "content-type", "x-corr-id"], allowedSearchParams: /(.*)/ },
    });
    sentry.setTag("service", rc.service);
    sentry.setTag("route", rc.route);
    sentry.setTag("corr_id", rc.corrId);
    sentry.captureException(error);
    metrics.sentryEvents.inc({ outcome: "captured" });
  } catch (failure) {
    metrics.sentryEvents.inc({ outcome: "failed" });
    log.warn(rc, "sentry capture failed", { error: String(failure) });
  }
}
