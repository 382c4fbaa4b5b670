/**
 * @module Composition: `pipeline(a, b, c)(handler)` runs a → b → c → handler, and
 * `firstMatch` chains routers that answer a Response or pass with undefined.
 */
import type { ConfigEnv } from "../config";
import type { Handler, Middleware, RouteHandler } from "../context";

/** Stages over the worker's Env `E`: each stage's own slice must be part of it. */
export function pipeline<E extends ConfigEnv>(...stages: Middleware<E>[]) {
  return (handler: Handler<E>): Handler<E> => stages.reduceRight((next, stage) => stage(next), handler);
}

/** Try each router in order; the first Response wins, otherwise `fallback` answers. */
export function firstMatch<E extends ConfigEnv>(routers: RouteHandler<E>[], fallback: Handler<E>): Handler<E> {
  return async function firstMatch(request, rc) {
    for (const router of routers) {
      const response = await router(request, rc);
      if (response) return response;
    }
    return await fallback(request, rc);
  };
}
