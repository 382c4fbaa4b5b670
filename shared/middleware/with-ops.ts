/**
 * @module Ops routes answer before admission (config gate, in-flight cap, timeout), so health,
 * readiness and metrics stay reachable while the service is shedding or misconfigured.
 */
import type { Middleware, RouteHandler } from "../context";

export function withOps(opsRouter: RouteHandler): Middleware {
  return (next) =>
    async function withOps(request, rc) {
      return (await opsRouter(request, rc)) ?? (await next(request, rc));
    };
}
