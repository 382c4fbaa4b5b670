/**
 * @module Composition: `pipeline(a, b, c)(handler)` runs a → b → c → handler, and
 * `firstMatch` chains routers that answer a Response or pass with undefined.
 */
import type { Handler, Middleware, RouteHandler } from "../context";

export function pipeline(...stages: Middleware[]) {
  return (handler: Handler): Handler => stages.reduceRight((next, stage) => stage(next), handler);
}

/** Try each router in order; the first Response wins, otherwise `fallback` answers. */
export function firstMatch(routers: RouteHandler[], fallback: Handler): Handler {
  return async function firstMatch(request, rc) {
    for (const router of routers) {
      const response = await router(request, rc);
      if (response) return response;
    }
    return await fallback(request, rc);
  };
}
