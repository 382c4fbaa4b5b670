/**
 * @module Failures of the layers below the edges, in their own terms: input that does not decode,
 * stored bytes that fail their address, a handshake the local side refuses. Each carries a
 * machine `reason`. They know nothing of HTTP or WebSocket close codes: the HTTP edge
 * (shared/errors.ts `toHttpError`) and the overlay edge (the session object) each translate them.
 */

/** Base class: `reason` is a stable machine label (metrics, envelopes, refusal frames). */
export class DomainError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DomainError";
  }
}

/**
 * Input that does not decode. `kind` says how: `invalid` (bad syntax, e.g. base64),
 * `malformed` (a corrupt encoding), `too_large` (past a size or ratio cap), `unsupported`
 * (a coding we do not speak), `unreadable` (the byte stream itself failed).
 */
export type DecodeErrorKind = "invalid" | "malformed" | "too_large" | "unsupported" | "unreadable";

export class DecodeError extends DomainError {
  constructor(
    readonly kind: DecodeErrorKind,
    reason: string,
    message: string,
  ) {
    super(reason, message);
    this.name = "DecodeError";
  }
}

/** Stored bytes that no longer hash to their address. */
export class IntegrityError extends DomainError {
  constructor(readonly address: string) {
    super("integrity", `stored bytes of ${address} do not match their address`);
    this.name = "IntegrityError";
  }
}

/** An object the store does not hold. */
export class MissingObjectError extends DomainError {
  constructor(readonly address: string) {
    super("not_found", `no object ${address}`);
    this.name = "MissingObjectError";
  }
}

/**
 * A handshake the local side refuses (docs/OAP1.md §3). `status` is the protocol's own code for
 * the refusal frame (OAP/1 frames carry HTTP-like codes), not an HTTP response status.
 */
export class HandshakeError extends DomainError {
  constructor(
    reason: string,
    readonly status: number,
    message: string,
  ) {
    super(reason, message);
    this.name = "HandshakeError";
  }
}

/**
 * A streamed upload that cannot be stored: the bytes hash to another address
 * (`address_mismatch`), end before their declared length (`short_body`), run past it
 * (`long_body`), or the stream itself failed (`unreadable`, e.g. the client went away).
 */
export type UploadFailure = "address_mismatch" | "short_body" | "long_body" | "unreadable";

export class UploadError extends DomainError {
  constructor(
    readonly failure: UploadFailure,
    message: string,
  ) {
    super(failure, message);
    this.name = "UploadError";
  }
}
