/**
 * @module Content codings the services accept on request bodies: identity, gzip and zstd, one
 * at a time. Anything else, or a stack of codings, is 415.
 */
import { unsupportedMediaType } from "../errors";

export type ContentCoding = "identity" | "gzip" | "zstd";

const ALIASES: Record<string, ContentCoding> = { identity: "identity", gzip: "gzip", "x-gzip": "gzip", zstd: "zstd" };

/** Parse a Content-Encoding value (or `meta.content_encoding`) into one coding. */
export function parseContentCoding(value: string | null | undefined): ContentCoding {
  if (value === null || value === undefined) return "identity";
  const tokens = value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "" && t !== "identity");
  if (tokens.length === 0) return "identity";
  for (const token of tokens) {
    if (!(token in ALIASES)) throw unsupportedMediaType(`unsupported content encoding "${token}"; use identity, gzip or zstd`, "unsupported_encoding");
  }
  if (tokens.length > 1) throw unsupportedMediaType(`stacked content encodings (${tokens.join(", ")}) are not accepted`, "stacked_encoding");
  return ALIASES[tokens[0]!]!;
}
