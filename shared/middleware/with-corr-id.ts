/**
 * @module Correlation ids: accept `X-Corr-ID` (or `x-correlation-id`, `x-request-id`) when it
 * is a sane token, otherwise generate one; echo `X-Corr-ID` on every response. Runs first so
 * every later stage, log line and error envelope can use `rc.corrId`.
 */
import type { Middleware } from "../context";

const INCOMING = ["x-corr-id", "x-correlation-id", "x-request-id"] as const;
const SANE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function incomingCorrId(headers: Headers): string | null {
  for (const name of INCOMING) {
    const value = headers.get(name)?.trim();
    if (value && SANE.test(value)) return value;
  }
  return null;
}

export function withCorrId(): Middleware {
  return (next) =>
    async function withCorrId(request, rc) {
      rc.corrId = incomingCorrId(request.headers) ?? crypto.randomUUID();
      const response = await next(request, rc);
      return withHeader(response, "X-Corr-ID", rc.corrId);
    };
}

/** Set a header, copying the response when its headers are immutable (e.g. from fetch). */
export function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    // a 101 must keep its socket: copying through ResponseInit would drop it
    if (response.webSocket) {
      const headers = new Headers(response.headers);
      headers.set(name, value);
      return new Response(null, { status: 101, webSocket: response.webSocket, headers });
    }
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}
