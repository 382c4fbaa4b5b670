/**
 * @module Ops routes answer before admission (config gate, in-flight cap, timeout), so health,
 * readiness and metrics stay reachable while the service is shedding or misconfigured.
 */
import type { ConfigEnv } from "../config";
import type { Middleware, RouteHandler } from "../context";

/** `E`: the bindings the ops router needs (its readiness checks, its gauges). */
export function withOps<E extends ConfigEnv>(opsRouter: RouteHandler<E>): Middleware<E> {
  return (next) =>
    async function withOps(request, rc) {
      return (await opsRouter(request, rc)) ?? (await next(request, rc));
    };
}
