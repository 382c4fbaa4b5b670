/**
 * @module Parameter and body descriptions several routes share (content addresses, decoded
 * bodies, stored bytes), for the route descriptions next to each router.
 */
import type { BodySpec, ErrorSpec, ParameterSpec, SuccessSpec } from "./spec";

/** BLAKE3 of zero bytes: a valid address for examples. */
export const SAMPLE_HEX = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
export const SAMPLE_ADDRESS = `b3:${SAMPLE_HEX}`;

export const addressParameter: ParameterSpec = {
  name: "addr",
  in: "path",
  description: "Content address: `b3:` + 64 lowercase hex of the BLAKE3-256 of the bytes.",
  schema: { json: { type: "string", pattern: "^b3:[0-9a-f]{64}$" } },
  example: SAMPLE_ADDRESS,
};

export const hexParameter: ParameterSpec = {
  name: "hex",
  in: "path",
  description: "64 lowercase hex of the BLAKE3-256 of the bytes.",
  schema: { json: { type: "string", pattern: "^[0-9a-f]{64}$" } },
  example: SAMPLE_HEX,
};

export const anyBytes: BodySpec = { content: { "*/*": { schema: { json: { type: "string", contentMediaType: "application/octet-stream" } } } } };

/** `?proof=1` on a read of stored bytes (shared/http/slice-response.ts). */
export const proofParameter: ParameterSpec = {
  name: "proof",
  in: "query",
  description:
    "`1`: answer `200` with a verified slice (`application/vnd.ron.b3-slice`, docs/OBJECTS.md) of the one range `Range` asks for, or of the whole object: " +
    "the covering BLAKE3 groups, the last group, and the sibling CVs, for the client to check against the address (the SDK's `verifySlice`).",
  schema: { json: { type: "string", enum: ["1"] } },
};

/** A 200 that is the bytes, or the verified slice with `?proof=1`. */
export const bytesOrSlice: BodySpec = {
  content: { ...anyBytes.content, "application/vnd.ron.b3-slice": { schema: { json: { type: "string", contentMediaType: "application/vnd.ron.b3-slice" } } } },
};

/** Refusals of a proof request. */
export const PROOF_ERRORS: ErrorSpec[] = [
  { status: 400, code: "BAD_REQUEST", reason: "proof_query", when: "`proof` with a value other than `1`, or given twice", retryable: false },
  { status: 400, code: "BAD_REQUEST", reason: "proof_ranges", when: "`?proof=1` with several ranges that do not merge into one", retryable: false },
];

/** The answers of a byte representation (shared/http/representation.ts) besides 200. */
export const representationAnswers = (body: boolean): SuccessSpec[] => [
  { status: 206, description: "One range (`Content-Range`), or several as `multipart/byteranges` where enabled.", headers: ["ETag", "Content-Range", "Accept-Ranges", "Cache-Control"], ...(body ? { body: anyBytes } : {}) },
  { status: 304, description: "`If-None-Match` matched; no body.", headers: ["ETag", "Cache-Control"] },
];

export const RANGE_ERROR: ErrorSpec = { status: 416, code: "RANGE_NOT_SATISFIABLE", reason: "range", when: "the range starts past the end (or `-0`)", headers: ["Content-Range", "ETag"] };
export const IF_MATCH_ERROR: ErrorSpec = { status: 412, code: "PRECONDITION_FAILED", reason: "if_match", when: "`If-Match` does not match the object's tag", headers: ["ETag"] };
export const BAD_ADDRESS: ErrorSpec = { status: 400, code: "MALFORMED", reason: "bad_address", when: "not `b3:` + 64 lowercase hex" };
export const UNKNOWN_OBJECT: ErrorSpec = { status: 404, code: "NOT_FOUND", when: "no object under this address" };
export const INTEGRITY: ErrorSpec = { status: 502, code: "INTEGRITY_FAIL", reason: "integrity", when: "the stored bytes no longer hash to their address (nothing is served)" };

/** Refusals of a body decoded under the caps (shared/body). */
export const DECODE_ERRORS: ErrorSpec[] = [
  { status: 400, code: "MALFORMED", reason: "corrupt_gzip", when: "a corrupt gzip body" },
  { status: 400, code: "MALFORMED", reason: "corrupt_zstd", when: "a corrupt zstd body" },
  { status: 400, code: "BAD_REQUEST", reason: "empty_body", when: "no body at all (zero bytes is an empty object)" },
  { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "body_cap", when: "wire bytes over MAX_BODY_BYTES" },
  { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "decompress_ratio", when: "decoded over DECOMPRESS_RATIO_CAP × the wire bytes" },
  { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "decompress_max", when: "decoded over DECOMPRESS_MAX_BYTES" },
  { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "unsupported_encoding", when: "a Content-Encoding other than identity, gzip, zstd" },
  { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "stacked_encoding", when: "more than one Content-Encoding" },
];

export const STORE_FULL: ErrorSpec = { status: 503, code: "STORE_FULL", reason: "SHARD_FULL", when: "the RAM store shard the write routes to (by address; a pointer by its name) has spent its share of the budget, AMNESIA_MAX_BYTES / AMNESIA_SHARDS", retryable: false };
