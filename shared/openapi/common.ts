/**
 * @module What every route shares in the API document: the error envelope, the headers, and the
 * refusals of the stages in front of every route (shared/service.ts) and of capability checks.
 */
import * as z from "../zod";
import type { Admission, ErrorSpec } from "./spec";

/** shared/errors.ts `ErrorEnvelope`, as a schema (tests parse real refusals with it). */
export const errorEnvelopeSchema = z.strictObject({
  code: z.string().check(z.describe("Stable UPPER_SNAKE class of the refusal (`NOT_FOUND`, `TOO_MANY_REQUESTS`, …).")),
  message: z.string().check(z.describe("For people; may change.")),
  retryable: z.boolean().check(z.describe("Whether the same request may succeed later.")),
  corr_id: z.string().check(z.describe("The request's correlation id, as in `X-Corr-ID`.")),
  reason: z.optional(z.string().check(z.describe("Stable machine-readable cause (`body_cap`, `RATE_LIMIT`, `caveat`, …)."))),
  retry_after_ms: z.optional(z.number().check(z.int(), z.gte(0), z.describe("On shed answers: when to retry, in ms (`Retry-After` has it in whole seconds)."))),
});

const header = (description: string, schema: Record<string, unknown> = { type: "string" }) => ({ description, schema });

export const COMMON_HEADERS = {
  "X-Corr-ID": header("The request's correlation id (taken from `X-Corr-ID`, `x-correlation-id` or `x-request-id`, else a UUID); also in every error envelope and log line."),
  "Server-Timing": header('Where the time went, on every answer: `store`, `do`, `hash` (ms) where they happened, `cache;desc="hit"|"miss"` for the tile cache, then `total` (docs/OBSERVABILITY.md).'),
  ETag: header('Strong entity tag of the whole object: `"b3:<64 hex>"`, its BLAKE3 address.'),
  "Retry-After": header("Whole seconds (≥ 1) to wait before retrying.", { type: "integer", minimum: 1 }),
  "X-Reason": header("The refusal's `reason`, for shed answers."),
  Location: header("Where the stored object is read: `/o/b3:<hex>`."),
  "Cache-Control": header("Caching policy of the answer."),
  "Content-Range": header("`bytes a-b/len` on 206; `bytes */len` on 416."),
  "Accept-Ranges": header("`bytes`."),
  "Content-Disposition": header("`attachment` for active content (HTML, SVG, XML, script, PDF)."),
  "Content-Security-Policy": header("`sandbox` for active content."),
  "Content-Encoding": header("The tile archive's compression, when its tiles are compressed."),
  "WWW-Authenticate": header('`Bearer realm="ron-workers"` (with `error="invalid_token"` for a bad or expired token).'),
  Allow: header("The methods the path accepts."),
  Upgrade: header("`websocket`."),
  Vary: header("`Range` on a verified slice (`?proof=1`): the Range header chooses the slice."),
} as const;

const requestHeader = (name: string, description: string) => ({ name, in: "header", required: false, description, schema: { type: "string" } });

export const COMMON_PARAMETERS = {
  "X-Corr-ID": requestHeader("X-Corr-ID", "Correlation id to carry through (up to 128 chars of `[A-Za-z0-9._:@/+=-]`); generated when absent or invalid."),
  Range: {
    ...requestHeader("Range", "`bytes=a-b`, `bytes=a-` or `bytes=-n`; one range (several only with `EDGE_MULTI_RANGE=true` on edge routes). Invalid syntax is ignored (the whole object is served)."),
    example: "bytes=0-1023",
  },
  "If-None-Match": requestHeader("If-None-Match", "An entity tag, a list, `W/` tags or `*`: `304` when one matches."),
  "If-Match": requestHeader("If-Match", "Strong entity tag(s): `412` when none matches."),
  "If-Range": requestHeader("If-Range", "With `Range`: a strong tag that must match, else the whole object is served."),
  "Content-Encoding": requestHeader("Content-Encoding", "`identity`, `gzip` (`x-gzip`) or `zstd`; one coding. Others: 415."),
} as const;

/** Headers over MAX_HEADER_BYTES: refused before anything else, ops routes included. */
export const HEADER_CAP_ERROR: ErrorSpec = { status: 431, code: "HEADERS_TOO_LARGE", reason: "header_cap", when: "request headers over MAX_HEADER_BYTES", retryable: false };

const SHED = ["Retry-After", "X-Reason"] as const;

/** The refusals of the admission stages (shared/service.ts) a read or a write may meet. */
export function admissionErrors(admission: Exclude<Admission, "ops">): ErrorSpec[] {
  const errors: ErrorSpec[] = [
    HEADER_CAP_ERROR,
    { status: 503, code: "SERVICE_UNAVAILABLE", reason: "NOT_READY", when: "the configuration is invalid", headers: SHED },
    { status: 429, code: "TOO_MANY_REQUESTS", reason: "RATE_LIMIT", when: "over the token bucket (RATE_LIMIT_RPS, RATE_LIMIT_BURST)", headers: SHED },
    { status: 503, code: "SERVICE_UNAVAILABLE", reason: "BACKPRESSURE", when: "too many requests in flight (MAX_INFLIGHT)", headers: SHED },
    { status: 503, code: "SERVICE_UNAVAILABLE", reason: "TIMEOUT", when: "the request exceeded REQUEST_TIMEOUT_MS", headers: SHED },
  ];
  if (admission === "write") {
    errors.push(
      { status: 503, code: "SERVICE_UNAVAILABLE", reason: "BROWNOUT", when: "writes paused while the recent 5xx rate or p95 is too high (reads are still served)", headers: SHED },
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "body_cap", when: "declared Content-Length over MAX_BODY_BYTES" },
      { status: 400, code: "BAD_REQUEST", reason: "bad_content_length", when: "Content-Length is not a number" },
    );
  }
  return errors;
}

/** The refusals of a capability check (docs/SECURITY.md); `unless` names a knob that makes the route public. */
export function capabilityErrors(unless?: string): ErrorSpec[] {
  const open = unless ? ` (unless ${unless})` : "";
  return [
    { status: 401, code: "UNAUTHORIZED", reason: "missing_token", when: `no bearer token${open}`, headers: ["WWW-Authenticate"], retryable: false },
    { status: 401, code: "UNAUTHORIZED", reason: "bad_token", when: "not a valid token under a configured root key", headers: ["WWW-Authenticate"], retryable: false },
    { status: 401, code: "UNAUTHORIZED", reason: "expired", when: "the token is past its `expires` caveat", headers: ["WWW-Authenticate"], retryable: false },
    { status: 403, code: "FORBIDDEN", reason: "caveat", when: "a caveat of the token does not allow this request", retryable: false },
    { status: 503, code: "NOT_CONFIGURED", reason: "not_configured", when: "no CAP_ROOT_KEY is configured (default deny)", retryable: false },
  ];
}
