/**
 * @module Golden request metrics: `http_requests_total` and `request_latency_seconds`, labelled
 * with the route template the router recorded in `rc.route`. Runs outside the error envelope
 * so error responses are counted with their real status.
 */
import type { Middleware } from "../context";
import { metrics } from "../metrics";
import { pathnameOf, routeTemplateOf } from "./router";

export function withMetrics(): Middleware {
  return (next) =>
    async function withMetrics(request, rc) {
      const started = performance.now();
      // label early, so requests shed before routing still count under their route template
      rc.route = routeTemplateOf(pathnameOf(request, rc));
      const response = await next(request, rc);
      const labels = { service: rc.service, route: rc.route, method: request.method };
      metrics.httpRequests.inc({ ...labels, status: String(response.status) });
      metrics.requestLatency.observe(labels, (performance.now() - started) / 1000);
      return response;
    };
}
