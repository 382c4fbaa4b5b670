/**
 * @module Golden request signals, measured once and written three ways: the isolate's
 * Prometheus families (`http_requests_total`, `request_latency_seconds`, labelled with the
 * route template the router recorded in `rc.route`), one Analytics Engine data point when
 * `METRICS_DATASET` is bound, and the `Server-Timing` header (the phases in `rc.timing`, then
 * `total`). Runs outside the error envelope so error responses carry their real status and
 * their timing too.
 */
import type { ConfigEnv } from "../config";
import type { Middleware } from "../context";
import { log, logEnabled } from "../log";
import { metrics } from "../metrics";
import { writeRequestPoint, type MetricsDatasetEnv } from "../metrics/analytics-engine";
import { withHeader } from "./with-corr-id";
import { pathnameOf, routeTemplateOf } from "./router";

export function withMetrics(): Middleware<MetricsDatasetEnv & ConfigEnv> {
  return (next) =>
    async function withMetrics(request, rc) {
      // label early, so requests shed before routing still count under their route template
      rc.route = routeTemplateOf(pathnameOf(request, rc));
      const response = await next(request, rc);
      const { timing } = rc;
      const totalMs = timing.elapsed();
      const labels = { service: rc.service, route: rc.route, method: request.method };
      metrics.httpRequests.inc({ ...labels, status: String(response.status) });
      metrics.requestLatency.observe(labels, totalMs / 1000);
      const dataset = rc.env.METRICS_DATASET;
      if (dataset) {
        const declared = response.headers.get("content-length");
        writeRequestPoint(dataset, { ...labels, status: response.status, responseBytes: declared ? Number(declared) : 0, totalMs, timing });
      }
      if (logEnabled(rc, "debug")) {
        log.debug(rc, "request", { method: request.method, status: response.status, total_ms: totalMs, store_ms: timing.ms("store"), do_ms: timing.ms("do"), cache: timing.cacheResult });
      }
      return withHeader(response, "Server-Timing", timing.header(totalMs));
    };
}
