import { DomainError } from "../domain-errors";

/**
 * @module Why a capability check failed, as a domain error: the HTTP edge turns it into
 * 401/403/503 (shared/middleware/require-capability.ts), the overlay edge into an error frame.
 */
export type DenialReason =
  /** No token was presented. */
  | "missing_token"
  /** Not a macaroon, a bad signature, an unknown root key, or a third-party caveat. */
  | "bad_token"
  /** Valid, but its `expires` caveat has passed. */
  | "expired"
  /** Valid, but a caveat does not allow this request. */
  | "caveat"
  /** No root key is configured, so nothing that needs a token can be allowed. */
  | "not_configured";

export class CapabilityDenied extends DomainError {
  constructor(
    override readonly reason: DenialReason,
    message: string,
  ) {
    super(reason, message);
    this.name = "CapabilityDenied";
  }
}

/** The status a refusal answers with (HTTP, and OAP/1 refusal frames, which use HTTP-like codes). */
export const denialStatus = (reason: DenialReason): 401 | 403 | 503 => (reason === "caveat" ? 403 : reason === "not_configured" ? 503 : 401);
