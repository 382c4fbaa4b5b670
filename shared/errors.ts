/**
 * @module One error class and one exit. Route handlers throw `HttpError`; the layers below them
 * throw domain errors (shared/domain-errors.ts), which `toHttpError` translates here, in one
 * place. `errorResponse` renders the JSON envelope. Unknown throws become a 500 envelope (and
 * are reported) in `withErrorEnvelope`.
 */
import { CapabilityDenied } from "./capability/errors";
import { DecodeError, DomainError, IntegrityError, MissingObjectError, UploadError, type DecodeErrorKind } from "./domain-errors";

/** Why a request was shed; `Retry-After` accompanies every one of these. */
export type ShedReason = "RATE_LIMIT" | "BACKPRESSURE" | "TIMEOUT" | "NOT_READY" | "BROWNOUT";

export interface HttpErrorOptions {
  retryable?: boolean;
  /** A stable machine-readable cause, e.g. a `ShedReason` or a validation detail. */
  reason?: string;
  /** When set, the response carries `Retry-After` (whole seconds, ≥ 1) and `retry_after_ms`. */
  retryAfterMs?: number;
  headers?: HeadersInit;
  cause?: unknown;
  /** A refusal about one client-fillable resource (e.g. a full mailbox topic), not about the node: not counted as shedding. */
  resourceLimit?: boolean;
}

export class HttpError extends Error {
  readonly retryable: boolean;
  readonly reason?: string;
  readonly retryAfterMs?: number;
  readonly headers?: HeadersInit;
  readonly resourceLimit: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.retryable = options.retryable ?? (status === 429 || status === 503);
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
    this.headers = options.headers;
    this.resourceLimit = options.resourceLimit ?? false;
  }
}

// Constructors for the statuses the services use, so codes stay uniform.
export const badRequest = (message: string, reason?: string) => new HttpError(400, "BAD_REQUEST", message, { reason });
export const malformed = (message: string, reason?: string) => new HttpError(400, "MALFORMED", message, { reason });
export const notFound = (message = "not found") => new HttpError(404, "NOT_FOUND", message);
export const methodNotAllowed = (allowed: readonly string[]) =>
  new HttpError(405, "METHOD_NOT_ALLOWED", `method not allowed; use ${allowed.join(", ")}`, {
    headers: { Allow: allowed.join(", ") },
  });
export const payloadTooLarge = (message: string, reason: string) =>
  new HttpError(413, "PAYLOAD_TOO_LARGE", message, { reason });
export const unsupportedMediaType = (message: string, reason?: string) =>
  new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", message, { reason });
export const shed = (status: 429 | 503, reason: ShedReason, message: string, retryAfterMs: number) =>
  new HttpError(status, status === 429 ? "TOO_MANY_REQUESTS" : "SERVICE_UNAVAILABLE", message, {
    reason,
    retryAfterMs,
    retryable: true,
  });

/**
 * 429 for one client's quota or one full resource (its rate limit, a mailbox topic, its overlay
 * sessions): back-pressure on it, not the node shedding, so /readyz `shedding` ignores it.
 */
export const resourceBusy = (reason: string, message: string, retryAfterMs: number) =>
  new HttpError(429, "TOO_MANY_REQUESTS", message, { reason, retryAfterMs, retryable: true, resourceLimit: true });

/** A RAM store refusal: bytes held and budget of the shard (`amnesia-<i>`) that the write routes to. */
export interface StoreFullness {
  usedBytes: number;
  budgetBytes: number;
  shard?: string;
}

/** 503 STORE_FULL, `reason: SHARD_FULL`: the shard a write routes to has spent its share of AMNESIA_MAX_BYTES. */
export const storeFull = (full: StoreFullness, what = "the object") =>
  new HttpError(503, "STORE_FULL", `amnesia shard ${full.shard ?? "store"} is full (${full.usedBytes} of ${full.budgetBytes} bytes used, its share of AMNESIA_MAX_BYTES); ${what} was not stored`, {
    reason: "SHARD_FULL",
    retryable: false,
  });

export interface ErrorEnvelope {
  code: string;
  message: string;
  retryable: boolean;
  corr_id: string;
  reason?: string;
  retry_after_ms?: number;
}

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Render an `HttpError` as the JSON error envelope. HEAD responses carry no body. */
export function errorResponse(error: HttpError, corrId: string, method = "GET"): Response {
  const envelope: ErrorEnvelope = {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    corr_id: corrId,
  };
  if (error.reason) envelope.reason = error.reason;
  const headers = new Headers(error.headers);
  headers.set("Content-Type", JSON_CONTENT_TYPE);
  headers.set("Cache-Control", "no-store");
  if (error.retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.ceil(error.retryAfterMs));
    envelope.retry_after_ms = ms;
    headers.set("Retry-After", String(Math.max(1, Math.ceil(ms / 1000))));
    if (error.reason) headers.set("X-Reason", error.reason);
  }
  const body = method === "HEAD" ? null : JSON.stringify(envelope);
  return new Response(body, { status: error.status, headers });
}

const DECODE_STATUS: Record<DecodeErrorKind, (message: string, reason: string) => HttpError> = {
  invalid: badRequest,
  unreadable: badRequest,
  malformed,
  too_large: payloadTooLarge,
  unsupported: unsupportedMediaType,
};

/** The HTTP face of a domain error; undefined for one the HTTP edge has no mapping for. */
export function httpErrorOf(error: DomainError): HttpError | undefined {
  if (error instanceof DecodeError) return DECODE_STATUS[error.kind](error.message, error.reason);
  if (error instanceof IntegrityError) return new HttpError(502, "INTEGRITY_FAIL", error.message, { reason: error.reason, retryable: false, cause: error });
  if (error instanceof MissingObjectError) return notFound(error.message);
  if (error instanceof CapabilityDenied) return capabilityHttpError(error);
  if (error instanceof UploadError) return uploadHttpError(error);
  return undefined;
}

/** A streamed upload that was not stored: 422 when its bytes miss the address, else the body's fault. */
function uploadHttpError(error: UploadError): HttpError {
  switch (error.failure) {
    case "address_mismatch":
      return new HttpError(422, "ADDRESS_MISMATCH", `${error.message}; nothing was stored`, { reason: "address_mismatch", retryable: false });
    case "long_body":
      return payloadTooLarge(error.message, "long_body");
    default:
      return badRequest(error.message, error.failure);
  }
}

/** A refused capability: 401 (with `WWW-Authenticate`), 403 for a caveat, 503 without a root key. */
function capabilityHttpError(denied: CapabilityDenied): HttpError {
  switch (denied.reason) {
    case "not_configured":
      return new HttpError(503, "NOT_CONFIGURED", `${denied.message}; see docs/SECURITY.md`, { reason: "not_configured", retryable: false });
    case "caveat":
      return new HttpError(403, "FORBIDDEN", denied.message, { reason: "caveat", retryable: false });
    case "missing_token":
      return new HttpError(401, "UNAUTHORIZED", `${denied.message}: send Authorization: Bearer <token>`, { reason: "missing_token", retryable: false, headers: { "WWW-Authenticate": 'Bearer realm="ron-workers"' } });
    default:
      return new HttpError(401, "UNAUTHORIZED", denied.message, { reason: denied.reason, retryable: false, headers: { "WWW-Authenticate": `Bearer realm="ron-workers", error="invalid_token"` } });
  }
}

/** Turn anything thrown into an `HttpError`; unknown errors become an opaque 500. */
export function toHttpError(thrown: unknown): { error: HttpError; unexpected: boolean } {
  if (thrown instanceof HttpError) return { error: thrown, unexpected: false };
  const translated = thrown instanceof DomainError ? httpErrorOf(thrown) : undefined;
  if (translated) return { error: translated, unexpected: false };
  return {
    error: new HttpError(500, "INTERNAL", "internal error", { retryable: true, cause: thrown }),
    unexpected: true,
  };
}
