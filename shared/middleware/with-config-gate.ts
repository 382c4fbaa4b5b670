/**
 * @module Refuse work while the configuration is invalid: 503 NOT_READY naming the bad
 * variables. Ops routes run before this stage so `/readyz` can explain the problem.
 */
import { configOf, type Middleware } from "../context";

export function withConfigGate(): Middleware {
  return (next) =>
    async function withConfigGate(request, rc) {
      configOf(rc); // throws 503 NOT_READY when invalid
      return await next(request, rc);
    };
}
