/**
 * @module Reading request bodies under the hardened limits: wire bytes counted as they stream
 * (too large past `MAX_BODY_BYTES`, whatever Content-Length said), decoded bytes capped at
 * `DECOMPRESS_RATIO_CAP` × wire and `DECOMPRESS_MAX_BYTES`, corrupt encodings refused, and the
 * BLAKE3 of the decoded bytes (as identity bodies are read; once decoded for encoded ones).
 * Failures are DecodeErrors (413, 400 at the HTTP edge).
 */
import { blake3 } from "../blake3";
import type { Config } from "../config";
import { DecodeError } from "../domain-errors";
import type { ContentCoding } from "./content-coding";
import { DecodedTooLarge, decodeWhole } from "./decoders";
import { readIdentityBody } from "./read-identity";

export interface BodyLimits {
  maxWireBytes: number;
  ratioCap: number;
  maxDecodedBytes: number;
}

export const bodyLimitsOf = (config: Config): BodyLimits => ({
  maxWireBytes: config.MAX_BODY_BYTES,
  ratioCap: config.DECOMPRESS_RATIO_CAP,
  maxDecodedBytes: config.DECOMPRESS_MAX_BYTES,
});

export interface DecodedBody {
  bytes: Uint8Array;
  /** Lowercase hex BLAKE3-256 of `bytes`. */
  hex: string;
  wireBytes: number;
  /** Time spent hashing, for Server-Timing's `hash` (0 when deployed: the clock stands still in CPU work). */
  hashMs: number;
}

const ratioError = (limits: BodyLimits, wireBytes: number) =>
  new DecodeError("too_large", "decompress_ratio", `decoded body is more than ${limits.ratioCap}× its ${wireBytes} wire bytes`);

/**
 * Read, decode, cap and hash a body. An encoded body is read whole under the wire cap first
 * (`declaredWireBytes`, Content-Length when known, sizes the read), then decoded in one call
 * whose output stops at `DECOMPRESS_RATIO_CAP` × its wire bytes and `DECOMPRESS_MAX_BYTES`
 * (shared/body/decoders.ts says why not a stream). Aborting `signal` stops the read and rethrows
 * its reason.
 */
export async function readDecodedBody(
  source: ReadableStream<Uint8Array>,
  coding: ContentCoding,
  limits: BodyLimits,
  signal: AbortSignal,
  declaredWireBytes?: number,
): Promise<DecodedBody> {
  if (coding === "identity") return readIdentityBody(source, limits.maxWireBytes, signal, declaredWireBytes);
  // the wire bytes are not hashed: the address is the decoded bytes'
  const wire = await readIdentityBody(source, limits.maxWireBytes, signal, declaredWireBytes, { hash: false });
  const ratioBound = limits.ratioCap * wire.wireBytes;
  let bytes: Uint8Array;
  try {
    bytes = await decodeWhole(coding, wire.bytes, Math.min(limits.maxDecodedBytes, ratioBound));
  } catch (error) {
    if (!(error instanceof DecodedTooLarge)) throw new DecodeError("malformed", `corrupt_${coding}`, `corrupt ${coding} body: ${(error as Error)?.message ?? error}`);
    if (ratioBound < limits.maxDecodedBytes) throw ratioError(limits, wire.wireBytes);
    throw new DecodeError("too_large", "decompress_max", `decoded body exceeds the absolute cap of ${limits.maxDecodedBytes} bytes`);
  }
  const hashFrom = performance.now();
  const hex = blake3().hashHex(bytes);
  return { bytes, hex, wireBytes: wire.wireBytes, hashMs: performance.now() - hashFrom };
}

/** Read a body as-is (no decoding) under the wire cap, with the BLAKE3 of the wire bytes. */
export function readWireBody(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal): Promise<DecodedBody> {
  return readDecodedBody(source, "identity", { maxWireBytes: cap, ratioCap: 1, maxDecodedBytes: cap }, signal);
}

/** Read a body as-is (no decoding) under the wire cap, e.g. a JSON envelope. */
export async function readWireBytes(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal): Promise<Uint8Array> {
  return (await readWireBody(source, cap, signal)).bytes;
}
