/**
 * @module What a `POST /put` carries, before any byte is decoded: raw octets with
 * Content-Encoding, or the strict JSON envelope `{"payload": base64, "meta": {...}}`.
 */
import { parseContentCoding, type ContentCoding } from "../../shared/body/content-coding";
import { badRequest, malformed, unsupportedMediaType } from "../../shared/errors";
import * as z from "../../shared/zod";

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/**
 * `meta.type`: a media type such as `image/png` or `text/plain; charset=utf-8`, or an upstream
 * RustyOnions object kind (`"blob"`, …), a bare word accepted so upstream clients work unchanged
 * and stored as application/octet-stream.
 */
const UPSTREAM_KIND = /^[a-z][a-z0-9_-]{0,31}$/;
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;
const typeOrKind = () =>
  z.string().check(
    z.maxLength(255),
    z.refine((value) => MEDIA_TYPE.test(value) || UPSTREAM_KIND.test(value), "must be a media type like text/plain, or an upstream kind like blob"),
  );

/** Whether `value` is a media type we store as given (e.g. a streamed upload's Content-Type). */
export const isMediaType = (value: string) => value.length <= 255 && MEDIA_TYPE.test(value);

/** The content type to store for `meta.type`: a media type as given, an upstream kind as octet-stream. */
export const storedContentType = (type: string | undefined) => (type === undefined || !type.includes("/") ? DEFAULT_CONTENT_TYPE : type);

// Built on first use (z.lazy): building zod schemas is a measurable part of an isolate's startup.
export const putEnvelopeSchema = z.lazy(() => z.strictObject({
  payload: z.string({ error: "payload must be a base64 string" }),
  meta: z.optional(
    z.strictObject({
      type: z.optional(typeOrKind()),
      content_encoding: z.optional(z.enum(["identity", "gzip", "zstd"])),
      provider: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9._-]+$/, "must be a short identifier"))),
    }),
  ),
}));

export type PutEnvelope = z.infer<typeof putEnvelopeSchema>;

export type PutMode = { kind: "raw"; coding: ContentCoding } | { kind: "json" };

/** Decide the body's shape from its headers: 415 for other media types or misplaced encodings. */
export function putModeOf(headers: Headers): PutMode {
  const mediaTypeHeader = (headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaTypeHeader === "application/json") {
    if (parseContentCoding(headers.get("content-encoding")) !== "identity") {
      throw unsupportedMediaType("JSON bodies name their encoding in meta.content_encoding, not Content-Encoding", "encoding_on_json");
    }
    return { kind: "json" };
  }
  if (mediaTypeHeader === "" || mediaTypeHeader === "application/octet-stream") {
    return { kind: "raw", coding: parseContentCoding(headers.get("content-encoding")) };
  }
  throw unsupportedMediaType(`Content-Type ${mediaTypeHeader} is not accepted; use application/octet-stream or application/json`, "content_type");
}

/** Parse and validate the JSON envelope; every failure is a 400 naming the problem. */
export function parseEnvelope(text: string): PutEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed("body is not valid JSON", "bad_json");
  }
  const parsed = putEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const where = first.path.length ? first.path.join(".") : "body";
    throw badRequest(`${where}: ${first.message}`, "bad_envelope");
  }
  return parsed.data;
}
