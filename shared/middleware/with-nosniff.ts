/**
 * @module `X-Content-Type-Options: nosniff` on every answer (routes, errors, ops): a browser
 * must take the declared Content-Type and never guess an active type (HTML, script) from the
 * bytes. The outermost stage, so nothing can answer without it.
 */
import type { Middleware } from "../context";
import { withHeader } from "./with-corr-id";

export function withNosniff(): Middleware {
  return (next) =>
    async function withNosniff(request, rc) {
      return withHeader(await next(request, rc), "X-Content-Type-Options", "nosniff");
    };
}
