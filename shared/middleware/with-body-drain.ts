/**
 * @module Unread request bodies are drained before the answer leaves. A request refused before
 * its body is read (413 on Content-Length, 401, 404, 405, 429, …) would otherwise leave the body
 * on the wire, and the local runtime then closes the connection (or, behind `wrangler dev`, holds
 * the answer until the body ends), so a keep-alive client's next request fails or hangs.
 * Cancelling is not enough: workerd still closes the connection (measured, docs/DECISIONS.md).
 * The drain is bounded by `BODY_DRAIN_MAX_BYTES` and by what is left of `REQUEST_TIMEOUT_MS`
 * counted from here, so the whole exchange stays within the request deadline; past either
 * bound the rest is cancelled and the connection closes after the answer.
 */
import { discardBody } from "../body/discard-body";
import type { Middleware, RequestContext } from "../context";

interface DrainBudget {
  bytes: number;
  ms: number;
}

/** How much of an unread body may still be read, or null to cancel it at once. */
function drainBudget(request: Request, rc: RequestContext, started: number): DrainBudget | null {
  if (!rc.configResult.ok) return null; // every answer is 503 NOT_READY; keeping the connection is moot
  // the client waits for a 100 before sending (workerd never sends one): a drain would only wait
  if (/100-continue/i.test(request.headers.get("expect") ?? "")) return null;
  const { BODY_DRAIN_MAX_BYTES: bytes, REQUEST_TIMEOUT_MS } = rc.configResult.config;
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (bytes === 0 || !(declared <= bytes)) return null; // NaN (a junk length) is cancelled too
  const ms = REQUEST_TIMEOUT_MS - (performance.now() - started);
  return ms > 0 ? { bytes, ms } : null;
}

export function withBodyDrain(): Middleware {
  return (next) =>
    async function withBodyDrain(request, rc) {
      const started = performance.now();
      try {
        return await next(request, rc);
      } finally {
        const body = request.body;
        // a body a handler read, is reading, or handed on is not ours to touch
        if (body && !request.bodyUsed && !body.locked) {
          const budget = drainBudget(request, rc, started);
          if (budget) await discardBody(body, budget.bytes, budget.ms);
          else await body.cancel("request body not read").catch(() => {});
        }
      }
    };
}
