/**
 * @module Header size cap (MAX_HEADER_BYTES, default 32 KiB): requests whose header names and
 * values add up to more are refused with 431 before any routing. The runtime's own limit is
 * larger; this keeps oversized headers from reaching logs, handlers and storage.
 */
import { configOf, type Middleware } from "../context";
import { HttpError } from "../errors";

export function withHeaderCap(): Middleware {
  return (next) =>
    async function withHeaderCap(request, rc) {
      if (rc.configResult.ok) {
        const cap = configOf(rc).MAX_HEADER_BYTES;
        let total = 0;
        for (const [name, value] of request.headers) total += name.length + value.length + 4;
        if (total > cap) throw new HttpError(431, "HEADERS_TOO_LARGE", `request headers exceed ${cap} bytes`, { reason: "header_cap", retryable: false });
      }
      return await next(request, rc);
    };
}
