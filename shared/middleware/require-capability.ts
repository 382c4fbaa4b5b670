/**
 * @module The HTTP edge of capabilities: read `Authorization: Bearer <token>`, authorize the
 * route's op (and its path, topic or body size) and translate a refusal: no token, a bad or
 * expired one → 401 with `WWW-Authenticate`; a caveat that doesn't allow it → 403; no root key
 * configured → 503 NOT_CONFIGURED. Every refusal is counted in `auth_denied_total{reason}`.
 */
import { authorize, CapabilityDenied, judgeOrThrow, keyringOf, type CapabilityNeed, type Keyring, type VerifiedToken } from "../capability";
import { configOf, type RequestContext } from "../context";
import { httpErrorOf, type HttpError } from "../errors";
import { metrics } from "../metrics";

/** The bearer token of a request, or undefined when none was sent. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  // a malformed Authorization header is a bad token, not a missing one
  return match ? match[1] : "!";
}

/** The declared size of a request body: Content-Length, or unbounded when it streams without one. */
export function declaredBodyBytes(request: Request): number | undefined {
  const length = request.headers.get("content-length");
  if (length !== null && /^[0-9]+$/.test(length)) return Number(length);
  return request.body ? Number.POSITIVE_INFINITY : undefined;
}

/** Count the refusal, then translate it the one way the HTTP edge translates domain errors. */
function toHttpError(denied: CapabilityDenied): HttpError {
  metrics.authDenied.inc({ reason: denied.reason });
  return httpErrorOf(denied)!;
}

/** Authorize the request for `need`; returns the verified token for further checks. */
export function requireCapability(request: Request, rc: RequestContext, need: CapabilityNeed): VerifiedToken {
  return requireCapabilityUnder(keyringOf(configOf(rc)), request, need);
}

/** `requireCapability` with a given keyring (the ops surface, which answers even when misconfigured). */
export function requireCapabilityUnder(keyring: Keyring | null, request: Request, need: CapabilityNeed): VerifiedToken {
  try {
    return authorize(keyring, bearerToken(request), need);
  } catch (error) {
    if (error instanceof CapabilityDenied) throw toHttpError(error);
    throw error;
  }
}

/**
 * Refuse with 503 NOT_CONFIGURED when no root key is configured: for routes that take their
 * token later (an overlay session presents it in HELLO), so they don't open anything first.
 */
export function requireRootKey(rc: RequestContext): void {
  if (!keyringOf(configOf(rc))) throw toHttpError(new CapabilityDenied("not_configured", "no capability root key is configured (CAP_ROOT_KEY), so sessions are refused"));
}

/** Judge a need learnt after authentication (the topic in a JSON body, a message's topic). */
export function requireAlso(token: VerifiedToken, need: CapabilityNeed): void {
  try {
    judgeOrThrow(token, need);
  } catch (error) {
    if (error instanceof CapabilityDenied) throw toHttpError(error);
    throw error;
  }
}
